/* TLS forensics for the CMG probe with OpenSSL: the peer's chain captured during the handshake
 * even when verification fails, each certificate described as facts, and revocation checked the
 * way the Windows client does it: by fetching every CRL distribution point over HTTP from this
 * network. */
#ifndef CG_TLSINFO_H
#define CG_TLSINFO_H

#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "cg.h"

#define CG_TLS_MAX_ERRORS 8

struct cg_tls_capture {
  STACK_OF(X509) *sent;     /* what the server sent, leaf first (owned) */
  STACK_OF(X509) *built;    /* the chain OpenSSL built, leaf first, up to the root when trusted (owned) */
  struct { int depth, error; } errors[CG_TLS_MAX_ERRORS];
  int nerrors;
  char version[16];         /* "TLSv1.3" */
  char cipher[64];
  char alert[96];           /* last TLS alert received, "protocol version" */
  bool handshake_done;
};

/* CURLOPT_SSL_CTX_FUNCTION: installs the capture on the handshake (data = struct cg_tls_capture *). */
CURLcode cg_tls_capture_ctx(CURL *curl, void *ssl_ctx, void *data);
void cg_tls_capture_free(struct cg_tls_capture *c);

/* The certificate as facts: subject, issuer, serial, not_before/not_after (RFC 3339), days_left,
 * sans, ekus, key ("RSA 2048"), sha256, crl_urls, ocsp_urls, ca_issuers, self_signed. */
cJSON *cg_tls_cert_json(X509 *x, int64_t now_s);
int64_t cg_tls_not_after(X509 *x); /* Unix seconds */
bool cg_tls_name_matches(X509 *x, const char *host);

enum cg_rev { CG_REV_NOT_CHECKED = 0, CG_REV_GOOD, CG_REV_REVOKED, CG_REV_UNREACHABLE, CG_REV_NO_CDP };
const char *cg_rev_name(enum cg_rev r);

/* Revocation of `x` issued by `issuer`: fetches its HTTP CRL distribution points (timeout_ms each,
 * at most max_bytes, through `proxy`), checks the CRL signature against the issuer, its
 * nextUpdate, and the serial. `detail` gets a sentence (which URL, why). */
enum cg_rev cg_tls_check_crl(X509 *x, X509 *issuer, long timeout_ms, size_t max_bytes, const char *proxy,
                             char *detail, size_t detail_len);

#endif
