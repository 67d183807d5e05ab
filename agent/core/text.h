/* Decoding of text files that Windows tools and editors write: UTF-8 with or without BOM,
 * UTF-16LE/BE with BOM (PowerShell 5.1 redirection, Out-File, Notepad "Unicode"). */
#ifndef CG_TEXT_H
#define CG_TEXT_H

#include "cg.h"

enum cg_text_encoding {
  CG_ENC_UTF8 = 0,
  CG_ENC_UTF8_BOM,
  CG_ENC_UTF16LE,
  CG_ENC_UTF16BE,
  CG_ENC_UTF16LE_NOBOM, /* recognised by its zero high bytes */
  CG_ENC_CODEPAGE,      /* not UTF-8: decoded with a single-byte code page */
};

/* Converts `data` to UTF-8 without BOM into a new NUL-terminated string (caller frees).
 * Invalid UTF-16 (lone surrogates) becomes U+FFFD. Reports the detected encoding. */
int cg_text_decode(const char *data, size_t len, char **out, size_t *out_len, enum cg_text_encoding *enc);
const char *cg_text_encoding_name(enum cg_text_encoding enc);

/* Like cg_text_decode, for captured tool output: without a BOM, UTF-16LE is recognised by its zero
 * bytes, valid UTF-8 is taken as it is, and anything else is decoded with `codepage` (437, 850 or
 * 1252; another number means 850). NUL characters become U+FFFD so the result is one C string.
 * *used receives the code page when one was used. */
int cg_text_decode_capture(const char *data, size_t len, int codepage, char **out, size_t *out_len,
                           enum cg_text_encoding *enc, int *used);
/* True when data is well-formed UTF-8 (no overlongs, no surrogates). */
bool cg_utf8_valid(const char *data, size_t len);

#endif
