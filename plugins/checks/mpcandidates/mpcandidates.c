/* The `mpcandidates` check: did the ConfigMgr client's location policy give it a CMG? Reads
 * SMS_ActiveMPCandidate (WMI root\ccm\LocationServices) and the client-state registry values, or
 * captured files of the same (--input FILE or FOLDER), and hands the CMG URLs to later checks. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "discovery.h"
#include "http.h"
#include "log.h"
#include "mpparse.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "platform/wmi.h"
#include "plugin.h"
#include "regfile.h"
#include "text.h"

#define INPUT_MAX (4 * 1024 * 1024)
#define NS_LOCATION "root\\ccm\\LocationServices"
#define K_MOBILE "SOFTWARE\\Microsoft\\SMS\\Mobile Client"
#define K_SECURITY "SOFTWARE\\Microsoft\\CCM\\Security"
#define K_CCM "SOFTWARE\\Microsoft\\CCM"
#define K_INTERNET "SOFTWARE\\Microsoft\\SMS\\Client\\Internet Facing"

/* Client state read next to the candidates; each value remembers where it came from. */
struct state {
  cJSON *rows;   /* candidate rows */
  cJSON *values; /* name -> {"value": ..., "source": "..."} */
  cJSON *read;   /* mp_collect: the registry values read, regfile.h shape */
  bool client_missing;
  bool collected; /* judging what mp_collect read: sources say WMI and the registry, as it read them */
  int wmi_status;
  char wmi_error[256];
};

struct mp_ctx {
  bool client_expected;
  int64_t timeout_ms;
  char *intranet_probe;
  int64_t intranet_timeout_ms, mp_http_port, mp_https_port;
  struct cg_strlist intranet_resolve;
  struct state st; /* working state: made by init, filled from the capture or WMI, freed by fini */
};

static const struct cg_config_map mp_map[] = {
    {CG_CFG_BOOL, "client_expected", "false", "Fail instead of skip when the ConfigMgr client is not installed",
     offsetof(struct mp_ctx, client_expected), 0, 0, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "30000", "How long a WMI query may take", offsetof(struct mp_ctx, timeout_ms), 1000,
     600000, NULL, NULL},
    {CG_CFG_STRING, "intranet_probe", "\"auto\"",
     "When the client says it is on the intranet, try to reach its intranet management points: auto (on the device, "
     "not for a capture), on (also for a capture, from this machine's network), off",
     offsetof(struct mp_ctx, intranet_probe), 0, 0, NULL, "auto|on|off"},
    {CG_CFG_INT, "intranet_timeout_ms", "3000",
     "How long each intranet management point may take to accept a connection",
     offsetof(struct mp_ctx, intranet_timeout_ms), 200, 30000, NULL, NULL},
    {CG_CFG_INT, "mp_http_port", "80", "The client request port of HTTP management points (site properties, Ports)",
     offsetof(struct mp_ctx, mp_http_port), 1, 65535, NULL, NULL},
    {CG_CFG_INT, "mp_https_port", "443", "The client request port of HTTPS management points",
     offsetof(struct mp_ctx, mp_https_port), 1, 65535, NULL, NULL},
    {CG_CFG_STRLIST, "intranet_resolve", "[]", "HOST:PORT:ADDRESS entries for the intranet probe (tests, split DNS)",
     offsetof(struct mp_ctx, intranet_resolve), 0, 0, NULL, NULL},
    CG_CFG_END,
};

static void put_value(struct state *st, const char *name, cJSON *value, const char *source) {
  if (!value) return;
  if (cJSON_GetObjectItemCaseSensitive(st->values, name)) {
    cJSON_Delete(value);
    return;
  }
  cJSON *o = cJSON_AddObjectToObject(st->values, name);
  cJSON_AddItemToObject(o, "value", value);
  cJSON_AddStringToObject(o, "source", source);
}

static const struct {
  const char *key, *value, *name;
} reg_values[] = {
    {K_MOBILE, "AssignedSiteCode", "site_code"},
    {K_MOBILE, "ProductVersion", "client_version"},
    {K_SECURITY, "ClientAlwaysOnInternet", "always_on_internet"},
    {K_CCM, "CMGFQDNs", "cmg_fqdns"},
    {K_INTERNET, "Internet MP Hostname", "internet_mp_hostname"},
};

static void from_reg_export(struct state *st, const cJSON *keys, const char *origin) {
  for (size_t i = 0; i < CG_ARRAY_LEN(reg_values); i++) {
    char full[256];
    cg_snprintf(full, sizeof(full), "HKEY_LOCAL_MACHINE\\%s", reg_values[i].key);
    const cJSON *k = NULL;
    for (const cJSON *c = keys->child; c && !k; c = c->next)
      if (cg_strcasecmp(c->string, full) == 0) k = c;
    const cJSON *v = NULL;
    for (const cJSON *c = k ? k->child : NULL; c && !v; c = c->next)
      if (cg_strcasecmp(c->string, reg_values[i].value) == 0) v = c;
    if (v) {
      char src[512];
      if (st->collected)
        cg_snprintf(src, sizeof(src), "registry:HKLM\\%s\\%s", reg_values[i].key, reg_values[i].value);
      else
        cg_snprintf(src, sizeof(src), "input:%s (HKLM\\%s\\%s)", origin, reg_values[i].key, reg_values[i].value);
      put_value(st, reg_values[i].name, cJSON_Duplicate(v, false), src);
    }
  }
}

/* One captured file (the core's source): candidate rows or a registry export. */
static int parse_capture(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err,
                         size_t errlen) {
  struct state *st = &((struct mp_ctx *)vctx)->st;
  char *text = NULL;
  size_t tlen = 0;
  enum cg_text_encoding enc;
  int cp;
  int rc = cg_text_decode_capture(f->data, f->len, 1252, &text, &tlen, &enc, &cp);
  const char *t = text;
  while (rc == CG_OK && (*t == ' ' || *t == '\r' || *t == '\n' || *t == '\t'))
    t++;
  if (rc == CG_OK && (*t == '{' || *t == '[') && strstr(t, "InInternet") && !strstr(t, "\"MP\"")) {
    /* clientinfo.json: ClientInfo.InInternet, where the client thinks it is */
    cJSON *j = cJSON_Parse(t), *row = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, 0) : j;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, "InInternet");
    char src[512];
    cg_snprintf(src, sizeof(src),
                st->collected ? "wmi:root\\ccm:ClientInfo.InInternet" : "input:%s (ClientInfo.InInternet)", f->path);
    if (cJSON_IsBool(v))
      put_value(st, "currently_internet", cJSON_Duplicate(v, false), src);
    else
      rc = CG_ERR_PARSE;
    cJSON_Delete(j);
    cg_free(text);
    if (rc == CG_ERR_PARSE) cg_snprintf(err, errlen, "InInternet is not true or false");
    return rc;
  }
  if (rc == CG_OK) {
    enum mp_format fmt = mp_detect(text);
    cJSON *parsed = NULL;
    rc = fmt == MP_FMT_REG ? mp_parse_reg(text, &parsed) : mp_parse_rows(text, fmt, &parsed);
    if (rc == CG_OK && fmt == MP_FMT_REG) {
      from_reg_export(st, parsed, f->path);
    } else if (rc == CG_OK) {
      for (cJSON *r = parsed->child; r; r = r->next) {
        char src[512];
        if (st->collected)
          cg_strlcpy(src, "wmi:" NS_LOCATION ":SMS_ActiveMPCandidate", sizeof(src));
        else
          cg_snprintf(src, sizeof(src), "input:%s (%s)", f->path, mp_format_name(fmt));
        cJSON_AddStringToObject(r, "_source", src);
      }
      while (parsed->child)
        cJSON_AddItemToArray(st->rows, cJSON_DetachItemViaPointer(parsed, parsed->child));
    }
    cJSON_Delete(parsed);
    cg_log_debug(env->log, "mpcandidates", "%s: %s, %s", f->path, mp_format_name(fmt),
                 rc == CG_OK ? "read" : "no candidates");
  }
  if (rc == CG_ERR_PARSE) {
    char head[120];
    cg_escape_bytes(f->data, f->len, 40, head, sizeof(head));
    cg_snprintf(err, errlen, "no management point candidates in it (it starts with \"%s\")", head);
  }
  cg_free(text);
  return rc;
}

static const char R_NO_CMG[] =
    "Check the client setting 'Enable clients to use a cloud management gateway' (Client Settings > Cloud Services) "
    "and that a management point has 'Allow Configuration Manager cloud management gateway traffic' enabled. The "
    "client refreshes its location policy every 24 hours; restart the SMS Agent Host (ccmexec) on the intranet to "
    "fetch it now, and look at LocationServices.log.";
static const char R_NO_CANDIDATES[] =
    "The client has no management point at all: check its site assignment (Configuration Manager control panel, "
    "LocationServices.log, ClientLocation.log) and, for a new client, the ccmsetup /mp: and CCMHOSTNAME values.";
static const char R_NOT_INSTALLED[] =
    "Install the ConfigMgr client (ccmsetup.exe with /mp:https://CMG-FQDN/CCM_Proxy_MutualAuth/ID or CCMHOSTNAME=) "
    "and check ccmsetup.log.";

/* What the client holds, read live with the agent's privilege: the candidate rows (WMI), the client-state
 * values (registry) and ClientInfo.InInternet, kept as read: nothing of them is judged here. */
static void read_live(struct state *st, const struct mp_ctx *ctx) {
  struct cg_wmi_error werr;
  cJSON *rows = NULL;
  st->wmi_status = cg_wmi_query(NS_LOCATION, "SELECT * FROM SMS_ActiveMPCandidate", ctx->timeout_ms, &rows, &werr);
  if (st->wmi_status == CG_OK) {
    while (rows->child)
      cJSON_AddItemToArray(st->rows, cJSON_DetachItemViaPointer(rows, rows->child));
  } else {
    cg_strlcpy(st->wmi_error, werr.message, sizeof(st->wmi_error));
    st->client_missing = werr.hresult == CG_WBEM_E_INVALID_NAMESPACE;
  }
  cJSON_Delete(rows);
  for (size_t i = 0; i < CG_ARRAY_LEN(reg_values); i++) {
    cJSON *v = NULL;
    if (cg_registry_read_hklm(reg_values[i].key, reg_values[i].value, &v) != CG_OK) continue;
    char full[256];
    cg_snprintf(full, sizeof(full), "HKEY_LOCAL_MACHINE\\%s", reg_values[i].key);
    cJSON *k = cJSON_GetObjectItemCaseSensitive(st->read, full);
    if (!k) k = cJSON_AddObjectToObject(st->read, full);
    if (k)
      cJSON_AddItemToObject(k, reg_values[i].value, v);
    else
      cJSON_Delete(v);
  }
  /* Whether the client believes it is on the internet right now (ClientInfo.InInternet). */
  cJSON *ci = NULL;
  if (cg_wmi_query("root\\ccm", "SELECT InInternet FROM ClientInfo", ctx->timeout_ms, &ci, &werr) == CG_OK) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(ci, 0), "InInternet");
    if (cJSON_IsBool(v)) put_value(st, "currently_internet", cJSON_Duplicate(v, false), "wmi");
  }
  cJSON_Delete(ci);
}

/* What read_live read, in the formats of a capture (docs/checks/mpcandidates.md): the rows as
 * ConvertTo-Json writes them (mp.json, none when there are none), the values as a registry export,
 * and ClientInfo as clientinfo.json. */
static int put_captures(const struct state *st, const struct cg_env *env) {
  int rc = CG_OK;
  char *text = cJSON_GetArraySize(st->rows) ? cJSON_Print(st->rows) : NULL;
  if (text) rc = cg_collect_put(env, "mpcandidates", "mp.json", text, strlen(text));
  cJSON_free(text);
  if (rc == CG_OK) rc = cg_collect_put_registry(env, "mpcandidates", st->read);
  const cJSON *ci = cJSON_GetObjectItem(cJSON_GetObjectItem(st->values, "currently_internet"), "value");
  if (rc == CG_OK && ci) {
    const char *t = cJSON_IsTrue(ci) ? "{\"InInternet\": true}\n" : "{\"InInternet\": false}\n";
    rc = cg_collect_put(env, "mpcandidates", "clientinfo.json", t, strlen(t));
  }
  return rc;
}

/* A verdict from how the read went, before any candidate is looked at: no WMI here, no client, or WMI
 * refused. res->code stays NULL when the candidates were read. */
static int read_verdict(const struct mp_ctx *ctx, struct cg_result *res) {
  const struct state *st = &ctx->st;
  if (st->wmi_status == CG_ERR_UNSUPPORTED)
    return cg_result_set(res, CG_SKIP, "MP_NO_WMI",
                         "Run 'cmgdiag check mpcandidates --input FILE' with a captured candidate list.",
                         "There is no WMI on %s; give a captured candidate list with --input.", cg_platform_name());
  if (st->client_missing) {
    cJSON_AddBoolToObject(res->facts, "client_installed", false);
    return cg_result_set(res, ctx->client_expected ? CG_FAIL : CG_SKIP, "MP_CLIENT_NOT_INSTALLED", R_NOT_INSTALLED,
                         "The ConfigMgr client is not installed on this device (%s).", st->wmi_error);
  }
  if (st->wmi_status != CG_OK)
    return cg_result_set(res, CG_ERROR, "MP_WMI_ERROR",
                         st->wmi_status == CG_ERR_ACCESS
                             ? "Run cmgdiag as SYSTEM or as an administrator."
                             : "Check WMI health (winmgmt /verifyrepository) and that the SMS Agent Host service runs.",
                         "The management point candidates could not be read (%s).", st->wmi_error);
  return CG_OK;
}

static const char *row_str(const cJSON *row, const char *key) {
  for (const cJSON *c = row->child; c; c = c->next)
    if (cg_strcasecmp(c->string, key) == 0) return cJSON_IsString(c) ? c->valuestring : NULL;
  return NULL;
}

static const cJSON *row_item(const cJSON *row, const char *key) {
  for (const cJSON *c = row->child; c; c = c->next)
    if (cg_strcasecmp(c->string, key) == 0) return c;
  return NULL;
}

/* The host of https://HOST[:PORT]/...: its start and length. */
static size_t url_host(const char *url, const char **host) {
  const char *h = strstr(url, "://");
  *host = h ? h + 3 : url;
  return strcspn(*host, ":/?#");
}

/* One CMG per host (DNS names are case-insensitive): the MP list's HOST/CCM_Proxy_MutualAuth/<id> and
 * CMGFQDNs' bare https://HOST are the same CMG, and the URL with the MP id wins, since only a
 * request through it can prove that the client can use the CMG (docs/checks/mpcandidates.md). */
static void add_url(cJSON *urls, const char *url) {
  const char *h;
  size_t hl = url_host(url, &h);
  bool has_id = cg_str_contains_ci(url, "/CCM_Proxy_");
  for (cJSON *u = urls->child; u; u = u->next) {
    const char *uh;
    size_t ul = url_host(u->valuestring, &uh);
    if (ul != hl || !cg_memmem_ci(uh, ul, h, hl)) continue;
    if (has_id && !cg_str_contains_ci(u->valuestring, "/CCM_Proxy_")) cJSON_SetValuestring(u, url);
    return;
  }
  cJSON_AddItemToArray(urls, cJSON_CreateString(url));
}

/* One candidate row as facts; `ms` gets its parsed MP string. */
static cJSON *candidate_facts(const cJSON *r, struct mp_string *msp) {
  const char *mp = row_str(r, "MP"), *type = row_str(r, "Type");
  mp_parse_string(mp ? mp : "", msp);
  cJSON *c = cJSON_CreateObject();
  cJSON_AddStringToObject(c, "mp", mp ? mp : "");
  if (type)
    cJSON_AddStringToObject(c, "type", type);
  else
    cJSON_AddNullToObject(c, "type");
  const cJSON *idx = row_item(r, "Index"), *ver = row_item(r, "Version");
  if (cJSON_IsNumber(idx))
    cJSON_AddNumberToObject(c, "index", idx->valuedouble);
  else
    cJSON_AddNullToObject(c, "index");
  if (cJSON_IsNumber(ver))
    cJSON_AddNumberToObject(c, "version", ver->valuedouble);
  else if (cJSON_IsString(ver))
    cJSON_AddStringToObject(c, "version", ver->valuestring);
  else
    cJSON_AddNullToObject(c, "version");
  cJSON_AddBoolToObject(c, "is_cmg", msp->is_cmg);
  cJSON_AddStringToObject(c, "cmg_host", msp->is_cmg ? msp->host : "");
  cJSON_AddStringToObject(c, "proxy_kind", msp->proxy_kind);
  cJSON_AddStringToObject(c, "mp_id", msp->mp_id);
  if (msp->truncated) cJSON_AddBoolToObject(c, "truncated", true);
  int64_t ssl, auth;
  mp_parse_capabilities(row_str(r, "Capabilities"), &ssl, &auth);
  if (ssl >= 0) cJSON_AddNumberToObject(c, "ssl_state", (double)ssl);
  if (auth >= 0) cJSON_AddNumberToObject(c, "auth_method", (double)auth);
  cJSON_AddStringToObject(c, "source", row_str(r, "_source") ? row_str(r, "_source") : "");
  return c;
}

/* The registry's bootstrap and current internet MP name CMGs too. */
static void registry_urls(const struct state *sp, cJSON *urls) {
  const cJSON *imp = cJSON_GetObjectItem(cJSON_GetObjectItem(sp->values, "internet_mp_hostname"), "value");
  if (cJSON_IsString(imp)) {
    struct mp_string ms;
    mp_parse_string(imp->valuestring, &ms);
    char url[400];
    if (ms.is_cmg && *ms.mp_id &&
        cg_snprintf(url, sizeof(url), "https://%s/CCM_Proxy_%s/%s", ms.host, ms.proxy_kind, ms.mp_id))
      add_url(urls, url);
  }
  const cJSON *fq = cJSON_GetObjectItem(cJSON_GetObjectItem(sp->values, "cmg_fqdns"), "value");
  if (cJSON_IsString(fq) && *fq->valuestring) {
    char *list = cg_strdup(fq->valuestring);
    for (char *p = list; p && *p;) {
      size_t n = strcspn(p, ";, ");
      char save = p[n];
      p[n] = '\0';
      if (*p) {
        char url[400];
        cg_snprintf(url, sizeof(url), "%s%s", cg_str_contains_ci(p, "://") ? "" : "https://", p);
        add_url(urls, url);
      }
      p += n + (save ? 1 : 0);
    }
    cg_free(list);
  }
}

/* The registry and WMI values as facts, each with where it came from under `sources`. */
static void value_facts(cJSON *f, const struct state *sp) {
  static const char *const names[] = {"site_code",          "client_version", "always_on_internet",
                                      "currently_internet", "cmg_fqdns",      "internet_mp_hostname"};
  cJSON *sources = cJSON_AddObjectToObject(f, "sources");
  for (size_t i = 0; i < CG_ARRAY_LEN(names); i++) {
    const cJSON *v = cJSON_GetObjectItem(sp->values, names[i]);
    const cJSON *val = cJSON_GetObjectItem(v, "value");
    if (!val) {
      cJSON_AddNullToObject(f, names[i]);
      continue;
    }
    if (!strcmp(names[i], "always_on_internet") && cJSON_IsNumber(val))
      cJSON_AddBoolToObject(f, names[i], val->valuedouble != 0);
    else
      cJSON_AddItemToObject(f, names[i], cJSON_Duplicate(val, false));
    cJSON_AddStringToObject(sources, names[i], cJSON_GetObjectItem(v, "source")->valuestring);
  }
}

/* ---- where the client thinks it is -------------------------------------------------------------- */

/* "If the client can contact a domain controller or an on-premises management point, it sets its
 * connection type to Currently intranet" (Microsoft Learn, Configure clients for CMG). Through a
 * split-tunnel VPN or a network whose DNS answers for the domain, the client then uses intranet
 * management points it cannot reach and never tries the CMG. So: when it says intranet, try the
 * intranet MPs it would use (a TCP connection to their client port, a short deadline each). */
struct intranet {
  bool claimed, tried, reachable;
  size_t n;
  char first_why[300], tried_list[600];
};

static void try_intranet_mps(const struct mp_ctx *ctx, const struct cg_env *env, const cJSON *cands,
                             struct intranet *in) {
  memset(in, 0, sizeof(*in));
  const cJSON *ci = cJSON_GetObjectItem(cJSON_GetObjectItem(ctx->st.values, "currently_internet"), "value");
  const cJSON *aoi = cJSON_GetObjectItem(cJSON_GetObjectItem(ctx->st.values, "always_on_internet"), "value");
  in->claimed = cJSON_IsFalse(ci) && !(cJSON_IsNumber(aoi) && aoi->valuedouble != 0) && !cJSON_IsTrue(aoi);
  const char *mode = ctx->intranet_probe ? ctx->intranet_probe : "auto";
  if (!in->claimed || !strcmp(mode, "off") || (env->input && strcmp(mode, "on") != 0)) return;
  CURL *h = curl_easy_init();
  struct curl_slist *resolve = NULL;
  for (size_t i = 0; i < ctx->intranet_resolve.count; i++)
    resolve = curl_slist_append(resolve, ctx->intranet_resolve.items[i]);
  for (const cJSON *c = cands->child; h && c && in->n < 3 && !in->reachable; c = c->next) {
    const char *mp = cJSON_GetStringValue(cJSON_GetObjectItem(c, "mp")),
               *type = cJSON_GetStringValue(cJSON_GetObjectItem(c, "type"));
    if (!mp || !*mp || cJSON_IsTrue(cJSON_GetObjectItem(c, "is_cmg")) || (type && !cg_strcasecmp(type, "Internet")))
      continue;
    struct mp_string ms;
    mp_parse_string(mp, &ms);
    if (!ms.host[0] || strchr(ms.host, '/')) continue;
    const cJSON *ssl = cJSON_GetObjectItem(c, "ssl_state");
    bool https = cJSON_IsNumber(ssl) && ssl->valuedouble != 0;
    long port = (long)(https ? ctx->mp_https_port : ctx->mp_http_port);
    char url[400];
    /* a TCP connection only (nothing is sent): http:// names the port, not the protocol */
    cg_snprintf(url, sizeof(url), "http://%s:%ld/", ms.host, port);
    struct cg_http_req rq = {.method = "GET",
                             .url = url,
                             .timeout_ms = (long)ctx->intranet_timeout_ms,
                             .connect_timeout_ms = (long)ctx->intranet_timeout_ms,
                             .connect_only = true,
                             .resolve = resolve,
                             .fresh_connection = true};
    struct cg_http_resp r;
    int rc = cg_http_request(h, &rq, &r);
    cg_free(r.body);
    in->tried = true;
    in->n++;
    size_t l = strlen(in->tried_list);
    cg_snprintf(in->tried_list + l, sizeof(in->tried_list) - l, "%s%s port %ld", l ? ", " : "", ms.host, port);
    if (rc == CG_OK)
      in->reachable = true;
    else if (!in->first_why[0])
      cg_snprintf(in->first_why, sizeof(in->first_why), "%s port %ld: %s", ms.host, port, r.error);
  }
  curl_slist_free_all(resolve);
  if (h) curl_easy_cleanup(h);
}

/* The half that reads the device (plugin.h `collect`), with the agent's privilege: WMI and the
 * registry, kept as a capture holds them. How the read went may decide (no client, WMI refused); the
 * candidates are judged by the other half, in the worker without privilege where there is one. */
static int mp_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  struct mp_ctx *ctx = vctx;
  read_live(&ctx->st, ctx);
  cJSON_AddStringToObject(res->facts, "source", "wmi");
  int rc = read_verdict(ctx, res);
  *decided = rc != CG_OK || res->code;
  return *decided ? rc : put_captures(&ctx->st, env);
}

static const struct cg_source mp_source;

/* The judging half of a live run: what mp_collect read, parsed as a capture is. */
static int take_collected(struct mp_ctx *ctx, const struct cg_env *env, struct cg_result *res) {
  ctx->st.collected = true; /* sources name WMI and the registry, as they were read */
  return cg_judge_collected(ctx, env, &mp_source, NULL, "the client's management points", res);
}

static int mp_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct mp_ctx *ctx = vctx;
  struct state *st = &ctx->st;
  cJSON *f = res->facts;
  int rc = CG_OK;
  if (!env->input && ((rc = take_collected(ctx, env, res)) != CG_OK || res->code)) goto out;

  cJSON *cands = cJSON_AddArrayToObject(f, "candidates");
  cJSON *urls = cJSON_CreateArray();
  int internet = 0;
  const char *cmg_host = NULL;
  for (const cJSON *r = st->rows->child; r; r = r->next) {
    const char *type = row_str(r, "Type");
    struct mp_string ms;
    cJSON *c = candidate_facts(r, &ms);
    cJSON_AddItemToArray(cands, c);
    if (type && cg_strcasecmp(type, "Internet") == 0) internet++;
    if (ms.is_cmg && !ms.truncated && *ms.mp_id) {
      char url[400];
      cg_snprintf(url, sizeof(url), "https://%s/CCM_Proxy_%s/%s", ms.host, ms.proxy_kind, ms.mp_id);
      add_url(urls, url);
      if (!cmg_host) cmg_host = cJSON_GetObjectItem(c, "cmg_host")->valuestring;
    } else if (ms.is_cmg && !cmg_host) {
      cmg_host = cJSON_GetObjectItem(c, "cmg_host")->valuestring;
    }
  }
  registry_urls(st, urls);
  size_t ncmg = 0, ntrunc = 0;
  for (const cJSON *c = cands->child; c; c = c->next) {
    ncmg += cJSON_IsTrue(cJSON_GetObjectItem(c, "is_cmg"));
    ntrunc += cJSON_IsTrue(cJSON_GetObjectItem(c, "truncated"));
  }
  cJSON_AddBoolToObject(f, "cmg_present", ncmg > 0);
  cJSON_AddItemToObject(f, "cmg_urls", cJSON_Duplicate(urls, true));
  cJSON_AddNumberToObject(f, "internet_mp_count", internet);
  value_facts(f, st);
  cJSON_AddBoolToObject(f, "client_installed", true);
  if (cJSON_GetArraySize(urls) > 0) {
    struct cg_handover_cmg_urls *h = cg_calloc(1, sizeof(*h));
    const cJSON *u;
    cJSON_ArrayForEach(u, urls) {
      if (h && cJSON_IsString(u) && h->count < CG_HANDOVER_MAX_URLS)
        cg_strlcpy(h->url[h->count++], u->valuestring, sizeof(h->url[0]));
    }
    if (h) cg_handover_put_cmg_urls(env, h);
    cg_free(h);
  }
  cJSON_Delete(urls);

  struct intranet in;
  try_intranet_mps(ctx, env, cands, &in);
  cJSON *loc = cJSON_AddObjectToObject(f, "location");
  cJSON_AddBoolToObject(loc, "intranet_claimed", in.claimed);
  cJSON_AddBoolToObject(loc, "intranet_mps_tried", in.tried);
  if (in.tried) {
    cJSON_AddStringToObject(loc, "tried", in.tried_list);
    cJSON_AddBoolToObject(loc, "intranet_mp_reachable", in.reachable);
  }
  cJSON_AddBoolToObject(f, "false_intranet", in.tried && !in.reachable);
  if (in.tried && !in.reachable)
    rc = cg_result_set(
        res, CG_FAIL, "LOCATION_FALSE_INTRANET",
        "Find what makes the client think it is on the intranet: a split-tunnel VPN or a network whose DNS answers for "
        "the domain lets it contact a domain controller or an on-premises management point. Let the management points "
        "be reached through the VPN, or stop the domain's names resolving off the network; a client that should "
        "always use the CMG can be set to always internet (CCMALWAYSINF=1).",
        "The client believes it is on the intranet (Currently intranet), but none of the intranet management points "
        "it would use can be reached from here (%s), so it never tries the CMG.",
        in.first_why[0] ? in.first_why : in.tried_list);
  else if (ncmg > 0)
    rc = cg_result_set(res, CG_PASS, "MP_CMG_PRESENT", NULL,
                       "The client has the cloud management gateway %s among its %d management point candidate%s%s.",
                       cmg_host, cJSON_GetArraySize(cands), cJSON_GetArraySize(cands) == 1 ? "" : "s",
                       in.reachable ? "; it is on the intranet, and an intranet management point answers" : "");
  else if (ntrunc > 0)
    rc = cg_result_set(res, CG_WARN, "MP_CAPTURE_TRUNCATED",
                       "Capture again with Format-List or ConvertTo-Json: Format-Table cut the MP column.",
                       "%zu of the %d candidates were cut off by Format-Table, so whether a CMG is among them is "
                       "unknown.",
                       ntrunc, cJSON_GetArraySize(cands));
  else if (cJSON_GetArraySize(cands) > 0)
    rc = cg_result_set(res, CG_FAIL, "MP_NO_CMG", R_NO_CMG,
                       "The client knows %d management point%s but no cloud management gateway, so it cannot be "
                       "managed over the internet.",
                       cJSON_GetArraySize(cands), cJSON_GetArraySize(cands) == 1 ? "" : "s");
  else
    rc = cg_result_set(res, CG_FAIL, "MP_NO_CANDIDATES", R_NO_CANDIDATES,
                       "The client has no management point candidates at all.");
out:
  return rc;
}

static int mp_init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  (void)env;
  struct mp_ctx *ctx = vctx;
  for (size_t i = 0; i < ctx->intranet_resolve.count; i++) {
    const char *e = ctx->intranet_resolve.items[i], *c1 = strchr(e, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || c1 == e || c2 == c1 + 1 || !c2[1]) {
      cg_snprintf(err, errlen, "checks.mpcandidates.intranet_resolve entries are HOST:PORT:ADDRESS, not '%.80s'", e);
      return CG_ERR_CONFIG;
    }
  }
  ctx->st.rows = cJSON_CreateArray();
  ctx->st.values = cJSON_CreateObject();
  ctx->st.read = cJSON_CreateObject();
  return ctx->st.rows && ctx->st.values && ctx->st.read ? CG_OK : CG_ERR_NOMEM;
}

static void mp_fini(void *vctx) {
  struct mp_ctx *ctx = vctx;
  cJSON_Delete(ctx->st.rows);
  cJSON_Delete(ctx->st.values);
  cJSON_Delete(ctx->st.read);
}

static const struct cg_source mp_source = {
    .accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER,
    .max_bytes = INPUT_MAX,
    .code_prefix = "MP",
    .what = "a captured candidate list (ConvertTo-Json, Format-List or Format-Table output) or a .reg export",
    .how = "Capture with: Get-CimInstance -Namespace root\\ccm\\LocationServices -ClassName SMS_ActiveMPCandidate | "
           "ConvertTo-Json > mp.json (Format-List and Format-Table text and 'reg export' files work too).",
    .parse = parse_capture,
};

static const char *const mpcandidates_provides[] = {CG_DISCOVERY_CMG_URLS, NULL};

static const struct cg_device_fact mp_device[] = {{"site_code", "site_code"}, {NULL, NULL}};

const struct cg_check_plugin cg_check_mpcandidates = {
    .device_facts = mp_device,
    .provides = mpcandidates_provides,
    .name = "mpcandidates",
    .description = "the client's management point candidates (SMS_ActiveMPCandidate): was it given a CMG",
    .platforms = CG_PLATFORM_WINDOWS,
    .config_map = mp_map,
    .ctx_size = sizeof(struct mp_ctx),
    .source = &mp_source,
    .init = mp_init,
    .collect = mp_collect,
    .run = mp_run,
    .fini = mp_fini,
};
