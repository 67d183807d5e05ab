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

/* ---- which certificates and which mode (selection.h) ------------------------------------------ */

/* ConfigMgr 2002, the first client that can use a site-issued token (Microsoft Learn, "Token-based
 * authentication for cloud management gateway"). */
#define TOKEN_MIN_BUILD 8968

bool ca_has_eku(const struct cg_cert_info *ci, const char *oid) {
  for (size_t i = 0; i < ci->n_ekus; i++)
    if (!strcmp(ci->ekus[i], oid)) return true;
  return false;
}

/* Certificates with Client Authentication that Windows puts in LocalMachine\My for Entra and
 * Intune; they chain to roots outside the machine's trusted roots, so the ConfigMgr client never
 * selects them (an inference from how the client selects, see docs/checks/clientauth.md). */
bool ca_entra_or_intune_cert(const struct cg_cert_info *ci) {
  return cg_str_contains_ci(ci->issuer, "MS-Organization-Access") ||
         cg_str_contains_ci(ci->issuer, "MS-Organization-P2P-Access") ||
         cg_str_contains_ci(ci->issuer, "Microsoft Intune MDM Device CA") ||
         cg_str_contains_ci(ci->issuer, "Microsoft Intune Root Certification Authority");
}

/* "CN=Root; O=Contoso" and "CN=Root, O=Contoso" name the same issuer: compare letters and digits
 * and '=' only, case-insensitively. */
static bool same_dn(const char *a, const char *b) {
  for (;;) {
    while (*a && !((*a >= '0' && *a <= '9') || (*a >= 'A' && *a <= 'Z') || (*a >= 'a' && *a <= 'z') || *a == '='))
      a++;
    while (*b && !((*b >= '0' && *b <= '9') || (*b >= 'A' && *b <= 'Z') || (*b >= 'a' && *b <= 'z') || *b == '='))
      b++;
    if (!*a || !*b) return !*a && !*b;
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a, y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
    if (x != y) return false;
    a++, b++;
  }
}

/* The issuers list: "DN | DN | ..." (ccmsetup CCMCERTISSUERS form). */
bool ca_issuer_listed(const char *list, const char *dn) {
  char item[512];
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, "|");
    cg_snprintf(item, sizeof(item), "%.*s", (int)(n < 511 ? n : 511), p);
    if (*cg_str_trim(item) && same_dn(item, dn)) return true;
    p += n + (p[n] == '|');
  }
  return false;
}

bool ca_token_capable(const char *version, char *why, size_t whylen) {
  /* "5.00.9122.1000": the third part is the build */
  int part = 0;
  long build = 0;
  for (const char *p = version; *p && part <= 2; p++) {
    if (*p == '.')
      part++;
    else if (part == 2 && *p >= '0' && *p <= '9')
      build = build * 10 + (*p - '0');
  }
  if (!*version) {
    cg_snprintf(why, whylen,
                "the ConfigMgr client is not installed (no version in HKLM\\SOFTWARE\\Microsoft\\SMS\\Mobile Client)");
    return false;
  }
  if (build < TOKEN_MIN_BUILD) {
    cg_snprintf(why, whylen, "client %s is older than ConfigMgr 2002 (build %d), the first to use site tokens", version,
                TOKEN_MIN_BUILD);
    return false;
  }
  return true;
}
