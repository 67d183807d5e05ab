/* Meaning checks of settings (meaning.h). */
#include "meaning.h"

#include <string.h>

#include "http.h"
#include "platform/sys.h"
#include "redact.h"
#include "sas.h"

/* Splits scheme://host[:port]/...; false when it is not that shape. */
static bool url_parts(const char *u, char *scheme, size_t sl, char *host, size_t hl) {
  const char *p = strstr(u, "://");
  if (!p || p == u || (size_t)(p - u) >= sl) return false;
  memcpy(scheme, u, (size_t)(p - u));
  scheme[p - u] = '\0';
  const char *h = p + 3, *end = h + strcspn(h, "/?#");
  const char *at = memchr(h, '@', (size_t)(end - h));
  if (at) h = at + 1; /* user information: not part of the host (and never shown) */
  const char *colon = h;
  if (*h == '[') {
    colon = strchr(h, ']');
    if (!colon || colon > end) return false;
    colon++;
  } else {
    while (colon < end && *colon != ':')
      colon++;
  }
  if (colon == h || (size_t)(colon - h) >= hl) return false;
  memcpy(host, h, (size_t)(colon - h));
  host[colon - h] = '\0';
  for (const char *c = u; *c; c++)
    if ((unsigned char)*c <= ' ') return false;
  return true;
}

static bool check_url(const cJSON *v, bool allow_loopback_http, char *why, size_t len) {
  char scheme[16], host[256];
  const char *u = cJSON_GetStringValue(v);
  bool parsed = u && url_parts(u, scheme, sizeof(scheme), host, sizeof(host));
  bool ok = parsed && (!cg_strcasecmp(scheme, "https") ||
                       (!cg_strcasecmp(scheme, "http") && allow_loopback_http && cg_url_is_loopback(u)));
  if (ok) return true;
  char *shown = cg_redact_text(u ? u : ""); /* a password or a SAS in the URL is never repeated */
  char cut[80];
  cg_snprintf(cut, sizeof(cut), "%.60s%s", shown ? shown : "", shown && strlen(shown) > 60 ? "..." : "");
  if (!parsed)
    cg_snprintf(why, len, "\"%s\" is not a URL; write https://NAME/...", cut);
  else
    cg_snprintf(why, len, "\"%s\" is %s://, not https:// (TLS is required%s)", cut, scheme,
                allow_loopback_http ? "; http:// only to a loopback address" : "");
  cg_free(shown);
  return false;
}

bool cg_meaning_https_url(const cJSON *v, char *why, size_t len) { return check_url(v, false, why, len); }

bool cg_meaning_https_or_loopback(const cJSON *v, char *why, size_t len) { return check_url(v, true, why, len); }

bool cg_meaning_https_urls(const cJSON *v, char *why, size_t len) {
  const cJSON *e;
  cJSON_ArrayForEach(e, v) if (!check_url(e, false, why, len)) return false;
  return true;
}

bool cg_meaning_upload_sas(const cJSON *v, char *why, size_t len) {
  if (!check_url(v, true, why, len)) return false;
  const char *u = v->valuestring;
  char sp[64], se[64];
  const char *path = strstr(u, "://") + 3;
  path += strcspn(path, "/?");
  if (*path != '/' || path[1] == '?' || !path[1]) {
    cg_snprintf(why, len, "the URL names no container: write https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS");
    return false;
  }
  if (!cg_sas_param(u, "sig", sp, sizeof(sp))) {
    cg_snprintf(why, len, "the URL has no SAS (no sig=): create a container SAS with create and write permission");
    return false;
  }
  if (cg_sas_param(u, "sp", sp, sizeof(sp)) && !strchr(sp, 'c') && !strchr(sp, 'w')) {
    cg_snprintf(why, len,
                "the SAS grants sp=%s, neither create nor write: uploads would be refused; issue a SAS with "
                "sp=cw",
                sp);
    return false;
  }
  int64_t exp;
  if (cg_sas_param(u, "se", se, sizeof(se)) && cg_sas_expiry(se, &exp) && exp <= cg_time_utc_ms()) {
    cg_snprintf(why, len, "the SAS expired on %.10s: issue a new one", se);
    return false;
  }
  return true;
}

bool cg_meaning_absolute_path(const cJSON *v, char *why, size_t len) {
  const char *p = cJSON_GetStringValue(v);
  bool abs = p && (p[0] == '/' ||
                   (((p[0] | 32) >= 'a' && (p[0] | 32) <= 'z') && p[1] == ':' && (p[2] == '\\' || p[2] == '/')) ||
                   (p[0] == '\\' && p[1] == '\\'));
  if (!abs) cg_snprintf(why, len, "\"%.60s\" is not an absolute path; write the full path", p ? p : "");
  return abs;
}

bool cg_meaning_absolute_program(const cJSON *v, char *why, size_t len) {
  const cJSON *prog = cJSON_GetArrayItem(v, 0);
  if (!cJSON_IsString(prog) || !*prog->valuestring) {
    cg_snprintf(why, len, "the first element is the program to run (its full path)");
    return false;
  }
  if (!cg_meaning_absolute_path(prog, why, len)) {
    cg_snprintf(why, len,
                "the program \"%.60s\" is not a full path; commands run without a shell or PATH search, "
                "so write it in full (C:\\Tools\\check.exe)",
                prog->valuestring);
    return false;
  }
  return true;
}
