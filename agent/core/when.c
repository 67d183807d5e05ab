/* Times as Windows tools and captures write them (cg.h, cg_time_parse). */
#include "cg.h"

static int64_t digits(const char **p, int max, int *n) {
  int64_t v = 0;
  *n = 0;
  while (**p >= '0' && **p <= '9' && *n < max)
    v = v * 10 + (*(*p)++ - '0'), (*n)++;
  return v;
}

bool cg_time_parse(const char *s, int64_t *ms) {
  int n;
  if (!s) return false;
  while (*s == ' ')
    s++;
  if (*s == '\\') s++;
  if (cg_str_startswith_ci(s, "/Date(")) {
    const char *p = s + 6;
    bool neg = *p == '-';
    if (neg) p++;
    int64_t v = digits(&p, 15, &n);
    if (!n) return false;
    /* an offset after the milliseconds only says which zone it was shown in: the value is UTC */
    if (*p == '+' || *p == '-') {
      p++;
      digits(&p, 4, &n);
    }
    if (*p != ')') return false;
    *ms = neg ? -v : v;
    return true;
  }
  const char *p = s;
  int64_t y = digits(&p, 4, &n);
  if (n != 4 || *p++ != '-') return false;
  int64_t mo = digits(&p, 2, &n);
  if (n != 2 || *p++ != '-') return false;
  int64_t d = digits(&p, 2, &n);
  if (n != 2 || mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  int64_t h = 0, mi = 0, se = 0, frac = 0, off = 0;
  if (*p == 'T' || *p == ' ') {
    p++;
    h = digits(&p, 2, &n);
    if (n != 2 || *p++ != ':') return false;
    mi = digits(&p, 2, &n);
    if (n != 2) return false;
    if (*p == ':') {
      p++;
      se = digits(&p, 2, &n);
      if (n != 2) return false;
    }
    if (*p == '.') {
      p++;
      int fd = 0;
      frac = digits(&p, 9, &fd);
      while (fd > 3)
        frac /= 10, fd--;
      while (fd < 3)
        frac *= 10, fd++;
      while (*p >= '0' && *p <= '9')
        p++;
    }
    if (*p == '+' || *p == '-') {
      int sign = *p++ == '-' ? -1 : 1;
      int64_t oh = digits(&p, 2, &n);
      if (n != 2) return false;
      if (*p == ':') p++;
      int64_t om = digits(&p, 2, &n);
      off = sign * (oh * 60 + om);
    } else if (*p == 'Z') {
      p++;
    }
  }
  if (h > 23 || mi > 59 || se > 60) return false;
  *ms = ((cg_days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 + mi * 60 + se) - off * 60) * 1000 + frac;
  return true;
}
