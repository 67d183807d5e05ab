/* Shipping without privilege (emit_worker.h). The protocol, over the worker's standard input and
 * output:
 *   worker -> agent  "\n" once it is confined (nothing is sent before)
 *   agent -> worker  one line {"output", "settings", "log_level", "files": {KEY: bytes}}, the files'
 *                    bytes one after the other in that order
 *   worker -> agent  one line {"ready": true} or {"error": "..."} (the output's init), with "log"
 *   agent -> worker  per bundle: one line {"name", "bundle_id", "hostname", "created_at", "bytes"}, then
 *                    the bundle's bytes (gzip, never parsed by either side)
 *   worker -> agent  per bundle: one line {"outcome", "http_status", "retry_after_ms", "error", "log"}
 * The agent closes the worker's input when the drain ends; the worker then ends. */
#include "emit_worker.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "redact.h"
#include "worker.h"
#include "platform/fs.h"
#include "platform/runtime.h"
#include "platform/sys.h"

#define SETUP_MAX (1u << 20)
#define FILE_MAX (4u << 20)     /* a trust root, certificate, key or token file (as the outputs read them) */
#define BUNDLE_MAX (64u << 20)  /* far above any bundle the spool keeps */
#define LINE_MAX_ (256u << 10)  /* an answer: an outcome, a sentence and at most 400 log lines */
#define STARTUP_MS 15000        /* confined, the output's init done */
#define STALE_MS (86400 * 1000) /* an emit folder left by an agent that was killed (the longest drain) */

/* The settings that name a file an output reads (config_files.c vets them in the agent). */
static const char *const file_keys[] = {"ca_file", "client_cert", "client_key", "bearer_token_file", "hmac_key_file"};
#define NKEYS (sizeof(file_keys) / sizeof(file_keys[0]))
/* A secret an output reads from the agent's environment: sent as the file's bytes (the worker's
 * environment has nothing of the agent's). */
static const struct {
  const char *env, *file;
} env_secrets[] = {{"bearer_token_env", "bearer_token_file"}, {"hmac_key_env", "hmac_key_file"}};

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* ---- the worker ------------------------------------------------------------------------------------ */

struct reader {
  char buf[65536];
  size_t at, len;
};

/* More bytes from standard input: CG_OK, or CG_ERR_IO when it ended (the agent closed it or is gone). */
static int fill(struct reader *r) {
  for (;;) {
    long n = cg_pipe_read(0, r->buf, sizeof(r->buf), 1000);
    if (n > 0) {
      r->at = 0;
      r->len = (size_t)n;
      return CG_OK;
    }
    if (n == 0 || n == -2) return CG_ERR_IO;
  }
}

/* One line (without its newline) into b: CG_ERR_NOTFOUND when the input ended before its first byte. */
static int read_line(struct reader *r, struct cg_buf *b, size_t max) {
  b->len = 0;
  bool any = false;
  for (;;) {
    if (r->at == r->len) {
      int rc = fill(r);
      if (rc != CG_OK) return any ? rc : CG_ERR_NOTFOUND;
    }
    any = true;
    char *nl = memchr(r->buf + r->at, '\n', r->len - r->at);
    size_t n = nl ? (size_t)(nl - (r->buf + r->at)) : r->len - r->at;
    if (b->len + n > max) return CG_ERR_TOOBIG;
    if (cg_buf_append(b, r->buf + r->at, n) != CG_OK) return CG_ERR_NOMEM;
    r->at += n + (nl ? 1 : 0);
    if (nl) return CG_OK;
  }
}

static int read_bytes(struct reader *r, char *out, size_t n) {
  size_t got = 0;
  while (got < n) {
    if (r->at == r->len && fill(r) != CG_OK) return CG_ERR_IO;
    size_t k = r->len - r->at < n - got ? r->len - r->at : n - got;
    memcpy(out + got, r->buf + r->at, k);
    r->at += k;
    got += k;
  }
  return CG_OK;
}

static int answer(cJSON *a) {
  char *text = cJSON_PrintUnformatted(a);
  int rc = text ? cg_pipe_write(1, text, strlen(text)) : CG_ERR_NOMEM;
  if (rc == CG_OK) rc = cg_pipe_write(1, "\n", 1);
  cJSON_free(text);
  return rc;
}

/* The setup's files into `own`, the settings naming the copies. */
static int take_files(struct reader *r, const cJSON *files, cJSON *settings, const char *own) {
  const cJSON *f;
  cJSON_ArrayForEach(f, files) {
    size_t k = 0;
    while (k < NKEYS && strcmp(file_keys[k], f->string ? f->string : ""))
      k++;
    if (k == NKEYS || !cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble > FILE_MAX) return CG_ERR_PARSE;
    size_t len = (size_t)f->valuedouble;
    char *data = cg_malloc(len + 1), *path = cg_path_join(own, file_keys[k]), err[256];
    int rc = data && path ? read_bytes(r, data, len) : CG_ERR_NOMEM;
    if (rc == CG_OK) rc = cg_mkdirs(own) == CG_OK ? cg_file_write_atomic(path, data, len, err, sizeof(err)) : CG_ERR_IO;
    if (rc == CG_OK) cJSON_ReplaceItemInObjectCaseSensitive(settings, file_keys[k], cJSON_CreateString(path));
    cg_free(data);
    cg_free(path);
    if (rc != CG_OK) return rc;
  }
  return CG_OK;
}

/* One bundle: its line, its bytes, the output's emit, the answer. CG_ERR_NOTFOUND at the input's end. */
static int one_bundle(struct reader *r, const struct cg_output_plugin *p, void *ctx, struct cg_env *env) {
  struct cg_buf line;
  cg_buf_init(&line, SETUP_MAX);
  int rc = read_line(r, &line, 4096);
  cJSON *rq = rc == CG_OK ? cJSON_ParseWithLength(line.data, line.len) : NULL;
  cg_buf_free(&line);
  if (rc != CG_OK) return rc;
  const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(rq, "bytes");
  const char *name = str(rq, "name"), *id = str(rq, "bundle_id"), *host = str(rq, "hostname"),
             *created = str(rq, "created_at");
  if (!name || !id || !host || !created || strlen(created) < 10 || !cJSON_IsNumber(bytes) || bytes->valuedouble < 0 ||
      bytes->valuedouble > BUNDLE_MAX) {
    cJSON_Delete(rq);
    return CG_ERR_PARSE;
  }
  size_t len = (size_t)bytes->valuedouble;
  char *gz = cg_malloc(len + 1);
  rc = gz ? read_bytes(r, gz, len) : CG_ERR_NOMEM;
  cJSON *a = cJSON_CreateObject();
  if (rc == CG_OK && a) {
    struct cg_emit_req req = {
        .name = name, .bundle_id = id, .hostname = host, .created_at = created, .gz = gz, .gz_len = len};
    struct cg_emit_result res;
    memset(&res, 0, sizeof(res));
    res.retry_after_ms = -1;
    env->log->capture = cJSON_AddArrayToObject(a, "log");
    p->emit(ctx, env, &req, &res);
    cJSON_AddNumberToObject(a, "outcome", (double)res.outcome);
    cJSON_AddNumberToObject(a, "http_status", (double)res.http_status);
    cJSON_AddNumberToObject(a, "retry_after_ms", (double)res.retry_after_ms);
    cJSON_AddStringToObject(a, "error", res.error);
    rc = answer(a);
  }
  env->log->capture = NULL;
  cJSON_Delete(a);
  cJSON_Delete(rq);
  cg_free(gz);
  return rc == CG_OK ? CG_OK : rc;
}

/* The output made ready from the setup: its settings (the copies named), its init. */
static int setup(struct reader *r, const struct cg_output_plugin **pp, struct cg_config *cfg, void **ctxp,
                 struct cg_env *env, const char *own, cJSON *ready, char *err, size_t errlen) {
  struct cg_buf line;
  cg_buf_init(&line, SETUP_MAX);
  int rc = read_line(r, &line, SETUP_MAX);
  cJSON *rq = rc == CG_OK ? cJSON_ParseWithLength(line.data, line.len) : NULL;
  cg_buf_free(&line);
  const struct cg_output_plugin *p = str(rq, "output") ? cg_registry_find_output(str(rq, "output")) : NULL;
  cJSON *settings = cJSON_GetObjectItemCaseSensitive(rq, "settings");
  if (!p || !p->unprivileged || !cJSON_IsObject(settings)) rc = CG_ERR_PARSE;
  if (rc == CG_OK) rc = take_files(r, cJSON_GetObjectItemCaseSensitive(rq, "files"), settings, own);
  cg_log_level_parse(str(rq, "log_level"), &env->log->level);
  cJSON *root = rc == CG_OK ? cJSON_CreateObject() : NULL;
  if (root) {
    cJSON_AddStringToObject(root, "state_dir", ".");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "outputs"), cJSON_DetachItemViaPointer(rq, settings));
  }
  char *text = root ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (rc == CG_OK) rc = text ? cg_config_load_text(cfg, text, strlen(text), "worker", NULL, err, errlen) : CG_ERR_NOMEM;
  cg_free(text);
  cJSON_Delete(rq);
  cfg->files_vetted = true; /* copies of files the agent vetted */
  env->config = cfg;
  const cJSON *obj = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cfg->root, "outputs"), 0);
  void *ctx = rc == CG_OK ? cg_calloc(1, p->ctx_size ? p->ctx_size : 1) : NULL;
  if (rc == CG_OK && !ctx) rc = CG_ERR_NOMEM;
  if (rc == CG_OK) {
    *ctxp = ctx;
    *pp = p;
    rc = cg_config_map_fill(p->config_map, obj, ctx);
    env->log->capture = cJSON_AddArrayToObject(ready, "log");
    if (rc == CG_OK && p->init) rc = p->init(ctx, env, err, errlen);
    env->log->capture = NULL;
  }
  return rc;
}

int cg_worker_emit_main(void) {
  char why[512] = "";
  if (cg_worker_confine(why, sizeof(why)) != CG_OK) return 3; /* before a byte of the request */
  if (cg_pipe_write(1, "\n", 1) != CG_OK) return 3;
  static struct reader r;
  struct cg_log log = {.level = CG_LOG_INFO};
  struct cg_env env = {.log = &log, .trigger = "ship"};
  struct cg_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  const struct cg_output_plugin *p = NULL;
  void *ctx = NULL;
  char own[48];
  cg_snprintf(own, sizeof(own), "emit-%lu", cg_process_id());
  cJSON *ready = cJSON_CreateObject();
  int rc = ready ? setup(&r, &p, &cfg, &ctx, &env, own, ready, why, sizeof(why)) : CG_ERR_NOMEM;
  if (rc == CG_OK)
    cJSON_AddBoolToObject(ready, "ready", true);
  else
    cJSON_AddStringToObject(ready, "error",
                            why[0]               ? why
                            : rc == CG_ERR_PARSE ? "the request was not one it could read"
                                                 : cg_strerror(rc));
  char token[80];
  if (cg_worker_token_facts(token, sizeof(token)) == CG_OK) cJSON_AddStringToObject(ready, "token", token);
  int wrc = answer(ready);
  cJSON_Delete(ready);
  while (rc == CG_OK && wrc == CG_OK)
    rc = one_bundle(&r, p, ctx, &env);
  if (ctx && p && p->fini) p->fini(ctx);
  if (ctx && p) cg_config_map_release(p->config_map, ctx);
  cg_free(ctx);
  cg_config_free(&cfg);
  cg_worker_remove_folder(own);
  return rc == CG_ERR_NOTFOUND && wrc == CG_OK ? 0 : 3;
}

/* ---- the agent's side -------------------------------------------------------------------------------- */

struct cg_emit_worker {
  struct cg_child *child;
  intptr_t rd, qw;
  char output[32];
  char own[300];    /* its folder of copies, removed here once it has ended */
  struct cg_buf in; /* what it said that is not a whole line yet */
};

/* One line from the worker within `end`: CG_OK and a NUL-terminated copy in *out. */
static int take_line(struct cg_emit_worker *w, int64_t end, char **out, size_t *len) {
  char chunk[16384];
  for (;;) {
    char *nl = w->in.len ? memchr(w->in.data, '\n', w->in.len) : NULL;
    if (nl) {
      *len = (size_t)(nl - w->in.data);
      *out = cg_strndup(w->in.data, *len);
      memmove(w->in.data, nl + 1, w->in.len - *len - 1);
      w->in.len -= *len + 1;
      return *out ? CG_OK : CG_ERR_NOMEM;
    }
    if (w->in.len > LINE_MAX_) return CG_ERR_TOOBIG;
    int64_t left = end - cg_time_mono_ms();
    if (left <= 0 || cg_stop_requested()) return CG_ERR_TIMEOUT;
    long n = cg_pipe_read(w->rd, chunk, sizeof(chunk), left < 200 ? left : 200);
    if (n == 0 || n == -2) return CG_ERR_IO;
    if (n > 0 && cg_buf_append(&w->in, chunk, (size_t)n) != CG_OK) return CG_ERR_TOOBIG;
  }
}

int cg_emit_take_answer(const char *line, size_t len, const struct cg_env *env, const char *output,
                        struct cg_emit_result *res) {
  cJSON *a = len <= LINE_MAX_ ? cJSON_ParseWithLength(line, len) : NULL;
  const cJSON *oc = cJSON_GetObjectItemCaseSensitive(a, "outcome");
  const cJSON *hs = cJSON_GetObjectItemCaseSensitive(a, "http_status");
  const cJSON *ra = cJSON_GetObjectItemCaseSensitive(a, "retry_after_ms");
  const char *error = str(a, "error");
  bool ok = cJSON_IsNumber(oc) && oc->valuedouble >= CG_EMIT_DELIVERED && oc->valuedouble <= CG_EMIT_REJECTED &&
            (double)(int)oc->valuedouble == oc->valuedouble && cJSON_IsNumber(hs) && hs->valuedouble >= 0 &&
            hs->valuedouble <= 999 && cJSON_IsNumber(ra) && ra->valuedouble >= -1 && ra->valuedouble <= 86400000.0 &&
            error;
  if (ok) {
    memset(res, 0, sizeof(*res));
    res->outcome = (enum cg_emit_outcome)(int)oc->valuedouble;
    res->http_status = (long)hs->valuedouble;
    res->retry_after_ms = (int64_t)ra->valuedouble;
    char *clean = cg_redact_text(error); /* what an output says never carries a secret; checked again */
    cg_strlcpy(res->error, clean ? clean : "", sizeof(res->error));
    cg_free(clean);
    cg_strip_controls(res->error);
    if (env) {
      char who[48];
      cg_snprintf(who, sizeof(who), "%s upload", output);
      cg_worker_take_log(env, who, cJSON_GetObjectItemCaseSensitive(a, "log"));
    }
  }
  cJSON_Delete(a);
  return ok ? CG_OK : CG_ERR_PARSE;
}

static void gone(struct cg_emit_result *res, const char *output, const char *why) {
  memset(res, 0, sizeof(*res));
  res->outcome = CG_EMIT_RETRY;
  res->retry_after_ms = -1;
  cg_snprintf(res->error, sizeof(res->error), "the %s output's upload process without privilege %s", output, why);
}

void cg_emit_worker_end(struct cg_emit_worker *w) {
  if (!w) return;
  cg_pipe_close(w->qw); /* its input ends: it finishes and exits */
  if (w->child) {
    struct cg_child_status st;
    cg_worker_reap(w->child, 3000, &st);
    cg_child_free(w->child);
  }
  cg_pipe_close(w->rd);
  if (w->own[0] && cg_path_kind(w->own) == CG_PATH_DIR)
    cg_worker_remove_folder(w->own); /* a worker that crashed left them */
  cg_buf_free(&w->in);
  cg_free(w);
}

/* Folders of copies whose worker is long gone (an agent killed during a drain). */
static void remove_stale(const char *wdir) {
  char **dirs = NULL;
  size_t nd = 0;
  int64_t now = cg_time_utc_ms();
  if (cg_dir_list_dirs(wdir, &dirs, &nd) != CG_OK) return;
  for (size_t i = 0; i < nd; i++) {
    char *path = strncmp(dirs[i], "emit-", 5) ? NULL : cg_path_join(wdir, dirs[i]);
    int64_t m = path ? cg_file_mtime_ms(path) : -1;
    if (path && m > 0 && now - m > STALE_MS) cg_worker_remove_folder(path);
    cg_free(path);
  }
  cg_dir_list_free(dirs, nd);
}

/* The setup line and the files' bytes (read here, where they are readable). */
static int setup_request(const struct cg_output_plugin *p, const cJSON *settings, const struct cg_env *env,
                         struct cg_buf *q) {
  cJSON *rq = cJSON_CreateObject(), *s = cJSON_Duplicate(settings, true), *files = cJSON_CreateObject();
  char *data[NKEYS] = {NULL};
  size_t len[NKEYS] = {0};
  int rc = rq && s && files ? CG_OK : CG_ERR_NOMEM;
  for (size_t i = 0; rc == CG_OK && i < sizeof(env_secrets) / sizeof(env_secrets[0]); i++) {
    const char *var = str(s, env_secrets[i].env);
    char *v = var ? cg_getenv(var) : NULL;
    if (v && *v) { /* the secret travels as the file's bytes; the worker's environment is not the agent's */
      size_t k = 0;
      while (strcmp(file_keys[k], env_secrets[i].file))
        k++;
      data[k] = v;
      len[k] = strlen(v);
      v = NULL;
      cJSON_ReplaceItemInObjectCaseSensitive(s, env_secrets[i].env, cJSON_CreateNull());
    }
    cg_free(v);
  }
  for (size_t k = 0; rc == CG_OK && k < NKEYS; k++) {
    const char *path = str(s, file_keys[k]);
    if (!data[k] && path && *path) {
      int frc = cg_file_read(path, FILE_MAX, &data[k], &len[k]);
      if (frc == CG_ERR_NOMEM) rc = frc; /* one that cannot be read is left as it is: init says so */
    }
    if (data[k]) {
      cJSON_AddNumberToObject(files, file_keys[k], (double)len[k]);
      cJSON_ReplaceItemInObjectCaseSensitive(s, file_keys[k], cJSON_CreateString(file_keys[k]));
    }
  }
  cJSON_AddStringToObject(rq, "output", p->name);
  cJSON_AddItemToObject(rq, "settings", s);
  cJSON_AddItemToObject(rq, "files", files);
  cJSON_AddStringToObject(rq, "log_level", cg_worker_log_level(env));
  char *line = rc == CG_OK ? cJSON_PrintUnformatted(rq) : NULL;
  if (rc == CG_OK && (!line || cg_buf_puts(q, line) != CG_OK || cg_buf_append(q, "\n", 1) != CG_OK)) rc = CG_ERR_NOMEM;
  for (size_t k = 0; k < NKEYS; k++) {
    if (rc == CG_OK && data[k] && cg_buf_append(q, data[k], len[k]) != CG_OK) rc = CG_ERR_NOMEM;
    if (data[k]) OPENSSL_cleanse(data[k], len[k]);
    cg_free(data[k]);
  }
  cJSON_free(line);
  cJSON_Delete(rq);
  return rc;
}

int cg_emit_worker_start(const struct cg_output_plugin *p, const cJSON *settings, const struct cg_env *env,
                         const struct cg_worker_user *u, struct cg_emit_worker **out, char *err, size_t errlen) {
  *out = NULL;
  struct cg_emit_worker *w = cg_calloc(1, sizeof(*w));
  char *wdir = w ? cg_worker_dir(env->config, err, errlen) : NULL, *exe = cg_self_exe();
  intptr_t qr = -1;
  struct cg_buf q;
  cg_buf_init(&q, SETUP_MAX + NKEYS * FILE_MAX);
  int rc = w && wdir && exe ? cg_worker_folder(wdir, u, err, errlen) : CG_ERR_NOMEM;
  if (w) {
    w->rd = w->qw = -1;
    cg_strlcpy(w->output, p->name, sizeof(w->output));
    cg_buf_init(&w->in, LINE_MAX_ + 16384);
  }
  if (rc == CG_OK) {
    remove_stale(wdir);
    rc = setup_request(p, settings, env, &q);
  }
  if (rc == CG_OK) rc = cg_pipe_open(&qr, &w->qw, err, errlen);
  if (rc == CG_OK) {
    const char *argv[] = {exe, "__worker", "emit", NULL}, *envp[12];
    char store[12][1100];
    cg_worker_env(envp, store, 12);
    rc = cg_worker_start(u, wdir, argv, envp, qr, &w->rd, &w->child, err, errlen);
  }
  cg_pipe_close(qr);
  int64_t end = cg_time_mono_ms() + STARTUP_MS;
  if (rc == CG_OK) {
    cg_snprintf(w->own, sizeof(w->own), "%s/emit-%lu", wdir, cg_child_pid(w->child));
    int got = cg_worker_wait_ready(w->rd, end);
    if (got != 0) {
      rc = CG_ERR_IO;
      cg_snprintf(err, errlen, "%s", got == 1 ? "it was not ready in time" : "it ended before it was ready");
    }
  }
  /* its setup (with the files' bytes) once it is confined */
  if (rc == CG_OK && cg_pipe_write_within(w->qw, q.data, q.len, end - cg_time_mono_ms()) != CG_OK) {
    rc = CG_ERR_IO;
    cg_snprintf(err, errlen, "it did not take its settings");
  }
  OPENSSL_cleanse(q.data, q.len);
  cg_buf_free(&q);
  char *line = NULL;
  size_t len = 0;
  if (rc == CG_OK && (rc = take_line(w, end, &line, &len)) != CG_OK)
    cg_snprintf(err, errlen, "it did not say it was ready (%s)", cg_strerror(rc));
  cJSON *ready = line ? cJSON_ParseWithLength(line, len) : NULL;
  cg_free(line);
  if (rc == CG_OK && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ready, "ready"))) {
    rc = CG_ERR_CONFIG;
    char said[300];
    cg_strlcpy(said, str(ready, "error") ? str(ready, "error") : "no reason given", sizeof(said));
    cg_strip_controls(said);
    cg_snprintf(err, errlen, "its output could not be made ready: %s", said);
  }
  if (rc == CG_OK) {
    char who[48];
    cg_snprintf(who, sizeof(who), "%s upload", p->name);
    cg_worker_take_log(env, who, cJSON_GetObjectItemCaseSensitive(ready, "log"));
  }
  cJSON_Delete(ready);
  cg_free(wdir);
  cg_free(exe);
  if (rc != CG_OK) {
    cg_emit_worker_end(w);
    return rc;
  }
  *out = w;
  return CG_OK;
}

bool cg_emit_worker_emit(struct cg_emit_worker *w, const struct cg_env *env, const struct cg_emit_req *req,
                         int64_t limit_ms, struct cg_emit_result *res) {
  int64_t end = cg_time_mono_ms() + (limit_ms > 1000 ? limit_ms : 1000);
  cJSON *rq = cJSON_CreateObject();
  cJSON_AddStringToObject(rq, "name", req->name);
  cJSON_AddStringToObject(rq, "bundle_id", req->bundle_id);
  cJSON_AddStringToObject(rq, "hostname", req->hostname);
  cJSON_AddStringToObject(rq, "created_at", req->created_at);
  cJSON_AddNumberToObject(rq, "bytes", (double)req->gz_len);
  char *text = cJSON_PrintUnformatted(rq);
  cJSON_Delete(rq);
  int rc = text && cg_pipe_write_within(w->qw, text, strlen(text), end - cg_time_mono_ms()) == CG_OK &&
                   cg_pipe_write_within(w->qw, "\n", 1, end - cg_time_mono_ms()) == CG_OK &&
                   cg_pipe_write_within(w->qw, req->gz, req->gz_len, end - cg_time_mono_ms()) == CG_OK
               ? CG_OK
               : CG_ERR_IO;
  cJSON_free(text);
  char *line = NULL;
  size_t len = 0;
  if (rc == CG_OK) rc = take_line(w, end, &line, &len);
  if (rc == CG_OK) rc = cg_emit_take_answer(line, len, env, w->output, res);
  cg_free(line);
  if (rc == CG_OK) return true;
  char why[160];
  if (rc == CG_ERR_TIMEOUT)
    cg_snprintf(why, sizeof(why), "did not answer within %lld ms and was stopped", (long long)limit_ms);
  else if (rc == CG_ERR_PARSE || rc == CG_ERR_TOOBIG)
    cg_snprintf(why, sizeof(why), "gave an answer that is not an outcome, and was stopped");
  else {
    struct cg_child_status st;
    memset(&st, 0, sizeof(st));
    cg_worker_reap(w->child, 1000, &st);
    cg_snprintf(why, sizeof(why), "ended without an answer (%s)", st.text[0] ? st.text : "it is gone");
    cg_strip_controls(why);
  }
  gone(res, w->output, why);
  cg_log_error(env->log, "ship", "%s", res->error);
  return false;
}
