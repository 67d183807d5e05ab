/* Events when a verdict changes (docs/operations.md, "Events"): after each cycle the verdicts are
 * compared with the last ones (state folder, verdicts.json); each check whose verdict or code
 * changed, and the device's overall verdict, give one event in the Windows Event Log (message file
 * packaging/windows/cmgdiag-events.mc) and one line in the agent's log, on every platform. The
 * first cycle on a device reports what is not passing; a check that did not run (--only) keeps its
 * last verdict, and only a cycle of every enabled check judges the overall one. */
#ifndef CG_VERDICT_EVENTS_H
#define CG_VERDICT_EVENTS_H

#include "cycle.h"

/* The event IDs, as the message file declares them (checked under wine, tests/windows). */
enum {
  CG_EVENT_OVERALL_PASS = 100,
  CG_EVENT_OVERALL_WARN = 101,
  CG_EVENT_OVERALL_FAIL = 102,
  CG_EVENT_READINESS_PASS = 110, /* readiness for an in-place upgrade: its own axis, never overall's */
  CG_EVENT_READINESS_WARN = 111,
  CG_EVENT_READINESS_FAIL = 112,
  CG_EVENT_CHECK_PASS = 200,
  CG_EVENT_CHECK_WARN = 201,
  CG_EVENT_CHECK_FAIL = 202,
  CG_EVENT_CHECK_ERROR = 203,
  CG_EVENT_CHECK_SKIP = 204,
};

/* Compares, reports and records. `whole`: every enabled check ran (no --only). */
void cg_verdict_events(const struct cg_env *env, const struct cg_cycle *c, bool whole);

#endif
