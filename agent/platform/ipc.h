/* The local channel between a standard user's `cmgdiag selftest` and the running service
 * (docs/operations.md, "Self-test for a standard user"): a named pipe on Windows, a Unix socket on
 * Linux. Never a network listener: the pipe rejects remote clients, the socket is a file.
 *   Windows: \\.\pipe\cmgdiag-selftest, owner Administrators, open to SYSTEM, Administrators and
 *            interactive users (INTERACTIVE), an instance per client (at most CG_IPC_INSTANCES).
 *   Linux:   /run/cmgdiag/selftest.sock in a folder only root may change, open to local users.
 * The client checks the other end before it believes a word: on Windows the pipe's owner must be
 * SYSTEM or Administrators (a standard user cannot make such a pipe), on Linux the peer must be root
 * or the user itself. */
#ifndef CG_PLATFORM_IPC_H
#define CG_PLATFORM_IPC_H

#include "cg.h"

#define CG_IPC_CONNECT_MS 10000
#define CG_IPC_INSTANCES 12

struct cg_ipc_server;
struct cg_ipc_conn;

/* The endpoint: CMGDIAG_SELFTEST_ENDPOINT from the environment (tests, a second agent), else the
 * platform's default above. Owned. */
char *cg_ipc_endpoint(void);

/* Creates the endpoint. CG_ERR_BUSY when another process already serves it (a squatter on Windows:
 * the pipe existed before the service), another code with a sentence in err. */
int cg_ipc_listen(const char *endpoint, struct cg_ipc_server **out, char *err, size_t errlen);
/* Waits for the next client (POSIX: up to ms, then CG_ERR_TIMEOUT; Windows: until one comes; the
 * next pipe instance is made before the connected one is handed over, so the name stays the
 * service's). */
int cg_ipc_accept(struct cg_ipc_server *s, int64_t ms, struct cg_ipc_conn **out, char *err, size_t errlen);
/* Ends a client's connection (and, on Windows, closes its pipe instance). Connections are
 * independent: each may be served and hung up from its own thread. */
void cg_ipc_hangup(struct cg_ipc_server *s, struct cg_ipc_conn *c);
/* Closes the endpoint and removes the socket it created. */
void cg_ipc_server_close(struct cg_ipc_server *s);

/* Connects to the service and checks who it is, waiting at most CG_IPC_CONNECT_MS for a busy
 * channel. CG_ERR_NOTFOUND: nobody serves the endpoint;
 * CG_ERR_BUSY: it serves someone else; CG_ERR_ACCESS: refused, or the other end is not the
 * service's (err says which). */
int cg_ipc_connect(const char *endpoint, struct cg_ipc_conn **out, char *err, size_t errlen);
/* Reads what has arrived, up to len, waiting up to ms for the first byte: the count, 0 at the end of
 * the stream, -1 when ms passed with nothing, -2 on an error. */
long cg_ipc_read(struct cg_ipc_conn *c, void *buf, size_t len, int64_t ms);
/* Writes all of buf. CG_OK, or CG_ERR_IO when the other end went away. */
int cg_ipc_write(struct cg_ipc_conn *c, const void *buf, size_t len);
/* The same, but never blocked by a reader that stops reading: CG_ERR_TIMEOUT when the other end took
 * nothing for stall_ms (the caller then gives up on it), CG_ERR_IO when it is gone. */
int cg_ipc_write_within(struct cg_ipc_conn *c, const void *buf, size_t len, int64_t stall_ms);
/* Who is at the other end, for the log: "user 1000, process 4242" / "process 4242". */
void cg_ipc_peer(const struct cg_ipc_conn *c, char *out, size_t len);
/* The account at the other end, as a key for per-user limits: "uid 1000" (POSIX), the SID
 * "S-1-5-21-..." (Windows); "" when it cannot be told. */
void cg_ipc_peer_user(const struct cg_ipc_conn *c, char *out, size_t len);
/* The connection's native handle (fd, HANDLE), to be a worker's standard output (child.h). */
intptr_t cg_ipc_native(const struct cg_ipc_conn *c);
/* Client side: closes the connection. */
void cg_ipc_close(struct cg_ipc_conn *c);

#endif
