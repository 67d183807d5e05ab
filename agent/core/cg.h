/* Core definitions shared by every part of cmgdiag: status codes, allocator, bounded buffers.
 *
 * Status codes (enum cg_status) say whether *code* worked; check verdicts live in result.h and
 * are a different thing. Codes are never renumbered: append new ones at the end. */
#ifndef CG_H
#define CG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef CMGDIAG_VERSION
#define CMGDIAG_VERSION "0.0.0-dev"
#endif

#ifndef CG_PRINTF_ARCHETYPE
#define CG_PRINTF_ARCHETYPE printf
#endif
#if defined(__GNUC__)
#define CG_PRINTF(f, a) __attribute__((format(CG_PRINTF_ARCHETYPE, f, a)))
#else
#define CG_PRINTF(f, a)
#endif

enum cg_status {
  CG_OK = 0,
  CG_ERR_NOMEM = 1,
  CG_ERR_IO = 2,
  CG_ERR_NOTFOUND = 3,
  CG_ERR_PARSE = 4,
  CG_ERR_CONFIG = 5,
  CG_ERR_TIMEOUT = 6,
  CG_ERR_TOOBIG = 7,
  CG_ERR_UNSUPPORTED = 8,
  CG_ERR_USAGE = 9,
  CG_ERR_ACCESS = 10,
  CG_ERR_INTERNAL = 11,
  CG_ERR_BUSY = 12,
};

/* Static English text for a status; never NULL. */
const char *cg_strerror(int status);

/* Allocator. Everything the core allocates, including cJSON nodes (cg_json_init_hooks), goes
 * through these, so a test can inject allocation failures. They return NULL on failure; nothing
 * aborts. cg_free(NULL) is a no-op. */
void *cg_malloc(size_t n);
void *cg_calloc(size_t count, size_t n);
void *cg_realloc(void *p, size_t n);
void cg_free(void *p);
/* Copies; caller frees with cg_free. NULL in gives NULL out. */
char *cg_strdup(const char *s);
char *cg_strndup(const char *s, size_t n);
/* printf into a new string; caller frees with cg_free. NULL on failure. */
char *cg_asprintf(const char *fmt, ...) CG_PRINTF(1, 2);
char *cg_vasprintf(const char *fmt, va_list ap);
/* Test hook: make the Nth next allocation fail (0 = off). */
void cg_alloc_fail_after(long n);

/* Routes cJSON's allocations through cg_malloc/cg_free. Call once at start-up. */
void cg_json_init_hooks(void);
/* Between begin and end, this thread's cJSON allocations come from a per-thread arena that the next
 * begin empties: nothing made in between may be used after it. Trees are deleted as usual (what the
 * arena gave costs nothing to free; what it could not, the heap's, is freed). For many short parses
 * (the fleet report). release frees the arena's blocks (at the end of the thread). */
void cg_json_arena_begin(void);
void cg_json_arena_end(void);
void cg_json_arena_release(void);

/* A growable byte buffer with a hard cap: appends past `cap` fail with CG_ERR_TOOBIG and leave
 * the buffer as it was. `data` is always NUL-terminated (when non-NULL) for text use.
 * Owns its data; release with cg_buf_free. */
struct cg_buf {
  char *data;
  size_t len;
  size_t alloc;
  size_t cap;
};
void cg_buf_init(struct cg_buf *b, size_t cap);
int cg_buf_append(struct cg_buf *b, const void *p, size_t n);
int cg_buf_puts(struct cg_buf *b, const char *s);
int cg_buf_printf(struct cg_buf *b, const char *fmt, ...) CG_PRINTF(2, 3);
/* Hands the data to the caller (free with cg_free) and resets the buffer. */
char *cg_buf_take(struct cg_buf *b, size_t *len);
void cg_buf_free(struct cg_buf *b);

/* Bounded string helpers: always NUL-terminate, return false if truncated. */
bool cg_strlcpy(char *dst, const char *src, size_t dstlen);
bool cg_snprintf(char *dst, size_t dstlen, const char *fmt, ...) CG_PRINTF(3, 4);
/* Case-insensitive ASCII comparison helpers. */
int cg_strcasecmp(const char *a, const char *b);
bool cg_str_endswith_ci(const char *s, const char *suffix);
bool cg_str_contains_ci(const char *s, const char *needle);
/* Case-insensitive ASCII prefix test. */
bool cg_str_startswith_ci(const char *s, const char *prefix);
/* Trims ASCII white space (space, tab, CR, LF, FF, VT) in place; returns the start. */
char *cg_str_trim(char *s);
/* The first `max_in` bytes of untrusted input as printable ASCII, other bytes (and quote and
 * backslash) as \xNN, so a terminal, a log or a bundle shows them safely. Always NUL-terminates. */
void cg_escape_bytes(const char *data, size_t len, size_t max_in, char *out, size_t outlen);
/* A time as captures write it: RFC 3339 / ISO 8601 (a date alone, fractions, an offset or Z; no
 * offset is UTC) or .NET's "/Date(ms)/" (PowerShell 5.1 ConvertTo-Json). Milliseconds since 1970
 * UTC; false when it is neither. */
bool cg_time_parse(const char *s, int64_t *ms);
/* Days since 1970-01-01 of a proleptic Gregorian date (negative before). */
int64_t cg_days_from_civil(int64_t y, int m, int d);
/* First occurrence of needle in hay (like GNU memmem, which MinGW lacks); NULL when absent. */
const void *cg_memmem(const void *hay, size_t hay_len, const void *needle, size_t needle_len);
/* The same, ASCII case-insensitive; NULL when absent or the needle is empty. Short needles only
 * (it compares at every position). */
const char *cg_memmem_ci(const char *hay, size_t hay_len, const char *needle, size_t needle_len);
/* Strict decimal parse of a whole string into int64; false on garbage or overflow. */
bool cg_parse_i64(const char *s, int64_t *out);
/* Edit distance for "did you mean" suggestions (bounded: returns >= limit when farther). */
int cg_edit_distance(const char *a, const char *b, int limit);

#define CG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
