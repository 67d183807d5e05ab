/* Proxy selection; see proxy.h. */
#include "proxy.h"

#include <string.h>

#include "platform/netcfg.h"
#include "platform/sys.h"

void cg_url_host(const char *url, char *host, size_t hostlen, char *scheme, size_t schemelen) {
  const char *p = strstr(url, "://");
  if (scheme) cg_snprintf(scheme, schemelen, "%.*s", p ? (int)(p - url) : 0, url);
  if (scheme)
    for (char *s = scheme; *s; s++)
      if (*s >= 'A' && *s <= 'Z') *s = (char)(*s + 32);
  p = p ? p + 3 : url;
  const char *at = strchr(p, '@'), *end = p + strcspn(p, "/?#");
  if (at && at < end) p = at + 1;
  size_t n;
  if (*p == '[') {
    p++;
    n = strcspn(p, "]");
  } else {
    n = strcspn(p, ":/?#");
  }
  cg_snprintf(host, hostlen, "%.*s", (int)n, p);
  for (char *s = host; *s; s++)
    if (*s >= 'A' && *s <= 'Z') *s = (char)(*s + 32);
}

void cg_proxy_redact(const char *proxy, char *out, size_t outlen) {
  const char *p = strstr(proxy, "://"), *start = p ? p + 3 : proxy;
  const char *at = strchr(start, '@'), *end = start + strcspn(start, "/?#");
  if (at && at < end)
    cg_snprintf(out, outlen, "%.*s%s", (int)(start - proxy), proxy, at + 1);
  else
    cg_strlcpy(out, proxy, outlen);
}

bool cg_proxy_pick(const char *list, const char *scheme, char *out, size_t outlen) {
  char plain[512] = "", match[512] = "";
  const char *p = list ? list : "";
  while (*p) {
    while (*p == ';' || *p == ' ' || *p == '\t')
      p++;
    size_t n = strcspn(p, "; \t");
    if (!n) break;
    char item[512];
    cg_snprintf(item, sizeof(item), "%.*s", (int)n, p);
    p += n;
    char *eq = strchr(item, '=');
    if (eq) {
      *eq = '\0';
      if (!match[0] && cg_strcasecmp(item, scheme) == 0) cg_strlcpy(match, eq + 1, sizeof(match));
    } else if (!plain[0]) {
      cg_strlcpy(plain, item, sizeof(plain));
    }
  }
  const char *chosen = match[0] ? match : plain;
  if (!*chosen) return false;
  if (strstr(chosen, "://"))
    cg_strlcpy(out, chosen, outlen);
  else
    cg_snprintf(out, outlen, "http://%s", chosen);
  return true;
}

/* '*' matches any run of characters. */
static bool wild(const char *pat, const char *s) {
  for (; *pat; pat++, s++) {
    if (*pat == '*') {
      while (*pat == '*')
        pat++;
      if (!*pat) return true;
      for (; *s; s++)
        if (wild(pat, s)) return true;
      return false;
    }
    char a = *pat, b = *s;
    if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
    if (b >= 'A' && b <= 'Z') b = (char)(b + 32);
    if (!b || a != b) return false;
  }
  return !*s;
}

bool cg_proxy_bypassed(const char *bypass, const char *host) {
  const char *p = bypass ? bypass : "";
  while (*p) {
    while (*p == ';' || *p == ' ' || *p == '\t' || *p == ',')
      p++;
    size_t n = strcspn(p, "; \t,");
    if (!n) break;
    char item[256];
    cg_snprintf(item, sizeof(item), "%.*s", (int)(n < 255 ? n : 255), p);
    p += n;
    if (cg_strcasecmp(item, "<local>") == 0) {
      if (!strchr(host, '.')) return true;
      continue;
    }
    /* "http://host" entries: only the host part counts here. */
    char *sch = strstr(item, "://");
    const char *pat = sch ? sch + 3 : item;
    if (wild(pat, host)) return true;
  }
  return false;
}

static void set(struct cg_proxy_choice *o, const char *proxy, const char *source, const char *detail) {
  cg_strlcpy(o->proxy, proxy, sizeof(o->proxy));
  cg_strlcpy(o->source, source, sizeof(o->source));
  cg_proxy_redact(proxy, o->shown, sizeof(o->shown));
  if (detail) cg_strlcpy(o->detail, detail, sizeof(o->detail));
}

/* The environment as libcurl reads it (POSIX; on Windows only when nothing else is set). */
static bool from_env(const char *scheme, const char *host, struct cg_proxy_choice *o) {
  char name[32];
  cg_snprintf(name, sizeof(name), "%s_proxy", scheme);
  const char *names[] = {name, NULL, "all_proxy", "ALL_PROXY"};
  char upper[32];
  cg_strlcpy(upper, name, sizeof(upper));
  for (char *s = upper; *s; s++)
    if (*s >= 'a' && *s <= 'z') *s = (char)(*s - 32);
  names[1] = upper;
  for (size_t i = 0; i < CG_ARRAY_LEN(names); i++) {
    char *v = cg_getenv(names[i]);
    if (v && *v) {
      char *np = cg_getenv("no_proxy");
      if (!np) np = cg_getenv("NO_PROXY");
      bool by = np && (strcmp(np, "*") == 0 || cg_proxy_bypassed(np, host));
      if (!by) {
        char d[128];
        cg_snprintf(d, sizeof(d), "from %s", names[i]);
        set(o, v, "environment", d);
      } else {
        set(o, "", "environment", "no_proxy lists the host");
      }
      cg_free(np);
      cg_free(v);
      return true;
    }
    cg_free(v);
  }
  return false;
}

int cg_proxy_resolve_with(const char *configured, const char *url, int64_t timeout_ms, const struct cg_proxy_config *wh,
                          const struct cg_proxy_config *ie, bool windows, struct cg_proxy_choice *out) {
  char host[256], scheme[16], err[256] = "", pick[512];
  memset(out, 0, sizeof(*out));
  cg_url_host(url ? url : "", host, sizeof(host), scheme, sizeof(scheme));
  if (!scheme[0]) cg_strlcpy(scheme, "https", sizeof(scheme));
  if (configured && *configured) {
    if (cg_strcasecmp(configured, "direct") == 0)
      set(out, "", "config", "proxy \"direct\" in the configuration");
    else
      set(out, configured, "config", "proxy in the configuration");
    return CG_OK;
  }
  if (!windows) {
    out->curl_default = true;
    if (!from_env(scheme, host, out)) set(out, "", "none", "no https_proxy / all_proxy in the environment");
    return CG_OK;
  }
  if (wh && wh->proxy && !cg_proxy_bypassed(wh->bypass, host) && cg_proxy_pick(wh->proxy, scheme, pick, sizeof(pick))) {
    set(out, pick, "winhttp_default", "the WinHTTP default proxy (netsh winhttp)");
    return CG_OK;
  }
  if (ie && (ie->auto_detect || ie->auto_config_url)) {
    char *p = NULL;
    unsigned long we = 0;
    int prc = cg_net_proxy_for_url(url, ie->auto_detect, ie->auto_config_url, timeout_ms, &p, &we, err, sizeof(err));
    const char *src = ie->auto_config_url ? "wininet_pac" : "wininet_wpad";
    bool picked = prc == CG_OK && p && cg_proxy_pick(p, scheme, pick, sizeof(pick));
    cg_free(p);
    if (picked) {
      set(out, pick, src, ie->auto_config_url ? "the proxy script (PAC) of this account" : "WPAD");
      return CG_OK;
    }
    if (prc == CG_OK) {
      set(out, "", src, "the proxy script says DIRECT");
      return CG_OK;
    }
    cg_strlcpy(out->detail, err, sizeof(out->detail)); /* then the static proxy, as WinHTTP falls back */
  }
  if (ie && ie->proxy && !cg_proxy_bypassed(ie->bypass, host) && cg_proxy_pick(ie->proxy, scheme, pick, sizeof(pick))) {
    set(out, pick, "wininet_static", out->detail[0] ? NULL : "the Internet Options proxy of this account");
    return CG_OK;
  }
  char keep[384];
  cg_strlcpy(keep, out->detail, sizeof(keep));
  if (!from_env(scheme, host, out)) set(out, "", "direct", keep[0] ? keep : "no proxy is configured for this account");
  return CG_OK;
}

int cg_proxy_resolve(const char *configured, const char *url, int64_t timeout_ms, struct cg_proxy_choice *out) {
  struct cg_proxy_config wh, ie;
  char err[256];
  if (configured && *configured) return cg_proxy_resolve_with(configured, url, timeout_ms, NULL, NULL, false, out);
  int wrc = cg_net_winhttp_default(&wh, err, sizeof(err));
  if (wrc == CG_ERR_UNSUPPORTED) return cg_proxy_resolve_with(NULL, url, timeout_ms, NULL, NULL, false, out);
  int irc = cg_net_ie_current(&ie, err, sizeof(err));
  int rc =
      cg_proxy_resolve_with(NULL, url, timeout_ms, wrc == CG_OK ? &wh : NULL, irc == CG_OK ? &ie : NULL, true, out);
  cg_proxy_config_free(&wh);
  cg_proxy_config_free(&ie);
  return rc;
}

void cg_proxy_facts(cJSON *facts, const struct cg_proxy_choice *c) {
  if (c->shown[0]) cJSON_AddStringToObject(facts, "proxy", c->shown);
  cJSON *u = cJSON_AddObjectToObject(facts, "proxy_used");
  if (c->shown[0])
    cJSON_AddStringToObject(u, "proxy", c->shown);
  else
    cJSON_AddNullToObject(u, "proxy");
  cJSON_AddStringToObject(u, "source", c->source);
  if (c->detail[0]) cJSON_AddStringToObject(u, "detail", c->detail);
}

cJSON *cg_proxy_choice_to_json(const struct cg_proxy_choice *c) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "proxy", c->proxy);
  cJSON_AddBoolToObject(o, "curl_default", c->curl_default);
  cJSON_AddStringToObject(o, "source", c->source);
  cJSON_AddStringToObject(o, "shown", c->shown);
  cJSON_AddStringToObject(o, "detail", c->detail);
  return o;
}

static void choice_text(const cJSON *o, const char *key, char *out, size_t len) {
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  cg_strlcpy(out, v ? v : "", len);
}

bool cg_proxy_choice_from_json(const cJSON *o, struct cg_proxy_choice *c) {
  if (!cJSON_IsObject(o)) return false;
  memset(c, 0, sizeof(*c));
  choice_text(o, "proxy", c->proxy, sizeof(c->proxy));
  c->curl_default = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "curl_default"));
  choice_text(o, "source", c->source, sizeof(c->source));
  choice_text(o, "shown", c->shown, sizeof(c->shown));
  choice_text(o, "detail", c->detail, sizeof(c->detail));
  return true;
}
