/* One cycle, the same for `run` (each scheduled cycle), `run --once`, `selftest` and `validate`:
 * the checks (providers first, each under its deadline, resting the ones that keep failing), the
 * bundle, the spool, and a drain to the collection points. The callers only say what they want and
 * show what happened. */
#ifndef CG_CYCLE_H
#define CG_CYCLE_H

#include "runner.h"
#include "ship.h"
#include "spool.h"

/* Where each cycle leaves its result for CMPivot, inventory and baselines (Windows). */
#define CG_LAST_RESULT_KEY "SOFTWARE\\cmgdiag\\LastResult"

struct cg_cycle_opts {
  const char *trigger;        /* the bundle's trigger: "schedule", "selftest", "validate", ... */
  const char *only;           /* --only (comma-separated), or NULL */
  const char *ticket;         /* --ticket, or NULL */
  int64_t deadline_ms;        /* per check; 0: none */
  struct cg_backoff *backoff; /* the agent's memory across cycles (one per registry check), or NULL */
  bool spool;                 /* open the spool and put the bundle there */
  int64_t drain_budget_ms;    /* then ship for at most this long (0: no drain) */
  bool this_bundle_first;     /* a person waits for it (selftest); else the oldest go first */
  /* Called with the built bundle before it is published and spooled (validate adds its gate); NULL: none. */
  void (*bundle_hook)(cJSON *bundle, void *user);
  void *hook_user;
};

struct cg_cycle {
  struct cg_result *rs; /* the checks' results */
  size_t n;
  cJSON *bundle;      /* NULL when the agent was asked to stop during the checks */
  struct cg_spool sp; /* open when spool_ok */
  bool spool_ok, spooled, drained;
  bool unchanged; /* a scheduled cycle with the state of the last shipped bundle, within heartbeat_s: not spooled */
  char spool_name[96];   /* this bundle's spool file name when spooled */
  char error[768];       /* why the spool, the bundle or the shipper failed ("" when none) */
  struct cg_shipper *sh; /* open after a drain (its labels and last errors), or NULL */
  struct cg_drain_stats drain;
};

/* CG_OK when the checks ran (the rest is said in `c`); CG_ERR_USAGE with a sentence in err when
 * `only` names an unknown check. Free with cg_cycle_free in every case. */
int cg_cycle_run(const struct cg_env *env, const struct cg_cycle_opts *o, struct cg_cycle *c, char *err, size_t errlen);
void cg_cycle_free(struct cg_cycle *c);

#endif
