/* Runs one check through the core API (config with overrides -> runner) for plugin tests. */
#ifndef CG_TEST_HARNESS_H
#define CG_TEST_HARNESS_H

#include <cjson/cJSON.h>

#include "result.h"

/* input: sets input=PATH when not NULL; sets: a JSON list of "KEY=VALUE" strings (may be NULL).
 * What the check published to the discovery store is added to res->facts as "_discovery". */
/* The configuration the check runs under (JSON text, "{}" by default); --set style overrides apply
 * on top. */
extern const char *cgt_config_text;
int cgt_run_check(const char *check, const char *input, const cJSON *sets, struct cg_result *res);

/* Judges what a check's `collect` would have handed over (plugin.h): check `check`'s run on the
 * collection c, under the --set style `sets` (may be NULL), with the run's hand-overs in disc (may
 * be NULL). CG_OK, or the configuration's error. */
struct cg_collection;
int cgt_judge_collected(const char *check, struct cg_collection *c, const cJSON *sets, cJSON *disc,
                        struct cg_result *res);
/* A capture as a collection: a file under its own name, or a folder's files (not README.md or
 * captured-at.txt) under theirs. CG_OK, or why a file could not be read or kept. */
int cgt_collect_path(const char *path, struct cg_collection *c);
/* Every case of DATA_DIR/expected.json judged twice: as a capture (cgt_run_check) and as collected
 * (cgt_collect_path, cgt_judge_collected). `prepare` (may be NULL) sees each case first with a copy
 * of its sets, its collection and the run's hand-overs: it may add to them, and leaves a case out by
 * returning false. Returns how many cases were compared; *differ: how many gave another status or
 * code (each printed), -1 when one could not be judged at all. */
int cgt_compare_collected(const char *check, const char *data_dir,
                          bool (*prepare)(const cJSON *kase, cJSON *sets, struct cg_collection *c, cJSON *disc),
                          int *differ);

#endif
