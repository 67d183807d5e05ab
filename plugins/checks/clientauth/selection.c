/* The client's certificate selection criteria (selection.h). */
#include "selection.h"

#include <string.h>

static const struct {
  const char *oid, *name;
} attrs[] = {{"2.5.4.3", "CN"},
             {"2.5.4.11", "OU"},
             {"2.5.4.10", "O"},
             {"2.5.4.7", "L"},
             {"2.5.4.8", "S"},
             {"2.5.4.6", "C"},
             {"2.5.4.9", "STREET"},
             {"0.9.2342.19200300.100.1.25", "DC"},
             {"1.2.840.113549.1.9.1", "E"}};

static void trim_copy(char *out, size_t outlen, const char *b, size_t n) {
  while (n && (*b == ' ' || *b == '\t'))
    b++, n--;
  while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
    n--;
  if (n >= outlen) n = outlen - 1;
  memcpy(out, b, n);
  out[n] = '\0';
}

/* "OU", "ou", "2.5.4.11", "OID.2.5.4.11" -> "OU"; "ST" -> "S" (.NET writes S=). False: unknown. */
static bool attr_name(const char *in, char *out, size_t outlen) {
  if (cg_str_startswith_ci(in, "OID.")) in += 4;
  for (size_t i = 0; i < CG_ARRAY_LEN(attrs); i++)
    if (!strcmp(in, attrs[i].oid) || !cg_strcasecmp(in, attrs[i].name)) {
      cg_strlcpy(out, attrs[i].name, outlen);
      return true;
    }
  if (!cg_strcasecmp(in, "ST")) {
    cg_strlcpy(out, "S", outlen);
    return true;
  }
  return false;
}

bool sel_parse(const char *text, struct selection *s, char *err, size_t errlen) {
  memset(s, 0, sizeof(*s));
  if (!text) return true;
  while (*text == ' ')
    text++;
  if (!*text) return true;
  const char *colon = strchr(text, ':');
  size_t kl = colon ? (size_t)(colon - text) : 0;
  const char *v = colon ? colon + 1 : "";
  if (kl == 7 && cg_str_startswith_ci(text, "Subject:")) {
    s->kind = SEL_SUBJECT;
  } else if (kl == 10 && cg_str_startswith_ci(text, "SubjectStr:")) {
    s->kind = SEL_SUBJECTSTR;
  } else if (kl == 11 && cg_str_startswith_ci(text, "SubjectAttr:")) {
    s->kind = SEL_SUBJECTATTR;
    const char *eq = strchr(v, '=');
    char name[64];
    if (!eq) {
      cg_snprintf(err, errlen, "SubjectAttr: needs ATTRIBUTE = VALUE, such as OU = Computers");
      return false;
    }
    trim_copy(name, sizeof(name), v, (size_t)(eq - v));
    if (!attr_name(name, s->attr, sizeof(s->attr))) {
      cg_snprintf(err, errlen,
                  "SubjectAttr: the attribute '%.40s' is neither a known name (CN, OU, O, L, S, C, DC, E) "
                  "nor its object identifier",
                  name);
      return false;
    }
    trim_copy(s->value, sizeof(s->value), eq + 1, strlen(eq + 1));
    return true;
  } else {
    cg_snprintf(err, errlen, "'%.60s' is not Subject:, SubjectStr: or SubjectAttr: (the documented CCMCERTSEL forms)",
                text);
    return false;
  }
  trim_copy(s->value, sizeof(s->value), v, strlen(v));
  if (!s->value[0]) {
    cg_snprintf(err, errlen, "the criterion %.12s has no value", text);
    return false;
  }
  return true;
}

/* Calls cb on each "NAME=VALUE" of a subject, most specific first; quoted values keep their commas.
 * Stops when cb returns true; returns that. */
typedef bool (*rdn_cb)(const char *name, const char *value, void *user);
static bool each_rdn(const char *dn, rdn_cb cb, void *user) {
  const char *p = dn;
  while (*p) {
    while (*p == ' ' || *p == ',' || *p == ';' || *p == '+')
      p++;
    const char *eq = strchr(p, '=');
    if (!eq) break;
    char name[64], value[256];
    trim_copy(name, sizeof(name), p, (size_t)(eq - p));
    const char *v = eq + 1, *end;
    while (*v == ' ')
      v++;
    if (*v == '"') {
      v++;
      end = strchr(v, '"');
      if (!end) end = v + strlen(v);
      trim_copy(value, sizeof(value), v, (size_t)(end - v));
      p = *end ? end + 1 : end;
    } else {
      end = v + strcspn(v, ",;+");
      trim_copy(value, sizeof(value), v, (size_t)(end - v));
      p = end;
    }
    if (cb(name, value, user)) return true;
  }
  return false;
}

struct attr_want {
  const struct selection *s;
  bool exact_ci;
};

static bool rdn_attr(const char *name, const char *value, void *user) {
  const struct attr_want *w = user;
  char n[16];
  return attr_name(name, n, sizeof(n)) && !strcmp(n, w->s->attr) && !cg_strcasecmp(value, w->s->value);
}

static bool rdn_exact(const char *name, const char *value, void *user) {
  (void)name;
  return !strcmp(value, ((const struct attr_want *)user)->s->value); /* the subject name: case-sensitive */
}

/* Each DNS name of "a, b, c": exact (case-insensitive) or containing `v`. */
static bool san_has(const char *sans, const char *v, bool exact) {
  size_t vl = strlen(v);
  for (const char *p = sans; p && *p;) {
    while (*p == ' ' || *p == ',')
      p++;
    size_t n = strcspn(p, ",");
    while (n && p[n - 1] == ' ')
      n--;
    if (n && (exact ? n == vl && cg_memmem_ci(p, n, v, vl) : cg_memmem_ci(p, n, v, vl) != NULL)) return true;
    p += strcspn(p, ",");
  }
  return false;
}

bool sel_matches(const struct selection *s, const char *subject, const char *sans, bool *unknown, char *why,
                 size_t whylen) {
  struct attr_want w = {s, false};
  *unknown = false;
  why[0] = '\0';
  switch (s->kind) {
  case SEL_SUBJECT:
    if (!strcmp(subject, s->value) || each_rdn(subject, rdn_exact, &w) || san_has(sans, s->value, true)) return true;
    cg_snprintf(why, whylen, "neither its subject nor a subject alternative name is exactly \"%s\"", s->value);
    return false;
  case SEL_SUBJECTSTR:
    if (cg_str_contains_ci(subject, s->value) || san_has(sans, s->value, false)) return true;
    cg_snprintf(why, whylen, "neither its subject nor a subject alternative name contains \"%s\"", s->value);
    return false;
  case SEL_SUBJECTATTR:
    if (each_rdn(subject, rdn_attr, &w)) return true;
    cg_snprintf(why, whylen, "its subject has no %s = %s", s->attr, s->value);
    return false;
  case SEL_DEFAULT: break;
  }
  if (!s->computer[0]) {
    *unknown = true;
    return true;
  }
  if (cg_str_contains_ci(subject, s->computer)) return true;
  cg_snprintf(why, whylen, "its subject does not contain the computer name %s (the client's default criterion)",
              s->computer);
  return false;
}

void sel_text(const struct selection *s, char *out, size_t outlen) {
  switch (s->kind) {
  case SEL_SUBJECT: cg_snprintf(out, outlen, "Subject:%s", s->value); return;
  case SEL_SUBJECTSTR: cg_snprintf(out, outlen, "SubjectStr:%s", s->value); return;
  case SEL_SUBJECTATTR: cg_snprintf(out, outlen, "SubjectAttr:%s = %s", s->attr, s->value); return;
  case SEL_DEFAULT: break;
  }
  if (s->computer[0])
    cg_snprintf(out, outlen, "the subject contains the computer name %s", s->computer);
  else
    cg_snprintf(out, outlen, "the subject contains the computer name (not known here)");
}
