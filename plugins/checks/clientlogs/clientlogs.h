/* The clientlogs check's shared parts (clientlogs.c reads and judges; livelogs.c splits the live
 * reading into the agent's half and the judging half). Internal to the check. */
#ifndef CG_CLIENTLOGS_H
#define CG_CLIENTLOGS_H

#include <stdbool.h>
#include <stdint.h>

#include "logio.h"
#include "logstate.h"
#include "plugin.h"
#include "sigmatch.h"

#define ID_LEN 512
#define SAMPLE_MAX 300
#define STATE_FILE "clientlogs-state.json"
#define KEPT "kept" /* beside the per-file read positions (keyed by absolute path) */

struct cl_work;

struct cl_ctx {
  char *signatures_file;
  struct cg_strlist logs, log_dirs;
  int64_t max_bytes_per_file, max_age_hours;
  struct cl_work *w; /* working state: made by cl_init, filled from the capture or the device, freed by cl_fini */
};

struct finding {
  const struct signature *sig;
  char host[LS_HOST]; /* the server the lines are about; "" when they name none */
  char op[16];        /* the operation key: the signature's op, or the path kind of the line's URL */
  char log[128];
  char component[64];
  char sample[SAMPLE_MAX + 1];
  size_t count;
  int64_t first_ms, last_ms;
  bool exact;
  cJSON *status_codes; /* "403": n */
};

struct scan {
  const struct sigset *sigs;
  const char *log;
  struct finding *f;
  size_t nf, af;
  struct ls_model m;      /* successes and servers seen: what resolves a failure, when the CMG was last used */
  cJSON *cmg_hosts;       /* hosts named with a CMG-only path, and the client's CMGs (lower case) */
  char ctx_host[LS_HOST]; /* the server of the last line of this log that named one */
  enum ls_kind ctx_kind;
  const char *ctx_log;
  int64_t ctx_ms;
  const char *target; /* the server of the entry being matched */
  enum ls_kind kind;  /* what its path is about */
  bool own_target;    /* the entry named the server itself (not the line before it) */
  size_t entries, old_entries;
  int64_t min_ms; /* entries before this are ignored (0: none) */
  int rc;
  struct cl_io *io; /* where the bytes come from (logio.h) */
  bool collect;     /* the agent's half: the bytes are read and kept, not scanned */
};

struct cl_work {
  struct sigset set;
  struct scan s;
  cJSON *logs; /* facts.logs, filled as the logs are read */
  int sig_rc;  /* the signature catalogue: CG_OK, or why it cannot be used (sig_err) */
  char sig_err[512];
  size_t read;     /* capture files read */
  struct cl_io io; /* the disk (a copied log folder), or the two halves' reads */
};

/* One log: from its saved position (or its tail the first time), following a rotation to .lo_.
 * Updates `st` (the file's state object) and adds an entry to `logs_out`. */
int cl_read_log(struct scan *s, const struct cl_ctx *ctx, const char *path, const char *name, cJSON *st,
                cJSON *logs_out, bool from_scratch);
/* The verdict from what the scan found, over nlogs logs read. */
int cl_finish(struct scan *s, struct sigset *set, struct cg_result *res, size_t nlogs);
/* What is kept between cycles: loaded before the new entries are read, saved after. */
void cl_load_kept(struct scan *s, const cJSON *kept, int64_t min_ms);
cJSON *cl_save_kept(const struct scan *s);

/* The live logs in two halves (livelogs.c). */
int cl_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided);
int cl_judge_collected(struct cl_ctx *ctx, const struct cg_env *env, struct cg_result *res);

#endif
