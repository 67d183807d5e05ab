/* A worker process of the agent's own: started from the agent's own executable, watched, and
 * stopped or killed as a whole (its process group / job object). The supervisor (`cmgdiag run`)
 * starts one per cycle, so that a crash or a hang of a cycle never takes the service down. */
#ifndef CG_PLATFORM_CHILD_H
#define CG_PLATFORM_CHILD_H

#include "cg.h"

struct cg_child;

struct cg_child_status {
  bool exited; /* it ended by itself with exit_code */
  int exit_code;
  int signal;              /* POSIX: the signal that ended it (0: none) */
  unsigned long exception; /* Windows: the exception code that ended it (0xC0000005 ...), 0: none */
  int64_t max_rss_kb;      /* its peak resident memory, when the platform tells (-1: unknown) */
  char text[96];           /* "exit code 2", "signal 9 (Killed)", "exception 0xC0000005" */
};

/* The absolute path of this executable (to start a worker of the same build). NULL on failure. */
char *cg_self_exe(void);

/* Starts argv[0] (an absolute path) with argv; its standard input and output are the null device,
 * its standard error the agent's. CG_OK or a sentence in err. */
int cg_child_start(const char *const *argv, struct cg_child **out, char *err, size_t errlen);
/* The same with its standard output going to `output` (a native handle: an fd, a HANDLE, such as an
 * ipc.h connection's), which it inherits and nothing else; its standard error is the agent's own
 * (POSIX: the journal under systemd) or the null device (Windows), never `output`. */
int cg_child_start_output(const char *const *argv, intptr_t output, struct cg_child **out, char *err, size_t errlen);
/* A pipe for a worker's output that the supervisor relays (served self-tests): *rd stays here, *wr
 * goes to cg_child_start_output and is then closed with cg_pipe_close. Neither is inheritable. */
int cg_pipe_open(intptr_t *rd, intptr_t *wr, char *err, size_t errlen);
/* What the pipe holds, within ms: >0 bytes read, 0 the writer closed it, -1 nothing yet, -2 error. */
long cg_pipe_read(intptr_t rd, void *buf, size_t len, int64_t ms);
void cg_pipe_close(intptr_t h);
unsigned long cg_child_pid(const struct cg_child *c);
/* True when it has ended (st filled); false while it runs. Never blocks. */
bool cg_child_ended(struct cg_child *c, struct cg_child_status *st);
/* Asks it to stop (POSIX: SIGTERM to its group; Windows: nothing gentler exists, so it is killed). */
void cg_child_stop(struct cg_child *c);
/* Kills it and everything it started. */
void cg_child_kill(struct cg_child *c);
/* Replaces this process with argv[0] (an absolute path only administrators can change, checked as
 * cg_file_open_admin_only does, and exactly that file is started). Returns only on failure, with a
 * sentence in err; CG_ERR_UNSUPPORTED where the platform has no such thing (Windows). */
int cg_child_exec_admin_only(const char *const *argv, char *err, size_t errlen);
/* ---- the unprivileged worker (docs/security.md, "Privilege separation") --------------------------
 * A process of this program's own without the agent's privilege: on Linux a local system account's
 * uid and gid, no supplementary groups, NoNewPrivs, no capabilities, a session of its own, and a
 * fresh program image (nothing of the agent's memory, such as the configuration's secrets, and none
 * of its descriptors). Windows: a restricted token made from the agent's own (worker_win32.c: no
 * privileges, Administrators deny-only, restricting SIDs of a standard user, Low integrity, a job
 * object), with no account of its own. */
struct cg_worker_user {
  unsigned long uid, gid;
  char name[64];
};
/* The local account `name` (/etc/passwd, not a directory service). CG_ERR_UNSUPPORTED when this
 * process cannot give up privilege (not root, or the platform has no such worker), CG_ERR_NOTFOUND
 * when there is no such account or it is root's; a sentence in err. Windows: CG_OK when this process
 * is an administrator's or SYSTEM's and name is not empty; u names "restricted token". */
int cg_worker_user_find(const char *name, struct cg_worker_user *u, char *err, size_t errlen);
/* Starts argv[0] (this program, an absolute path) as account u with argv and only the environment
 * envp (NULL-terminated), its working folder `folder` (entered after it gave up privilege, so the
 * folders above it may be root's alone). Its standard input is `in` (a native handle: a pipe's read
 * end, a connection; -1: the null device), its standard output a pipe whose read end is *rd, its
 * standard error the null device; it dies with this process. CG_OK and *out, or a sentence in err. */
int cg_worker_start(const struct cg_worker_user *u, const char *folder, const char *const *argv,
                    const char *const *envp, intptr_t in, intptr_t *rd, struct cg_child **out, char *err,
                    size_t errlen);
/* Whether cg_worker_start takes a connection (ipc.h) as the worker's input: Linux yes, Windows no
 * (a pipe of cg_pipe_open only; the service relays a self-test request through one, served.c). */
bool cg_worker_reads_connections(void);
/* In a worker: what its token is, in words ("restricted, integrity Low"); CG_ERR_UNSUPPORTED where the
 * platform has no tokens (its uid says it there). */
int cg_worker_token_facts(char *buf, size_t len);
/* A folder the worker may write: created (mode 0700) or found as a real folder (never a link), and
 * handed to the worker's account. CG_OK or a sentence in err. */
int cg_worker_folder(const char *path, const struct cg_worker_user *u, char *err, size_t errlen);
/* Writes all of buf to a pipe end; CG_OK or CG_ERR_IO. For cg_pipe_read and the writes, 0 and 1 are
 * this process's standard input and output, on every platform. */
int cg_pipe_write(intptr_t wr, const void *buf, size_t len);
/* The same within ms: CG_ERR_TIMEOUT when the reader does not take it in time (a worker that stopped
 * reading), CG_ERR_IO when it went away (never a SIGPIPE for the process). */
int cg_pipe_write_within(intptr_t wr, const void *buf, size_t len, int64_t ms);
/* In a worker, first thing: not dumpable (no process of its account can read its memory, files or
 * descriptors through /proc, nor trace it), no core file, and no new process or program (a seccomp
 * filter; threads stay possible). CG_OK or a sentence in err. */
int cg_worker_confine(char *err, size_t errlen);

/* Releases the handle (kill it first if it may still run). */
void cg_child_free(struct cg_child *c);

#endif
