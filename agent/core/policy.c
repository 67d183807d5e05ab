/* Group Policy and `setup` values (policy.h). */
#include "policy.h"

#include <string.h>

#include "config.h"
#include "platform/wmi.h"
#include "plugin.h"

/* Objects merge key by key; anything else replaces. */
static void merge_into(cJSON *dst, const cJSON *src) {
  for (const cJSON *c = src->child; c; c = c->next) {
    cJSON *d = cJSON_GetObjectItemCaseSensitive(dst, c->string);
    if (d && cJSON_IsObject(d) && cJSON_IsObject(c)) {
      merge_into(d, c);
    } else {
      cJSON_DeleteItemFromObjectCaseSensitive(dst, c->string);
      cJSON_AddItemToObject(dst, c->string, cJSON_Duplicate(c, true));
    }
  }
}

static cJSON *obj_at(cJSON *root, const char *a, const char *b) {
  cJSON *o = cJSON_GetObjectItemCaseSensitive(root, a);
  if (!cJSON_IsObject(o)) {
    cJSON_DeleteItemFromObjectCaseSensitive(root, a);
    o = cJSON_AddObjectToObject(root, a);
  }
  if (!b || !o) return o;
  cJSON *p = cJSON_GetObjectItemCaseSensitive(o, b);
  if (!cJSON_IsObject(p)) {
    cJSON_DeleteItemFromObjectCaseSensitive(o, b);
    p = cJSON_AddObjectToObject(o, b);
  }
  return p;
}

static void set_item(cJSON *obj, const char *key, cJSON *v) {
  if (!obj || !v) {
    cJSON_Delete(v);
    return;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
  cJSON_AddItemToObject(obj, key, v);
}

int cg_policy_set(cJSON *root, const char *policy, const char *value) {
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++)
    for (const struct cg_policy_value *pv = (*p)->policy_values; pv && pv->policy; pv++)
      if (!strcmp(pv->policy, policy)) {
        set_item(obj_at(root, "checks", (*p)->name), pv->key, cJSON_CreateString(value));
        return CG_OK;
      }
  for (const struct cg_output_plugin *const *p = cg_registry_outputs(); *p; p++)
    for (const struct cg_policy_value *pv = (*p)->policy_values; pv && pv->policy; pv++)
      if (!strcmp(pv->policy, policy)) {
        cJSON *outs = cJSON_CreateArray(), *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", (*p)->name);
        cJSON_AddStringToObject(o, pv->key, value);
        cJSON_AddItemToArray(outs, o);
        set_item(root, "outputs", outs);
        return CG_OK;
      }
  return CG_ERR_NOTFOUND;
}

/* One policy value: the core's own, or one a plugin declares. */
static int apply_value(cJSON *root, const char *name, const cJSON *val, char *err, size_t errlen) {
  bool is_num = cJSON_IsNumber(val), is_str = cJSON_IsString(val);
  const char *want = "REG_SZ";
  if (!strcmp(name, "ConfigJson") && is_str) {
    cJSON *j = cJSON_Parse(val->valuestring);
    bool ok = cJSON_IsObject(j);
    if (ok) merge_into(root, j);
    cJSON_Delete(j);
    if (ok) return CG_OK;
    cg_snprintf(err, errlen, "policy HKLM\\%s\\ConfigJson: not a JSON object ({ ... })", CG_POLICY_KEY);
    return CG_ERR_CONFIG;
  }
  if (!strcmp(name, "IntervalSeconds") || !strcmp(name, "JitterSeconds")) {
    want = "REG_DWORD";
    if (is_num) {
      set_item(root, name[0] == 'I' ? "interval_s" : "jitter_s", cJSON_CreateNumber(val->valuedouble));
      return CG_OK;
    }
  } else if (!strcmp(name, "LogLevel")) {
    if (is_str) {
      set_item(obj_at(root, "log", NULL), "level", cJSON_CreateString(val->valuestring));
      return CG_OK;
    }
  } else if (is_str && cg_policy_set(root, name, val->valuestring) == CG_OK) {
    return CG_OK;
  }
  cg_snprintf(err, errlen, "policy HKLM\\%s\\%s has the wrong type (want %s)", CG_POLICY_KEY, name, want);
  return CG_ERR_CONFIG;
}

static int apply_name(cJSON *root, const char *name, char *applied, size_t applied_len, char *err, size_t errlen) {
  cJSON *val = NULL;
  if (cg_registry_read_hklm(CG_POLICY_KEY, name, &val) != CG_OK) return CG_OK;
  int rc = apply_value(root, name, val, err, errlen);
  cJSON_Delete(val);
  if (rc != CG_OK) return rc;
  size_t l = strlen(applied);
  cg_snprintf(applied + l, applied_len - l, "%s%s", l ? ", " : "", name);
  return CG_OK;
}

/* Group Policy (HKLM\SOFTWARE\Policies\cmgdiag) overrides the file: ConfigJson is merged over it
 * first, then the single values win: the core's, then those the plugins declare (policy_values).
 * Errors name the policy value. No-op off Windows. */
int cg_policy_apply(cJSON *root, char *applied, size_t applied_len, char *err, size_t errlen) {
  static const char *const core_names[] = {"ConfigJson", "IntervalSeconds", "JitterSeconds", "LogLevel"};
  int rc = CG_OK;
  for (size_t i = 0; i < CG_ARRAY_LEN(core_names) && rc == CG_OK; i++)
    rc = apply_name(root, core_names[i], applied, applied_len, err, errlen);
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p && rc == CG_OK; p++)
    for (const struct cg_policy_value *pv = (*p)->policy_values; pv && pv->policy && rc == CG_OK; pv++)
      rc = apply_name(root, pv->policy, applied, applied_len, err, errlen);
  for (const struct cg_output_plugin *const *p = cg_registry_outputs(); *p && rc == CG_OK; p++)
    for (const struct cg_policy_value *pv = (*p)->policy_values; pv && pv->policy && rc == CG_OK; pv++)
      rc = apply_name(root, pv->policy, applied, applied_len, err, errlen);
  return rc;
}
