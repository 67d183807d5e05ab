/* The content check's egress budget (docs/checks/content.md, "What it costs the CMG"). CMG egress
 * includes content from the CMG's storage, and a CMG may be set to stop when its 14-day outbound
 * threshold is exceeded: a test download on every laptop every hour could switch it off. So a
 * measurement is kept in the state folder and reused; a new one is made only
 *   - scheduled cycles (schedule, once): when the last is older than content_interval_s;
 *   - validate: when the last is older than content_max_age_s;
 *   - selftest and check: always (a person asked);
 *   - a network change: never;
 * and never when it could take the month's bytes past content_budget_mb_month. */
#ifndef CG_CONTENT_BUDGET_H
#define CG_CONTENT_BUDGET_H

#include <cjson/cJSON.h>

#include "plugin.h"

struct content_budget {
  int64_t interval_s, max_age_s, budget_mb_month;
  cJSON *state; /* {"measured_ms", "result": {...}, "month": "2026-12", "bytes_month"} (owned) */
  char *path;   /* state_dir/content-state.json (owned) */
};

/* Loads the state of the last measurement. */
void content_budget_load(struct content_budget *b, const struct cg_env *env);
/* Whether this run may download `bytes` now; else *why says why the last measurement is reused (or
 * why nothing can be said). */
bool content_budget_may_measure(const struct content_budget *b, const struct cg_env *env, int64_t bytes, char *why,
                                size_t whylen);
/* A measurement was made: its bytes count against the month, its result is kept. */
void content_budget_spent(struct content_budget *b, const struct cg_env *env, int64_t bytes,
                          const struct cg_result *res);
/* The last measurement as this run's result (facts.reused, measured_at, age); false when there is none. */
bool content_budget_reuse(const struct content_budget *b, const char *why, struct cg_result *res);
/* Facts about the budget: bytes this month, the budget, the next measurement. */
void content_budget_facts(const struct content_budget *b, cJSON *facts);
void content_budget_free(struct content_budget *b);

#endif
