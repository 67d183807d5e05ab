/* TLS forensics with OpenSSL (see tlsinfo.h). */
#include "tlsinfo.h"

#include "http.h"

#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int ex_index = -1;

static int verify_cb(int ok, X509_STORE_CTX *xs) {
  SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
  struct cg_tls_capture *c = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index) : NULL;
  if (!c) return ok;
  if (!ok && c->nerrors < CG_TLS_MAX_ERRORS) {
    c->errors[c->nerrors].depth = X509_STORE_CTX_get_error_depth(xs);
    c->errors[c->nerrors].error = X509_STORE_CTX_get_error(xs);
    c->nerrors++;
  }
  if (!c->sent) {
    STACK_OF(X509) *u = X509_STORE_CTX_get0_untrusted(xs);
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    c->sent = sk_X509_new_null();
    if (c->sent && leaf && X509_up_ref(leaf)) sk_X509_push(c->sent, leaf);
    for (int i = 0; c->sent && u && i < sk_X509_num(u); i++) {
      X509 *x = sk_X509_value(u, i);
      if (x != leaf && X509_cmp(x, leaf) != 0 && X509_up_ref(x)) sk_X509_push(c->sent, x);
    }
  }
  STACK_OF(X509) *chain = X509_STORE_CTX_get1_chain(xs);
  if (chain) {
    if (c->built) sk_X509_pop_free(c->built, X509_free);
    c->built = chain;
  }
  return ok; /* the verdict stays OpenSSL's: a failed verification still ends the handshake */
}

static void info_cb(const SSL *ssl, int where, int ret) {
  struct cg_tls_capture *c = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_index);
  if (!c) return;
  if (where & SSL_CB_ALERT && where & SSL_CB_READ)
    cg_strlcpy(c->alert, SSL_alert_desc_string_long(ret), sizeof(c->alert));
  if (where & SSL_CB_HANDSHAKE_DONE) {
    c->handshake_done = true;
    cg_strlcpy(c->version, SSL_get_version(ssl), sizeof(c->version));
    const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
    if (ci) cg_strlcpy(c->cipher, SSL_CIPHER_get_name(ci), sizeof(c->cipher));
  }
}

CURLcode cg_tls_capture_ctx(CURL *curl, void *ssl_ctx, void *data) {
  (void)curl;
  SSL_CTX *ctx = ssl_ctx;
  if (ex_index < 0) ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  if (ex_index < 0 || !SSL_CTX_set_ex_data(ctx, ex_index, data)) return CURLE_OUT_OF_MEMORY;
  /* curl set SSL_VERIFY_PEER already (verification is never off); keep the mode, add the capture */
  SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
  SSL_CTX_set_info_callback(ctx, info_cb);
  return CURLE_OK;
}

void cg_tls_capture_free(struct cg_tls_capture *c) {
  if (c->sent) sk_X509_pop_free(c->sent, X509_free);
  if (c->built) sk_X509_pop_free(c->built, X509_free);
  c->sent = c->built = NULL;
}

static int64_t asn1_time_s(const ASN1_TIME *t) {
  struct tm tm;
  if (!t || !ASN1_TIME_to_tm(t, &tm)) return 0;
  int64_t days = cg_days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static void fmt_time(int64_t s, char *buf, size_t len) {
  time_t t = (time_t)s;
  struct tm tm;
#ifdef _WIN32
  gmtime_s(&tm, &t);
#else
  gmtime_r(&t, &tm);
#endif
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_time(cJSON *o, const char *key, int64_t s) {
  char buf[32];
  fmt_time(s, buf, sizeof(buf));
  cJSON_AddStringToObject(o, key, buf);
}

int64_t cg_tls_not_after(X509 *x) { return asn1_time_s(X509_get0_notAfter(x)); }

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
      cJSON_AddItemToArray(arr, cJSON_CreateString((const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier)));
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
    if (nid == NID_ad_OCSP) cJSON_AddItemToArray(ocsp, cJSON_CreateString(u));
    else if (nid == NID_ad_ca_issuers) cJSON_AddItemToArray(issuers, cJSON_CreateString(u));
  }
  AUTHORITY_INFO_ACCESS_free(aia);
}

cJSON *cg_tls_cert_json(X509 *x, int64_t now_s) {
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
    if (g->type == GEN_DNS) cJSON_AddItemToArray(sans, cJSON_CreateString((const char *)ASN1_STRING_get0_data(g->d.dNSName)));
  }
  GENERAL_NAMES_free(gn);
  cJSON *ekus = cJSON_AddArrayToObject(o, "ekus");
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++) {
    char buf[80];
    OBJ_obj2txt(buf, sizeof(buf), sk_ASN1_OBJECT_value(eku, i), 1);
    const char *label = !strcmp(buf, "1.3.6.1.5.5.7.3.1") ? "serverAuth (1.3.6.1.5.5.7.3.1)"
                        : !strcmp(buf, "1.3.6.1.5.5.7.3.2") ? "clientAuth (1.3.6.1.5.5.7.3.2)" : buf;
    cJSON_AddItemToArray(ekus, cJSON_CreateString(label));
  }
  EXTENDED_KEY_USAGE_free(eku);
  EVP_PKEY *pk = X509_get0_pubkey(x);
  char key[48] = "unknown";
  if (pk) cg_snprintf(key, sizeof(key), "%s %d", EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "?", EVP_PKEY_get_bits(pk));
  cJSON_AddStringToObject(o, "key", key);
  unsigned char md[32];
  unsigned int mdl = 0;
  char fp[65] = "";
  if (X509_digest(x, EVP_sha256(), md, &mdl))
    for (unsigned i = 0; i < mdl && i < 32; i++) cg_snprintf(fp + 2 * i, 3, "%02X", md[i]);
  cJSON_AddStringToObject(o, "sha256", fp);
  cJSON_AddItemToObject(o, "crl_urls", crl_urls(x));
  cJSON *ocsp = cJSON_AddArrayToObject(o, "ocsp_urls"), *iss = cJSON_AddArrayToObject(o, "ca_issuers");
  aia_urls(x, ocsp, iss);
  cJSON_AddBoolToObject(o, "self_signed", X509_check_issued(x, x) == X509_V_OK);
  return o;
}

bool cg_tls_name_matches(X509 *x, const char *host) {
  if (X509_check_host(x, host, 0, 0, NULL) == 1) return true;
  return X509_check_ip_asc(x, host, 0) == 1;
}

const char *cg_rev_name(enum cg_rev r) {
  static const char *const n[] = {"not_checked", "good", "revoked", "unreachable", "no_cdp"};
  return n[r];
}

struct crl_sink {
  struct cg_buf b;
  bool over;
};

static size_t crl_body(char *d, size_t s, size_t n, void *ud) {
  struct crl_sink *k = ud;
  if (k->b.len + s * n > k->b.cap) {
    k->over = true;
    return 0;
  }
  cg_buf_append(&k->b, d, s * n);
  return s * n;
}

/* Fetches one CRL; NULL with a reason. */
static X509_CRL *fetch_crl(const char *url, long timeout_ms, size_t max_bytes, const char *proxy, char *why,
                           size_t whylen) {
  CURL *h = curl_easy_init();
  struct crl_sink k = {0};
  char err[CURL_ERROR_SIZE] = "";
  X509_CRL *crl = NULL;
  if (!h) {
    cg_snprintf(why, whylen, "out of memory");
    return NULL;
  }
  cg_buf_init(&k.b, max_bytes);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http"); /* CRLs are signed; CDPs are plain HTTP */
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, crl_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "Microsoft-CryptoAPI/10.0");
  if (proxy) curl_easy_setopt(h, CURLOPT_PROXY, proxy);
  cg_http_stop_on_request(h);
  CURLcode cc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (cc != CURLE_OK) {
    cg_snprintf(why, whylen, "%s: %s", url, k.over ? "larger than the size cap" : err[0] ? err : curl_easy_strerror(cc));
  } else if (status != 200) {
    cg_snprintf(why, whylen, "%s answered HTTP %ld", url, status);
  } else {
    const unsigned char *p = (const unsigned char *)k.b.data;
    crl = k.b.len ? d2i_X509_CRL(NULL, &p, (long)k.b.len) : NULL;
    if (!crl && k.b.len) {
      BIO *bio = BIO_new_mem_buf(k.b.data, (int)k.b.len);
      crl = bio ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
      BIO_free(bio);
    }
    if (!crl) cg_snprintf(why, whylen, "%s did not answer with a CRL (%zu bytes)", url, k.b.len);
  }
  cg_buf_free(&k.b);
  curl_easy_cleanup(h);
  return crl;
}

enum cg_rev cg_tls_check_crl(X509 *x, X509 *issuer, long timeout_ms, size_t max_bytes, const char *proxy,
                             char *detail, size_t detail_len) {
  cJSON *urls = crl_urls(x);
  enum cg_rev r = CG_REV_NO_CDP;
  detail[0] = '\0';
  const cJSON *u;
  cJSON_ArrayForEach(u, urls) {
    const char *url = cJSON_GetStringValue(u);
    if (!url || !cg_str_startswith_ci(url, "http://")) continue; /* ldap:// is for domain members */
    char why[400] = "";
    X509_CRL *crl = fetch_crl(url, timeout_ms, max_bytes, proxy, why, sizeof(why));
    if (!crl) {
      r = CG_REV_UNREACHABLE;
      cg_strlcpy(detail, why, detail_len);
      continue; /* the next distribution point may answer */
    }
    EVP_PKEY *ik = issuer ? X509_get0_pubkey(issuer) : NULL;
    if (!ik || X509_CRL_verify(crl, ik) != 1) {
      r = CG_REV_UNREACHABLE;
      cg_snprintf(detail, detail_len, "%s: the CRL is not signed by the certificate's issuer", url);
    } else if (X509_CRL_get0_nextUpdate(crl) && X509_cmp_current_time(X509_CRL_get0_nextUpdate(crl)) < 0) {
      r = CG_REV_UNREACHABLE; /* Windows treats an expired CRL like no CRL: revocation offline */
      cg_snprintf(detail, detail_len, "%s: the CRL is out of date (its next update is in the past)", url);
    } else {
      X509_REVOKED *rv = NULL;
      if (X509_CRL_get0_by_cert(crl, &rv, x) == 1) {
        r = CG_REV_REVOKED;
        char ts[32];
        fmt_time(asn1_time_s(X509_REVOKED_get0_revocationDate(rv)), ts, sizeof(ts));
        cg_snprintf(detail, detail_len, "revoked on %s according to %s", ts, url);
      } else {
        r = CG_REV_GOOD;
        cg_snprintf(detail, detail_len, "not revoked according to %s", url);
      }
    }
    X509_CRL_free(crl);
    if (r == CG_REV_GOOD || r == CG_REV_REVOKED) break;
  }
  cJSON_Delete(urls);
  return r;
}
