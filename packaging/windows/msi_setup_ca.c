/* cmgdiag-setup-ca.dll: the MSI's deferred custom action that runs `cmgdiag.exe setup` as SYSTEM.
 * The SAS URL must never be on a command line (the process list, and the install logs that
 * ConfigMgr and Intune keep, record command lines), so the MSI hands it to this DLL as hidden
 * CustomActionData (the action is marked HideTarget, SAS_URL is in MsiHiddenProperties) and the
 * DLL writes it to `cmgdiag.exe setup --sas-url-file -` through a pipe on standard input. Better
 * still, SAS_URL_FILE names a file holding the SAS (a name alone: next to the MSI, in its source
 * folder, as ConfigMgr and Intune copy a package's content): setup reads it there, nothing copies
 * it, and the SAS is on no install line at all. SAS_URL still works, with a warning in the MSI log.
 *   CustomActionData: "<path of cmgdiag.exe>\n<CMG URL or empty>\n<SAS URL or empty>\n
 *                      <SAS_URL_FILE or empty>\n<OriginalDatabase: the MSI's own path>"
 * An exit code other than 0 fails the installation (Return="check"). */
#include <windows.h>

#include <stdbool.h>

#include <msi.h>
#include <msiquery.h>

#define SETUP_TIMEOUT_MS 120000

static void say(MSIHANDLE h, const wchar_t *text) {
  MSIHANDLE rec = MsiCreateRecord(1);
  if (!rec) return;
  MsiRecordSetStringW(rec, 0, text);
  MsiProcessMessage(h, INSTALLMESSAGE_INFO, rec);
  MsiCloseHandle(rec);
}

/* Next line of `p` (up to '\n' or the end) made a string in place; returns where the rest starts. */
static wchar_t *cut_line(wchar_t *p) {
  wchar_t *nl = wcschr(p, L'\n');
  if (!nl) return p + wcslen(p);
  *nl = L'\0';
  if (nl > p && nl[-1] == L'\r') nl[-1] = L'\0';
  return nl + 1;
}

__declspec(dllexport) UINT __stdcall CmgdiagSetup(MSIHANDLE h) {
  DWORD len = 0;
  wchar_t empty[1] = L"";
  UINT rc = ERROR_INSTALL_FAILURE;
  wchar_t *data = NULL, *cmd = NULL;
  char *sas8 = NULL;
  int sas8_len = 0;
  HANDLE rd = NULL, wr = NULL;
  PROCESS_INFORMATION pi = {0};
  if (MsiGetPropertyW(h, L"CustomActionData", empty, &len) != ERROR_MORE_DATA) goto out;
  data = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, (len + 1) * sizeof(wchar_t));
  if (!data) goto out;
  len++;
  if (MsiGetPropertyW(h, L"CustomActionData", data, &len) != ERROR_SUCCESS) goto out;
  wchar_t *exe = data, *cmg = cut_line(exe), *sas = cut_line(cmg), *file = cut_line(sas), *msi = cut_line(file);
  cut_line(msi);
  wchar_t path[MAX_PATH + 1] = L"";
  if (*file) {
    /* a name alone, or a relative path, is in the MSI's own folder */
    bool absolute = (file[0] && file[1] == L':') || (file[0] == L'\\' && file[1] == L'\\');
    if (absolute) {
      lstrcpynW(path, file, MAX_PATH);
    } else {
      lstrcpynW(path, msi, MAX_PATH);
      wchar_t *slash = wcsrchr(path, L'\\');
      if (slash)
        slash[1] = L'\0';
      else
        path[0] = L'\0';
      if (lstrlenW(path) + lstrlenW(file) >= MAX_PATH) goto out;
      lstrcatW(path, file);
    }
    say(h, L"cmgdiag: the SAS URL comes from the SAS_URL_FILE file beside the package");
  } else if (*sas) {
    say(h, L"cmgdiag: warning: SAS_URL on an install line is stored in the ConfigMgr or Intune application and "
           L"copied to AppEnforce.log / IntuneManagementExtension.log; use SAS_URL_FILE (a file beside the MSI) or "
           L"a transform (.mst) instead");
  }
  size_t cl = wcslen(exe) + wcslen(cmg) + wcslen(path) + 96;
  cmd = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, cl * sizeof(wchar_t));
  if (!cmd) goto out;
  /* The URLs come from the MSI's own properties: quotes in them would break the command line. */
  if (wcschr(exe, L'"') || wcschr(cmg, L'"') || wcschr(path, L'"')) goto out;
  wsprintfW(cmd, L"\"%s\" setup%s%s%s%s%s%s", exe,
            *path  ? L" --sas-url-file \""
            : *sas ? L" --sas-url-file -"
                   : L"",
            path, *path ? L"\"" : L"", *cmg ? L" --cmg-url \"" : L"", cmg, *cmg ? L"\"" : L"");
  SECURITY_ATTRIBUTES sa = {.nLength = sizeof(sa), .bInheritHandle = TRUE};
  if (!CreatePipe(&rd, &wr, &sa, 0) || !SetHandleInformation(wr, HANDLE_FLAG_INHERIT, 0)) goto out;
  STARTUPINFOW si = {.cb = sizeof(si), .dwFlags = STARTF_USESTDHANDLES};
  si.hStdInput = rd;
  si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  if (!CreateProcessW(exe, cmd, NULL, NULL, TRUE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi)) {
    say(h, L"cmgdiag: cannot start cmgdiag.exe setup");
    goto out;
  }
  CloseHandle(rd);
  rd = NULL;
  if (*sas && !*path) {
    sas8_len = WideCharToMultiByte(CP_UTF8, 0, sas, -1, NULL, 0, NULL, NULL);
    sas8 = sas8_len > 0 ? HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, (SIZE_T)sas8_len) : NULL;
    DWORD w = 0;
    if (sas8 && WideCharToMultiByte(CP_UTF8, 0, sas, -1, sas8, sas8_len, NULL, NULL) > 0)
      WriteFile(wr, sas8, (DWORD)(sas8_len - 1), &w, NULL);
  }
  CloseHandle(wr); /* end of file: setup reads to the end */
  wr = NULL;
  DWORD code = 1;
  if (WaitForSingleObject(pi.hProcess, SETUP_TIMEOUT_MS) == WAIT_OBJECT_0 && GetExitCodeProcess(pi.hProcess, &code) &&
      code == 0) {
    rc = ERROR_SUCCESS;
    say(h, L"cmgdiag: setup completed");
  } else {
    say(h, L"cmgdiag: setup failed; run 'cmgdiag.exe setup' as an administrator to see why");
  }
out:
  if (pi.hProcess) CloseHandle(pi.hProcess);
  if (pi.hThread) CloseHandle(pi.hThread);
  if (rd) CloseHandle(rd);
  if (wr) CloseHandle(wr);
  if (sas8) {
    SecureZeroMemory(sas8, (SIZE_T)sas8_len);
    HeapFree(GetProcessHeap(), 0, sas8);
  }
  if (data) {
    SecureZeroMemory(data, len * sizeof(wchar_t));
    HeapFree(GetProcessHeap(), 0, data);
  }
  if (cmd) HeapFree(GetProcessHeap(), 0, cmd);
  return rc;
}
