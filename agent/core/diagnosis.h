/* Diagnosis: from the check results of one bundle to its root cause(s), ranked, each with the
 * findings it explains, a sentence to read aloud and the first thing to do (docs/diagnosis.md).
 * The causal rules are data: agent/diagnosis/rules.json, embedded at build, extended by the
 * configuration's `diagnosis_rules` (a rule with a built-in id replaces it). */
#ifndef CG_DIAGNOSIS_H
#define CG_DIAGNOSIS_H

#include <cjson/cJSON.h>

#include "cg.h"

extern const char cg_builtin_diagnosis_rules[]; /* generated from agent/diagnosis/rules.json */

/* Checks a list of rules (the built-in file's "rules", or the configuration's diagnosis_rules):
 * CG_ERR_CONFIG with a sentence naming the rule and key in err. */
int cg_diagnosis_rules_check(const cJSON *rules, const char *where, char *err, size_t errlen);
/* The rules in effect: the built-in ones with `extra` (NULL: none) over them, by id. Caller deletes. */
cJSON *cg_diagnosis_rules(const cJSON *extra);
/* The diagnosis of a bundle's "checks" array under `rules`:
 *   {"root_causes": [{code, rank, say, first_step, source, basis, evidence[], explains[]}],
 *    "why": the first root cause's sentence or null, "first_step": its first step or null,
 *    "not_checked": [checks that ended in error]}
 * Only failures make a root cause: a warning becomes one when it explains a failure; a failure no
 * rule explains is its own root cause, in its check's words. Caller deletes; NULL on out of memory. */
cJSON *cg_diagnose(const cJSON *checks, const cJSON *rules);

#endif
