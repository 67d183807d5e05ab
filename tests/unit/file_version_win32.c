/* What Windows reads from cmgdiag.exe: the file version (GetFileVersionInfo, as a ConfigMgr or
 * Intune "file version" detection rule does) and the application manifest (asInvoker, Windows
 * 10/11, long paths).
 *   file_version EXE EXPECTED_VERSION */
#include <stdio.h>
#include <string.h>
#include <windows.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  DWORD handle = 0, size = GetFileVersionInfoSizeA(argv[1], &handle);
  char *buf = size ? malloc(size) : NULL;
  VS_FIXEDFILEINFO *fi = NULL;
  UINT len = 0;
  if (!buf || !GetFileVersionInfoA(argv[1], 0, size, buf) || !VerQueryValueA(buf, "\\", (void **)&fi, &len)) {
    printf("FAIL no version resource in %s\n", argv[1]);
    return 1;
  }
  char got[64];
  snprintf(got, sizeof(got), "%lu.%lu.%lu.%lu", (unsigned long)HIWORD(fi->dwFileVersionMS),
           (unsigned long)LOWORD(fi->dwFileVersionMS), (unsigned long)HIWORD(fi->dwFileVersionLS),
           (unsigned long)LOWORD(fi->dwFileVersionLS));
  char *desc = NULL;
  VerQueryValueA(buf, "\\StringFileInfo\\040904B0\\FileDescription", (void **)&desc, &len);
  int failed = strcmp(got, argv[2]) != 0 || !desc || !strstr(desc, "cmgdiag");
  printf("%s file version %s (want %s), description \"%s\"\n", failed ? "FAIL" : "ok  ", got, argv[2],
         desc ? desc : "");
  HMODULE m = LoadLibraryExA(argv[1], NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
  HRSRC r = m ? FindResourceA(m, MAKEINTRESOURCEA(1), MAKEINTRESOURCEA(24)) : NULL;
  HGLOBAL g = r ? LoadResource(m, r) : NULL;
  DWORD n = r ? SizeofResource(m, r) : 0;
  char *text = g ? calloc(1, n + 1) : NULL;
  if (text) memcpy(text, LockResource(g), n);
  int ok = text && strstr(text, "level=\"asInvoker\"") && strstr(text, "8e0f7a12-bfb3-4fe8-b9a5-48fd50a15a9a") &&
           strstr(text, "<ws2:longPathAware>true");
  printf("%s manifest: asInvoker, Windows 10/11, long paths\n", ok ? "ok  " : "FAIL");
  return failed || !ok;
}
