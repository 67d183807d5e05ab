/* Two voices: technical tokens and the split of a sentence (voice.h). */
#include "voice.h"

#include <ctype.h>
#include <string.h>

static bool hex(char c) { return isxdigit((unsigned char)c) != 0; }
static bool alnum(char c) { return isalnum((unsigned char)c) != 0; }
static bool digit(char c) { return isdigit((unsigned char)c) != 0; }

static size_t hex_run(const char *p) {
  size_t n = 0;
  while (hex(p[n]))
    n++;
  return n;
}

/* 8-4-4-4-12 hex digits at p */
static bool guid_at(const char *p) {
  static const size_t parts[] = {8, 4, 4, 4, 12};
  for (size_t i = 0; i < 5; i++) {
    if (hex_run(p) != parts[i]) return false;
    p += parts[i];
    if (i < 4 && *p++ != '-') return false;
  }
  return true;
}

static bool starts_ci(const char *p, const char *word) {
  for (; *word; p++, word++)
    if (tolower((unsigned char)*p) != tolower((unsigned char)*word)) return false;
  return true;
}

/* a number at p followed by one of the units: a byte count, or a size in MB or KB of four digits
 * and more (say GB with one decimal) */
static const char *size_at(const char *p, size_t *skip) {
  size_t n = 0;
  while (digit(p[n]))
    n++;
  *skip = n ? n : 1;
  if (!n || p[n] != ' ') return NULL;
  const char *u = p + n + 1;
  if (starts_ci(u, "bytes") || starts_ci(u, "byte ")) return "a byte count";
  if (n >= 4 && (!strncmp(u, "MB", 2) || !strncmp(u, "KB", 2)) && !alnum(u[2])) return "a size in MB or KB";
  return NULL;
}

/* the kind of token that starts at word start p, or NULL; *skip: how far the scan may move on */
static const char *token_at(const char *p, size_t *skip) {
  *skip = 1;
  if (p[0] == 'S' && p[1] == '-' && p[2] == '1' && p[3] == '-' && digit(p[4])) return "a SID";
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hex_run(p + 2) >= 5) return "an error code";
  if (starts_ci(p, "curl error")) return "a curl error";
  if (starts_ci(p, "error ") && digit(p[6])) return "an error number";
  if (starts_ci(p, "WinHTTP ") && digit(p[8])) return "a WinHTTP error number";
  if (!strncmp(p, "AADSTS", 6) && digit(p[6])) return "an Entra error code";
  if (starts_ci(p, "correlation ID") || starts_ci(p, "trace ID")) return "a trace identifier";
  if (guid_at(p)) return "a GUID";
  size_t h = hex_run(p);
  if (h >= 16) {
    *skip = h;
    return "a thumbprint or serial number";
  }
  if (digit(*p)) {
    const char *s = size_at(p, skip);
    if (s) return s;
    return NULL;
  }
  *skip = h ? h : 1;
  return NULL;
}

const char *cg_voice_technical(const char *s, const char **what) {
  if (!s) return NULL;
  for (const char *p = s; *p;) {
    if (p[0] == '\\' && p[1] == 'x' && hex(p[2]) && hex(p[3])) {
      if (what) *what = "raw bytes";
      return p;
    }
    if (p > s && alnum(p[-1])) {
      p++;
      continue;
    }
    size_t skip;
    const char *kind = token_at(p, &skip);
    if (kind) {
      if (what) *what = kind;
      return p;
    }
    p += skip;
  }
  return NULL;
}

/* the ')' closing the '(' at p, across nested brackets and "quoted text"; NULL when none */
static char *closing(char *p) {
  int depth = 0;
  bool quoted = false;
  for (; *p; p++) {
    if (*p == '"') quoted = !quoted;
    if (quoted) continue;
    if (*p == '(') depth++;
    if (*p == ')' && --depth == 0) return p;
  }
  return NULL;
}

int cg_voice_split(char *sentence, struct cg_buf *detail) {
  size_t len = strlen(sentence), w = 0;
  char *out = cg_malloc(len + 1);
  if (!out) return CG_ERR_NOMEM;
  for (size_t r = 0; r < len;) {
    if (sentence[r] != '(') {
      out[w++] = sentence[r++];
      continue;
    }
    char *end = closing(sentence + r);
    if (!end) { /* unclosed: the rest is left as it is (and no bracket is searched for twice) */
      memcpy(out + w, sentence + r, len - r);
      w += len - r;
      break;
    }
    size_t glen = (size_t)(end - (sentence + r)) + 1;
    char save = *end;
    *end = '\0';
    bool tech = cg_voice_technical(sentence + r + 1, NULL) != NULL;
    /* said once (looked for in the first 4 KB of detail only: the split stays linear) */
    bool known = tech && detail->len && detail->len <= 4096 && strstr(detail->data, sentence + r + 1);
    if (tech && !known && (detail->len ? cg_buf_puts(detail, "; ") : CG_OK) == CG_OK)
      tech = cg_buf_puts(detail, sentence + r + 1) == CG_OK;
    *end = save;
    if (!tech) {
      memcpy(out + w, sentence + r, glen);
      w += glen;
    } else if (w && out[w - 1] == ' ') {
      w--; /* "a thing (detail)." becomes "a thing." */
    } else if (sentence[r + glen] == ' ') {
      r++; /* "(detail) a thing": no space left at the start */
    }
    r += glen;
  }
  out[w] = '\0';
  bool empty = true;
  for (size_t i = 0; i < w && empty; i++)
    empty = isspace((unsigned char)out[i]) || ispunct((unsigned char)out[i]);
  if (!empty) memcpy(sentence, out, w + 1);
  cg_free(out);
  return CG_OK;
}
