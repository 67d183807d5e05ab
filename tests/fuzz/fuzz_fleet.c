/* libFuzzer: what `cmgdiag report` reads from every file or blob: gzip or plain bundles of any
 * origin, their summary and diagnosis (bundles without one), the fleet counted up; and the
 * created_at time parser on the raw bytes. */
#include <stdint.h>
#include <string.h>

#include "diagnosis.h"
#include "fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cJSON *rules;
  if (!rules) rules = cg_diagnosis_rules(NULL);
  struct fleet *f = fleet_new(1796025600000LL, 30, rules);
  if (!f) return 0;
  fleet_add(f, "fuzz", (const char *)data, size, -1);
  fleet_add(f, "fuzz again", (const char *)data, size, 1764000000000LL); /* the same device twice: the latest decides */
  fleet_finish(f);
  fleet_free(f);
  cg_json_arena_release(); /* what fleet_add parsed in this thread's arena */
  char t[64];
  size_t n = size < sizeof(t) - 1 ? size : sizeof(t) - 1;
  memcpy(t, data, n);
  t[n] = '\0';
  int64_t ms;
  (void)fleet_parse_time(t, &ms);
  return 0;
}
