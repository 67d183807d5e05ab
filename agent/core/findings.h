/* Findings: what a check found, kept while it runs, then turned into its result once. Every
 * finding is listed in facts.findings ({status, code, summary}); the most severe one (the first of
 * equals) gives the result's verdict, code and remediation (see cg_findings_result). */
#ifndef CG_FINDINGS_H
#define CG_FINDINGS_H

#include <cjson/cJSON.h>

#include "cg.h"
#include "result.h"

struct cg_finding {
  enum cg_verdict status; /* CG_WARN or CG_FAIL (CG_PASS for a note that changes no verdict) */
  char code[64];
  char *summary;      /* owned */
  char *remediation;  /* owned; "" when none */
  const char *detail; /* optional, borrowed static text the check attaches (cmgprobe: what the client logs) */
};

struct cg_findings {
  struct cg_finding *f;
  size_t n, cap;
  bool nomem; /* an add failed; cg_findings_result then returns CG_ERR_NOMEM */
};

#define CG_FINDINGS_MAX 64 /* later ones are counted in `dropped`, not kept */

void cg_findings_init(struct cg_findings *fs);
void cg_findings_free(struct cg_findings *fs);
/* Adds one finding; the summary is a sentence (printf-style). Returns it, or NULL when full. */
struct cg_finding *cg_findings_add(struct cg_findings *fs, enum cg_verdict status, const char *code,
                                   const char *remediation, const char *fmt, ...) CG_PRINTF(5, 6);
/* The first most severe finding, or NULL when there is none above CG_PASS. */
const struct cg_finding *cg_findings_worst(const struct cg_findings *fs);
bool cg_findings_has(const struct cg_findings *fs, const char *code);
/* Forgets the findings of one status (a later, better judge overruled them). */
void cg_findings_drop(struct cg_findings *fs, enum cg_verdict status);
/* Forgets the findings with this code. */
void cg_findings_drop_code(struct cg_findings *fs, const char *code);

enum cg_findings_style {
  /* The worst summary, then every other finding: " Also: ..." for those of its severity, " Also (a
   * warning): ..." or " Also (noted): ..." for lesser ones; the remediations of the worst severity,
   * each once. */
  CG_FINDINGS_WORST_FIRST,
  /* The same sentence; the worst finding's remediation only. */
  CG_FINDINGS_WORST_ONLY,
  /* `lead` then every summary, "; "-separated, and a full stop; the worst finding's remediation. */
  CG_FINDINGS_LIST,
};

/* Writes facts.findings alone (for a check whose verdict does not come from its findings). */
int cg_findings_to_facts(const struct cg_findings *fs, cJSON *facts);
/* Writes facts.findings and, when a finding is above CG_PASS, the result (verdict and code of the
 * worst). Returns CG_OK with *decided false when nothing is above CG_PASS: the check then says
 * what passed in its own words. */
int cg_findings_result(const struct cg_findings *fs, struct cg_result *res, enum cg_findings_style style,
                       const char *lead, bool *decided);

#endif
