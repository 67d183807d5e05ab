/* Check results (docs/commands.md "Check result") and how they are shown: JSON and the human report.
 * Verdicts are not status codes: a check that ran fine can say `fail`. */
#ifndef CG_RESULT_H
#define CG_RESULT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "cg.h"

enum cg_verdict { CG_PASS = 0, CG_WARN, CG_FAIL, CG_SKIP, CG_ERROR };

struct cg_result {
  char check[48];
  enum cg_verdict status;
  char *code;        /* SCREAMING_SNAKE with the check's prefix; owned */
  char *summary;     /* owned */
  char *remediation; /* owned; "" when pass */
  char *detail;      /* owned; NULL or the technical detail for an administrator (voice.h) */
  cJSON *facts;      /* owned; always an object */
  int64_t duration_ms;
};

const char *cg_verdict_name(enum cg_verdict v);  /* "pass" ... */
const char *cg_verdict_label(enum cg_verdict v); /* "PASS" ... */

/* Prepares an empty result for `check`; CG_ERR_NOMEM if the facts object cannot be made. */
int cg_result_init(struct cg_result *r, const char *check);
/* Sets verdict, code, remediation (NULL = "") and a printf-style summary, replacing earlier ones.
 * The summary is the sentence read aloud: a parenthesised part with a technical token (error
 * numbers, GUIDs, thumbprints, SIDs, raw bytes) moves to the detail (voice.h). */
int cg_result_set(struct cg_result *r, enum cg_verdict v, const char *code, const char *remediation,
                  const char *summary_fmt, ...) CG_PRINTF(5, 6);
/* Adds printf-style technical detail (the "Detail:" line), after what is already there. */
int cg_result_detail(struct cg_result *r, const char *fmt, ...) CG_PRINTF(2, 3);
void cg_result_free(struct cg_result *r);

/* The check result object (docs/commands.md "Check result"); caller deletes with cJSON_Delete. NULL on out of memory.
 */
cJSON *cg_result_to_json(const struct cg_result *r);

/* Overall state of several results: error counts as fail, skip as pass. */
enum cg_verdict cg_results_overall(const struct cg_result *rs, size_t n);
/* Exit code (docs/commands.md "Exit codes") for an overall verdict: 0 pass, 1 warn, 2 fail. */
int cg_verdict_exit_code(enum cg_verdict overall);

struct cg_report_opts {
  bool color;
  const char *title;      /* e.g. "cmgdiag 0.1.0 selftest on HOST" */
  const char *why;        /* the root cause to read aloud (diagnosis.h), first of all; NULL: none */
  const char *first_step; /* what to do first about it */
};
/* One check's lines of the human report: verdict and sentence, "Detail:", the code, and "What to do:"
 * (a skipped check's note is "For your administrator:"). */
void cg_report_print_result(FILE *f, const struct cg_result *r, bool color);
/* The human report: the title, "Why:" and the first step when there is a root cause, one line per
 * check (its detail, code and what to do under it), a summary line. */
void cg_report_print(FILE *f, const struct cg_result *rs, size_t n, const struct cg_report_opts *o);

#endif
