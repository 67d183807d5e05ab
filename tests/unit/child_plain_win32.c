/* Plain CreateProcessW that inherits the caller's job (see child_helper.c), and the security
 * descriptor tools of tests/windows/security.sh. */
#include <windows.h>
#include <aclapi.h>
#include <wincrypt.h>
#include <sddl.h>
#include <stdio.h>
#include <string.h>

#include "platform/fs.h"
#include "platform/utf_win32.h"
#include "cg.h"

int plain_spawn_and_wait(const char *const *argv);

int plain_spawn_and_wait(const char *const *argv) {
  char *cmd = cg_asprintf("\"%s\" %s \"%s\" %s", argv[0], argv[1], argv[2], argv[3]);
  wchar_t *w = cg_utf8_to_wide(cmd);
  STARTUPINFOW si = {.cb = sizeof(si)};
  PROCESS_INFORMATION pi;
  int rc = 3;
  if (w && CreateProcessW(NULL, w, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
    DWORD code = 3;
    WaitForSingleObject(pi.hProcess, INFINITE);
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    rc = (int)code;
  }
  cg_free(w);
  cg_free(cmd);
  return rc;
}

int platform_helper(int argc, char **argv);

static void enable(const wchar_t *name) {
  HANDLE tok = NULL;
  TOKEN_PRIVILEGES tp = {.PrivilegeCount = 1};
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES, &tok)) return;
  if (LookupPrivilegeValueW(NULL, name, &tp.Privileges[0].Luid)) {
    tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    AdjustTokenPrivileges(tok, FALSE, &tp, sizeof(tp), NULL, NULL);
  }
  CloseHandle(tok);
}

/*   sd-set PATH SDDL     owner and DACL of PATH from an SDDL string ("O:<sid>D:(A;OICI;FA;;;WD)")
 *   sd-get PATH          prints "O:<owner>D:<dacl>" as SDDL
 *   attrs PATH           prints GetFileAttributesW in hex
 *   mklink LINK TARGET   a directory symbolic link (a reparse point)
 *   cert-my PFX PASSWORD import a PFX (certificate and private key) into LocalMachine\\My
 *   cert-root DER        add a certificate to LocalMachine\\Root */
int platform_helper(int argc, char **argv) {
  if (argc < 3) return 2;
  wchar_t *w = cg_utf8_to_wide(argv[2]);
  int rc = 1;
  if (!w) return 1;
  if (!strcmp(argv[1], "sd-set") && argc > 3) {
    wchar_t *ws = cg_utf8_to_wide(argv[3]);
    PSECURITY_DESCRIPTOR sd = NULL;
    enable(L"SeRestorePrivilege");
    enable(L"SeTakeOwnershipPrivilege");
    if (ws && ConvertStringSecurityDescriptorToSecurityDescriptorW(ws, SDDL_REVISION_1, &sd, NULL)) {
      PSID owner = NULL;
      PACL dacl = NULL;
      BOOL present = FALSE, def = FALSE;
      GetSecurityDescriptorOwner(sd, &owner, &def);
      GetSecurityDescriptorDacl(sd, &present, &dacl, &def);
      DWORD e = SetNamedSecurityInfoW(w, SE_FILE_OBJECT,
                                      OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
                                          UNPROTECTED_DACL_SECURITY_INFORMATION,
                                      owner, NULL, dacl, NULL);
      rc = e == ERROR_SUCCESS ? 0 : 1;
      if (rc) fprintf(stderr, "SetNamedSecurityInfo: error %lu\n", (unsigned long)e);
      LocalFree(sd);
    }
    cg_free(ws);
  } else if (!strcmp(argv[1], "sd-get")) {
    PSECURITY_DESCRIPTOR sd = NULL;
    wchar_t *text = NULL;
    if (GetNamedSecurityInfoW(w, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, NULL, NULL,
                              NULL, NULL, &sd) == ERROR_SUCCESS &&
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &text, NULL)) {
      char *u = cg_wide_to_utf8(text);
      printf("%s\n", u ? u : "");
      cg_free(u);
      rc = 0;
    }
    if (text) LocalFree(text);
    if (sd) LocalFree(sd);
  } else if (!strcmp(argv[1], "attrs")) {
    printf("0x%lx\n", (unsigned long)GetFileAttributesW(w));
    rc = 0;
  } else if (!strcmp(argv[1], "cert-my") && argc > 3) {
    char *data = NULL;
    size_t len = 0;
    wchar_t *pw = cg_utf8_to_wide(argv[3]);
    if (cg_file_read(argv[2], 1 << 20, &data, &len) == CG_OK && pw) {
      CRYPT_DATA_BLOB blob = {.cbData = (DWORD)len, .pbData = (BYTE *)data};
      HCERTSTORE pfx = PFXImportCertStore(&blob, pw, CRYPT_MACHINE_KEYSET | CRYPT_EXPORTABLE);
      HCERTSTORE my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"MY");
      int added = 0;
      for (PCCERT_CONTEXT c = NULL; pfx && my && (c = CertEnumCertificatesInStore(pfx, c)) != NULL;)
        added += CertAddCertificateContextToStore(my, c, CERT_STORE_ADD_REPLACE_EXISTING, NULL) ? 1 : 0;
      if (!pfx) fprintf(stderr, "PFXImportCertStore: error 0x%08lx\n", (unsigned long)GetLastError());
      rc = added ? 0 : 1;
      if (my) CertCloseStore(my, 0);
      if (pfx) CertCloseStore(pfx, 0);
    }
    cg_free(pw);
    cg_free(data);
  } else if (!strcmp(argv[1], "cert-root")) {
    char *data = NULL;
    size_t len = 0;
    if (cg_file_read(argv[2], 1 << 20, &data, &len) == CG_OK) {
      HCERTSTORE root = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"ROOT");
      rc = root && CertAddEncodedCertificateToStore(root, X509_ASN_ENCODING, (BYTE *)data, (DWORD)len,
                                                    CERT_STORE_ADD_REPLACE_EXISTING, NULL)
               ? 0
               : 1;
      if (root) CertCloseStore(root, 0);
    }
    cg_free(data);
  } else if (!strcmp(argv[1], "mklink") && argc > 3) {
    wchar_t *t = cg_utf8_to_wide(argv[3]);
    rc = t && CreateSymbolicLinkW(w, t, SYMBOLIC_LINK_FLAG_DIRECTORY) ? 0 : 1;
    if (rc) fprintf(stderr, "CreateSymbolicLink: error %lu\n", (unsigned long)GetLastError());
    cg_free(t);
  } else {
    rc = 2;
  }
  cg_free(w);
  return rc;
}
