/* machine_cert PFX PASSWORD (Windows test tool)
 * Imports a PFX the way a client-authentication certificate is enrolled and puts its leaf into
 * LocalMachine\My, then prints the leaf's SHA-1 thumbprint. Under wine the key is imported as a user
 * key (CRYPT_USER_KEYSET): wine's schannel reads keys from HKEY_CURRENT_USER only and cannot use a
 * machine key (docs/checks/cmgprobe.md, "What wine's winhttp does"). */
#include <windows.h>

#include <stdio.h>
#include <wincrypt.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: machine_cert PFX PASSWORD\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  static BYTE buf[65536];
  size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
  if (f) fclose(f);
  if (!n) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 3;
  }
  wchar_t pw[128];
  MultiByteToWideChar(CP_UTF8, 0, argv[2], -1, pw, 128);
  CRYPT_DATA_BLOB blob = {(DWORD)n, buf};
  HCERTSTORE pfx = PFXImportCertStore(&blob, pw, CRYPT_USER_KEYSET);
  if (!pfx) {
    fprintf(stderr, "PFXImportCertStore failed: 0x%08lx\n", (unsigned long)GetLastError());
    return 4;
  }
  HCERTSTORE my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"My");
  if (!my) {
    fprintf(stderr, "LocalMachine\\My: 0x%08lx\n", (unsigned long)GetLastError());
    return 5;
  }
  PCCERT_CONTEXT c = NULL;
  int rc = 6;
  while ((c = CertEnumCertificatesInStore(pfx, c)) != NULL) {
    BYTE usage = 0;
    BOOL has_ku = CertGetIntendedKeyUsage(X509_ASN_ENCODING, c->pCertInfo, &usage, 1);
    if (has_ku && (usage & CERT_KEY_CERT_SIGN_KEY_USAGE)) continue; /* a CA certificate of the PFX */
    if (!CertAddCertificateContextToStore(my, c, CERT_STORE_ADD_REPLACE_EXISTING, NULL)) break;
    BYTE hash[20];
    DWORD hl = sizeof(hash);
    if (CertGetCertificateContextProperty(c, CERT_SHA1_HASH_PROP_ID, hash, &hl)) {
      for (DWORD i = 0; i < hl; i++)
        printf("%02X", hash[i]);
      printf("\n");
      rc = 0;
    }
    CertFreeCertificateContext(c);
    break;
  }
  CertCloseStore(my, 0);
  CertCloseStore(pfx, 0);
  return rc;
}
