/* LocalMachine\My through CryptoAPI. */
#include <windows.h>
#include <wincrypt.h>

#include <string.h>

#include "certstore.h"
#include "utf_win32.h"

static int64_t filetime_ms(const FILETIME *ft) {
  uint64_t t = ((uint64_t)ft->dwHighDateTime << 32) | ft->dwLowDateTime; /* 100 ns since 1601 */
  return (int64_t)(t / 10000) - 11644473600000LL;
}

static void name_of(const CERT_NAME_BLOB *blob, char *out, size_t outlen) {
  wchar_t w[512];
  /* the order .NET's X509Certificate.Subject (and so PowerShell) shows: most specific first */
  DWORD n = CertNameToStrW(X509_ASN_ENCODING, (CERT_NAME_BLOB *)blob, CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG,
                           w, CG_ARRAY_LEN(w));
  char *u = n > 1 ? cg_wide_to_utf8(w) : NULL;
  cg_strlcpy(out, u ? u : "", outlen);
  cg_free(u);
}

/* The DNS names of the subject alternative name (the client's SubjectStr: and Subject: criteria
 * match them too). */
static void sans_of(PCCERT_CONTEXT c, struct cg_cert_info *ci) {
  PCERT_EXTENSION ext = CertFindExtension(szOID_SUBJECT_ALT_NAME2, c->pCertInfo->cExtension, c->pCertInfo->rgExtension);
  CERT_ALT_NAME_INFO *info = NULL;
  DWORD size = 0;
  if (!ext || !CryptDecodeObjectEx(X509_ASN_ENCODING, X509_ALTERNATE_NAME, ext->Value.pbData, ext->Value.cbData,
                                   CRYPT_DECODE_ALLOC_FLAG, NULL, &info, &size))
    return;
  for (DWORD i = 0; i < info->cAltEntry; i++) {
    if (info->rgAltEntry[i].dwAltNameChoice != CERT_ALT_NAME_DNS_NAME) continue;
    char *u = cg_wide_to_utf8(info->rgAltEntry[i].pwszDNSName);
    size_t l = strlen(ci->sans);
    if (u) cg_snprintf(ci->sans + l, sizeof(ci->sans) - l, "%s%s", l ? ", " : "", u);
    cg_free(u);
  }
  LocalFree(info);
}

static void ekus_of(PCCERT_CONTEXT c, struct cg_cert_info *ci) {
  DWORD size = 0;
  if (!CertGetEnhancedKeyUsage(c, 0, NULL, &size) || size == 0) return;
  CERT_ENHKEY_USAGE *u = cg_malloc(size);
  if (u && CertGetEnhancedKeyUsage(c, 0, u, &size))
    for (DWORD i = 0; i < u->cUsageIdentifier && ci->n_ekus < CG_CERT_MAX_EKUS; i++)
      cg_strlcpy(ci->ekus[ci->n_ekus++], u->rgpszUsageIdentifier[i], sizeof(ci->ekus[0]));
  cg_free(u);
}

static void chain_of(PCCERT_CONTEXT c, struct cg_cert_info *ci) {
  static char client_auth[] = szOID_PKIX_KP_CLIENT_AUTH;
  LPSTR usages[] = {client_auth};
  CERT_CHAIN_PARA para;
  memset(&para, 0, sizeof(para));
  para.cbSize = sizeof(para);
  para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
  para.RequestedUsage.Usage.cUsageIdentifier = 1;
  para.RequestedUsage.Usage.rgpszUsageIdentifier = usages;
  PCCERT_CHAIN_CONTEXT chain = NULL;
  if (!CertGetCertificateChain(NULL, c, NULL, NULL, &para, CERT_CHAIN_CACHE_ONLY_URL_RETRIEVAL, NULL, &chain)) {
    ci->chain = 1;
    cg_snprintf(ci->chain_error, sizeof(ci->chain_error), "Windows could not build a chain (error 0x%08lx)",
                (unsigned long)GetLastError());
    return;
  }
  DWORD st = chain->TrustStatus.dwErrorStatus;
  /* revocation is not asked for here: the site's CRL setting decides that, not the store */
  st &= ~(DWORD)(CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION);
  ci->chain = st ? 1 : 0;
  if (st)
    cg_snprintf(ci->chain_error, sizeof(ci->chain_error), "%s (CERT_TRUST status 0x%08lx)",
                (st & CERT_TRUST_IS_UNTRUSTED_ROOT)        ? "its root is not trusted on this device"
                : (st & CERT_TRUST_IS_PARTIAL_CHAIN)       ? "its chain is incomplete (an intermediate CA is missing)"
                : (st & CERT_TRUST_IS_NOT_TIME_VALID)      ? "a certificate of its chain is outside its validity"
                : (st & CERT_TRUST_IS_REVOKED)             ? "it is revoked"
                : (st & CERT_TRUST_IS_NOT_VALID_FOR_USAGE) ? "its chain does not allow client authentication"
                                                           : "Windows does not trust its chain",
                (unsigned long)st);
  if (chain->cChain > 0 && chain->rgpChain[0]->cElement > 0) {
    PCERT_SIMPLE_CHAIN sc = chain->rgpChain[0];
    name_of(&sc->rgpElement[sc->cElement - 1]->pCertContext->pCertInfo->Subject, ci->root, sizeof(ci->root));
  }
  CertFreeCertificateChain(chain);
}

int cg_certstore_machine_my(struct cg_cert_info **certs, size_t *count, char *err, size_t errlen) {
  *certs = NULL;
  *count = 0;
  HCERTSTORE s =
      CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                    CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_READONLY_FLAG | CERT_STORE_OPEN_EXISTING_FLAG, L"MY");
  if (!s) {
    DWORD e = GetLastError();
    cg_snprintf(err, errlen, "cannot open LocalMachine\\My (error %lu)", (unsigned long)e);
    return e == ERROR_ACCESS_DENIED ? CG_ERR_ACCESS : CG_ERR_IO;
  }
  struct cg_cert_info *out = cg_calloc(CG_CERT_MAX, sizeof(*out));
  size_t n = 0;
  if (!out) {
    CertCloseStore(s, 0);
    return CG_ERR_NOMEM;
  }
  for (PCCERT_CONTEXT c = NULL; n < CG_CERT_MAX && (c = CertEnumCertificatesInStore(s, c)) != NULL;) {
    struct cg_cert_info *ci = &out[n++];
    name_of(&c->pCertInfo->Subject, ci->subject, sizeof(ci->subject));
    name_of(&c->pCertInfo->Issuer, ci->issuer, sizeof(ci->issuer));
    BYTE hash[20];
    DWORD hl = sizeof(hash);
    if (CertGetCertificateContextProperty(c, CERT_SHA1_HASH_PROP_ID, hash, &hl))
      for (DWORD i = 0; i < hl && i < 20; i++)
        cg_snprintf(ci->thumbprint + 2 * i, 3, "%02X", hash[i]);
    ci->not_before_ms = filetime_ms(&c->pCertInfo->NotBefore);
    ci->not_after_ms = filetime_ms(&c->pCertInfo->NotAfter);
    DWORD kl = 0;
    ci->has_private_key = CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &kl) ? 1 : 0;
    ekus_of(c, ci);
    sans_of(c, ci);
    chain_of(c, ci);
  }
  CertCloseStore(s, 0);
  *certs = out;
  *count = n;
  return CG_OK;
}
