/* The unprivileged worker (worker.h). The cycle's process (privileged) vets the check's files, gives
 * the worker a folder of its own and splits; the child reads those files while it still can, gives
 * up its privilege for good, writes copies into a folder of its own, runs the check on them, and
 * sends back one JSON answer: {"result": ..., "handover": {key: value}, "log": [...]}. The parent
 * takes only what it expects from it: a size-capped answer, a result of the shape a result has,
 * and the hand-over keys this check declares. */
#include "worker.h"

#include <string.h>

#include "config.h"
#include "log.h"
#include "runner.h"
#include "platform/fs.h"
#include "platform/runtime.h"
#include "platform/sys.h"

#define ANSWER_MAX (8u << 20) /* a result with its facts is far smaller; more is not a result */
#define FILE_MAX (4u << 20)   /* the limit of a trust root, certificate or key (as the checks read them) */
#define DEFAULT_DEADLINE_MS 300000

/* The settings that name a file the check reads (config_files.c vets the same ones). */
static const char *const file_keys[] = {"ca_file", "client_cert", "client_key", "signatures_file"};
#define NKEYS (sizeof(file_keys) / sizeof(file_keys[0]))

int cg_worker_account(const struct cg_config *cfg, struct cg_worker_user *u, char *why, size_t whylen) {
  memset(u, 0, sizeof(*u));
  if (!cfg || !cfg->unprivileged_user || !*cfg->unprivileged_user) {
    cg_snprintf(why, whylen, "unprivileged_user is null");
    return CG_ERR_UNSUPPORTED;
  }
  return cg_worker_user_find(cfg->unprivileged_user, u, why, whylen);
}

static char *worker_dir(const struct cg_config *cfg) {
  char *base = cfg->state_dir ? cg_strdup(cfg->state_dir) : cg_default_state_dir();
  char *d = base && cg_mkdirs(base) == CG_OK ? cg_path_join(base, "unprivileged") : NULL;
  cg_free(base);
  return d;
}

static void upper(const char *name, char *out, size_t len) {
  size_t i = 0;
  for (; name[i] && i + 1 < len; i++)
    out[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
  out[i] = '\0';
}

/* ---- the child ------------------------------------------------------------------------------------- */

struct copy {
  char *data;
  size_t len;
};

static void answer_and_quit(intptr_t wr, cJSON *answer, int code) {
  char *text = answer ? cJSON_PrintUnformatted(answer) : NULL;
  if (text) cg_pipe_write(wr, text, strlen(text));
  cg_child_quit(text ? code : 4);
}

/* Its settings now name copies in `own`, a folder of this account's. */
static void use_copies(cJSON *settings, struct copy *files, const char *own) {
  for (size_t i = 0; i < NKEYS; i++) {
    if (!files[i].data) continue;
    char *path = cg_path_join(own, file_keys[i]), err[256];
    if (path && cg_file_write_atomic(path, files[i].data, files[i].len, err, sizeof(err)) == CG_OK)
      cJSON_ReplaceItemInObjectCaseSensitive(settings, file_keys[i], cJSON_CreateString(path));
    cg_free(path);
  }
}

static void remove_copies(const struct copy *files, const char *own) {
  for (size_t i = 0; i < NKEYS; i++) {
    char *path = files[i].data ? cg_path_join(own, file_keys[i]) : NULL;
    if (path) cg_file_remove(path);
    cg_free(path);
  }
  cg_dir_remove(own);
}

static void child_main(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_worker_user *u,
                       const char *wdir, intptr_t wr) {
  struct cg_config *cfg = (struct cg_config *)env->config; /* this process's own copy from here on */
  cJSON *settings = (cJSON *)cg_config_check(cfg, p->name), *answer = cJSON_CreateObject();
  struct copy files[NKEYS];
  memset(files, 0, sizeof(files));
  for (size_t i = 0; settings && i < NKEYS; i++) { /* still privileged: read what the parent vetted */
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(settings, file_keys[i]));
    if (path && *path && cg_file_read(path, FILE_MAX, &files[i].data, &files[i].len) != CG_OK) files[i].data = NULL;
  }
  char err[512] = "";
  if (cg_worker_drop(u, wdir, err, sizeof(err)) != CG_OK) {
    cJSON_AddStringToObject(answer, "error", err);
    answer_and_quit(wr, answer, 3);
  }
  /* without privilege from here on, in its folder (the working folder: the state folder above it is
   * root's alone, so everything is reached by relative paths) */
  char own[48];
  cg_snprintf(own, sizeof(own), "files-%lu", cg_process_id());
  bool copied = cg_mkdirs(own) == CG_OK;
  if (copied) use_copies(settings, files, own);
  cg_free(cfg->state_dir); /* its state (a probe's memory, a download budget) lives in its folder */
  cfg->state_dir = cg_strdup(".");
  struct cg_log log = *env->log;
  log.file = NULL;
  log.lock = NULL;
  log.capture = cJSON_AddArrayToObject(answer, "log");
  struct cg_env e = *env;
  e.log = &log;
  e.progress = NULL;
  e.discovery = env->discovery ? cJSON_Duplicate(env->discovery, true) : cJSON_CreateObject();
  struct cg_result res;
  cg_run_check_vetted(p, &e, &res);
  if (copied) remove_copies(files, own);
  cJSON_AddItemToObject(answer, "result", cg_result_to_json(&res));
  cJSON *hand = cJSON_AddObjectToObject(answer, "handover");
  for (size_t k = 0; p->provides && p->provides[k] && e.discovery; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e.discovery, p->provides[k]);
    if (v) cJSON_AddItemToObject(hand, p->provides[k], cJSON_Duplicate(v, true));
  }
  answer_and_quit(wr, answer, 0);
}

/* ---- the parent ------------------------------------------------------------------------------------ */

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* The result the worker sent, if it is one: a known status, a code of capitals, digits and
 * underscores, the sentences as strings, facts as an object. */
static bool take_result(const struct cg_check_plugin *p, cJSON *r, struct cg_result *res) {
  static const char *const names[] = {"pass", "warn", "fail", "skip", "error"};
  const char *status = str(r, "status"), *code = str(r, "code"), *summary = str(r, "summary");
  const char *rem = str(r, "remediation"), *detail = str(r, "detail");
  cJSON *facts = cJSON_GetObjectItemCaseSensitive(r, "facts");
  int v = -1;
  for (int i = 0; status && i < 5; i++)
    if (!strcmp(status, names[i])) v = i;
  bool ok = v >= 0 && code && *code && strlen(code) < 96 &&
            strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(code);
  if (!ok || !summary || !rem || !cJSON_IsObject(facts) || cg_result_init(res, p->name) != CG_OK) return false;
  res->status = (enum cg_verdict)v;
  res->code = cg_strdup(code);
  res->summary = cg_strdup(summary);
  res->remediation = cg_strdup(rem);
  res->detail = detail && *detail ? cg_strdup(detail) : NULL;
  cJSON_Delete(res->facts);
  res->facts = cJSON_DetachItemViaPointer(r, facts);
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "duration_ms");
  res->duration_ms = cJSON_IsNumber(d) && d->valuedouble >= 0 ? (int64_t)d->valuedouble : 0;
  return res->code && res->summary && res->remediation;
}

static void crashed_result(const struct cg_check_plugin *p, const char *how, struct cg_result *res) {
  char code[80], up[48];
  upper(p->name, up, sizeof(up));
  cg_snprintf(code, sizeof(code), "%s_WORKER_CRASHED", up);
  cg_result_init(res, p->name);
  cg_result_set(res, CG_ERROR, code,
                "The agent carries on and runs the check again next cycle. If this comes back, send the agent log "
                "(cmgdiag.log) to the cmgdiag maintainers: a check that ends this way is a fault in cmgdiag, not "
                "in the device.",
                "The %s check ended before it gave a verdict: its process without privilege stopped (%s). The rest "
                "of the cycle was not affected.",
                p->name, how);
}

/* What the worker said, in the agent's log; its hand-over, for the checks after it. */
static void take_rest(const struct cg_check_plugin *p, const struct cg_env *env, const cJSON *answer) {
  const cJSON *line;
  cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(answer, "log")) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(line, "l");
    const char *c = str(line, "c"), *m = str(line, "m");
    int lv = cJSON_IsNumber(l) ? (int)l->valuedouble : CG_LOG_DEBUG;
    if (m && lv >= CG_LOG_ERROR && lv <= CG_LOG_DEBUG)
      cg_log_write(env->log, (enum cg_log_level)lv, c && strlen(c) < 32 ? c : "worker", CG_SRC, "%s", m);
  }
  const cJSON *hand = cJSON_GetObjectItemCaseSensitive(answer, "handover");
  for (size_t k = 0; env->discovery && p->provides && p->provides[k]; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(hand, p->provides[k]);
    if (!v) continue;
    cJSON_DeleteItemFromObjectCaseSensitive(env->discovery, p->provides[k]);
    cJSON_AddItemToObject(env->discovery, p->provides[k], cJSON_Duplicate(v, true));
  }
}

/* Reads the answer until the worker closes its end, the deadline, or the cap. 0: all of it; 1: the
 * deadline passed (or the agent stops); 2: more than a result can be. */
static int read_answer(intptr_t rd, int64_t end, struct cg_buf *b) {
  char chunk[16384];
  for (;;) {
    int64_t left = end - cg_time_mono_ms();
    if (left <= 0 || cg_stop_requested()) return 1;
    long n = cg_pipe_read(rd, chunk, sizeof(chunk), left < 200 ? left : 200);
    if (n == 0 || n == -2) return 0;
    if (n > 0 && cg_buf_append(b, chunk, (size_t)n) != CG_OK) return 2;
  }
}

static void finish(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_child *child, int got,
                   struct cg_buf *b, int64_t deadline_ms, struct cg_result *res) {
  struct cg_child_status st;
  memset(&st, 0, sizeof(st));
  if (got != 0) cg_child_kill(child);
  for (int i = 0; i < 300 && !cg_child_ended(child, &st); i++) /* it ends as soon as its answer is out */
    cg_events_wait(10);
  if (!cg_child_ended(child, &st)) {
    cg_child_kill(child);
    for (int i = 0; i < 100 && !cg_child_ended(child, &st); i++)
      cg_events_wait(10);
  }
  cJSON *answer = got == 0 && st.exited && st.exit_code == 0 ? cJSON_ParseWithLength(b->data, b->len) : NULL;
  cJSON *r = cJSON_GetObjectItemCaseSensitive(answer, "result");
  if (got == 1) {
    char up[48], code[80];
    upper(p->name, up, sizeof(up));
    cg_snprintf(code, sizeof(code), "%s_DEADLINE", up);
    cg_result_init(res, p->name);
    cg_result_set(res, CG_ERROR, code,
                  "A data source of this check hangs (the network); the agent carries on and tries again next cycle. "
                  "Raise check_timeout_s if the device is just slow.",
                  "The %s check %s.", p->name,
                  cg_stop_requested() ? "was interrupted by the agent stopping" : "did not finish within its deadline");
    res->duration_ms = deadline_ms;
  } else if (answer && take_result(p, r, res)) {
    take_rest(p, env, answer);
  } else {
    char how[200];
    const char *said = str(answer, "error");
    cg_snprintf(how, sizeof(how), "%s", got == 2 ? "it sent more than a result can be" : said ? said : st.text);
    crashed_result(p, how, res);
    cg_log_error(env->log, "runner", "check %s: its unprivileged worker ended without a verdict (%s)", p->name, how);
  }
  cJSON_Delete(answer);
}

void cg_run_check_worker(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_worker_user *u,
                         int64_t deadline_ms, struct cg_result *res) {
  char err[512] = "";
  /* a trust root or key a non-administrator could change is refused as cg_run_check refuses it */
  if (cg_config_check_files_trusted(env->config, p->name, err, sizeof(err)) != CG_OK) {
    cg_run_check(p, env, res);
    return;
  }
  int64_t start = cg_time_mono_ms(), limit = deadline_ms > 0 ? deadline_ms : DEFAULT_DEADLINE_MS;
  char *wdir = worker_dir(env->config);
  intptr_t rd = -1, wr = -1;
  struct cg_child *child = NULL;
  int rc = wdir ? cg_worker_folder(wdir, u, err, sizeof(err)) : CG_ERR_NOMEM;
  if (rc == CG_OK) {
    cg_log_debug(env->log, "runner", "check %s starting, as %s without privilege", p->name, u->name);
    rc = cg_child_fork(&rd, &wr, &child, err, sizeof(err));
  }
  if (rc == 1) child_main(p, env, u, wdir, wr); /* never returns */
  if (rc != CG_OK) {
    cg_free(wdir);
    crashed_result(p, err[0] ? err : cg_strerror(rc), res);
    return;
  }
  struct cg_buf b;
  cg_buf_init(&b, ANSWER_MAX);
  int got = read_answer(rd, start + limit, &b);
  cg_pipe_close(rd);
  unsigned long pid = cg_child_pid(child);
  finish(p, env, child, got, &b, limit, res);
  cg_child_free(child);
  cg_buf_free(&b);
  cg_free(wdir);
  cJSON *w = cJSON_AddObjectToObject(res->facts, "worker");
  cJSON_AddStringToObject(w, "user", u->name);
  cJSON_AddNumberToObject(w, "uid", (double)u->uid);
  cJSON_AddNumberToObject(w, "pid", (double)pid);
  if (!res->duration_ms) res->duration_ms = cg_time_mono_ms() - start;
}
