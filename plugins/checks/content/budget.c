/* The content check's egress budget (budget.h). */
#include "budget.h"

#include <string.h>

#include "config.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/sys.h"

#define STATE_FILE "content-state.json"

static void this_month(char out[8]) {
  char now[40];
  cg_time_rfc3339(cg_time_utc_ms(), now, sizeof(now));
  cg_snprintf(out, 8, "%.7s", now);
}

static int64_t num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Bytes spent this calendar month (UTC): the count starts again with each month. */
static int64_t month_bytes(const struct content_budget *b) {
  char m[8];
  this_month(m);
  const char *have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b->state, "month"));
  return have && !strcmp(have, m) ? num(b->state, "bytes_month") : 0;
}

void content_budget_load(struct content_budget *b, const struct cg_env *env) {
  char *data = NULL;
  size_t len = 0;
  b->path = env->config && env->config->state_dir ? cg_path_join(env->config->state_dir, STATE_FILE) : NULL;
  if (b->path && cg_file_read(b->path, 1024 * 1024, &data, &len) == CG_OK) b->state = cJSON_ParseWithLength(data, len);
  cg_free(data);
  if (!cJSON_IsObject(b->state)) {
    cJSON_Delete(b->state);
    b->state = cJSON_CreateObject();
  }
}

bool content_budget_may_measure(const struct content_budget *b, const struct cg_env *env, int64_t bytes, char *why,
                                size_t whylen) {
  const char *t = env->trigger ? env->trigger : "check";
  int64_t now = cg_time_utc_ms(), last = num(b->state, "measured_ms"), age_s = last ? (now - last) / 1000 : -1;
  int64_t spent = month_bytes(b), budget = b->budget_mb_month * 1024 * 1024;
  why[0] = '\0';
  if (!strcmp(t, "network_change")) {
    cg_snprintf(why, whylen, "a network change never downloads the test object");
    return false;
  }
  bool scheduled = !strcmp(t, "schedule") || !strcmp(t, "once");
  if (scheduled && last && age_s >= 0 && age_s < b->interval_s) {
    cg_snprintf(why, whylen, "scheduled cycles download the test object once every %lld days",
                (long long)(b->interval_s / 86400 ? b->interval_s / 86400 : 1));
    return false;
  }
  if (!strcmp(t, "validate") && last && age_s >= 0 && age_s < b->max_age_s) {
    cg_snprintf(why, whylen, "the gate reuses a measurement younger than %lld hours",
                (long long)(b->max_age_s / 3600 ? b->max_age_s / 3600 : 1));
    return false;
  }
  if (spent + bytes > budget) {
    cg_snprintf(why, whylen, "this month's content budget (%lld MB per device) is spent",
                (long long)b->budget_mb_month);
    return false;
  }
  return true;
}

void content_budget_spent(struct content_budget *b, const struct cg_env *env, int64_t bytes,
                          const struct cg_result *res) {
  char m[8];
  this_month(m);
  int64_t spent = month_bytes(b) + bytes;
  cJSON *s = cJSON_CreateObject(), *r = cg_result_to_json(res);
  cJSON_AddNumberToObject(s, "measured_ms", (double)cg_time_utc_ms());
  cJSON_AddStringToObject(s, "month", m);
  cJSON_AddNumberToObject(s, "bytes_month", (double)spent);
  if (r) cJSON_AddItemToObject(s, "result", r);
  cJSON_Delete(b->state);
  b->state = s;
  char *text = cJSON_PrintUnformatted(s), err[300] = "";
  if (b->path && text && cg_mkdirs(env->config->state_dir) == CG_OK &&
      cg_file_write_atomic(b->path, text, strlen(text), err, sizeof(err)) != CG_OK)
    cg_log_warn(env->log, "content", "cannot save %s: %s", STATE_FILE, err);
  cJSON_free(text);
}

bool content_budget_reuse(const struct content_budget *b, const char *why, struct cg_result *res) {
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(b->state, "result");
  const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "status"));
  const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "code"));
  const char *sum = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "summary"));
  const char *rem = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "remediation"));
  int64_t last = num(b->state, "measured_ms");
  if (!st || !code || !sum || !last) return false;
  enum cg_verdict v = !strcmp(st, "pass")   ? CG_PASS
                      : !strcmp(st, "warn") ? CG_WARN
                      : !strcmp(st, "fail") ? CG_FAIL
                                            : CG_SKIP;
  int64_t age_h = (cg_time_utc_ms() - last) / 3600000;
  char at[40];
  cg_time_rfc3339(last, at, sizeof(at));
  /* the facts of then, marked as such */
  const cJSON *f;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(r, "facts")) {
    if (!cJSON_GetObjectItemCaseSensitive(res->facts, f->string))
      cJSON_AddItemToObject(res->facts, f->string, cJSON_Duplicate(f, true));
  }
  cJSON_AddBoolToObject(res->facts, "reused", true);
  cJSON_AddStringToObject(res->facts, "measured_at", at);
  cJSON_AddNumberToObject(res->facts, "measurement_age_h", (double)age_h);
  size_t l = strlen(sum);
  return cg_result_set(res, v, code, v == CG_PASS ? NULL : rem, "%.*s (measured %lld hour%s ago, at %s: %s).",
                       (int)(l && sum[l - 1] == '.' ? l - 1 : l), sum, (long long)age_h, age_h == 1 ? "" : "s", at,
                       why) == CG_OK;
}

void content_budget_facts(const struct content_budget *b, cJSON *facts) {
  cJSON *o = cJSON_AddObjectToObject(facts, "egress");
  cJSON_AddNumberToObject(o, "bytes_this_month", (double)month_bytes(b));
  cJSON_AddNumberToObject(o, "budget_mb_month", (double)b->budget_mb_month);
  cJSON_AddNumberToObject(o, "interval_s", (double)b->interval_s);
}

void content_budget_free(struct content_budget *b) {
  cJSON_Delete(b->state);
  cg_free(b->path);
  memset(b, 0, sizeof(*b));
}
