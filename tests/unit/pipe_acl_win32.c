/* The service's self-test pipe as Windows shows it to a client: its owner and access list (SDDL).
 * Connecting takes the pipe's one instance for a moment; the service refuses the empty request.
 *   pipe_acl [PIPE]      (default \\.\pipe\cmgdiag-selftest) */
#include <stdio.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "\\\\.\\pipe\\cmgdiag-selftest";
  HANDLE h = INVALID_HANDLE_VALUE;
  for (int i = 0; i < 50 && h == INVALID_HANDLE_VALUE; i++) {
    h = CreateFileA(name, GENERIC_READ | READ_CONTROL, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) Sleep(200);
  }
  if (h == INVALID_HANDLE_VALUE) {
    printf("FAIL cannot open %s: error %lu\n", name, GetLastError());
    return 1;
  }
  PSECURITY_DESCRIPTOR sd = NULL;
  char *sddl = NULL;
  DWORD rc = GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, NULL, NULL,
                             NULL, NULL, &sd);
  if (rc != ERROR_SUCCESS ||
      !ConvertSecurityDescriptorToStringSecurityDescriptorA(
          sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &sddl, NULL)) {
    printf("FAIL no security descriptor: error %lu\n", rc ? rc : GetLastError());
    return 1;
  }
  printf("%s\n", sddl);
  LocalFree(sddl);
  LocalFree(sd);
  CloseHandle(h);
  return 0;
}
