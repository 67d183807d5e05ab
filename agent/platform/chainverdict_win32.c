/* CryptoAPI's verdict on a server chain (see chainverdict.h): CertGetCertificateChain with the
 * server's certificates as an additional store, then CertVerifyCertificateChainPolicy
 * (CERT_CHAIN_POLICY_SSL, AUTHTYPE_SERVER, the host name). */
#define CERT_CHAIN_PARA_HAS_EXTRA_FIELDS /* dwUrlRetrievalTimeout */
#include <windows.h>
#include <wincrypt.h>

#include <stdio.h>
#include <string.h>

#include "cg.h"
#include "chainverdict.h"
#include "fs.h"
#include "utf_win32.h"

static const char *hr_name(unsigned long e) {
  static const struct {
    unsigned long e;
    const char *n;
  } t[] = {
      {0x800B0109UL, "CERT_E_UNTRUSTEDROOT"},
      {0x800B010AUL, "CERT_E_CHAINING"},
      {0x800B0101UL, "CERT_E_EXPIRED"},
      {0x800B010FUL, "CERT_E_CN_NO_MATCH"},
      {0x800B0110UL, "CERT_E_WRONG_USAGE"},
      {0x800B010CUL, "CERT_E_REVOKED"},
      {0x80092010UL, "CRYPT_E_REVOKED"},
      {0x80092013UL, "CRYPT_E_REVOCATION_OFFLINE"},
      {0x80092012UL, "CRYPT_E_NO_REVOCATION_CHECK"},
      {0x800B0102UL, "CERT_E_VALIDITYPERIODNESTING"},
      {0x80096004UL, "TRUST_E_CERT_SIGNATURE"},
      {0x800B0111UL, "CERT_E_UNTRUSTEDCA"},
      {0x800B0112UL, "CERT_E_UNTRUSTEDCA"},
      {0x800B0113UL, "CERT_E_INVALID_POLICY"},
      {0x800B0114UL, "CERT_E_INVALID_NAME"},
      {0x800B010DUL, "CERT_E_UNTRUSTEDTESTROOT"},
  };
  for (size_t i = 0; i < CG_ARRAY_LEN(t); i++)
    if (t[i].e == e) return t[i].n;
  return "";
}

static void flag_names(unsigned long s, char *buf, size_t len) {
  static const struct {
    unsigned long b;
    const char *n;
  } t[] = {
      {CERT_TRUST_IS_NOT_TIME_VALID, "not_time_valid"},
      {CERT_TRUST_IS_REVOKED, "revoked"},
      {CERT_TRUST_IS_NOT_SIGNATURE_VALID, "bad_signature"},
      {CERT_TRUST_IS_NOT_VALID_FOR_USAGE, "wrong_usage"},
      {CERT_TRUST_IS_UNTRUSTED_ROOT, "untrusted_root"},
      {CERT_TRUST_REVOCATION_STATUS_UNKNOWN, "revocation_unknown"},
      {CERT_TRUST_IS_CYCLIC, "cyclic"},
      {CERT_TRUST_IS_PARTIAL_CHAIN, "partial_chain"},
      {CERT_TRUST_IS_OFFLINE_REVOCATION, "revocation_offline"},
      {CERT_TRUST_INVALID_BASIC_CONSTRAINTS, "bad_basic_constraints"},
      {CERT_TRUST_INVALID_NAME_CONSTRAINTS, "bad_name_constraints"},
  };
  buf[0] = '\0';
  for (size_t i = 0; i < CG_ARRAY_LEN(t); i++)
    if (s & t[i].b) {
      size_t l = strlen(buf);
      cg_snprintf(buf + l, len - l, "%s%s", l ? "," : "", t[i].n);
    }
}

/* The PEM certificates of `path` into a memory store; NULL when none. */
static HCERTSTORE pem_store(const char *path) {
  char *data = NULL;
  size_t len = 0;
  if (cg_file_read(path, 4 * 1024 * 1024, &data, &len) != CG_OK) return NULL;
  HCERTSTORE st = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, NULL);
  int added = 0;
  const char *p = data;
  while (st && (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
    const char *e = strstr(p, "-----END CERTIFICATE-----");
    if (!e) break;
    e += 25;
    DWORD n = 0;
    if (CryptStringToBinaryA(p, (DWORD)(e - p), CRYPT_STRING_BASE64HEADER, NULL, &n, NULL, NULL) && n) {
      BYTE *b = cg_malloc(n);
      if (b && CryptStringToBinaryA(p, (DWORD)(e - p), CRYPT_STRING_BASE64HEADER, b, &n, NULL, NULL) &&
          CertAddEncodedCertificateToStore(st, X509_ASN_ENCODING, b, n, CERT_STORE_ADD_USE_EXISTING, NULL))
        added++;
      cg_free(b);
    }
    p = e;
  }
  cg_free(data);
  if (st && !added) {
    CertCloseStore(st, 0);
    st = NULL;
  }
  return st;
}

void cg_chain_verdict(const unsigned char *const *der, const size_t *der_len, int n, const char *host,
                      const char *extra_roots_pem, bool check_revocation, long timeout_ms, struct cg_chain_verdict *v) {
  memset(v, 0, sizeof(*v));
  v->available = true;
  v->wine = GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
  v->revocation_checked = check_revocation;
  HCERTSTORE sent = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, NULL);
  PCCERT_CONTEXT leaf = n > 0 ? CertCreateCertificateContext(X509_ASN_ENCODING, der[0], (DWORD)der_len[0]) : NULL;
  HCERTSTORE roots = NULL, coll = NULL, sysroot = NULL;
  HCERTCHAINENGINE engine = NULL;
  PCCERT_CHAIN_CONTEXT chain = NULL;
  wchar_t *whost = cg_utf8_to_wide(host);
  if (!sent || !leaf || !whost) {
    v->available = false;
    cg_snprintf(v->detail, sizeof(v->detail), "CryptoAPI cannot read the server's certificate (error %lu)",
                (unsigned long)GetLastError());
    goto out;
  }
  for (int i = 1; i < n; i++)
    CertAddEncodedCertificateToStore(sent, X509_ASN_ENCODING, der[i], (DWORD)der_len[i], CERT_STORE_ADD_USE_EXISTING,
                                     NULL);
  if (extra_roots_pem && (roots = pem_store(extra_roots_pem)) != NULL) {
    /* the machine's roots and the configured ones: an engine whose root store is both */
    coll = CertOpenStore(CERT_STORE_PROV_COLLECTION, 0, 0, 0, NULL);
    sysroot = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_READONLY_FLAG,
                            L"Root");
    if (coll) {
      CertAddStoreToCollection(coll, roots, 0, 0);
      if (sysroot) CertAddStoreToCollection(coll, sysroot, 0, 0);
      CERT_CHAIN_ENGINE_CONFIG ec;
      memset(&ec, 0, sizeof(ec));
      ec.cbSize = sizeof(ec);
      ec.hExclusiveRoot = coll;
      ec.dwUrlRetrievalTimeout = (DWORD)timeout_ms;
      if (!CertCreateCertificateChainEngine(&ec, &engine)) engine = NULL;
    }
  }
  CERT_CHAIN_PARA cp;
  memset(&cp, 0, sizeof(cp));
  cp.cbSize = sizeof(cp);
  static LPSTR server_auth[] = {(LPSTR)szOID_PKIX_KP_SERVER_AUTH};
  cp.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
  cp.RequestedUsage.Usage.cUsageIdentifier = 1;
  cp.RequestedUsage.Usage.rgpszUsageIdentifier = server_auth;
  cp.dwUrlRetrievalTimeout = (DWORD)timeout_ms;
  DWORD flags = check_revocation ? CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT : 0;
  if (!CertGetCertificateChain(engine ? engine : HCCE_LOCAL_MACHINE, leaf, NULL, sent, &cp, flags, NULL, &chain)) {
    cg_snprintf(v->detail, sizeof(v->detail), "CertGetCertificateChain failed (error %lu)",
                (unsigned long)GetLastError());
    v->available = false;
    goto out;
  }
  v->trust_errors = chain->TrustStatus.dwErrorStatus;
  flag_names(v->trust_errors, v->trust_flags, sizeof(v->trust_flags));
  if (chain->cChain > 0) v->chain_length = (int)chain->rgpChain[0]->cElement;
  SSL_EXTRA_CERT_CHAIN_POLICY_PARA ssl;
  memset(&ssl, 0, sizeof(ssl));
  ssl.cbSize = sizeof(ssl);
  ssl.dwAuthType = AUTHTYPE_SERVER;
  ssl.pwszServerName = whost;
  CERT_CHAIN_POLICY_PARA pp;
  memset(&pp, 0, sizeof(pp));
  pp.cbSize = sizeof(pp);
  pp.pvExtraPolicyPara = &ssl;
  CERT_CHAIN_POLICY_STATUS ps;
  memset(&ps, 0, sizeof(ps));
  ps.cbSize = sizeof(ps);
  if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &pp, &ps)) {
    cg_snprintf(v->detail, sizeof(v->detail), "CertVerifyCertificateChainPolicy failed (error %lu)",
                (unsigned long)GetLastError());
    v->available = false;
    goto out;
  }
  v->error = ps.dwError;
  v->trusted = ps.dwError == 0;
  cg_strlcpy(v->error_name, hr_name(ps.dwError), sizeof(v->error_name));
  cg_snprintf(v->detail, sizeof(v->detail), "%s%s%s (0x%08lX)%s", v->trusted ? "trusted" : "refused",
              v->error_name[0] ? ": " : "", v->error_name, v->error, v->wine ? "; crypt32 is wine's" : "");
out:
  if (chain) CertFreeCertificateChain(chain);
  if (engine) CertFreeCertificateChainEngine(engine);
  if (coll) CertCloseStore(coll, 0);
  if (sysroot) CertCloseStore(sysroot, 0);
  if (roots) CertCloseStore(roots, 0);
  if (leaf) CertFreeCertificateContext(leaf);
  if (sent) CertCloseStore(sent, 0);
  cg_free(whost);
}
