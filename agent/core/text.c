/* BOM sniffing and UTF-16 to UTF-8 conversion (portable: also used on Linux for captured files). */
#include "text.h"

#include <string.h>

#include "codepages.h"

const char *cg_text_encoding_name(enum cg_text_encoding enc) {
  switch (enc) {
  case CG_ENC_UTF8_BOM: return "UTF-8 with BOM";
  case CG_ENC_UTF16LE: return "UTF-16LE";
  case CG_ENC_UTF16BE: return "UTF-16BE";
  case CG_ENC_UTF16LE_NOBOM: return "UTF-16LE without BOM";
  case CG_ENC_CODEPAGE: return "single-byte code page";
  default: return "UTF-8";
  }
}

static int put_utf8(struct cg_buf *b, uint32_t cp) {
  unsigned char s[4];
  size_t n;
  if (cp < 0x80) {
    s[0] = (unsigned char)cp;
    n = 1;
  } else if (cp < 0x800) {
    s[0] = (unsigned char)(0xC0 | (cp >> 6));
    s[1] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    s[0] = (unsigned char)(0xE0 | (cp >> 12));
    s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    s[2] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    s[0] = (unsigned char)(0xF0 | (cp >> 18));
    s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    s[3] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return cg_buf_append(b, s, n);
}

int cg_text_decode(const char *data, size_t len, char **out, size_t *out_len, enum cg_text_encoding *enc) {
  const unsigned char *u = (const unsigned char *)data;
  enum cg_text_encoding e = CG_ENC_UTF8;
  size_t start = 0;
  if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
    e = CG_ENC_UTF8_BOM;
    start = 3;
  } else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
    e = CG_ENC_UTF16LE;
    start = 2;
  } else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
    e = CG_ENC_UTF16BE;
    start = 2;
  }
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
      uint32_t d =
          e == CG_ENC_UTF16LE ? (uint32_t)(u[i + 2] | (u[i + 3] << 8)) : (uint32_t)((u[i + 2] << 8) | u[i + 3]);
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

bool cg_utf8_valid(const char *data, size_t len) {
  const unsigned char *u = (const unsigned char *)data;
  size_t i = 0;
  while (i < len) {
    unsigned char c = u[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else
      return false;
    for (size_t k = 1; k <= n; k++) {
      if (i + k >= len || (u[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (u[i + k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

static bool looks_utf16le(const unsigned char *u, size_t len) {
  size_t n = len < 1024 ? len & ~(size_t)1 : 1024, odd_zero = 0, even_zero = 0;
  if (n < 4) return false;
  for (size_t i = 0; i < n; i += 2) {
    even_zero += u[i] == 0;
    odd_zero += u[i + 1] == 0;
  }
  return odd_zero * 10 >= (n / 2) * 9 && even_zero * 10 < n / 2;
}

/* Replaces NUL characters by U+FFFD, in place growing into a new string. */
static int replace_nuls(char **s, size_t *len) {
  size_t nuls = 0;
  for (size_t i = 0; i < *len; i++)
    nuls += (*s)[i] == '\0';
  if (!nuls) return CG_OK;
  char *d = cg_malloc(*len + nuls * 2 + 1);
  if (!d) return CG_ERR_NOMEM;
  size_t w = 0;
  for (size_t i = 0; i < *len; i++) {
    if ((*s)[i]) {
      d[w++] = (*s)[i];
    } else {
      memcpy(d + w, "\xEF\xBF\xBD", 3);
      w += 3;
    }
  }
  d[w] = '\0';
  cg_free(*s);
  *s = d;
  *len = w;
  return CG_OK;
}

int cg_text_decode_capture(const char *data, size_t len, int codepage, char **out, size_t *out_len,
                           enum cg_text_encoding *enc, int *used) {
  const unsigned char *u = (const unsigned char *)data;
  enum cg_text_encoding e;
  int rc;
  size_t n = 0;
  if (used) *used = 0;
  *out = NULL;
  bool bom = (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) ||
             (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)));
  /* Zero high bytes are checked before UTF-8 validity: NUL bytes are valid UTF-8. */
  if (bom) {
    rc = cg_text_decode(data, len, out, &n, &e);
  } else if (!looks_utf16le(u, len) && cg_utf8_valid(data, len)) {
    rc = cg_text_decode(data, len, out, &n, &e);
  } else if (looks_utf16le(u, len)) {
    /* Decode as if it had a BOM. */
    char *tmp = cg_malloc(len + 2);
    if (!tmp) return CG_ERR_NOMEM;
    tmp[0] = (char)0xFF;
    tmp[1] = (char)0xFE;
    memcpy(tmp + 2, data, len);
    rc = cg_text_decode(tmp, len + 2, out, &n, NULL);
    cg_free(tmp);
    e = CG_ENC_UTF16LE_NOBOM;
  } else {
    const uint16_t *t = cg_codepage_table(codepage);
    if (!t) {
      codepage = 850;
      t = cg_codepage_table(850);
    }
    struct cg_buf b;
    cg_buf_init(&b, len * 3 + 16);
    rc = CG_OK;
    for (size_t i = 0; i < len && rc == CG_OK; i++)
      rc = put_utf8(&b, u[i] < 0x80 ? u[i] : t[u[i] - 0x80]);
    if (rc == CG_OK) *out = cg_buf_take(&b, &n);
    cg_buf_free(&b);
    if (rc == CG_OK && !*out) rc = CG_ERR_NOMEM;
    e = CG_ENC_CODEPAGE;
    if (used) *used = codepage;
  }
  if (rc == CG_OK) rc = replace_nuls(out, &n);
  if (rc != CG_OK) {
    cg_free(*out);
    *out = NULL;
    return rc;
  }
  if (enc) *enc = e;
  if (out_len) *out_len = n;
  return CG_OK;
}
