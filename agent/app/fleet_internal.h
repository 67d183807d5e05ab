/* The fleet aggregate's layout, shared by fleet.c (taking bundles in) and fleet_finish.c (counting
 * them up); nothing else includes it. */
#ifndef CG_FLEET_INTERNAL_H
#define CG_FLEET_INTERNAL_H

#include "fleet.h"
#include "platform/runtime.h"

#define MAX_BAD_LISTED 200

struct dayent {
  uint64_t key; /* (device index + 1) << 24 | day; 0: empty */
  int64_t ms;
  char overall; /* 'p', 'w', 'f' */
};

struct fleet {
  struct cg_mutex *mu;
  int64_t now_ms;
  int since_days;
  const cJSON *rules;
  struct fleet_device *dev;
  size_t ndev, adev;
  uint32_t *index; /* open addressing over dev, by lower-case host; 0 empty, else index + 1 */
  size_t nindex;
  struct dayent *days;
  size_t ndays_used, ndays_cap;
  struct fleet_cause *causes;
  size_t ncauses, acauses;
  uint32_t *cindex; /* open addressing over causes, by code; 0 empty, else index + 1 (gone after fleet_finish) */
  size_t ncindex;
  struct fleet_bad bad[MAX_BAD_LISTED];
  size_t nbad_listed;
  struct fleet_totals t;
  /* made by fleet_finish */
  struct fleet_day *byday;
  size_t nbyday;
  double *lat;
  size_t nlat;
  struct fleet_cmg *cmgs;
  size_t ncmgs;
  struct fleet_count *versions;
  size_t nversions;
};

/* The index of the cause with this code, or SIZE_MAX (constant time: a fleet of many distinct
 * causes stays linear). */
size_t fleet_cause_find(const struct fleet *f, const char *code);

#endif
