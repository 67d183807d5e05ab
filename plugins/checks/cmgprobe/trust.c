/* cmgprobe: the CMG's chain as the Windows client judges it. OpenSSL does the handshake; what
 * CryptoAPI does besides is done here too: the missing intermediate fetched from the AIA caIssuers
 * URL, revocation by CRL and by OCSP (reported apart, combined as Windows does), only when this
 * client checks revocation at all, and on Windows CryptoAPI's own verdict beside OpenSSL's. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "platform/chainverdict.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "probe.h"

#define MS_CRL_DEFAULT "https://learn.microsoft.com/mem/configmgr/core/plan-design/security/plan-for-certificates"

/* ---- does this client check the CRL? ----------------------------------------------------------- */

/* ccmsetup's command line in ccmsetup.log holds /NoCRLCheck when the client was installed without
 * CRL checking. Only the tail matters and a missing log is normal. */
static bool ccmsetup_nocrlcheck(char *where, size_t wlen) {
  char **dirs = NULL;
  size_t n = 0;
  bool hit = false;
  cg_client_log_dirs(&dirs, &n);
  for (size_t d = 0; d < n && !hit; d++) {
    char *path = cg_path_join(dirs[d], "ccmsetup.log");
    char *data = NULL;
    size_t len = 0;
    int64_t size = path ? cg_file_size(path) : -1;
    int64_t start = size > 4 * 1024 * 1024 ? size - 4 * 1024 * 1024 : 0;
    if (size > 0 && cg_file_read_range(path, start, (size_t)(size - start), &data, &len) == CG_OK) {
      /* ccmsetup writes its log in UTF-8 or UTF-16; look for both spellings */
      static const char u16[] = "/\0N\0o\0C\0R\0L\0C\0h\0e\0c\0k\0";
      const char *a = cg_memmem_ci(data, len, "/NoCRLCheck", 11);
      const char *b = cg_memmem_ci(data, len, u16, sizeof(u16) - 1);
      if (a || b) {
        hit = true;
        cg_strlcpy(where, path, wlen);
      }
    }
    cg_free(data);
    cg_free(path);
  }
  cg_dir_list_free(dirs, n);
  return hit;
}

static cJSON *nocrl_live(void *arg) {
  (void)arg;
  char where[600] = "";
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "hit", ccmsetup_nocrlcheck(where, sizeof(where)));
  cJSON_AddStringToObject(o, "where", where);
  return o;
}

/* ccmsetup's /NoCRLCheck on this device, or in the transcript */
static bool nocrlcheck(char *where, size_t wlen) {
  cJSON *o = probe_io_json("nocrlcheck", nocrl_live, NULL);
  bool hit = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "hit"));
  const char *w = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "where"));
  cg_strlcpy(where, w ? w : "", wlen);
  cJSON_Delete(o);
  return hit;
}

void probe_crl_setting(struct probe *p) {
  const char *set = p->c->crl_check ? p->c->crl_check : "auto";
  cJSON *o = cJSON_AddObjectToObject(p->facts, "crl_check");
  cJSON_AddStringToObject(o, "setting", set);
  char where[600] = "";
  if (!cg_strcasecmp(set, "on") || !cg_strcasecmp(set, "off")) {
    p->crl_enforced = !cg_strcasecmp(set, "on");
    cJSON_AddStringToObject(o, "source", "the cmgprobe.crl_check setting");
  } else if (!p->c->crl_unreachable_fails) {
    p->crl_enforced = false; /* the older setting said so */
    cJSON_AddStringToObject(o, "source", "the cmgprobe.crl_unreachable_fails setting (false)");
  } else if (nocrlcheck(where, sizeof(where))) {
    p->crl_enforced = false;
    cJSON_AddStringToObject(o, "source", "ccmsetup was run with /NoCRLCheck");
    cJSON_AddStringToObject(o, "evidence", where);
    cJSON_AddBoolToObject(o, "inferred", true);
    cJSON_AddStringToObject(o, "note",
                            "Microsoft pairs /NoCRLCheck with clearing the site option 'Clients check the "
                            "certificate revocation list (CRL) for site systems'; the site option is what "
                            "the installed client follows, and it is not stored in a documented place on "
                            "the client. Set cmgprobe.crl_check to on if your site still checks.");
  } else {
    p->crl_enforced = true;
    cJSON_AddStringToObject(o, "source", "the documented default: clients check the CRL for site systems");
    cJSON_AddStringToObject(o, "reference", MS_CRL_DEFAULT);
    cJSON_AddBoolToObject(o, "inferred", true);
    cJSON_AddStringToObject(o, "note",
                            "Where the client keeps the site option is not documented; set "
                            "cmgprobe.crl_check to off if your site has it cleared.");
  }
  cJSON_AddBoolToObject(o, "effective", p->crl_enforced);
}

/* ---- AIA ------------------------------------------------------------------------------------------ */

bool probe_complete_from_aia(struct probe *p, struct probe_tls_capture *cap) {
  if (!cap->sent || !sk_X509_num(cap->sent)) return false;
  X509 *top = sk_X509_value(cap->sent, sk_X509_num(cap->sent) - 1);
  if (X509_check_issued(top, top) == X509_V_OK) return false; /* a root: nothing to fetch */
  if (!cap->extra) cap->extra = sk_X509_new_null();
  char url[600] = "", why[600] = "";
  cJSON *o = cJSON_AddObjectToObject(p->facts, "aia");
  int got = 0, left = PROBE_AIA_PER_PROBE;
  /* up to three hops: an intermediate whose own issuer is another intermediate */
  for (int hop = 0; hop < 3 && cap->extra; hop++) {
    X509 *x = hop == 0 ? top : sk_X509_value(cap->extra, sk_X509_num(cap->extra) - 1);
    long t = probe_remaining(p);
    if (t > p->c->crl_timeout_ms) t = (long)p->c->crl_timeout_ms;
    char u[600] = "", w[600] = "";
    int n = t >= 300
                ? probe_io_fetch_issuers(x, t, p->proxy, p->cmg_local, &left, cap->extra, u, sizeof(u), w, sizeof(w))
                : 0;
    if (t < 300) cg_snprintf(w, sizeof(w), "the check's deadline was spent");
    if (n < 0 && hop > 0) break; /* the chain reaches its root: complete */
    if (n < 0) {                 /* the issuer is a root: trust, not the chain, is missing (classified as untrusted) */
      cJSON_AddStringToObject(o, "url", u);
      cJSON_AddBoolToObject(o, "root_fetched", true);
      return false;
    }
    if (hop == 0) {
      cg_strlcpy(url, u, sizeof(url));
      cg_strlcpy(why, w, sizeof(why));
    }
    if (!n) break;
    got += n;
    X509 *last = sk_X509_value(cap->extra, sk_X509_num(cap->extra) - 1);
    X509_NAME *in = X509_get_issuer_name(last);
    bool more = false;
    for (int k = 0; k < sk_X509_num(cap->sent); k++)
      more |= !X509_NAME_cmp(in, X509_get_subject_name(sk_X509_value(cap->sent, k)));
    if (more) break;
  }
  cJSON_AddStringToObject(o, "url", url);
  cg_strlcpy(p->aia_url, url, sizeof(p->aia_url));
  cJSON_AddNumberToObject(o, "fetched", got);
  if (got) return true;
  cJSON_AddStringToObject(o, "error", why);
  if (url[0])
    probe_found(p, CG_FAIL, "CMG_CERT_CHAIN_INCOMPLETE", "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)",
                "Export the CMG certificate with its whole chain (a PFX with the intermediate CA) and update the CMG; "
                "or publish the intermediate at the certificate's AIA address so that Windows can fetch it.",
                "The CMG sent its certificate without the intermediate CA, and Windows could not fetch it either: %s.",
                why);
  else
    probe_found(p, CG_FAIL, "CMG_CERT_CHAIN_INCOMPLETE", "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)",
                "Export the CMG certificate with its whole chain (a PFX with the intermediate CA) and update the CMG.",
                "The CMG sent its certificate without the intermediate CA, and the certificate has no AIA address to "
                "fetch it from, so the chain cannot be built to a trusted root.");
  return false;
}

/* ---- CryptoAPI's verdict ----------------------------------------------------------------------------- */

static const char *winhttp_of(unsigned long e) {
  switch (e) {
  case 0x800B0109UL:
  case 0x800B010AUL: return "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)";
  case 0x800B0101UL: return "12037 ERROR_WINHTTP_SECURE_CERT_DATE_INVALID (0x80072F05)";
  case 0x800B010FUL: return "12038 ERROR_WINHTTP_SECURE_CERT_CN_INVALID (0x80072F06)";
  case 0x80092010UL:
  case 0x800B010CUL: return "12170 ERROR_WINHTTP_SECURE_CERT_REVOKED (0x80072F8A)";
  case 0x80092013UL:
  case 0x80092012UL:
  case 0x800B010EUL: return "12057 ERROR_WINHTTP_SECURE_CERT_REV_FAILED (0x80072F19)";
  default: return "12175 ERROR_WINHTTP_SECURE_FAILURE (0x80072F8F)";
  }
}

int probe_windows_verdict(struct probe *p, const struct probe_tls_capture *cap, bool openssl_ok) {
  if (!p->c->windows_verdict || !cap->sent || !sk_X509_num(cap->sent)) return -1;
  int n = sk_X509_num(cap->sent);
  if (n > 8) n = 8;
  unsigned char *der[8] = {0};
  size_t len[8] = {0};
  for (int i = 0; i < n; i++) {
    int l = i2d_X509(sk_X509_value(cap->sent, i), &der[i]);
    len[i] = l > 0 ? (size_t)l : 0;
  }
  long t = probe_remaining(p);
  if (t > p->c->crl_timeout_ms) t = (long)p->c->crl_timeout_ms;
  struct cg_chain_verdict v;
  probe_io_chain_verdict((const unsigned char *const *)der, len, n, p->host, p->c->ca_file,
                         p->crl_enforced && p->c->check_revocation, t, &v);
  for (int i = 0; i < n; i++)
    OPENSSL_free(der[i]);
  cJSON *o = cJSON_AddObjectToObject(p->facts, "windows_trust");
  cJSON_AddBoolToObject(o, "available", v.available);
  cJSON_AddStringToObject(o, "detail", v.detail);
  if (!v.available) return -1;
  cJSON_AddStringToObject(o, "engine", v.wine ? "wine crypt32" : "Windows CryptoAPI");
  cJSON_AddBoolToObject(o, "trusted", v.trusted);
  char hex[16];
  cg_snprintf(hex, sizeof(hex), "0x%08lX", v.error);
  cJSON_AddStringToObject(o, "error", hex);
  cJSON_AddStringToObject(o, "error_name", v.error_name);
  cJSON_AddStringToObject(o, "trust_flags", v.trust_flags);
  cJSON_AddNumberToObject(o, "chain_length", v.chain_length);
  cJSON_AddBoolToObject(o, "revocation_checked", v.revocation_checked);
  /* wine's crypt32 is not Windows': its verdict is shown, OpenSSL's stays the one that decides */
  bool decides = !v.wine || p->c->wine_decides;
  cJSON_AddBoolToObject(o, "decides", decides);
  if (v.trusted != openssl_ok) {
    cJSON *d = cJSON_AddObjectToObject(p->facts, "verdicts_disagree");
    cJSON_AddStringToObject(d, "openssl", openssl_ok ? "trusted" : "refused");
    cJSON_AddStringToObject(d, "windows", v.trusted ? "trusted" : "refused");
    cJSON_AddStringToObject(d, "decides", decides ? "windows" : "openssl (crypt32 is wine's)");
  }
  if (!decides) return -1;
  bool revocation = v.error == 0x80092013UL || v.error == 0x80092012UL || v.error == 0x800B010EUL ||
                    v.error == 0x80092010UL || v.error == 0x800B010CUL;
  /* a revocation refusal is named by the probe's own CRL/OCSP check, with its URLs (probe_chain_facts) */
  if (!v.trusted && openssl_ok && !(revocation && p->c->check_revocation))
    probe_found(p, CG_FAIL, "CMG_CERT_REFUSED_BY_WINDOWS", winhttp_of(v.error),
                "Read facts.windows_trust: the client judges the CMG with Windows' own certificate checks; fix what "
                "they name (a root missing from the machine's Trusted Root store, a revocation list Windows cannot "
                "fetch, a name or usage Windows does not accept).",
                "Windows refuses the CMG's certificate chain (%s%s0x%08lX), though OpenSSL accepts it; the client "
                "uses Windows' verdict.",
                v.error_name, v.error_name[0] ? ", " : "", v.error);
  return v.trusted ? 1 : 0;
}

/* ---- the chain after a successful handshake ------------------------------------------------------ */

void probe_chain_facts(struct probe *p, struct probe_tls_capture *cap, bool verified, cJSON *tls) {
  STACK_OF(X509) *ch = cap->built && sk_X509_num(cap->built) ? cap->built : cap->sent;
  cJSON_AddStringToObject(tls, "chain_source", ch == cap->built ? "built" : "as_sent");
  cJSON_AddNumberToObject(tls, "certificates_sent", cap->sent ? sk_X509_num(cap->sent) : 0);
  cJSON *arr = cJSON_AddArrayToObject(tls, "chain");
  int64_t now = probe_tape_now_ms() / 1000;
  int n = ch ? sk_X509_num(ch) : 0;
  /* How far this device's clock is outside the chain's validity: what a clock skew must reach to
   * be the reason (the diagnosis's CLOCK_WRONG, docs/diagnosis.md) */
  int64_t expired_for = 0, valid_in = 0;
  for (int i = 0; i < n; i++) {
    X509 *x = sk_X509_value(ch, i);
    cJSON_AddItemToArray(arr, probe_tls_cert_json(x, now));
    int64_t na = probe_tls_not_after(x), nb = probe_tls_not_before(x);
    if (now - na > expired_for) expired_for = now - na;
    if (nb - now > valid_in) valid_in = nb - now;
  }
  if (!n) return;
  cJSON_AddNumberToObject(tls, "expired_for_s", (double)expired_for);
  cJSON_AddNumberToObject(tls, "valid_in_s", (double)valid_in);
  X509 *leaf = sk_X509_value(ch, 0);
  bool match = probe_tls_name_matches(leaf, p->host);
  cJSON_AddBoolToObject(tls, "name_match", match);
  cJSON *la = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "not_after");
  if (la) cJSON_AddStringToObject(p->facts, "cert_not_after", la->valuestring); /* flat, for fleet queries */
  int64_t days = (probe_tls_not_after(leaf) - now) / 86400;
  cJSON_AddNumberToObject(tls, "days_to_expiry", (double)days);
  cJSON_AddStringToObject(tls, "verify_result",
                          cap->nerrors ? X509_verify_cert_error_string(cap->errors[0].error)
                          : match      ? "ok"
                                       : "the certificate is not for this host name");
  if (!verified) return;
  /* Expiry horizon of every certificate but the root. */
  for (int i = 0; i < n; i++) {
    X509 *x = sk_X509_value(ch, i);
    if (i == n - 1 && n > 1 && X509_check_issued(x, x) == X509_V_OK) break;
    int64_t dl = (probe_tls_not_after(x) - now) / 86400;
    if (dl < p->c->expiry_warn_days) {
      probe_found(p, CG_WARN, "CMG_CERT_EXPIRING", NULL,
                  "Renew the certificate now and update the CMG (a renewed CMG certificate is uploaded in the CMG "
                  "properties); clients cannot connect the day it expires.",
                  "%s expires in %lld day(s).",
                  i == 0 ? "The CMG's certificate" : "A CA certificate of the CMG's chain", (long long)dl);
      break;
    }
  }
  if (!p->c->check_revocation) return;
  cJSON *rev = cJSON_AddArrayToObject(p->facts, "revocation");
  for (int i = 0; i + 1 < n; i++) {
    X509 *x = sk_X509_value(ch, i), *issuer = sk_X509_value(ch, i + 1);
    char cdetail[512] = "not checked: the check's deadline was spent",
         odetail[512] = "not checked: the check's deadline was spent";
    long t = probe_remaining(p);
    if (t > p->c->crl_timeout_ms) t = (long)p->c->crl_timeout_ms;
    /* A fetch cut short by the deadline says nothing about the CRL: not checked, no finding. */
    enum probe_rev crl = t >= 500 ? (enum probe_rev)probe_io_check_crl(x, issuer, t, 10u * 1024u * 1024u, p->proxy,
                                                                       cdetail, sizeof(cdetail))
                                  : PROBE_REV_NOT_CHECKED;
    t = probe_remaining(p);
    if (t > p->c->crl_timeout_ms) t = (long)p->c->crl_timeout_ms;
    enum probe_rev ocsp = t >= 500
                              ? (enum probe_rev)probe_io_check_ocsp(x, issuer, t, p->proxy, odetail, sizeof(odetail))
                              : PROBE_REV_NOT_CHECKED;
    if (ocsp == PROBE_REV_NO_CDP) cg_strlcpy(odetail, "the certificate names no OCSP responder", sizeof(odetail));
    if (crl == PROBE_REV_NO_CDP)
      cg_strlcpy(cdetail, "the certificate names no http CRL distribution point", sizeof(cdetail));
    enum probe_rev r = probe_rev_combine(crl, ocsp);
    const char *detail = r == PROBE_REV_REVOKED ? (crl == PROBE_REV_REVOKED ? cdetail : odetail)
                         : r == PROBE_REV_GOOD  ? (ocsp == PROBE_REV_GOOD ? odetail : cdetail)
                                                : cdetail;
    char both[1100];
    if (r == PROBE_REV_UNREACHABLE && ocsp == PROBE_REV_UNREACHABLE && crl == PROBE_REV_UNREACHABLE)
      cg_snprintf(both, sizeof(both), "%s; OCSP: %s", cdetail, odetail);
    else
      cg_snprintf(both, sizeof(both), "%s",
                  r == PROBE_REV_UNREACHABLE && crl != PROBE_REV_UNREACHABLE ? odetail : detail);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "depth", i);
    cJSON_AddStringToObject(o, "status", probe_rev_name(r));
    cJSON_AddStringToObject(o, "detail", both);
    cJSON *oc = cJSON_AddObjectToObject(o, "crl");
    cJSON_AddStringToObject(oc, "status", probe_rev_name(crl));
    cJSON_AddStringToObject(oc, "detail", cdetail);
    cJSON *oo = cJSON_AddObjectToObject(o, "ocsp");
    cJSON_AddStringToObject(oo, "status", probe_rev_name(ocsp));
    cJSON_AddStringToObject(oo, "detail", odetail);
    cJSON_AddItemToArray(rev, o);
    cJSON_AddStringToObject(cJSON_GetArrayItem(arr, i), "revocation", probe_rev_name(r));
    cJSON_AddStringToObject(
        o, "subject", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, i), "subject")));
    const char *what = i == 0 ? "the CMG's certificate" : "a CA certificate of the CMG's chain";
    if (r == PROBE_REV_REVOKED)
      probe_found(p, p->crl_enforced ? CG_FAIL : CG_WARN, "CMG_CERT_REVOKED",
                  "12170 ERROR_WINHTTP_SECURE_CERT_REVOKED (0x80072F8A)",
                  "Issue a new CMG server authentication certificate and update the CMG; every client that checks "
                  "revocation refuses the revoked one.",
                  "%s%s is revoked: %s%s", i == 0 ? "T" : "A",
                  i == 0 ? "he CMG's certificate" : " CA certificate of the CMG's chain", both,
                  p->crl_enforced ? "." : " (this client does not check revocation, so it still connects).");
    else if (r == PROBE_REV_UNREACHABLE && p->crl_enforced)
      probe_found(p, CG_FAIL, "CMG_CRL_UNREACHABLE", "12057 ERROR_WINHTTP_SECURE_CERT_REV_FAILED (0x80072F19)",
                  "Publish the CRL of the issuing CA on the internet (an HTTP distribution point or an OCSP responder "
                  "reachable from outside), or clear the site option 'Clients check the certificate revocation list "
                  "(CRL) for site systems' and install clients with ccmsetup /NoCRLCheck (then set cmgprobe.crl_check "
                  "to off).",
                  "The revocation status of %s cannot be fetched from this network (%s): this client checks the CRL, "
                  "so it refuses the CMG.",
                  what, both);
  }
}
