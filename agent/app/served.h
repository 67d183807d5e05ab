/* Self-test for a standard user (docs/operations.md, "Self-test for a standard user"): the running
 * agent serves `cmgdiag selftest` to users who may not read its configuration, over the local
 * channel of platform/ipc.h (a named pipe, a Unix socket; never the network).
 *
 * The exchange: the client sends one line of JSON (at most 4 KiB, within 5 s):
 *   {"ticket": "INC123", "json": false, "no_upload": false, "only": "agent,device", "color": true}
 * (every key optional, nothing else accepted). The service runs `cmgdiag selftest` as itself
 * (SYSTEM, root) in a worker whose output the service relays to the channel as it comes (a client
 * that stops reading is given up on; the worker never waits for it), so the user reads the report live;
 * the bundle ships as from any self-test. Lines that start with the byte 0x1E are records, not
 * text: "deadline N" (first: the self-test is stopped after N seconds, the client waits no longer),
 * "running NAME" (a check started), "refused SENTENCE" (the request was not served),
 * "stopped SENTENCE" (at its deadline, or because the service stops), and last "exit N" (the
 * self-test's exit code). No secret crosses the channel: the worker prints what an administrator's
 * selftest prints, which never holds one. */
#ifndef CG_SERVED_H
#define CG_SERVED_H

#include <stdbool.h>
#include <stdint.h>

#include "cg.h"

#define CG_SERVED_RECORD '\x1e'
#define CG_SERVED_REQUEST_MAX 4096
#define CG_SERVED_TICKET_MAX 64

struct cg_log;

/* ---- the service side (the supervisor) ---- */
struct cg_served_settings {
  bool enabled;
  int64_t min_gap_s, timeout_s; /* least time between two, and the deadline of one */
  int64_t user_min_gap_s;       /* least time between two for the same user */
  int64_t relay_stall_ms;       /* a client that reads nothing of the report this long is given up on
                                 * (0: 30 s); the worker is never held by it */
  const char *config_path;
  char unprivileged_user[64]; /* Linux: a request is read and parsed as this account ("": as the service) */
};
struct cg_served;
/* `cmgdiag __worker request`: reads one request from standard input (a connection) without
 * privilege and writes it back, parsed, on standard output (served.c). Exit code 0 when it answered. */
int cg_served_request_main(void);
/* Opens the channel and serves it from a thread of its own. NULL when it is turned off or cannot
 * open (the reason in the log: another agent serves it, the endpoint is taken). */
struct cg_served *cg_served_start(const char *worker_exe, struct cg_log *log, const struct cg_served_settings *s);
/* New settings after a reload (turned off: requests are refused with a sentence that says so). */
void cg_served_update(struct cg_served *sv, const struct cg_served_settings *s);
/* Stops serving: a self-test under way is stopped, the channel closed. */
void cg_served_stop(struct cg_served *sv);

/* Checks a request line; fills the worker's options or a sentence in err. Exposed for tests. */
struct cg_served_request {
  char ticket[CG_SERVED_TICKET_MAX + 1], only[256];
  bool json, no_upload, color;
};
int cg_served_parse(const char *line, size_t len, struct cg_served_request *rq, char *err, size_t errlen);

/* ---- the user's side (cmgdiag selftest) ---- */
/* Asks the service for a self-test and prints what it streams back. Returns the self-test's exit
 * code, or 3 with a sentence on stderr (no service: run elevated or start it; busy; refused). */
int cg_served_selftest(const struct cg_served_request *rq, bool tty);

#endif
