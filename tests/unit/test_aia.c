/* The AIA fetch is chosen by the CMG's certificate, an untrusted party: at most PROBE_AIA_PER_CERT
 * URLs per certificate and PROBE_AIA_PER_PROBE per probe, and never to a loopback or link-local
 * address unless the CMG itself is there (a lab). A certificate with three such URLs is made here. */
#include <openssl/x509v3.h>

#include "http.h"
#include "test.h"
#include "tlsinfo.h"

static X509 *cert_with_aia(const char *aia) {
  X509 *x = X509_new();
  EVP_PKEY *k = EVP_RSA_gen(2048);
  X509_NAME *s = X509_NAME_new(), *i = X509_NAME_new();
  X509_NAME_add_entry_by_txt(s, "CN", MBSTRING_ASC, (const unsigned char *)"cmg.contoso.com", -1, -1, 0);
  X509_NAME_add_entry_by_txt(i, "CN", MBSTRING_ASC, (const unsigned char *)"Contoso Issuing CA", -1, -1, 0);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
  X509_set_subject_name(x, s);
  X509_set_issuer_name(x, i);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, k);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_info_access, aia);
  X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  X509_sign(x, k, EVP_sha256());
  X509_NAME_free(s);
  X509_NAME_free(i);
  EVP_PKEY_free(k);
  return x;
}

TEST(never_to_loopback_or_link_local_and_bounded) {
  X509 *x = cert_with_aia("caIssuers;URI:http://127.0.0.1:9/a.cer,caIssuers;URI:http://169.254.169.254/latest/"
                          "meta-data/,caIssuers;URI:http://[::ffff:127.0.0.2]:9/c.cer");
  CHECK(x != NULL);
  STACK_OF(X509) *out = sk_X509_new_null();
  char url[600], why[600];
  int left = PROBE_AIA_PER_PROBE;
  CHECK(probe_tls_fetch_issuers(x, 2000, NULL, false, &left, out, url, sizeof(url), why, sizeof(why)) == 0);
  /* two URLs tried (the per-certificate cap), both refused before any connection */
  CHECK_STR(url, "http://169.254.169.254/latest/meta-data/");
  CHECK(left == PROBE_AIA_PER_PROBE - 2);
  CHECK(strstr(why, "at most 2 AIA URLs per certificate") != NULL);
  /* the probe's budget: one left, one tried */
  left = 1;
  CHECK(probe_tls_fetch_issuers(x, 2000, NULL, false, &left, out, url, sizeof(url), why, sizeof(why)) == 0);
  CHECK_STR(url, "http://127.0.0.1:9/a.cer");
  CHECK(left == 0);
  /* none left: nothing is tried */
  CHECK(probe_tls_fetch_issuers(x, 2000, NULL, false, &left, out, url, sizeof(url), why, sizeof(why)) == 0);
  CHECK_STR(url, "");
  X509_free(x);
  /* one URL, refused by its address and not by the cap: the reason says so */
  x = cert_with_aia("caIssuers;URI:http://127.0.0.1:9/a.cer");
  left = PROBE_AIA_PER_PROBE;
  CHECK(probe_tls_fetch_issuers(x, 2000, NULL, false, &left, out, url, sizeof(url), why, sizeof(why)) == 0);
  CHECK(strstr(why, "loopback or link-local") != NULL);
  /* also through a proxy (the URL's host decides, the proxy is never asked) */
  CHECK(probe_tls_fetch_issuers(x, 2000, "http://192.0.2.1:3128", false, &left, out, url, sizeof(url), why,
                                sizeof(why)) == 0);
  CHECK(strstr(why, "loopback or link-local") != NULL);
  /* a lab (the CMG on loopback): the fetch is made (and port 9 refuses it) */
  CHECK(probe_tls_fetch_issuers(x, 2000, NULL, true, &left, out, url, sizeof(url), why, sizeof(why)) == 0);
  CHECK(strstr(why, "loopback or link-local") == NULL);
  X509_free(x);
  /* a name that is not an address literal but leads to loopback: refused on the connection (or
   * by the URL parser's normal form), never fetched */
  x = cert_with_aia("caIssuers;URI:http://2130706433:9/a.cer");
  CHECK(probe_tls_fetch_issuers(x, 2000, NULL, false, &left, out, url, sizeof(url), why, sizeof(why)) == 0);
  if (!strstr(why, "loopback or link-local")) fprintf(stderr, "  why: %s\n", why);
#ifdef _WIN32 /* wine's resolver may not take a bare number for a name: then nothing was fetched either */
  CHECK(strstr(why, "loopback or link-local") != NULL || strstr(why, "resolve") != NULL);
#else
  CHECK(strstr(why, "loopback or link-local") != NULL);
#endif
  X509_free(x);
  CHECK(sk_X509_num(out) == 0);
  sk_X509_pop_free(out, X509_free);
}

int main(void) {
  cg_http_global_init();
  RUN(never_to_loopback_or_link_local_and_bounded);
  return test_finish("aia");
}
