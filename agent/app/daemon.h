/* `cmgdiag run`: the periodic agent (also the body of the Windows service). */
#ifndef CG_DAEMON_H
#define CG_DAEMON_H

#include <stdbool.h>

struct cg_daemon_opts {
  const char *config_path; /* NULL: the platform default */
  bool once;               /* one cycle, then exit */
  bool verbose;
  bool service;        /* started by the Service Control Manager */
  bool worker;         /* one cycle as the supervisor's worker process (`run --worker`) */
  const char *trigger; /* the worker's: "schedule" or "network_change" */
};

/* Runs until stopped (SIGTERM/SIGINT, service stop): a supervisor that schedules cycles and starts
 * one worker process per cycle (itself, `run --worker`), killed at cycle_timeout_s; a worker that
 * crashes or hangs is reported by the next one (AGENT_WORKER_CRASHED). The supervisor never sets up
 * TLS. Exit code: 0 stopped cleanly, 3 could not run (configuration, another instance). With once or
 * worker: one cycle in this process, its verdict (0/1/2) or 3. */
int cg_daemon_run(const struct cg_daemon_opts *o);

#endif
