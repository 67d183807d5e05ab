/* Secret redaction. */
#include "redact.h"

#include <string.h>

bool cg_is_secret_key(const char *key) {
  return cg_str_endswith_ci(key, "sas_url") || cg_str_contains_ci(key, "token") ||
         cg_str_contains_ci(key, "secret") || cg_str_contains_ci(key, "password");
}

/* Characters that end a query value or token in free text. */
static bool ends_value(char c) {
  return c == '\0' || c == '&' || c == '#' || c == ' ' || c == '"' || c == '\'' || c == '\n' ||
         c == '\r' || c == '\t' || c == '<' || c == '>' || c == ',' || c == ';';
}

char *cg_redact_text(const char *text) {
  struct cg_buf b;
  cg_buf_init(&b, strlen(text) * 2 + 64);
  const char *p = text;
  int rc = CG_OK;
  while (*p && rc == CG_OK) {
    size_t skip = 0;
    /* "sig=" as a query parameter: after ?, & or ; (also URL-encoded &amp; in XML) */
    if (cg_str_startswith_ci(p, "sig=") && p > text && (p[-1] == '?' || p[-1] == '&' || p[-1] == ';')) skip = 4;
    else if (cg_str_startswith_ci(p, "bearer ") && (p == text || ends_value(p[-1]) || p[-1] == ':')) skip = 7;
    if (skip && !ends_value(p[skip])) {
      rc = cg_buf_append(&b, p, skip);
      if (rc == CG_OK) rc = cg_buf_puts(&b, CG_REDACTED);
      p += skip;
      while (!ends_value(*p)) p++;
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

int cg_redact_json(cJSON *item) {
  for (cJSON *c = item ? item->child : NULL; c; c = c->next) {
    if (cJSON_IsString(c)) {
      char *v = (c->string && cg_is_secret_key(c->string)) ? cg_strdup(CG_REDACTED)
                                                           : cg_redact_text(c->valuestring);
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
      int rc = cg_redact_json(c);
      if (rc != CG_OK) return rc;
    }
  }
  return CG_OK;
}
