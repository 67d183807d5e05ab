/* Parser of the LocalMachine\My capture (see certjson.h). */
#include "certjson.h"

#include <string.h>

#include <cjson/cJSON.h>

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
  return true;
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
