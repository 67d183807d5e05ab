/* Delivery: drains the spool into every configured output. A bundle leaves the spool only when
 * every output has it (delivery marks in the spool). Transient failures are retried with
 * exponential backoff and full jitter, Retry-After is honoured, an output that cannot work now is
 * left alone until the next cycle, and a whole drain is bounded by a time and bundle budget. */
#ifndef CG_SHIP_H
#define CG_SHIP_H

#include "http.h"
#include "plugin.h"
#include "spool.h"

struct cg_shipper;

struct cg_drain_stats {
  int64_t shipped;   /* bundles that left the spool: every output has them */
  int64_t delivered; /* deliveries (bundle x output) that succeeded now */
  int64_t already;   /* deliveries an earlier, interrupted attempt had already made */
  int64_t rejected;  /* deliveries an output refused for good (logged; given up for that output) */
  int64_t set_aside; /* bundles moved to the quarantine folder because an output refused them */
  int64_t retries;
  int64_t remaining; /* bundles still waiting when the drain ended */
  int64_t outputs_down;
  int64_t elapsed_ms;
  bool first_shipped; /* the bundle named `first` left the spool */
};

/* Starts every output of the configuration. CG_ERR_CONFIG with a sentence when one cannot start
 * (bad token file, ...). env and sp are borrowed and must outlive the shipper. */
int cg_shipper_open(struct cg_shipper **out, const struct cg_env *env, struct cg_spool *sp, char *err, size_t errlen);
void cg_shipper_close(struct cg_shipper *sh);
size_t cg_shipper_outputs(const struct cg_shipper *sh);
/* Output i: its label ("azblob https://host:port": scheme, host and port only, never a secret) and the last error of
 * the latest drain ("" when none). Borrowed. */
const char *cg_shipper_label(const struct cg_shipper *sh, size_t i);
const char *cg_shipper_last_error(const struct cg_shipper *sh, size_t i);

/* Ships spooled bundles, `first` (a spool file name, may be NULL) before the others, then oldest
 * first, for at most budget_ms and max_bundles. */
int cg_shipper_drain(struct cg_shipper *sh, const char *first, int64_t budget_ms, int64_t max_bundles,
                     struct cg_drain_stats *st);

/* The object name (docs/shipping.md "Outputs") of a bundle: yyyy/mm/dd/hostname/bundle_id.json.gz. The host
 * name is made path-safe (anything but letters, digits, '.', '-', '_' becomes '_'). */
int cg_bundle_object_name(const char *created_at, const char *hostname, const char *bundle_id, char *buf, size_t len);

/* Full-jitter backoff: a random wait in [0, min(cap, base * 2^attempt)]. */
int64_t cg_backoff_ms(int64_t base_ms, int64_t cap_ms, int attempt, uint64_t *rng);

#endif
