/* The status bundle (agent/schema/bundle.schema.json): built from check results, rendered as JSON, and
 * read back for `cmgdiag show`. */
#ifndef CG_BUNDLE_H
#define CG_BUNDLE_H

#include <cjson/cJSON.h>

#include "plugin.h"
#include "result.h"

#define CG_BUNDLE_SCHEMA "cmgdiag.bundle/1"
#define CG_BUNDLE_MAX_BYTES (16 * 1024 * 1024) /* what `show` accepts, decompressed */
/* A real bundle holds about a thousand JSON values and a dozen checks; these bound what a crafted
 * one costs to read (memory grows with values, not bytes). */
#define CG_BUNDLE_MAX_VALUES 200000
#define CG_BUNDLE_MAX_CHECKS 256

/* RFC 4122 version 4 UUID, lower-case, into buf (>= 37 bytes). */
int cg_uuid_v4(char *buf, size_t len);

/* A new bundle object (caller deletes). trigger: schedule | selftest | validate | startup.
 * ticket may be NULL. spool_pending: bundles waiting in the spool (not this one); dropped_total:
 * bundles the full spool has dropped so far. NULL on out of memory. */
cJSON *cg_bundle_build(const struct cg_env *env, const char *trigger, const char *ticket, const struct cg_result *rs,
                       size_t n, int64_t spool_pending, int64_t dropped_total);

/* Reads a bundle from a .json.gz or .json file (detected by content). Caller deletes.
 * On error, err holds a sentence naming the file. */
int cg_bundle_load(const char *path, cJSON **bundle, char *err, size_t errlen);

/* Same from memory (gzip or plain, detected by content); `origin` names it in errors. */
int cg_bundle_parse(const char *raw, size_t raw_len, const char *origin, cJSON **bundle, char *err, size_t errlen);
/* The head of a gzip bundle this agent wrote: the members before "checks" (every one but "checks"
 * and "diagnosis", cg_bundle_heavy_last), inflated only that far and not checked by the gzip CRC.
 * CG_ERR_PARSE when the bundle is not of that form (an older agent's: "partial" is not in the head;
 * or "overall", "created_at", "device", a validate bundle's "gate" are not); then cg_bundle_parse
 * reads the whole. */
int cg_bundle_head(const char *raw, size_t raw_len, cJSON **head);
/* Moves "checks" and "diagnosis", the bulk of a bundle, after every other member (a report reads
 * the head of a bundle that cannot decide its device, cg_bundle_head). */
void cg_bundle_heavy_last(cJSON *bundle);

/* The bundle as compact JSON, gzip-compressed at `level` (caller frees *gz). */
int cg_bundle_gzip(const cJSON *bundle, int level, char **gz, size_t *len);

/* Converts the "checks" of a bundle back into results for the human report. */
int cg_bundle_results(const cJSON *bundle, struct cg_result **rs, size_t *n);

#endif
