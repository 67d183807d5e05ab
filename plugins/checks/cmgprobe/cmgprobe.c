/* Check `cmgprobe`: from this device's own network, can it reach the CMG, does it trust it the way
 * the Windows client does, and does the CMG answer with management points? A forensic HTTPS probe
 * (docs/checks/cmgprobe.md): DNS, TCP, TLS (chain captured even when verification fails, completed
 * from AIA like CryptoAPI), revocation by CRL and OCSP, CryptoAPI's own verdict on Windows, the MP
 * list on the path this client's authentication uses, the tenant for Entra clients, each CMG
 * candidate, each failure named with a stable code and its source. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "meaning.h"
#include "discovery.h"
#include "dnschain.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/resolve.h"
#include "platform/sys.h"
#include "platform/tls.h"
#include "probe.h"
#include "proxy.h"

static const struct cg_config_map probe_map[] = {
    {CG_CFG_STRING, "url", "null",
     "CMG URL: https://CMG/CCM_Proxy_MutualAuth/<MP id> (as in the client's MP list) or https://HOST; "
     "null: the CMG the mpcandidates check found",
     offsetof(struct probe_ctx, url), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "proxy_kind", "\"auto\"",
     "Path used for a CMG URL: auto (the client's authentication: MutualAuth for a PKI certificate, ServerAuth for "
     "Entra and site tokens; when unknown, MutualAuth if client_cert is set, else ServerAuth), ServerAuth, MutualAuth "
     "or as_given",
     offsetof(struct probe_ctx, proxy_kind), 0, 0, NULL, "auto|ServerAuth|MutualAuth|as_given"},
    {CG_CFG_STRLIST, "paths", "[\"SMS_MP/.sms_aut?mplist\", \"SMS_MP/.sms_aut?mpcert\"]",
     "Requests under the CMG URL; the first must answer the MP list", offsetof(struct probe_ctx, paths), 0, 0, NULL,
     NULL},
    {CG_CFG_STRLIST, "extra_paths", "[]", "More requests, reported as facts", offsetof(struct probe_ctx, extra_paths),
     0, 0, NULL, NULL},
    {CG_CFG_STRING, "ca_file", "null", "Extra trusted roots (PEM) besides the platform store",
     offsetof(struct probe_ctx, ca_file), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "client_cert", "null",
     "The client's certificate (PEM, leaf then its issuing CAs) for the request a PKI client makes on "
     "CCM_Proxy_MutualAuth; admin-only like the configuration",
     offsetof(struct probe_ctx, client_cert), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "client_key", "null", "Its private key (PEM); admin-only", offsetof(struct probe_ctx, client_key),
     0, 0, NULL, NULL},
    {CG_CFG_STRING, "authenticated", "\"auto\"",
     "The MP list request with the client certificate on a MutualAuth URL: auto (made whenever the anonymous one "
     "is, reported apart as `authenticated`) or off",
     offsetof(struct probe_ctx, authenticated), 0, 0, NULL, "auto|off"},
    {CG_CFG_STRING, "client_cert_thumbprint", "null",
     "Windows: the certificate in LocalMachine\\My (SHA-1 thumbprint) the WinHTTP request presents on MutualAuth; "
     "null: the one the clientauth check found",
     offsetof(struct probe_ctx, client_cert_thumbprint), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "winhttp", "\"auto\"",
     "Windows: the MP list request once more through WinHTTP and Schannel, as the client makes it (facts.winhttp; "
     "it decides where it disagrees): auto or off",
     offsetof(struct probe_ctx, winhttp), 0, 0, NULL, "auto|off"},
    {CG_CFG_BOOL, "winhttp_decides_under_wine", "false",
     "Let wine's winhttp decide as Windows' would (tests of the Windows build only: wine is not Windows)",
     offsetof(struct probe_ctx, winhttp_wine_decides), 0, 0, NULL, NULL},
    {CG_CFG_STRLIST, "resolve", "[]", "curl --resolve entries HOST:PORT:ADDRESS (tests, or a CMG behind split DNS)",
     offsetof(struct probe_ctx, resolve), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "dns_server", "null",
     "Ask this DNS server (IPv4-ADDRESS:PORT) for the CNAME chain of a custom service name (lab; POSIX only); "
     "null: the system resolver",
     offsetof(struct probe_ctx, dns_server), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "proxy", "null",
     "Proxy URL, or \"direct\"; null: as SYSTEM would choose (Windows: the WinHTTP default proxy, then this "
     "account's PAC / WPAD / Internet Options proxy; elsewhere: https_proxy)",
     offsetof(struct probe_ctx, proxy), 0, 0, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "15000", "Deadline of the whole check (every request and CRL fetch)",
     offsetof(struct probe_ctx, timeout_ms), 1000, 600000, NULL, NULL},
    {CG_CFG_INT, "connect_timeout_ms", "10000", "Longest wait for a TCP connection",
     offsetof(struct probe_ctx, connect_timeout_ms), 100, 600000, NULL, NULL},
    {CG_CFG_INT, "max_body_bytes", "1048576", "Largest answer accepted (an MP list is a few KB)",
     offsetof(struct probe_ctx, max_body_bytes), 1024, 67108864, NULL, NULL},
    {CG_CFG_BOOL, "check_revocation", "true", "Fetch the CRLs of the CMG's chain as the Windows client does",
     offsetof(struct probe_ctx, check_revocation), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "crl_check", "\"auto\"",
     "Whether this client checks revocation of the CMG's chain, so that an unreachable CRL fails: auto (what the "
     "client does: the documented default is yes, no when ccmsetup ran with /NoCRLCheck), on or off",
     offsetof(struct probe_ctx, crl_check), 0, 0, NULL, "auto|on|off"},
    {CG_CFG_BOOL, "crl_unreachable_fails", "true", "Older spelling: false is crl_check off",
     offsetof(struct probe_ctx, crl_unreachable_fails), 0, 0, NULL, NULL},
    {CG_CFG_BOOL, "windows_verdict", "true",
     "On Windows, judge the chain with CryptoAPI too (CertGetCertificateChain, SSL policy); it decides when the two "
     "disagree",
     offsetof(struct probe_ctx, windows_verdict), 0, 0, NULL, NULL},
    {CG_CFG_BOOL, "windows_verdict_decides_under_wine", "false",
     "Let wine's crypt32 decide as Windows' would (tests of the Windows build only: wine is not Windows)",
     offsetof(struct probe_ctx, wine_decides), 0, 0, NULL, NULL},
    {CG_CFG_BOOL, "check_tenant", "true",
     "For an Entra client, ask the CMG for the tenant's Entra details as ccmsetup does (AADAuthInfo)",
     offsetof(struct probe_ctx, check_tenant), 0, 0, NULL, NULL},
    {CG_CFG_INT, "max_candidates", "4", "CMGs probed from the client's MP list (each reported)",
     offsetof(struct probe_ctx, max_candidates), 1, 4, NULL, NULL},
    {CG_CFG_INT, "mp_probe_interval_s", "86400",
     "Scheduled cycles send the requests that reach the management point (MP list, MP certificate, tenant) at most "
     "this often; other scheduled cycles do the TLS handshake only. Always in selftest, validate, check, after a "
     "failure and after a network change. 0: every cycle",
     offsetof(struct probe_ctx, mp_probe_interval_s), 0, 2592000, NULL, NULL},
    {CG_CFG_INT, "crl_timeout_ms", "10000", "Longest wait for one CRL", offsetof(struct probe_ctx, crl_timeout_ms), 500,
     120000, NULL, NULL},
    {CG_CFG_INT, "expiry_warn_days", "30", "Warn when a certificate of the chain expires sooner",
     offsetof(struct probe_ctx, expiry_warn_days), 0, 3650, NULL, NULL},
    {CG_CFG_INT, "max_clock_skew_s", "300", "Warn when this device's clock differs more from the CMG's Date",
     offsetof(struct probe_ctx, max_clock_skew_s), 1, 86400, NULL, NULL},
    CG_CFG_END,
};

long probe_remaining(const struct probe *p) {
  int64_t r = p->deadline - cg_time_mono_ms();
  return probe_tape_long("remaining", r > 0 ? (long)r : 1); /* what decides a step's time, as it was */
}

void probe_found(struct probe *p, enum cg_verdict v, const char *code, const char *winhttp, const char *remediation,
                 const char *fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  struct cg_finding *f = cg_findings_add(&p->fs, v, code, remediation, "%s", text);
  if (f) f->detail = winhttp; /* what the ConfigMgr client would log, for matching its logs */
}

/* The path the client's own requests take: MutualAuth for a PKI certificate, ServerAuth for Entra
 * and site tokens (docs/domain.md, authentication modes). */
static const char *proxy_kind(const struct probe *p) {
  if (cg_strcasecmp(p->c->proxy_kind, "auto") != 0) return p->c->proxy_kind;
  struct cg_handover_auth auth;
  if (probe_io_auth(p->env, &auth) && auth.mode[0]) return !strcmp(auth.mode, "pki") ? "MutualAuth" : "ServerAuth";
  return p->c->client_cert || p->c->client_cert_thumbprint
             ? "MutualAuth"
             : "ServerAuth"; /* unknown: a configured certificate says PKI */
}

bool probe_parse_url(struct probe *p, const char *url, char *why, size_t whylen) {
  if (!cg_str_startswith_ci(url, "https://")) {
    cg_snprintf(why, whylen, "the CMG URL must start with https:// (got '%.80s')", url);
    return false;
  }
  const char *h = url + 8, *e = h + strcspn(h, ":/?#");
  size_t hl = (size_t)(e - h);
  if (!hl || hl >= sizeof(p->host)) {
    cg_snprintf(why, whylen, "the CMG URL has no host name");
    return false;
  }
  memcpy(p->host, h, hl);
  p->host[hl] = '\0';
  p->port = 443;
  const char *path = e;
  if (*e == ':') {
    char *end = NULL;
    p->port = strtol(e + 1, &end, 10);
    if (p->port <= 0 || p->port > 65535 || (end && *end && *end != '/')) {
      cg_snprintf(why, whylen, "the CMG URL has a bad port");
      return false;
    }
    path = end;
  }
  if (*path == '?' || *path == '#') path = "";
  char hostport[300];
  if (p->port == 443)
    cg_snprintf(hostport, sizeof(hostport), "%s", p->host);
  else
    cg_snprintf(hostport, sizeof(hostport), "%s:%ld", p->host, p->port);
  /* /CCM_Proxy_MutualAuth/<id> or /CCM_Proxy_ServerAuth/<id>, any case (docs/domain.md, CMG URLs) */
  const char *kinds[] = {"/CCM_Proxy_MutualAuth/", "/CCM_Proxy_ServerAuth/"};
  for (size_t i = 0; i < 2; i++) {
    size_t kl = strlen(kinds[i]);
    if (!cg_str_startswith_ci(path, kinds[i])) continue;
    const char *id = path + kl;
    size_t dl = strspn(id, "0123456789");
    if (!dl || dl > 20 || (id[dl] && strcmp(id + dl, "/") != 0)) {
      cg_snprintf(why, whylen, "the CMG URL's management point id after %s must be digits (from the client's MP list)",
                  kinds[i] + 1);
      return false;
    }
    const char *kind = !cg_strcasecmp(p->c->proxy_kind, "as_given")
                           ? (i ? "CCM_Proxy_ServerAuth" : "CCM_Proxy_MutualAuth")
                       : !cg_strcasecmp(proxy_kind(p), "MutualAuth") ? "CCM_Proxy_MutualAuth"
                                                                     : "CCM_Proxy_ServerAuth";
    cg_snprintf(p->base, sizeof(p->base), "https://%s/%s/%.*s", hostport, kind, (int)dl, id);
    char idbuf[24];
    cg_snprintf(idbuf, sizeof(idbuf), "%.*s", (int)dl, id);
    cJSON_AddStringToObject(p->facts, "mp_id", idbuf);
    p->has_mp_id = true;
    cg_snprintf(p->origin, sizeof(p->origin), "https://%s", hostport);
    return true;
  }
  cg_snprintf(p->origin, sizeof(p->origin), "https://%s", hostport);
  size_t pl = strlen(path);
  while (pl && path[pl - 1] == '/')
    pl--;
  cg_snprintf(p->base, sizeof(p->base), "https://%s%.*s", hostport, (int)pl, path);
  return true;
}

/* ---- CMG name rules (docs/domain.md, CMG names) ------------------------------------------------------------ */

static void name_rules(struct probe *p, const char *name) {
  static const struct {
    const char *suffix, *kind;
  } azure[] = {
      {".cloudapp.azure.com", "azure_vmss"}, {".usgovcloudapp.net", "azure_gov"}, {".cloudapp.net", "azure_classic"}};
  const char *kind = "custom_domain";
  size_t prefix_len = 0;
  for (size_t i = 0; i < CG_ARRAY_LEN(azure); i++)
    if (cg_str_endswith_ci(name, azure[i].suffix)) {
      kind = azure[i].kind;
      prefix_len = strcspn(name, ".");
      break;
    }
  /* the service name's own kind; a custom name is judged by the deployment name it leads to */
  if (!p->name_kind_set)
    cJSON_AddStringToObject(p->facts, "service_name_kind", name == p->host ? kind : "custom_domain");
  p->name_kind_set = true;
  if (name != p->host) {
    cJSON_AddStringToObject(p->facts, "deployment_name", name);
    cg_strlcpy(p->deployment, name, sizeof(p->deployment));
  }
  cJSON *v = cJSON_AddArrayToObject(p->facts, "name_rule_violations");
  if (!prefix_len) return;
  char why[200] = "";
  bool bad_char = false;
  for (size_t i = 0; i < prefix_len; i++) {
    char ch = name[i];
    if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32); /* DNS names are case-insensitive */
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) bad_char = true;
  }
  if (bad_char) {
    cg_snprintf(why, sizeof(why), "the deployment name prefix '%.*s' has characters other than letters and digits",
                (int)prefix_len, name);
    cJSON_AddItemToArray(v, cJSON_CreateString(why));
    if (!p->name_violation[0]) cg_strlcpy(p->name_violation, why, sizeof(p->name_violation));
  }
  if (prefix_len < 3 || prefix_len > 24) {
    cg_snprintf(why, sizeof(why), "the deployment name prefix is %zu characters long (3 to 24 allowed)", prefix_len);
    cJSON_AddItemToArray(v, cJSON_CreateString(why));
    if (!p->name_violation[0]) cg_strlcpy(p->name_violation, why, sizeof(p->name_violation));
  }
  if (!strcmp(kind, "azure_classic"))
    cJSON_AddItemToArray(v, cJSON_CreateString("a classic cloud service (cloudapp.net) deployment: it cannot be "
                                               "converted to a virtual machine scale set; plan a redeployment"));
}

/* ---- DNS ----------------------------------------------------------------------------------------- */

static bool overridden(const struct probe *p) {
  for (size_t i = 0; i < p->c->resolve.count; i++) {
    const char *r = p->c->resolve.items[i];
    size_t hl = strlen(p->host);
    if (!strncmp(r, p->host, hl) && r[hl] == ':') return true;
  }
  return false;
}

static bool is_azure_name(const char *h) {
  return cg_str_endswith_ci(h, ".cloudapp.azure.com") || cg_str_endswith_ci(h, ".cloudapp.net") ||
         cg_str_endswith_ci(h, ".usgovcloudapp.net");
}

/* Returns the Azure deployment name a custom service name leads to, or the host itself. */
static const char *dns_facts(struct probe *p) {
  cJSON *d = cJSON_AddObjectToObject(p->facts, "dns");
  static char chain[PROBE_DNS_MAX_CHAIN][256];
  const char *deployment = p->host;
  bool literal = strspn(p->host, "0123456789.") == strlen(p->host) || strchr(p->host, ':');
  if (!literal && !is_azure_name(p->host)) {
    char err[200] = "";
    int n = probe_io_cname_chain(p->host, p->c->dns_server, chain, PROBE_DNS_MAX_CHAIN, err, sizeof(err));
    cJSON *a = cJSON_AddArrayToObject(d, "cname_chain");
    for (int i = 0; i < n; i++) {
      cJSON_AddItemToArray(a, cJSON_CreateString(chain[i]));
      if (is_azure_name(chain[i])) deployment = chain[i];
    }
    if (n < 0) cJSON_AddStringToObject(d, "cname_error", err);
  }
  if (overridden(p)) {
    cJSON_AddStringToObject(d, "source", "resolve setting");
    return deployment;
  }
  char addrs[CG_RESOLVE_MAX][64];
  char canon[256], err[200];
  int n = 0;
  int64_t t0 = cg_time_mono_ms();
  int rc = probe_io_resolve(p->host, addrs, CG_RESOLVE_MAX, &n, canon, sizeof(canon), err, sizeof(err));
  cJSON_AddStringToObject(d, "source", "system resolver");
  cJSON_AddNumberToObject(d, "time_ms", (double)(cg_time_mono_ms() - t0));
  if (rc != CG_OK) {
    cJSON_AddStringToObject(d, "error", err);
    return deployment;
  }
  cJSON *a = cJSON_AddArrayToObject(d, "addresses");
  for (int i = 0; i < n; i++)
    cJSON_AddItemToArray(a, cJSON_CreateString(addrs[i]));
  /* A custom service name is a CNAME to the Azure deployment name: show where it leads. */
  if (canon[0] && cg_strcasecmp(canon, p->host) != 0) cJSON_AddStringToObject(d, "canonical_name", canon);
  return deployment;
}

/* ---- one request --------------------------------------------------------------------------------- */

static void do_request(struct probe *p, CURL *h, const char *path, bool first, struct probe_tls_capture *cap,
                       struct curl_slist *resolve, struct req_out *o) {
  char url[1400];
  /* a path starting with / is under the CMG's origin, not under the MP id */
  if (*path == '/')
    cg_snprintf(url, sizeof(url), "%s%s", p->origin, path);
  else
    cg_snprintf(url, sizeof(url), "%s/%s", p->base, path);
  struct cg_http_req rq = {.method = "GET",
                           .url = url,
                           .timeout_ms = probe_remaining(p),
                           .ca_file = p->c->ca_file,
                           .proxy = p->proxy,
                           .max_response = (size_t)p->c->max_body_bytes,
                           .abort_over_cap = true,
                           .connect_timeout_ms = (long)p->c->connect_timeout_ms,
                           .resolve = resolve,
                           .ssl_ctx_fn = first ? probe_tls_capture_ctx : NULL,
                           .ssl_ctx_data = cap,
                           .fresh_connection = first,
                           .connect_only = first && p->handshake_only};
  o->rc = probe_io_http(h, &rq, &o->r, cap, first);
  o->j = cJSON_CreateObject();
  cJSON_AddStringToObject(o->j, "path", path);
  if (o->r.status) {
    cJSON_AddNumberToObject(o->j, "status", (double)o->r.status);
    cJSON_AddStringToObject(o->j, "status_text", o->r.reason);
    const char *rem;
    const char *m = probe_status_meaning(o->r.status, o->r.reason, &rem);
    if (m) cJSON_AddStringToObject(o->j, "meaning", m);
  }
  if (o->r.content_type[0]) cJSON_AddStringToObject(o->j, "content_type", o->r.content_type);
  cJSON_AddNumberToObject(o->j, "bytes", (double)o->r.body_len);
  if (o->r.too_large) cJSON_AddBoolToObject(o->j, "too_large", true);
  if (o->r.date[0]) cJSON_AddStringToObject(o->j, "date", o->r.date);
  static const char *const names[] = {"dns_ms", "connect_ms", "tls_ms", "ttfb_ms", "total_ms"};
  double v[] = {o->r.dns_ms, o->r.connect_ms, o->r.tls_ms, o->r.ttfb_ms, o->r.total_ms};
  cJSON *t = cJSON_AddObjectToObject(o->j, "timings");
  for (size_t i = 0; i < 5; i++)
    if (v[i] >= 0) cJSON_AddNumberToObject(t, names[i], (double)(int64_t)(v[i] * 10) / 10.0);
  if (o->rc != CG_OK) cJSON_AddStringToObject(o->j, "error", o->r.error);
  cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(p->facts, "requests"), o->j);
}

/* ---- classification of a transfer that failed --------------------------------------------------- */

/* ---- sign-in: does the CMG know this device's tenant? ------------------------------------------------ */

/* ccmsetup asks the CMG anonymously for the tenant's Entra app details before a token is requested
 * (/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=<id>, docs/checks/cmgprobe.md); a CMG whose site did
 * not onboard the tenant gives nothing back. */
static void tenant_check(struct probe *p, CURL *h, struct probe_tls_capture *cap, struct curl_slist *resolve) {
  struct cg_handover_auth auth;
  struct cg_handover_aad aad;
  probe_io_auth(p->env, &auth);
  probe_io_aad(p->env, &aad);
  const char *tenant = aad.tenant_id;
  if (!p->c->check_tenant || strcmp(auth.mode, "entra") != 0 || !*tenant) return;
  if (strspn(tenant, "0123456789abcdefABCDEF-") != strlen(tenant) || strlen(tenant) > 40) return;
  char path[200];
  cg_snprintf(path, sizeof(path), "/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=%s", tenant);
  struct req_out o = {0};
  do_request(p, h, path, false, cap, resolve, &o);
  cJSON *t = cJSON_AddObjectToObject(p->facts, "tenant");
  cJSON_AddStringToObject(t, "tenant_id", tenant);
  size_t n = o.r.body_len;
  while (n && (o.r.body[n - 1] == ' ' || o.r.body[n - 1] == '\n' || o.r.body[n - 1] == '\r'))
    n--;
  if (o.rc == CG_OK && o.r.status == 200 && n > 0) {
    cJSON_AddBoolToObject(t, "onboarded", true);
  } else if (o.rc == CG_OK && (o.r.status == 200 || o.r.status == 404)) {
    cJSON_AddBoolToObject(t, "onboarded", false);
    probe_found(p, CG_FAIL, "CMG_TENANT_NOT_ONBOARDED", NULL,
                "In the console, Administration > Cloud Services > Azure Services: onboard this Entra tenant for "
                "Cloud Management (or install clients with AADTENANTID, AADCLIENTAPPID and AADRESOURCEURI).",
                "The CMG answers but does not know this device's Entra tenant: it gave no Entra details for it, so "
                "the client cannot get a token for the site (tenant ID %s; HTTP %ld, %zu bytes).",
                tenant, o.r.status, o.r.body_len);
  } else {
    cJSON_AddStringToObject(t, "error", o.rc == CG_OK ? o.r.reason : o.r.error);
  }
  cg_free(o.r.body);
}

/* ---- one CMG ------------------------------------------------------------------------------------------ */

static void tls_facts(struct probe *p, const struct probe_tls_capture *cap, const struct req_out *o, cJSON *tls) {
  if (cap->version[0]) cJSON_AddStringToObject(tls, "version", cap->version);
  if (cap->cipher[0]) cJSON_AddStringToObject(tls, "cipher", cap->cipher);
  if (cap->alert[0]) cJSON_AddStringToObject(tls, "alert_received", cap->alert);
  if (o->r.primary_ip[0]) cJSON_AddStringToObject(p->facts, "address", o->r.primary_ip);
  if (o->r.connect_ms >= 0)
    cJSON_AddNumberToObject(p->facts, "connect_ms", (double)(int64_t)(o->r.connect_ms * 10) / 10.0);
  if (o->r.tls_ms >= 0 && o->r.connect_ms >= 0)
    cJSON_AddNumberToObject(tls, "handshake_ms", (double)(int64_t)((o->r.tls_ms - o->r.connect_ms) * 10) / 10.0);
  cJSON *dns = cJSON_GetObjectItemCaseSensitive(p->facts, "dns");
  if (dns && !cJSON_GetObjectItemCaseSensitive(dns, "time_ms") && o->r.dns_ms >= 0)
    cJSON_AddNumberToObject(dns, "time_ms", (double)(int64_t)(o->r.dns_ms * 10) / 10.0);
  if (dns && !cJSON_GetObjectItemCaseSensitive(dns, "addresses") && o->r.primary_ip[0]) {
    cJSON *a = cJSON_AddArrayToObject(dns, "addresses");
    cJSON_AddItemToArray(a, cJSON_CreateString(o->r.primary_ip));
  }
  if (o->r.status) {
    cJSON *http = cJSON_AddObjectToObject(p->facts, "http");
    cJSON_AddNumberToObject(http, "status", (double)o->r.status);
    cJSON_AddStringToObject(http, "status_text", o->r.reason);
    if (o->r.ttfb_ms >= 0) cJSON_AddNumberToObject(http, "ttfb_ms", (double)(int64_t)(o->r.ttfb_ms * 10) / 10.0);
    if (o->r.total_ms >= 0) cJSON_AddNumberToObject(http, "total_ms", (double)(int64_t)(o->r.total_ms * 10) / 10.0);
    cJSON_AddNumberToObject(http, "bytes", (double)o->r.body_len);
    if (o->r.date[0]) cJSON_AddStringToObject(http, "date", o->r.date);
  }
  cJSON *ve = cJSON_AddArrayToObject(tls, "verify_errors");
  for (int k = 0; k < cap->nerrors; k++) {
    char e[200];
    cg_snprintf(e, sizeof(e), "depth %d: %s", cap->errors[k].depth,
                X509_verify_cert_error_string(cap->errors[k].error));
    cJSON_AddItemToArray(ve, cJSON_CreateString(e));
  }
}

static bool missing_issuer(const struct probe_tls_capture *cap) {
  for (int i = 0; i < cap->nerrors; i++)
    if (cap->errors[i].error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
        cap->errors[i].error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
      return cap->sent && sk_X509_num(cap->sent) > 0 &&
             X509_check_issued(sk_X509_value(cap->sent, sk_X509_num(cap->sent) - 1),
                               sk_X509_value(cap->sent, sk_X509_num(cap->sent) - 1)) != X509_V_OK;
  return false;
}

/* Starts the first request again on a fresh handshake, keeping the fetched certificates, the byte
 * counts and what Windows approved. */
static void redo_first(struct probe *p, CURL *h, const char *path, struct probe_tls_capture *cap,
                       struct curl_slist *resolve, struct req_out *o) {
  struct probe_tls_capture keep = *cap;
  cap->extra = NULL;
  probe_tls_capture_free(cap);
  memset(cap, 0, sizeof(*cap));
  cap->extra = keep.extra;
  cap->bytes_in = keep.bytes_in;
  cap->bytes_out = keep.bytes_out;
  cap->has_approved = keep.has_approved;
  memcpy(cap->approved_leaf, keep.approved_leaf, sizeof(cap->approved_leaf));
  cJSON_DeleteItemFromArray(cJSON_GetObjectItemCaseSensitive(p->facts, "requests"), 0);
  cg_free(o->r.body);
  memset(o, 0, sizeof(*o));
  do_request(p, h, path, true, cap, resolve, o);
}

/* The first request: TLS with the capture; a chain the server sent incomplete is completed from AIA
 * and the handshake done again, as CryptoAPI would. */
static void first_request(struct probe *p, CURL *h, const char *path, struct probe_tls_capture *cap,
                          struct curl_slist *resolve, struct req_out *o) {
  do_request(p, h, path, true, cap, resolve, o);
  if (o->rc == CG_OK || !missing_issuer(cap)) return;
  p->cmg_local = !(p->proxy && *p->proxy) && cg_addr_is_local(o->r.primary_ip);
  if (!probe_complete_from_aia(p, cap)) return;
  redo_first(p, h, path, cap, resolve, o); /* with the fetched intermediates as untrusted certificates */
  const char *url = p->aia_url;
  if (cap->handshake_done && cap->nerrors == 0)
    probe_found(p, CG_WARN, "CMG_CERT_CHAIN_AIA", NULL,
                "Export the CMG certificate with its whole chain (a PFX with the intermediate CA) and update the CMG: "
                "Windows fetches the missing intermediate itself, but some proxies, TLS inspection devices and "
                "other clients do not.",
                "The CMG sends its certificate without the intermediate CA; Windows completes the chain from %s, "
                "which this network reaches.",
                url ? url : "the AIA address");
}

/* The CMG's verdict from what was found, the traffic facts, and what the next cycle needs to know. */
static int set_verdict(struct probe *p, struct cg_result *res, cJSON *state, const struct probe_tls_capture *cap,
                       const struct req_out *outs, const char *hs_why) {
  const struct cg_finding *f = cg_findings_worst(&p->fs);
  if (f && f->detail) cJSON_AddStringToObject(p->facts, "client_would_log", f->detail);
  bool decided = false;
  int rc = cg_findings_result(&p->fs, res, CG_FINDINGS_WORST_ONLY, NULL, &decided);
  if (rc != CG_OK || decided) {
    /* the first failure (else the first warning) decided */
  } else if (p->handshake_only) {
    rc = cg_result_set(res, CG_PASS, "CMG_TLS_OK", NULL,
                       "The CMG %s completes a TLS handshake (%s) with a trusted certificate; %s.", p->host,
                       cap->version[0] ? cap->version : "TLS", hs_why);
  } else if (!p->has_mp_id) {
    /* ServiceMetadata answers without a management point behind it: reachability, not use */
    rc = cg_result_set(
        res, CG_WARN, "CMG_REACHABLE_UNPROVEN",
        "Probe the URL from the client's MP list (https://CMG/CCM_Proxy_MutualAuth/<id>, which 'cmgdiag check "
        "mpcandidates' shows), or set checks.cmgprobe.url to it: only a management point request through the CMG "
        "shows that the client can use it.",
        "The CMG %s is reachable over %s with a trusted certificate, but no management point request was made through "
        "it (the URL has no management point id), so whether the client can use it is not proven.",
        p->host, cap->version[0] ? cap->version : "TLS");
  } else {
    int n = (int)p->mplist_n;
    rc = cg_result_set(res, CG_PASS, "CMG_OK", NULL,
                       "The CMG %s answers over %s with a trusted certificate and %d management point(s)%s%s "
                       "(%.0f ms)%s.",
                       p->host, cap->version[0] ? cap->version : "TLS", n, n ? ", first " : "", n ? p->mp0_fqdn : "",
                       outs[0].r.total_ms, p->auth_ok ? ", to the request with this device's client certificate" : "");
  }
  const char *src = probe_code_source(res->code);
  if (src) cJSON_AddStringToObject(p->facts, "reference", src);
  if (rc == CG_OK && !p->handshake_only && res->status != CG_ERROR) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "last_mp_probe_ms", (double)cg_time_utc_ms());
    cJSON_AddStringToObject(e, "last_status", cg_verdict_name(res->status));
    cJSON_AddBoolToObject(e, "mp_list_answered", p->mplist_answered);
    cJSON_DeleteItemFromObjectCaseSensitive(state, p->base);
    cJSON_AddItemToObject(state, p->base, e);
  } else if (rc == CG_OK && res->status == CG_FAIL) {
    cJSON_DeleteItemFromObjectCaseSensitive(state, p->base); /* next cycle asks the MP again */
  }
  return rc;
}

/* Probes one CMG; facts go to p->facts; the verdict to res. */
static int probe_one(struct probe *p, const char *url, cJSON *state, struct cg_result *res) {
  const struct probe_ctx *c = p->c;
  char why[300];
  if (!probe_parse_url(p, url, why, sizeof(why)))
    return cg_result_set(res, CG_FAIL, "CMG_BAD_URL", "Fix checks.cmgprobe.url.", "The CMG URL is not usable: %s.",
                         why);
  cJSON_AddStringToObject(p->facts, "url", p->base);
  cJSON_AddStringToObject(p->facts, "host", p->host);
  cJSON_AddNumberToObject(p->facts, "port", (double)p->port);
  cJSON_AddStringToObject(p->facts, "proxy_kind", proxy_kind(p));
  char trust[300];
  cg_snprintf(trust, sizeof(trust), "%s%s%s", cg_platform_trust_name(), c->ca_file ? " + " : "",
              c->ca_file ? c->ca_file : "");
  cJSON_AddStringToObject(p->facts, "trust", trust);
  probe_crl_setting(p);
  char hs_why[200] = "";
  p->handshake_only = probe_handshake_only(p, state, hs_why, sizeof(hs_why));
  if (p->handshake_only) cJSON_AddStringToObject(p->facts, "mp_requests_skipped", hs_why);
  struct cg_proxy_choice pc;
  probe_io_proxy(p->env, c->proxy, p->base, c->timeout_ms / 3, &pc);
  p->proxy = pc.curl_default ? NULL : pc.proxy;
  probe_proxy_facts(p, &pc);
  name_rules(p, dns_facts(p));
  cJSON_AddArrayToObject(p->facts, "requests");
  struct curl_slist *resolve = NULL;
  for (size_t i = 0; i < c->resolve.count; i++)
    resolve = curl_slist_append(resolve, c->resolve.items[i]);
  CURL *h = curl_easy_init();
  if (!h) {
    curl_slist_free_all(resolve);
    return CG_ERR_NOMEM;
  }
  struct probe_tls_capture cap;
  memset(&cap, 0, sizeof(cap));
  /* without an MP id only a request that needs none; one handshake in a light cycle */
  static const char *const no_id[] = {"/CCM_Proxy_ServerAuth/ServiceMetadata"};
  size_t npaths = p->handshake_only ? 1 : !p->has_mp_id ? 1 : c->paths.count + c->extra_paths.count;
  struct req_out *outs = cg_calloc(npaths, sizeof(*outs));
  int rc = outs ? CG_OK : CG_ERR_NOMEM;
  bool tls_ok = false;
  for (size_t i = 0; rc == CG_OK && i < npaths; i++) {
    const char *path = !p->has_mp_id        ? no_id[0]
                       : i < c->paths.count ? c->paths.items[i]
                                            : c->extra_paths.items[i - c->paths.count];
    while (*path == '/' && p->has_mp_id)
      path++;
    if (i > 0) {
      do_request(p, h, path, false, &cap, resolve, &outs[i]);
      continue;
    }
    first_request(p, h, path, &cap, resolve, &outs[0]);
    cJSON *tls = cJSON_AddObjectToObject(p->facts, "tls");
    tls_facts(p, &cap, &outs[0], tls);
    tls_ok = outs[0].r.tls_ms >= 0 && cap.handshake_done && cap.nerrors == 0 &&
             outs[0].r.curl_rc != CURLE_PEER_FAILED_VERIFICATION;
    int win = cap.sent ? probe_windows_verdict(p, &cap, tls_ok) : -1;
    if (outs[0].rc != CG_OK && win == 1 && cap.sent && outs[0].r.curl_rc == CURLE_PEER_FAILED_VERIFICATION) {
      /* Windows decides: the client would accept this chain, so the request goes ahead on it */
      unsigned int n = 0;
      if (X509_digest(sk_X509_value(cap.sent, 0), EVP_sha256(), cap.approved_leaf, &n) && n == 32) {
        cap.has_approved = true;
        redo_first(p, h, path, &cap, resolve, &outs[0]);
        tls_ok = outs[0].r.tls_ms >= 0 && cap.handshake_done;
        if (outs[0].rc == CG_OK) cg_findings_drop(&p->fs, CG_FAIL); /* OpenSSL's objection is overruled */
        cJSON_AddBoolToObject(cJSON_GetObjectItemCaseSensitive(p->facts, "windows_trust"), "request_on_its_verdict",
                              true);
        cJSON_DeleteItemFromObjectCaseSensitive(tls, "verify_errors");
        cJSON_AddArrayToObject(tls, "verify_errors");
      }
    }
    /* A failed transfer is named first: it is what the client meets before any revocation check; on
     * MutualAuth a handshake that ends for want of a client certificate goes to the authenticated request */
    p->anon_wants_cert = outs[0].rc != CG_OK && cg_str_contains_ci(p->base, "/CCM_Proxy_MutualAuth/") &&
                         probe_refused_for_cert(&outs[0], &cap, false);
    if (outs[0].rc != CG_OK && !p->anon_wants_cert) probe_classify_transport(p, &outs[0], &cap);
    if (cap.sent || cap.built) probe_chain_facts(p, &cap, tls_ok, tls);
    if (outs[0].rc != CG_OK) break; /* the other paths would fail the same way */
  }
  struct req_out auth = {0};
  if (rc == CG_OK && (outs[0].rc == CG_OK || p->anon_wants_cert) && !p->handshake_only) {
    probe_clock_skew(p, &outs[0]);
    if (outs[0].r.date[0]) cg_handover_put_cmg_date(p->env, outs[0].r.date);
    if (p->has_mp_id) {
      /* a PKI client's own request, with its certificate, decides when it was made */
      const struct req_out *mp = probe_mutual(p, &outs[0], &cap, resolve, &auth);
      if (mp) probe_classify_http(p, mp, mp == &outs[0] && npaths > 1 && outs[1].j ? &outs[1] : NULL);
      if (npaths > 1 && outs[1].j && outs[1].rc != CG_OK)
        probe_found(p, CG_WARN, "CMG_PARTIAL", NULL, "See the requests in the facts.",
                    "The MP list answered, but %s failed (%s).", c->paths.count > 1 ? c->paths.items[1] : "a request",
                    outs[1].r.error);
    } else if (outs[0].r.status >= 500 || (outs[0].r.status >= 300 && outs[0].r.status < 400)) {
      probe_classify_http(p, &outs[0], NULL);
    }
    tenant_check(p, h, &cap, resolve);
  }
  /* the client's own stack, once TLS was reached (it decides where it disagrees, on Windows) */
  if (rc == CG_OK && !p->handshake_only && p->has_mp_id && cap.bytes_in > 0) probe_client_stack(p);
  if (p->name_violation[0])
    probe_found(p, CG_WARN, "CMG_NAME_RULES", NULL,
                "For a content-enabled CMG the name is also its storage account's, which takes 3 to 24 lowercase "
                "letters and digits (no '-'); check that this is the name of your CMG. A CMG without content is not "
                "affected.",
                "The CMG name %s breaks the naming rules: %s.", p->deployment[0] ? p->deployment : p->host,
                p->name_violation);
  probe_traffic_facts(p, &cap, outs, state);
  if (rc == CG_OK) rc = set_verdict(p, res, state, &cap, outs, hs_why);
  for (size_t i = 0; outs && i < npaths; i++)
    cg_free(outs[i].r.body);
  cg_free(outs);
  cg_free(auth.r.body);
  probe_tls_capture_free(&cap);
  probe_tls_capture_free(&p->auth_cap);
  curl_easy_cleanup(h);
  curl_slist_free_all(resolve);
  return rc;
}

/* ---- the check: every CMG the client may use -------------------------------------------------------- */

int probe_run_checks(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct probe_ctx *c = vctx;
  const char *targets[4];
  char found[4][512]; /* max_candidates is at most 4 */
  size_t nt = 0;
  const char *source = "config";
  struct cg_handover_cmg_urls *urls = c->url ? NULL : cg_calloc(1, sizeof(*urls));
  if (c->url) {
    targets[nt++] = c->url;
  } else if (urls && probe_io_cmg_urls(env, urls) && urls->count) {
    cJSON *list = cJSON_AddArrayToObject(res->facts, "discovered_urls");
    for (size_t i = 0; i < urls->count; i++) {
      cJSON_AddItemToArray(list, cJSON_CreateString(urls->url[i]));
      if (nt < 4 && nt < (size_t)c->max_candidates) {
        cg_strlcpy(found[nt], urls->url[i], sizeof(found[0]));
        targets[nt] = found[nt];
        nt++;
      }
    }
    source = "mpcandidates";
  }
  cg_free(urls);
  if (!nt)
    return cg_result_set(res, CG_SKIP, "CMG_NO_TARGET",
                         "Set checks.cmgprobe.url to the CMG URL from the client's MP list "
                         "(https://CMG/CCM_Proxy_MutualAuth/<id>), or run it where the ConfigMgr client knows its CMG.",
                         "No CMG to probe: cmgprobe.url is not set and the client's MP list names no CMG.");
  cJSON_AddStringToObject(res->facts, "target_source", source);
  const char *trigger = probe_io_trigger(env); /* before the state: a transcript says both */
  cJSON *state = probe_load_state(env);
  int64_t start = cg_time_mono_ms();
  struct cg_result *sub = cg_calloc(nt, sizeof(*sub));
  if (!sub) {
    cJSON_Delete(state);
    return CG_ERR_NOMEM;
  }
  int rc = CG_OK;
  size_t first_ok = SIZE_MAX, first_fail = SIZE_MAX;
  for (size_t i = 0; i < nt && rc == CG_OK; i++) {
    /* candidate 0 writes the check's own facts (as before); the others are listed under candidates */
    sub[i].facts = i == 0 ? res->facts : cJSON_CreateObject();
    struct probe p = {.c = c, .env = env, .facts = sub[i].facts, .trigger = trigger};
    p.deadline = start + c->timeout_ms * (int64_t)(i + 1) / (int64_t)nt;
    cg_findings_init(&p.fs);
    rc = probe_one(&p, targets[i], state, &sub[i]);
    cg_findings_free(&p.fs);
    if (sub[i].status == CG_FAIL || sub[i].status == CG_ERROR) {
      if (first_fail == SIZE_MAX) first_fail = i;
    } else if (first_ok == SIZE_MAX) {
      first_ok = i;
    }
  }
  cJSON_AddNumberToObject(res->facts, "deadline_ms", (double)c->timeout_ms);
  if (rc == CG_OK) {
    probe_save_state(env, state);
    /* the client can use any CMG in its list: one that works is enough, the others are a warning */
    const struct cg_result *r = &sub[0];
    if (first_fail != SIZE_MAX && first_ok != SIZE_MAX) {
      const struct cg_result *bad = &sub[first_fail];
      const char *bad_host =
          cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first_fail == 0 ? res->facts : bad->facts, "host"));
      rc = cg_result_set(res, CG_WARN, "CMG_SOME_CANDIDATES_FAIL", bad->remediation,
                         "The client can use the CMG %s, but the CMG %s in its list fails: %s",
                         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                             first_ok == 0 ? res->facts : sub[first_ok].facts, "host")),
                         bad_host ? bad_host : "?", bad->summary);
      if (rc == CG_OK) /* the URL, with its MP id, then what failed there */
        rc = cg_result_detail(res, "%s%s%s", targets[first_fail], bad->detail ? "; " : "",
                              bad->detail ? bad->detail : "");
    } else {
      rc = cg_result_set(res, r->status, r->code, r->remediation && r->remediation[0] ? r->remediation : NULL, "%s",
                         r->summary ? r->summary : "");
      if (rc == CG_OK && r->detail) rc = cg_result_detail(res, "%s", r->detail);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(res->facts, "reference");
    if (probe_code_source(res->code)) cJSON_AddStringToObject(res->facts, "reference", probe_code_source(res->code));
    if (nt > 1) {
      cJSON *list = cJSON_AddArrayToObject(res->facts, "candidates");
      for (size_t i = 0; i < nt; i++) {
        cJSON *o = i == 0 ? cJSON_CreateObject() : sub[i].facts;
        if (i == 0)
          cJSON_AddStringToObject(o, "url", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res->facts, "url")));
        cJSON_AddStringToObject(o, "status", cg_verdict_name(sub[i].status));
        cJSON_AddStringToObject(o, "code", sub[i].code);
        cJSON_AddStringToObject(o, "summary", sub[i].summary);
        if (sub[i].detail) cJSON_AddStringToObject(o, "detail", sub[i].detail);
        cJSON_AddItemToArray(list, o);
        if (i) sub[i].facts = NULL;
      }
    }
  }
  for (size_t i = 0; i < nt; i++) {
    if (i == 0) sub[i].facts = NULL; /* the check's own */
    cg_result_free(&sub[i]);
  }
  cg_free(sub);
  cJSON_Delete(state);
  return rc;
}

static int init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  (void)env;
  struct probe_ctx *c = vctx;
  if (c->paths.count == 0) {
    cg_snprintf(err, errlen, "checks.cmgprobe.paths needs at least the MP list request");
    return CG_ERR_CONFIG;
  }
  if (!c->client_cert != !c->client_key) {
    cg_snprintf(err, errlen, "checks.cmgprobe.client_cert and client_key go together");
    return CG_ERR_CONFIG;
  }
  for (size_t i = 0; i < c->resolve.count; i++)
    if (!strchr(c->resolve.items[i], ':')) {
      cg_snprintf(err, errlen, "checks.cmgprobe.resolve entries are HOST:PORT:ADDRESS, not '%s'", c->resolve.items[i]);
      return CG_ERR_CONFIG;
    }
  return CG_OK;
}

static const char *const cmgprobe_needs[] = {CG_DISCOVERY_CMG_URLS, CG_DISCOVERY_AUTH_MODE, CG_DISCOVERY_AAD_STATE,
                                             NULL};
static const char *const cmgprobe_provides[] = {CG_DISCOVERY_CMG_PROXY, CG_DISCOVERY_CMG_DATE, NULL};

/* the CMG the device was probed against; Group Policy CmgUrl and `setup --cmg-url` set the URL */
static const struct cg_device_fact probe_device[] = {{"cmg_host", "host"}, {NULL, NULL}};
static const struct cg_policy_value probe_policy[] = {{"CmgUrl", "url"}, {NULL, NULL}};

static const struct cg_setting_meaning cmgprobe_meanings[] = {
    {"url", cg_meaning_https_url}, {"resolve", cg_meaning_resolve_entries}, {NULL, NULL}};

const struct cg_check_plugin cg_check_cmgprobe = {
    .unprivileged = true, /* the network and its own settings: its parsers run without privilege */
    .meanings = cmgprobe_meanings,
    .device_facts = probe_device,
    .policy_values = probe_policy,
    .needs = cmgprobe_needs,
    .provides = cmgprobe_provides,
    .name = "cmgprobe",
    .description =
        "the CMG over HTTPS from this network: DNS, TCP, TLS chain as Windows judges it, CRL and OCSP, MP list, tenant",
    .platforms = CG_PLATFORM_ANY,
    .config_map = probe_map,
    .ctx_size = sizeof(struct probe_ctx),
    .init = init,
    .collect = probe_collect,
    .run = probe_run,
    .fini = probe_fini,
    .source = &probe_source,
};
