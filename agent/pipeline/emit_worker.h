/* Shipping without privilege (docs/security.md, "Privilege separation"): an output that needs nothing
 * but the network and its own settings (plugin.h, cg_output_plugin.unprivileged: azblob, http) uploads
 * from a worker without the agent's privilege, so that the collection point's answers (status lines,
 * headers, Azure's error XML, whatever a proxy or an impostor sends) are parsed there, and a crash in
 * that parsing ends that process only. The agent keeps the spool: it reads each bundle's bytes and
 * hands them over, and acts on the outcome the worker reports (delivered, already there, retry,
 * down, refused). One worker per output serves a whole drain, so its connection is reused. */
#ifndef CG_EMIT_WORKER_H
#define CG_EMIT_WORKER_H

#include "platform/child.h"
#include "plugin.h"

struct cg_emit_worker;

/* Starts the worker of output p (`settings`: its object in the configuration) as account u. The files
 * its settings name (trust roots, client certificate and key, token and HMAC key files) are read here
 * and their bytes sent; a secret its `*_env` settings name is read from this process's environment
 * here and sent as a file's bytes; all over the worker's standard input, never its command line or
 * environment. CG_OK and *out once the worker has made the output ready; otherwise why in err (the
 * output then uploads from this process). */
int cg_emit_worker_start(const struct cg_output_plugin *p, const cJSON *settings, const struct cg_env *env,
                         const struct cg_worker_user *u, struct cg_emit_worker **out, char *err, size_t errlen);

/* One bundle through the worker, within limit_ms: res is always filled. False when the worker is gone
 * or said something that is not an outcome (res: CG_EMIT_RETRY and why); the caller then ends it. */
bool cg_emit_worker_emit(struct cg_emit_worker *w, const struct cg_env *env, const struct cg_emit_req *req,
                         int64_t limit_ms, struct cg_emit_result *res);

/* Ends the worker (its input closed, then killed if it does not end) and frees w. NULL is fine. */
void cg_emit_worker_end(struct cg_emit_worker *w);

/* The parent's reading of one answer line: CG_OK and res filled when it is an outcome (a known
 * outcome, an HTTP status and Retry-After in range, a sentence capped, stripped of control characters
 * and redacted); its log lines go into env->log marked as the worker's. CG_ERR_PARSE otherwise.
 * Exposed for the tests and the fuzz target. */
int cg_emit_take_answer(const char *line, size_t len, const struct cg_env *env, const char *output,
                        struct cg_emit_result *res);

/* `cmgdiag __worker emit`: the worker's side. Exit code 0 when its input ended after it answered. */
int cg_worker_emit_main(void);

#endif
