/* dsregcmd /status parser. Works on trimmed lines and never on column positions, because pasted
 * captures lose or gain indentation. */
#include "dsreg.h"

#include <string.h>

#define MAX_ITEMS 4096
/* A value is only continued by the next line when its own line was long enough to have been
 * wrapped by the console (80 columns and up): a short line followed by a fragment is truncation
 * or noise, not a wrap. Measured on the trimmed line, since pastes change indentation. */
#define WRAP_MIN_LINE 60

static bool is_banner(const char *s) {
  size_t dashes = 0;
  if (*s != '+') return false;
  for (s++; *s == '-'; s++)
    dashes++;
  return dashes >= 10 && *s == '+' && s[1] == '\0';
}

/* "| Device State        |" -> "Device State" (in place); NULL when not a header line. */
static char *header_title(char *s) {
  size_t n = strlen(s);
  if (n < 3 || s[0] != '|' || s[n - 1] != '|') return NULL;
  s[n - 1] = '\0';
  return cg_str_trim(s + 1);
}

/* Lines that are never part of a value: progress, footer, shell prompts and banners. */
static bool is_known_free(const char *s) {
  if (cg_str_startswith_ci(s, "Waiting for Diagnostics Task") || cg_str_startswith_ci(s, "For more information") ||
      cg_str_startswith_ci(s, "Windows PowerShell") || cg_str_startswith_ci(s, "PowerShell ") ||
      cg_str_startswith_ci(s, "Copyright (C)") || cg_str_startswith_ci(s, "Microsoft Windows [") ||
      cg_str_startswith_ci(s, "Install the latest PowerShell") || cg_str_startswith_ci(s, "Try the new cross-platform"))
    return true;
  /* PS C:\> ..., C:\Windows\system32>dsregcmd /status */
  const char *p = s;
  if (cg_str_startswith_ci(p, "PS ")) p += 3;
  return ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':' && p[2] == '\\' &&
         strchr(p, '>') != NULL;
}

static int add_section(struct dsreg_doc *d, const char *title) {
  if (d->count == d->alloc) {
    if (d->alloc >= MAX_ITEMS) return CG_ERR_TOOBIG;
    size_t na = d->alloc ? d->alloc * 2 : 16;
    struct dsreg_section *ns = cg_realloc(d->sections, na * sizeof(*ns));
    if (!ns) return CG_ERR_NOMEM;
    d->sections = ns;
    d->alloc = na;
  }
  struct dsreg_section *s = &d->sections[d->count];
  memset(s, 0, sizeof(*s));
  if (!(s->title = cg_strdup(title))) return CG_ERR_NOMEM;
  d->count++;
  return CG_OK;
}

static int add_field(struct dsreg_section *s, const char *key, const char *value) {
  if (s->count == s->alloc) {
    if (s->alloc >= MAX_ITEMS) return CG_ERR_TOOBIG;
    size_t na = s->alloc ? s->alloc * 2 : 16;
    struct dsreg_field *nf = cg_realloc(s->fields, na * sizeof(*nf));
    if (!nf) return CG_ERR_NOMEM;
    s->fields = nf;
    s->alloc = na;
  }
  struct dsreg_field *f = &s->fields[s->count];
  f->key = cg_strdup(key);
  f->value = cg_strdup(value);
  if (!f->key || !f->value) {
    cg_free(f->key);
    cg_free(f->value);
    return CG_ERR_NOMEM;
  }
  s->count++;
  return CG_OK;
}

/* A bare identifier such as "AadRecoveryEnabled" (the doc sample writes "AadRecoveryEnabled: NO"). */
static bool is_identifier(const char *s, size_t n) {
  if (!n || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  for (size_t i = 1; i < n; i++)
    if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) return false;
  return true;
}

/* Splits "key : value", "key :" and "Identifier: value" in place. */
static bool split_kv(char *line, char **key, char **value) {
  char *sep = strstr(line, " : ");
  if (sep && sep != line) {
    *sep = '\0';
    *key = cg_str_trim(line);
    *value = cg_str_trim(sep + 3);
    return **key != '\0';
  }
  size_t n = strlen(line);
  if (n >= 3 && line[n - 1] == ':' && line[n - 2] == ' ') {
    line[n - 2] = '\0';
    *key = cg_str_trim(line);
    *value = line + n; /* "" */
    return **key != '\0' && !strchr(*key, ':');
  }
  char *colon = strchr(line, ':');
  if (colon && is_identifier(line, (size_t)(colon - line))) {
    *colon = '\0';
    *key = line;
    *value = cg_str_trim(colon + 1);
    return true;
  }
  return false;
}

/* A value being continued by wrapped lines grows in `acc` (amortised, so a capture of thousands of
 * wrapped lines parses in linear time) and is written back to its field once it ends. Past
 * MAX_VALUE the rest is dropped: no dsregcmd value is that long. */
#define MAX_VALUE (64 * 1024)

struct cont {
  struct dsreg_field *f;
  struct cg_buf acc;
};

static int cont_flush(struct cont *c) {
  if (!c->f) return CG_OK;
  size_t len = 0;
  char *v = cg_buf_take(&c->acc, &len);
  if (!v) return CG_ERR_NOMEM;
  cg_free(c->f->value);
  c->f->value = v;
  c->f = NULL;
  return CG_OK;
}

static int append_value(struct cont *c, struct dsreg_field *f, const char *more, bool space) {
  if (c->f != f) {
    int rc = cont_flush(c);
    if (rc != CG_OK) return rc;
    cg_buf_free(&c->acc);
    cg_buf_init(&c->acc, MAX_VALUE);
    if ((rc = cg_buf_puts(&c->acc, f->value)) != CG_OK) return rc;
    c->f = f;
  }
  size_t n = strlen(more);
  if (c->acc.len + n + 1 > MAX_VALUE) return CG_OK;
  int rc = space ? cg_buf_puts(&c->acc, " ") : CG_OK;
  return rc == CG_OK ? cg_buf_append(&c->acc, more, n) : rc;
}

int dsreg_parse(const char *text, struct dsreg_doc *doc) {
  int rc = CG_OK;
  memset(doc, 0, sizeof(*doc));
  char *copy = cg_strdup(text);
  if (!copy) return CG_ERR_NOMEM;
  struct dsreg_field *last = NULL; /* the field a wrapped line may continue */
  bool last_long = false, last_raw_space = false;
  struct cont cont = {0};
  cg_buf_init(&cont.acc, MAX_VALUE);
  for (char *line = copy; line && rc == CG_OK;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    /* The console writes progress dots and then overwrites them with spaces through CR: what
     * follows the last CR (trailing CRs aside) is what the screen showed. One pass from the end. */
    size_t raw_len = nl ? (size_t)(nl - line) : strlen(line);
    while (raw_len && line[raw_len - 1] == '\r')
      line[--raw_len] = '\0';
    for (size_t i = raw_len; i > 0; i--)
      if (line[i - 1] == '\r') {
        line += i;
        raw_len -= i;
        break;
      }
    bool raw_space = raw_len && line[raw_len - 1] == ' ';
    char *s = cg_str_trim(line);
    char *key, *value, *title;
    if (*s == '\0') {
      /* blank lines (including web-paste double spacing) neither end a section nor a value */
    } else if (is_banner(s)) {
      last = NULL;
    } else if ((title = header_title(s)) != NULL) {
      rc = add_section(doc, title);
      last = NULL;
    } else if (is_known_free(s)) {
      doc->free_lines++;
      last = NULL;
    } else if (split_kv(s, &key, &value)) {
      /* fields before any banner (a paste that lost the frames) go to an untitled section */
      if (!doc->count && (rc = add_section(doc, "")) != CG_OK) break;
      /* the field being continued may move when its section's array grows: write it back first */
      if ((rc = cont_flush(&cont)) != CG_OK) break;
      struct dsreg_section *sec = &doc->sections[doc->count - 1];
      rc = add_field(sec, key, value);
      doc->kv_lines++;
      last = rc == CG_OK ? &sec->fields[sec->count - 1] : NULL;
      last_long = strlen(key) + strlen(value) + 3 >= WRAP_MIN_LINE;
      last_raw_space = raw_space;
    } else if (last && last_long) {
      rc = append_value(&cont, last, s, last_raw_space);
      doc->continuations++;
      last_long = strlen(s) >= WRAP_MIN_LINE;
      last_raw_space = raw_space;
    } else {
      doc->free_lines++;
      last = NULL;
    }
    line = nl ? nl + 1 : NULL;
  }
  if (rc == CG_OK) rc = cont_flush(&cont);
  cg_buf_free(&cont.acc);
  cg_free(copy);
  return rc;
}

void dsreg_free(struct dsreg_doc *doc) {
  for (size_t i = 0; i < doc->count; i++) {
    struct dsreg_section *s = &doc->sections[i];
    for (size_t k = 0; k < s->count; k++) {
      cg_free(s->fields[k].key);
      cg_free(s->fields[k].value);
    }
    cg_free(s->fields);
    cg_free(s->title);
  }
  cg_free(doc->sections);
  memset(doc, 0, sizeof(*doc));
}

const struct dsreg_section *dsreg_section(const struct dsreg_doc *doc, const char *title) {
  for (size_t i = 0; i < doc->count; i++)
    if (cg_strcasecmp(doc->sections[i].title, title) == 0) return &doc->sections[i];
  return NULL;
}

const char *dsreg_get(const struct dsreg_doc *doc, const char *section, const char *key) {
  for (size_t i = 0; i < doc->count; i++) {
    const struct dsreg_section *s = &doc->sections[i];
    if (section && cg_strcasecmp(s->title, section) != 0) continue;
    for (size_t k = 0; k < s->count; k++)
      if (cg_strcasecmp(s->fields[k].key, key) == 0) return s->fields[k].value;
  }
  return NULL;
}
