/* `cmgdiag run`: the periodic agent (also the body of the Windows service). */
#ifndef CG_DAEMON_H
#define CG_DAEMON_H

#include <stdbool.h>

struct cg_daemon_opts {
  const char *config_path; /* NULL: the platform default */
  bool once;               /* one cycle, then exit */
  bool verbose;
  bool service; /* started by the Service Control Manager */
};

/* Runs until stopped (SIGTERM/SIGINT, service stop). Exit code: 0 stopped cleanly, 3 could not run
 * (configuration, another instance). With once: the cycle's verdict (0/1/2) or 3. */
int cg_daemon_run(const struct cg_daemon_opts *o);

#endif
