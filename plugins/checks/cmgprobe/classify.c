/* cmgprobe: what a failed transfer or an HTTP answer of the CMG means, in the client's words
 * (the WinHTTP error it would log), and where each code's cause and fix come from. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "mplist.h"
#include "platform/sys.h"
#include "probe.h"

#define MS_ERR "https://learn.microsoft.com/troubleshoot/mem/configmgr/client-management/cmg-communication-error"
#define MS_CERT "https://learn.microsoft.com/mem/configmgr/core/clients/manage/cmg/server-auth-cert"
#define MS_CRL "https://learn.microsoft.com/mem/configmgr/core/plan-design/security/plan-for-certificates"
#define MS_WINHTTP "https://learn.microsoft.com/windows/win32/winhttp/error-messages"
#define MS_TLS12 "https://learn.microsoft.com/mem/configmgr/core/plan-design/security/enable-tls-1-2-client"
#define MS_FLOW "https://learn.microsoft.com/mem/configmgr/core/clients/manage/cmg/data-flow"
#define MS_SETUP "https://learn.microsoft.com/mem/configmgr/core/clients/manage/cmg/setup-cloud-management-gateway"
#define MS_CLIENTS "https://learn.microsoft.com/mem/configmgr/core/clients/manage/cmg/configure-clients"
#define MS_ENTRA "https://learn.microsoft.com/mem/configmgr/core/clients/manage/azure-ccmsetup"
#define MS_CHAIN "https://learn.microsoft.com/windows/win32/api/wincrypt/nf-wincrypt-certgetcertificatechain"
#define MS_MODIFY "https://learn.microsoft.com/mem/configmgr/core/clients/manage/cmg/modify-cloud-management-gateway"
#define MS_PROXY "https://learn.microsoft.com/mem/configmgr/core/plan-design/network/proxy-server-support"
#define MS_AUTH "https://learn.microsoft.com/mem/configmgr/core/clients/manage/cmg/configure-authentication"
/* clang-format off */
#define MS_IIS "https://learn.microsoft.com/troubleshoot/developer/webapps/iis/www-administration-management/http-status-code"
/* clang-format on */

/* Code -> source. Where Microsoft says nothing, the repository's own notes say what is inferred. */
static const struct {
  const char *code, *source;
} sources[] = {
    {"CMG_OK", MS_FLOW},
    {"CMG_TLS_OK", "docs/checks/cmgprobe.md#load-and-cost"},
    {"CMG_REACHABLE_UNPROVEN", "docs/checks/cmgprobe.md#reachable-not-proven"},
    {"CMG_NO_TARGET", MS_CLIENTS},
    {"CMG_BAD_URL", "docs/domain.md#cmg-urls"},
    {"CMG_DNS_FAILURE", MS_CERT},
    {"CMG_PROXY_FAILED", MS_PROXY},
    {"CMG_CONNECT_TIMEOUT", MS_WINHTTP},
    {"CMG_TLS_HANDSHAKE_TIMEOUT", MS_WINHTTP},
    {"CMG_CONNECT_REFUSED", MS_WINHTTP},
    {"CMG_CONNECT_FAILED", MS_WINHTTP},
    {"CMG_CERT_CHAIN_INCOMPLETE", MS_CHAIN},
    {"CMG_CERT_CHAIN_AIA", MS_CHAIN},
    {"CMG_CERT_UNTRUSTED", MS_ERR},
    {"CMG_CERT_EXPIRED", MS_WINHTTP},
    {"CMG_CERT_NOT_YET_VALID", MS_WINHTTP},
    {"CMG_CERT_NAME_MISMATCH", MS_ERR},
    {"CMG_CERT_EXPIRING", MS_MODIFY},
    {"CMG_CERT_REVOKED", MS_CRL},
    {"CMG_CRL_UNREACHABLE", MS_ERR},
    {"CMG_CERT_REFUSED_BY_WINDOWS", MS_CHAIN},
    {"CMG_TLS_PROTOCOL", MS_TLS12},
    {"CMG_TLS_HANDSHAKE_FAILED", MS_WINHTTP},
    {"CMG_RESPONSE_TOO_LARGE", "docs/domain.md#cmg-answers"},
    {"CMG_SLOW_RESPONSE", MS_WINHTTP},
    {"CMG_CONNECTION_RESET", MS_WINHTTP},
    {"CMG_UNREACHABLE", MS_WINHTTP},
    {"CMG_MPLIST_INVALID", "docs/domain.md#cmg-answers"},
    {"CMG_MPLIST_EMPTY", MS_SETUP},
    {"CMG_HTTP_401", MS_ERR},
    {"CMG_HTTP_403", MS_ERR},
    {"CMG_HTTP_5XX", "docs/domain.md#cmg-answers"},
    {"CMG_HTTP_REDIRECT", "docs/domain.md#cmg-answers"},
    {"CMG_HTTP_UNEXPECTED", "docs/domain.md#cmg-answers"},
    {"CMG_CLOCK_SKEW", MS_ERR},
    {"CMG_PARTIAL", "docs/domain.md#cmg-answers"},
    {"CMG_NAME_RULES", MS_CERT},
    {"CMG_TENANT_NOT_ONBOARDED", MS_ENTRA},
    {"CMG_SOME_CANDIDATES_FAIL", MS_CLIENTS},
    {"CMG_CLIENT_CERT_UNTRUSTED", MS_AUTH},
    {"CMG_CLIENT_CERT_MISSING", MS_AUTH},
    {"CMG_CLIENT_CERT_EXPIRED", MS_IIS},
    {"CMG_CLIENT_CERT_REVOKED", MS_IIS},
    {"CMG_CLIENT_CERT_REVOCATION_UNCHECKED", MS_SETUP},
    {"CMG_AUTH_NOT_TESTED", "docs/checks/cmgprobe.md#mutual-tls"},
    {"CMG_WINHTTP_FAILED", MS_WINHTTP},
    {"CMG_TLS_INSPECTION", "docs/checks/cmgprobe.md#tls-inspection"},
};

const char *probe_code_source(const char *code) {
  for (size_t i = 0; code && i < CG_ARRAY_LEN(sources); i++)
    if (!strcmp(sources[i].code, code)) return sources[i].source;
  return NULL;
}

const char *probe_status_meaning(long status, const char *text, const char **remedy) {
  static const struct {
    long s;
    const char *text, *meaning, *remedy;
  } t[] = {
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

static bool has_error(const struct probe_tls_capture *c, int err, int *depth) {
  for (int i = 0; i < c->nerrors; i++)
    if (c->errors[i].error == err) {
      if (depth) *depth = c->errors[i].depth;
      return true;
    }
  return false;
}

static const char *depth_name(int depth) {
  return depth == 0 ? "The CMG's certificate" : "A CA certificate of its chain";
}

/* A handshake that failed on the CMG's certificate: which of the client's certificate errors. */
static void classify_certificate(struct probe *p, const struct probe_tls_capture *cap, int cc, const char *err) {
  int d = 0;
  if (has_error(cap, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, &d) && cap->sent && sk_X509_num(cap->sent) == 1 &&
      X509_check_issued(sk_X509_value(cap->sent, 0), sk_X509_value(cap->sent, 0)) != X509_V_OK) {
    probe_found(p, CG_FAIL, "CMG_CERT_CHAIN_INCOMPLETE", "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)",
                "Export the CMG certificate with its whole chain (PFX with the intermediate CA) and update the CMG; "
                "Windows may fetch the intermediate from the certificate's AIA address, other clients will not.",
                "The CMG sent its certificate without the intermediate CA, so the chain cannot be built to a trusted "
                "root.");
  } else if (has_error(cap, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, NULL) ||
             has_error(cap, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, NULL) ||
             has_error(cap, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, NULL) ||
             has_error(cap, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, NULL) ||
             has_error(cap, X509_V_ERR_CERT_UNTRUSTED, NULL)) {
    probe_found(
        p, CG_FAIL, "CMG_CERT_UNTRUSTED", "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)",
        "Install the root (and intermediate) CA of the CMG certificate in the device's Trusted Root (and "
        "Intermediate) store, or use a certificate from a public CA; a self-signed certificate is never trusted.",
        "This device does not trust the CMG's certificate: %s.",
        has_error(cap, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, NULL) ? "it is self-signed"
                                                                     : "its root CA is not in the trusted store");
  } else if (has_error(cap, X509_V_ERR_CERT_HAS_EXPIRED, &d)) {
    probe_found(p, CG_FAIL, "CMG_CERT_EXPIRED", "12037 ERROR_WINHTTP_SECURE_CERT_DATE_INVALID (0x80072F05)",
                "Renew the CMG server authentication certificate and update it in the CMG properties (or fix this "
                "device's clock if it is wrong).",
                "%s has expired (by this device's clock).", depth_name(d));
  } else if (has_error(cap, X509_V_ERR_CERT_NOT_YET_VALID, &d)) {
    probe_found(p, CG_FAIL, "CMG_CERT_NOT_YET_VALID", "12037 ERROR_WINHTTP_SECURE_CERT_DATE_INVALID (0x80072F05)",
                "Check this device's clock and time zone first; otherwise the CMG was given a certificate that starts "
                "later.",
                "%s is not valid yet (by this device's clock).", depth_name(d));
  } else if (has_error(cap, X509_V_ERR_HOSTNAME_MISMATCH, NULL) || cc == CURLE_PEER_FAILED_VERIFICATION) {
    probe_found(p, CG_FAIL, "CMG_CERT_NAME_MISMATCH", "12038 ERROR_WINHTTP_SECURE_CERT_CN_INVALID (0x80072F06)",
                "Use the CMG service name exactly as on its certificate (CN/SAN), or reissue the certificate with this "
                "name; a CMG cloud distribution point name is a common mismatch.",
                "The CMG's certificate is not issued for the name %s.", p->host);
  } else {
    probe_found(p, CG_FAIL, "CMG_CERT_UNTRUSTED", "12175 ERROR_WINHTTP_SECURE_FAILURE (0x80072F8F)",
                "Read the chain in the facts; install the missing CA certificates.",
                "The CMG's certificate could not be verified: %s.", err);
  }
}

void probe_classify_transport(struct probe *p, const struct req_out *o, const struct probe_tls_capture *cap) {
  int cc = o->r.curl_rc;
  const char *err = o->r.error;
  char hostport[300];
  cg_snprintf(hostport, sizeof(hostport), "%s:%ld", p->host, p->port);
  if (cc == CURLE_COULDNT_RESOLVE_HOST) {
    probe_found(p, CG_FAIL, "CMG_DNS_FAILURE", "12007 ERROR_WINHTTP_NAME_NOT_RESOLVED (0x80072EE7)",
                "Check that the CMG service name resolves from the internet (public DNS CNAME to the Azure deployment "
                "name for a custom domain), and the device's DNS and proxy settings.",
                "The CMG name %s does not resolve from this device's network.", p->host);
  } else if (cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_PROXY) {
    probe_found(p, CG_FAIL, "CMG_PROXY_FAILED", "12007 ERROR_WINHTTP_NAME_NOT_RESOLVED (0x80072EE7)",
                "Fix cmgprobe.proxy (or the https_proxy environment of the agent) to the proxy SYSTEM must use.",
                "The proxy could not be used (%s).", err);
  } else if (cc == CURLE_OPERATION_TIMEDOUT && o->r.connect_ms < 0 && cap->bytes_out == 0) {
    probe_found(p, CG_FAIL, "CMG_CONNECT_TIMEOUT", "12002 ERROR_WINHTTP_TIMEOUT (0x80072EE2)",
                "Something drops the traffic to TCP 443 of the CMG: a firewall, a network that needs a proxy SYSTEM "
                "does not have, or a captive portal; try another network or configure the proxy.",
                "No answer from %s: the TCP connection was not accepted within %.0f ms.", hostport,
                o->r.total_ms > 0 ? o->r.total_ms : (double)p->c->connect_timeout_ms);
  } else if (cc == CURLE_OPERATION_TIMEDOUT && o->r.tls_ms < 0 && !cap->handshake_done) {
    /* TCP was accepted (the ClientHello went out), the TLS handshake never finished: not a connect timeout */
    probe_found(
        p, CG_FAIL, "CMG_TLS_HANDSHAKE_TIMEOUT", "12002 ERROR_WINHTTP_TIMEOUT (0x80072EE2)",
        "Something accepts the connection but never completes TLS: a proxy or firewall that holds HTTPS to "
        "unknown hosts, TLS inspection, or a CMG instance that is not healthy; try another network and check the "
        "CMG status in the console.",
        "%s accepted the TCP connection, but the TLS handshake did not finish (%llu bytes sent, %llu received); "
        "gave up after %.0f ms.",
        hostport, (unsigned long long)cap->bytes_out, (unsigned long long)cap->bytes_in,
        o->r.total_ms > 0 ? o->r.total_ms : (double)p->c->connect_timeout_ms);
  } else if (cc == CURLE_COULDNT_CONNECT) {
    bool refused = cg_platform_connect_refused(o->r.os_errno);
    probe_found(
        p, CG_FAIL, refused ? "CMG_CONNECT_REFUSED" : "CMG_CONNECT_FAILED",
        "12029 ERROR_WINHTTP_CANNOT_CONNECT (0x80072EFD)",
        "Check that the CMG is running (console: Cloud Management Gateway status) and that the address the name "
        "resolves to is the CMG; a network that blocks 443 needs a proxy for SYSTEM.",
        "%s %s.", hostport, refused ? "refused the connection (nothing listens on that port)" : "cannot be reached");
  } else if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT || (cap->nerrors > 0)) {
    classify_certificate(p, cap, cc, err);
  } else if (cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CIPHER) {
    bool proto = strstr(err, "unsupported protocol") || strstr(err, "protocol version") ||
                 strstr(cap->alert, "protocol version") || strstr(err, "no protocols available");
    if (proto)
      probe_found(
          p, CG_FAIL, "CMG_TLS_PROTOCOL", "12157 ERROR_WINHTTP_SECURE_CHANNEL_ERROR (0x80072F7D)",
          "The CMG and this device share no TLS version of 1.2 or newer: the CMG enforces TLS 1.2 by default; "
          "enable TLS 1.2 on both (on older Windows also SCHANNEL and the WinHTTP DefaultSecureProtocols value).",
          "The TLS handshake with %s failed: the server offers no TLS 1.2 or newer.", hostport);
    else
      probe_found(
          p, CG_FAIL, "CMG_TLS_HANDSHAKE_FAILED", "12157 ERROR_WINHTTP_SECURE_CHANNEL_ERROR (0x80072F7D)",
          "A device on this network that intercepts TLS (a proxy or a captive portal) or a CMG without a usable "
          "certificate; try another network and check the CMG status.",
          "The TLS handshake with %s failed (%s).", hostport, err);
  } else if (cc == CURLE_WRITE_ERROR && o->r.too_large) {
    probe_found(p, CG_FAIL, "CMG_RESPONSE_TOO_LARGE", NULL,
                "An MP list is a few KB: something else answers in the CMG's place (a proxy or captive portal page); "
                "raise cmgprobe.max_body_bytes only if the CMG really serves more.",
                "The answer to %s was too large and was cut off (more than %lld bytes).",
                o->j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->j, "path")) : "",
                (long long)p->c->max_body_bytes);
  } else if ((cc == CURLE_OUT_OF_MEMORY || cc == 100 /* CURLE_TOO_LARGE, curl >= 8.6 */) && o->r.tls_ms >= 0) {
    /* curl refuses a response header over 100 KB ("Avoided giant realloc for header") */
    probe_found(p, CG_FAIL, "CMG_RESPONSE_TOO_LARGE", NULL,
                "A CMG's headers are small: something else answers in the CMG's place (a proxy or a broken device on "
                "the way); open the URL from the facts in a browser on this network.",
                "The answer to %s has a header larger than 100 KB and was refused.",
                o->j ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->j, "path")) : "");
  } else if (cc == CURLE_OPERATION_TIMEDOUT) {
    probe_found(p, CG_FAIL, "CMG_SLOW_RESPONSE", "12002 ERROR_WINHTTP_TIMEOUT (0x80072EE2)",
                "The CMG accepted the connection but answers too slowly: check the CMG's health in the console and "
                "CMGService.log; a slow proxy on this network also does it.",
                "The CMG did not finish answering within the check's deadline of %lld ms (%zu bytes received).",
                (long long)p->c->timeout_ms, o->r.body_len);
  } else if (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING || cc == CURLE_SEND_ERROR) {
    probe_found(
        p, CG_FAIL, "CMG_CONNECTION_RESET", "12030 ERROR_WINHTTP_CONNECTION_ERROR (0x80072EFE)",
        "The connection was cut in the middle of the answer: a proxy, firewall or TLS inspection device on this "
        "network, or a CMG instance that restarted; try again and from another network.",
        "The connection to %s was closed before the answer was complete (%s).", hostport, err);
  } else {
    probe_found(p, CG_FAIL, "CMG_UNREACHABLE", NULL, "See the error on the detail line and in the facts.",
                "The CMG could not be reached (%s).", err);
  }
}

/* ---- the chain after a successful handshake ------------------------------------------------------ */

void probe_classify_http(struct probe *p, const struct req_out *o, const struct req_out *cert) {
  long s = o->r.status;
  const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->j, "path"));
  if (s == 200) {
    struct mplist *m = cg_calloc(1, sizeof(*m));
    if (!m) return;
    if (mplist_parse(o->r.body, o->r.body_len, m) != CG_OK) {
      probe_found(p, CG_FAIL, "CMG_MPLIST_INVALID", "0x87D0027E",
                  "Something other than the CMG answers (a proxy, captive portal or sign-in page) or the management "
                  "point is broken; open the URL from the facts in a browser on this network.",
                  "The answer to %s is not an MP list (%s).", path, m->error);
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
      p->mplist_n = m->count;
      p->mplist_answered = true;
      if (m->count) cg_strlcpy(p->mp0_fqdn, m->mp[0].fqdn, sizeof(p->mp0_fqdn));
      cJSON_AddNumberToObject(p->facts, "mplist_total", (double)m->total);
      if (m->total == 0)
        probe_found(
            p, CG_FAIL, "CMG_MPLIST_EMPTY", NULL,
            "Read MP_Location.log on the management point that answered (it records location requests and "
            "replies) and check that the MP id in the URL belongs to a management point of the client's site; "
            "the site's other management points need 'Allow Configuration Manager cloud management gateway "
            "traffic' to be listed.",
            "The CMG answers and a management point behind it replied, but the MP list it returned is empty: it "
            "listed no management point for the client to use.");
    }
    cg_free(m);
    return;
  }
  const char *rem = NULL;
  const char *meaning = probe_status_meaning(s, o->r.reason, &rem);
  char st[200];
  cg_snprintf(st, sizeof(st), "HTTP %ld%s%s", s, o->r.reason[0] ? " " : "", o->r.reason);
  if (s == 401 || s == 403) {
    probe_found(p, CG_FAIL, s == 401 ? "CMG_HTTP_401" : "CMG_HTTP_403", "0x87D0027E (CCM_E_BAD_HTTP_STATUS_CODE)",
                rem ? rem
                    : "This probe sends no client certificate and no token, so the refusal is not about this "
                      "device's credentials: read SMS_Cloud_ProxyConnector.log on the CMG connection point and the "
                      "CMG's status in the console, and the clientlogs check for what the client's own requests get.",
                "The CMG answered %s to %s%s%s.", st, path, meaning ? ": " : "", meaning ? meaning : "");
  } else if (s >= 500) {
    bool cert_ok = cert && cert->r.status == 200;
    probe_found(p, CG_FAIL, "CMG_HTTP_5XX", "0x87D0027E (CCM_E_BAD_HTTP_STATUS_CODE)",
                s == 500
                    ? (cert_ok ? "The MP certificate answers but the MP list does not: the management point cannot "
                                 "query the site database; check MP_Location.log and the SQL connection of the MP."
                               : "Check the management point (mpcontrol.log, IIS) and its database connection.")
                    : "Check the CMG status in the console, SMS_Cloud_ProxyConnector.log on the connection point and "
                      "CMGService.log: the CMG is reachable but cannot pass the request on (the meaning of 502/503 is "
                      "not documented by Microsoft).",
                "The CMG is reachable but answered %s to %s: the path behind it is down.", st, path);
  } else if (s >= 300 && s < 400) {
    probe_found(
        p, CG_FAIL, "CMG_HTTP_REDIRECT", NULL,
        "A CMG does not redirect: a captive portal (hotel, airport Wi-Fi) or a proxy answers instead; sign in to "
        "the network or configure the proxy.",
        "The answer to %s is a redirect (%s) where the CMG answers directly.", path, st);
  } else {
    probe_found(
        p, CG_FAIL, "CMG_HTTP_UNEXPECTED", "0x87D0027E (CCM_E_BAD_HTTP_STATUS_CODE)",
        "Check the management point id in the URL (it comes from the client's MP list) and that this is the CMG.",
        "The CMG answered %s to %s.", st, path);
  }
}

void probe_clock_skew(struct probe *p, const struct req_out *o) {
  if (!o->r.date[0]) return;
  time_t t = curl_getdate(o->r.date, NULL);
  if (t == (time_t)-1) return;
  /* The Date header has one-second resolution and is written when the answer starts. */
  int64_t skew = probe_tape_now_ms() / 1000 - (int64_t)t;
  cJSON_AddNumberToObject(p->facts, "clock_skew_s", (double)skew);
  if (skew > p->c->max_clock_skew_s || skew < -p->c->max_clock_skew_s)
    probe_found(p, CG_WARN, "CMG_CLOCK_SKEW", NULL,
                "Fix this device's time (w32tm /resync, time zone); Entra tokens and certificate checks fail with a "
                "clock that is minutes off.",
                "This device's clock is %lld s %s the CMG's.", (long long)(skew < 0 ? -skew : skew),
                skew > 0 ? "ahead of" : "behind");
}

/* ---- the check ----------------------------------------------------------------------------------- */
