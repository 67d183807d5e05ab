/* BOM sniffing and UTF-16 to UTF-8 conversion (portable: also used on Linux for captured files). */
#include "text.h"

#include <string.h>

const char *cg_text_encoding_name(enum cg_text_encoding enc) {
  switch (enc) {
  case CG_ENC_UTF8_BOM: return "UTF-8 with BOM";
  case CG_ENC_UTF16LE: return "UTF-16LE";
  case CG_ENC_UTF16BE: return "UTF-16BE";
  default: return "UTF-8";
  }
}

static int put_utf8(struct cg_buf *b, uint32_t cp) {
  unsigned char s[4];
  size_t n;
  if (cp < 0x80) { s[0] = (unsigned char)cp; n = 1; }
  else if (cp < 0x800) { s[0] = (unsigned char)(0xC0 | (cp >> 6)); s[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    s[0] = (unsigned char)(0xE0 | (cp >> 12)); s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    s[2] = (unsigned char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    s[0] = (unsigned char)(0xF0 | (cp >> 18)); s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); s[3] = (unsigned char)(0x80 | (cp & 0x3F)); n = 4;
  }
  return cg_buf_append(b, s, n);
}

int cg_text_decode(const char *data, size_t len, char **out, size_t *out_len, enum cg_text_encoding *enc) {
  const unsigned char *u = (const unsigned char *)data;
  enum cg_text_encoding e = CG_ENC_UTF8;
  size_t start = 0;
  if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) { e = CG_ENC_UTF8_BOM; start = 3; }
  else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE) { e = CG_ENC_UTF16LE; start = 2; }
  else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF) { e = CG_ENC_UTF16BE; start = 2; }
  if (enc) *enc = e;
  if (e == CG_ENC_UTF8 || e == CG_ENC_UTF8_BOM) {
    *out = cg_strndup(data + start, len - start);
    if (out_len) *out_len = len - start;
    return *out ? CG_OK : CG_ERR_NOMEM;
  }
  struct cg_buf b;
  int rc = CG_OK;
  cg_buf_init(&b, (len - start) / 2 * 3 + 16);
  for (size_t i = start; i + 1 < len && rc == CG_OK; i += 2) {
    uint32_t c = e == CG_ENC_UTF16LE ? (uint32_t)(u[i] | (u[i + 1] << 8)) : (uint32_t)((u[i] << 8) | u[i + 1]);
    if (c >= 0xD800 && c <= 0xDBFF && i + 3 < len) {
      uint32_t d = e == CG_ENC_UTF16LE ? (uint32_t)(u[i + 2] | (u[i + 3] << 8)) : (uint32_t)((u[i + 2] << 8) | u[i + 3]);
      if (d >= 0xDC00 && d <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
        i += 2;
      } else {
        c = 0xFFFD;
      }
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      c = 0xFFFD;
    }
    rc = put_utf8(&b, c);
  }
  if (rc == CG_OK) {
    *out = cg_buf_take(&b, out_len);
    if (!*out) rc = CG_ERR_NOMEM;
  }
  cg_buf_free(&b);
  return rc;
}
