/* The per-run hand-over store (discovery.h): typed values, kept as JSON under their keys. */
#include "discovery.h"

#include <string.h>

static int put(const struct cg_env *env, const char *key, cJSON *value) {
  if (!env->discovery || !value) {
    cJSON_Delete(value);
    return value ? CG_OK : CG_ERR_NOMEM;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(env->discovery, key);
  cJSON_AddItemToObject(env->discovery, key, value);
  return CG_OK;
}

static const cJSON *get(const struct cg_env *env, const char *key) {
  return env->discovery ? cJSON_GetObjectItemCaseSensitive(env->discovery, key) : NULL;
}

static void copy(char *out, size_t len, const cJSON *o, const char *key) {
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  cg_strlcpy(out, v ? v : "", len);
}

int cg_handover_put_aad(const struct cg_env *env, const struct cg_handover_aad *v) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "join_type", v->join_type);
  cJSON_AddItemToObject(o, "entra_usable",
                        v->entra_usable < 0 ? cJSON_CreateNull() : cJSON_CreateBool(v->entra_usable));
  cJSON_AddStringToObject(o, "tenant_id", v->tenant_id);
  cJSON_AddStringToObject(o, "code", v->code);
  cJSON_AddStringToObject(o, "reason", v->reason);
  return put(env, CG_DISCOVERY_AAD_STATE, o);
}

bool cg_handover_get_aad(const struct cg_env *env, struct cg_handover_aad *out) {
  const cJSON *o = get(env, CG_DISCOVERY_AAD_STATE);
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "entra_usable");
  memset(out, 0, sizeof(*out));
  out->entra_usable = cJSON_IsBool(u) ? cJSON_IsTrue(u) : -1;
  copy(out->join_type, sizeof(out->join_type), o, "join_type");
  copy(out->tenant_id, sizeof(out->tenant_id), o, "tenant_id");
  copy(out->code, sizeof(out->code), o, "code");
  copy(out->reason, sizeof(out->reason), o, "reason");
  return cJSON_IsObject(o);
}

int cg_handover_put_auth(const struct cg_env *env, const struct cg_handover_auth *v) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "mode", v->mode);
  cJSON_AddBoolToObject(o, "usable", v->usable);
  cJSON_AddStringToObject(o, "confidence", v->recorded ? "recorded" : "inferred");
  if (v->thumbprint[0]) cJSON_AddStringToObject(o, "thumbprint", v->thumbprint);
  return put(env, CG_DISCOVERY_AUTH_MODE, o);
}

bool cg_handover_get_auth(const struct cg_env *env, struct cg_handover_auth *out) {
  const cJSON *o = get(env, CG_DISCOVERY_AUTH_MODE);
  memset(out, 0, sizeof(*out));
  copy(out->mode, sizeof(out->mode), o, "mode");
  copy(out->thumbprint, sizeof(out->thumbprint), o, "thumbprint");
  out->usable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "usable"));
  const char *conf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "confidence"));
  out->recorded = conf && !strcmp(conf, "recorded");
  return cJSON_IsObject(o);
}

int cg_handover_put_cmg_urls(const struct cg_env *env, const struct cg_handover_cmg_urls *v) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < v->count && i < CG_HANDOVER_MAX_URLS; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(v->url[i]));
  return put(env, CG_DISCOVERY_CMG_URLS, a);
}

bool cg_handover_get_cmg_urls(const struct cg_env *env, struct cg_handover_cmg_urls *out) {
  const cJSON *a = get(env, CG_DISCOVERY_CMG_URLS), *u;
  memset(out, 0, sizeof(*out));
  cJSON_ArrayForEach(u, a) {
    if (cJSON_IsString(u) && out->count < CG_HANDOVER_MAX_URLS)
      cg_strlcpy(out->url[out->count++], u->valuestring, sizeof(out->url[0]));
  }
  return cJSON_IsArray(a);
}

int cg_handover_put_proxy(const struct cg_env *env, const struct cg_handover_proxy *v) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "proxy", v->proxy[0] ? cJSON_CreateString(v->proxy) : cJSON_CreateNull());
  cJSON_AddStringToObject(o, "source", v->source);
  if (v->detail[0]) cJSON_AddStringToObject(o, "detail", v->detail);
  return put(env, CG_DISCOVERY_CMG_PROXY, o);
}

bool cg_handover_get_proxy(const struct cg_env *env, struct cg_handover_proxy *out) {
  const cJSON *o = get(env, CG_DISCOVERY_CMG_PROXY);
  memset(out, 0, sizeof(*out));
  copy(out->proxy, sizeof(out->proxy), o, "proxy");
  copy(out->source, sizeof(out->source), o, "source");
  copy(out->detail, sizeof(out->detail), o, "detail");
  return cJSON_IsObject(o);
}

int cg_handover_put_cmg_date(const struct cg_env *env, const char *date) {
  return put(env, CG_DISCOVERY_CMG_DATE, cJSON_CreateString(date));
}

/* An HTTP date (RFC 9110: "Mon, 07 Dec 2026 10:00:00 GMT" and its older forms): letters, digits,
 * spaces, commas, colons and dashes; anything else is not handed on (the checks parse it). */
bool cg_handover_get_cmg_date(const struct cg_env *env, char *out, size_t outlen) {
  const char *v = cJSON_GetStringValue(get(env, CG_DISCOVERY_CMG_DATE));
  bool ok = v && *v && strlen(v) < 64 &&
            strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ,:-") == strlen(v);
  cg_strlcpy(out, ok ? v : "", outlen);
  return ok;
}

int cg_handover_put_metered(const struct cg_env *env, bool metered) {
  return put(env, CG_DISCOVERY_METERED, cJSON_CreateBool(metered));
}

bool cg_handover_get_metered(const struct cg_env *env, bool *out) {
  const cJSON *v = get(env, CG_DISCOVERY_METERED);
  *out = cJSON_IsTrue(v);
  return cJSON_IsBool(v);
}
