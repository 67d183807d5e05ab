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

#define PROBE_TLS_MAX_ERRORS 8

struct probe_tls_capture {
  STACK_OF(X509) * sent;  /* what the server sent, leaf first (owned) */
  STACK_OF(X509) * built; /* the chain OpenSSL built, leaf first, up to the root when trusted (owned) */
  struct {
    int depth, error;
  } errors[PROBE_TLS_MAX_ERRORS];
  int nerrors;
  char version[16]; /* "TLSv1.3" */
  char cipher[64];
  char alert[96];      /* last TLS alert received, "protocol version" */
  int alert_code;      /* its description code (RFC 8446 6: 48 unknown_ca, 116 certificate_required); 0 none */
  bool cert_requested; /* the server sent a CertificateRequest (asked for a client certificate) */
  bool handshake_done;
  STACK_OF(X509) * extra;       /* CA certificates fetched from AIA, offered as untrusted (owned) */
  uint64_t bytes_out, bytes_in; /* TLS records on the wire, both directions */
  /* Windows (CryptoAPI) accepted the chain whose leaf has this SHA-256: the handshake accepts that
   * leaf (the host name is still checked by curl). Set only from a CryptoAPI verdict. */
  unsigned char approved_leaf[32];
  bool has_approved;
};

/* CURLOPT_SSL_CTX_FUNCTION: installs the capture on the handshake (data = struct probe_tls_capture *). */
CURLcode probe_tls_capture_ctx(CURL *curl, void *ssl_ctx, void *data);
void probe_tls_capture_free(struct probe_tls_capture *c);

/* The certificate as facts: subject, issuer, serial, not_before/not_after (RFC 3339), days_left,
 * sans, ekus, key ("RSA 2048"), sha256, crl_urls, ocsp_urls, ca_issuers, self_signed. */
cJSON *probe_tls_cert_json(X509 *x, int64_t now_s);
int64_t probe_tls_not_after(X509 *x); /* Unix seconds */
int64_t probe_tls_not_before(X509 *x);
bool probe_tls_name_matches(X509 *x, const char *host);

enum probe_rev {
  PROBE_REV_NOT_CHECKED = 0,
  PROBE_REV_GOOD,
  PROBE_REV_REVOKED,
  PROBE_REV_UNREACHABLE,
  PROBE_REV_NO_CDP
};
const char *probe_rev_name(enum probe_rev r);

/* Revocation of `x` issued by `issuer`: fetches its HTTP CRL distribution points (timeout_ms each,
 * at most max_bytes, through `proxy`), checks the CRL signature against the issuer, its
 * nextUpdate, and the serial. `detail` gets a sentence (which URL, why). */
enum probe_rev probe_tls_check_crl(X509 *x, X509 *issuer, long timeout_ms, size_t max_bytes, const char *proxy,
                                   char *detail, size_t detail_len);

/* The caIssuers certificates of `x` from its AIA extension, fetched over plain HTTP (the way
 * CryptoAPI completes a chain the server sent incomplete): DER, PEM or a PKCS#7 bundle (.p7c),
 * at most 64 KB, within timeout_ms. CA certificates that are not self-signed are pushed onto `out`
 * (a fetched root is never trusted for being fetched). `url` gets the URL tried (empty: the
 * certificate has no http caIssuers URL). Returns how many were added; 0 with `why` set; -1 when
 * what came is a self-signed root (then the chain is complete and the root is simply not trusted). */
/* The certificate (an untrusted party) chooses these URLs, so they are bounded: at most
 * PROBE_AIA_PER_CERT per certificate and, through *left (NULL: no count), PROBE_AIA_PER_PROBE per
 * probe; GET only, no redirect; local_ok false: never to a loopback or link-local address (the
 * docs/security.md rule: allowed only when the CMG itself is there, as in a lab). */
#define PROBE_AIA_PER_CERT 2
#define PROBE_AIA_PER_PROBE 4
int probe_tls_fetch_issuers(X509 *x, long timeout_ms, const char *proxy, bool local_ok, int *left, STACK_OF(X509) * out,
                            char *url, size_t urllen, char *why, size_t whylen);

/* Revocation of `x` by its OCSP responder (the AIA OCSP URL, http): a POSTed request, the
 * response's signature checked against `issuer` (directly or through a delegated responder it
 * issued), its thisUpdate/nextUpdate. PROBE_REV_NO_CDP when the certificate has no OCSP URL. */
enum probe_rev probe_tls_check_ocsp(X509 *x, X509 *issuer, long timeout_ms, const char *proxy, char *detail,
                                    size_t detail_len);

/* Windows' rule for one certificate, from its CRL and OCSP results: revoked when either says so,
 * good when either proves it, unreachable when neither answered, no_cdp when neither exists. */
enum probe_rev probe_rev_combine(enum probe_rev crl, enum probe_rev ocsp);

#endif
