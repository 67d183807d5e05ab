/* One cycle (see cycle.h). */
#include "cycle.h"

#include <string.h>

#include "bundle.h"
#include "log.h"
#include "platform/runtime.h"
#include "platform/sys.h"
#include "platform/wmi.h"
#include "verdict_events.h"

static bool has_outputs(const struct cg_config *cfg) {
  return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cfg->root, "outputs")) > 0;
}

/* The bundle into the spool; its file name into c->spool_name. */
static void spool_bundle(const struct cg_env *env, struct cg_cycle *c) {
  const struct cg_config *cfg = env->config;
  char *gz = NULL;
  size_t len = 0;
  const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->bundle, "bundle_id"));
  const char *created = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->bundle, "created_at"));
  const char *host = cJSON_GetStringValue(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->bundle, "device"), "hostname"));
  if (cg_bundle_gzip(c->bundle, (int)cfg->delivery.gzip_level, &gz, &len) != CG_OK) {
    cg_snprintf(c->error, sizeof(c->error), "the bundle could not be compressed");
    return;
  }
  int64_t now = cg_time_utc_ms();
  if (cg_spool_put(&c->sp, id, now, created, host, gz, len, c->error, sizeof(c->error)) == CG_OK) {
    c->spooled = true;
    cg_snprintf(c->spool_name, sizeof(c->spool_name), "%013lld-%s.json.gz", (long long)now, id);
    cg_log_info(env->log, "spool", "spooled bundle %s (%zu bytes gzip)", id, len);
  } else {
    cg_log_error(env->log, "spool", "bundle %s could not be spooled: %s", id, c->error);
  }
  cg_free(gz);
}

/* The last result where CMPivot, hardware inventory and a Configuration Baseline read it:
 * HKLM\SOFTWARE\cmgdiag\LastResult (docs/operations.md). Only with administrator rights. */
static void publish_last_result(const struct cg_env *env, const struct cg_cycle *c) {
  const cJSON *b = c->bundle, *diag = cJSON_GetObjectItemCaseSensitive(b, "diagnosis");
  const cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(diag, "root_causes"), 0);
  cJSON *v = cJSON_CreateObject();
  static const char *const keys[][2] = {{"Overall", "overall"},
                                        {"Readiness", "readiness"},
                                        {"Time", "created_at"},
                                        {"BundleId", "bundle_id"},
                                        {"Trigger", "trigger"}};
  for (size_t i = 0; v && i < CG_ARRAY_LEN(keys); i++) {
    const char *x = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, keys[i][1]));
    cJSON_AddStringToObject(v, keys[i][0], x ? x : ""); /* Readiness: "" when the device check did not run */
  }
  cJSON_AddStringToObject(v, "Version", CMGDIAG_VERSION);
  const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(top, "code"));
  cJSON_AddStringToObject(v, "RootCause", code ? code : "");
  const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(diag, "why"));
  cJSON_AddStringToObject(v, "Why", why ? why : "");
  for (size_t i = 0; v && i < c->n; i++) { /* one value per check: "fail CMG_CRL_UNREACHABLE" */
    char line[160];
    cg_snprintf(line, sizeof(line), "%s %s", cg_verdict_name(c->rs[i].status), c->rs[i].code ? c->rs[i].code : "");
    char name[64];
    cg_snprintf(name, sizeof(name), "Check_%s", c->rs[i].check);
    cJSON_AddStringToObject(v, name, line);
  }
  int rc = v ? cg_registry_replace_hklm(CG_LAST_RESULT_KEY, v) : CG_ERR_NOMEM;
  if (rc != CG_OK && rc != CG_ERR_UNSUPPORTED)
    cg_log_debug(env->log, "cycle", "the last result was not written to HKLM\\%s: %s", CG_LAST_RESULT_KEY,
                 cg_strerror(rc));
  cJSON_Delete(v);
}

int cg_cycle_run(const struct cg_env *env, const struct cg_cycle_opts *o, struct cg_cycle *c, char *err,
                 size_t errlen) {
  const struct cg_config *cfg = env->config;
  int64_t pending = 0, bytes = 0;
  memset(c, 0, sizeof(*c));
  if (o->spool) {
    c->spool_ok = cg_spool_open(&c->sp, cfg->spool.dir, cfg->spool.max_bytes, cfg->spool.max_files, env->log, c->error,
                                sizeof(c->error)) == CG_OK;
    if (c->spool_ok)
      cg_spool_count(&c->sp, &pending, &bytes);
    else
      cg_log_error(env->log, "spool", "%s", c->error);
  }
  int rc = cg_run_checks(env, o->only, o->deadline_ms, o->backoff, &c->rs, &c->n, err, errlen);
  if (rc != CG_OK || cg_stop_requested()) return rc; /* an interrupted cycle makes no bundle */
  c->bundle = cg_bundle_build(env, o->trigger, o->ticket, c->rs, c->n, pending, c->spool_ok ? c->sp.dropped_total : 0);
  if (!c->bundle) {
    cg_snprintf(c->error, sizeof(c->error), "out of memory building the bundle");
    return CG_OK;
  }
  /* A run of some checks only (--only, served or not) is partial: it says so, lists what it ran,
   * and never becomes the device's state (LastResult, the overall event, the report's verdict). */
  if (c->bundle) {
    cJSON_AddBoolToObject(c->bundle, "partial", o->only != NULL);
    cJSON *req = cJSON_AddArrayToObject(c->bundle, "checks_requested");
    for (size_t i = 0; req && o->only && i < c->n; i++)
      cJSON_AddItemToArray(req, cJSON_CreateString(c->rs[i].check));
  }
  if (c->bundle && o->bundle_hook) o->bundle_hook(c->bundle, o->hook_user);
  if (!o->only) publish_last_result(env, c);
  if (strcmp(o->trigger, "validate") != 0) cg_verdict_events(env, c, o->only == NULL);
  if (c->spool_ok) spool_bundle(env, c);
  if (!c->spooled || o->drain_budget_ms <= 0 || !has_outputs(cfg) || cg_stop_requested()) return CG_OK;
  if (cg_shipper_open(&c->sh, env, &c->sp, c->error, sizeof(c->error)) != CG_OK) {
    cg_log_error(env->log, "ship", "cannot ship: %s", c->error);
    return CG_OK;
  }
  cg_shipper_drain(c->sh, o->this_bundle_first ? c->spool_name : NULL, o->drain_budget_ms, cfg->delivery.max_bundles,
                   &c->drain);
  c->drained = true;
  return CG_OK;
}

void cg_cycle_free(struct cg_cycle *c) {
  cg_shipper_close(c->sh);
  cg_results_free(c->rs, c->n);
  cJSON_Delete(c->bundle);
  if (c->spool_ok) cg_spool_close(&c->sp);
  memset(c, 0, sizeof(*c));
}
