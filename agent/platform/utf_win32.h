/* UTF-8 <-> UTF-16 at the Windows API boundary (platform layer only). */
#ifndef CG_PLATFORM_UTF_WIN32_H
#define CG_PLATFORM_UTF_WIN32_H

#include <wchar.h>

/* New strings; caller frees with cg_free. NULL on invalid input or out of memory. */
wchar_t *cg_utf8_to_wide(const char *s);
char *cg_wide_to_utf8(const wchar_t *w);
/* Text of a Win32 error code (GetLastError) into buf, without the trailing newline. */
void cg_win32_error_text(unsigned long code, char *buf, size_t len);

/* The argument vector as one command line (each argument quoted as CommandLineToArgvW reads it)
 * in *wcmd (free it); cmd is the UTF-8 work buffer. CG_OK or a sentence in err. */
struct cg_buf;
int cg_win32_command_line(const char *const *argv, struct cg_buf *cmd, wchar_t **wcmd, char *err, size_t errlen);

#endif
