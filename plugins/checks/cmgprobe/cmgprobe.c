/* Check `cmgprobe`: from this device's own network, can it reach the CMG, does it trust it, and
 * does the CMG answer with management points? A forensic HTTPS probe (DOMAIN.md §3, §5):
 * DNS, TCP, TLS (chain captured even when verification fails), revocation fetched over HTTP like
 * the Windows client does, the MP list parsed, each failure named with a stable code. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "dnschain.h"
#include "discovery.h"
#include "proxy.h"
#include "http.h"
#include "log.h"
#include "mplist.h"
#include "platform/sys.h"
#include "platform/tls.h"
#include "plugin.h"
#include "tlsinfo.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netdb.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#endif

struct probe_ctx {
  char *url, *proxy_kind, *ca_file, *proxy, *dns_server;
  struct cg_strlist paths, extra_paths, resolve;
  int64_t timeout_ms, connect_timeout_ms, max_body_bytes, crl_timeout_ms, expiry_warn_days, max_clock_skew_s;
  bool check_revocation, crl_unreachable_fails;
};

static const struct cg_config_map probe_map[] = {
    {CG_CFG_STRING, "url", "null",
     "CMG URL: https://CMG/CCM_Proxy_MutualAuth/<MP id> (as in the client's MP list) or https://HOST; "
     "null: the CMG the mpcandidates check found", offsetof(struct probe_ctx, url), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "proxy_kind", "\"ServerAuth\"",
     "Path used for a CMG URL: ServerAuth (Entra/token clients), MutualAuth (PKI clients) or as_given",
     offsetof(struct probe_ctx, proxy_kind), 0, 0, NULL, "ServerAuth|MutualAuth|as_given"},
    {CG_CFG_STRLIST, "paths", "[\"SMS_MP/.sms_aut?mplist\", \"SMS_MP/.sms_aut?mpcert\"]",
     "Requests under the CMG URL; the first must answer the MP list", offsetof(struct probe_ctx, paths), 0, 0, NULL,
     NULL},
    {CG_CFG_STRLIST, "extra_paths", "[]", "More requests, reported as facts", offsetof(struct probe_ctx, extra_paths),
     0, 0, NULL, NULL},
    {CG_CFG_STRING, "ca_file", "null", "Extra trusted roots (PEM) besides the platform store",
     offsetof(struct probe_ctx, ca_file), 0, 0, NULL, NULL},
    {CG_CFG_STRLIST, "resolve", "[]", "curl --resolve entries HOST:PORT:ADDRESS (tests, or a CMG behind split DNS)",
     offsetof(struct probe_ctx, resolve), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "dns_server", "null",
     "Ask this DNS server (IPv4-ADDRESS:PORT) for the CNAME chain of a custom service name (lab; POSIX only); "
     "null: the system resolver", offsetof(struct probe_ctx, dns_server), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "proxy", "null", "Proxy URL, or \"direct\"; null: as SYSTEM would choose (Windows: the WinHTTP default proxy, then this "
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
    {CG_CFG_BOOL, "crl_unreachable_fails", "true",
     "An unreachable CRL is a failure, as for clients that check the CRL (the site default); false when "
     "clients were installed with /NoCRLCheck", offsetof(struct probe_ctx, crl_unreachable_fails), 0, 0, NULL, NULL},
    {CG_CFG_INT, "crl_timeout_ms", "10000", "Longest wait for one CRL", offsetof(struct probe_ctx, crl_timeout_ms),
     500, 120000, NULL, NULL},
    {CG_CFG_INT, "expiry_warn_days", "30", "Warn when a certificate of the chain expires sooner",
     offsetof(struct probe_ctx, expiry_warn_days), 0, 3650, NULL, NULL},
    {CG_CFG_INT, "max_clock_skew_s", "300", "Warn when this device's clock differs more from the CMG's Date",
     offsetof(struct probe_ctx, max_clock_skew_s), 1, 86400, NULL, NULL},
    CG_CFG_END,
};

/* A failure or warning found by the probe, in the order of priority. */
struct finding {
  enum cg_verdict v;
  const char *code;
  const char *winhttp; /* what the ConfigMgr client would log, for matching its logs */
  char summary[700];
  char remediation[700];
};

struct probe {
  const struct probe_ctx *c;
  const struct cg_env *env;
  cJSON *facts;
  int64_t deadline;
  char host[256], base[1024];
  long port;
  struct finding fail;  /* the first failure (v == CG_PASS while none) */
  struct finding warn;  /* the first warning */
  const char *proxy;    /* for curl: NULL leaves libcurl's environment handling */
};

static long remaining(const struct probe *p) {
  int64_t r = p->deadline - cg_time_mono_ms();
  return r > 0 ? (long)r : 1;
}

static void found(struct probe *p, enum cg_verdict v, const char *code, const char *winhttp, const char *remediation,
                  const char *fmt, ...) CG_PRINTF(6, 7);
static void found(struct probe *p, enum cg_verdict v, const char *code, const char *winhttp, const char *remediation,
                  const char *fmt, ...) {
  struct finding *f = v == CG_WARN ? &p->warn : &p->fail;
  cJSON *list = cJSON_GetObjectItemCaseSensitive(p->facts, "findings");
  if (list) cJSON_AddItemToArray(list, cJSON_CreateString(code));
  if (f->code) return; /* the first one found is the one reported */
  f->v = v;
  f->code = code;
  f->winhttp = winhttp;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->summary, sizeof(f->summary), fmt, ap);
  va_end(ap);
  cg_strlcpy(f->remediation, remediation ? remediation : "", sizeof(f->remediation));
}

/* ---- the URL ---------------------------------------------------------------------------------- */

static bool parse_url(struct probe *p, const char *url, char *why, size_t whylen) {
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
  if (p->port == 443) cg_snprintf(hostport, sizeof(hostport), "%s", p->host);
  else cg_snprintf(hostport, sizeof(hostport), "%s:%ld", p->host, p->port);
  /* /CCM_Proxy_MutualAuth/<id> or /CCM_Proxy_ServerAuth/<id>, any case (DOMAIN.md §3.2) */
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
    const char *kind = !cg_strcasecmp(p->c->proxy_kind, "as_given") ? (i ? "CCM_Proxy_ServerAuth" : "CCM_Proxy_MutualAuth")
                       : !cg_strcasecmp(p->c->proxy_kind, "MutualAuth") ? "CCM_Proxy_MutualAuth"
                                                                          : "CCM_Proxy_ServerAuth";
    cg_snprintf(p->base, sizeof(p->base), "https://%s/%s/%.*s", hostport, kind, (int)dl, id);
    char idbuf[24];
    cg_snprintf(idbuf, sizeof(idbuf), "%.*s", (int)dl, id);
    cJSON_AddStringToObject(p->facts, "mp_id", idbuf);
    return true;
  }
  size_t pl = strlen(path);
  while (pl && path[pl - 1] == '/') pl--;
  cg_snprintf(p->base, sizeof(p->base), "https://%s%.*s", hostport, (int)pl, path);
  return true;
}

/* ---- CMG name rules (DOMAIN.md §3.1) ------------------------------------------------------------ */

static void name_rules(struct probe *p, const char *name) {
  static const struct { const char *suffix, *kind; } azure[] = {
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
  if (!cJSON_GetObjectItemCaseSensitive(p->facts, "service_name_kind"))
    cJSON_AddStringToObject(p->facts, "service_name_kind", name == p->host ? kind : "custom_domain");
  if (name != p->host) cJSON_AddStringToObject(p->facts, "deployment_name", name);
  cJSON *v = cJSON_AddArrayToObject(p->facts, "name_rule_violations");
  if (!prefix_len) return;
  char why[200] = "";
  bool bad_char = false;
  for (size_t i = 0; i < prefix_len; i++) {
    char ch = name[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) bad_char = true;
  }
  if (bad_char) {
    cg_snprintf(why, sizeof(why), "the deployment name prefix '%.*s' has characters other than lowercase letters "
                "and digits", (int)prefix_len, name);
    cJSON_AddItemToArray(v, cJSON_CreateString(why));
  }
  if (prefix_len < 3 || prefix_len > 24) {
    cg_snprintf(why, sizeof(why), "the deployment name prefix is %zu characters long (3 to 24 allowed)", prefix_len);
    cJSON_AddItemToArray(v, cJSON_CreateString(why));
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
  static char chain[CG_DNS_MAX_CHAIN][256];
  const char *deployment = p->host;
  bool literal = strspn(p->host, "0123456789.") == strlen(p->host) || strchr(p->host, ':');
  if (!literal && !is_azure_name(p->host)) {
    char err[200] = "";
    int n = cg_dns_cname_chain(p->host, p->c->dns_server, chain, CG_DNS_MAX_CHAIN, err, sizeof(err));
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
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_CANONNAME;
  int64_t t0 = cg_time_mono_ms();
  int rc = getaddrinfo(p->host, NULL, &hints, &res);
  cJSON_AddStringToObject(d, "source", "system resolver");
  cJSON_AddNumberToObject(d, "time_ms", (double)(cg_time_mono_ms() - t0));
  if (rc != 0) {
#ifdef _WIN32
    cJSON_AddStringToObject(d, "error", gai_strerrorA(rc)); /* WSAStartup: done by curl_global_init */
#else
    cJSON_AddStringToObject(d, "error", gai_strerror(rc));
#endif
    return deployment;
  }
  cJSON *a = cJSON_AddArrayToObject(d, "addresses");
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    char buf[64] = "";
    const void *src = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                               : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
    if (inet_ntop(ai->ai_family, src, buf, sizeof(buf))) {
      bool dup = false;
      const cJSON *x;
      cJSON_ArrayForEach(x, a) dup |= !strcmp(x->valuestring, buf);
      if (!dup) cJSON_AddItemToArray(a, cJSON_CreateString(buf));
    }
  }
  /* A custom service name is a CNAME to the Azure deployment name: show where it leads. */
  if (res && res->ai_canonname && cg_strcasecmp(res->ai_canonname, p->host) != 0)
    cJSON_AddStringToObject(d, "canonical_name", res->ai_canonname);
  freeaddrinfo(res);
  return deployment;
}

/* ---- one request --------------------------------------------------------------------------------- */

static const char *status_meaning(long status, const char *text, const char **remedy) {
  static const struct { long s; const char *text, *meaning, *remedy; } t[] = {
      {401, "CMGService_Invalid_Token",
       "the CMG refused the client's token: a bulk registration token expired, or the client was offline for more "
       "than 30 days",
       "Re-register the client on the intranet or VPN, or issue a new bulk registration token."},
      {401, "CMGConnector_Unauthorized",
       "the CMG connection point could not get a token from CCM_STS on the management point",
       "Fix IIS on the management point (remove any redirect on the Default Web Site) and read CCM_STS.log there."},
      {403, "CMGConnector_Clientcertificaterequired",
       "the CMG connection point has no valid client authentication certificate for an HTTPS management point (or "
       "cannot check its CRL)",
       "Issue a client authentication certificate to the connection point server and make its CRL reachable; an "
       "Enhanced HTTP management point does not need one."},
      {403, "CMGConnector_Forbidden",
       "the management point's IIS HTTPS binding does not fit its mode (a certificate left over from HTTPS mode, or "
       "an expired or revoked one)",
       "Bind the 'SMS Role SSL Certificate' (Enhanced HTTP) or a valid PKI certificate (HTTPS) to port 443 of the "
       "management point."},
  };
  for (size_t i = 0; i < CG_ARRAY_LEN(t); i++)
    if (t[i].s == status && text && !cg_strcasecmp(text, t[i].text)) {
      *remedy = t[i].remedy;
      return t[i].meaning;
    }
  *remedy = NULL;
  return NULL;
}

struct req_out {
  struct cg_http_resp r;
  int rc;
  cJSON *j;
};

static void do_request(struct probe *p, CURL *h, const char *path, bool first, struct cg_tls_capture *cap,
                       struct curl_slist *resolve, struct req_out *o) {
  char url[1400];
  cg_snprintf(url, sizeof(url), "%s/%s", p->base, path);
  struct cg_http_req rq = {.method = "GET", .url = url, .timeout_ms = remaining(p),
                           .ca_file = p->c->ca_file, .proxy = p->proxy,
                           .max_response = (size_t)p->c->max_body_bytes, .abort_over_cap = true,
                           .connect_timeout_ms = (long)p->c->connect_timeout_ms, .resolve = resolve,
                           .ssl_ctx_fn = first ? cg_tls_capture_ctx : NULL, .ssl_ctx_data = cap,
                           .fresh_connection = first};
  o->rc = cg_http_request(h, &rq, &o->r);
  o->j = cJSON_CreateObject();
  cJSON_AddStringToObject(o->j, "path", path);
  if (o->r.status) {
    cJSON_AddNumberToObject(o->j, "status", (double)o->r.status);
    cJSON_AddStringToObject(o->j, "status_text", o->r.reason);
    const char *rem;
    const char *m = status_meaning(o->r.status, o->r.reason, &rem);
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

static bool has_error(const struct cg_tls_capture *c, int err, int *depth) {
  for (int i = 0; i < c->nerrors; i++)
    if (c->errors[i].error == err) {
      if (depth) *depth = c->errors[i].depth;
      return true;
    }
  return false;
}

static const char *depth_name(int depth) { return depth == 0 ? "The CMG's certificate" : "A CA certificate of its chain"; }

static void classify_transport(struct probe *p, const struct req_out *o, const struct cg_tls_capture *cap) {
  int cc = o->r.curl_rc, d = 0;
  const char *err = o->r.error;
  char hostport[300];
  cg_snprintf(hostport, sizeof(hostport), "%s:%ld", p->host, p->port);
  if (cc == CURLE_COULDNT_RESOLVE_HOST) {
    found(p, CG_FAIL, "CMG_DNS_FAILURE", "12007 ERROR_WINHTTP_NAME_NOT_RESOLVED (0x80072EE7)",
          "Check that the CMG service name resolves from the internet (public DNS CNAME to the Azure deployment "
          "name for a custom domain), and the device's DNS and proxy settings.",
          "The CMG name %s does not resolve from this device's network.", p->host);
  } else if (cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_PROXY) {
    found(p, CG_FAIL, "CMG_PROXY_FAILED", "12007 ERROR_WINHTTP_NAME_NOT_RESOLVED (0x80072EE7)",
          "Fix cmgprobe.proxy (or the https_proxy environment of the agent) to the proxy SYSTEM must use.",
          "The proxy could not be used: %s.", err);
  } else if (cc == CURLE_OPERATION_TIMEDOUT && o->r.connect_ms < 0) {
    found(p, CG_FAIL, "CMG_CONNECT_TIMEOUT", "12002 ERROR_WINHTTP_TIMEOUT (0x80072EE2)",
          "Something drops the traffic to TCP 443 of the CMG: a firewall, a network that needs a proxy SYSTEM "
          "does not have, or a captive portal; try another network or configure the proxy.",
          "No answer from %s within %lld ms: the connection attempt timed out.", hostport,
          (long long)p->c->connect_timeout_ms);
  } else if (cc == CURLE_COULDNT_CONNECT) {
#ifdef _WIN32
    bool refused = o->r.os_errno == WSAECONNREFUSED;
#else
    bool refused = o->r.os_errno == ECONNREFUSED;
#endif
    found(p, CG_FAIL, refused ? "CMG_CONNECT_REFUSED" : "CMG_CONNECT_FAILED",
          "12029 ERROR_WINHTTP_CANNOT_CONNECT (0x80072EFD)",
          "Check that the CMG is running (console: Cloud Management Gateway status) and that the address the name "
          "resolves to is the CMG; a network that blocks 443 needs a proxy for SYSTEM.",
          "%s %s.", hostport, refused ? "refused the connection (nothing listens on that port)" : "cannot be reached");
  } else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT || (cap->nerrors > 0)) {
    if (has_error(cap, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, &d) && cap->sent && sk_X509_num(cap->sent) == 1 &&
        X509_check_issued(sk_X509_value(cap->sent, 0), sk_X509_value(cap->sent, 0)) != X509_V_OK) {
      found(p, CG_FAIL, "CMG_CERT_CHAIN_INCOMPLETE", "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)",
            "Export the CMG certificate with its whole chain (PFX with the intermediate CA) and update the CMG; "
            "Windows may fetch the intermediate from the certificate's AIA address, other clients will not.",
            "The CMG sent its certificate without the intermediate CA, so the chain cannot be built to a trusted "
            "root.");
    } else if (has_error(cap, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, NULL) ||
               has_error(cap, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, NULL) ||
               has_error(cap, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, NULL) ||
               has_error(cap, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, NULL) ||
               has_error(cap, X509_V_ERR_CERT_UNTRUSTED, NULL)) {
      found(p, CG_FAIL, "CMG_CERT_UNTRUSTED", "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)",
            "Install the root (and intermediate) CA of the CMG certificate in the device's Trusted Root (and "
            "Intermediate) store, or use a certificate from a public CA; a self-signed certificate is never trusted.",
            "This device does not trust the CMG's certificate: %s.",
            has_error(cap, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, NULL) ? "it is self-signed"
                                                                         : "its root CA is not in the trusted store");
    } else if (has_error(cap, X509_V_ERR_CERT_HAS_EXPIRED, &d)) {
      found(p, CG_FAIL, "CMG_CERT_EXPIRED", "12037 ERROR_WINHTTP_SECURE_CERT_DATE_INVALID (0x80072F05)",
            "Renew the CMG server authentication certificate and update it in the CMG properties (or fix this "
            "device's clock if it is wrong).",
            "%s has expired (by this device's clock).", depth_name(d));
    } else if (has_error(cap, X509_V_ERR_CERT_NOT_YET_VALID, &d)) {
      found(p, CG_FAIL, "CMG_CERT_NOT_YET_VALID", "12037 ERROR_WINHTTP_SECURE_CERT_DATE_INVALID (0x80072F05)",
            "Check this device's clock and time zone first; otherwise the CMG was given a certificate that starts "
            "later.",
            "%s is not valid yet (by this device's clock).", depth_name(d));
    } else if (has_error(cap, X509_V_ERR_HOSTNAME_MISMATCH, NULL) || cc == CURLE_PEER_FAILED_VERIFICATION) {
      found(p, CG_FAIL, "CMG_CERT_NAME_MISMATCH", "12038 ERROR_WINHTTP_SECURE_CERT_CN_INVALID (0x80072F06)",
            "Use the CMG service name exactly as on its certificate (CN/SAN), or reissue the certificate with this "
            "name; a CMG cloud distribution point name is a common mismatch.",
            "The CMG's certificate is not issued for the name %s.", p->host);
    } else {
      found(p, CG_FAIL, "CMG_CERT_UNTRUSTED", "12175 ERROR_WINHTTP_SECURE_FAILURE (0x80072F8F)",
            "Read the chain in the facts; install the missing CA certificates.",
            "The CMG's certificate could not be verified: %s.", err);
    }
  } else if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CIPHER) {
    bool proto = strstr(err, "unsupported protocol") || strstr(err, "protocol version") ||
                 strstr(cap->alert, "protocol version") || strstr(err, "no protocols available");
    if (proto)
      found(p, CG_FAIL, "CMG_TLS_PROTOCOL", "12157 ERROR_WINHTTP_SECURE_CHANNEL_ERROR (0x80072F7D)",
            "The CMG and this device share no TLS version of 1.2 or newer: the CMG enforces TLS 1.2 by default; "
            "enable TLS 1.2 on both (DOMAIN.md §6.2: SCHANNEL and WinHTTP DefaultSecureProtocols on old Windows).",
            "The TLS handshake with %s failed: the server offers no TLS 1.2 or newer.", hostport);
    else
      found(p, CG_FAIL, "CMG_TLS_HANDSHAKE_FAILED", "12157 ERROR_WINHTTP_SECURE_CHANNEL_ERROR (0x80072F7D)",
            "A device on this network that intercepts TLS (a proxy or a captive portal) or a CMG without a usable "
            "certificate; try another network and check the CMG status.",
            "The TLS handshake with %s failed: %s.", hostport, err);
  } else if (cc == CURLE_WRITE_ERROR && o->r.too_large) {
    found(p, CG_FAIL, "CMG_RESPONSE_TOO_LARGE", NULL,
          "An MP list is a few KB: something else answers in the CMG's place (a proxy or captive portal page); "
          "raise cmgprobe.max_body_bytes only if the CMG really serves more.",
          "The answer to %s is larger than %lld bytes and was cut off.", o->j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->j, "path")) : "",
          (long long)p->c->max_body_bytes);
  } else if ((cc == CURLE_OUT_OF_MEMORY || cc == 100 /* CURLE_TOO_LARGE, curl >= 8.6 */) && o->r.tls_ms >= 0) {
    /* curl refuses a response header over 100 KB ("Avoided giant realloc for header") */
    found(p, CG_FAIL, "CMG_RESPONSE_TOO_LARGE", NULL,
          "A CMG's headers are small: something else answers in the CMG's place (a proxy or a broken device on "
          "the way); open the URL from the facts in a browser on this network.",
          "The answer to %s has a header larger than 100 KB and was refused.",
          o->j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->j, "path")) : "");
  } else if (cc == CURLE_OPERATION_TIMEDOUT) {
    found(p, CG_FAIL, "CMG_SLOW_RESPONSE", "12002 ERROR_WINHTTP_TIMEOUT (0x80072EE2)",
          "The CMG accepted the connection but answers too slowly: check the CMG's health in the console and "
          "CMGService.log; a slow proxy on this network also does it.",
          "The CMG did not finish answering within the check's deadline of %lld ms (%zu bytes received).",
          (long long)p->c->timeout_ms, o->r.body_len);
  } else if (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR) {
    found(p, CG_FAIL, "CMG_CONNECTION_RESET", "12030 ERROR_WINHTTP_CONNECTION_ERROR (0x80072EFE)",
          "The connection was cut in the middle of the answer: a proxy, firewall or TLS inspection device on this "
          "network, or a CMG instance that restarted; try again and from another network.",
          "The connection to %s was closed before the answer was complete: %s.", hostport, err);
  } else {
    found(p, CG_FAIL, "CMG_UNREACHABLE", NULL, "See the error in the facts.", "The CMG could not be reached: %s.", err);
  }
}

/* ---- the chain after a successful handshake ------------------------------------------------------ */

static void chain_facts(struct probe *p, struct cg_tls_capture *cap, bool verified, cJSON *tls) {
  STACK_OF(X509) *ch = cap->built && sk_X509_num(cap->built) ? cap->built : cap->sent;
  cJSON_AddStringToObject(tls, "chain_source", ch == cap->built ? "built" : "as_sent");
  cJSON_AddNumberToObject(tls, "certificates_sent", cap->sent ? sk_X509_num(cap->sent) : 0);
  cJSON *arr = cJSON_AddArrayToObject(tls, "chain");
  int64_t now = cg_time_utc_ms() / 1000;
  int n = ch ? sk_X509_num(ch) : 0;
  for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, cg_tls_cert_json(sk_X509_value(ch, i), now));
  if (!n) return;
  X509 *leaf = sk_X509_value(ch, 0);
  bool match = cg_tls_name_matches(leaf, p->host);
  cJSON_AddBoolToObject(tls, "name_match", match);
  cJSON *la = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "not_after");
  if (la) cJSON_AddStringToObject(p->facts, "cert_not_after", la->valuestring); /* flat, for fleet queries */
  int64_t days = (cg_tls_not_after(leaf) - now) / 86400;
  cJSON_AddNumberToObject(tls, "days_to_expiry", (double)days);
  cJSON_AddStringToObject(tls, "verify_result",
                          cap->nerrors ? X509_verify_cert_error_string(cap->errors[0].error)
                                       : match ? "ok" : "the certificate is not for this host name");
  if (!verified) return;
  /* Expiry horizon of every certificate but the root. */
  for (int i = 0; i < n; i++) {
    X509 *x = sk_X509_value(ch, i);
    if (i == n - 1 && n > 1 && X509_check_issued(x, x) == X509_V_OK) break;
    int64_t dl = (cg_tls_not_after(x) - now) / 86400;
    if (dl < p->c->expiry_warn_days) {
      found(p, CG_WARN, "CMG_CERT_EXPIRING", NULL,
            "Renew the certificate now and update the CMG (a renewed CMG certificate is uploaded in the CMG "
            "properties); clients cannot connect the day it expires.",
            "%s expires in %lld day(s).", i == 0 ? "The CMG's certificate" : "A CA certificate of the CMG's chain",
            (long long)dl);
      break;
    }
  }
  if (!p->c->check_revocation) return;
  cJSON *rev = cJSON_AddArrayToObject(p->facts, "revocation");
  for (int i = 0; i + 1 < n; i++) {
    X509 *x = sk_X509_value(ch, i), *issuer = sk_X509_value(ch, i + 1);
    char detail[512] = "not checked: the check's deadline was spent";
    long t = remaining(p);
    if (t > p->c->crl_timeout_ms) t = (long)p->c->crl_timeout_ms;
    /* A CRL fetch cut short by the deadline says nothing about the CRL: not checked, no finding. */
    enum cg_rev r = t >= 500 ? cg_tls_check_crl(x, issuer, t, 10u * 1024u * 1024u, p->proxy, detail, sizeof(detail))
                             : CG_REV_NOT_CHECKED;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "depth", i);
    cJSON_AddStringToObject(o, "status", cg_rev_name(r));
    cJSON_AddStringToObject(o, "detail", detail);
    cJSON_AddItemToArray(rev, o);
    cJSON_AddStringToObject(cJSON_GetArrayItem(arr, i), "revocation", cg_rev_name(r));
    cJSON_AddStringToObject(o, "subject", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, i), "subject")));
    if (r == CG_REV_REVOKED)
      found(p, CG_FAIL, "CMG_CERT_REVOKED", "12170 ERROR_WINHTTP_SECURE_CERT_REVOKED (0x80072F8A)",
            "Issue a new CMG server authentication certificate and update the CMG; the revoked one is refused by "
            "every client.",
            "%s is revoked: %s.", i == 0 ? "The CMG's certificate" : "A CA certificate of the CMG's chain", detail);
    else if (r == CG_REV_UNREACHABLE)
      found(p, p->c->crl_unreachable_fails ? CG_FAIL : CG_WARN, "CMG_CRL_UNREACHABLE",
            "12057 ERROR_WINHTTP_SECURE_CERT_REV_FAILED (0x80072F19)",
            "Publish the CRL of the issuing CA on the internet (an HTTP distribution point reachable from outside), "
            "or clear the site option 'Clients check the certificate revocation list (CRL) for site systems' and "
            "install clients with ccmsetup /NoCRLCheck (then set cmgprobe.crl_unreachable_fails to false).",
            "The revocation list of %s cannot be fetched from this network (%s): clients that check the CRL refuse "
            "the CMG.",
            i == 0 ? "the CMG's certificate" : "a CA certificate of the CMG's chain", detail);
  }
}

/* ---- the answers --------------------------------------------------------------------------------- */

static void classify_http(struct probe *p, const struct req_out *o, const struct req_out *cert) {
  long s = o->r.status;
  const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->j, "path"));
  if (s == 200) {
    struct cg_mplist *m = cg_calloc(1, sizeof(*m));
    if (!m) return;
    if (cg_mplist_parse(o->r.body, o->r.body_len, m) != CG_OK) {
      found(p, CG_FAIL, "CMG_MPLIST_INVALID", "0x87D0027E",
            "Something other than the CMG answers (a proxy, captive portal or sign-in page) or the management "
            "point is broken; open the URL from the facts in a browser on this network.",
            "The answer to %s is not an MP list: %s.", path, m->error);
    } else {
      cJSON *mps = cJSON_AddArrayToObject(p->facts, "mplist");
      for (size_t i = 0; i < m->count; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "name", m->mp[i].name);
        cJSON_AddStringToObject(x, "fqdn", m->mp[i].fqdn);
        if (m->mp[i].site_code[0]) cJSON_AddStringToObject(x, "site_code", m->mp[i].site_code);
        if (m->mp[i].version[0]) cJSON_AddStringToObject(x, "version", m->mp[i].version);
        if (m->mp[i].ssl_state[0]) cJSON_AddStringToObject(x, "ssl_state", m->mp[i].ssl_state);
        cJSON_AddItemToArray(mps, x);
      }
      cJSON_AddNumberToObject(p->facts, "mplist_total", (double)m->total);
      if (m->total == 0)
        found(p, CG_FAIL, "CMG_MPLIST_EMPTY", NULL,
              "In the console, open the properties of a management point and enable 'Allow Configuration Manager "
              "cloud management gateway traffic'; check SMS_Cloud_ProxyConnector.log on the connection point.",
              "The CMG answers, but its MP list is empty: no management point allows CMG traffic.");
    }
    cg_free(m);
    return;
  }
  const char *rem = NULL;
  const char *meaning = status_meaning(s, o->r.reason, &rem);
  char st[200];
  cg_snprintf(st, sizeof(st), "HTTP %ld%s%s", s, o->r.reason[0] ? " " : "", o->r.reason);
  if (s == 401 || s == 403) {
    found(p, CG_FAIL, s == 401 ? "CMG_HTTP_401" : "CMG_HTTP_403", "0x87D0027E (CCM_E_BAD_HTTP_STATUS_CODE)",
          rem ? rem
              : s == 401 ? "The CMG did not accept the client's authentication: check the Entra device token (aadjoin "
                           "check) or, for PKI clients, that the client certificate's root and intermediate CAs are "
                           "uploaded to the CMG."
                         : "Check that the management point allows CMG traffic (its properties in the console) and "
                           "read SMS_Cloud_ProxyConnector.log on the connection point.",
          "The CMG answered %s to %s%s%s.", st, path, meaning ? ": " : "", meaning ? meaning : "");
  } else if (s >= 500) {
    bool cert_ok = cert && cert->r.status == 200;
    found(p, CG_FAIL, "CMG_HTTP_5XX", "0x87D0027E (CCM_E_BAD_HTTP_STATUS_CODE)",
          s == 500 ? (cert_ok ? "The MP certificate answers but the MP list does not: the management point cannot "
                                "query the site database; check MP_Location.log and the SQL connection of the MP."
                              : "Check the management point (mpcontrol.log, IIS) and its database connection.")
                   : "Check the CMG status in the console, SMS_Cloud_ProxyConnector.log on the connection point and "
                     "CMGService.log: the CMG is reachable but cannot pass the request on (the meaning of 502/503 is "
                     "not documented by Microsoft).",
          "The CMG is reachable but answered %s to %s: the path behind it is down.", st, path);
  } else if (s >= 300 && s < 400) {
    found(p, CG_FAIL, "CMG_HTTP_REDIRECT", NULL,
          "A CMG does not redirect: a captive portal (hotel, airport Wi-Fi) or a proxy answers instead; sign in to "
          "the network or configure the proxy.",
          "The answer to %s is a redirect (%s) where the CMG answers directly.", path, st);
  } else {
    found(p, CG_FAIL, "CMG_HTTP_UNEXPECTED", "0x87D0027E (CCM_E_BAD_HTTP_STATUS_CODE)",
          "Check the management point id in the URL (it comes from the client's MP list) and that this is the CMG.",
          "The CMG answered %s to %s.", st, path);
  }
}

static void clock_skew(struct probe *p, const struct req_out *o) {
  if (!o->r.date[0]) return;
  time_t t = curl_getdate(o->r.date, NULL);
  if (t == (time_t)-1) return;
  /* The Date header has one-second resolution and is written when the answer starts. */
  int64_t skew = cg_time_utc_ms() / 1000 - (int64_t)t;
  cJSON_AddNumberToObject(p->facts, "clock_skew_s", (double)skew);
  if (skew > p->c->max_clock_skew_s || skew < -p->c->max_clock_skew_s)
    found(p, CG_WARN, "CMG_CLOCK_SKEW", NULL,
          "Fix this device's time (w32tm /resync, time zone); Entra tokens and certificate checks fail with a "
          "clock that is minutes off.",
          "This device's clock is %lld s %s the CMG's.", (long long)(skew < 0 ? -skew : skew),
          skew > 0 ? "ahead of" : "behind");
}

/* ---- the check ----------------------------------------------------------------------------------- */

static int run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct probe_ctx *c = vctx;
  struct probe p = {.c = c, .env = env, .facts = res->facts};
  p.deadline = cg_time_mono_ms() + c->timeout_ms;
  cJSON_AddArrayToObject(p.facts, "findings");
  const char *url = c->url;
  const char *source = "config";
  if (!url) {
    const cJSON *urls = cg_discovery_get(env, CG_DISCOVERY_CMG_URLS);
    if (cJSON_GetArraySize(urls) > 0) {
      url = cJSON_GetStringValue(cJSON_GetArrayItem(urls, 0));
      source = "mpcandidates";
      cJSON_AddItemToObject(p.facts, "discovered_urls", cJSON_Duplicate(urls, true));
    }
  }
  if (!url)
    return cg_result_set(res, CG_SKIP, "CMG_NO_TARGET",
                         "Set checks.cmgprobe.url to the CMG URL from the client's MP list "
                         "(https://CMG/CCM_Proxy_MutualAuth/<id>), or run it where the ConfigMgr client knows its CMG.",
                         "No CMG to probe: cmgprobe.url is not set and the client's MP list names no CMG.");
  cJSON_AddStringToObject(p.facts, "target_source", source);
  char why[300];
  if (!parse_url(&p, url, why, sizeof(why)))
    return cg_result_set(res, CG_FAIL, "CMG_BAD_URL", "Fix checks.cmgprobe.url.", "The CMG URL is not usable: %s.", why);
  cJSON_AddStringToObject(p.facts, "url", p.base);
  cJSON_AddStringToObject(p.facts, "host", p.host);
  cJSON_AddNumberToObject(p.facts, "port", (double)p.port);
  char trust[300];
  cg_snprintf(trust, sizeof(trust), "%s%s%s", cg_platform_trust_name(), c->ca_file ? " + " : "", c->ca_file ? c->ca_file : "");
  cJSON_AddStringToObject(p.facts, "trust", trust);
  struct cg_proxy_choice pc;
  cg_proxy_resolve(c->proxy, p.base, c->timeout_ms / 3, &pc);
  p.proxy = pc.curl_default ? NULL : pc.proxy;
  cg_proxy_facts(p.facts, &pc);
  cg_discovery_publish(env, CG_DISCOVERY_CMG_PROXY, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(p.facts, "proxy_used"), true));
  name_rules(&p, dns_facts(&p));
  cJSON_AddArrayToObject(p.facts, "requests");

  struct curl_slist *resolve = NULL;
  for (size_t i = 0; i < c->resolve.count; i++) resolve = curl_slist_append(resolve, c->resolve.items[i]);
  CURL *h = curl_easy_init();
  if (!h) {
    curl_slist_free_all(resolve);
    return CG_ERR_NOMEM;
  }
  struct cg_tls_capture cap;
  memset(&cap, 0, sizeof(cap));
  size_t npaths = c->paths.count + c->extra_paths.count;
  struct req_out *outs = cg_calloc(npaths ? npaths : 1, sizeof(*outs));
  int rc = outs ? CG_OK : CG_ERR_NOMEM;
  for (size_t i = 0; rc == CG_OK && i < npaths; i++) {
    const char *path = i < c->paths.count ? c->paths.items[i] : c->extra_paths.items[i - c->paths.count];
    while (*path == '/') path++;
    do_request(&p, h, path, i == 0, &cap, resolve, &outs[i]);
    if (i == 0) {
      cJSON *tls = cJSON_AddObjectToObject(p.facts, "tls");
      if (cap.version[0]) cJSON_AddStringToObject(tls, "version", cap.version);
      if (cap.cipher[0]) cJSON_AddStringToObject(tls, "cipher", cap.cipher);
      if (cap.alert[0]) cJSON_AddStringToObject(tls, "alert_received", cap.alert);
      if (outs[0].r.primary_ip[0]) cJSON_AddStringToObject(p.facts, "address", outs[0].r.primary_ip);
      if (outs[0].r.connect_ms >= 0) cJSON_AddNumberToObject(p.facts, "connect_ms", (double)(int64_t)(outs[0].r.connect_ms * 10) / 10.0);
      if (outs[0].r.tls_ms >= 0 && outs[0].r.connect_ms >= 0)
        cJSON_AddNumberToObject(tls, "handshake_ms", (double)(int64_t)((outs[0].r.tls_ms - outs[0].r.connect_ms) * 10) / 10.0);
      cJSON *dns = cJSON_GetObjectItemCaseSensitive(p.facts, "dns");
      if (dns && !cJSON_GetObjectItemCaseSensitive(dns, "time_ms") && outs[0].r.dns_ms >= 0)
        cJSON_AddNumberToObject(dns, "time_ms", (double)(int64_t)(outs[0].r.dns_ms * 10) / 10.0);
      if (dns && !cJSON_GetObjectItemCaseSensitive(dns, "addresses") && outs[0].r.primary_ip[0]) {
        cJSON *a = cJSON_AddArrayToObject(dns, "addresses");
        cJSON_AddItemToArray(a, cJSON_CreateString(outs[0].r.primary_ip));
      }
      if (outs[0].r.status) {
        cJSON *http = cJSON_AddObjectToObject(p.facts, "http");
        cJSON_AddNumberToObject(http, "status", (double)outs[0].r.status);
        cJSON_AddStringToObject(http, "status_text", outs[0].r.reason);
        if (outs[0].r.ttfb_ms >= 0) cJSON_AddNumberToObject(http, "ttfb_ms", (double)(int64_t)(outs[0].r.ttfb_ms * 10) / 10.0);
        if (outs[0].r.total_ms >= 0) cJSON_AddNumberToObject(http, "total_ms", (double)(int64_t)(outs[0].r.total_ms * 10) / 10.0);
        cJSON_AddNumberToObject(http, "bytes", (double)outs[0].r.body_len);
        if (outs[0].r.date[0]) cJSON_AddStringToObject(http, "date", outs[0].r.date);
      }
      cJSON *ve = cJSON_AddArrayToObject(tls, "verify_errors");
      for (int k = 0; k < cap.nerrors; k++) {
        char e[200];
        cg_snprintf(e, sizeof(e), "depth %d: %s", cap.errors[k].depth, X509_verify_cert_error_string(cap.errors[k].error));
        cJSON_AddItemToArray(ve, cJSON_CreateString(e));
      }
      bool tls_ok = outs[0].r.tls_ms >= 0 && cap.handshake_done && cap.nerrors == 0 &&
                    outs[0].r.curl_rc != CURLE_PEER_FAILED_VERIFICATION;
      /* A failed transfer is named first: it is what the client meets before any revocation check. */
      if (outs[0].rc != CG_OK) classify_transport(&p, &outs[0], &cap);
      if (cap.sent || cap.built) chain_facts(&p, &cap, tls_ok, tls);
      if (outs[0].rc != CG_OK) break; /* the other paths would fail the same way */
    }
  }
  if (rc == CG_OK && outs[0].rc == CG_OK) {
    clock_skew(&p, &outs[0]);
    if (outs[0].r.date[0]) cg_discovery_publish(env, CG_DISCOVERY_CMG_DATE, cJSON_CreateString(outs[0].r.date));
    classify_http(&p, &outs[0], npaths > 1 && outs[1].j ? &outs[1] : NULL);
    if (npaths > 1 && outs[1].j && outs[1].rc != CG_OK)
      found(&p, CG_WARN, "CMG_PARTIAL", NULL, "See the requests in the facts.",
            "The MP list answered, but %s failed: %s.", c->paths.count > 1 ? c->paths.items[1] : "a request",
            outs[1].r.error);
  }
  const cJSON *viol = cJSON_GetObjectItemCaseSensitive(p.facts, "name_rule_violations");
  if (cJSON_GetArraySize(viol) > 0)
    found(&p, CG_WARN, "CMG_NAME_RULES", NULL,
          "CMG deployment names take 3 to 24 lowercase letters and digits (no '-'); check that this is the name "
          "of your CMG, or redeploy it under a valid name.",
          "The CMG name %s breaks the naming rules: %s.",
          cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p.facts, "deployment_name"))
              ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p.facts, "deployment_name"))
              : p.host,
          cJSON_GetArrayItem(viol, 0)->valuestring);
  cJSON_AddNumberToObject(p.facts, "deadline_ms", (double)c->timeout_ms);
  const struct finding *f = p.fail.code ? &p.fail : p.warn.code ? &p.warn : NULL;
  if (rc != CG_OK) {
    /* out of memory: the runner reports an error verdict */
  } else if (f) {
    if (f->winhttp) cJSON_AddStringToObject(p.facts, "client_would_log", f->winhttp);
    rc = cg_result_set(res, f->v, f->code, f->remediation, "%s", f->summary);
  } else {
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p.facts, "mplist"));
    const cJSON *mp0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p.facts, "mplist"), 0);
    rc = cg_result_set(res, CG_PASS, "CMG_OK", NULL,
                       "The CMG %s answers over %s with a trusted certificate and %d management point(s)%s%s "
                       "(%.0f ms).",
                       p.host, cap.version[0] ? cap.version : "TLS", n, mp0 ? ", first " : "",
                       mp0 ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(mp0, "fqdn")) : "",
                       outs[0].r.total_ms);
  }
  for (size_t i = 0; outs && i < npaths; i++) cg_free(outs[i].r.body);
  cg_free(outs);
  cg_tls_capture_free(&cap);
  curl_easy_cleanup(h);
  curl_slist_free_all(resolve);
  return rc;
}

static int init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  (void)env;
  struct probe_ctx *c = vctx;
  if (c->paths.count == 0) {
    cg_snprintf(err, errlen, "checks.cmgprobe.paths needs at least the MP list request");
    return CG_ERR_CONFIG;
  }
  for (size_t i = 0; i < c->resolve.count; i++)
    if (!strchr(c->resolve.items[i], ':')) {
      cg_snprintf(err, errlen, "checks.cmgprobe.resolve entries are HOST:PORT:ADDRESS, not '%s'", c->resolve.items[i]);
      return CG_ERR_CONFIG;
    }
  return CG_OK;
}

const struct cg_check_plugin cg_check_cmgprobe = {
    .name = "cmgprobe",
    .description = "the CMG over HTTPS from this network: DNS, TCP, TLS chain, CRLs, status, MP list",
    .platforms = CG_PLATFORM_ANY,
    .config_map = probe_map,
    .ctx_size = sizeof(struct probe_ctx),
    .init = init,
    .run = run,
};
