/* Runs checks through the plugin API: fills each check's context from the effective config,
 * times it, and turns a broken check into an `error` verdict instead of a crash. */
#ifndef CG_RUNNER_H
#define CG_RUNNER_H

#include "config.h"
#include "plugin.h"
#include "result.h"

/* Runs one check into res (always a complete result on return, even on internal failure). */
void cg_run_check(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res);

/* Runs every enabled check (or only those named in `only`, comma-separated) in registry order.
 * *results is an array the caller frees with cg_results_free. CG_ERR_USAGE (and a sentence in err)
 * when `only` names an unknown check. */
int cg_run_checks(const struct cg_env *env, const char *only, struct cg_result **results, size_t *count,
                  char *err, size_t errlen);
void cg_results_free(struct cg_result *rs, size_t n);

#endif
