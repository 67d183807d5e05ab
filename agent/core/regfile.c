/* `reg export` parser; see regfile.h. */
#include "regfile.h"

#include "platform/wmi.h"

#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 4096
#define MAX_VALUES 256
#define MAX_LOGICAL_LINE (256 * 1024)

static const struct {
  const char *abbr, *full;
} hives[] = {
    {"HKLM", "HKEY_LOCAL_MACHINE"}, {"HKU", "HKEY_USERS"},           {"HKCU", "HKEY_CURRENT_USER"},
    {"HKCR", "HKEY_CLASSES_ROOT"},  {"HKCC", "HKEY_CURRENT_CONFIG"},
};

void cg_regfile_canonical(const char *key, char *out, size_t outlen) {
  for (size_t i = 0; i < CG_ARRAY_LEN(hives); i++) {
    size_t n = strlen(hives[i].abbr);
    if (cg_str_startswith_ci(key, hives[i].abbr) && (key[n] == '\\' || key[n] == '\0')) {
      cg_snprintf(out, outlen, "%s%s", hives[i].full, key + n);
      return;
    }
  }
  cg_strlcpy(out, key, outlen);
}

/* "value" with reg's escapes (\\ and \") into out; returns where the string ended (after the
 * closing quote), NULL when unterminated. */
static const char *reg_string(const char *p, char *out, size_t outlen) {
  size_t w = 0;
  for (p++; *p && *p != '"'; p++) {
    if (*p == '\\' && (p[1] == '\\' || p[1] == '"')) p++;
    if (w + 1 < outlen) out[w++] = *p;
  }
  out[w] = '\0';
  return *p == '"' ? p + 1 : NULL;
}

/* Next logical line: physical lines joined while one ends in '\' (hex data wraps at 80 columns). */
static char *next_logical(char **cursor, struct cg_buf *b) {
  char *line = *cursor;
  if (!line) return NULL;
  b->len = 0;
  for (;;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    char *s = cg_str_trim(line);
    size_t n = strlen(s);
    bool more = n > 0 && s[n - 1] == '\\' && nl && b->len + n < MAX_LOGICAL_LINE;
    if (more) n--;
    if (cg_buf_append(b, s, n) != CG_OK) return NULL;
    line = nl ? nl + 1 : NULL;
    if (!more) break;
  }
  *cursor = line;
  if (cg_buf_append(b, "", 1) != CG_OK) return NULL;
  return b->data;
}

int cg_regfile_parse(const char *text, cJSON **keys) {
  char *copy = cg_strdup(text);
  cJSON *root = cJSON_CreateObject(), *cur = NULL;
  struct cg_buf b;
  cg_buf_init(&b, MAX_LOGICAL_LINE + 16);
  int rc = CG_ERR_NOMEM, nvalues = 0;
  *keys = NULL;
  if (!copy || !root) goto out;
  char *cursor = copy, *s;
  int nkeys = 0;
  while ((s = next_logical(&cursor, &b)) != NULL) {
    size_t n = strlen(s);
    if (*s == '[' && n > 2 && s[n - 1] == ']') {
      s[n - 1] = '\0';
      char *name = s + 1;
      cur = NULL;
      if (*name != '-') {
        cur = cJSON_GetObjectItemCaseSensitive(root, name);
        if (!cur && nkeys < MAX_KEYS && (cur = cJSON_AddObjectToObject(root, name))) nkeys++;
      }
    } else if (cur && (*s == '"' || *s == '@') && cJSON_GetArraySize(cur) < MAX_VALUES) {
      char name[512] = "@";
      const char *p = s + 1;
      if (*s == '"' && !(p = reg_string(s, name, sizeof(name)))) continue;
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p != '=') continue;
      p++;
      while (*p == ' ' || *p == '\t')
        p++;
      if (cJSON_GetObjectItemCaseSensitive(cur, name)) cJSON_DeleteItemFromObjectCaseSensitive(cur, name);
      if (*p == '"') {
        char *value = cg_malloc(strlen(p) + 1);
        if (!value) goto out;
        if (reg_string(p, value, strlen(p) + 1)) cJSON_AddStringToObject(cur, name, value);
        cg_free(value);
      } else if (cg_str_startswith_ci(p, "dword:")) {
        char *end = NULL;
        unsigned long v = strtoul(p + 6, &end, 16);
        if (end != p + 6) cJSON_AddNumberToObject(cur, name, (double)(v & 0xFFFFFFFFUL));
      } else if (*p != '-') {
        /* hex(...) and friends: as written, blanks removed (continuations leave some). */
        char *v = cg_strdup(p), *w = v;
        if (!v) goto out;
        for (const char *r = p; *r; r++)
          if (*r != ' ' && *r != '\t') *w++ = *r;
        *w = '\0';
        cJSON_AddStringToObject(cur, name, v);
        cg_free(v);
      }
    }
  }
  for (cJSON *k = root->child; k; k = k->next)
    nvalues += cJSON_GetArraySize(k);
  rc = nvalues ? CG_OK : CG_ERR_PARSE;
out:
  cg_buf_free(&b);
  cg_free(copy);
  if (rc == CG_OK)
    *keys = root;
  else
    cJSON_Delete(root);
  return rc;
}

const cJSON *cg_regfile_get(const cJSON *keys, const char *key, const char *value) {
  char want[1024];
  cg_regfile_canonical(key, want, sizeof(want));
  for (const cJSON *k = keys ? keys->child : NULL; k; k = k->next) {
    char have[1024];
    cg_regfile_canonical(k->string, have, sizeof(have));
    if (cg_strcasecmp(have, want) != 0) continue;
    for (const cJSON *v = k->child; v; v = v->next)
      if (cg_strcasecmp(v->string, value) == 0) return v;
  }
  return NULL;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long cg_regfile_hex(const char *text, unsigned char *buf, size_t buflen) {
  if (!text || !cg_str_startswith_ci(text, "hex:")) return -1;
  long n = 0;
  const char *p = text + 4;
  while (*p && (size_t)n < buflen) {
    int hi = hexval(p[0]), lo = hi >= 0 ? hexval(p[1]) : -1;
    if (hi < 0 || lo < 0) return -1;
    buf[n++] = (unsigned char)(hi * 16 + lo);
    p += 2;
    if (*p == ',')
      p++;
    else if (*p)
      return -1;
  }
  return n;
}

bool cg_regfile_is_export(const char *text) {
  while (*text == ' ' || *text == '\r' || *text == '\n' || *text == '\t')
    text++;
  return cg_str_startswith_ci(text, "Windows Registry Editor") || cg_str_startswith_ci(text, "REGEDIT4");
}

int cg_regfile_merge(cJSON **into, const char *text) {
  cJSON *keys = NULL;
  if (cg_regfile_parse(text, &keys) != CG_OK) return CG_OK;
  if (!*into && !(*into = cJSON_CreateObject())) {
    cJSON_Delete(keys);
    return CG_ERR_NOMEM;
  }
  for (cJSON *k = keys->child; k;) {
    cJSON *next = k->next;
    cJSON_DetachItemViaPointer(keys, k);
    cJSON_AddItemToObject(*into, k->string, k);
    k = next;
  }
  cJSON_Delete(keys);
  return CG_OK;
}

void cg_regfile_keep(cJSON *keys, const char *key, const char *value, const char *text) {
  char full[300];
  cg_snprintf(full, sizeof(full), "HKEY_LOCAL_MACHINE\\%s", key);
  cJSON *k = cJSON_GetObjectItemCaseSensitive(keys, full);
  if (!k) k = cJSON_AddObjectToObject(keys, full);
  if (k && value && !cJSON_GetObjectItemCaseSensitive(k, value)) cJSON_AddStringToObject(k, value, text);
}

bool cg_regfile_hklm_text(bool offline, const cJSON *capture, const char *key, const char *value, char *out,
                          size_t outlen) {
  cJSON *live = NULL;
  const cJSON *got = NULL;
  char full[300];
  cg_snprintf(full, sizeof(full), "HKEY_LOCAL_MACHINE\\%s", key);
  out[0] = '\0';
  if (offline)
    got = capture ? cg_regfile_get(capture, full, value) : NULL;
  else if (cg_registry_read(full, value, &live) == CG_OK)
    got = live;
  if (cJSON_IsString(got))
    cg_strlcpy(out, got->valuestring, outlen);
  else if (cJSON_IsNumber(got))
    cg_snprintf(out, outlen, "%lld", (long long)got->valuedouble);
  cJSON_Delete(live);
  return got != NULL;
}

/* A string that came from a value other than REG_SZ keeps its export text ("hex(7):00,00"). */
static bool export_text(const char *s) {
  if (strncmp(s, "hex", 3)) return false;
  s += 3;
  if (*s == '(') {
    s++;
    while (*s && ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      s++;
    if (*s++ != ')') return false;
  }
  if (*s++ != ':') return false;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F') || *s == ',')) return false;
  return true;
}

static int write_quoted(struct cg_buf *b, const char *s) {
  int rc = cg_buf_puts(b, "\"");
  for (; rc == CG_OK && *s; s++) {
    if (*s == '\n') continue; /* a line break ends an export's line: a REG_SZ's own is dropped (never parsed in) */
    if (*s == '\\' || *s == '"') rc = cg_buf_puts(b, "\\");
    if (rc == CG_OK) rc = cg_buf_append(b, s, 1);
  }
  return rc == CG_OK ? cg_buf_puts(b, "\"") : rc;
}

char *cg_regfile_write(const cJSON *keys, size_t *len) {
  struct cg_buf b;
  cg_buf_init(&b, 64u * 1024 * 1024);
  int rc = cg_buf_puts(&b, "Windows Registry Editor Version 5.00\r\n");
  for (const cJSON *k = keys ? keys->child : NULL; rc == CG_OK && k; k = k->next) {
    if (!k->string || !cJSON_IsObject(k)) continue;
    rc = cg_buf_printf(&b, "\r\n[%s]\r\n", k->string);
    for (const cJSON *v = k->child; rc == CG_OK && v; v = v->next) {
      if (!v->string) continue;
      rc = strcmp(v->string, "@") ? write_quoted(&b, v->string) : cg_buf_puts(&b, "@");
      if (rc == CG_OK) rc = cg_buf_puts(&b, "=");
      if (rc != CG_OK) break;
      if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 4294967295.0 &&
          v->valuedouble == (double)(uint32_t)v->valuedouble)
        rc = cg_buf_printf(&b, "dword:%08x", (unsigned)(uint32_t)v->valuedouble);
      else if (cJSON_IsNumber(v))
        rc = cg_buf_printf(&b, "\"%.0f\"", v->valuedouble);
      else if (cJSON_IsString(v) && export_text(v->valuestring))
        rc = cg_buf_puts(&b, v->valuestring);
      else
        rc = write_quoted(&b, cJSON_IsString(v) ? v->valuestring : "");
      if (rc == CG_OK) rc = cg_buf_puts(&b, "\r\n");
    }
  }
  if (rc != CG_OK) {
    cg_buf_free(&b);
    return NULL;
  }
  return cg_buf_take(&b, len);
}
