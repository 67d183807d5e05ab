/* Plain CreateProcessW that inherits the caller's job (see child_helper.c). */
#include <windows.h>

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
