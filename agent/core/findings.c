/* The findings accumulator (findings.h). */
#include "findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cg_findings_init(struct cg_findings *fs) { memset(fs, 0, sizeof(*fs)); }

void cg_findings_free(struct cg_findings *fs) {
  for (size_t i = 0; i < fs->n; i++) {
    cg_free(fs->f[i].summary);
    cg_free(fs->f[i].remediation);
  }
  cg_free(fs->f);
  memset(fs, 0, sizeof(*fs));
}

struct cg_finding *cg_findings_add(struct cg_findings *fs, enum cg_verdict status, const char *code,
                                   const char *remediation, const char *fmt, ...) {
  if (fs->n >= CG_FINDINGS_MAX) return NULL;
  if (fs->n == fs->cap) {
    size_t cap = fs->cap ? fs->cap * 2 : 8;
    struct cg_finding *f = cg_realloc(fs->f, cap * sizeof(*f));
    if (!f) {
      fs->nomem = true;
      return NULL;
    }
    fs->f = f;
    fs->cap = cap;
  }
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  struct cg_finding *f = &fs->f[fs->n];
  f->status = status;
  cg_strlcpy(f->code, code, sizeof(f->code));
  f->detail = NULL;
  f->summary = cg_strdup(text);
  f->remediation = cg_strdup(remediation ? remediation : "");
  if (!f->summary || !f->remediation) {
    cg_free(f->summary);
    cg_free(f->remediation);
    fs->nomem = true;
    return NULL;
  }
  fs->n++;
  return f;
}

const struct cg_finding *cg_findings_worst(const struct cg_findings *fs) {
  const struct cg_finding *w = NULL;
  for (size_t i = 0; i < fs->n; i++)
    if (fs->f[i].status > CG_PASS && (!w || fs->f[i].status > w->status)) w = &fs->f[i];
  return w;
}

bool cg_findings_has(const struct cg_findings *fs, const char *code) {
  for (size_t i = 0; i < fs->n; i++)
    if (!strcmp(fs->f[i].code, code)) return true;
  return false;
}

int cg_findings_to_facts(const struct cg_findings *fs, cJSON *facts) {
  cJSON_DeleteItemFromObjectCaseSensitive(facts, "findings");
  cJSON *list = cJSON_AddArrayToObject(facts, "findings");
  if (!list) return CG_ERR_NOMEM;
  for (size_t i = 0; i < fs->n; i++) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return CG_ERR_NOMEM;
    cJSON_AddItemToArray(list, o);
    if (!cJSON_AddStringToObject(o, "status", cg_verdict_name(fs->f[i].status)) ||
        !cJSON_AddStringToObject(o, "code", fs->f[i].code) || !cJSON_AddStringToObject(o, "summary", fs->f[i].summary))
      return CG_ERR_NOMEM;
  }
  return CG_OK;
}

static void drop_where(struct cg_findings *fs, enum cg_verdict status, const char *code) {
  size_t k = 0;
  for (size_t i = 0; i < fs->n; i++) {
    if (code ? !strcmp(fs->f[i].code, code) : fs->f[i].status == status) {
      cg_free(fs->f[i].summary);
      cg_free(fs->f[i].remediation);
    } else {
      fs->f[k++] = fs->f[i];
    }
  }
  fs->n = k;
}

void cg_findings_drop(struct cg_findings *fs, enum cg_verdict status) { drop_where(fs, status, NULL); }

void cg_findings_drop_code(struct cg_findings *fs, const char *code) { drop_where(fs, CG_PASS, code); }

static int worst_first(const struct cg_findings *fs, const struct cg_finding *w, bool only, struct cg_buf *sum,
                       struct cg_buf *rem) {
  /* every finding is said, none only counted: the worst first, then the others in the order found
   * (a lesser one says what it is); the remediation joins those of the worst kind */
  int e = cg_buf_printf(sum, "%s", w->summary) | cg_buf_printf(rem, "%s", w->remediation);
  for (size_t i = 0; i < fs->n; i++) {
    const struct cg_finding *f = &fs->f[i];
    if (f == w || f->status == CG_PASS) continue;
    e |= cg_buf_printf(sum, " Also%s: %s",
                       f->status == w->status ? ""
                       : f->status == CG_WARN ? " (a warning)"
                                              : " (noted)",
                       f->summary);
    if (!only && f->status == w->status && *f->remediation && !strstr(rem->data ? rem->data : "", f->remediation))
      e |= cg_buf_printf(rem, "%s%s", rem->len ? " " : "", f->remediation);
  }
  return e;
}

int cg_findings_result(const struct cg_findings *fs, struct cg_result *res, enum cg_findings_style style,
                       const char *lead, bool *decided) {
  *decided = false;
  if (fs->nomem) return CG_ERR_NOMEM;
  int rc = cg_findings_to_facts(fs, res->facts);
  const struct cg_finding *w = cg_findings_worst(fs);
  if (rc != CG_OK || !w) return rc;
  struct cg_buf sum, rem;
  cg_buf_init(&sum, 16384);
  cg_buf_init(&rem, 16384);
  int e = 0;
  if (style == CG_FINDINGS_LIST) {
    bool first = true;
    e |= cg_buf_printf(&sum, "%s", lead ? lead : "");
    for (size_t i = 0; i < fs->n; i++)
      if (fs->f[i].status > CG_PASS) {
        e |= cg_buf_printf(&sum, "%s%s", first ? "" : "; ", fs->f[i].summary);
        first = false;
      }
    e |= cg_buf_printf(&sum, ".") | cg_buf_printf(&rem, "%s", w->remediation);
  } else {
    e = worst_first(fs, w, style == CG_FINDINGS_WORST_ONLY, &sum, &rem);
  }
  rc = e ? CG_ERR_NOMEM
         : cg_result_set(res, w->status, w->code, rem.data ? rem.data : "", "%s", sum.data ? sum.data : "");
  cg_buf_free(&sum);
  cg_buf_free(&rem);
  *decided = rc == CG_OK;
  return rc;
}
