/* Meaning checks of settings (meaning.h). */
#include "meaning.h"

#include <string.h>

#include "http.h"
#include "platform/sys.h"
#include "redact.h"
#include "sas.h"

/* Splits scheme://host[:port]/...; false when it is not that shape. */
static bool url_parts(const char *u, char *scheme, size_t sl, char *host, size_t hl, bool *port_bad) {
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
  if (colon < end && *colon == ':') { /* a port: 1 to 65535, digits only */
    long port = 0;
    const char *d = colon + 1;
    size_t nd = 0;
    for (; d < end && *d >= '0' && *d <= '9' && nd < 6; d++, nd++)
      port = port * 10 + (*d - '0');
    if (d != end || !nd || port < 1 || port > 65535) {
      *port_bad = true;
      return false;
    }
  }
  for (const char *c = u; *c; c++)
    if ((unsigned char)*c <= ' ') return false;
  return true;
}

static bool check_url(const cJSON *v, bool allow_loopback_http, char *why, size_t len) {
  char scheme[16], host[256];
  const char *u = cJSON_GetStringValue(v);
  bool port_bad = false;
  bool parsed = u && url_parts(u, scheme, sizeof(scheme), host, sizeof(host), &port_bad);
  bool ok = parsed && (!cg_strcasecmp(scheme, "https") ||
                       (!cg_strcasecmp(scheme, "http") && allow_loopback_http && cg_url_is_loopback(u)));
  if (ok) return true;
  char *shown = cg_redact_text(u ? u : ""); /* a password or a SAS in the URL is never repeated */
  char cut[80];
  cg_snprintf(cut, sizeof(cut), "%.60s%s", shown ? shown : "", shown && strlen(shown) > 60 ? "..." : "");
  if (port_bad)
    cg_snprintf(why, len, "\"%s\" has a port that is not a number from 1 to 65535", cut);
  else if (!parsed)
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
  if (strstr(u, "&amp;")) {
    cg_snprintf(why, len,
                "the SAS was HTML-escaped on its way here (it has \"&amp;\" where the URL has \"&\"): copy it again "
                "from the Azure portal or Storage Explorer, or replace each &amp; with &");
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
  if (cg_sas_param(u, "se", se, sizeof(se)) && !cg_sas_expiry(se, &exp)) {
    cg_snprintf(why, len,
                "the SAS's expiry se=%.30s is not a date and time as Azure writes it (2027-01-01T00:00:00Z): the "
                "storage account would refuse every upload; issue a new SAS",
                se);
    return false;
  }
  if (cg_sas_param(u, "se", se, sizeof(se)) && cg_sas_expiry(se, &exp) && exp <= cg_time_utc_ms()) {
    cg_snprintf(why, len, "the SAS expired on %.10s: issue a new one", se);
    return false;
  }
  return true;
}

bool cg_meaning_guid(const cJSON *v, char *why, size_t len) {
  const char *g = cJSON_GetStringValue(v);
  static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  bool ok = g && strlen(g) == sizeof(shape) - 1;
  for (size_t i = 0; ok && shape[i]; i++) {
    char c = g[i];
    ok = shape[i] == '-' ? c == '-' : (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f');
  }
  if (!ok)
    cg_snprintf(why, len,
                "\"%.60s\" is not a tenant ID: write the directory's GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, "
                "as 'dsregcmd /status' shows TenantId), not its domain name",
                g ? g : "");
  return ok;
}

bool cg_meaning_resolve_entries(const cJSON *v, char *why, size_t len) {
  const cJSON *e;
  cJSON_ArrayForEach(e, v) {
    const char *r = cJSON_GetStringValue(e);
    const char *c1 = r ? strchr(r, ':') : NULL, *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    long port = 0;
    const char *d = c1 ? c1 + 1 : NULL;
    size_t nd = 0;
    for (; d && d < c2 && *d >= '0' && *d <= '9' && nd < 6; d++, nd++)
      port = port * 10 + (*d - '0');
    bool ok = c1 && c2 && c1 > r && d == c2 && nd && port >= 1 && port <= 65535 && c2[1] &&
              strspn(c2 + 1, "0123456789abcdefABCDEF.:[],") == strlen(c2 + 1);
    if (!ok) {
      cg_snprintf(why, len, "\"%.80s\" is not HOST:PORT:ADDRESS (a port from 1 to 65535, an IP address)",
                  r ? r : "(not a string)");
      return false;
    }
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

bool cg_cmg_url_has_mp_id(const char *url) {
  static const char *const kinds[] = {"/CCM_Proxy_MutualAuth/", "/CCM_Proxy_ServerAuth/"};
  for (const char *p = url; p && *p; p++)
    for (size_t i = 0; i < CG_ARRAY_LEN(kinds); i++)
      if (cg_str_startswith_ci(p, kinds[i]) && p[strlen(kinds[i])] >= '0' && p[strlen(kinds[i])] <= '9') return true;
  return false;
}

void cg_cmg_url_warning(const char *url, char *out, size_t len) {
  char *shown = cg_redact_text(url);
  cg_snprintf(out, len,
              "the CMG URL %.120s has no management point id: the probe can then only show that the CMG is "
              "reachable (CMG_REACHABLE_UNPROVEN), and the pre-upgrade gate's cmg-usable and cmg-answers cannot pass. "
              "Use the URL from the client's MP list, https://CMG/CCM_Proxy_MutualAuth/<MP id> ('cmgdiag check "
              "mpcandidates' shows it), or leave checks.cmgprobe.url unset: the probe then takes the CMGs from the "
              "client's MP list",
              shown ? shown : url);
  cg_free(shown);
}
