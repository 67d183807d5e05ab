/* Runs checks through the plugin API: fills each check's context from the effective config,
 * times it, and turns a broken check into an `error` verdict instead of a crash. */
#ifndef CG_RUNNER_H
#define CG_RUNNER_H

#include "config.h"
#include "plugin.h"
#include "result.h"

/* Runs one check into res (always a complete result on return, even on internal failure). */
void cg_run_check(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res);

/* Runs one check in its own thread and waits at most `deadline_ms`. A check that overruns is left
 * behind (its thread ends on its own; it owns copies of what it needs, and the configuration and
 * log it borrows must stay alive: see cg_runner_abandoned) and res becomes an `error` with the
 * code <CHECK>_DEADLINE. env->discovery gets what the check published only when it finished. */
void cg_run_check_deadline(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res,
                           int64_t deadline_ms);
/* Checks left behind by cg_run_check_deadline that have not ended yet. */
int cg_runner_abandoned(void);

/* Runs every enabled check (or only those named in `only`, comma-separated) in registry order.
 * *results is an array the caller frees with cg_results_free. CG_ERR_USAGE (and a sentence in err)
 * when `only` names an unknown check. */
int cg_run_checks(const struct cg_env *env, const char *only, struct cg_result **results, size_t *count, char *err,
                  size_t errlen);
void cg_results_free(struct cg_result *rs, size_t n);

#endif
