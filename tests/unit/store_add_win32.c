/* Adds a DER root certificate to the current user's ROOT store (the one curl's NATIVE_CA reads). */
#include <windows.h>

#include <wincrypt.h>

int add_root_to_store(const void *der, size_t len);

int add_root_to_store(const void *der, size_t len) {
  HCERTSTORE store = CertOpenSystemStoreW(0, L"ROOT");
  if (!store) return -1;
  BOOL ok = CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, (DWORD)len, CERT_STORE_ADD_REPLACE_EXISTING,
                                             NULL);
  CertCloseStore(store, 0);
  return ok ? 0 : -1;
}
