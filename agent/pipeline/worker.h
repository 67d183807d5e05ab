/* The unprivileged worker (docs/security.md, "Privilege separation"): a check that needs nothing
 * but the network and its own settings (plugin.h, `unprivileged`) runs in a child process of the
 * cycle that has given up the agent's privilege, so that its parsers of what the network sends (the
 * MP list, TLS, CRLs, OCSP, HTTP answers) never run as root, and a crash in them ends that process
 * only. The cycle's process keeps the privilege and does what only it may: it reads the files the
 * check's settings name (trust roots, the client certificate and key) before the child gives up its
 * privilege, gives the child a folder of its own for its state, and takes back the result. */
#ifndef CG_WORKER_H
#define CG_WORKER_H

#include "platform/child.h"
#include "plugin.h"
#include "result.h"

/* The worker's account for this run, from the configuration's unprivileged_user: CG_OK and *u
 * filled when checks can run without privilege here; otherwise the reason in why (not root, no such
 * account, Windows, turned off) and the checks run in the cycle's process. */
int cg_worker_account(const struct cg_config *cfg, struct cg_worker_user *u, char *why, size_t whylen);

/* Runs check p in the unprivileged worker as account u, within deadline_ms (0: five minutes), and
 * fills res as cg_run_check would; what the check hands over is copied into env->discovery. A worker
 * that ends without a verdict gives <CHECK>_WORKER_CRASHED, one past its deadline <CHECK>_DEADLINE.
 * facts.worker says which account and process ran it. */
void cg_run_check_worker(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_worker_user *u,
                         int64_t deadline_ms, struct cg_result *res);

/* What the parent takes from a worker's answer (text, as it came over the pipe): CG_OK and res filled
 * when it holds a result of the shape of one, its sentences capped and stripped of control
 * characters, its `worker` fact removed; the declared hand-over keys go into env->discovery and at
 * most CG_LOG_CAPTURE_MAX log lines into env->log, marked as the worker's. CG_ERR_PARSE otherwise (res
 * untouched). Exposed for the tests and the fuzz target. */
int cg_worker_take_answer(const struct cg_check_plugin *p, const struct cg_env *env, const char *text, size_t len,
                          struct cg_result *res);

/* What the workers share (this file's and emit_worker.c's). STATE_DIR/unprivileged, in a state
 * folder that is the agent's own; NULL and why in err otherwise. */
char *cg_worker_dir(const struct cg_config *cfg, char *err, size_t errlen);
/* The worker's environment: nothing of the agent's but what decides the network path and the time
 * (proxy and trust variables, TZ), into envp (NULL-terminated) with its strings in store. */
void cg_worker_env(const char **envp, char store[][1100], size_t max);
/* The worker's first byte (a newline: it is confined) on rd before `end` (monotonic ms): 0 when it
 * came, 1 when the deadline passed first, 3 when the worker ended before it was ready. */
int cg_worker_wait_ready(intptr_t rd, int64_t end);
/* Waits up to `ms` for the worker to end, then kills it and waits a second more; *st says how. */
void cg_worker_reap(struct cg_child *child, int ms, struct cg_child_status *st);

/* A worker's log lines (its answer's "log": [{"l", "c", "m"}]) into the agent's log: at most
 * CG_LOG_CAPTURE_MAX, each marked "[WHO, without privilege]". */
void cg_worker_take_log(const struct cg_env *env, const char *who, const cJSON *lines);
/* The name of env's log level, for a worker's request ("info" when there is no log). */
const char *cg_worker_log_level(const struct cg_env *env);
/* Removes a worker's folder of copies: its files, then the folder. */
void cg_worker_remove_folder(const char *dir);

/* `cmgdiag __worker check`: the worker's side (standard input: the request; standard output: the
 * answer). Exit code 0 when it answered with a result. */
int cg_worker_check_main(void);
/* The worker's side, exported for the tests: its request from standard input (the line parsed into
 * *rq, *line_len its length; the bytes the line announces after it), read to their end and no further;
 * and a request to the agent (plugin.h, cg_ask_agent) over standard output, answered on standard
 * input. */
struct cg_buf;
int cg_worker_read_request(struct cg_buf *b, cJSON **rq, size_t *line_len);
int cg_worker_ask(const struct cg_env *env, const char *name, const cJSON *asked, int64_t left_ms,
                  struct cg_agent_answer *out);
/* The agent's reading of a worker's request to it (one line, without its newline; the worker's bytes):
 * CG_OK with its name (at most 1,200 bytes, in name), what it asked (an object, *asked: cJSON_Delete)
 * and the time it wants (*want_ms, 0: none said); CG_ERR_PARSE otherwise. */
int cg_worker_ask_take(const char *line, size_t len, char *name, size_t namelen, cJSON **asked, int64_t *want_ms);
/* worker.c: a list {"files": [{"name", "bytes"}]} of plain file names, whose bytes are those of body
 * in that order, into c; *used: the bytes taken. CG_ERR_PARSE when it is not one. */
struct cg_collection;
struct cg_result;
int cg_worker_take_listed(const cJSON *list, const char *body, size_t blen, struct cg_collection *c, size_t *used);
/* worker_snapshot.c: another device's capture for a check in the worker. The agent's side: the regular
 * files (no link, no folder) of the capture env->snapshot names (a folder, or one file and the
 * captured-at.txt beside it), within what a collection holds, with the folder the copy stands for
 * (*shown) and the file's name (*file, NULL for a folder); free both. The worker's side: the files
 * (`snap`, a list) written into dir; and every mention of `from` in res said as `to`. */
int cg_worker_snapshot_files(const struct cg_env *env, struct cg_collection *c, char **shown, char **file);
int cg_worker_take_snapshot(const cJSON *snap, const char *body, size_t blen, const char *dir);
void cg_worker_shown_result(struct cg_result *res, const char *from, const char *to);
/* The agent's side (worker_ask.c): one request's line, made by env->ask and answered on qw (the
 * worker's standard input) before `end`. CG_OK, or the write's status. */
int cg_worker_serve_ask(const struct cg_env *env, intptr_t qw, const char *line, size_t len, int64_t end);

#endif
