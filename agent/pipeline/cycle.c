/* One cycle (see cycle.h). */
#include "cycle.h"

#include <string.h>

#include "bundle.h"
#include "log.h"
#include "platform/fs.h"
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

/* What a fleet view shows of a device: when it is the same as in the last bundle shipped, a scheduled
 * cycle need not ship again before heartbeat_s (docs/operations.md, "What ships, and when"). */
static uint64_t mix(uint64_t h, const char *s) {
  for (const char *q = s; q && *q; q++)
    h = (h ^ (unsigned char)*q) * 1099511628211ULL;
  return (h ^ '|') * 1099511628211ULL;
}

static const char *sv(const cJSON *o, const char *k) {
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
  return v ? v : "";
}

static uint64_t state_fingerprint(const cJSON *b) {
  uint64_t h = 1469598103934665603ULL;
  char part[512];
  const cJSON *r;
  h = mix(h, sv(b, "overall"));
  h = mix(h, sv(b, "readiness"));
  h = mix(h, sv(cJSON_GetObjectItemCaseSensitive(b, "agent"), "version"));
  h = mix(h, sv(cJSON_GetObjectItemCaseSensitive(b, "device"), "cmg_host"));
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(b, "checks")) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(r, "facts");
    const cJSON *days = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f, "tls"), "days_to_expiry");
    cg_snprintf(part, sizeof(part), "%s:%s:%s:%lld", sv(r, "check"), sv(r, "status"), sv(r, "code"),
                cJSON_IsNumber(days) ? (long long)days->valuedouble : -1LL);
    h = mix(h, part);
  }
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "diagnosis"),
                                                         "root_causes")) h = mix(h, sv(r, "code"));
  return h;
}

/* Whether a scheduled cycle ships: its state changed since the last shipped bundle, or heartbeat_s
 * went by. *fp gets the state's fingerprint (to record once it is spooled). */
static bool worth_shipping(const struct cg_env *env, const struct cg_cycle_opts *o, const cJSON *b, char fp[24]) {
  cg_snprintf(fp, 24, "%016llx", (unsigned long long)state_fingerprint(b));
  const char *t = o->trigger ? o->trigger : "";
  bool scheduled = !strcmp(t, "schedule") || !strcmp(t, "once") || !strcmp(t, "network_change");
  if (!scheduled || env->config->heartbeat_s <= 0 || !env->config->state_dir) return true;
  char *path = cg_path_join(env->config->state_dir, "shipped.json"), *data = NULL;
  size_t len = 0;
  cJSON *s = path && cg_file_read(path, 4096, &data, &len) == CG_OK ? cJSON_ParseWithLength(data, len) : NULL;
  const char *last = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "fingerprint"));
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(s, "shipped_ms");
  int64_t age = cJSON_IsNumber(at) ? cg_time_utc_ms() - (int64_t)at->valuedouble : -1;
  bool ship = !last || strcmp(last, fp) != 0 || age < 0 || age >= env->config->heartbeat_s * 1000;
  cJSON_Delete(s);
  cg_free(data);
  cg_free(path);
  return ship;
}

static void note_shipped(const struct cg_env *env, const char *fp) {
  if (!env->config->state_dir) return;
  char *path = cg_path_join(env->config->state_dir, "shipped.json"), err[300] = "";
  char *text = cg_asprintf("{\"fingerprint\": \"%s\", \"shipped_ms\": %lld}", fp, (long long)cg_time_utc_ms());
  if (path && text && cg_mkdirs(env->config->state_dir) == CG_OK &&
      cg_file_write_atomic(path, text, strlen(text), err, sizeof(err)) != CG_OK)
    cg_log_warn(env->log, "cycle", "cannot record the shipped state: %s", err);
  cg_free(text);
  cg_free(path);
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
  if (c->bundle) cg_bundle_heavy_last(c->bundle); /* the small members first: what a report reads of most */
  /* a snapshot judged here is another device, or this one earlier: never this device's state */
  if (!o->only && !env->snapshot) publish_last_result(env, c);
  if (strcmp(o->trigger, "validate") != 0 && !env->snapshot) cg_verdict_events(env, c, o->only == NULL);
  char fp[24];
  if (c->spool_ok && !worth_shipping(env, o, c->bundle, fp)) {
    c->unchanged = true;
    cg_log_info(env->log, "cycle",
                "the device's state has not changed since the last bundle shipped: not shipped "
                "again before heartbeat_s (%lld s)",
                (long long)cfg->heartbeat_s);
  } else if (c->spool_ok) {
    spool_bundle(env, c);
    if (c->spooled) note_shipped(env, fp);
  }
  /* older bundles still leave when this one stays (a device back online) */
  if ((!c->spooled && !c->unchanged) || o->drain_budget_ms <= 0 || !has_outputs(cfg) || cg_stop_requested())
    return CG_OK;
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
