/* SAS URL permissions and expiry (Azure Storage service SAS: sp = permissions, se = expiry). */
#include "sas.h"

#include <string.h>

#define MIN_DAYS_LEFT 30

/* The value of query parameter `name` (not URL-decoded) into out; false when absent. */
bool cg_sas_param(const char *url, const char *name, char *out, size_t outlen) {
  const char *q = strchr(url, '?');
  size_t nl = strlen(name);
  for (const char *p = q; p && *p;) {
    p++;
    if (!strncmp(p, name, nl) && p[nl] == '=') {
      const char *v = p + nl + 1;
      size_t n = strcspn(v, "&#");
      if (n >= outlen) n = outlen - 1;
      memcpy(out, v, n);
      out[n] = '\0';
      return true;
    }
    p = strchr(p, '&');
  }
  return false;
}

/* "2026-12-31T00:00:00Z" or "2026-12-31" (URL-encoded colons allowed) -> ms since the epoch. */
bool cg_sas_expiry(const char *s, int64_t *ms) {
  int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int n = 0;
  const char *p = s;
  for (n = 0; n < 4 && *p >= '0' && *p <= '9'; n++)
    y = y * 10 + (*p++ - '0');
  if (n != 4 || *p++ != '-') return false;
  for (n = 0; n < 2 && *p >= '0' && *p <= '9'; n++)
    mo = mo * 10 + (*p++ - '0');
  if (n != 2 || *p++ != '-') return false;
  for (n = 0; n < 2 && *p >= '0' && *p <= '9'; n++)
    d = d * 10 + (*p++ - '0');
  if (n != 2 || mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  if (*p == 'T') {
    int64_t *f[] = {&h, &mi, &sec};
    p++;
    for (int k = 0; k < 3; k++) {
      for (n = 0; n < 2 && *p >= '0' && *p <= '9'; n++)
        *f[k] = *f[k] * 10 + (*p++ - '0');
      if (n != 2) return false;
      if (k < 2) {
        if (*p == ':')
          p++;
        else if (!strncmp(p, "%3A", 3) || !strncmp(p, "%3a", 3))
          p += 3;
        else
          return false;
      }
    }
  }
  *ms = ((cg_days_from_civil(y, (int)mo, (int)d) * 86400) + h * 3600 + mi * 60 + sec) * 1000;
  return true;
}

int64_t cg_sas_soonest_expiry(const cJSON *outputs) {
  int64_t soonest = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, outputs) {
    const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "sas_url"));
    char se[64];
    int64_t exp;
    if (url && cg_sas_param(url, "se", se, sizeof(se)) && cg_sas_expiry(se, &exp) && (!soonest || exp < soonest))
      soonest = exp;
  }
  return soonest;
}

int cg_sas_check(const char *url, int64_t now_ms, char *warn, size_t warnlen) {
  char sp[64] = "", se[64] = "", extra[64] = "";
  size_t k = 0;
  struct cg_buf b;
  cg_buf_init(&b, 1024);
  if (!cg_sas_param(url, "sig", se, sizeof(se))) {
    cg_buf_puts(&b, "the URL has no SAS signature (sig=)");
  } else {
    se[0] = '\0';
    if (cg_sas_param(url, "sp", sp, sizeof(sp))) {
      for (const char *p = sp; *p && k < sizeof(extra) - 1; p++)
        if (*p != 'c' && *p != 'w' && *p != 'a') extra[k++] = *p;
      extra[k] = '\0';
      if (k)
        cg_buf_printf(&b,
                      "the SAS grants '%s' beyond create/write (sp=%s: r read, l list, d delete, ...): every "
                      "device holds it, so anyone who copies it can %s the container; issue a SAS with sp=cw",
                      extra, sp, strpbrk(extra, "rl") ? "read other devices' bundles from" : "change");
    } else {
      cg_buf_puts(&b, "the SAS does not say its permissions (no sp=; a stored access policy decides them): make "
                      "sure it grants only create and write");
    }
    int64_t exp = 0;
    if (cg_sas_param(url, "se", se, sizeof(se)) && cg_sas_expiry(se, &exp)) {
      int64_t days = (exp - now_ms) / 86400000;
      if (exp <= now_ms)
        cg_buf_printf(&b, "%sthe SAS expired on %.10s: uploads are refused", b.len ? "; " : "", se);
      else if (days < MIN_DAYS_LEFT)
        cg_buf_printf(&b, "%sthe SAS expires on %.10s, in %lld day(s): deploy a new one before then", b.len ? "; " : "",
                      se, (long long)days);
    }
  }
  int rc = b.len ? CG_ERR_CONFIG : CG_OK;
  cg_strlcpy(warn, b.data ? b.data : "", warnlen);
  cg_buf_free(&b);
  return rc;
}
