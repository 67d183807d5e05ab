/* The service's self-test pipe as Windows shows it to a client: its owner and access list (SDDL).
 * Connecting takes the pipe's one instance for a moment; the service refuses the empty request.
 *   pipe_acl [PIPE]      (default \\.\pipe\cmgdiag-selftest)
 *   pipe_acl --send LINE  sends LINE and a newline as a client would, prints what the service says */
#include <stdio.h>
#include <string.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

/* A request of anyone's, raw: what the service says back (the first 64 KiB, within 20 s). */
static int send_line(const char *line) {
  HANDLE h = INVALID_HANDLE_VALUE;
  for (int i = 0; i < 50 && h == INVALID_HANDLE_VALUE; i++) {
    h = CreateFileA("\\\\.\\pipe\\cmgdiag-selftest", GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) Sleep(200);
  }
  if (h == INVALID_HANDLE_VALUE) {
    printf("FAIL cannot open the pipe: error %lu\n", GetLastError());
    return 1;
  }
  DWORD n = 0;
  WriteFile(h, line, (DWORD)strlen(line), &n, NULL);
  WriteFile(h, "\n", 1, &n, NULL);
  static char buf[65536];
  size_t have = 0;
  DWORD start = GetTickCount();
  while (have < sizeof(buf) - 1 && GetTickCount() - start < 20000) {
    if (!ReadFile(h, buf + have, (DWORD)(sizeof(buf) - 1 - have), &n, NULL) || n == 0) break;
    have += n;
  }
  buf[have] = '\0';
  fwrite(buf, 1, have, stdout);
  CloseHandle(h);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--send")) return send_line(argv[2]);
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
