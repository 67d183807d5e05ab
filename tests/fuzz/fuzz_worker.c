/* libFuzzer: the answer an unprivileged worker sends back to the agent's privileged process
 * (pipeline/worker.c: a check's result, a request to the agent; pipeline/emit_worker.c: an upload's
 * outcome): after a compromise of the worker, its bytes are the attacker's. */
#include <stdint.h>
#include <string.h>

#include "discovery.h"
#include "emit_worker.h"
#include "log.h"
#include "worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool controls(const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; s && *c; c++)
    if ((*c < 0x20 && *c != '\t' && *c != '\n') || *c == 0x7f) return true;
  return false;
}

static bool json_controls(const cJSON *j, int depth) {
  for (const cJSON *c = j && depth < 64 ? j->child : NULL; c; c = c->next)
    if ((cJSON_IsString(c) && controls(c->valuestring)) || json_controls(c, depth + 1)) return true;
  return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the first byte picks the check whose worker answers: cmgprobe (hand-overs) or content */
  const struct cg_check_plugin *p = cg_registry_find_check(size && (data[0] & 1) ? "content" : "cmgprobe");
  struct cg_log log = {.level = CG_LOG_DEBUG, .capture = cJSON_CreateArray()}; /* the lines it writes */
  struct cg_env env = {.log = &log, .discovery = cJSON_CreateObject()};
  struct cg_result res;
  if (p && cg_worker_take_answer(p, &env, (const char *)data, size, &res) == CG_OK) {
    if (json_controls(res.facts, 0) || json_controls(env.discovery, 0) ||
        cJSON_GetArraySize(log.capture) > CG_LOG_CAPTURE_MAX)
      __builtin_trap();
    /* what the agent keeps is a result of the shape of one, with nothing that drives a terminal */
    if (!res.code || strspn(res.code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(res.code) ||
        controls(res.summary) || controls(res.remediation) || controls(res.detail) ||
        cJSON_GetObjectItemCaseSensitive(res.facts, "worker") || strlen(res.summary) > 4096)
      __builtin_trap();
    for (const cJSON *k = env.discovery->child; k; k = k->next) {
      bool declared = false;
      for (size_t i = 0; p->provides && p->provides[i]; i++)
        declared |= !strcmp(p->provides[i], k->string);
      if (!declared) __builtin_trap();
    }
    cg_result_free(&res);
  }
  /* the same bytes as an upload's outcome: a known outcome, numbers in range, a clean sentence */
  struct cg_emit_result er;
  if (cg_emit_take_answer((const char *)data, size, &env, "http", &er) == CG_OK) {
    if ((int)er.outcome < CG_EMIT_DELIVERED || er.outcome > CG_EMIT_REJECTED || er.http_status < 0 ||
        er.http_status > 999 || er.retry_after_ms < -1 || er.retry_after_ms > 86400000 ||
        !memchr(er.error, 0, sizeof(er.error)) || controls(er.error) ||
        cJSON_GetArraySize(log.capture) > 2 * CG_LOG_CAPTURE_MAX)
      __builtin_trap();
  }
  /* the same bytes as a request to the agent (cg_ask_agent): a name of its size, an object asked */
  char name[1201];
  cJSON *asked = NULL;
  int64_t want = -1;
  if (cg_worker_ask_take((const char *)data, size, name, sizeof(name), &asked, &want) == CG_OK) {
    if (!memchr(name, 0, sizeof(name)) || !name[0] || !cJSON_IsObject(asked) || want < 0 || want >= 86400000)
      __builtin_trap();
  } else if (asked) {
    __builtin_trap();
  }
  cJSON_Delete(asked);
  cJSON_Delete(env.discovery);
  cJSON_Delete(log.capture);
  return 0;
}
