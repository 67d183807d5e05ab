/* Requests to the agent (plugin.h, cg_ask_agent; docs/security.md, "Requests to the agent"): what a
 * check's judging half asks the agent's privileged process to make for it, the worker's side and the
 * agent's, over the worker's standard input and output (worker.h). */
#include <string.h>

#include "runner.h"
#include "worker.h"
#include "platform/child.h"
#include "platform/sys.h"

/* ---- requests to the agent (plugin.h, cg_ask_agent), from the worker --------------------------------
 * The worker writes one line {"ask", "asked", "left_ms"} on its standard output; the agent answers on
 * its standard input with one line {"rc", "facts", "bytes"} and then that many bytes. */

static int read_exact(char *out, size_t n, int64_t end) {
  size_t got = 0;
  while (got < n) {
    int64_t left = end - cg_time_mono_ms();
    long r = left > 0 ? cg_pipe_read(0, out + got, n - got, left < 1000 ? left : 1000) : -2;
    if (r == 0 || r == -2) return CG_ERR_IO;
    if (r > 0) got += (size_t)r;
  }
  return CG_OK;
}

int cg_worker_ask(const struct cg_env *env, const char *name, const cJSON *asked, int64_t left_ms,
                  struct cg_agent_answer *out) {
  (void)env;
  cJSON *q = cJSON_CreateObject();
  cJSON_AddStringToObject(q, "ask", name);
  cJSON_AddItemToObject(q, "asked", asked ? cJSON_Duplicate(asked, true) : cJSON_CreateObject());
  cJSON_AddNumberToObject(q, "left_ms", (double)left_ms);
  char *line = cJSON_PrintUnformatted(q);
  cJSON_Delete(q);
  size_t len = line ? strlen(line) : 0;
  int rc = !line ? CG_ERR_NOMEM : len >= CG_AGENT_ASK_MAX ? CG_ERR_TOOBIG : CG_OK;
  if (rc == CG_OK) rc = cg_pipe_write(1, line, len);
  if (rc == CG_OK) rc = cg_pipe_write(1, "\n", 1);
  cJSON_free(line);
  /* the answer: its line a byte at a time (so that no byte of what follows is taken), then its bytes */
  int64_t end = cg_time_mono_ms() + left_ms + 10000;
  struct cg_buf b;
  cg_buf_init(&b, 1u << 20);
  char c = 0;
  while (rc == CG_OK && (rc = read_exact(&c, 1, end)) == CG_OK && c != '\n')
    if (cg_buf_append(&b, &c, 1) != CG_OK) rc = CG_ERR_TOOBIG;
  cJSON *a = rc == CG_OK && b.data ? cJSON_ParseWithLength(b.data, b.len) : NULL;
  cg_buf_free(&b);
  if (rc == CG_OK && !a) rc = CG_ERR_PARSE;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "bytes");
  size_t n = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= CG_AGENT_ANSWER_MAX ? (size_t)v->valuedouble
                                                                                               : SIZE_MAX;
  if (rc == CG_OK && n == SIZE_MAX) rc = CG_ERR_PARSE;
  if (rc == CG_OK && !(out->bytes = cg_malloc(n + 1))) rc = CG_ERR_NOMEM;
  if (rc == CG_OK && (rc = read_exact(out->bytes, n, end)) == CG_OK) {
    out->bytes[n] = '\0';
    out->len = n;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(a, "facts");
    out->facts = cJSON_IsObject(f) ? cJSON_Duplicate(f, true) : cJSON_CreateObject();
    v = cJSON_GetObjectItemCaseSensitive(a, "rc");
    rc = cJSON_IsNumber(v) ? (int)v->valuedouble : CG_ERR_PARSE;
  }
  if (rc != CG_OK) cg_agent_answer_free(out);
  cJSON_Delete(a);
  return rc;
}

int cg_worker_ask_take(const char *line, size_t len, char *name, size_t namelen, cJSON **asked, int64_t *want_ms) {
  *asked = NULL;
  *want_ms = 0;
  name[0] = '\0';
  cJSON *q = len < CG_AGENT_ASK_MAX ? cJSON_ParseWithLength(line, len) : NULL;
  const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "ask"));
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(q, "asked"), *l = cJSON_GetObjectItemCaseSensitive(q, "left_ms");
  bool ok = n && *n && strlen(n) < namelen && strlen(n) <= 1200 && cJSON_IsObject(a);
  if (ok) {
    cg_strlcpy(name, n, namelen);
    *asked = cJSON_Duplicate(a, true);
    *want_ms = cJSON_IsNumber(l) && l->valuedouble > 0 && l->valuedouble < 86400000.0 ? (int64_t)l->valuedouble : 0;
  }
  cJSON_Delete(q);
  return ok && *asked ? CG_OK : CG_ERR_PARSE;
}

/* One request of the worker's to the agent (its line, without the newline): made by env->ask (the
 * collection's: only what the check's collect half allowed, once), answered on the worker's input. */
int cg_worker_serve_ask(const struct cg_env *env, intptr_t qw, const char *line, size_t len, int64_t end) {
  char name[1201];
  cJSON *asked = NULL;
  int64_t want = 0, left = end - cg_time_mono_ms();
  int rc = cg_worker_ask_take(line, len, name, sizeof(name), &asked, &want);
  if (want && want < left) left = want;
  struct cg_agent_answer a;
  memset(&a, 0, sizeof(a));
  if (rc == CG_OK) rc = env->ask(env, name, asked, left, &a);
  cJSON *r = cJSON_CreateObject();
  cJSON_AddNumberToObject(r, "rc", rc);
  if (a.facts) cJSON_AddItemToObject(r, "facts", cJSON_Duplicate(a.facts, true));
  cJSON_AddNumberToObject(r, "bytes", rc == CG_OK ? (double)a.len : 0);
  char *text = cJSON_PrintUnformatted(r);
  left = end - cg_time_mono_ms();
  int wrc = text ? cg_pipe_write_within(qw, text, strlen(text), left > 0 ? left : 1) : CG_ERR_NOMEM;
  if (wrc == CG_OK) wrc = cg_pipe_write_within(qw, "\n", 1, left > 0 ? left : 1);
  if (wrc == CG_OK && rc == CG_OK && a.len) wrc = cg_pipe_write_within(qw, a.bytes, a.len, left > 0 ? left : 1);
  cJSON_free(text);
  cJSON_Delete(r);
  cJSON_Delete(asked);
  cg_agent_answer_free(&a);
  return wrc;
}
