/* The `netenv` check: the network as SYSTEM sees it. Proxies (WinHTTP default, WinINET of SYSTEM
 * and of signed-in users, PAC / WPAD for the CMG URL, the environment off Windows), reachability
 * of the Entra endpoints a device token needs through SYSTEM's proxy, the TLS 1.2 policy, and the
 * clock against the Date of HTTPS answers. --input takes a folder of `reg export` files and
 * captured `netsh winhttp show proxy` text instead of the live reads. */
#include <stddef.h>
#include <string.h>

#include <curl/curl.h>

#include "discovery.h"
#include "findings.h"
#include "http.h"
#include "log.h"
#include "netparse.h"
#include "platform/fs.h"
#include "platform/netcfg.h"
#include "platform/sys.h"
#include "platform/wmi.h"
#include "meaning.h"
#include "plugin.h"
#include "proxy.h"
#include "proxychoice.h"
#include "regfile.h"
#include "text.h"

#define INPUT_MAX (4 * 1024 * 1024)
#define MAX_USERS 8

struct ne_state;

struct ne_ctx {
  char *proxy, *ca_file;
  struct cg_strlist endpoints, resolve, root_update_urls;
  int64_t timeout_ms, clock_warn_s, clock_fail_s;
  struct ne_state *st; /* working state: made by init, filled by the capture or the device, freed by fini */
};

static const struct cg_config_map ne_map[] = {
    {CG_CFG_STRLIST, "endpoints",
     "[\"https://login.microsoftonline.com/\",\"https://device.login.microsoftonline.com/\","
     "\"https://enterpriseregistration.windows.net/\"]",
     "Entra endpoints a device token needs; each must answer over verified TLS through SYSTEM's proxy",
     offsetof(struct ne_ctx, endpoints), 0, 0, NULL, NULL},
    {CG_CFG_STRLIST, "root_update_urls",
     "[\"http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab\"]",
     "Where Windows downloads trusted roots and their lists on demand (plain HTTP, signed content); SYSTEM must "
     "reach it or a CMG certificate whose root is not yet on the device is refused; [] to skip",
     offsetof(struct ne_ctx, root_update_urls), 0, 0, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "5000", "Deadline of one endpoint request (and of a PAC evaluation)",
     offsetof(struct ne_ctx, timeout_ms), 500, 60000, NULL, NULL},
    {CG_CFG_STRING, "proxy", "null",
     "Proxy URL or \"direct\" for the endpoint requests; null: the proxy SYSTEM would use "
     "(docs/checks/netenv.md)",
     offsetof(struct ne_ctx, proxy), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "ca_file", "null", "Extra trusted roots (PEM) on top of the platform store",
     offsetof(struct ne_ctx, ca_file), 0, 0, NULL, NULL},
    {CG_CFG_STRLIST, "resolve", "[]", "HOST:PORT:ADDRESS entries (curl --resolve), for a lab",
     offsetof(struct ne_ctx, resolve), 0, 0, NULL, NULL},
    {CG_CFG_INT, "clock_warn_s", "120", "Warn when the clock differs more than this from an HTTPS answer's Date",
     offsetof(struct ne_ctx, clock_warn_s), 1, 86400, NULL, NULL},
    {CG_CFG_INT, "clock_fail_s", "300", "Fail above this skew: Entra and CMG tokens stop validating",
     offsetof(struct ne_ctx, clock_fail_s), 1, 86400, NULL, NULL},
    CG_CFG_END,
};

struct ne_state {
  const struct ne_ctx *c;
  const struct cg_env *env;
  cJSON *facts, *keys; /* keys: registry values, regfile.h shape */
  cJSON *choices;      /* the proxy for each URL, chosen by ne_collect (proxy-choices.json); NULL: choose here */
  bool live, windows;
  struct ne_proxy winhttp, system, users[MAX_USERS];
  char user_names[MAX_USERS][96];
  int nusers;
  struct cg_findings fs;
  /* what the verdict's words need, kept here rather than read back from the facts */
  const char *system_path, *needy, *tls12, *via;
  bool skew_known;
  char via_buf[512];
};

static void finding(struct ne_state *st, enum cg_verdict v, const char *code, const char *remedy, const char *fmt, ...)
    CG_PRINTF(5, 6);
static void finding(struct ne_state *st, enum cg_verdict v, const char *code, const char *remedy, const char *fmt,
                    ...) {
  char text[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  cg_findings_add(&st->fs, v, code, remedy, "%s", text);
}

/* ---- reading ------------------------------------------------------------------------------------ */

static void merge_keys(struct ne_state *st, cJSON *parsed) {
  while (parsed->child) {
    cJSON *k = cJSON_DetachItemViaPointer(parsed, parsed->child);
    char canon[1024];
    cg_regfile_canonical(k->string, canon, sizeof(canon));
    cJSON *have = cJSON_GetObjectItemCaseSensitive(st->keys, canon);
    if (!have) {
      cJSON_AddItemToObject(st->keys, canon, k);
      continue;
    }
    while (k->child) {
      cJSON *v = cJSON_DetachItemViaPointer(k, k->child);
      cJSON_DeleteItemFromObjectCaseSensitive(have, v->string);
      cJSON_AddItemToObject(have, v->string, v);
    }
    cJSON_Delete(k);
  }
}

/* One capture file (the core's source): a registry export or `netsh winhttp show proxy` output. */
static int parse_capture(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err,
                         size_t errlen) {
  (void)env;
  struct ne_state *st = ((struct ne_ctx *)vctx)->st;
  char *text = NULL;
  size_t tlen = 0;
  enum cg_text_encoding enc;
  int cp;
  cJSON *parsed = NULL;
  int rc = cg_text_decode_capture(f->data, f->len, 850, &text, &tlen, &enc, &cp);
  if (rc == CG_OK) {
    struct ne_proxy n;
    if (ne_parse_netsh(text, &n) == CG_OK) {
      if (!st->winhttp.present) {
        st->winhttp = n;
        cg_snprintf(st->winhttp.source, sizeof(st->winhttp.source), "input:%s (netsh winhttp show proxy)", f->path);
      }
    } else if ((rc = cg_regfile_parse(text, &parsed)) == CG_OK) {
      merge_keys(st, parsed);
    } else {
      char esc[120];
      cg_escape_bytes(f->data, f->len, 40, esc, sizeof(esc));
      cg_snprintf(err, errlen, "neither a registry export nor netsh output (starts with \"%s\")", esc);
      rc = CG_ERR_PARSE;
    }
  }
  cJSON_Delete(parsed);
  cg_free(text);
  return rc;
}

static void live_value(struct ne_state *st, const char *key, const char *value) {
  cJSON *v = NULL;
  if (cg_registry_read(key, value, &v) != CG_OK) return;
  cJSON *k = cJSON_GetObjectItemCaseSensitive(st->keys, key);
  if (!k) k = cJSON_AddObjectToObject(st->keys, key);
  if (k)
    cJSON_AddItemToObject(k, value, v);
  else
    cJSON_Delete(v);
}

static void live_account(struct ne_state *st, const char *root) {
  static const char *const inet_values[] = {"ProxyEnable", "ProxyServer", "ProxyOverride", "AutoConfigURL"};
  char key[400];
  cg_snprintf(key, sizeof(key), "%s\\%s", root, NE_KEY_INET);
  for (size_t i = 0; i < CG_ARRAY_LEN(inet_values); i++)
    live_value(st, key, inet_values[i]);
  cg_snprintf(key, sizeof(key), "%s\\%s", root, NE_KEY_CONN);
  live_value(st, key, "DefaultConnectionSettings");
}

/* What read_live read, as the capture files this check reads (its source's formats): for its own
 * judging half (judge_put) and, when a snapshot is collected, for the snapshot (capture_put). */
static int put_captures(const struct ne_state *st, const struct cg_env *env) {
  int rc = cg_collect_put_registry(env, "netenv", st->keys);
  if (rc != CG_OK || !st->winhttp.present) return rc;
  char *netsh = st->winhttp.proxy[0]
                    ? cg_asprintf("Current WinHTTP proxy settings:\r\n\r\n    Proxy Server(s) :  "
                                  "%s\r\n    Bypass List     :  %s\r\n",
                                  st->winhttp.proxy, st->winhttp.bypass[0] ? st->winhttp.bypass : "(none)")
                    : cg_strdup("Current WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy "
                                "server).\r\n");
  if (!netsh) return CG_ERR_NOMEM;
  rc = cg_collect_put(env, "netenv", "netsh-winhttp.txt", netsh, strlen(netsh));
  cg_free(netsh);
  return rc;
}

/* The same values a capture would hold, read from this machine's registry. */
static void read_live(struct ne_state *st) {
  live_value(st, NE_KEY_SCHANNEL, "Enabled");
  live_value(st, NE_KEY_SCHANNEL, "DisabledByDefault");
  live_value(st, NE_KEY_WINHTTP, "DefaultSecureProtocols");
  live_value(st, NE_KEY_WINHTTP_WOW, "DefaultSecureProtocols");
  live_account(st, "HKEY_USERS\\S-1-5-18");
  char **names = NULL;
  size_t n = 0;
  if (cg_registry_subkeys("HKEY_USERS", &names, &n) == CG_OK)
    for (size_t i = 0, users = 0; i < n && users < MAX_USERS; i++)
      if (ne_is_user_sid(names[i])) {
        char root[160];
        cg_snprintf(root, sizeof(root), "HKEY_USERS\\%s", names[i]);
        live_account(st, root);
        users++;
      }
  cg_dir_list_free(names, n);
  struct cg_proxy_config wh;
  char err[256];
  if (cg_net_winhttp_default(&wh, err, sizeof(err)) == CG_OK) {
    st->winhttp.present = true;
    cg_strlcpy(st->winhttp.proxy, wh.proxy ? wh.proxy : "", sizeof(st->winhttp.proxy));
    cg_strlcpy(st->winhttp.bypass, wh.bypass ? wh.bypass : "", sizeof(st->winhttp.bypass));
    cg_strlcpy(st->winhttp.source, "WinHttpGetDefaultProxyConfiguration", sizeof(st->winhttp.source));
  } else if (strcmp(cg_platform_name(), "windows") == 0) {
    cJSON_AddStringToObject(st->facts, "winhttp_error", err);
  }
  cg_proxy_config_free(&wh);
}

/* The half that reads the device (plugin.h `collect`), with the agent's privilege: the registry values
 * and WinHTTP's default proxy, kept as a registry export and netsh's text. It parses nothing and
 * contacts nothing: the endpoints are reached by the judging half, in the worker where there is one. */
static int ne_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  struct ne_state *st = ((struct ne_ctx *)vctx)->st;
  st->env = env;
  st->facts = res->facts;
  *decided = false;
  read_live(st);
  cJSON_AddStringToObject(res->facts, "source", "live");
  int rc = put_captures(st, env);
  /* SYSTEM's proxy for every URL the judging half reaches: a PAC script or WPAD is run by WinHTTP for
   * the account that asks, and the worker is not SYSTEM (proxychoice.h) */
  const struct ne_ctx *c = st->c;
  struct ne_proxy wh, sys;
  ne_system_views(st->keys, &st->winhttp, &wh, &sys);
  struct cg_proxy_config whc, sysc;
  ne_to_config(&wh, &whc);
  ne_to_config(&sys, &sysc);
  bool windows = strcmp(cg_platform_name(), "windows") == 0;
  cJSON *choices = cJSON_CreateObject();
  for (size_t i = 0; rc == CG_OK && i < c->endpoints.count + c->root_update_urls.count; i++) {
    const char *url =
        i < c->endpoints.count ? c->endpoints.items[i] : c->root_update_urls.items[i - c->endpoints.count];
    struct cg_proxy_choice pc;
    cg_proxy_resolve_with(c->proxy, url, c->timeout_ms, wh.present ? &whc : NULL, sys.present ? &sysc : NULL,
                          windows || wh.present || sys.present, &pc);
    ne_choice_put(choices, url, &pc);
  }
  char *text = rc == CG_OK && choices ? cJSON_PrintUnformatted(choices) : NULL;
  if (text)
    rc = env->judge_put(env, "proxy-choices.json", text,
                        strlen(text)); /* not a capture: the snapshot's judge reaches nothing */
  cJSON_free(text);
  cJSON_Delete(choices);
  return rc;
}

static const struct cg_source ne_source;
static const char *const not_captures[] = {"proxy-choices.json", NULL}; /* read by take_collected itself */

/* The judging half of a live run: what ne_collect read, parsed as a capture is. */
static int take_collected(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct ne_state *st = ((struct ne_ctx *)vctx)->st;
  const struct cg_capture_file *ch = cg_collected_file(env, "proxy-choices.json");
  if (ch) st->choices = cJSON_ParseWithLength(ch->data, ch->len);
  int rc = cg_judge_collected(vctx, env, &ne_source, not_captures, "this device's network settings", res);
  if (rc != CG_OK || res->code) return rc;
  if (st->winhttp.present) /* read by the API, not from a capture of netsh's */
    cg_strlcpy(st->winhttp.source, "WinHttpGetDefaultProxyConfiguration", sizeof(st->winhttp.source));
  cJSON_AddStringToObject(res->facts, "context", env->collected->as_system ? "SYSTEM" : "this account");
  return CG_OK;
}

/* The accounts found in the registry values: SYSTEM (S-1-5-18, or .DEFAULT, its profile) and
 * the signed-in users (S-1-5-21-..., or HKEY_CURRENT_USER in a user's own export). */
static void sort_accounts(struct ne_state *st) {
  ne_system_views(st->keys, &st->winhttp, &st->winhttp, &st->system);
  for (const cJSON *k = st->keys->child; k && st->nusers < MAX_USERS; k = k->next) {
    char sid[96] = "";
    if (cg_str_startswith_ci(k->string, "HKEY_USERS\\")) {
      const char *s = k->string + 11;
      cg_snprintf(sid, sizeof(sid), "%.*s", (int)strcspn(s, "\\"), s);
      if (!ne_is_user_sid(sid)) continue;
    } else if (cg_str_startswith_ci(k->string, "HKEY_CURRENT_USER\\")) {
      cg_strlcpy(sid, "HKEY_CURRENT_USER", sizeof(sid));
    } else {
      continue;
    }
    bool seen = false;
    for (int i = 0; i < st->nusers; i++)
      seen = seen || cg_strcasecmp(st->user_names[i], sid) == 0;
    if (seen) continue;
    char root[160];
    cg_snprintf(root, sizeof(root), "%s%s", strcmp(sid, "HKEY_CURRENT_USER") ? "HKEY_USERS\\" : "", sid);
    ne_wininet_from_reg(st->keys, root, &st->users[st->nusers]);
    if (st->users[st->nusers].present) cg_strlcpy(st->user_names[st->nusers++], sid, sizeof(st->user_names[0]));
  }
}

/* ---- judging ------------------------------------------------------------------------------------ */

static cJSON *view_json(const struct ne_proxy *v) {
  if (!v->present) return cJSON_CreateNull();
  cJSON *o = cJSON_CreateObject();
  if (v->proxy[0])
    cJSON_AddStringToObject(o, "proxy", v->proxy);
  else
    cJSON_AddNullToObject(o, "proxy");
  if (v->bypass[0]) cJSON_AddStringToObject(o, "bypass", v->bypass);
  if (v->pac[0]) cJSON_AddStringToObject(o, "pac", v->pac);
  cJSON_AddBoolToObject(o, "auto_detect", v->auto_detect);
  cJSON_AddStringToObject(o, "source", v->source);
  return o;
}

static const char *view_kind(const struct ne_proxy *v) {
  if (!v->present) return "unknown";
  if (v->pac[0]) return "pac";
  if (v->proxy[0]) return "proxy";
  if (v->auto_detect) return "wpad";
  return "direct";
}

/* What to do when SYSTEM goes direct but a user has a proxy: that user's own proxy, as a command to
 * paste; a proxy script cannot be given to WinHTTP's default, so SYSTEM's Internet Options then. */
static void system_proxy_fix(const struct ne_proxy *u, char *out, size_t len) {
  const char *tail = " Then restart the SMS Agent Host (ccmexec).";
  if (u->pac[0])
    cg_snprintf(out, len,
                "Give SYSTEM the proxy script the users have: set AutoConfigURL to %s in SYSTEM's Internet Options "
                "through Group Policy (HKU\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet "
                "Settings; the WinHTTP default proxy takes no script).%s",
                u->pac, tail);
  else if (u->proxy[0])
    cg_snprintf(out, len,
                "Give SYSTEM the proxy the users have, in an elevated prompt: netsh winhttp set proxy %s \"%s\".%s",
                u->proxy, u->bypass[0] ? u->bypass : "<local>", tail);
  else
    cg_snprintf(out, len,
                "Give SYSTEM the users' proxy: netsh winhttp import proxy source=ie (run as the user), or SYSTEM's "
                "Internet Options through Group Policy.%s",
                tail);
}

static void judge_proxies(struct ne_state *st) {
  cJSON *p = cJSON_AddObjectToObject(st->facts, "proxies");
  cJSON_AddItemToObject(p, "winhttp", view_json(&st->winhttp));
  cJSON_AddItemToObject(p, "system", view_json(&st->system));
  cJSON *users = cJSON_AddArrayToObject(p, "users");
  if (st->live && strcmp(cg_platform_name(), "windows") != 0) {
    /* Off Windows the environment is the platform's proxy setting (what libcurl applies). */
    static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};
    cJSON *env = cJSON_AddObjectToObject(p, "environment");
    for (size_t i = 0; i < CG_ARRAY_LEN(vars); i++) {
      char *v = cg_getenv(vars[i]), shown[512];
      if (v) {
        cg_proxy_redact(v, shown, sizeof(shown));
        cJSON_AddStringToObject(env, vars[i], shown);
      }
      cg_free(v);
    }
  }
  const struct ne_proxy *needy = NULL;
  const char *needy_name = NULL;
  for (int i = 0; i < st->nusers; i++) {
    cJSON *u = view_json(&st->users[i]);
    cJSON_AddStringToObject(u, "account", st->user_names[i]);
    cJSON_AddItemToArray(users, u);
    if (!needy && (st->users[i].pac[0] || st->users[i].proxy[0])) {
      needy = &st->users[i];
      needy_name = st->user_names[i];
    }
  }
  /* SYSTEM's way out: WinHTTP's default proxy first, then its own Internet Options. */
  const char *sys = st->winhttp.present && st->winhttp.proxy[0]                      ? "winhttp_proxy"
                    : st->system.present && strcmp(view_kind(&st->system), "direct") ? view_kind(&st->system)
                    : st->winhttp.present || st->system.present                      ? "direct"
                                                                                     : "unknown";
  cJSON_AddStringToObject(st->facts, "system_path", sys);
  st->system_path = sys;
  struct cg_handover_proxy used;
  if (cg_handover_get_proxy(st->env, &used)) {
    cJSON *u = cJSON_AddObjectToObject(st->facts, "cmgprobe_proxy");
    cJSON_AddItemToObject(u, "proxy", used.proxy[0] ? cJSON_CreateString(used.proxy) : cJSON_CreateNull());
    cJSON_AddStringToObject(u, "source", used.source);
    if (used.detail[0]) cJSON_AddStringToObject(u, "detail", used.detail);
  }
  if (strcmp(sys, "direct") == 0 && needy) {
    cJSON_AddStringToObject(st->facts, "user_needs_proxy", needy_name);
    st->needy = needy_name;
  }
  st->windows = st->windows || st->winhttp.present || st->system.present || st->nusers > 0;
}

static void judge_tls(struct ne_state *st) {
  struct ne_tls t;
  ne_tls_from_reg(st->keys, &t);
  if (!st->windows && t.enabled < 0 && t.disabled_by_default < 0 && t.dsp < 0 && t.dsp_wow < 0) {
    cJSON_AddNullToObject(st->facts, "tls_policy");
    return;
  }
  cJSON *o = cJSON_AddObjectToObject(st->facts, "tls_policy");
  cJSON *sc = cJSON_AddObjectToObject(o, "schannel_tls12_client");
  if (t.enabled >= 0)
    cJSON_AddNumberToObject(sc, "Enabled", (double)t.enabled);
  else
    cJSON_AddNullToObject(sc, "Enabled");
  if (t.disabled_by_default >= 0)
    cJSON_AddNumberToObject(sc, "DisabledByDefault", (double)t.disabled_by_default);
  else
    cJSON_AddNullToObject(sc, "DisabledByDefault");
  char hex[16];
  if (t.dsp >= 0) {
    cg_snprintf(hex, sizeof(hex), "0x%llX", (unsigned long long)t.dsp);
    cJSON_AddStringToObject(o, "winhttp_default_secure_protocols", hex);
  } else {
    cJSON_AddNullToObject(o, "winhttp_default_secure_protocols");
  }
  if (t.dsp_wow >= 0) {
    cg_snprintf(hex, sizeof(hex), "0x%llX", (unsigned long long)t.dsp_wow);
    cJSON_AddStringToObject(o, "winhttp_default_secure_protocols_wow64", hex);
  }
  bool off = t.enabled == 0 || t.disabled_by_default > 0;
  bool wh_off = t.dsp >= 0 && !(t.dsp & NE_WINHTTP_TLS12);
  st->tls12 = off || wh_off ? "disabled" : t.enabled < 0 && t.dsp < 0 ? "os_default" : "enabled";
  cJSON_AddStringToObject(o, "tls12", st->tls12);
  if (off)
    finding(st, CG_FAIL, "NETENV_TLS12_DISABLED",
            "Enable TLS 1.2 for clients: under HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\"
            "Protocols\\TLS 1.2\\Client set Enabled=1 and DisabledByDefault=0 (or delete both), then restart.",
            "TLS 1.2 is %s in SCHANNEL (TLS 1.2\\Client: Enabled=%lld, DisabledByDefault=%lld); the CMG enforces TLS "
            "1.2, so the client's connections fail (WinHTTP 12030 / 12157).",
            t.enabled == 0 ? "disabled" : "disabled by default", (long long)t.enabled,
            (long long)t.disabled_by_default);
  if (wh_off)
    finding(
        st, CG_FAIL, "NETENV_WINHTTP_NO_TLS12",
        "Set HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp\\DefaultSecureProtocols "
        "to 0xA00 (TLS 1.1 + 1.2) or 0xAA0, or delete it on Windows 10 and later, then restart.",
        "WinHTTP's DefaultSecureProtocols is 0x%llX, which leaves TLS 1.2 out: the ConfigMgr client (WinHTTP) "
        "cannot reach a CMG that enforces TLS 1.2.",
        (unsigned long long)t.dsp);
  if (t.dsp_wow >= 0 && !(t.dsp_wow & NE_WINHTTP_TLS12))
    finding(st, CG_WARN, "NETENV_WINHTTP_WOW64_NO_TLS12",
            "Set HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp\\"
            "DefaultSecureProtocols to 0xA00 or 0xAA0 as well.",
            "32-bit programs' WinHTTP DefaultSecureProtocols is 0x%llX, without TLS 1.2.",
            (unsigned long long)t.dsp_wow);
}

/* ---- reachability and clock --------------------------------------------------------------------- */

/* The proxy SYSTEM takes to `url`: as the agent's half chose it, else chosen here (a capture). */
static void choose(const struct ne_state *st, const char *url, bool windows, struct cg_proxy_choice *pc) {
  if (ne_choice_get(st->choices, url, pc)) return;
  struct cg_proxy_config wh, sys;
  ne_to_config(&st->winhttp, &wh);
  ne_to_config(&st->system, &sys);
  cg_proxy_resolve_with(st->c->proxy, url, st->c->timeout_ms, st->winhttp.present ? &wh : NULL,
                        st->system.present ? &sys : NULL, windows, pc);
}

static void add_date(cJSON *dates, const char *from, const char *date) {
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "from", from);
  cJSON_AddStringToObject(d, "date", date);
  cJSON_AddItemToArray(dates, d);
}

static int reach(struct ne_state *st, cJSON *dates, int *failed) {
  const struct ne_ctx *c = st->c;
  cJSON *arr = cJSON_AddArrayToObject(st->facts, "reachability");
  struct curl_slist *resolve = NULL;
  for (size_t i = 0; i < c->resolve.count; i++)
    resolve = curl_slist_append(resolve, c->resolve.items[i]);
  CURL *h = curl_easy_init();
  if (!h || !arr) {
    curl_slist_free_all(resolve);
    return CG_ERR_NOMEM;
  }
  cg_http_stop_on_request(h);
  bool windows = strcmp(cg_platform_name(), "windows") == 0;
  char first_fail[600] = "", pac_error[400] = "";
  for (size_t i = 0; i < c->endpoints.count; i++) {
    const char *url = c->endpoints.items[i];
    struct cg_proxy_choice pc;
    choose(st, url, windows, &pc);
    if ((st->system.pac[0] || st->system.auto_detect) && pc.detail[0] && strcmp(pc.source, "wininet_pac") &&
        strcmp(pc.source, "wininet_wpad") && !pac_error[0])
      cg_strlcpy(pac_error, pc.detail, sizeof(pac_error));
    struct cg_http_req rq = {.method = "GET",
                             .url = url,
                             .timeout_ms = (long)c->timeout_ms,
                             .proxy = pc.curl_default ? NULL : pc.proxy,
                             .ca_file = c->ca_file,
                             .max_response = 16384,
                             .resolve = resolve,
                             .fresh_connection = true};
    struct cg_http_resp r;
    int rc = cg_http_request(h, &rq, &r);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "url", url);
    cg_proxy_facts(e, &pc);
    if (i == 0 && pc.shown[0]) {
      cg_strlcpy(st->via_buf, pc.shown, sizeof(st->via_buf));
      st->via = st->via_buf;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(e, "proxy");
    cJSON_AddBoolToObject(e, "reachable", rc == CG_OK);
    if (r.status) cJSON_AddNumberToObject(e, "status", (double)r.status);
    if (r.total_ms >= 0) cJSON_AddNumberToObject(e, "time_ms", (double)(int64_t)(r.total_ms * 10) / 10.0);
    if (rc != CG_OK) {
      cJSON_AddStringToObject(e, "error", r.error);
      (*failed)++;
      if (!first_fail[0]) {
        char host[256];
        cg_url_host(url, host, sizeof(host), NULL, 0);
        cg_snprintf(first_fail, sizeof(first_fail), "%s (%s%s): %s", host, pc.shown[0] ? "through " : "direct",
                    pc.shown, r.error);
      }
    }
    if (r.date[0]) {
      char host[256];
      cg_url_host(url, host, sizeof(host), NULL, 0);
      add_date(dates, host, r.date);
    }
    cJSON_AddItemToArray(arr, e);
    cg_free(r.body);
  }
  curl_easy_cleanup(h);
  curl_slist_free_all(resolve);
  if (pac_error[0])
    finding(st, CG_WARN, "NETENV_PAC_FAILED",
            "Check that SYSTEM can download the proxy script (the PAC URL or WPAD: DHCP option 252, DNS 'wpad'), "
            "or give SYSTEM a fixed proxy with 'netsh winhttp set proxy'.",
            "SYSTEM's proxy script could not be used (%s).", pac_error);
  if (*failed)
    finding(st, CG_FAIL, "NETENV_ENTRA_UNREACHABLE",
            "Allow SYSTEM to reach the Entra endpoints (login.microsoftonline.com, device.login.microsoftonline.com, "
            "enterpriseregistration.windows.net) over HTTPS: the firewall, the proxy SYSTEM uses (netsh winhttp show "
            "proxy) and any TLS inspection, which must leave these names alone.",
            "%d of %zu Entra endpoint(s) cannot be reached as SYSTEM would (%s). Without them the device gets "
            "no Entra token for the CMG.",
            *failed, c->endpoints.count, first_fail);
  return CG_OK;
}

/* Windows' automatic root update: CryptoAPI fetches the root list (CTL) and missing roots from
 * ctldl.windowsupdate.com over plain HTTP when it meets a root it does not have. A HEAD request
 * through SYSTEM's proxy; signed content, so http is what Windows itself uses. */
static void root_update(struct ne_state *st) {
  const struct ne_ctx *c = st->c;
  if (!c->root_update_urls.count) return;
  cJSON *arr = cJSON_AddArrayToObject(st->facts, "root_update");
  char first_fail[600] = "";
  for (size_t i = 0; i < c->root_update_urls.count; i++) {
    const char *url = c->root_update_urls.items[i];
    if (!cg_str_startswith_ci(url, "http://")) continue;
    struct cg_proxy_choice pc;
    choose(st, url, st->windows, &pc);
    CURL *h = curl_easy_init();
    if (!h) return;
    char err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "Microsoft-CryptoAPI/10.0");
    if (!pc.curl_default) curl_easy_setopt(h, CURLOPT_PROXY, pc.proxy); /* "" is direct */
    cg_http_stop_on_request(h);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    bool ok = cc == CURLE_OK && status >= 200 && status < 400;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "url", url);
    cg_proxy_facts(e, &pc);
    cJSON_DeleteItemFromObjectCaseSensitive(e, "proxy");
    cJSON_AddBoolToObject(e, "reachable", ok);
    if (status) cJSON_AddNumberToObject(e, "status", (double)status);
    if (!ok) {
      char why[400];
      if (cc != CURLE_OK)
        cg_snprintf(why, sizeof(why), "%s", err[0] ? err : curl_easy_strerror(cc));
      else
        cg_snprintf(why, sizeof(why), "HTTP %ld", status);
      cJSON_AddStringToObject(e, "error", why);
      if (!first_fail[0]) cg_snprintf(first_fail, sizeof(first_fail), "%s: %s", url, why);
    }
    cJSON_AddItemToArray(arr, e);
  }
  if (first_fail[0])
    finding(st, CG_WARN, "NETENV_ROOT_UPDATE_UNREACHABLE",
            "Allow SYSTEM to reach http://ctldl.windowsupdate.com (port 80, through the proxy SYSTEM uses): Windows "
            "downloads trusted roots from there when it meets one it does not have, such as a new root of the CMG "
            "certificate's public CA.",
            "SYSTEM cannot reach Windows' trusted root update (%s): a CMG certificate whose root is not yet on this "
            "device would be refused.",
            first_fail);
}

static void judge_clock(struct ne_state *st, cJSON *dates) {
  char cmg[64];
  if (cg_handover_get_cmg_date(st->env, cmg, sizeof(cmg))) add_date(dates, "cmg", cmg);
  cJSON *clock = cJSON_AddObjectToObject(st->facts, "clock");
  int64_t now = cg_time_utc_ms() / 1000, worst = 0;
  const char *worst_from = NULL;
  for (cJSON *d = dates->child; d; d = d->next) {
    time_t t = curl_getdate(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "date")), NULL);
    if (t == (time_t)-1) continue;
    int64_t skew = now - (int64_t)t;
    cJSON_AddNumberToObject(d, "skew_s", (double)skew);
    if (!worst_from || (skew < 0 ? -skew : skew) > (worst < 0 ? -worst : worst)) {
      worst = skew;
      worst_from = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "from"));
    }
  }
  cJSON_AddItemToObject(clock, "sources", cJSON_Duplicate(dates, true));
  if (!worst_from) {
    cJSON_AddNullToObject(clock, "skew_s");
    return;
  }
  cJSON_AddNumberToObject(clock, "skew_s", (double)worst);
  st->skew_known = true;
  int64_t a = worst < 0 ? -worst : worst;
  if (a > st->c->clock_warn_s)
    finding(st, a > st->c->clock_fail_s ? CG_FAIL : CG_WARN,
            a > st->c->clock_fail_s ? "NETENV_CLOCK_SKEW" : "NETENV_CLOCK_DRIFT",
            "Fix the time: 'w32tm /resync' (and 'w32tm /query /status' for the source), and check the time zone; "
            "off the domain network the Windows Time service needs an internet time source.",
            "This device's clock is %lld s %s %s's; above %lld s Entra and CMG tokens stop validating.", (long long)a,
            worst > 0 ? "ahead of" : "behind", worst_from, (long long)st->c->clock_fail_s);
}

static const char *path_words(const struct ne_state *st, const char *sys, char *buf, size_t len) {
  if (!strcmp(sys, "winhttp_proxy"))
    cg_snprintf(buf, len, "through the WinHTTP proxy %s", st->winhttp.proxy);
  else if (!strcmp(sys, "proxy"))
    cg_snprintf(buf, len, "through its Internet Options proxy %s", st->system.proxy);
  else if (!strcmp(sys, "pac"))
    cg_snprintf(buf, len, "through the proxy script %s", st->system.pac);
  else if (!strcmp(sys, "wpad"))
    cg_strlcpy(buf, "through a proxy found by WPAD (automatic detection)", len);
  else if (!strcmp(sys, "direct"))
    cg_strlcpy(buf, "directly, without a proxy", len);
  else
    cg_strlcpy(buf, "by a way not in the capture", len);
  return buf;
}

/* ---- the check ---------------------------------------------------------------------------------- */

static int run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct ne_ctx *c = vctx;
  struct ne_state *st = c->st;
  st->env = env;
  st->facts = res->facts;
  cJSON *dates = cJSON_CreateArray();
  int rc = CG_ERR_NOMEM, failed = 0;
  bool decided = false;
  if (!dates) goto out;
  st->live = env->input == NULL;
  if (st->live && ((rc = take_collected(vctx, env, res)) != CG_OK || res->code)) goto out;
  sort_accounts(st);
  judge_proxies(st);
  judge_tls(st);
  if (st->live && c->endpoints.count) {
    if ((rc = reach(st, dates, &failed)) != CG_OK) goto out;
    root_update(st);
  } else {
    cJSON_AddNullToObject(res->facts, "reachability");
  }
  const char *needy = st->needy;
  if (needy && (!st->live || failed)) {
    int ui = 0;
    while (ui < st->nusers && strcmp(st->user_names[ui], needy))
      ui++;
    const struct ne_proxy *u = &st->users[ui < st->nusers ? ui : 0];
    char fix[900];
    system_proxy_fix(u, fix, sizeof(fix));
    finding(st, CG_WARN, "NETENV_SYSTEM_NO_PROXY", fix,
            "SYSTEM connects directly (no WinHTTP proxy and no proxy in SYSTEM's Internet Options), but the signed-in "
            "user goes through %s %s; the ConfigMgr client runs as SYSTEM and may not get out of this network "
            "(the user's account: %s).",
            u->pac[0] ? "the proxy script" : "the proxy", u->pac[0] ? u->pac : u->proxy, needy);
  }
  judge_clock(st, dates);
  const char *sys = st->system_path;
  if ((rc = cg_findings_result(&st->fs, res, CG_FINDINGS_WORST_FIRST, NULL, &decided)) != CG_OK || decided) {
    /* the findings decided */
  } else if (!st->live) {
    char words[700];
    const char *t12 = st->tls12;
    rc = cg_result_set(res, CG_PASS, "NETENV_OK", NULL,
                       "In the capture SYSTEM goes out %s and TLS 1.2 is %s; the Entra endpoints were not contacted "
                       "(input mode).",
                       path_words(st, sys, words, sizeof(words)),
                       !t12                        ? "not in the capture"
                       : strcmp(t12, "os_default") ? "enabled"
                                                   : "left at the Windows default (on)");
  } else if (c->endpoints.count == 0 && !st->windows) {
    rc = cg_result_set(res, CG_SKIP, "NETENV_NOTHING", "Set checks.netenv.endpoints to the endpoints to test.",
                       "Nothing to check: no endpoints are configured and this is not Windows.");
  } else if (c->endpoints.count == 0) {
    char words[700];
    rc = cg_result_set(res, CG_PASS, "NETENV_OK", NULL,
                       "SYSTEM goes out %s and TLS 1.2 is on; no endpoints are configured to test.",
                       path_words(st, sys, words, sizeof(words)));
  } else {
    const char *via = st->via;
    rc = cg_result_set(res, CG_PASS, "NETENV_OK", NULL,
                       "SYSTEM reaches the %zu Entra endpoint(s) %s%s%s, and the clock is %s.", c->endpoints.count,
                       via ? "through " : "directly", via ? via : "", st->windows ? "; TLS 1.2 is on" : "",
                       st->skew_known ? "right" : "not compared (no Date header)");
  }
out:
  cJSON_Delete(dates);
  return rc;
}

static void fini(void *vctx) {
  struct ne_ctx *c = vctx;
  if (!c->st) return;
  cJSON_Delete(c->st->keys);
  cJSON_Delete(c->st->choices);
  cg_findings_free(&c->st->fs);
  cg_free(c->st);
}

static int init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  (void)env;
  struct ne_ctx *c = vctx;
  for (size_t i = 0; i < c->endpoints.count; i++)
    if (!cg_str_startswith_ci(c->endpoints.items[i], "https://")) {
      cg_snprintf(err, errlen, "checks.netenv.endpoints entries are https:// URLs, not '%s'", c->endpoints.items[i]);
      return CG_ERR_CONFIG;
    }
  if (c->clock_fail_s < c->clock_warn_s) {
    cg_snprintf(err, errlen, "checks.netenv.clock_fail_s must not be below clock_warn_s");
    return CG_ERR_CONFIG;
  }
  if (!(c->st = cg_calloc(1, sizeof(*c->st))) || !(c->st->keys = cJSON_CreateObject())) {
    cg_free(c->st);
    c->st = NULL;
    return CG_ERR_NOMEM;
  }
  c->st->c = c;
  cg_findings_init(&c->st->fs);
  return CG_OK;
}

static const struct cg_source ne_source = {
    .accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER,
    .max_bytes = INPUT_MAX,
    .code_prefix = "NETENV",
    .what = "'reg export' files and 'netsh winhttp show proxy' output",
    .how = "Capture as an administrator: 'netsh winhttp show proxy > netsh.txt', 'reg export "
           "\"HKU\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\" system.reg', the "
           "same for the user's HKCU, and the SCHANNEL and WinHttp keys (docs/checks/netenv.md). The endpoints "
           "are not contacted for a capture.",
    .parse = parse_capture,
};

static const char *const netenv_needs[] = {CG_DISCOVERY_CMG_PROXY, CG_DISCOVERY_CMG_DATE, NULL};

static const struct cg_setting_meaning netenv_meanings[] = {{"endpoints", cg_meaning_https_urls}, {NULL, NULL}};

const struct cg_check_plugin cg_check_netenv = {
    .meanings = netenv_meanings,
    .needs = netenv_needs,
    .name = "netenv",
    .description = "the network as SYSTEM sees it: proxies, Entra endpoints, TLS 1.2 policy, clock",
    .platforms = CG_PLATFORM_ANY,
    .config_map = ne_map,
    .ctx_size = sizeof(struct ne_ctx),
    .source = &ne_source,
    .init = init,
    .collect = ne_collect,
    .run = run,
    .fini = fini,
};
