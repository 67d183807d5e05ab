/* Allocator, bounded buffers and small string helpers. */
#include "cg.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_text[] = {
    [CG_OK] = "success",
    [CG_ERR_NOMEM] = "out of memory",
    [CG_ERR_IO] = "input/output error",
    [CG_ERR_NOTFOUND] = "not found",
    [CG_ERR_PARSE] = "could not parse input",
    [CG_ERR_CONFIG] = "invalid configuration",
    [CG_ERR_TIMEOUT] = "timed out",
    [CG_ERR_TOOBIG] = "size limit exceeded",
    [CG_ERR_UNSUPPORTED] = "not supported on this platform",
    [CG_ERR_USAGE] = "invalid usage",
    [CG_ERR_ACCESS] = "access denied",
    [CG_ERR_INTERNAL] = "internal error",
    [CG_ERR_BUSY] = "already in use",
};

const char *cg_strerror(int status) {
  if (status < 0 || (size_t)status >= CG_ARRAY_LEN(status_text) || !status_text[status]) return "unknown error";
  return status_text[status];
}

static long fail_after; /* test hook; 0 = never fail */

void cg_alloc_fail_after(long n) { fail_after = n; }

static bool should_fail(void) {
  if (fail_after <= 0) return false;
  return --fail_after == 0;
}

void *cg_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *cg_calloc(size_t count, size_t n) { return should_fail() ? NULL : calloc(count ? count : 1, n ? n : 1); }
void *cg_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void cg_free(void *p) { free(p); }

char *cg_strndup(const char *s, size_t n) {
  if (!s) return NULL;
  char *d = cg_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *cg_strdup(const char *s) { return s ? cg_strndup(s, strlen(s)) : NULL; }

char *cg_vasprintf(const char *fmt, va_list ap) {
  va_list cp;
  va_copy(cp, ap);
  int n = vsnprintf(NULL, 0, fmt, cp);
  va_end(cp);
  if (n < 0) return NULL;
  char *s = cg_malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

char *cg_asprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = cg_vasprintf(fmt, ap);
  va_end(ap);
  return s;
}

/* A per-thread arena for cJSON (cg_json_arena_begin): nodes and strings of one parse are carved from a
 * few blocks that are reused, instead of a malloc and a free each (the fleet report parses a million
 * bundles of a few hundred values); freeing them is a no-op. What does not fit a block comes from
 * the heap and is freed as usual. */
#define ARENA_BLOCK ((size_t)256 * 1024)
#define ARENA_BLOCKS 64
struct json_arena {
  bool on;
  char *block[ARENA_BLOCKS];
  size_t nblocks, cur, used; /* blocks made; the one in use; bytes of it used */
};
static _Thread_local struct json_arena arena;

static bool in_arena(const void *p) {
  for (size_t i = 0; i < arena.nblocks; i++)
    if ((const char *)p >= arena.block[i] && (const char *)p < arena.block[i] + ARENA_BLOCK) return true;
  return false;
}

static void *arena_alloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (n > ARENA_BLOCK / 8) return NULL; /* a big one: the heap's */
  if (arena.used + n > ARENA_BLOCK || arena.nblocks == 0) {
    size_t next = arena.nblocks == 0 ? 0 : arena.cur + 1;
    if (next == arena.nblocks) {
      if (arena.nblocks == ARENA_BLOCKS || !(arena.block[arena.nblocks] = cg_malloc(ARENA_BLOCK))) return NULL;
      arena.nblocks++;
    }
    arena.cur = next;
    arena.used = 0;
  }
  void *p = arena.block[arena.cur] + arena.used;
  arena.used += n;
  return p;
}

void cg_json_arena_begin(void) {
  arena.on = true;
  arena.cur = 0;
  arena.used = 0;
}

void cg_json_arena_end(void) { arena.on = false; }

void cg_json_arena_release(void) {
  for (size_t i = 0; i < arena.nblocks; i++)
    cg_free(arena.block[i]);
  memset(&arena, 0, sizeof(arena));
}

static void *json_malloc(size_t n) {
  void *p = arena.on ? arena_alloc(n) : NULL;
  return p ? p : cg_malloc(n);
}

static void json_free(void *p) {
  if (p && !(arena.nblocks && in_arena(p))) cg_free(p);
}

void cg_json_init_hooks(void) {
  cJSON_Hooks hooks = {.malloc_fn = json_malloc, .free_fn = json_free};
  cJSON_InitHooks(&hooks);
}

void cg_buf_init(struct cg_buf *b, size_t cap) {
  b->data = NULL;
  b->len = 0;
  b->alloc = 0;
  b->cap = cap;
}

int cg_buf_append(struct cg_buf *b, const void *p, size_t n) {
  if (n > b->cap || b->len > b->cap - n) return CG_ERR_TOOBIG;
  if (b->len + n + 1 > b->alloc) {
    size_t want = b->alloc ? b->alloc : 256;
    while (want < b->len + n + 1)
      want = want > SIZE_MAX / 2 ? b->len + n + 1 : want * 2;
    char *d = cg_realloc(b->data, want);
    if (!d) return CG_ERR_NOMEM;
    b->data = d;
    b->alloc = want;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return CG_OK;
}

int cg_buf_puts(struct cg_buf *b, const char *s) { return cg_buf_append(b, s, strlen(s)); }

int cg_buf_printf(struct cg_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = cg_vasprintf(fmt, ap);
  va_end(ap);
  if (!s) return CG_ERR_NOMEM;
  int rc = cg_buf_puts(b, s);
  cg_free(s);
  return rc;
}

char *cg_buf_take(struct cg_buf *b, size_t *len) {
  char *d = b->data;
  if (len) *len = b->len;
  if (!d) d = cg_strdup("");
  b->data = NULL;
  b->len = b->alloc = 0;
  return d;
}

void cg_buf_free(struct cg_buf *b) {
  cg_free(b->data);
  b->data = NULL;
  b->len = b->alloc = 0;
}

bool cg_strlcpy(char *dst, const char *src, size_t dstlen) {
  if (!dstlen) return false;
  size_t n = strlen(src);
  bool fits = n < dstlen;
  if (!fits) n = dstlen - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
  return fits;
}

bool cg_snprintf(char *dst, size_t dstlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(dst, dstlen, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < dstlen;
}

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

int cg_strcasecmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int d = lower((unsigned char)*a) - lower((unsigned char)*b);
    if (d || !*a) return d;
  }
}

bool cg_str_endswith_ci(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return m <= n && cg_strcasecmp(s + n - m, suffix) == 0;
}

bool cg_str_contains_ci(const char *s, const char *needle) {
  size_t m = strlen(needle);
  for (; *s; s++) {
    size_t i = 0;
    while (i < m && s[i] && lower((unsigned char)s[i]) == lower((unsigned char)needle[i]))
      i++;
    if (i == m) return true;
  }
  return m == 0;
}

bool cg_parse_i64(const char *s, int64_t *out) {
  if (!s || !*s) return false;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end) return false;
  *out = (int64_t)v;
  return true;
}

int cg_edit_distance(const char *a, const char *b, int limit) {
  size_t n = strlen(a), m = strlen(b);
  if (n > 64 || m > 64) return limit;
  int prev[65], cur[65];
  for (size_t j = 0; j <= m; j++)
    prev[j] = (int)j;
  for (size_t i = 1; i <= n; i++) {
    cur[0] = (int)i;
    int best = cur[0];
    for (size_t j = 1; j <= m; j++) {
      int cost = lower((unsigned char)a[i - 1]) == lower((unsigned char)b[j - 1]) ? 0 : 1;
      int v = prev[j - 1] + cost;
      if (prev[j] + 1 < v) v = prev[j] + 1;
      if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
      cur[j] = v;
      if (v < best) best = v;
    }
    if (best >= limit) return limit;
    memcpy(prev, cur, sizeof(int) * (m + 1));
  }
  return prev[m] < limit ? prev[m] : limit;
}

const void *cg_memmem(const void *hay, size_t hay_len, const void *needle, size_t needle_len) {
  const unsigned char *h = hay, *n = needle;
  if (needle_len == 0) return hay;
  if (hay_len < needle_len) return NULL;
  const unsigned char *last = h + hay_len - needle_len;
  for (const unsigned char *p = h; p <= last;) {
    p = memchr(p, n[0], (size_t)(last - p) + 1);
    if (!p) return NULL;
    if (memcmp(p, n, needle_len) == 0) return p;
    p++;
  }
  return NULL;
}

const char *cg_memmem_ci(const char *hay, size_t hay_len, const char *needle, size_t needle_len) {
  for (size_t i = 0; needle_len && i + needle_len <= hay_len; i++) {
    size_t k = 0;
    while (k < needle_len && lower((unsigned char)hay[i + k]) == lower((unsigned char)needle[k]))
      k++;
    if (k == needle_len) return hay + i;
  }
  return NULL;
}

bool cg_str_startswith_ci(const char *s, const char *prefix) {
  for (; *prefix; s++, prefix++)
    if (lower((unsigned char)*s) != lower((unsigned char)*prefix)) return false;
  return true;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

char *cg_str_trim(char *s) {
  while (is_ws(*s))
    s++;
  size_t n = strlen(s);
  while (n && is_ws(s[n - 1]))
    s[--n] = '\0';
  return s;
}

void cg_escape_bytes(const char *data, size_t len, size_t max_in, char *out, size_t outlen) {
  size_t w = 0;
  if (!outlen) return;
  for (size_t i = 0; data && i < len && i < max_in && w + 5 < outlen; i++) {
    unsigned char c = (unsigned char)data[i];
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"')
      out[w++] = (char)c;
    else
      w += (size_t)snprintf(out + w, outlen - w, "\\x%02X", c);
  }
  out[w] = '\0';
}

int64_t cg_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}
