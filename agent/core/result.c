/* Check results: construction, JSON, and the human report. */
#include "result.h"

#include "redact.h"
#include "voice.h"

#include <stdarg.h>
#include <string.h>

static const char *const names[] = {"pass", "warn", "fail", "skip", "error"};
static const char *const labels[] = {"PASS", "WARN", "FAIL", "SKIP", "ERROR"};
static const char *const colors[] = {"\033[32m", "\033[33m", "\033[31m", "\033[90m", "\033[35m"};

const char *cg_verdict_name(enum cg_verdict v) { return (unsigned)v < 5 ? names[v] : "error"; }
const char *cg_verdict_label(enum cg_verdict v) { return (unsigned)v < 5 ? labels[v] : "ERROR"; }

int cg_result_init(struct cg_result *r, const char *check) {
  memset(r, 0, sizeof(*r));
  cg_strlcpy(r->check, check, sizeof(r->check));
  r->status = CG_ERROR;
  r->facts = cJSON_CreateObject();
  return r->facts ? CG_OK : CG_ERR_NOMEM;
}

int cg_result_set(struct cg_result *r, enum cg_verdict v, const char *code, const char *remediation,
                  const char *summary_fmt, ...) {
  va_list ap;
  va_start(ap, summary_fmt);
  char *summary = cg_vasprintf(summary_fmt, ap);
  va_end(ap);
  char *c = cg_strdup(code), *rem = cg_strdup(remediation ? remediation : "");
  if (!summary || !c || !rem) {
    cg_free(summary);
    cg_free(c);
    cg_free(rem);
    return CG_ERR_NOMEM;
  }
  struct cg_buf detail;
  cg_buf_init(&detail, 16384);
  if (cg_voice_split(summary, &detail) != CG_OK) {
    cg_free(summary);
    cg_free(c);
    cg_free(rem);
    return CG_ERR_NOMEM;
  }
  cg_free(r->summary);
  cg_free(r->code);
  cg_free(r->remediation);
  cg_free(r->detail);
  r->detail = detail.len ? cg_buf_take(&detail, NULL) : NULL;
  cg_buf_free(&detail);
  r->status = v;
  r->summary = summary;
  r->code = c;
  r->remediation = rem;
  return CG_OK;
}

int cg_result_detail(struct cg_result *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *more = cg_vasprintf(fmt, ap);
  va_end(ap);
  if (!more) return CG_ERR_NOMEM;
  if (!*more) {
    cg_free(more);
    return CG_OK;
  }
  char *joined = r->detail ? cg_asprintf("%s; %s", r->detail, more) : more;
  if (joined != more) cg_free(more);
  if (!joined) return CG_ERR_NOMEM;
  cg_free(r->detail);
  r->detail = joined;
  return CG_OK;
}

void cg_result_free(struct cg_result *r) {
  cg_free(r->detail);
  cg_free(r->code);
  cg_free(r->summary);
  cg_free(r->remediation);
  cJSON_Delete(r->facts);
  memset(r, 0, sizeof(*r));
}

cJSON *cg_result_to_json(const struct cg_result *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON *facts = r->facts ? cJSON_Duplicate(r->facts, true) : cJSON_CreateObject();
  if (!o || !facts || !cJSON_AddStringToObject(o, "check", r->check) ||
      !cJSON_AddStringToObject(o, "status", cg_verdict_name(r->status)) ||
      !cJSON_AddStringToObject(o, "code", r->code ? r->code : "") ||
      !cJSON_AddStringToObject(o, "summary", r->summary ? r->summary : "") ||
      !cJSON_AddStringToObject(o, "remediation", r->remediation ? r->remediation : "") ||
      (r->detail && *r->detail && !cJSON_AddStringToObject(o, "detail", r->detail))) {
    cJSON_Delete(o);
    cJSON_Delete(facts);
    return NULL;
  }
  cJSON_AddItemToObject(o, "facts", facts);
  if (!cJSON_AddNumberToObject(o, "duration_ms", (double)r->duration_ms)) {
    cJSON_Delete(o);
    return NULL;
  }
  return o;
}

enum cg_verdict cg_results_overall(const struct cg_result *rs, size_t n) {
  enum cg_verdict overall = CG_PASS;
  for (size_t i = 0; i < n; i++) {
    if (rs[i].status == CG_FAIL || rs[i].status == CG_ERROR) return CG_FAIL;
    if (rs[i].status == CG_WARN) overall = CG_WARN;
  }
  return overall;
}

int cg_verdict_exit_code(enum cg_verdict overall) { return overall == CG_PASS ? 0 : overall == CG_WARN ? 1 : 2; }

/* Writes `text` wrapped at `width` columns, every line after the first indented by `indent`. */
/* Text from a server or a bundle: printed without its control characters and escape sequences. */
static void print_wrapped(FILE *f, const char *raw, int indent, int width) {
  int col = indent;
  char *text = cg_strdup(raw);
  if (!text) return;
  cg_strip_controls(text);
  const char *p = text;
  while (*p) {
    const char *w = p;
    while (*w && *w != ' ' && *w != '\n')
      w++;
    int wl = (int)(w - p);
    if (col > indent && col + 1 + wl > width) {
      fprintf(f, "\n%*s", indent, "");
      col = indent;
    } else if (col > indent) {
      fputc(' ', f);
      col++;
    }
    fwrite(p, 1, (size_t)wl, f);
    col += wl;
    p = w;
    while (*p == ' ')
      p++;
    if (*p == '\n') {
      fprintf(f, "\n%*s", indent, "");
      col = indent;
      p++;
    }
  }
  fputc('\n', f);
  cg_free(text);
}

void cg_report_print_result(FILE *f, const struct cg_result *r, bool color) {
  const char *reset = color ? "\033[0m" : "";
  unsigned v = (unsigned)r->status < 5 ? (unsigned)r->status : CG_ERROR;
  char name[32];
  cg_strlcpy(name, r->check, sizeof(name));
  cg_strip_controls(name);
  fprintf(f, "%s%-5s%s %-13s ", color ? colors[v] : "", labels[v], reset, name);
  print_wrapped(f, r->summary ? r->summary : "", 20, 100);
  if (r->detail && *r->detail) {
    fprintf(f, "%20sDetail: ", "");
    print_wrapped(f, r->detail, 28, 100);
  }
  if (r->code && *r->code) {
    char code[96];
    cg_strlcpy(code, r->code, sizeof(code));
    cg_strip_controls(code);
    fprintf(f, "%20s[%s]\n", "", code);
  }
  if (r->remediation && *r->remediation && v != CG_PASS) {
    /* a skipped check asks nothing of the person at the keyboard: its note is the administrator's */
    fprintf(f, "%20s%s", "", v == CG_SKIP ? "For your administrator: " : "What to do: ");
    print_wrapped(f, r->remediation, 20, 100);
  }
}

void cg_report_print(FILE *f, const struct cg_result *rs, size_t n, const struct cg_report_opts *o) {
  const char *reset = o->color ? "\033[0m" : "";
  size_t counts[5] = {0};
  if (o->title) fprintf(f, "%s\n\n", o->title);
  if (o->why && *o->why) {
    char *why = cg_strdup(o->why), *step = cg_strdup(o->first_step ? o->first_step : "");
    if (why && step) {
      cg_strip_controls(why); /* a bundle's words must not drive the terminal */
      cg_strip_controls(step);
      fprintf(f, "Why: ");
      print_wrapped(f, why, 5, 100);
      if (*step) {
        fprintf(f, "First step: ");
        print_wrapped(f, step, 12, 100);
      }
      fprintf(f, "\n");
    }
    cg_free(why);
    cg_free(step);
  }
  for (size_t i = 0; i < n; i++) {
    unsigned v = (unsigned)rs[i].status < 5 ? (unsigned)rs[i].status : CG_ERROR;
    counts[v]++;
    cg_report_print_result(f, &rs[i], o->color);
  }
  enum cg_verdict overall = cg_results_overall(rs, n);
  fprintf(f, "\nOverall: %s%s%s (%zu pass, %zu warn, %zu fail, %zu skip, %zu error)\n", o->color ? colors[overall] : "",
          labels[overall], reset, counts[CG_PASS], counts[CG_WARN], counts[CG_FAIL], counts[CG_SKIP], counts[CG_ERROR]);
}
