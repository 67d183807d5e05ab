/* Secret redaction and terminal-safe text: the one routine every log line, bundle, error message,
 * `config check` print and exec excerpt goes through (docs/security.md). */
#include "redact.h"

#include <string.h>

bool cg_is_secret_key(const char *key) {
  return cg_str_endswith_ci(key, "sas_url") || cg_str_contains_ci(key, "token") || cg_str_contains_ci(key, "secret") ||
         cg_str_contains_ci(key, "password") || cg_str_contains_ci(key, "api_key") ||
         cg_str_contains_ci(key, "apikey") || cg_str_contains_ci(key, "api-key");
}

/* Characters that end a query value or token in free text. */
static bool ends_value(char c) {
  return c == '\0' || c == '&' || c == '#' || c == ' ' || c == '"' || c == '\'' || c == '\n' || c == '\r' ||
         c == '\t' || c == '<' || c == '>' || c == ',' || c == ';';
}

static bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Parameter names whose value is a secret wherever they stand (free text, command lines, URLs). */
static bool secret_anywhere(const char *name, size_t n) {
  static const char *const exact[] = {"password",      "passwd",       "pwd",           "secret",
                                      "token",         "api-key",      "api_key",       "apikey",
                                      "client_secret", "access_token", "refresh_token", "id_token"};
  static const char *const suffix[] = {"password", "secret", "token", "-key", "_key", "apikey"};
  for (size_t i = 0; i < CG_ARRAY_LEN(exact); i++)
    if (strlen(exact[i]) == n && cg_str_startswith_ci(name, exact[i])) return true;
  for (size_t i = 0; i < CG_ARRAY_LEN(suffix); i++) {
    size_t k = strlen(suffix[i]);
    if (n >= k && cg_str_startswith_ci(name + n - k, suffix[i])) return true;
  }
  return false;
}

/* Names that are secrets as URL query parameters only ("?sig=", "&code=", ";key="): in prose,
 * "exit code=3" is not one. */
static bool secret_in_query(const char *name, size_t n) {
  static const char *const q[] = {"sig", "code", "key"};
  for (size_t i = 0; i < CG_ARRAY_LEN(q); i++)
    if (strlen(q[i]) == n && cg_str_startswith_ci(name, q[i])) return true;
  return false;
}

/* At p, a "name=" whose value is secret: the length of "name=" (leading dashes of a command-line
 * option included), else 0. */
static size_t secret_param(const char *text, const char *p) {
  char prev = p > text ? p[-1] : ' ';
  bool query = prev == '?' || prev == '&' || prev == ';';
  if (!query && name_char(prev)) return 0; /* inside a word */
  const char *s = p;
  while (*s == '-')
    s++;
  const char *e = s;
  while (name_char(*e))
    e++;
  if (*e != '=' || e == s || ends_value(e[1])) return 0;
  size_t n = (size_t)(e - s);
  if (secret_anywhere(s, n) || (query && s == p && secret_in_query(s, n))) return (size_t)(e + 1 - p);
  return 0;
}

/* At p (just after "scheme://"), the length of a "user[:password]@" part, else 0. User information
 * may hold ; & , ' and = (RFC 3986 sub-delims): it runs to the first '@' before the path, query or
 * fragment, whatever it contains, and stops only at white space, quotes and angle brackets. */
static size_t userinfo_len(const char *p) {
  size_t n = 0;
  while (p[n] && p[n] != '/' && p[n] != '?' && p[n] != '#' && p[n] != '@' && p[n] != '\\' && p[n] != ' ' &&
         p[n] != '"' && p[n] != '<' && p[n] != '>' && p[n] != '\n' && p[n] != '\r' && p[n] != '\t' && n < 1024)
    n++;
  return p[n] == '@' && n ? n : 0;
}

/* The secret (of at least 4 bytes) that the `left` bytes at p start with, or NULL. */
static const char *literal_at(const char *p, size_t left, const char *const *secrets) {
  for (size_t i = 0; secrets && secrets[i]; i++) {
    size_t n = strlen(secrets[i]);
    if (n >= 4 && n <= left && memcmp(p, secrets[i], n) == 0) return secrets[i];
  }
  return NULL;
}

char *cg_redact_literals(const char *data, size_t len, const char *const *secrets, size_t *outlen) {
  struct cg_buf b;
  cg_buf_init(&b, len + 64);
  size_t i = 0, run = 0; /* data[run..i) is copied as it is */
  int rc = CG_OK;
  while (i < len && rc == CG_OK) {
    const char *lit = literal_at(data + i, len - i, secrets);
    if (!lit) {
      i++;
      continue;
    }
    rc = cg_buf_append(&b, data + run, i - run);
    if (rc == CG_OK) rc = cg_buf_puts(&b, CG_REDACTED);
    i += strlen(lit);
    run = i;
  }
  if (rc == CG_OK) rc = cg_buf_append(&b, data + run, len - run);
  if (rc != CG_OK) {
    cg_buf_free(&b);
    return NULL;
  }
  return cg_buf_take(&b, outlen);
}

char *cg_redact_text_with(const char *text, const char *const *secrets) {
  struct cg_buf b;
  cg_buf_init(&b, strlen(text) * 2 + 64);
  const char *p = text, *end = text + strlen(text);
  int rc = CG_OK;
  while (*p && rc == CG_OK) {
    size_t keep = 0;
    const char *lit;
    if ((lit = literal_at(p, (size_t)(end - p), secrets)) != NULL) {
      rc = cg_buf_puts(&b, CG_REDACTED);
      p += strlen(lit);
      continue;
    }
    if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
      size_t u = userinfo_len(p + 3);
      if (u) {
        rc = cg_buf_append(&b, "://", 3);
        if (rc == CG_OK) rc = cg_buf_puts(&b, CG_REDACTED);
        p += 3 + u; /* the '@' is copied next */
        continue;
      }
    }
    if ((keep = secret_param(text, p)) == 0 && cg_str_startswith_ci(p, "bearer ") &&
        (p == text || ends_value(p[-1]) || p[-1] == ':') && !ends_value(p[7]))
      keep = 7;
    if (keep) {
      rc = cg_buf_append(&b, p, keep);
      if (rc == CG_OK) rc = cg_buf_puts(&b, CG_REDACTED);
      p += keep;
      while (!ends_value(*p))
        p++;
      continue;
    }
    rc = cg_buf_append(&b, p, 1);
    p++;
  }
  if (rc != CG_OK) {
    cg_buf_free(&b);
    return NULL;
  }
  return cg_buf_take(&b, NULL);
}

char *cg_redact_text(const char *text) { return cg_redact_text_with(text, NULL); }

int cg_redact_json_with(cJSON *item, const char *const *secrets) {
  for (cJSON *c = item ? item->child : NULL; c; c = c->next) {
    if (cJSON_IsString(c)) {
      char *v = (c->string && cg_is_secret_key(c->string)) ? cg_strdup(CG_REDACTED)
                                                           : cg_redact_text_with(c->valuestring, secrets);
      if (!v) return CG_ERR_NOMEM;
      cJSON_free(c->valuestring);
      /* cJSON frees valuestring with its hooks, which are ours (cg_json_init_hooks). */
      c->valuestring = v;
    } else if (c->string && cg_is_secret_key(c->string) && !cJSON_IsNull(c)) {
      /* A secret in a non-string form (a list of tokens): replace the whole value. */
      cJSON *r = cJSON_CreateString(CG_REDACTED);
      char *key = cg_strdup(c->string);
      if (!r || !key) {
        cJSON_Delete(r);
        cg_free(key);
        return CG_ERR_NOMEM;
      }
      cJSON_ReplaceItemInObjectCaseSensitive(item, key, r); /* frees c; r takes its place and key */
      cg_free(key);
      c = r;
    } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
      int rc = cg_redact_json_with(c, secrets);
      if (rc != CG_OK) return rc;
    }
  }
  return CG_OK;
}

int cg_redact_json(cJSON *item) { return cg_redact_json_with(item, NULL); }

/* U+0080..U+009F (C1 controls, among them CSI) are C2 80..C2 9F in UTF-8. */
size_t cg_strip_controls(char *s) {
  size_t w = 0, removed = 0;
  for (size_t r = 0; s[r];) {
    unsigned char c = (unsigned char)s[r];
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
      removed++;
      r++;
      if (c == 0x1b && s[r] == '[') { /* drop a whole CSI sequence, not just its ESC */
        r++;
        while (s[r] && (unsigned char)s[r] >= 0x20 && (unsigned char)s[r] < 0x40)
          r++;
        if (s[r] >= 0x40 && s[r] < 0x7f) r++;
      }
      continue;
    }
    if (c == 0xc2 && (unsigned char)s[r + 1] >= 0x80 && (unsigned char)s[r + 1] <= 0x9f) {
      removed++;
      r += 2;
      continue;
    }
    s[w++] = s[r++];
  }
  s[w] = '\0';
  return removed;
}

char *cg_display_text(const char *text) {
  char *r = cg_redact_text(text);
  if (r) cg_strip_controls(r);
  return r;
}

void cg_display_json(cJSON *item) {
  if (cJSON_IsString(item)) cg_strip_controls(item->valuestring); /* a value that is a string itself */
  for (cJSON *c = item ? item->child : NULL; c; c = c->next) {
    if (cJSON_IsString(c))
      cg_strip_controls(c->valuestring);
    else if (cJSON_IsObject(c) || cJSON_IsArray(c))
      cg_display_json(c);
  }
}
