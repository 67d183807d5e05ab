/* The supervisor of `cmgdiag run` (and of the Windows service): it schedules cycles (interval,
 * jitter, start delay, an extra debounced cycle after a network change), holds the one-agent lock,
 * reloads, stops within seconds, and runs every cycle in a worker process of its own (`cmgdiag run
 * --worker`), killed at cycle_timeout_s. It never sets up TLS and runs no check: a crash or a hang
 * in a cycle ends that worker, and the next bundle says so (AGENT_WORKER_CRASHED). It needs only a
 * few settings, so on Linux it also runs as the small `cmgdiag-agent` program (agent_main.c). */
#ifndef CG_SUPERVISOR_H
#define CG_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_sup_settings {
  char *config_path, *state_dir, *log_file, *log_level;
  int64_t log_max_bytes, interval_s, jitter_s, start_delay_s, network_debounce_s, network_min_gap_s, cycle_timeout_s;
  bool selftest_enabled; /* service_selftest (served.h) */
  int64_t selftest_min_gap_s, selftest_user_min_gap_s;
  char unprivileged_user[64]; /* the account a standard user's request is read as ("": none) */
};

/* Loads (and validates) the settings from the configuration file; CG_OK or a sentence in err. */
typedef int (*cg_sup_load_fn)(const char *config_path, const char *worker_exe, struct cg_sup_settings *s, char *err,
                              size_t errlen);

struct cg_sup_opts {
  const char *config_path; /* NULL: the platform default */
  const char *worker_exe;  /* the cmgdiag program a worker is started from (absolute) */
  bool verbose, service;
  cg_sup_load_fn load;
};

/* Runs until stopped. Exit code: 0 stopped cleanly, 3 could not run (configuration, another agent). */
int cg_supervisor_run(const struct cg_sup_opts *o);
void cg_sup_settings_free(struct cg_sup_settings *s);
/* One agent at a time per state folder: the lock `cmgdiag.lock` there, held for the life of the
 * process. CG_OK, or the reason said on stderr, in the log and the Event Log. */
struct cg_log;
int cg_agent_lock(const char *state_dir, struct cg_log *log);

#endif
