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
    if (i < 4 ? hex_run(p) != parts[i] : hex_run(p) < parts[i]) return false;
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
  if ((starts_ci(u, "bytes") && !alnum(u[5])) || (starts_ci(u, "byte") && !alnum(u[4]))) return "a byte count";
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

/* the ')' closing the '(' at p (within end), across nested brackets and "quoted text"; NULL when none */
static const char *closing(const char *p, const char *end) {
  int depth = 0;
  bool quoted = false;
  for (; p < end; p++) {
    if (*p == '"') quoted = !quoted;
    if (quoted) continue;
    if (*p == '(') depth++;
    if (*p == ')' && --depth == 0) return p;
  }
  return NULL;
}

/* `part` is already one of the detail's "; "-separated parts (looked for in its first 4 KB only: the
 * split stays linear) */
static bool known(const struct cg_buf *d, const char *part, size_t n) {
  if (!d->len || d->len > 4096) return false;
  for (const char *p = d->data; p;) {
    const char *sep = strstr(p, "; ");
    size_t l = sep ? (size_t)(sep - p) : strlen(p);
    if (l == n && !memcmp(p, part, n)) return true;
    p = sep ? sep + 2 : NULL;
  }
  return false;
}

/* adds a part to the detail, whole or not at all */
static bool add_part(struct cg_buf *d, const char *part, size_t n) {
  if (known(d, part, n)) return true;
  if (d->len + 2 + n + 1 > d->cap) return false;
  return (!d->len || cg_buf_append(d, "; ", 2) == CG_OK) && cg_buf_append(d, part, n) == CG_OK;
}

static bool plain(const char *s, size_t n) {
  char *t = cg_strndup(s, n);
  bool ok = t && !cg_voice_technical(t, NULL);
  cg_free(t);
  return ok;
}

static void drop_before(char *out, size_t *w, const char *next) {
  while (*w && isspace((unsigned char)out[*w - 1]))
    (*w)--;
  /* "it failed: (0x5)." is "it failed." */
  while (*next == ' ')
    next++;
  if (*w && (out[*w - 1] == ':' || out[*w - 1] == ',') && (!*next || strchr(".;,)", *next))) (*w)--;
}

/* Splits s[0, len) into out (+*w) and the detail; a technical group keeps its words when only a
 * bracket inside it is technical (up to 3 levels deep). */
static void split_in(const char *s, size_t len, char *out, size_t *w, struct cg_buf *d, int depth) {
  for (size_t r = 0; r < len;) {
    if (s[r] != '(') {
      out[(*w)++] = s[r++];
      continue;
    }
    const char *end = closing(s + r, s + len);
    if (!end) { /* unclosed: the rest is left as it is (and no bracket is searched for twice) */
      memcpy(out + *w, s + r, len - r);
      *w += len - r;
      return;
    }
    const char *in = s + r + 1;
    size_t glen = (size_t)(end - (s + r)) + 1, ilen = glen - 2;
    if (plain(in, ilen)) {
      memcpy(out + *w, s + r, glen);
      *w += glen;
      r += glen;
      continue;
    }
    size_t mark = d->len, w0 = *w;
    if (depth < 3) { /* "(Could not connect (curl error 7))" keeps "(Could not connect)" */
      out[(*w)++] = '(';
      split_in(in, ilen, out, w, d, depth + 1);
      size_t kept = *w - w0 - 1;
      if (kept && plain(out + w0 + 1, kept) && !isspace((unsigned char)out[w0 + 1])) {
        out[(*w)++] = ')';
        r += glen;
        continue;
      }
      *w = w0;
      d->len = mark;
      if (d->data) d->data[mark] = '\0';
    }
    if (!add_part(d, in, ilen)) { /* no room: the group stays where it is */
      memcpy(out + *w, s + r, glen);
      *w += glen;
      r += glen;
      continue;
    }
    r += glen;
    drop_before(out, w, s + r);
    if (!*w && s[r] == ' ') r++; /* "(detail) a thing": no space left at the start */
  }
}

int cg_voice_split(char *sentence, struct cg_buf *detail) {
  size_t len = strlen(sentence), w = 0, mark = detail->len;
  char *out = cg_malloc(len + 1);
  if (!out) return CG_ERR_NOMEM;
  split_in(sentence, len, out, &w, detail, 0);
  out[w] = '\0';
  bool empty = true;
  for (size_t i = 0; i < w && empty; i++)
    empty = isspace((unsigned char)out[i]) || ispunct((unsigned char)out[i]);
  if (!empty) {
    memcpy(sentence, out, w + 1);
  } else { /* nothing would be left to say: the sentence stays whole, and the detail as it was */
    detail->len = mark;
    if (detail->data) detail->data[mark] = '\0';
  }
  cg_free(out);
  return CG_OK;
}
