/* The unprivileged worker (worker.h). The cycle's process (privileged) vets the files the check's
 * settings name and reads them, gives the worker a folder of its own, and starts this program again
 * as `cmgdiag __worker check` without privilege (cg_worker_start: a fresh program image, so none of
 * the agent's memory, secrets or descriptors). The request goes over its standard input: the check's
 * settings, its hand-over, the files' bytes. The worker writes copies of the files in its folder,
 * runs the check on them and answers on its standard output: {"result", "handover", "log"}. The
 * parent takes only what it expects: a size-capped answer, a result of the shape a result has (its
 * sentences capped and without control characters), the hand-over keys the check declares, and at
 * most CG_LOG_CAPTURE_MAX log lines, each marked as the worker's. */
#include "worker.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "redact.h"
#include "runner.h"
#include "platform/fs.h"
#include "platform/runtime.h"
#include "platform/sys.h"

#define ANSWER_MAX (8u << 20) /* a result with its facts is far smaller; more is not a result */
#define FILE_MAX (4u << 20)   /* the limit of a trust root, certificate or key (as the checks read them) */
#define DEFAULT_DEADLINE_MS 300000

/* The settings that name a file the check reads (config_files.c vets the same ones). */
static const char *const file_keys[] = {"ca_file", "client_cert", "client_key", "signatures_file", "input"};
#define NKEYS (sizeof(file_keys) / sizeof(file_keys[0]))

int cg_worker_account(const struct cg_config *cfg, struct cg_worker_user *u, char *why, size_t whylen) {
  memset(u, 0, sizeof(*u));
  if (!cfg || !cfg->unprivileged_user || !*cfg->unprivileged_user) {
    cg_snprintf(why, whylen, "unprivileged_user is null");
    return CG_ERR_UNSUPPORTED;
  }
  return cg_worker_user_find(cfg->unprivileged_user, u, why, whylen);
}

/* STATE_DIR/unprivileged, in a state folder that is the agent's own (no link, not open to others). */
char *cg_worker_dir(const struct cg_config *cfg, char *err, size_t errlen) {
  char *base = cfg->state_dir ? cg_strdup(cfg->state_dir) : cg_default_state_dir();
  char *d = base && cg_dir_ensure_private(base, err, errlen) == CG_OK ? cg_path_join(base, "unprivileged") : NULL;
  cg_free(base);
  return d;
}

/* ---- the worker: `cmgdiag __worker check`, started by cg_worker_start ----------------------------------
 * Its standard input: one line of JSON {"check", "settings", "handover", "trigger", "interactive",
 * "log_level", "files": {KEY: bytes}}, then the files' bytes one after the other in the order of
 * "files". Its working folder is its own (STATE_DIR/unprivileged): its state lives there, and the
 * copies of the files go to files-PID there for the run of the check. */

#define REQUEST_MAX (NKEYS * FILE_MAX + CG_COLLECTED_BYTES + (1u << 20))

/* The bytes that follow the request's line: the files' and the collected captures' (their sizes in
 * the line), or SIZE_MAX when the line is not a request. */
static size_t payload_bytes(const cJSON *rq) {
  size_t total = 0;
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rq, "files")) {
    if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble > (double)REQUEST_MAX) return SIZE_MAX;
    total += (size_t)f->valuedouble;
  }
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rq, "collected"), "files")) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "bytes");
    if (!cJSON_IsNumber(b) || b->valuedouble < 0 || b->valuedouble > (double)REQUEST_MAX) return SIZE_MAX;
    total += (size_t)b->valuedouble;
  }
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rq, "snapshot"), "files")) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "bytes");
    if (!cJSON_IsNumber(b) || b->valuedouble < 0 || b->valuedouble > (double)REQUEST_MAX) return SIZE_MAX;
    total += (size_t)b->valuedouble;
  }
  return total > REQUEST_MAX ? SIZE_MAX : total;
}

/* The request: its line (parsed into *rq) and the bytes it announces, read to their end (or to the end
 * of the input). The input stays open after it when the agent answers requests (cg_ask_agent). */
int cg_worker_read_request(struct cg_buf *b, cJSON **rq, size_t *line_len) {
  char chunk[16384];
  int64_t end = cg_time_mono_ms() + 60000;
  size_t need = SIZE_MAX;
  *rq = NULL;
  for (;;) {
    if (*rq && b->len >= need) return CG_OK;
    long n = cg_pipe_read(0, chunk, sizeof(chunk), 1000);
    if (n == 0) return *rq ? CG_OK : CG_ERR_PARSE; /* a short request: take_files says so */
    if (n == -2 || cg_time_mono_ms() > end) return CG_ERR_IO;
    if (n > 0 && cg_buf_append(b, chunk, (size_t)n) != CG_OK) return CG_ERR_TOOBIG;
    const char *nl = !*rq && b->data ? memchr(b->data, '\n', b->len) : NULL;
    if (nl) {
      *line_len = (size_t)(nl - b->data);
      *rq = cJSON_ParseWithLength(b->data, *line_len);
      size_t more = *rq ? payload_bytes(*rq) : SIZE_MAX;
      if (more == SIZE_MAX) return CG_ERR_PARSE;
      need = *line_len + 1 + more;
    }
  }
}

/* Copies left by a worker that crashed, and this run's: only this account's own folder is looked at. */
void cg_worker_remove_folder(const char *dir) {
  char **files = NULL;
  size_t nf = 0;
  if (cg_dir_list(dir, &files, &nf) == CG_OK) {
    for (size_t k = 0; k < nf; k++) {
      char *path = cg_path_join(dir, files[k]);
      if (path) cg_file_remove(path);
      cg_free(path);
    }
    cg_dir_list_free(files, nf);
  }
  cg_dir_remove(dir);
}

static void remove_copies(const char *only) {
  char **dirs = NULL;
  size_t nd = 0;
  if (cg_dir_list_dirs(".", &dirs, &nd) != CG_OK) return;
  for (size_t i = 0; i < nd; i++)
    if ((!strncmp(dirs[i], "files-", 6) || !strncmp(dirs[i], "snap-", 5)) && (!only || !strcmp(dirs[i], only)))
      cg_worker_remove_folder(dirs[i]);
  cg_dir_list_free(dirs, nd);
}

/* The settings name copies of the files that came with the request, in `own`; *used: their bytes. */
static int take_files(cJSON *rq, cJSON *settings, const char *body, size_t blen, const char *own, size_t *used) {
  size_t at = 0;
  *used = 0;
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rq, "files")) {
    size_t k = 0;
    while (k < NKEYS && strcmp(file_keys[k], f->string ? f->string : ""))
      k++;
    size_t len =
        cJSON_IsNumber(f) && f->valuedouble >= 0 && f->valuedouble <= (double)blen ? (size_t)f->valuedouble : SIZE_MAX;
    if (k == NKEYS || len > blen - at) return CG_ERR_PARSE;
    char *path = cg_path_join(own, file_keys[k]), err[256];
    int rc = path && cg_mkdirs(own) == CG_OK ? cg_file_write_atomic(path, body + at, len, err, sizeof(err)) : CG_ERR_IO;
    if (rc == CG_OK) cJSON_ReplaceItemInObjectCaseSensitive(settings, file_keys[k], cJSON_CreateString(path));
    cg_free(path);
    if (rc != CG_OK) return rc;
    at += len;
    *used = at;
  }
  return CG_OK;
}

/* What the agent read from the device for a check with `collect` (runner.h): {"as_system", "files":
 * [{"name", "bytes"}]}, the bytes after the files'. Names are plain file names; what does not fit is
 * no request. */
int cg_worker_take_listed(const cJSON *col, const char *body, size_t blen, struct cg_collection *c, size_t *used) {
  const cJSON *f;
  if (!cJSON_IsObject(col)) return CG_ERR_PARSE;
  size_t at = 0;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(col, "files")) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"));
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(f, "bytes");
    size_t len =
        cJSON_IsNumber(b) && b->valuedouble >= 0 && b->valuedouble <= (double)blen ? (size_t)b->valuedouble : SIZE_MAX;
    bool plain = name && *name && name[0] != '.' && strlen(name) < 64 &&
                 strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(name);
    if (!plain || len > blen - at) return CG_ERR_PARSE;
    int rc = cg_collection_add(c, name, body + at, len);
    if (rc != CG_OK) return rc == CG_ERR_TOOBIG ? CG_ERR_PARSE : rc;
    at += len;
    *used = at;
  }
  c->view.as_system = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(col, "as_system"));
  c->view.files = c->files;
  return CG_OK;
}

/* `collect` through a worker: what the check writes down goes back in the answer ("captures"),
 * and the agent writes it into the snapshot (take_rest). */
static cJSON *worker_captures;

static int worker_put(const struct cg_env *env, const char *check, const char *name, const void *data, size_t len) {
  (void)env;
  (void)check;
  char *text = worker_captures ? cg_strndup(data, len) : NULL;
  int rc = text && strlen(text) == len ? CG_OK : CG_ERR_UNSUPPORTED; /* text captures only */
  if (rc == CG_OK) cJSON_AddItemToObject(worker_captures, name, cJSON_CreateString(text));
  cg_free(text);
  return rc;
}

static int worker_check(cJSON *rq, const char *body, size_t blen, cJSON *answer) {
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "check"));
  const struct cg_check_plugin *p = name ? cg_registry_find_check(name) : NULL;
  cJSON *settings = cJSON_GetObjectItemCaseSensitive(rq, "settings");
  if (!p || !(p->unprivileged || p->collect) || !cJSON_IsObject(settings)) return CG_ERR_PARSE;
  char own[48];
  cg_snprintf(own, sizeof(own), "files-%lu", cg_process_id());
  remove_copies(NULL);
  size_t used = 0;
  struct cg_collection col;
  memset(&col, 0, sizeof(col));
  int rc = take_files(rq, settings, body, blen, own, &used);
  const cJSON *snap = cJSON_GetObjectItemCaseSensitive(rq, "snapshot");
  const char *shown_as = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snap, "shown_as"));
  const char *one = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(snap, "file"));
  char snapdir[48], snappath[200];
  cg_snprintf(snapdir, sizeof(snapdir), "snap-%lu", cg_process_id());
  if (snap && (!p->source || !shown_as)) rc = CG_ERR_PARSE;
  /* one capture file: a plain name among those that came (take_snapshot checks them) */
  if (one && (!*one || strlen(one) >= 64 || strpbrk(one, "/\\:") || one[0] == '.')) rc = CG_ERR_PARSE;
  char *joined = one && rc == CG_OK ? cg_path_join(snapdir, one) : NULL;
  cg_strlcpy(snappath, joined ? joined : snapdir, sizeof(snappath));
  cg_free(joined);
  /* a check that reads the device judges here only what the agent read for it (never the device); on
   * a snapshot, the snapshot's files for it, which it reads as the snapshot's folder */
  size_t more = 0;
  if (rc == CG_OK && p->collect && !snap)
    rc =
        cg_worker_take_listed(cJSON_GetObjectItemCaseSensitive(rq, "collected"), body + used, blen - used, &col, &more);
  if (rc == CG_OK && snap) rc = cg_worker_take_snapshot(snap, body + used, blen - used, snapdir);
  cJSON *root = cJSON_CreateObject(), *checks = cJSON_AddObjectToObject(root, "checks");
  cJSON_AddStringToObject(root, "state_dir", "."); /* its state: in its own folder */
  /* the other checks' settings it reads, only those it declares (plugin.h, other_settings) */
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(rq, "other_settings")) {
    bool declared = false;
    for (size_t k = 0; p->other_settings && p->other_settings[k] && o->string; k++)
      declared |= !strncmp(p->other_settings[k], o->string, strlen(o->string)) &&
                  p->other_settings[k][strlen(o->string)] == '.';
    if (declared && cJSON_IsObject(o) && strcmp(o->string, p->name) && cg_registry_find_check(o->string))
      cJSON_AddItemToObject(checks, o->string, cJSON_Duplicate(o, true));
  }
  cJSON_AddItemToObject(checks, p->name, cJSON_DetachItemViaPointer(rq, settings));
  char *text = rc == CG_OK ? cJSON_PrintUnformatted(root) : NULL, err[512] = "";
  cJSON_Delete(root);
  struct cg_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  if (rc == CG_OK)
    rc = text ? cg_config_load_text(&cfg, text, strlen(text), "worker", NULL, err, sizeof(err)) : CG_ERR_NOMEM;
  cg_free(text);
  struct cg_log log = {.level = CG_LOG_INFO};
  cg_log_level_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "log_level")), &log.level);
  log.capture = cJSON_AddArrayToObject(answer, "log");
  const cJSON *hand = cJSON_GetObjectItemCaseSensitive(rq, "handover");
  struct cg_env e = {.config = &cfg,
                     .log = &log,
                     .discovery = cJSON_IsObject(hand) ? cJSON_Duplicate(hand, true) : cJSON_CreateObject(),
                     .trigger = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq, "trigger")),
                     .interactive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rq, "interactive")),
                     .collected = p->collect && !snap ? &col.view : NULL,
                     .snapshot = snap ? snappath : NULL};
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rq, "asks"))) e.ask = cg_worker_ask; /* the agent answers */
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rq, "collect"))) {
    worker_captures = cJSON_AddObjectToObject(answer, "captures");
    e.capture_put = worker_put;
    e.collect_dir = "(the agent's)";
  }
  if (rc == CG_OK) {
    struct cg_result res;
    cg_run_check_vetted(p, &e, &res);
    if (snap) cg_worker_shown_result(&res, snapdir, shown_as);
    cJSON_AddItemToObject(answer, "result", cg_result_to_json(&res));
    cg_result_free(&res);
    cJSON *out = cJSON_AddObjectToObject(answer, "handover");
    for (size_t k = 0; p->provides && p->provides[k] && e.discovery; k++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(e.discovery, p->provides[k]);
      if (v) cJSON_AddItemToObject(out, p->provides[k], cJSON_Duplicate(v, true));
    }
  } else if (err[0]) {
    cJSON_AddStringToObject(answer, "error", err);
  }
  remove_copies(own);
  remove_copies(snapdir);
  cg_collection_free(&col);
  cJSON_Delete(e.discovery);
  cg_config_free(&cfg);
  return rc;
}

int cg_worker_check_main(void) {
  char why[200];
  if (cg_worker_confine(why, sizeof(why)) != CG_OK) return 3; /* before a byte of the request */
  /* ready: the request (with the key's bytes) is sent only now that no one can read it from /proc */
  if (cg_pipe_write(1, "\n", 1) != CG_OK) return 3;
  struct cg_buf b;
  cg_buf_init(&b, REQUEST_MAX);
  cJSON *answer = cJSON_CreateObject(), *rq = NULL;
  size_t line = 0;
  int rc = cg_worker_read_request(&b, &rq, &line);
  if (rc == CG_OK) rc = worker_check(rq, b.data + line + 1, b.len - line - 1, answer);
  if (rc != CG_OK && !cJSON_GetObjectItemCaseSensitive(answer, "error"))
    cJSON_AddStringToObject(answer, "error",
                            rc == CG_ERR_PARSE ? "the request was not one it could read" : cg_strerror(rc));
  char token[80];
  if (cg_worker_token_facts(token, sizeof(token)) == CG_OK) cJSON_AddStringToObject(answer, "token", token);
  char *text = cJSON_PrintUnformatted(answer);
  int wrc = text ? cg_pipe_write(1, text, strlen(text)) : CG_ERR_NOMEM;
  cJSON_free(text);
  cJSON_Delete(answer);
  cJSON_Delete(rq);
  cg_buf_free(&b);
  return rc == CG_OK && wrc == CG_OK ? 0 : 3;
}

/* ---- the parent ------------------------------------------------------------------------------------ */

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* A copy of what the worker said, at most `cap` bytes, without control characters. */
static char *said(const char *s, size_t cap) {
  char *c = cg_malloc(cap + 1);
  if (!c) return NULL;
  cg_strlcpy(c, s, cap + 1);
  cg_strip_controls(c);
  return c;
}

/* The result the worker sent, if it is one: a known status, a code of capitals, digits and
 * underscores, the sentences as strings (capped, without control characters), facts as an object. */
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
  res->summary = said(summary, 4096);
  res->remediation = said(rem, 4096);
  res->detail = detail && *detail ? said(detail, 8192) : NULL;
  cJSON_Delete(res->facts);
  res->facts = cJSON_DetachItemViaPointer(r, facts);
  while (cJSON_GetObjectItemCaseSensitive(res->facts, "worker")) /* the agent's to say, however often it came */
    cJSON_DeleteItemFromObjectCaseSensitive(res->facts, "worker");
  cg_display_json(res->facts);
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "duration_ms");
  res->duration_ms = cJSON_IsNumber(d) && d->valuedouble >= 0 && d->valuedouble < 1e9 ? (int64_t)d->valuedouble : 0;
  if (res->code && res->summary && res->remediation && (!detail || !*detail || res->detail)) return true;
  cg_result_free(res);
  return false;
}

static void crashed_result(const struct cg_check_plugin *p, const char *how, struct cg_result *res) {
  char code[80];
  cg_run_code(p, "WORKER_CRASHED", code, sizeof(code));
  cg_result_init(res, p->name);
  cg_result_set(res, CG_ERROR, code,
                "The agent carries on and runs the check again next cycle. If this comes back, send the agent log "
                "(cmgdiag.log) to the cmgdiag maintainers: a check that ends this way is a fault in cmgdiag, not "
                "in the device.",
                "The %s check ended before it gave a verdict: its process without privilege stopped (%s). The rest "
                "of the cycle was not affected.",
                p->name, how);
}

/* What the worker wrote to its log, into the agent's (bounded, each line marked as the worker's);
 * its hand-over, for the checks after it (only the keys the check declares). */
void cg_worker_take_log(const struct cg_env *env, const char *who, const cJSON *lines) {
  const cJSON *line;
  int n = 0;
  cJSON_ArrayForEach(line, lines) {
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(line, "l");
    const char *c = str(line, "c"), *m = str(line, "m");
    /* a number out of int's range (1e300, NaN) is no level, and never cast */
    int lv = cJSON_IsNumber(l) && l->valuedouble >= 0 && l->valuedouble <= CG_LOG_DEBUG ? (int)l->valuedouble : -1;
    if (++n > CG_LOG_CAPTURE_MAX) break;
    if (!m || lv < CG_LOG_ERROR || lv > CG_LOG_DEBUG) continue;
    bool word = c && *c && strlen(c) < 24 && strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(c);
    cg_log_write(env->log, (enum cg_log_level)lv, word ? c : "worker", CG_SRC, "[%s, without privilege] %.2000s", who,
                 m);
  }
}

const char *cg_worker_log_level(const struct cg_env *env) {
  static const char *const levels[] = {"error", "warning", "info", "debug"};
  int lv = env->log ? (int)env->log->level : 2;
  return levels[lv >= 0 && lv < 4 ? lv : 2];
}

static void take_rest(const struct cg_check_plugin *p, const struct cg_env *env, const cJSON *answer) {
  cg_worker_take_log(env, p->name, cJSON_GetObjectItemCaseSensitive(answer, "log"));
  /* what it wrote down for `collect`: into the snapshot, under this check's name (snapshot.c checks
   * each file name and size) */
  const cJSON *c, *caps = env->capture_put ? cJSON_GetObjectItemCaseSensitive(answer, "captures") : NULL;
  int files = 0;
  cJSON_ArrayForEach(c, caps) {
    if (cJSON_IsString(c) && c->string && ++files <= 16)
      env->capture_put(env, p->name, c->string, c->valuestring, strlen(c->valuestring));
  }
  const cJSON *hand = cJSON_GetObjectItemCaseSensitive(answer, "handover");
  for (size_t k = 0; env->discovery && p->provides && p->provides[k]; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(hand, p->provides[k]);
    if (!v) continue;
    cJSON *copy = cJSON_Duplicate(v, true);
    cg_display_json(copy);
    cJSON_DeleteItemFromObjectCaseSensitive(env->discovery, p->provides[k]);
    cJSON_AddItemToObject(env->discovery, p->provides[k], copy);
  }
}

static bool take_answer(const struct cg_check_plugin *p, const struct cg_env *env, cJSON *answer,
                        struct cg_result *res) {
  cJSON *r = cJSON_GetObjectItemCaseSensitive(answer, "result");
  if (!r || !take_result(p, r, res)) return false;
  take_rest(p, env, answer);
  return true;
}

int cg_worker_take_answer(const struct cg_check_plugin *p, const struct cg_env *env, const char *text, size_t len,
                          struct cg_result *res) {
  cJSON *answer = len <= ANSWER_MAX ? cJSON_ParseWithLength(text, len) : NULL;
  bool ok = answer && take_answer(p, env, answer, res);
  cJSON_Delete(answer);
  return ok ? CG_OK : CG_ERR_PARSE;
}

/* Reads the answer until the worker closes its end, the deadline, or the cap. 0: all of it; 1: the
 * deadline passed (or the agent stops); 2: more than a result can be, a request to the agent that is
 * not one, or more than 16 of them. A line before the answer is a request to the agent (env->ask; the answer itself is
 * one JSON text without a newline), served on qw. */
static int read_answer(intptr_t rd, int64_t end, struct cg_buf *b, const struct cg_env *env, intptr_t qw) {
  char chunk[16384];
  int asks = 0; /* more than a collection can allow, twice over, is a worker that floods the agent */
  for (;;) {
    int64_t left = end - cg_time_mono_ms();
    if (left <= 0 || cg_stop_requested()) return 1;
    long n = cg_pipe_read(rd, chunk, sizeof(chunk), left < 200 ? left : 200);
    if (n == 0 || n == -2) return 0;
    if (n > 0 && cg_buf_append(b, chunk, (size_t)n) != CG_OK) return 2;
    const char *nl;
    while (env->ask && b->len && (nl = memchr(b->data, '\n', b->len)) != NULL) {
      size_t len = (size_t)(nl - b->data);
      if (len >= CG_AGENT_ASK_MAX || ++asks > 2 * CG_PERMITS_MAX ||
          cg_worker_serve_ask(env, qw, b->data, len, end) != CG_OK)
        return 2;
      memmove(b->data, nl + 1, b->len - len - 1);
      b->len -= len + 1;
    }
  }
}

/* The worker's first byte (a newline): it is confined. 0 when it came, 1 when the deadline passed
 * first, 3 when the worker ended before it was ready (before it read a byte of the request). */
int cg_worker_wait_ready(intptr_t rd, int64_t end) {
  char c;
  for (;;) {
    int64_t left = end - cg_time_mono_ms();
    if (left <= 0 || cg_stop_requested()) return 1;
    long n = cg_pipe_read(rd, &c, 1, left < 200 ? left : 200);
    if (n > 0) return 0;
    if (n == 0 || n == -2) return 3;
  }
}

/* How a worker that gave no verdict ended, in words. */
static void ended_how(const struct cg_child_status *st, const cJSON *answer, int got, char *how, size_t len) {
  const char *err = str(answer, "error");
  static const char *const early[] = {"it could not set up its input and output",
                                      "",
                                      "",
                                      "it could not give up privilege",
                                      "it could give up privilege but take it back",
                                      "its parent was gone",
                                      "it could not enter its folder",
                                      "this program could not be started as it"};
  if (got == 2)
    cg_snprintf(how, len, "it sent more than a result can be");
  else if (err)
    cg_snprintf(how, len, "%.180s", err);
  else if (st->exited && st->exit_code >= 120 && st->exit_code <= 127 && early[st->exit_code - 120][0])
    cg_snprintf(how, len, "%s; %s", early[st->exit_code - 120], st->text);
  else
    cg_snprintf(how, len, "%s", st->text);
  cg_strip_controls(how);
}

/* Waits up to `ms` for the worker to end, then kills it and waits a second more; *st says how it ended. */
void cg_worker_reap(struct cg_child *child, int ms, struct cg_child_status *st) {
  memset(st, 0, sizeof(*st));
  for (int i = 0; i < ms / 10 && !cg_child_ended(child, st); i++)
    cg_sleep_ms(10);
  if (!cg_child_ended(child, st)) {
    cg_child_kill(child);
    for (int i = 0; i < 100 && !cg_child_ended(child, st); i++)
      cg_sleep_ms(10);
  }
}

static void finish(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_child *child, int got,
                   struct cg_buf *b, int64_t deadline_ms, struct cg_result *res, char *token, size_t tlen) {
  struct cg_child_status st;
  if (got != 0) cg_child_kill(child);
  cg_worker_reap(child, 3000, &st); /* it ends as soon as its answer is out */
  cJSON *answer = got == 0 && b->len ? cJSON_ParseWithLength(b->data, b->len) : NULL;
  if (got == 1) {
    cg_run_deadline_result(p, res, deadline_ms,
                           cg_stop_requested() ? "was interrupted by the agent stopping"
                                               : "did not finish within its deadline");
  } else if (st.exited && st.exit_code == 0 && answer && take_answer(p, env, answer, res)) {
    char *t = str(answer, "token") ? said(str(answer, "token"), tlen - 1) : NULL; /* "restricted, integrity Low" */
    cg_strlcpy(token, t ? t : "", tlen);
    cg_free(t);
  } else {
    char how[240];
    ended_how(&st, answer, got, how, sizeof(how));
    crashed_result(p, how, res);
    cg_log_error(env->log, "runner", "check %s: its unprivileged worker ended without a verdict (%s)", p->name, how);
  }
  cJSON_Delete(answer);
}

/* A worker that could not be started, or ended before it was ready, had read nothing of the request:
 * no input of anyone's can have caused it, the platform refused what it needs (a folder, a token, a
 * library, a desktop). The check runs in this process as it did before workers, and says so
 * (`worker_not_started`); the log says why at warning level. `child` may be NULL (never started). */
static void not_started(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_child *child,
                        const char *why, int64_t deadline_ms, struct cg_result *res) {
  char how[300];
  cg_strlcpy(how, why ? why : "", sizeof(how));
  if (child) {
    struct cg_child_status st;
    cg_worker_reap(child, 1000, &st);
    cg_child_free(child);
    ended_how(&st, NULL, 0, how, sizeof(how));
  }
  cg_strip_controls(how);
  cg_log_warn(env->log, "runner",
              "check %s: its unprivileged worker %s (%s); the check runs in this process, with its privilege", p->name,
              child ? "ended before it was ready" : "could not be started", how);
  if (deadline_ms > 0)
    cg_run_check_deadline(p, env, res, deadline_ms);
  else
    cg_run_check(p, env, res);
  cJSON_AddStringToObject(res->facts, "worker_not_started", how);
}

/* The request: the check's settings, what it needs handed over, and the files its settings name
 * (read here, where they are readable; their bytes follow the line). */
static int request(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_collection *snap,
                   const char *shown, const char *file, struct cg_buf *q, char *err, size_t errlen) {
  cJSON *rq = cJSON_CreateObject(), *files = cJSON_AddObjectToObject(rq, "files");
  const cJSON *settings = cg_config_check(env->config, p->name);
  char *data[NKEYS] = {NULL};
  size_t len[NKEYS] = {0};
  int rc = rq && files && settings ? CG_OK : CG_ERR_NOMEM;
  cJSON_AddStringToObject(rq, "check", p->name);
  cJSON_AddItemToObject(rq, "settings", cJSON_Duplicate(settings, true));
  /* the other checks' settings its judging reads (plugin.h, other_settings), and no others */
  cJSON *other = cJSON_AddObjectToObject(rq, "other_settings");
  for (size_t k = 0; p->other_settings && p->other_settings[k]; k++) {
    char check[64];
    const char *dot = strchr(p->other_settings[k], '.');
    if (!dot || (size_t)(dot - p->other_settings[k]) >= sizeof(check)) continue;
    cg_snprintf(check, sizeof(check), "%.*s", (int)(dot - p->other_settings[k]), p->other_settings[k]);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cg_config_check(env->config, check), dot + 1);
    if (!v) continue;
    cJSON *o = cJSON_GetObjectItemCaseSensitive(other, check);
    if (!o) o = cJSON_AddObjectToObject(other, check);
    cJSON_AddItemToObject(o, dot + 1, cJSON_Duplicate(v, true));
  }
  cJSON *hand = cJSON_AddObjectToObject(rq, "handover");
  for (size_t k = 0; env->discovery && p->needs && p->needs[k]; k++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(env->discovery, p->needs[k]);
    if (v) cJSON_AddItemToObject(hand, p->needs[k], cJSON_Duplicate(v, true));
  }
  if (env->trigger) cJSON_AddStringToObject(rq, "trigger", env->trigger);
  cJSON_AddBoolToObject(rq, "interactive", env->interactive);
  if (env->capture_put && p->source) cJSON_AddBoolToObject(rq, "collect", true);
  if (env->ask) cJSON_AddBoolToObject(rq, "asks", true); /* its input stays open for the agent's answers */
  const struct cg_collected *col = env->collected;
  if (snap) { /* the snapshot's files for this check, which it reads as the snapshot's folder */
    cJSON *c = cJSON_AddObjectToObject(rq, "snapshot"), *cf = cJSON_AddArrayToObject(c, "files");
    cJSON_AddStringToObject(c, "shown_as", shown);
    if (file) cJSON_AddStringToObject(c, "file", file); /* one capture file, not a folder */
    for (size_t i = 0; i < snap->view.count; i++) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddItemToArray(cf, o);
      cJSON_AddStringToObject(o, "name", snap->files[i].name);
      cJSON_AddNumberToObject(o, "bytes", (double)snap->files[i].len);
    }
  } else if (p->collect) {
    cJSON *c = cJSON_AddObjectToObject(rq, "collected"), *cf = cJSON_AddArrayToObject(c, "files");
    cJSON_AddBoolToObject(c, "as_system", col && col->as_system);
    for (size_t i = 0; col && i < col->count; i++) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddItemToArray(cf, o);
      cJSON_AddStringToObject(o, "name", col->files[i].name);
      cJSON_AddNumberToObject(o, "bytes", (double)col->files[i].len);
    }
  }
  cJSON_AddStringToObject(rq, "log_level", cg_worker_log_level(env));
  for (size_t k = 0; rc == CG_OK && k < NKEYS; k++) {
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(settings, file_keys[k]));
    if (!path || !*path) continue; /* on a snapshot, this machine's (captures.md): vetted as always */
    int frc = cg_file_read(path, FILE_MAX, &data[k], &len[k]);
    if (frc == CG_OK)
      cJSON_AddNumberToObject(files, file_keys[k], (double)len[k]);
    else if (frc == CG_ERR_NOMEM)
      rc = frc;
    /* one that cannot be read is left as it is: the check says so, as it would have */
  }
  char *line = rc == CG_OK ? cJSON_PrintUnformatted(rq) : NULL;
  if (rc == CG_OK && (!line || cg_buf_puts(q, line) != CG_OK || cg_buf_append(q, "\n", 1) != CG_OK)) rc = CG_ERR_NOMEM;
  for (size_t k = 0; k < NKEYS; k++) {
    if (rc == CG_OK && data[k] && cg_buf_append(q, data[k], len[k]) != CG_OK) rc = CG_ERR_NOMEM;
    cg_free(data[k]);
  }

  if (rc != CG_OK) cg_snprintf(err, errlen, "%s", cg_strerror(rc));
  cJSON_free(line);
  cJSON_Delete(rq);
  return rc;
}

/* The worker's environment: nothing of the agent's but what decides the network path and the time. */
void cg_worker_env(const char **envp, char store[][1100], size_t max) {
  static const char *const keep[] = {"http_proxy",    "https_proxy",  "no_proxy", "all_proxy",
                                     "HTTP_PROXY",    "HTTPS_PROXY",  "NO_PROXY", "ALL_PROXY",
                                     "SSL_CERT_FILE", "SSL_CERT_DIR", "TZ"};
  size_t n = 0;
  for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]) && n + 1 < max; i++) {
    const char *v = getenv(keep[i]);
    if (v && strlen(v) < 1000) {
      cg_snprintf(store[n], sizeof(store[0]), "%s=%s", keep[i], v);
      envp[n] = store[n];
      n++;
    }
  }
  envp[n] = NULL;
}

void cg_run_check_worker(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_worker_user *u,
                         int64_t deadline_ms, struct cg_result *res) {
  char err[512] = "";
  /* a trust root or key a non-administrator could change is refused as cg_run_check refuses it */
  if (cg_config_check_files_trusted(env->config, p->name, err, sizeof(err)) != CG_OK) {
    cg_run_check(p, env, res);
    return;
  }
  struct cg_collection snap;
  memset(&snap, 0, sizeof(snap));
  int64_t start = cg_time_mono_ms(), limit = deadline_ms > 0 ? deadline_ms : DEFAULT_DEADLINE_MS;
  char *wdir = cg_worker_dir(env->config, err, sizeof(err)), *exe = cg_self_exe();
  intptr_t rd = -1, qr = -1, qw = -1;
  struct cg_child *child = NULL;
  struct cg_buf q, b;
  cg_buf_init(&q, REQUEST_MAX);
  cg_buf_init(&b, ANSWER_MAX);
  int rc = wdir && exe ? cg_worker_folder(wdir, u, err, sizeof(err)) : CG_ERR_NOMEM;
  char *shown = NULL, *file = NULL;
  if (rc == CG_OK && env->snapshot) rc = cg_worker_snapshot_files(env, &snap, &shown, &file);
  if (rc == CG_OK) rc = request(p, env, env->snapshot ? &snap : NULL, shown, file, &q, err, sizeof(err));
  if (rc == CG_OK) rc = cg_pipe_open(&qr, &qw, err, sizeof(err));
  if (rc == CG_OK) {
    const char *argv[] = {exe, "__worker", "check", NULL}, *envp[12];
    char store[12][1100];
    cg_worker_env(envp, store, 12);
    cg_log_debug(env->log, "runner", "check %s starting, as %s without privilege", p->name, u->name);
    rc = cg_worker_start(u, wdir, argv, envp, qr, &rd, &child, err, sizeof(err));
  }
  cg_pipe_close(qr);
  /* the request once the worker says it is ready (confined), within the deadline */
  int got = rc == CG_OK ? cg_worker_wait_ready(rd, start + limit) : 0;
  if (rc == CG_OK && got == 0) {
    int64_t left = start + limit - cg_time_mono_ms();
    int wrc = cg_pipe_write_within(qw, q.data, q.len, left > 0 ? left : 1);
    /* what the agent read for a collect + judge check follows, from where it is kept (no second copy) */
    const struct cg_collected *more = env->snapshot ? &snap.view : p->collect ? env->collected : NULL;
    for (size_t i = 0; wrc == CG_OK && more && i < more->count; i++) {
      left = start + limit - cg_time_mono_ms();
      const struct cg_capture_file *f = &more->files[i];
      if (f->len) wrc = cg_pipe_write_within(qw, f->data, f->len, left > 0 ? left : 1);
    }
    if (wrc == CG_ERR_TIMEOUT) got = 1;
    if (wrc == CG_ERR_IO) cg_log_warn(env->log, "runner", "check %s: its worker did not take its request", p->name);
  }
  if (!env->ask || rc != CG_OK || got != 0) { /* else open for the answers to its requests (read_answer) */
    cg_pipe_close(qw);
    qw = -1;
  }
  cg_buf_free(&q);
  cg_collection_free(&snap);
  cg_free(shown);
  cg_free(file);
  if (rc != CG_OK) {
    not_started(p, env, NULL, err[0] ? err : cg_strerror(rc), deadline_ms, res);
  } else if (got == 3) {
    not_started(p, env, child, NULL, deadline_ms, res);
    cg_pipe_close(rd);
  } else {
    if (got == 0) got = read_answer(rd, start + limit, &b, env, qw);
    cg_pipe_close(rd);
    cg_pipe_close(qw);
    unsigned long pid = cg_child_pid(child);
    char token[80] = "";
    finish(p, env, child, got, &b, limit, res, token, sizeof(token));
    cg_child_free(child);
    cg_run_log_verdict(p, env, res); /* the agent's own line, as for a check run in its process */
    cJSON *w = cJSON_AddObjectToObject(res->facts, "worker");
    cJSON_AddStringToObject(w, "user", u->name);
    if (token[0])
      cJSON_AddStringToObject(w, "token", token); /* Windows: its token says what it is */
    else
      cJSON_AddNumberToObject(w, "uid", (double)u->uid);
    cJSON_AddNumberToObject(w, "pid", (double)pid);
  }
  cg_buf_free(&b);
  cg_free(wdir);
  cg_free(exe);
  if (!res->duration_ms) res->duration_ms = cg_time_mono_ms() - start;
}
