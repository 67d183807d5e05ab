/* The spool: gzip bundles waiting for the collection point, one file each, written atomically and
 * named "<created ms>-<bundle id>.json.gz" so the oldest sorts first. Bounded by bytes and count:
 * the oldest are dropped and counted (dropped_total survives restarts). A file that fails the
 * integrity check (gzip, JSON, schema, id; once, when the spool is opened) is moved to quarantine/
 * (at most 50 files, oldest removed first) and never blocks the queue. Beside each bundle its entry
 * (object name, host, id, size) is written when it is spooled. */
#ifndef CG_SPOOL_H
#define CG_SPOOL_H

#include "cg.h"
#include "log.h"

/* What the spool knows of a bundle from when it was spooled ("<bundle>.meta"): shipping needs no
 * gunzip and no parse. */
struct cg_spool_entry {
  char name[96];    /* the spool file name */
  char object[256]; /* yyyy/mm/dd/HOST/id.json.gz (docs/shipping.md "Outputs") */
  char host[128];   /* HOST as in the object name (path-safe) */
  char created_at[40];
  char bundle_id[40];
  int64_t bytes; /* gzip size */
};

struct cg_spool {
  char *dir, *quarantine;
  int64_t max_bytes, max_files;
  int64_t dropped_total;
  struct cg_log *log; /* borrowed, may be NULL */
};

/* Creates the folders, removes temp files a crash left behind, loads dropped_total, and checks every
 * bundle once (a bad one goes to quarantine). */
int cg_spool_open(struct cg_spool *sp, const char *dir, int64_t max_bytes, int64_t max_files, struct cg_log *log,
                  char *err, size_t errlen);
void cg_spool_close(struct cg_spool *sp);
/* Whether a file name in the spool (or its quarantine) is one the agent writes. */
bool cg_spool_owns(const char *name);
/* Removes the agent's own files from the spool folder and its quarantine (by name, plain files
 * only, never through a link), then the folders if they are empty. */
void cg_spool_purge(const char *dir);

/* Stores one bundle, then drops the oldest until the spool is within its bounds (never the one
 * just stored). A full disk is CG_ERR_IO with a sentence in err: logged by the caller, not fatal. */
int cg_spool_put(struct cg_spool *sp, const char *bundle_id, int64_t created_ms, const char *created_at,
                 const char *hostname, const void *gz, size_t len, char *err, size_t errlen);
/* The entry recorded when `name` was spooled; CG_ERR_PARSE when it is missing or damaged. */
int cg_spool_entry(struct cg_spool *sp, const char *name, struct cg_spool_entry *e);

/* Pending bundle file names, oldest first (checked when the spool was opened). Free with
 * cg_dir_list_free. */
int cg_spool_list(struct cg_spool *sp, char ***names, size_t *count);
int cg_spool_read(struct cg_spool *sp, const char *name, char **gz, size_t *len);
int cg_spool_remove(struct cg_spool *sp, const char *name);

/* Delivery marks, for several outputs: an empty file "<name>.sent-<key>" records that the output
 * identified by `key` (hex) has the bundle. A bundle leaves the spool (cg_spool_done, which also
 * removes its marks) only when every output has it. */
bool cg_spool_is_sent(struct cg_spool *sp, const char *name, const char *key);
int cg_spool_mark_sent(struct cg_spool *sp, const char *name, const char *key);
int cg_spool_done(struct cg_spool *sp, const char *name, const char *const *keys, size_t nkeys);

/* A bundle an output refused for good (413, 422...): kept for a person in the quarantine folder,
 * out of the queue, marks removed. */
int cg_spool_set_aside(struct cg_spool *sp, const char *name, const char *const *keys, size_t nkeys, const char *why);

/* Bundles waiting and their bytes. */
int cg_spool_count(struct cg_spool *sp, int64_t *files, int64_t *bytes);

#endif
