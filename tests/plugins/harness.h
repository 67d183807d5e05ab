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

#endif
