/* Events when a verdict changes (see verdict_events.h). */
#include "verdict_events.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "platform/fs.h"
#include "platform/service.h"

#define STATE_FILE "verdicts.json"
#define STATE_MAX (256 * 1024)

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static cJSON *load(const char *path, struct cg_log *log) {
  char *text = NULL;
  size_t len = 0;
  int rc = cg_file_read(path, STATE_MAX, &text, &len);
  cJSON *j = rc == CG_OK ? cJSON_ParseWithLength(text, len) : NULL;
  cg_free(text);
  if (rc == CG_OK && !cJSON_IsObject(j))
    cg_log_warn(log, "events", "%s is not the agent's verdict record; it starts again", path);
  if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    j = cJSON_CreateObject();
  }
  if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "checks"))) {
    cJSON_DeleteItemFromObjectCaseSensitive(j, "checks");
    cJSON_AddObjectToObject(j, "checks");
  }
  return j;
}

static void check_event(const struct cg_env *env, const struct cg_result *r, const char *was) {
  static const int ids[] = {CG_EVENT_CHECK_PASS, CG_EVENT_CHECK_WARN, CG_EVENT_CHECK_FAIL, CG_EVENT_CHECK_SKIP,
                            CG_EVENT_CHECK_ERROR};
  int type = r->status == CG_FAIL ? 2 : r->status == CG_WARN || r->status == CG_ERROR ? 1 : 0;
  /* an administrator reads the event: the sentence, then its technical detail */
  char *said = r->detail ? cg_asprintf("%s Detail: %s", r->summary ? r->summary : "", r->detail) : NULL;
  const char *s[5] = {r->check, cg_verdict_name(r->status), was, r->code ? r->code : "",
                      said         ? said
                      : r->summary ? r->summary
                                   : ""};
  cg_event_report((unsigned)ids[r->status], type, s, 5);
  cg_log_info(env->log, "events", "event %d: check %s is now %s (was %s): %s [%s]", ids[r->status], s[0], s[1], was,
              s[4], s[3]);
  cg_free(said);
}

/* Why, for the device's event: the root cause; with warnings only (no root cause), the checks that
 * warn and their codes. */
static void overall_why(const struct cg_cycle *c, const cJSON *diag, char *out, size_t len) {
  const char *why = str(diag, "why");
  if (why) {
    cg_strlcpy(out, why, len);
    return;
  }
  size_t at = 0;
  out[0] = '\0';
  for (size_t i = 0; i < c->n && at + 1 < len; i++) {
    const struct cg_result *r = &c->rs[i];
    if (r->status == CG_PASS || r->status == CG_SKIP) continue;
    at += (size_t)snprintf(out + at, len - at, "%s%s %s (%s)", at ? "; " : "", r->check, cg_verdict_name(r->status),
                           r->code ? r->code : "");
  }
  if (!out[0]) cg_strlcpy(out, "(none)", len);
}

static void overall_event(const struct cg_env *env, const struct cg_cycle *c, const char *now, const char *was) {
  const cJSON *diag = cJSON_GetObjectItemCaseSensitive(c->bundle, "diagnosis");
  const char *step = str(diag, "first_step"), *id = str(c->bundle, "bundle_id");
  char why[1024];
  overall_why(c, diag, why, sizeof(why));
  bool fail = !strcmp(now, "fail"), warn = !strcmp(now, "warn");
  int ev = fail ? CG_EVENT_OVERALL_FAIL : warn ? CG_EVENT_OVERALL_WARN : CG_EVENT_OVERALL_PASS;
  const char *s[5] = {now, was, why, step ? step : "see the events of the checks, or run cmgdiag selftest",
                      id ? id : ""};
  cg_event_report((unsigned)ev, fail ? 2 : warn ? 1 : 0, s, 5);
  cg_log_info(env->log, "events", "event %d: the device is now %s (was %s); why: %s", ev, now, was, why);
}

/* Readiness for an in-place upgrade changed: a warning at most (nothing is broken; the upgrade waits). */
static void readiness_event(const struct cg_env *env, const struct cg_cycle *c, const char *now, const char *was) {
  const cJSON *r = NULL;
  for (size_t i = 0; i < c->n && !r; i++)
    r = cJSON_GetObjectItemCaseSensitive(c->rs[i].facts, "readiness");
  const char *what = str(r, "summary"), *step = str(r, "remediation"), *id = str(c->bundle, "bundle_id");
  bool fail = !strcmp(now, "fail"), warn = !strcmp(now, "warn");
  int ev = fail ? CG_EVENT_READINESS_FAIL : warn ? CG_EVENT_READINESS_WARN : CG_EVENT_READINESS_PASS;
  const char *s[5] = {now, was, what && *what ? what : "ready", step ? step : "", id ? id : ""};
  cg_event_report((unsigned)ev, fail || warn ? 1 : 0, s, 5);
  cg_log_info(env->log, "events", "event %d: readiness for an in-place upgrade is now %s (was %s): %s", ev, now, was,
              s[2]);
}

void cg_verdict_events(const struct cg_env *env, const struct cg_cycle *c, bool whole) {
  const char *dir = env->config->state_dir;
  char *path = dir ? cg_path_join(dir, STATE_FILE) : NULL;
  if (!path || !c->bundle) {
    cg_free(path);
    return;
  }
  cJSON *st = load(path, env->log), *checks = cJSON_GetObjectItemCaseSensitive(st, "checks");
  for (size_t i = 0; i < c->n; i++) {
    const struct cg_result *r = &c->rs[i];
    char now[160], was[160];
    cg_snprintf(now, sizeof(now), "%s %s", cg_verdict_name(r->status), r->code ? r->code : "");
    const char *last = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(checks, r->check));
    cg_strlcpy(was, last ? last : "unknown (first result)", sizeof(was));
    bool changed = last ? strcmp(last, now) != 0 : r->status != CG_PASS && r->status != CG_SKIP;
    if (changed) check_event(env, r, was);
    cJSON_DeleteItemFromObjectCaseSensitive(checks, r->check);
    cJSON_AddStringToObject(checks, r->check, now);
  }
  const char *overall = str(c->bundle, "overall"), *last = str(st, "overall");
  if (whole && overall) {
    if (last ? strcmp(last, overall) != 0 : strcmp(overall, "pass") != 0)
      overall_event(env, c, overall, last ? last : "unknown (first result)");
    cJSON_DeleteItemFromObjectCaseSensitive(st, "overall");
    cJSON_AddStringToObject(st, "overall", overall);
  }
  const char *ready = str(c->bundle, "readiness"), *last_ready = str(st, "readiness");
  if (whole && ready) {
    if (last_ready ? strcmp(last_ready, ready) != 0 : strcmp(ready, "pass") != 0)
      readiness_event(env, c, ready, last_ready ? last_ready : "unknown (first result)");
    cJSON_DeleteItemFromObjectCaseSensitive(st, "readiness");
    cJSON_AddStringToObject(st, "readiness", ready);
  }
  char *text = cJSON_PrintUnformatted(st), err[512] = "";
  if (text && (cg_dir_ensure_private(dir, err, sizeof(err)) != CG_OK ||
               cg_file_write_atomic(path, text, strlen(text), err, sizeof(err)) != CG_OK))
    cg_log_warn(env->log, "events", "cannot record the verdicts: %s", err);
  cJSON_free(text);
  cJSON_Delete(st);
  cg_free(path);
}
