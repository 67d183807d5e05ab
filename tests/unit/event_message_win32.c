/* What Event Viewer shows for one of cmgdiag's events: the text of message ID in cmgdiag.exe's
 * message table (the source's EventMessageFile), with the event's insertions, as FormatMessage
 * makes it from the module.
 *   event_message EXE ID [INSERTION...]     ID in hex as ReportEvent got it (0xC00000CA) */
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  HMODULE m = LoadLibraryExA(argv[1], NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
  if (!m) {
    printf("FAIL cannot load %s: error %lu\n", argv[1], GetLastError());
    return 1;
  }
  DWORD id = (DWORD)strtoul(argv[2], NULL, 16);
  wchar_t *args[16] = {0};
  int n = argc - 3 < 16 ? argc - 3 : 16;
  for (int i = 0; i < n; i++) {
    int len = MultiByteToWideChar(CP_UTF8, 0, argv[3 + i], -1, NULL, 0);
    args[i] = calloc((size_t)len + 1, sizeof(wchar_t));
    MultiByteToWideChar(CP_UTF8, 0, argv[3 + i], -1, args[i], len);
  }
  wchar_t *text = NULL;
  DWORD flags = FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_ARGUMENT_ARRAY |
                (n ? 0 : FORMAT_MESSAGE_IGNORE_INSERTS);
  if (!FormatMessageW(flags, m, id, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), (LPWSTR)&text, 0, (va_list *)args)) {
    printf("FAIL no message 0x%08lX in %s: error %lu\n", (unsigned long)id, argv[1], GetLastError());
    return 1;
  }
  int len = WideCharToMultiByte(CP_UTF8, 0, text, -1, NULL, 0, NULL, NULL);
  char *out = calloc((size_t)len + 1, 1);
  WideCharToMultiByte(CP_UTF8, 0, text, -1, out, len, NULL, NULL);
  fputs(out, stdout);
  LocalFree(text);
  return 0;
}
