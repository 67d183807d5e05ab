/* Runs checks through the plugin API: fills each check's context from the effective config,
 * times it, and turns a broken check into an `error` verdict instead of a crash. */
#ifndef CG_RUNNER_H
#define CG_RUNNER_H

#include "config.h"
#include "platform/child.h"
#include "plugin.h"
#include "result.h"

/* Runs one check into res (always a complete result on return, even on internal failure). */
void cg_run_check(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res);

/* The same for a check whose settings' files were vetted before (admin-only, cg_config_check_files_
 * trusted) and now name copies of them: the unprivileged worker's (worker.h). */
void cg_run_check_vetted(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res);
/* The log line of a check's verdict ("check NAME: STATUS CODE"), typed for CMTrace by its status; the
 * runner writes it for a check that ran in this process or in a worker. */
void cg_run_log_verdict(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_result *res);

/* Runs one check in its own thread and waits at most `deadline_ms`. A check that overruns is left
 * behind (its thread ends on its own; it owns copies of what it needs, and the configuration and
 * log it borrows must stay alive: see cg_runner_abandoned) and res becomes an `error` with the
 * code <CHECK>_DEADLINE. env->discovery gets what the check published only when it finished. */
void cg_run_check_deadline(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res,
                           int64_t deadline_ms);
/* Secrets out of what a result says (URL user information, sig=, Bearer tokens, password= values),
 * where results are made. */
void cg_run_redact(struct cg_result *res);
/* The code of a verdict the runner gives for check p: its name in capitals, then _SUFFIX
 * ("CMGPROBE_DEADLINE"). */
void cg_run_code(const struct cg_check_plugin *p, const char *suffix, char *code, size_t len);
/* res: check p did not finish within deadline_ms (`why`: "did not finish within its deadline"),
 * an `error` with the code <CHECK>_DEADLINE. */
void cg_run_deadline_result(const struct cg_check_plugin *p, struct cg_result *res, int64_t deadline_ms,
                            const char *why);
/* Checks left behind by cg_run_check_deadline that have not ended yet. */
int cg_runner_abandoned(void);

/* ---- collect, then judge (plugin.h, `collect`) ----------------------------------------------------
 * What a check's collect read, kept in memory for its run: at most CG_COLLECTED_MAX files and
 * CG_COLLECTED_BYTES bytes in all (a capture past either is refused, and the check says so). */
#define CG_COLLECTED_MAX 64
#define CG_COLLECTED_BYTES (64u * 1024u * 1024u)
#define CG_PERMITS_MAX 8
/* A request the collect half allowed (plugin.h, cg_collect_allow): made at most once, by the agent. */
struct cg_permit {
  char *name;
  cg_agent_request_fn fn;
  cJSON *prepared;
  bool used;
};
struct cg_collection {
  struct cg_capture_file files[CG_COLLECTED_MAX];
  struct cg_collected view; /* what env->collected points at */
  size_t bytes;
  struct cg_permit permits[CG_PERMITS_MAX];
  size_t npermits;
  const struct cg_env *env; /* the run's, for the log of what was asked */
};
/* Takes one capture (a copy; name and data NUL-terminated). CG_ERR_TOOBIG past the limits above. */
int cg_collection_add(struct cg_collection *c, const char *name, const void *data, size_t len);
void cg_collection_free(struct cg_collection *c);
/* Allows the request `name` once in this run (cg_collect_allow's keeping), `prepared` copied; allowed
 * already is CG_OK. CG_ERR_TOOBIG past CG_PERMITS_MAX or a name past 1,200 bytes. */
int cg_collection_permit(struct cg_collection *c, const char *name, cg_agent_request_fn fn, const cJSON *prepared);
/* The agent's side of cg_ask_agent (env->ask, env->ask_user a cg_collection): the request allowed
 * under `name` and not made yet, made now. CG_ERR_ACCESS when it was not allowed or was made already. */
int cg_collection_ask(const struct cg_env *env, const char *name, const cJSON *asked, int64_t left_ms,
                      struct cg_agent_answer *out);

/* A check with `collect`: reads the device here, with this process's privilege, then judges what it
 * read, in the worker of account u when u is not NULL (worker.h), else in this process (under
 * deadline_ms when > 0). res: the judge's result with the collect's facts (how it read) added; or the
 * collect's own verdict when the device could not be read. */
void cg_run_check_collected(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_worker_user *u,
                            int64_t deadline_ms, struct cg_result *res);

/* What the periodic agent remembers of a check across cycles: consecutive errors and the cycles it
 * still rests (an `error` twice in a row rests 2, 4, 8, 16 cycles). One per registry entry. */
struct cg_backoff {
  int errors;
  int skip;
  char last_code[64];
};

/* Runs every enabled check (or only those named in `only`, comma-separated, plus the providers of
 * what they need), providers first, each under `deadline_ms` when it is > 0, resting the ones
 * `backoff` (NULL: none; else one entry per registry check) says should rest; stops early when the
 * agent is asked to stop. *results is an array the caller frees with cg_results_free.
 * CG_ERR_USAGE (and a sentence in err) when `only` names an unknown check. */
int cg_run_checks(const struct cg_env *env, const char *only, int64_t deadline_ms, struct cg_backoff *backoff,
                  struct cg_result **results, size_t *count, char *err, size_t errlen);
void cg_results_free(struct cg_result *rs, size_t n);

/* The run plan (see runner.c): order[0..*norder) are indexes into `all`. */
int cg_runner_plan(const struct cg_check_plugin *const *all, size_t n, const bool *selected, const bool *enabled,
                   size_t *order, size_t *norder, char *err, size_t errlen);

/* What `config check` and `setup` ask before they call a configuration good: every enabled check's
 * and every output's init, with the trigger "config" (a check may then also say what cannot work on
 * this device now, such as a program that is not there). CG_ERR_CONFIG and a sentence naming the
 * plugin and the key. */
int cg_runner_try_settings(const struct cg_config *cfg, char *err, size_t errlen);

#endif
