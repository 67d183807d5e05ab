/* CMTrace and SMS-trace log parser. Driven by delimiters (memmem/memchr), never by regex. */
#include "cmtrace.h"

#include <string.h>

static const char OPEN[] = "<![LOG[";
static const char CLOSE[] = "]LOG]!><";

/* Reads up to `max` digits; returns the count read. */
static int digits(const char *p, const char *end, int max, long *out) {
  int n = 0;
  long v = 0;
  while (p + n < end && n < max && p[n] >= '0' && p[n] <= '9')
    v = v * 10 + (p[n++] - '0');
  *out = v;
  return n;
}

/* "08:48:00.831+240" (CMTrace), "15:09:33.9450446" (IME), "15:31:46.376+00" (SMS trace) plus a
 * date "MM-DD-YYYY" (zero padding optional) -> UTC ms. UTC = local + bias (Windows Bias). */
static void parse_time(const char *t, const char *tend, const char *d, const char *dend, struct cmt_entry *e) {
  long h, mi, s, frac = 0, mo, dd, y, bias = 0;
  int n, fd = 0;
  const char *p = t;
  e->utc_ms = 0;
  e->utc_exact = false;
  if (!(n = digits(p, tend, 2, &h)) || (p += n) >= tend || *p++ != ':') return;
  if (!(n = digits(p, tend, 2, &mi)) || (p += n) >= tend || *p++ != ':') return;
  if (!(n = digits(p, tend, 2, &s))) return;
  p += n;
  if (p < tend && *p == '.') {
    p++;
    long f;
    n = digits(p, tend, 9, &f);
    p += n;
    fd = n;
    frac = f;
    while (fd > 3) {
      frac /= 10;
      fd--;
    }
    while (fd > 0 && fd < 3) {
      frac *= 10;
      fd++;
    }
  }
  bool has_bias = false;
  if (p < tend && (*p == '+' || *p == '-')) {
    char sign = *p++;
    if (digits(p, tend, 4, &bias)) {
      has_bias = true;
      if (sign == '-') bias = -bias;
    }
  }
  p = d;
  if (!(n = digits(p, dend, 2, &mo)) || (p += n) >= dend || *p++ != '-') return;
  if (!(n = digits(p, dend, 2, &dd)) || (p += n) >= dend || *p++ != '-') return;
  if (digits(p, dend, 4, &y) != 4) return;
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || s > 60) return;
  e->utc_ms = ((cg_days_from_civil(y, (int)mo, (int)dd) * 86400 + h * 3600 + mi * 60 + s) * 1000 + frac) + bias * 60000;
  e->utc_exact = has_bias;
}

/* Value of attribute `name="..."` inside attrs; NULL when absent. */
static const char *attr(const char *a, const char *aend, const char *name, size_t nlen, const char **vend) {
  for (const char *p = a; p + nlen + 2 <= aend;) {
    const char *hit = (const char *)cg_memmem(p, (size_t)(aend - p), name, nlen);
    if (!hit) return NULL;
    if ((hit == a || hit[-1] == ' ' || hit[-1] == '\t') && hit + nlen + 1 < aend && hit[nlen] == '=' &&
        hit[nlen + 1] == '"') {
      const char *v = hit + nlen + 2;
      const char *q = memchr(v, '"', (size_t)(aend - v));
      if (!q) return NULL;
      *vend = q;
      return v;
    }
    p = hit + nlen;
  }
  return NULL;
}

static size_t scan_cmtrace(const char *text, size_t len, bool final, cmt_cb cb, void *user, size_t *entries) {
  const char *p = text, *end = text + len;
  size_t consumed = 0;
  /* The first close at or after a position stays the first one for every later position before
   * it: remembered, so a run of openers without closes ("<![LOG[<![LOG[...") is one pass, not a
   * search to the end per opener. Same for the '>' that ends the attributes. */
  const char *close = NULL, *aend = NULL;
  bool no_close = false;
  while (p < end) {
    const char *open = (const char *)cg_memmem(p, (size_t)(end - p), OPEN, sizeof(OPEN) - 1);
    if (!open) {
      consumed = final ? len : consumed;
      break;
    }
    const char *msg = open + sizeof(OPEN) - 1;
    if (!no_close && (!close || close < msg)) {
      close = (const char *)cg_memmem(msg, (size_t)(end - msg), CLOSE, sizeof(CLOSE) - 1);
      no_close = !close;
      aend = close ? memchr(close + sizeof(CLOSE) - 1, '>', (size_t)(end - close - (sizeof(CLOSE) - 1))) : NULL;
    }
    if (!close || !aend) {
      /* incomplete entry at the end: resume here next time (or drop it when final) */
      consumed = final ? len : (size_t)(open - text);
      break;
    }
    /* A message never contains "<![LOG[" of a following entry: if one starts before the close,
     * the entry was cut (a crash while writing); skip to the next one. */
    const char *next_open = (const char *)cg_memmem(msg, (size_t)(close - msg), OPEN, sizeof(OPEN) - 1);
    if (next_open) {
      p = next_open;
      consumed = (size_t)(p - text);
      continue;
    }
    const char *a = close + sizeof(CLOSE) - 1;
    struct cmt_entry e = {.msg = msg, .msg_len = (size_t)(close - msg), .type = 1};
    const char *ve;
    const char *t = attr(a, aend, "time", 4, &ve), *tend = ve;
    const char *d = attr(a, aend, "date", 4, &ve), *dend = ve;
    if (t && d) parse_time(t, tend, d, dend, &e);
    const char *c = attr(a, aend, "component", 9, &ve);
    if (c) {
      e.component = c;
      e.component_len = (size_t)(ve - c);
    }
    const char *ty = attr(a, aend, "type", 4, &ve);
    if (ty && ty < ve && *ty >= '0' && *ty <= '3') e.type = *ty - '0';
    const char *th = attr(a, aend, "thread", 6, &ve);
    long tid = 0;
    if (th) digits(th, ve, 10, &tid);
    e.thread = (unsigned long)tid;
    (*entries)++;
    p = aend + 1;
    consumed = (size_t)(p - text);
    if (cb && cb(&e, user)) break;
  }
  return consumed;
}

/* "message  $$<Component><06-24-2020 15:31:46.376+00><thread=4992 (0x1380)>" per line. */
static size_t scan_smstrace(const char *text, size_t len, bool final, cmt_cb cb, void *user, size_t *entries) {
  const char *p = text, *end = text + len;
  size_t consumed = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl && !final) break;
    const char *lend = nl ? nl : end;
    const char *le = lend;
    if (le > p && le[-1] == '\r') le--;
    const char *mark = NULL;
    for (const char *q = p; (q = (const char *)cg_memmem(q, (size_t)(le - q), "$$<", 3)) != NULL; q += 3)
      mark = q;
    if (mark) {
      struct cmt_entry e = {.msg = p, .type = 1};
      const char *m = mark;
      while (m > p && (m[-1] == ' ' || m[-1] == '\t'))
        m--;
      e.msg_len = (size_t)(m - p);
      const char *c = mark + 3, *ce = memchr(c, '>', (size_t)(le - c));
      if (ce) {
        e.component = c;
        e.component_len = (size_t)(ce - c);
        const char *d = ce + 1 < le && ce[1] == '<' ? ce + 2 : NULL;
        const char *de = d ? memchr(d, '>', (size_t)(le - d)) : NULL;
        const char *sp = d && de ? memchr(d, ' ', (size_t)(de - d)) : NULL;
        if (sp) parse_time(sp + 1, de, d, sp, &e);
        const char *th = de ? (const char *)cg_memmem(de, (size_t)(le - de), "<thread=", 8) : NULL;
        long tid = 0;
        if (th) digits(th + 8, le, 10, &tid);
        e.thread = (unsigned long)tid;
      }
      if (e.msg_len && e.msg[0] == '~') {
        e.msg++;
        e.msg_len--;
      }
      (*entries)++;
      if (cb && cb(&e, user)) {
        consumed = (size_t)((nl ? nl + 1 : end) - text);
        break;
      }
    }
    p = nl ? nl + 1 : end;
    consumed = (size_t)(p - text);
  }
  return consumed;
}

size_t cmt_scan(const char *text, size_t len, bool final, cmt_cb cb, void *user, size_t *entries) {
  *entries = 0;
  /* Whatever holds a CMTrace opener is CMTrace; SMS trace lines carry "$$<". */
  size_t probe = len < 65536 ? len : 65536;
  if ((const char *)cg_memmem(text, probe, OPEN, sizeof(OPEN) - 1) || !(const char *)cg_memmem(text, probe, "$$<", 3))
    return scan_cmtrace(text, len, final, cb, user, entries);
  return scan_smstrace(text, len, final, cb, user, entries);
}
