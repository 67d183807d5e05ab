/* The fleet as its bundles show it (`cmgdiag report`, docs/report.md): bundles are summarised one
 * at a time (any thread) and only what the report shows is kept, so memory grows with the number
 * of devices, not of bundles. The latest bundle of a device decides its state. */
#ifndef CG_FLEET_H
#define CG_FLEET_H

#include <cjson/cJSON.h>

#include "cg.h"

#define FLEET_CAUSES 3 /* root causes kept per device */

/* A device whose last bundle is older than this is "not reporting": two of the agent's 6-hour
 * heartbeats (heartbeat_s) went by without a word. */
#define FLEET_STALE_H 12

struct fleet_device {
  char host[96];
  char key[96]; /* what identifies the device: its Entra device ID when the bundle has one, else the
                 * hostname (self-reported: two laptops named alike would be one device) */
  int64_t last_ms;
  char last_seen[32];
  char overall[8];
  int sas_days;      /* days until the soonest SAS of its outputs expires; INT32_MIN unknown */
  char readiness[8]; /* ready for an in-place upgrade: pass, warn, fail; "" when the bundle does not say */
  char version[24];
  char cmg[96];
  char cause[FLEET_CAUSES][48]; /* root cause codes, most fundamental first; "" */
  char summary[400];            /* the first root cause's sentence, or what the bundle says */
  int64_t spool_pending, dropped_total;
  double cmg_ms;          /* the CMG's answer time, ms; < 0 unknown */
  int cert_days;          /* days until the CMG certificate expires; INT32_MIN unknown */
  bool diag_made;         /* the bundle had no diagnosis (an older agent): computed here */
  bool full;              /* a bundle of every enabled check decided it; false: only partial (helpdesk) runs */
  size_t helpdesk_runs;   /* partial bundles (selftest --only): listed, never the device's state */
  char helpdesk_last[32]; /* the newest one's created_at */
  /* the checks of the deciding bundle, one per line: "status\tcheck\tcode\tsentence" (the sentence of
   * checks that did not pass only, cut at FLEET_SAY_MAX; lines that do not fit are dropped whole) */
  char checks[1024];
  /* the newest gate (validate --profile) a complete bundle of the device carried: "ready", "not ready"
   * or ""; its profile and the bundle's created_at */
  char gate[12], gate_profile[32], gate_at[32];
};
#define FLEET_SAY_MAX 200

struct fleet_cause {
  char code[48];
  char say[400], first_step[400], source[200];
  size_t devices;   /* devices whose first (primary) root cause this is */
  size_t secondary; /* devices that have it after another root cause */
  char examples[3][96];
  int64_t said_ms; /* the newest bundle that said it: its words are shown (deterministic) */
};

struct fleet_day {
  int32_t day; /* days since 1970-01-01 (UTC) */
  size_t pass, warn, fail;
};

struct fleet_bad {
  char origin[300];
  char why[300];
};

struct fleet;

/* now_ms: the report's "now"; since_days 0: every bundle, else only those created in the last days.
 * rules: the diagnosis rules for bundles without a diagnosis (borrowed). */
struct fleet *fleet_new(int64_t now_ms, int since_days, const cJSON *rules);
void fleet_free(struct fleet *f);
/* One bundle file's bytes (gzip or JSON); `origin` names it. Thread-safe. A bundle that cannot be
 * read is counted and listed with the reason, never fatal. */
/* One bundle; stored_ms: when its file or blob was last written (-1 unknown). A bundle dated more
 * than a day after it was stored, or after now, cannot be trusted to decide its device: it is listed
 * as suspect among the inputs that could not be read. */
void fleet_add(struct fleet *f, const char *origin, const char *raw, size_t len, int64_t stored_ms);
/* An input that could not even be fetched or read. Thread-safe. */
void fleet_bad(struct fleet *f, const char *origin, const char *why);

/* After the last fleet_add: sorts and aggregates. Then the accessors below are valid. */
void fleet_finish(struct fleet *f);
const struct fleet_device *fleet_devices(const struct fleet *f, size_t *n); /* by host */
const struct fleet_cause *fleet_causes(const struct fleet *f, size_t *n);   /* most devices first */
const struct fleet_day *fleet_days(const struct fleet *f, size_t *n);       /* oldest first */
const struct fleet_bad *fleet_bads(const struct fleet *f, size_t *n, size_t *total);
struct fleet_totals {
  size_t bundles, older, bad, devices, pass, warn, fail, diag_made, helpdesk_only;
  size_t not_reporting; /* no bundle for more than FLEET_STALE_H hours (two heartbeats) */
  size_t sas_expiring;  /* devices whose collection point SAS expires within 30 days (or has) */
  int64_t now_ms;
  int since_days;
};
void fleet_totals(const struct fleet *f, struct fleet_totals *t);
/* The CMG answer times of the devices' latest bundles, sorted (ms). */
const double *fleet_latencies(const struct fleet *f, size_t *n);
/* Per CMG host: its devices and the certificates they saw (days left, how many saw each). */
#define FLEET_CMG_DIST 6
struct fleet_cmg {
  char host[96];
  size_t devices;
  /* what the devices saw: the certificate's days left and how many saw each (the most seen first,
   * once finished; further values are counted in `other`; none: no device saw a certificate) */
  struct {
    int days;
    size_t n;
  } dist[FLEET_CMG_DIST];
  size_t ndist, other;
};
const struct fleet_cmg *fleet_cmgs(const struct fleet *f, size_t *n);
struct fleet_count {
  char key[48];
  size_t n;
};
const struct fleet_count *fleet_versions(const struct fleet *f, size_t *n);

/* "2026-11-30T08:00:00Z" (or with fraction / offset) to ms; false when it is not a time. */
bool fleet_parse_time(const char *s, int64_t *ms);

#endif
