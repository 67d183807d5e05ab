/* Decoding of text files that Windows tools and editors write: UTF-8 with or without BOM,
 * UTF-16LE/BE with BOM (PowerShell 5.1 redirection, Out-File, Notepad "Unicode"). */
#ifndef CG_TEXT_H
#define CG_TEXT_H

#include "cg.h"

enum cg_text_encoding { CG_ENC_UTF8 = 0, CG_ENC_UTF8_BOM, CG_ENC_UTF16LE, CG_ENC_UTF16BE };

/* Converts `data` to UTF-8 without BOM into a new NUL-terminated string (caller frees).
 * Invalid UTF-16 (lone surrogates) becomes U+FFFD. Reports the detected encoding. */
int cg_text_decode(const char *data, size_t len, char **out, size_t *out_len, enum cg_text_encoding *enc);
const char *cg_text_encoding_name(enum cg_text_encoding enc);

#endif
