/* The periodic agent: a cycle every interval_s plus random jitter, a random start delay, an extra
 * debounced cycle when the network changes, each check under a deadline, failing checks backed
 * off, the spool drained every cycle, reload without restart, stop within seconds. */
#include "daemon.h"

#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "config.h"
#include "discovery.h"
#include "log.h"
#include "platform/runtime.h"
#include "platform/fs.h"
#include "platform/service.h"
#include "platform/sys.h"
#include "plugin.h"
#include "cycle.h"
#include "runner.h"
#include "ship.h"
#include "spool.h"

#define MAX_CHECKS 32

struct daemon {
  const struct cg_daemon_opts *o;
  struct cg_config *cfg;
  struct cg_log log;
  uint64_t rng;
  struct cg_backoff bo[MAX_CHECKS]; /* one per registry check */
  int64_t cycles;
};

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static int64_t rand_below(struct daemon *d, int64_t n) {
  return n > 0 ? (int64_t)(next_rand(&d->rng) % (uint64_t)n) : 0;
}

static int load(struct daemon *d, struct cg_config *cfg, char *err, size_t errlen) {
  memset(cfg, 0, sizeof(*cfg));
  return cg_config_load(cfg, d->o->config_path, NULL, err, errlen);
}

static void open_log(struct daemon *d) {
  enum cg_log_level level = CG_LOG_INFO;
  cg_log_level_parse(d->cfg->log.level, &level);
  if (d->o->verbose) level = CG_LOG_DEBUG;
  if (d->log.lock) { /* a reload: threads of a hung check may still be logging */
    cg_log_reopen(&d->log, d->cfg->log.file, d->cfg->log.max_bytes, level);
    return;
  }
  cg_log_open(&d->log, d->cfg->log.file, d->cfg->log.max_bytes, level);
  d->log.echo_stderr = d->o->verbose;
  cg_log_threaded(&d->log);
}

/* Runs the enabled checks, each under check_timeout_s; a check that keeps ending in `error` is
 * skipped for 1, 2, 4 ... 16 cycles and its repeated error is logged once, not every cycle. */
static size_t registry_size(void) {
  size_t n = 0;
  while (cg_registry_checks()[n])
    n++;
  return n;
}

/* One cycle: checks, bundle, spool, drain (cycle.h). Returns the verdict's exit code (0/1/2) or 3. */
static int cycle(struct daemon *d, const char *why) {
  int64_t t0 = cg_time_mono_ms();
  d->cycles++;
  cg_log_info(&d->log, "daemon", "cycle %lld starts (%s)", (long long)d->cycles, why);
  cJSON *disc = cJSON_CreateObject();
  struct cg_env env = {.config = d->cfg,
                       .log = &d->log,
                       .interactive = false,
                       .discovery = disc,
                       .trigger = !strcmp(why, "network change") ? "network_change"
                                  : !strcmp(why, "--once")       ? "once"
                                                                 : "schedule"};
  struct cg_cycle_opts o = {.trigger = "schedule",
                            .deadline_ms = d->cfg->check_timeout_s * 1000,
                            .backoff = registry_size() <= MAX_CHECKS ? d->bo : NULL,
                            .spool = true,
                            .drain_budget_ms = d->cfg->delivery.drain_budget_s * 1000};
  struct cg_cycle c;
  char err[512] = "";
  int ec = 3;
  if (cg_cycle_run(&env, &o, &c, err, sizeof(err)) == CG_OK && c.bundle)
    ec = cg_verdict_exit_code(cg_results_overall(c.rs, c.n));
  cg_log_info(&d->log, "daemon", "cycle %lld ended in %lld ms: %s", (long long)d->cycles,
              (long long)(cg_time_mono_ms() - t0),
              ec == 3   ? "could not run"
              : ec == 2 ? "fail"
              : ec == 1 ? "warn"
                        : "pass");
  cg_cycle_free(&c);
  cJSON_Delete(disc);
  return ec;
}

/* Reload: a new configuration replaces the old one only when it is valid. The old one is kept
 * alive while a check left behind by its deadline may still read it. */
static void reload(struct daemon *d) {
  struct cg_config *n = cg_calloc(1, sizeof(*n));
  char err[1024] = "";
  if (!n || load(d, n, err, sizeof(err)) != CG_OK) {
    cg_log_error(&d->log, "daemon", "reload refused, the running configuration stays: %s",
                 err[0] ? err : "out of memory");
    if (n) cg_config_free(n);
    cg_free(n);
    return;
  }
  struct cg_config *old = d->cfg;
  d->cfg = n;
  if (cg_runner_abandoned() == 0) {
    cg_config_free(old);
    cg_free(old);
  } /* else: a hung check may still read it; it is small, and it is kept */
  open_log(d);
  cg_log_info(&d->log, "daemon", "configuration reloaded from %s: interval %llds, jitter %llds", d->cfg->path,
              (long long)d->cfg->interval_s, (long long)d->cfg->jitter_s);
}

static const char *wake_name(enum cg_wake w) {
  static const char *const n[] = {"timer", "stop", "reload", "network change"};
  return n[w];
}

int cg_daemon_run(const struct cg_daemon_opts *o) {
  struct daemon d = {.o = o};
  char err[1024] = "";
  d.cfg = cg_calloc(1, sizeof(*d.cfg));
  if (!d.cfg) return 3;
  if (load(&d, d.cfg, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: configuration error: %s\n", err);
    cg_eventlog(2, err);
    cg_config_free(d.cfg);
    cg_free(d.cfg);
    return 3;
  }
  open_log(&d);
  d.rng = (uint64_t)cg_time_utc_ms() ^ ((uint64_t)cg_process_id() << 32) ^ 0x9E3779B97F4A7C15ull;
  /* one agent at a time per state folder */
  int rc = cg_dir_ensure_private(d.cfg->state_dir, err, sizeof(err));
  char *lock = cg_path_join(d.cfg->state_dir, "cmgdiag.lock");
  if (rc == CG_OK) rc = lock ? cg_instance_lock(lock, err, sizeof(err)) : CG_ERR_NOMEM;
  cg_free(lock);
  if (rc != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    cg_log_error(&d.log, "daemon", "not started: %s", err);
    cg_eventlog(2, err);
    return 3;
  }
  cg_events_init();
  cg_log_info(&d.log, "daemon", "agent %s started (process %lu, %s): interval %llds, jitter %llds, config %s",
              CMGDIAG_VERSION, cg_process_id(),
              o->service ? "Windows service"
              : o->once  ? "one cycle"
                         : "console",
              (long long)d.cfg->interval_s, (long long)d.cfg->jitter_s, d.cfg->path);
  if (o->once) {
    int ec = cycle(&d, "--once");
    cg_log_info(&d.log, "daemon", "agent stopped after one cycle");
    return ec;
  }
  int64_t next = cg_time_mono_ms() + rand_below(&d, d.cfg->start_delay_s * 1000 + 1);
  int64_t net_due = -1, last_net_cycle = -1000000000;
  cg_log_info(&d.log, "daemon", "first cycle in %lld s (random start delay up to %llds)",
              (long long)((next - cg_time_mono_ms()) / 1000), (long long)d.cfg->start_delay_s);
  for (;;) {
    int64_t now = cg_time_mono_ms(), due = next;
    if (net_due >= 0 && net_due < due) due = net_due;
    enum cg_wake w = due > now ? cg_events_wait(due - now) : CG_WAKE_TIMEOUT;
    if (w == CG_WAKE_STOP) break;
    if (w == CG_WAKE_RELOAD) {
      reload(&d);
      /* the new interval counts from now */
      next = cg_time_mono_ms() + d.cfg->interval_s * 1000 + rand_below(&d, d.cfg->jitter_s * 1000 + 1);
      continue;
    }
    if (w == CG_WAKE_NETWORK) {
      if (d.cfg->network_debounce_s > 0) {
        net_due = cg_time_mono_ms() + d.cfg->network_debounce_s * 1000; /* more changes push it back */
        cg_log_info(&d.log, "daemon", "network change; an extra cycle in %llds unless it changes again",
                    (long long)d.cfg->network_debounce_s);
      }
      continue;
    }
    now = cg_time_mono_ms();
    const char *why = "timer";
    if (net_due >= 0 && now >= net_due) {
      net_due = -1;
      if (now - last_net_cycle < d.cfg->network_min_gap_s * 1000) {
        cg_log_info(&d.log, "daemon", "network change: the last extra cycle was %lld s ago, skipped",
                    (long long)((now - last_net_cycle) / 1000));
        continue;
      }
      last_net_cycle = now;
      why = wake_name(CG_WAKE_NETWORK);
    } else if (now < next) {
      continue;
    }
    cycle(&d, why);
    if (cg_stop_requested()) break;
    if (strcmp(why, "timer") == 0)
      next = cg_time_mono_ms() + d.cfg->interval_s * 1000 + rand_below(&d, d.cfg->jitter_s * 1000 + 1);
    cg_log_debug(&d.log, "daemon", "next cycle in %lld ms", (long long)(next - cg_time_mono_ms()));
  }
  cg_log_info(&d.log, "daemon", "agent stopped (%lld cycle(s))", (long long)d.cycles);
  /* no cleanup of what a check left behind by its deadline may still use: the process ends */
  return 0;
}
