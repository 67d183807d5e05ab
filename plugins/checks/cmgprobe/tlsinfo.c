/* TLS forensics with OpenSSL (see tlsinfo.h). */
#include "tlsinfo.h"

#include "http.h"
#include "platform/sys.h"

#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs7.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int ex_index = -1;

/* What the server sent, leaf first, once per handshake. */
static void capture_sent(struct probe_tls_capture *c, X509_STORE_CTX *xs) {
  if (c->sent) return;
  STACK_OF(X509) *u = X509_STORE_CTX_get0_untrusted(xs);
  X509 *leaf = X509_STORE_CTX_get0_cert(xs);
  c->sent = sk_X509_new_null();
  if (c->sent && leaf && X509_up_ref(leaf)) sk_X509_push(c->sent, leaf);
  for (int i = 0; c->sent && u && i < sk_X509_num(u); i++) {
    X509 *x = sk_X509_value(u, i);
    if (x != leaf && X509_cmp(x, leaf) != 0 && X509_up_ref(x)) sk_X509_push(c->sent, x);
  }
}

static int verify_cb(int ok, X509_STORE_CTX *xs) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
  struct probe_tls_capture *c = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index) : NULL;
  if (!c) return ok;
  if (!ok && c->nerrors < PROBE_TLS_MAX_ERRORS) {
    c->errors[c->nerrors].depth = X509_STORE_CTX_get_error_depth(xs);
    c->errors[c->nerrors].error = X509_STORE_CTX_get_error(xs);
    c->nerrors++;
  }
  capture_sent(c, xs);
  STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(xs);
  if (chain) {
    if (c->built) sk_X509_pop_free(c->built, X509_free);
    c->built = chain;
  }
  return ok; /* the verdict stays OpenSSL's: a failed verification still ends the handshake */
}

static void info_cb(const SSL *ssl, int where, int ret) {
  struct probe_tls_capture *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index);
  if (!c) return;
  if (where & SSL_CB_ALERT && where & SSL_CB_READ) {
    cg_strlcpy(c->alert, SSL_alert_desc_string_long(ret), sizeof(c->alert));
    c->alert_code = ret & 0xff;
  }
  if (where & SSL_CB_HANDSHAKE_DONE) {
    c->handshake_done = true;
    cg_strlcpy(c->version, SSL_get_version(ssl), sizeof(c->version));
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    if (ci) cg_strlcpy(c->cipher, SSL_CIPHER_get_name(ci), sizeof(c->cipher));
  }
}

/* Counts the bytes of every TLS record (5-byte header + payload) in both directions. */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl, void *arg) {
  (void)version;
  (void)ssl;
  struct probe_tls_capture *c = arg;
  /* a CertificateRequest (handshake type 13) from the server, in the handshake or a renegotiation */
  if (c && !write_p && content_type == SSL3_RT_HANDSHAKE && len >= 1 && ((const unsigned char *)buf)[0] == 13)
    c->cert_requested = true;
  if (!c || content_type != SSL3_RT_HEADER || len < 5) return;
  const unsigned char *h = buf;
  uint64_t n = 5u + (((unsigned)h[3] << 8) | h[4]);
  if (write_p)
    c->bytes_out += n;
  else
    c->bytes_in += n;
}

/* Verification with the AIA-fetched intermediates added to what the server sent, as untrusted
 * certificates: they help build the chain, the trust anchor still has to be in the store. */
static int verify_with_extra(X509_STORE_CTX *xs, void *arg) {
  struct probe_tls_capture *c = arg;
  capture_sent(c, xs); /* before the fetched certificates join them */
  if (c->has_approved) {
    unsigned char md[32];
    unsigned int n = 0;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    if (leaf && X509_digest(leaf, EVP_sha256(), md, &n) && n == 32 && !memcmp(md, c->approved_leaf, 32)) {
      X509_STORE_CTX_set_error(xs, X509_V_OK);
      return 1; /* the chain Windows judged, as the client would use it */
    }
  }
  STACK_OF(X509) *orig = X509_STORE_CTX_get0_untrusted(xs);
  STACK_OF(X509) *u = orig ? sk_X509_dup(orig) : sk_X509_new_null();
  for (int i = 0; u && c->extra && i < sk_X509_num(c->extra); i++)
    sk_X509_push(u, sk_X509_value(c->extra, i));
  if (u) X509_STORE_CTX_set0_untrusted(xs, u);
  int ok = X509_verify_cert(xs);
  X509_STORE_CTX_set0_untrusted(xs, orig);
  sk_X509_free(u);
  return ok;
}

CURLcode probe_tls_capture_ctx(CURL *curl, void *ssl_ctx, void *data) {
  (void)curl;
  SSL_CTX *ctx = ssl_ctx;
  struct probe_tls_capture *c = data;
  if (ex_index < 0) ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  if (ex_index < 0 || !SSL_CTX_set_ex_data(ctx, ex_index, data)) return CURLE_OUT_OF_MEMORY;
  /* curl set SSL_VERIFY_PEER already (verification is never off); keep the mode, add the capture */
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
  SSL_CTX_set_info_callback(ctx, info_cb);
  SSL_CTX_set_msg_callback(ctx, msg_cb);
  SSL_CTX_set_msg_callback_arg(ctx, c);
  if ((c->extra && sk_X509_num(c->extra) > 0) || c->has_approved)
    SSL_CTX_set_cert_verify_callback(ctx, verify_with_extra, c);
  return CURLE_OK;
}

void probe_tls_capture_free(struct probe_tls_capture *c) {
  if (c->sent) sk_X509_pop_free(c->sent, X509_free);
  if (c->built) sk_X509_pop_free(c->built, X509_free);
  if (c->extra) sk_X509_pop_free(c->extra, X509_free);
  c->sent = c->built = c->extra = NULL;
}

static int64_t asn1_time_s(const ASN1_TIME *t) {
  struct tm tm;
  if (!t || !ASN1_TIME_to_tm(t, &tm)) return 0;
  int64_t days = cg_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static void fmt_time(int64_t s, char *buf, size_t len) {
  cg_time_rfc3339(s * 1000, buf, len); /* 2026-01-02T03:04:05.000Z, without the milliseconds */
  char *dot = strchr(buf, '.');
  if (dot && strlen(dot) == 5) memmove(dot, dot + 4, 2);
}

static void add_time(cJSON *o, const char *key, int64_t s) {
  char buf[32];
  fmt_time(s, buf, sizeof(buf));
  cJSON_AddStringToObject(o, key, buf);
}

int64_t probe_tls_not_after(X509 *x) { return asn1_time_s(X509_get0_notAfter(x)); }
int64_t probe_tls_not_before(X509 *x) { return asn1_time_s(X509_get0_notBefore(x)); }

static void add_name(cJSON *o, const char *key, const X509_NAME *n) {
  char buf[512] = "";
  BIO *b = BIO_new(BIO_s_mem());
  if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
    int l = BIO_read(b, buf, sizeof(buf) - 1);
    buf[l > 0 ? l : 0] = '\0';
  }
  BIO_free(b);
  cJSON_AddStringToObject(o, key, buf);
}

/* URIs of a GENERAL_NAMES list into a JSON array. */
static void add_uris(cJSON *arr, GENERAL_NAMES *names) {
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_URI)
      cJSON_AddItemToArray(arr,
                           cJSON_CreateString((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier)));
  }
}

static cJSON *crl_urls(X509 *x) {
  cJSON *a = cJSON_CreateArray();
  STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
  for (int i = 0; dps && i < sk_DIST_POINT_num(dps); i++) {
    DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
    if (dp->distpoint && dp->distpoint->type == 0) add_uris(a, dp->distpoint->name.fullname);
  }
  sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
  return a;
}

static void aia_urls(X509 *x, cJSON *ocsp, cJSON *issuers) {
  AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
  for (int i = 0; aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
    ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
    if (ad->location->type != GEN_URI) continue;
    const char *u = (const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier);
    int nid = OBJ_obj2nid(ad->method);
    if (nid == NID_ad_OCSP)
      cJSON_AddItemToArray(ocsp, cJSON_CreateString(u));
    else if (nid == NID_ad_ca_issuers)
      cJSON_AddItemToArray(issuers, cJSON_CreateString(u));
  }
  AUTHORITY_INFO_ACCESS_free(aia);
}

cJSON *probe_tls_cert_json(X509 *x, int64_t now_s) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  add_name(o, "subject", X509_get_subject_name(x));
  add_name(o, "issuer", X509_get_issuer_name(x));
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  cJSON_AddStringToObject(o, "serial", hex ? hex : "");
  OPENSSL_free(hex);
  BN_free(bn);
  int64_t nb = asn1_time_s(X509_get0_notBefore(x)), na = asn1_time_s(X509_get0_notAfter(x));
  add_time(o, "not_before", nb);
  add_time(o, "not_after", na);
  cJSON_AddNumberToObject(o, "days_left", (double)((na - now_s) / 86400));
  cJSON *sans = cJSON_AddArrayToObject(o, "sans");
  GENERAL_NAMES *gn = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; gn && i < sk_GENERAL_NAME_num(gn); i++) {
    GENERAL_NAME *g = sk_GENERAL_NAME_value(gn, i);
    if (g->type == GEN_DNS)
      cJSON_AddItemToArray(sans, cJSON_CreateString((const char *)ASN1_STRING_get0_data(g->d.dNSName)));
  }
  GENERAL_NAMES_free(gn);
  cJSON *ekus = cJSON_AddArrayToObject(o, "ekus");
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
    char buf[80];
    OBJ_obj2txt(buf, sizeof(buf), sk_ASN1_OBJECT_value(eku, i), 1);
    const char *label = !strcmp(buf, "1.3.6.1.5.5.7.3.1")   ? "serverAuth (1.3.6.1.5.5.7.3.1)"
                        : !strcmp(buf, "1.3.6.1.5.5.7.3.2") ? "clientAuth (1.3.6.1.5.5.7.3.2)"
                                                            : buf;
    cJSON_AddItemToArray(ekus, cJSON_CreateString(label));
  }
  EXTENDED_KEY_USAGE_free(eku);
  EVP_PKEY *pk = X509_get0_pubkey(x);
  char key[48] = "unknown";
  if (pk)
    cg_snprintf(key, sizeof(key), "%s %d", EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "?",
                EVP_PKEY_get_bits(pk));
  cJSON_AddStringToObject(o, "key", key);
  unsigned char md[32];
  unsigned int mdl = 0;
  char fp[65] = "";
  if (X509_digest(x, EVP_sha256(), md, &mdl))
    for (unsigned i = 0; i < mdl && i < 32; i++)
      cg_snprintf(fp + 2 * i, 3, "%02X", md[i]);
  cJSON_AddStringToObject(o, "sha256", fp);
  cJSON_AddItemToObject(o, "crl_urls", crl_urls(x));
  cJSON *ocsp = cJSON_AddArrayToObject(o, "ocsp_urls"), *iss = cJSON_AddArrayToObject(o, "ca_issuers");
  aia_urls(x, ocsp, iss);
  cJSON_AddBoolToObject(o, "self_signed", X509_check_issued(x, x) == X509_V_OK);
  return o;
}

bool probe_tls_name_matches(X509 *x, const char *host) {
  if (X509_check_host(x, host, 0, 0, NULL) == 1) return true;
  return X509_check_ip_asc(x, host, 0) == 1;
}

const char *probe_rev_name(enum probe_rev r) {
  static const char *const n[] = {"not_checked", "good", "revoked", "unreachable", "no_cdp"};
  return n[r];
}

struct fetch_sink {
  struct cg_buf b;
  bool over;
  char refused[64]; /* the local address a certificate-chosen URL led to (not connected) */
};

/* Before the request goes out, on the connection made: a certificate-chosen URL never reaches a
 * loopback or link-local address, whatever name led there (libcurl's CURLOPT_PREREQFUNCTION). */
static int fetch_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port) {
  struct fetch_sink *k = ud;
  (void)local_ip, (void)primary_port, (void)local_port;
  if (!cg_addr_is_local(primary_ip)) return CURL_PREREQFUNC_OK;
  cg_strlcpy(k->refused, primary_ip, sizeof(k->refused));
  return CURL_PREREQFUNC_ABORT;
}

static size_t fetch_body(char *d, size_t s, size_t n, void *ud) {
  struct fetch_sink *k = ud;
  if (k->b.len + s * n > k->b.cap) {
    k->over = true;
    return 0;
  }
  cg_buf_append(&k->b, d, s * n);
  return s * n;
}

/* One plain-HTTP GET (or POST of `post`) as CryptoAPI makes it for CRLs, AIA and OCSP: http only,
 * no redirect, capped. The body goes to *out (caller frees); CG_OK or a reason in `why`. local_ok
 * false: a loopback or link-local destination is refused (by the URL's host when a proxy is used, as
 * the proxy resolves the name; by the address connected to otherwise). */
static int http_fetch(const char *url, long timeout_ms, size_t max_bytes, const char *proxy, bool local_ok,
                      const char *post_type, const void *post, size_t post_len, struct cg_buf *out, char *why,
                      size_t whylen) {
  if (!local_ok && cg_url_host_is_local(url)) {
    cg_snprintf(why, whylen, "%s: not fetched: the address is loopback or link-local", url);
    return CG_ERR_IO;
  }
  CURL *h = curl_easy_init();
  struct fetch_sink k = {0};
  char err[CURL_ERROR_SIZE] = "";
  struct curl_slist *hdr = NULL;
  int rc = CG_ERR_IO;
  if (!h) {
    cg_snprintf(why, whylen, "out of memory");
    return CG_ERR_NOMEM;
  }
  cg_buf_init(&k.b, max_bytes);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http"); /* signed objects; CDP, AIA and OCSP are plain HTTP */
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "Microsoft-CryptoAPI/10.0");
  if (post) {
    char ct[96];
    cg_snprintf(ct, sizeof(ct), "Content-Type: %s", post_type);
    hdr = curl_slist_append(NULL, ct);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
  }
  if (proxy) curl_easy_setopt(h, CURLOPT_PROXY, proxy);
  if (!local_ok && !proxy) {
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, fetch_prereq);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, &k);
  }
  cg_http_stop_on_request(h);
  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (cc != CURLE_OK && k.refused[0])
    cg_snprintf(why, whylen, "%s: not fetched: its name led to %s, a loopback or link-local address", url, k.refused);
  else if (cc != CURLE_OK)
    cg_snprintf(why, whylen, "%s: %s", url,
                k.over   ? "larger than the size cap"
                : err[0] ? err
                         : curl_easy_strerror(cc));
  else if (status != 200)
    cg_snprintf(why, whylen, "%s answered HTTP %ld", url, status);
  else
    rc = CG_OK;
  if (rc == CG_OK)
    *out = k.b;
  else
    cg_buf_free(&k.b);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
  return rc;
}

/* Fetches one CRL; NULL with a reason. */
static X509_CRL *fetch_crl(const char *url, long timeout_ms, size_t max_bytes, const char *proxy, char *why,
                           size_t whylen) {
  struct cg_buf b = {0};
  if (http_fetch(url, timeout_ms, max_bytes, proxy, true, NULL, NULL, 0, &b, why, whylen) != CG_OK) return NULL;
  const unsigned char *p = (const unsigned char *)b.data;
  X509_CRL *crl = b.len ? d2i_X509_CRL(NULL, &p, (long)b.len) : NULL;
  if (!crl && b.len) {
    BIO *bio = BIO_new_mem_buf(b.data, (int)b.len);
    crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
  }
  if (!crl) cg_snprintf(why, whylen, "%s did not answer with a CRL (%zu bytes)", url, b.len);
  cg_buf_free(&b);
  return crl;
}

enum probe_rev probe_tls_check_crl(X509 *x, X509 *issuer, long timeout_ms, size_t max_bytes, const char *proxy,
                                   char *detail, size_t detail_len) {
  cJSON *urls = crl_urls(x);
  enum probe_rev r = PROBE_REV_NO_CDP;
  detail[0] = '\0';
  const cJSON *u;
  cJSON_ArrayForEach(u, urls) {
    const char *url = cJSON_GetStringValue(u);
    if (!url || !cg_str_startswith_ci(url, "http://")) continue; /* ldap:// is for domain members */
    char why[400] = "";
    X509_CRL *crl = fetch_crl(url, timeout_ms, max_bytes, proxy, why, sizeof(why));
    if (!crl) {
      r = PROBE_REV_UNREACHABLE;
      cg_strlcpy(detail, why, detail_len);
      continue; /* the next distribution point may answer */
    }
    EVP_PKEY *ik = issuer ? X509_get0_pubkey(issuer) : NULL;
    if (!ik || X509_CRL_verify(crl, ik) != 1) {
      r = PROBE_REV_UNREACHABLE;
      cg_snprintf(detail, detail_len, "%s: the CRL is not signed by the certificate's issuer", url);
    } else if (X509_CRL_get0_nextUpdate(crl) && X509_cmp_current_time(X509_CRL_get0_nextUpdate(crl)) < 0) {
      r = PROBE_REV_UNREACHABLE; /* Windows treats an expired CRL like no CRL: revocation offline */
      cg_snprintf(detail, detail_len, "%s: the CRL is out of date (its next update is in the past)", url);
    } else {
      X509_REVOKED *rv = NULL;
      if (X509_CRL_get0_by_cert(crl, &rv, x) == 1) {
        r = PROBE_REV_REVOKED;
        char ts[32];
        fmt_time(asn1_time_s(X509_REVOKED_get0_revocationDate(rv)), ts, sizeof(ts));
        cg_snprintf(detail, detail_len, "revoked on %s according to %s", ts, url);
      } else {
        r = PROBE_REV_GOOD;
        cg_snprintf(detail, detail_len, "not revoked according to %s", url);
      }
    }
    X509_CRL_free(crl);
    if (r == PROBE_REV_GOOD || r == PROBE_REV_REVOKED) break;
  }
  cJSON_Delete(urls);
  return r;
}

/* ---- AIA: the issuer a server forgot to send ---------------------------------------------------- */

static void push_ca(STACK_OF(X509) * out, X509 *c, int *added) {
  /* only CA certificates, never a self-signed one: fetching a root does not make it trusted */
  if (c && X509_check_issued(c, c) == X509_V_OK) {
    *added = *added ? *added : -1; /* a root came: the missing piece is trust, not the chain */
    return;
  }
  if (*added < 0) *added = 0;
  if (c && X509_check_ca(c) > 0 && X509_up_ref(c)) {
    sk_X509_push(out, c);
    (*added)++;
  }
}

int probe_tls_fetch_issuers(X509 *x, long timeout_ms, const char *proxy, bool local_ok, int *left, STACK_OF(X509) * out,
                            char *url, size_t urllen, char *why, size_t whylen) {
  cJSON *ocsp = cJSON_CreateArray(), *iss = cJSON_CreateArray();
  aia_urls(x, ocsp, iss);
  int added = 0, tried = 0;
  url[0] = '\0';
  cg_snprintf(why, whylen, "the certificate has no http caIssuers (AIA) URL");
  const cJSON *u;
  cJSON_ArrayForEach(u, iss) {
    const char *s = cJSON_GetStringValue(u);
    if (!s || !cg_str_startswith_ci(s, "http://")) continue;   /* ldap:// is for domain members */
    if (tried >= PROBE_AIA_PER_CERT || (left && *left <= 0)) { /* the certificate chose the URLs: bounded */
      if (!added)
        cg_snprintf(why, whylen, "%s not fetched: at most %d AIA URLs per certificate and %d per probe are fetched", s,
                    PROBE_AIA_PER_CERT, PROBE_AIA_PER_PROBE);
      break;
    }
    tried++;
    if (left) (*left)--;
    cg_strlcpy(url, s, urllen);
    struct cg_buf b = {0};
    if (http_fetch(s, timeout_ms, 65536, proxy, local_ok, NULL, NULL, 0, &b, why, whylen) != CG_OK) continue;
    const unsigned char *p = (const unsigned char *)b.data;
    X509 *c = b.len ? d2i_X509(NULL, &p, (long)b.len) : NULL;
    if (c) {
      push_ca(out, c, &added);
      X509_free(c);
    } else if (b.len) {
      p = (const unsigned char *)b.data;
      PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)b.len);
      if (p7 && PKCS7_type_is_signed(p7) && p7->d.sign && p7->d.sign->cert)
        for (int i = 0; i < sk_X509_num(p7->d.sign->cert); i++)
          push_ca(out, sk_X509_value(p7->d.sign->cert, i), &added);
      PKCS7_free(p7);
      if (!p7) {
        BIO *bio = BIO_new_mem_buf(b.data, (int)b.len);
        X509 *pc;
        while (bio && (pc = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
          push_ca(out, pc, &added);
          X509_free(pc);
        }
        BIO_free(bio);
      }
    }
    cg_buf_free(&b);
    if (added) break;
    cg_snprintf(why, whylen, "%s did not answer with a CA certificate", s);
  }
  cJSON_Delete(ocsp);
  cJSON_Delete(iss);
  return added;
}

/* ---- OCSP ------------------------------------------------------------------------------------------ */

enum probe_rev probe_tls_check_ocsp(X509 *x, X509 *issuer, long timeout_ms, const char *proxy, char *detail,
                                    size_t detail_len) {
  cJSON *ocsp = cJSON_CreateArray(), *iss = cJSON_CreateArray();
  aia_urls(x, ocsp, iss);
  enum probe_rev r = PROBE_REV_NO_CDP;
  detail[0] = '\0';
  const cJSON *u;
  cJSON_ArrayForEach(u, ocsp) {
    const char *url = cJSON_GetStringValue(u);
    if (!url || !cg_str_startswith_ci(url, "http://") || !issuer) continue;
    r = PROBE_REV_UNREACHABLE;
    OCSP_CERTID *id = OCSP_cert_to_id(NULL, x, issuer);
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    unsigned char *der = NULL;
    int dl = -1;
    if (id && req && OCSP_request_add0_id(req, OCSP_CERTID_dup(id))) dl = i2d_OCSP_REQUEST(req, &der);
    struct cg_buf b = {0};
    char why[400] = "";
    if (dl <= 0) {
      cg_snprintf(detail, detail_len, "%s: the OCSP request could not be built", url);
    } else if (http_fetch(url, timeout_ms, 65536, proxy, true, "application/ocsp-request", der, (size_t)dl, &b, why,
                          sizeof(why)) != CG_OK) {
      cg_snprintf(detail, detail_len, "%s", why);
    } else {
      const unsigned char *p = (const unsigned char *)b.data;
      OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)b.len);
      OCSP_BASICRESP *bs =
          resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL ? OCSP_response_get1_basic(resp) : NULL;
      X509_STORE *st = X509_STORE_new();
      int status = -1, reason = 0;
      ASN1_GENERALIZEDTIME *rev = NULL, *thisu = NULL, *nextu = NULL;
      if (st) {
        X509_STORE_add_cert(st, issuer);
        X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN); /* the issuer is the anchor of this answer */
      }
      if (!resp)
        cg_snprintf(detail, detail_len, "%s did not answer with an OCSP response", url);
      else if (!bs)
        cg_snprintf(detail, detail_len, "%s refused the request (OCSP status %d)", url, OCSP_response_status(resp));
      else if (!st || OCSP_basic_verify(bs, NULL, st, 0) != 1)
        cg_snprintf(detail, detail_len, "%s: the OCSP answer is not signed by the issuer or its responder", url);
      else if (!OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisu, &nextu))
        cg_snprintf(detail, detail_len, "%s: the OCSP answer does not cover this certificate", url);
      else if (!OCSP_check_validity(thisu, nextu, 300, -1))
        cg_snprintf(detail, detail_len, "%s: the OCSP answer is out of date", url);
      else if (status == V_OCSP_CERTSTATUS_REVOKED) {
        r = PROBE_REV_REVOKED;
        char ts[32] = "";
        fmt_time(asn1_time_s(rev), ts, sizeof(ts));
        cg_snprintf(detail, detail_len, "revoked on %s according to %s (OCSP)", ts, url);
      } else if (status == V_OCSP_CERTSTATUS_GOOD) {
        r = PROBE_REV_GOOD;
        cg_snprintf(detail, detail_len, "not revoked according to %s (OCSP)", url);
      } else {
        cg_snprintf(detail, detail_len, "%s does not know this certificate (OCSP status unknown)", url);
      }
      X509_STORE_free(st);
      OCSP_BASICRESP_free(bs);
      OCSP_RESPONSE_free(resp);
    }
    cg_buf_free(&b);
    OPENSSL_free(der);
    OCSP_REQUEST_free(req);
    OCSP_CERTID_free(id);
    if (r == PROBE_REV_GOOD || r == PROBE_REV_REVOKED) break;
  }
  cJSON_Delete(ocsp);
  cJSON_Delete(iss);
  return r;
}

enum probe_rev probe_rev_combine(enum probe_rev crl, enum probe_rev ocsp) {
  if (crl == PROBE_REV_REVOKED || ocsp == PROBE_REV_REVOKED) return PROBE_REV_REVOKED;
  if (crl == PROBE_REV_GOOD || ocsp == PROBE_REV_GOOD) return PROBE_REV_GOOD;
  if (crl == PROBE_REV_UNREACHABLE || ocsp == PROBE_REV_UNREACHABLE) return PROBE_REV_UNREACHABLE;
  if (crl == PROBE_REV_NOT_CHECKED || ocsp == PROBE_REV_NOT_CHECKED) return PROBE_REV_NOT_CHECKED;
  return PROBE_REV_NO_CDP;
}
