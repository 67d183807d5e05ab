/* Capture parsers for the mpcandidates check. */
#include "mpparse.h"
#include "regfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 1024
#define CAPS_MAX (64 * 1024)

const char *mp_format_name(enum mp_format f) {
  static const char *const n[] = {"unknown", "json", "format-list", "format-table", "reg-export"};
  return (unsigned)f < 5 ? n[f] : "unknown";
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

/* A Format-Table rule line: dashes separated by spaces, nothing else. */
static bool is_rule_line(const char *s, size_t n) {
  size_t dashes = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '-')
      dashes++;
    else if (s[i] != ' ' && s[i] != '\r' && s[i] != '\t')
      return false;
  }
  return dashes >= 2;
}

enum mp_format mp_detect(const char *text) {
  const char *p = text;
  while (is_ws(*p))
    p++;
  if (*p == '{' || *p == '[') return MP_FMT_JSON;
  if (cg_str_startswith_ci(p, "Windows Registry Editor") || cg_str_startswith_ci(p, "REGEDIT4")) return MP_FMT_REG;
  for (const char *l = text; l && *l;) {
    const char *nl = strchr(l, '\n');
    size_t n = nl ? (size_t)(nl - l) : strlen(l);
    if (is_rule_line(l, n)) return MP_FMT_TABLE;
    l = nl ? nl + 1 : NULL;
  }
  return strstr(text, " : ") || strstr(text, ":") ? MP_FMT_LIST : MP_FMT_UNKNOWN;
}

static const cJSON *get_ci(const cJSON *o, const char *key) {
  for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
    if (c->string && cg_strcasecmp(c->string, key) == 0) return c;
  return NULL;
}

/* One CIM/WMI object as ConvertTo-Json wrote it: top-level properties, or (Get-CimInstance with
 * some PowerShell versions) only inside CimInstanceProperties as {Name, Value} pairs. */
static cJSON *row_from_json(const cJSON *o) {
  cJSON *row = cJSON_CreateObject();
  if (!row) return NULL;
  for (const cJSON *c = o->child; c; c = c->next) {
    if (!c->string || c->string[0] == '_' || cJSON_IsObject(c) || cJSON_IsArray(c)) continue; /* __GENUS etc. */
    if (cg_str_startswith_ci(c->string, "Cim") || !cg_strcasecmp(c->string, "PSComputerName")) continue;
    cJSON_AddItemToObject(row, c->string, cJSON_Duplicate(c, false));
  }
  const cJSON *props = get_ci(o, "CimInstanceProperties");
  for (const cJSON *p = cJSON_IsArray(props) ? props->child : NULL; p; p = p->next) {
    const cJSON *name = get_ci(p, "Name"), *value = get_ci(p, "Value");
    if (cJSON_IsString(name) && value && !get_ci(row, name->valuestring) && !cJSON_IsObject(value) &&
        !cJSON_IsArray(value))
      cJSON_AddItemToObject(row, name->valuestring, cJSON_Duplicate(value, false));
  }
  return row;
}

static int finish_rows(cJSON *rows, cJSON **out) {
  /* Only rows that name an MP are candidates. */
  for (cJSON *r = rows->child; r;) {
    cJSON *next = r->next;
    const cJSON *mp = get_ci(r, "MP");
    if (!cJSON_IsString(mp) || !*mp->valuestring) cJSON_Delete(cJSON_DetachItemViaPointer(rows, r));
    r = next;
  }
  if (cJSON_GetArraySize(rows) == 0) {
    cJSON_Delete(rows);
    return CG_ERR_PARSE;
  }
  *out = rows;
  return CG_OK;
}

static int parse_json(const char *text, cJSON **out) {
  cJSON *doc = cJSON_Parse(text);
  if (!doc) return CG_ERR_PARSE;
  cJSON *rows = cJSON_CreateArray();
  if (!rows) {
    cJSON_Delete(doc);
    return CG_ERR_NOMEM;
  }
  if (cJSON_IsObject(doc)) {
    /* Some captures wrap the list: {"value": [...]} (REST) */
    const cJSON *v = get_ci(doc, "value");
    if (cJSON_IsArray(v)) {
      for (const cJSON *o = v->child; o; o = o->next)
        if (cJSON_IsObject(o)) cJSON_AddItemToArray(rows, row_from_json(o));
    } else {
      cJSON_AddItemToArray(rows, row_from_json(doc));
    }
  } else if (cJSON_IsArray(doc) && !doc->child) {
    /* "[]": a capture of a client with no candidates at all, which is an answer */
    cJSON_Delete(doc);
    *out = rows;
    return CG_OK;
  } else if (cJSON_IsArray(doc)) {
    int n = 0;
    for (const cJSON *o = doc->child; o && n < MAX_ROWS; o = o->next, n++)
      if (cJSON_IsObject(o)) cJSON_AddItemToArray(rows, row_from_json(o));
  }
  cJSON_Delete(doc);
  return finish_rows(rows, out);
}

/* Adds a value, typed: whole numbers become numbers (Index), everything else stays text. */
static void add_typed(cJSON *row, const char *key, const char *value) {
  char *end = NULL;
  long long v = *value ? strtoll(value, &end, 10) : 0;
  if (*value && end && !*end && strlen(value) < 16 && cg_strcasecmp(key, "MP") != 0)
    cJSON_AddNumberToObject(row, key, (double)v);
  else
    cJSON_AddStringToObject(row, key, value);
}

/* Format-List: "Name : Value" records separated by blank lines; long values wrap onto lines
 * indented to the value column. */
static int parse_list(const char *text, cJSON **out) {
  int rc = CG_OK;
  char *copy = cg_strdup(text);
  cJSON *rows = cJSON_CreateArray(), *row = NULL;
  cJSON *last = NULL;
  if (!copy || !rows) {
    cg_free(copy);
    cJSON_Delete(rows);
    return CG_ERR_NOMEM;
  }
  for (char *line = copy; line && rc == CG_OK;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    bool indented = *line == ' ' || *line == '\t';
    char *s = cg_str_trim(line);
    char *sep = strstr(s, " : ");
    size_t n = strlen(s);
    if (!*s) {
      row = NULL; /* a blank line ends a record */
      last = NULL;
    } else if (sep || (n > 2 && s[n - 1] == ':' && s[n - 2] == ' ')) {
      char *key, *value;
      if (sep) {
        *sep = '\0';
        value = cg_str_trim(sep + 3);
      } else {
        s[n - 2] = '\0';
        value = s + n - 1;
        *value = '\0';
      }
      key = cg_str_trim(s);
      if (!*key || strchr(key, ' ') != NULL) {
        last = NULL; /* prose, not a property */
      } else {
        if (!row || get_ci(row, key)) {
          if (cJSON_GetArraySize(rows) >= MAX_ROWS) break;
          row = cJSON_CreateObject();
          if (!row) {
            rc = CG_ERR_NOMEM;
            break;
          }
          cJSON_AddItemToArray(rows, row);
        }
        add_typed(row, key, value);
        last = cJSON_GetObjectItemCaseSensitive(row, key);
      }
    } else if (indented && last && cJSON_IsString(last)) {
      char *joined = cg_asprintf("%s%s", last->valuestring, s);
      if (!joined)
        rc = CG_ERR_NOMEM;
      else {
        cJSON_SetValuestring(last, joined);
        cg_free(joined);
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  cg_free(copy);
  if (rc != CG_OK) {
    cJSON_Delete(rows);
    return rc;
  }
  return finish_rows(rows, out);
}

/* Format-Table: header, rule line of dashes, rows; columns are where the dashes are. */
static int parse_table(const char *text, cJSON **out) {
  char *copy = cg_strdup(text);
  cJSON *rows = cJSON_CreateArray();
  if (!copy || !rows) {
    cg_free(copy);
    cJSON_Delete(rows);
    return CG_ERR_NOMEM;
  }
  char *lines[4096];
  size_t nlines = 0;
  for (char *l = copy; l && nlines < CG_ARRAY_LEN(lines);) {
    char *nl = strchr(l, '\n');
    if (nl) *nl = '\0';
    size_t n = strlen(l);
    while (n && (l[n - 1] == '\r'))
      l[--n] = '\0';
    lines[nlines++] = l;
    l = nl ? nl + 1 : NULL;
  }
  struct col {
    size_t start, end;
    char name[64];
  } cols[32];
  size_t ncols = 0;
  for (size_t i = 1; i < nlines; i++) {
    if (!is_rule_line(lines[i], strlen(lines[i]))) continue;
    const char *rule = lines[i], *head = lines[i - 1];
    ncols = 0;
    for (size_t p = 0; rule[p] && ncols < CG_ARRAY_LEN(cols);) {
      while (rule[p] == ' ')
        p++;
      if (rule[p] != '-') break;
      size_t s = p;
      while (rule[p] == '-')
        p++;
      cols[ncols].start = s;
      cols[ncols].end = p;
      ncols++;
    }
    for (size_t c = 0; c < ncols; c++) {
      size_t s = cols[c].start, e = c + 1 < ncols ? cols[c + 1].start : (size_t)-1;
      size_t hl = strlen(head);
      char name[64] = "";
      if (s < hl) cg_snprintf(name, sizeof(name), "%.*s", (int)((e < hl ? e : hl) - s), head + s);
      cg_strlcpy(cols[c].name, cg_str_trim(name), sizeof(cols[c].name));
    }
    for (size_t r = i + 1; r < nlines; r++) {
      const char *row = lines[r];
      size_t rl = strlen(row);
      if (!rl || is_rule_line(row, rl)) break;
      if (cJSON_GetArraySize(rows) >= MAX_ROWS) break;
      cJSON *o = cJSON_CreateObject();
      if (!o) break;
      for (size_t c = 0; c < ncols; c++) {
        /* PowerShell cuts a cell that does not fit ("..."), so a column runs from its own start
         * to the next column's; the last one takes the rest of the line. */
        size_t s = cols[c].start, e = c + 1 < ncols ? cols[c + 1].start : rl;
        if (s >= rl || !*cols[c].name) continue;
        if (e > rl) e = rl;
        char buf[1024];
        cg_snprintf(buf, sizeof(buf), "%.*s", (int)(e - s), row + s);
        add_typed(o, cols[c].name, cg_str_trim(buf));
      }
      cJSON_AddItemToArray(rows, o);
    }
    break;
  }
  cg_free(copy);
  return finish_rows(rows, out);
}

int mp_parse_rows(const char *text, enum mp_format fmt, cJSON **rows) {
  *rows = NULL;
  switch (fmt) {
  case MP_FMT_JSON: return parse_json(text, rows);
  case MP_FMT_LIST: return parse_list(text, rows);
  case MP_FMT_TABLE: return parse_table(text, rows);
  default: return CG_ERR_PARSE;
  }
}

int mp_parse_reg(const char *text, cJSON **keys) { return cg_regfile_parse(text, keys); }

void mp_parse_string(const char *mp, struct mp_string *out) {
  memset(out, 0, sizeof(*out));
  while (is_ws(*mp))
    mp++;
  if (cg_str_startswith_ci(mp, "https://"))
    mp += 8;
  else if (cg_str_startswith_ci(mp, "http://"))
    mp += 7;
  size_t hl = strcspn(mp, "/");
  cg_snprintf(out->host, sizeof(out->host), "%.*s", (int)hl, mp);
  for (char *h = out->host; *h; h++)
    if (*h >= 'A' && *h <= 'Z') *h = (char)(*h + 32);
  out->truncated = strstr(mp, "...") != NULL || strstr(mp, "\xE2\x80\xA6") != NULL;
  const char *path = mp + hl;
  if (*path == '/') path++;
  if (cg_str_startswith_ci(path, "CCM_Proxy_MutualAuth"))
    cg_strlcpy(out->proxy_kind, "MutualAuth", sizeof(out->proxy_kind));
  else if (cg_str_startswith_ci(path, "CCM_Proxy_ServerAuth"))
    cg_strlcpy(out->proxy_kind, "ServerAuth", sizeof(out->proxy_kind));
  else {
    /* Format-Table cut the cell inside the proxy path ("CCM_Proxy_Mutual..."): still a CMG, but
     * the id is gone. The visible part must be a prefix of the path, up to the ellipsis. */
    size_t vis = strcspn(path, ".\xE2");
    static const char *const kinds[] = {"CCM_Proxy_MutualAuth", "CCM_Proxy_ServerAuth"};
    if (!out->truncated || vis < 4) return;
    for (int k = 0; k < 2; k++) {
      char pre[32];
      cg_snprintf(pre, sizeof(pre), "%.*s", (int)(vis < 20 ? vis : 20), kinds[k]);
      if (cg_str_startswith_ci(path, pre)) {
        out->is_cmg = true;
        if (vis > 10) cg_strlcpy(out->proxy_kind, kinds[k] + 10, sizeof(out->proxy_kind));
      }
    }
    if (out->is_cmg && vis <= 10) out->proxy_kind[0] = '\0'; /* "CCM_Proxy_..." says nothing of the kind */
    return;
  }
  out->is_cmg = true;
  const char *id = path + 20;
  if (*id == '/') id++;
  size_t d = 0;
  while (id[d] >= '0' && id[d] <= '9' && d < sizeof(out->mp_id) - 1)
    d++;
  cg_snprintf(out->mp_id, sizeof(out->mp_id), "%.*s", (int)d, id);
}

/* Value="..." of the <Property> whose Name is `name`; attribute order free, no entity expansion. */
static int64_t caps_property(const char *xml, const char *name) {
  for (const char *p = strstr(xml, "<Property"); p; p = strstr(p + 9, "<Property")) {
    const char *end = strchr(p, '>');
    if (!end) break;
    char tag[512];
    cg_snprintf(tag, sizeof(tag), "%.*s", (int)(end - p), p);
    char want[96];
    cg_snprintf(want, sizeof(want), "Name=\"%s\"", name);
    if (!strstr(tag, want)) continue;
    const char *v = strstr(tag, "Value=\"");
    if (!v) return -1;
    char *stop = NULL;
    long long n = strtoll(v + 7, &stop, 10);
    return stop && *stop == '"' ? (int64_t)n : -1;
  }
  return -1;
}

void mp_parse_capabilities(const char *xml, int64_t *ssl_state, int64_t *auth_method) {
  *ssl_state = *auth_method = -1;
  if (!xml || strlen(xml) > CAPS_MAX) return;
  *ssl_state = caps_property(xml, "SSLState");
  *auth_method = caps_property(xml, "AuthMethod");
}
