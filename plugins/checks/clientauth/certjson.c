/* Parser of the LocalMachine\My capture (see certjson.h). */
#include "certjson.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "platform/sys.h"

bool clientauth_parse_date(const char *s, int64_t *ms) { return cg_time_parse(s, ms); }

static const cJSON *get_ci(const cJSON *o, const char *key) {
  for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
    if (c->string && cg_strcasecmp(c->string, key) == 0) return c;
  return NULL;
}

static void copy_str(const cJSON *o, const char *key, char *out, size_t outlen) {
  const char *v = cJSON_GetStringValue(get_ci(o, key));
  cg_strlcpy(out, v ? v : "", outlen);
}

static void add_eku(struct cg_cert_info *ci, const cJSON *e) {
  const char *oid = cJSON_IsString(e) ? e->valuestring : cJSON_GetStringValue(get_ci(e, "ObjectId"));
  if (oid && *oid && ci->n_ekus < CG_CERT_MAX_EKUS) cg_strlcpy(ci->ekus[ci->n_ekus++], oid, sizeof(ci->ekus[0]));
}

static bool one(const cJSON *o, struct cg_cert_info *ci, char *err, size_t errlen) {
  memset(ci, 0, sizeof(*ci));
  ci->chain = -1;
  ci->has_private_key = -1;
  if (!cJSON_IsObject(o) || !cJSON_IsString(get_ci(o, "Thumbprint"))) {
    cg_snprintf(err, errlen, "an entry has no Thumbprint: not the output of Get-ChildItem Cert:\\LocalMachine\\My");
    return false;
  }
  copy_str(o, "Subject", ci->subject, sizeof(ci->subject));
  copy_str(o, "Issuer", ci->issuer, sizeof(ci->issuer));
  copy_str(o, "Thumbprint", ci->thumbprint, sizeof(ci->thumbprint));
  for (char *t = ci->thumbprint; *t; t++)
    if (*t >= 'a' && *t <= 'z') *t = (char)(*t - 32);
  const char *nb = cJSON_GetStringValue(get_ci(o, "NotBefore")), *na = cJSON_GetStringValue(get_ci(o, "NotAfter"));
  if (!clientauth_parse_date(nb, &ci->not_before_ms) || !clientauth_parse_date(na, &ci->not_after_ms)) {
    cg_snprintf(err, errlen, "certificate %.40s: NotBefore/NotAfter are not dates", ci->thumbprint);
    return false;
  }
  /* the SAN's DNS names: DnsNameList (objects with Unicode, or strings) or a SAN text */
  const cJSON *dn = get_ci(o, "DnsNameList"), *x;
  if (cJSON_IsString(dn) || cJSON_IsObject(dn)) {
    const char *v = cJSON_IsString(dn) ? dn->valuestring : cJSON_GetStringValue(get_ci(dn, "Unicode"));
    cg_strlcpy(ci->sans, v ? v : "", sizeof(ci->sans));
  }
  const cJSON *names = cJSON_IsArray(dn) ? dn : NULL;
  cJSON_ArrayForEach(x, names) {
    const char *v = cJSON_IsString(x) ? x->valuestring : cJSON_GetStringValue(get_ci(x, "Unicode"));
    size_t l = strlen(ci->sans);
    if (v && *v) cg_snprintf(ci->sans + l, sizeof(ci->sans) - l, "%s%s", l ? ", " : "", v);
  }
  if (!ci->sans[0]) copy_str(o, "SAN", ci->sans, sizeof(ci->sans));
  const cJSON *k = get_ci(o, "HasPrivateKey");
  if (cJSON_IsBool(k)) ci->has_private_key = cJSON_IsTrue(k) ? 1 : 0;
  const cJSON *e = get_ci(o, "EnhancedKeyUsageList");
  if (cJSON_IsArray(e)) {
    const cJSON *x;
    cJSON_ArrayForEach(x, e) add_eku(ci, x);
  } else if (e && !cJSON_IsNull(e)) {
    add_eku(ci, e);
  }
  /* the chain as Windows built it on the device (clientauth_certs_write; no PowerShell capture has it) */
  const cJSON *ch = get_ci(o, "CmgdiagChain"), *t = get_ci(ch, "Trusted");
  if (cJSON_IsBool(t)) {
    ci->chain = cJSON_IsTrue(t) ? 0 : 1;
    copy_str(ch, "Error", ci->chain_error, sizeof(ci->chain_error));
    copy_str(ch, "Root", ci->root, sizeof(ci->root));
  }
  return true;
}

char *clientauth_certs_write(const struct cg_cert_info *certs, size_t count) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < count; i++) {
    const struct cg_cert_info *ci = &certs[i];
    cJSON *o = cJSON_CreateObject();
    char nb[40], na[40];
    cg_time_rfc3339(ci->not_before_ms, nb, sizeof(nb));
    cg_time_rfc3339(ci->not_after_ms, na, sizeof(na));
    cJSON_AddStringToObject(o, "Subject", ci->subject);
    cJSON_AddStringToObject(o, "Issuer", ci->issuer);
    cJSON_AddStringToObject(o, "Thumbprint", ci->thumbprint);
    cJSON_AddStringToObject(o, "NotBefore", nb);
    cJSON_AddStringToObject(o, "NotAfter", na);
    if (ci->has_private_key >= 0) cJSON_AddBoolToObject(o, "HasPrivateKey", ci->has_private_key == 1);
    cJSON *ekus = cJSON_AddArrayToObject(o, "EnhancedKeyUsageList");
    for (size_t k = 0; k < ci->n_ekus && k < CG_CERT_MAX_EKUS; k++)
      cJSON_AddItemToArray(ekus, cJSON_CreateString(ci->ekus[k]));
    if (ci->sans[0]) cJSON_AddStringToObject(o, "SAN", ci->sans);
    if (ci->chain >= 0) {
      cJSON *ch = cJSON_AddObjectToObject(o, "CmgdiagChain");
      cJSON_AddBoolToObject(ch, "Trusted", ci->chain == 0);
      cJSON_AddStringToObject(ch, "Error", ci->chain_error);
      cJSON_AddStringToObject(ch, "Root", ci->root);
    }
    cJSON_AddItemToArray(a, o);
  }
  char *text = a ? cJSON_Print(a) : NULL;
  cJSON_Delete(a);
  char *out = text ? cg_strdup(text) : NULL;
  cJSON_free(text);
  return out;
}

int clientauth_certs_parse(const char *text, struct cg_cert_info **certs, size_t *count, char *err, size_t errlen) {
  *certs = NULL;
  *count = 0;
  const char *p = text;
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  if (!*p) return CG_OK; /* ConvertTo-Json of an empty store writes nothing */
  cJSON *j = cJSON_Parse(p);
  if (!j || !(cJSON_IsObject(j) || cJSON_IsArray(j) || cJSON_IsNull(j))) {
    cg_snprintf(err, errlen, "not JSON from ConvertTo-Json (it starts with \"%.24s\")", p);
    cJSON_Delete(j);
    return CG_ERR_PARSE;
  }
  int n = cJSON_IsArray(j) ? cJSON_GetArraySize(j) : cJSON_IsObject(j) ? 1 : 0;
  if (n > CG_CERT_MAX) {
    cg_snprintf(err, errlen, "more than %d certificates", CG_CERT_MAX);
    cJSON_Delete(j);
    return CG_ERR_TOOBIG;
  }
  struct cg_cert_info *out = n ? cg_calloc((size_t)n, sizeof(*out)) : NULL;
  int rc = n && !out ? CG_ERR_NOMEM : CG_OK;
  size_t k = 0;
  if (rc == CG_OK && cJSON_IsObject(j)) {
    rc = one(j, &out[k++], err, errlen) ? CG_OK : CG_ERR_PARSE;
  } else if (rc == CG_OK) {
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
      if (!one(c, &out[k++], err, errlen)) {
        rc = CG_ERR_PARSE;
        break;
      }
    }
  }
  cJSON_Delete(j);
  if (rc != CG_OK) {
    cg_free(out);
    return rc;
  }
  *certs = out;
  *count = k;
  return CG_OK;
}
