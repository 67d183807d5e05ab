/* cmgprobe: the request a PKI client makes. On CCM_Proxy_MutualAuth the client presents its
 * client-authentication certificate, and the CMG (IIS on its VM instances) checks it against the
 * root and intermediate CA certificates uploaded to the CMG and, with "Verify client certificate
 * revocation", against its CRL (docs/checks/cmgprobe.md, "Mutual TLS"). The anonymous request says
 * nothing about that; this one does, and names what refused it: the certificate's chain, its
 * validity, its revocation, no certificate at all, or a TLS-inspecting device that cannot carry it. */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "discovery.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "probe.h"

/* What a refusal says about the client certificate. */
enum refusal { R_NONE, R_REQUIRED, R_BAD, R_UNTRUSTED, R_EXPIRED, R_REVOKED };
static const char *const refusal_names[] = {"none",       "certificate required", "certificate refused",
                                            "unknown CA", "certificate expired",  "certificate revoked"};

/* A TLS alert (RFC 8446 6.2; RFC 5246 7.2.2) from a server that checks the certificate in the
 * handshake. handshake_failure counts only after the server asked for a certificate. */
static enum refusal alert_refusal(const struct probe_tls_capture *cap, bool with_cert) {
  /* a server that never asked for a certificate did not refuse one (a middlebox's alert is not that) */
  if (!cap->cert_requested) return R_NONE;
  switch (cap->alert_code) {
  case 116: return R_REQUIRED;                    /* certificate_required (TLS 1.3) */
  case 48: return R_UNTRUSTED;                    /* unknown_ca */
  case 45: return R_EXPIRED;                      /* certificate_expired */
  case 44: return R_REVOKED;                      /* certificate_revoked */
  case 42:                                        /* bad_certificate */
  case 43:                                        /* unsupported_certificate */
  case 46:                                        /* certificate_unknown */
  case 49: return R_BAD;                          /* access_denied */
  case 40: return with_cert ? R_BAD : R_REQUIRED; /* handshake_failure */
  default: return R_NONE;
  }
}

static bool says(const struct req_out *o, const char *what) {
  return cg_str_contains_ci(o->r.reason, what) ||
         (o->r.body && cg_memmem_ci(o->r.body, o->r.body_len, what, strlen(what)) != NULL);
}

/* An HTTP answer that refuses the client certificate. The CMG's own status texts (the connection
 * point's, CMGConnector_*) are not about this device's certificate. IIS, which checks the
 * certificate on the CMG, says 403.7 / 403.13 / 403.16 / 403.17 (its documented substatus codes);
 * nginx and other servers say 400 with a sentence. A bare 401 or 403 to the request that carries the
 * certificate is read as a refusal of it (inferred). */
static enum refusal http_refusal(const struct req_out *o, bool with_cert) {
  long s = o->r.status;
  const char *rem;
  if (probe_status_meaning(s, o->r.reason, &rem)) return R_NONE;
  if (s == 400) {
    if (says(o, "No required SSL certificate")) return R_REQUIRED;
    if (says(o, "SSL certificate error")) return R_BAD;
    return R_NONE;
  }
  if (s != 401 && s != 403) return R_NONE;
  if (says(o, "403.7") || says(o, "client certificate required") || says(o, "requires a client certificate"))
    return R_REQUIRED;
  if (says(o, "403.16") || says(o, "untrusted or invalid")) return R_UNTRUSTED;
  if (says(o, "403.17") || says(o, "expired or is not yet valid")) return R_EXPIRED;
  if (says(o, "403.13") || says(o, "certificate revoked")) return R_REVOKED;
  return with_cert ? R_BAD : R_NONE;
}

/* A server that checks the certificate after a TLS 1.3 handshake sends its alert while the request
 * is being written; the write can fail before the alert is read. A connection that ends right after
 * a handshake in which the server asked for a certificate is read as that refusal (inferred). */
static enum refusal refusal_of(const struct req_out *o, const struct probe_tls_capture *cap, bool with_cert) {
  if (o->rc == CG_OK) return http_refusal(o, with_cert);
  enum refusal r = alert_refusal(cap, with_cert);
  int cc = o->r.curl_rc;
  if (r == R_NONE && !cap->alert_code && cap->cert_requested && cap->handshake_done &&
      (cc == CURLE_SEND_ERROR || cc == CURLE_RECV_ERROR || cc == CURLE_GOT_NOTHING))
    r = with_cert ? R_BAD : R_REQUIRED;
  return r;
}

bool probe_refused_for_cert(const struct req_out *o, const struct probe_tls_capture *cap, bool with_cert) {
  return refusal_of(o, cap, with_cert) != R_NONE;
}

/* ---- TLS inspection --------------------------------------------------------------------------------- */

/* Issuer names of TLS-inspection products and the words their default CAs use. A public CA that
 * also sells other services (Cloudflare issues real server certificates) is not listed. */
static const char *const inspectors[] = {"Zscaler",
                                         "Netskope",
                                         "Palo Alto",
                                         "Forward-Trust",
                                         "Forward Trust",
                                         "Fortinet",
                                         "FortiGate",
                                         "Forcepoint",
                                         "Websense",
                                         "Blue Coat",
                                         "BlueCoat",
                                         "SSL Visibility",
                                         "McAfee Web Gateway",
                                         "Skyhigh",
                                         "Sophos",
                                         "Check Point",
                                         "Cisco Umbrella",
                                         "iboss",
                                         "Menlo Security",
                                         "Barracuda",
                                         "Untangle",
                                         "Smoothwall",
                                         "Lightspeed",
                                         "Securly",
                                         "ContentKeeper",
                                         "Kaspersky",
                                         "ESET SSL Filter",
                                         "Avast",
                                         "Bitdefender",
                                         "TLS Inspection",
                                         "SSL Inspection",
                                         "Decryption",
                                         "SSL Proxy",
                                         "TLS Proxy"};

static void name_line(X509_NAME *n, char *out, size_t outlen) {
  out[0] = '\0';
  if (n) X509_NAME_oneline(n, out, (int)outlen);
}

bool probe_inspection_issuer(const struct probe_tls_capture *cap, char *why, size_t whylen) {
  STACK_OF(X509) *chain = cap->sent ? cap->sent : cap->built;
  for (int i = 0; chain && i < sk_X509_num(chain) && i < 4; i++) {
    char nm[512];
    name_line(X509_get_issuer_name(sk_X509_value(chain, i)), nm, sizeof(nm));
    for (size_t k = 0; k < CG_ARRAY_LEN(inspectors); k++)
      if (cg_str_contains_ci(nm, inspectors[k])) {
        cg_snprintf(why, whylen, "the CMG's certificate seen here is issued by %s, a TLS-inspection product's CA", nm);
        return true;
      }
  }
  return false;
}

static bool same_leaf(const struct probe_tls_capture *a, const struct probe_tls_capture *b) {
  if (!a->sent || !b->sent || !sk_X509_num(a->sent) || !sk_X509_num(b->sent)) return true; /* nothing to compare */
  return X509_cmp(sk_X509_value(a->sent, 0), sk_X509_value(b->sent, 0)) == 0;
}

/* ---- the client certificate --------------------------------------------------------------------------- */

struct client_cert {
  X509 *leaf, *issuer; /* issuer: the next certificate of the PEM file, when it issued the leaf */
  char subject[256], issuer_name[256], not_after[40];
};

static void cn_of(X509_NAME *n, char *out, size_t outlen) {
  int i = n ? X509_NAME_get_index_by_NID(n, NID_commonName, -1) : -1;
  const ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)) : NULL;
  if (s && ASN1_STRING_length(s) > 0)
    cg_snprintf(out, outlen, "%.*s", ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
  else
    name_line(n, out, outlen);
}

/* Reads the certificate (and the next one, its issuer) from the admin's PEM file for the facts and
 * the local checks; curl reads the same file for the handshake. */
static cJSON *client_certs_live(void *arg) {
  char *data = NULL;
  size_t len = 0;
  if (cg_file_read(arg, 1024 * 1024, &data, &len) != CG_OK) return cJSON_CreateNull();
  BIO *b = BIO_new_mem_buf(data, (int)len);
  STACK_OF(X509) *sk = sk_X509_new_null();
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  X509 *next = x ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  if (sk && x && sk_X509_push(sk, x)) x = NULL;
  if (sk && next && sk_X509_push(sk, next)) next = NULL;
  X509_free(x);
  X509_free(next);
  BIO_free(b);
  cg_free(data);
  /* the certificates alone: a key in the same file is never written into a transcript */
  cJSON *pems = probe_tape_certs(sk);
  sk_X509_pop_free(sk, X509_free);
  return pems;
}

static void load_client_cert(const char *path, struct client_cert *cc) {
  memset(cc, 0, sizeof(*cc));
  cJSON *pems = probe_io_json("client_certificate", client_certs_live, (void *)path);
  STACK_OF(X509) *sk = probe_tape_certs_back(pems);
  cJSON_Delete(pems);
  cc->leaf = sk && sk_X509_num(sk) ? sk_X509_shift(sk) : NULL;
  X509 *next = sk && sk_X509_num(sk) ? sk_X509_shift(sk) : NULL;
  sk_X509_pop_free(sk, X509_free);
  if (!cc->leaf) return;
  if (next && X509_check_issued(next, cc->leaf) == X509_V_OK)
    cc->issuer = next;
  else
    X509_free(next);
  cn_of(X509_get_subject_name(cc->leaf), cc->subject, sizeof(cc->subject));
  cn_of(X509_get_issuer_name(cc->leaf), cc->issuer_name, sizeof(cc->issuer_name));
  cg_time_rfc3339(probe_tls_not_after(cc->leaf) * 1000, cc->not_after, sizeof(cc->not_after));
}

static void free_client_cert(struct client_cert *cc) {
  X509_free(cc->leaf);
  X509_free(cc->issuer);
}

/* ---- the outcome -------------------------------------------------------------------------------------- */

#define UPLOAD_FIX                                                                                                     \
  "In the console (Administration > Cloud Services > Cloud Management Gateway > Properties > Certificates), upload "   \
  "its issuing CA to the CMG: add the root and every intermediate CA certificate above the client certificate. If "    \
  "they are there and 'Verify client certificate revocation' is on, check that the issuing CA's CRL is published "     \
  "on the internet."

/* The CMG refused the certificate it was given: which property of the certificate explains it. */
static void refused(struct probe *p, enum refusal r, const struct client_cert *cc, cJSON *a) {
  int64_t now = probe_tape_now_ms() / 1000;
  const char *who = cc->subject[0] ? cc->subject : "(unreadable)";
  char how[160];
  cg_snprintf(how, sizeof(how), "%s", r == R_NONE ? "the connection ended" : refusal_names[r]);
  cJSON_AddStringToObject(a, "refusal", how);
  if (cc->leaf && (probe_tls_not_after(cc->leaf) < now || probe_tls_not_before(cc->leaf) > now || r == R_EXPIRED)) {
    bool late = probe_tls_not_after(cc->leaf) < now;
    probe_found(p, CG_FAIL, "CMG_CLIENT_CERT_EXPIRED", "403.17 (IIS on the CMG: client certificate expired)",
                "Renew this device's client authentication certificate (autoenrollment from the computer certificate "
                "template, or a new one from the issuing CA), and check the device's clock.",
                "The CMG refused this device's client certificate %s (%s): it %s %s%s.", who, how,
                late             ? "expired on"
                : r == R_EXPIRED ? "is outside its validity for the CMG; it ends"
                                 : "is not valid until",
                late || r == R_EXPIRED ? cc->not_after : "a later date",
                late             ? ""
                : r == R_EXPIRED ? " (the CMG's clock)"
                                 : "");
    return;
  }
  enum probe_rev rev = PROBE_REV_NOT_CHECKED;
  char detail[400] = "";
  if (cc->leaf && cc->issuer) {
    char d2[400] = "";
    enum probe_rev crl = (enum probe_rev)probe_io_check_crl(
        cc->leaf, cc->issuer, probe_remaining(p) / 2, (size_t)p->c->max_body_bytes, p->proxy, detail, sizeof(detail));
    enum probe_rev ocsp =
        (enum probe_rev)probe_io_check_ocsp(cc->leaf, cc->issuer, probe_remaining(p) / 2, p->proxy, d2, sizeof(d2));
    rev = probe_rev_combine(crl, ocsp);
    if (!detail[0]) cg_strlcpy(detail, d2, sizeof(detail));
    cJSON_AddStringToObject(a, "client_certificate_revocation", probe_rev_name(rev));
    if (detail[0]) cJSON_AddStringToObject(a, "client_certificate_revocation_detail", detail);
  }
  if (r == R_REVOKED || rev == PROBE_REV_REVOKED) {
    probe_found(p, CG_FAIL, "CMG_CLIENT_CERT_REVOKED", "403.13 (IIS on the CMG: client certificate revoked)",
                "Issue this device a new client authentication certificate: its issuing CA revoked this one.",
                "The CMG refused this device's client certificate %s (%s): it is revoked%s%s.", who, how,
                detail[0] ? "; " : "", detail);
  } else if (rev == PROBE_REV_UNREACHABLE) {
    probe_found(p, CG_FAIL, "CMG_CLIENT_CERT_REVOCATION_UNCHECKED", NULL,
                "Publish the CRL of the client certificate's issuing CA at an internet address named in the "
                "certificate's CRL distribution point, or turn off 'Verify client certificate revocation' in the CMG's "
                "properties (Microsoft: a CRL must be publicly published for this verification to work). If the CRL "
                "is public, upload the issuing CA certificates to the CMG instead.",
                "The CMG refused this device's client certificate %s (%s), and its revocation list cannot be fetched "
                "from this network (%s): the CMG most likely could not check its revocation (inferred).",
                who, how, detail[0] ? detail : "no answer");
  } else {
    probe_found(p, CG_FAIL, "CMG_CLIENT_CERT_UNTRUSTED", "403.16 (IIS on the CMG: client certificate untrusted)",
                UPLOAD_FIX,
                "The CMG refused this device's client certificate %s issued by %s (%s): the CMG does not trust its "
                "issuing CA; upload its issuing CA to the CMG.",
                who, cc->issuer_name[0] ? cc->issuer_name : "an unknown CA", how);
  }
}

static void request_facts(cJSON *o, const struct req_out *r, const struct probe_tls_capture *cap) {
  if (r->r.status) {
    cJSON_AddNumberToObject(o, "status", (double)r->r.status);
    cJSON_AddStringToObject(o, "status_text", r->r.reason);
  }
  if (r->rc != CG_OK) cJSON_AddStringToObject(o, "error", r->r.error);
  if (cap->alert[0]) cJSON_AddStringToObject(o, "tls_alert", cap->alert);
  cJSON_AddBoolToObject(o, "client_certificate_requested", cap->cert_requested);
}

/* The authenticated request itself: the first path on a new connection, with the certificate, and
 * with what made the anonymous handshake's chain acceptable (the intermediates fetched from AIA,
 * the chain CryptoAPI approved), so that only the certificate differs. */
static void send_with_cert(struct probe *p, const struct probe_tls_capture *acap, const struct curl_slist *resolve,
                           struct req_out *auth) {
  for (int i = 0; acap->extra && i < sk_X509_num(acap->extra); i++) {
    if (!p->auth_cap.extra) p->auth_cap.extra = sk_X509_new_null();
    X509 *x = sk_X509_value(acap->extra, i);
    if (p->auth_cap.extra && X509_up_ref(x) && !sk_X509_push(p->auth_cap.extra, x)) X509_free(x);
  }
  if (acap->has_approved) {
    memcpy(p->auth_cap.approved_leaf, acap->approved_leaf, sizeof(p->auth_cap.approved_leaf));
    p->auth_cap.has_approved = true;
  }
  const char *path = p->c->paths.items[0];
  while (*path == '/')
    path++;
  char url[1400];
  cg_snprintf(url, sizeof(url), "%s/%s", p->base, path);
  CURL *h = curl_easy_init();
  if (!h) {
    auth->rc = CG_ERR_NOMEM;
    cg_snprintf(auth->r.error, sizeof(auth->r.error), "out of memory");
    return;
  }
  struct cg_http_req rq = {.method = "GET",
                           .url = url,
                           .timeout_ms = probe_remaining(p),
                           .ca_file = p->c->ca_file,
                           .proxy = p->proxy,
                           .client_cert = p->c->client_cert,
                           .client_key = p->c->client_key,
                           .max_response = (size_t)p->c->max_body_bytes,
                           .abort_over_cap = true,
                           .connect_timeout_ms = (long)p->c->connect_timeout_ms,
                           .resolve = resolve,
                           .ssl_ctx_fn = probe_tls_capture_ctx,
                           .ssl_ctx_data = &p->auth_cap,
                           .fresh_connection = true};
  auth->rc = probe_io_http(h, &rq, &auth->r, &p->auth_cap, true);
  curl_easy_cleanup(h);
}

/* Without a certificate to present: the anonymous answer is what decides. */
static const struct req_out *no_cert(struct probe *p, const struct req_out *anon, const struct probe_tls_capture *acap,
                                     cJSON *a) {
  struct cg_handover_auth auth;
  probe_io_auth(p->env, &auth);
  bool has_one = !strcmp(auth.mode, "pki") || auth.thumbprint[0] || p->c->client_cert_thumbprint;
  cJSON_AddBoolToObject(a, "made", false);
  cJSON_AddStringToObject(a, "reason",
                          has_one ? "the client's certificate is in the Windows store; cmgdiag presents a "
                                    "certificate only from client_cert and client_key in this build"
                                  : "no client certificate: client_cert is not set and the client has "
                                    "no PKI certificate");
  if (!probe_refused_for_cert(anon, acap, false)) return anon;
  if (has_one) {
    probe_found(p, CG_WARN, "CMG_AUTH_NOT_TESTED", NULL,
                "Set checks.cmgprobe.client_cert and client_key to the client's certificate and key (PEM files "
                "readable by administrators only) to test the request the client makes.",
                "The CMG asks for a client certificate on the MutualAuth path, and cmgdiag could not present this "
                "client's certificate, so whether the CMG accepts it is not tested.");
    return NULL;
  }
  probe_found(p, CG_FAIL, "CMG_CLIENT_CERT_MISSING", "12044 ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED",
              "Give this device a client authentication certificate (the computer certificate template with Client "
              "Authentication, in LocalMachine\\My), or, for a client that authenticates with Entra or a site token, "
              "make sure it uses the CCM_Proxy_ServerAuth path.",
              "The CMG requires a client certificate on the MutualAuth path, and this client has none to present.");
  return NULL;
}

const struct req_out *probe_mutual(struct probe *p, const struct req_out *anon, const struct probe_tls_capture *acap,
                                   const struct curl_slist *resolve, struct req_out *auth) {
  char why[700];
  if (probe_inspection_issuer(acap, why, sizeof(why))) cJSON_AddStringToObject(p->facts, "tls_inspection", why);
  if (!cg_str_contains_ci(p->base, "/CCM_Proxy_MutualAuth/")) return anon;
  cJSON *an = cJSON_AddObjectToObject(p->facts, "anonymous");
  request_facts(an, anon, acap);
  cJSON_AddBoolToObject(an, "refused_for_certificate", probe_refused_for_cert(anon, acap, false));
  cJSON *a = cJSON_AddObjectToObject(p->facts, "authenticated");
  if (!cg_strcasecmp(p->c->authenticated, "off")) {
    cJSON_AddBoolToObject(a, "made", false);
    cJSON_AddStringToObject(a, "reason", "turned off (checks.cmgprobe.authenticated)");
    if (!probe_refused_for_cert(anon, acap, false)) return anon;
    probe_found(p, CG_WARN, "CMG_AUTH_NOT_TESTED", NULL,
                "Set checks.cmgprobe.authenticated to auto to test the request the client makes with its certificate.",
                "The CMG asks for a client certificate on the MutualAuth path, and the request with the client's "
                "certificate is turned off, so whether the CMG accepts it is not tested.");
    return NULL;
  }
  if (!p->c->client_cert) return no_cert(p, anon, acap, a);
  struct client_cert cc;
  load_client_cert(p->c->client_cert, &cc);
  if (cc.leaf) cJSON_AddItemToObject(a, "client_certificate", probe_tls_cert_json(cc.leaf, probe_tape_now_ms() / 1000));
  send_with_cert(p, acap, resolve, auth);
  auth->j = a; /* owned by the facts */
  cJSON_AddStringToObject(a, "path", p->c->paths.items[0]);
  cJSON_AddBoolToObject(a, "made", true);
  request_facts(a, auth, &p->auth_cap);
  enum refusal r = refusal_of(auth, &p->auth_cap, true);
  const struct req_out *decides = NULL;
  /* a device in between: a known inspection CA, another certificate than the anonymous handshake's,
   * or "no certificate" from a server that never asked for one */
  bool inspected = cJSON_GetObjectItemCaseSensitive(p->facts, "tls_inspection") != NULL;
  if (!inspected && !same_leaf(acap, &p->auth_cap)) {
    cg_snprintf(why, sizeof(why), "the CMG presented another certificate to the request with the client certificate");
    inspected = true;
  }
  if (!inspected && r == R_REQUIRED && !p->auth_cap.cert_requested && auth->rc == CG_OK) {
    cg_snprintf(why, sizeof(why),
                "the answer says no client certificate was sent, but the server this device "
                "talks to never asked for one: another device ends the TLS connection");
    inspected = true;
  }
  if (inspected) cJSON_AddStringToObject(a, "inspection_evidence", why);
  if (inspected && (r != R_NONE || auth->r.curl_rc == CURLE_PEER_FAILED_VERIFICATION)) {
    probe_found(p, CG_FAIL, "CMG_TLS_INSPECTION", "12175 ERROR_WINHTTP_SECURE_FAILURE",
                "Exclude the CMG's name from TLS inspection on the proxy or security service in the path (for "
                "Zscaler, add it to the SSL inspection bypass list): a device that decrypts TLS cannot pass the "
                "client certificate on to the CMG.",
                "A TLS-inspecting device between this device and the CMG %s breaks the request with the client "
                "certificate (%s): %s.",
                p->host, auth->rc == CG_OK ? refusal_names[r] : auth->r.error, why);
  } else if (auth->rc == CG_OK && r == R_NONE) {
    decides = auth; /* the MP list (or the CMG's own refusal) as the client gets it */
    p->auth_ok = true;
  } else if (r != R_NONE) {
    refused(p, r, &cc, a);
  } else if (auth->r.curl_rc == CURLE_SSL_CERTPROBLEM || auth->r.curl_rc == CURLE_SSL_ENGINE_NOTFOUND ||
             auth->r.curl_rc == CURLE_SSL_ENGINE_SETFAILED || auth->r.curl_rc == CURLE_SSL_ENGINE_INITFAILED) {
    /* the certificate or key given could not be used here: nothing was asked of the CMG */
    probe_found(p, CG_WARN, "CMG_AUTH_NOT_TESTED", NULL,
                "Check checks.cmgprobe.client_cert and client_key: the certificate (PEM, with its issuing CAs) and "
                "its private key (PEM, not encrypted) must belong together.",
                "cmgdiag could not use the client certificate it was given (%s), so whether the CMG accepts the "
                "client's certificate is not tested.",
                auth->r.error);
  } else {
    probe_classify_transport(p, auth, &p->auth_cap); /* not about the certificate: what broke on the way */
  }
  free_client_cert(&cc);
  return decides;
}
