/* UTF-8 <-> UTF-16 conversion and Win32 error text. */
#include <windows.h>

#include "cg.h"
#include "utf_win32.h"

wchar_t *cg_utf8_to_wide(const char *s) {
  if (!s) return NULL;
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0) return NULL;
  wchar_t *w = cg_malloc((size_t)n * sizeof(wchar_t));
  if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
    cg_free(w);
    w = NULL;
  }
  return w;
}

char *cg_wide_to_utf8(const wchar_t *w) {
  if (!w) return NULL;
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  if (n <= 0) return NULL;
  char *s = cg_malloc((size_t)n);
  if (s && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
    cg_free(s);
    s = NULL;
  }
  return s;
}

void cg_win32_error_text(unsigned long code, char *buf, size_t len) {
  wchar_t wbuf[512];
  DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0, wbuf,
                           (DWORD)CG_ARRAY_LEN(wbuf), NULL);
  while (n > 0 && (wbuf[n - 1] == L'\n' || wbuf[n - 1] == L'\r' || wbuf[n - 1] == L' ' || wbuf[n - 1] == L'.'))
    wbuf[--n] = 0;
  char *s = n ? cg_wide_to_utf8(wbuf) : NULL;
  if (s)
    cg_snprintf(buf, len, "%s (error %lu)", s, code);
  else
    cg_snprintf(buf, len, "Windows error %lu", code);
  cg_free(s);
}
