/* POSIX process spawn: fork + execvp (or fexecve of a verified descriptor) in a new process group,
 * poll() on both pipes with a deadline, SIGKILL to the whole group at the deadline. Every
 * descriptor of ours is close-on-exec: the child gets its three standard streams and nothing else. */
#define _GNU_SOURCE
#include "proc.h"
#include "fs.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#define DEFAULT_MAX_OUTPUT (1024 * 1024)

extern char **environ;

/* In the child, before exec: every descriptor above stderr closes on exec but `keep` (the program
 * itself, for fexecve of a script). Async-signal-safe. */
static void cloexec_from_3(int keep) {
#ifdef CLOSE_RANGE_CLOEXEC
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
    for (int fd = 3; fd < 4096; fd++)
      fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (keep >= 0) fcntl(keep, F_SETFD, 0);
}

char **cg_proc_minimal_env(void) {
  static const char *const pass[] = {"HOME",       "LANG",        "LC_ALL",   "LC_CTYPE",   "TZ",
                                     "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                                     "NO_PROXY",   "all_proxy",   "ALL_PROXY"};
  char **env = cg_calloc(CG_ARRAY_LEN(pass) + 2, sizeof(char *));
  size_t n = 0;
  if (!env) return NULL;
  if (!(env[n++] = cg_strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))) goto fail;
  for (size_t i = 0; i < CG_ARRAY_LEN(pass); i++) {
    const char *v = getenv(pass[i]);
    if (v && !(env[n++] = cg_asprintf("%s=%s", pass[i], v))) goto fail;
  }
  return env;
fail:
  cg_proc_env_free(env);
  return NULL;
}

void cg_proc_env_free(char **envp) {
  for (size_t i = 0; envp && envp[i]; i++)
    cg_free(envp[i]);
  cg_free(envp);
}

static void capture(struct cg_buf *b, bool *truncated, const char *data, size_t n) {
  size_t room = b->cap - b->len;
  if (n > room) {
    *truncated = true;
    n = room;
  }
  if (n) cg_buf_append(b, data, n);
}

void cg_proc_result_free(struct cg_proc_result *res) {
  cg_free(res->out);
  cg_free(res->err);
  res->out = res->err = NULL;
  res->out_len = res->err_len = 0;
}

/* The child after fork: standard handles, its own process group, then exec. Only async-signal-safe
 * calls. Never returns: on failure the errno goes to the parent through execp. */
static void child_exec(const char *const *argv, char *const *envp, const struct cg_proc_opts *opts, intptr_t prog,
                       bool script, const int outp[2], const int errp[2], const int execp[2]) {
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  setpgid(0, 0);
  if (devnull >= 0) dup2(devnull, 0);
  dup2(outp[1], 1);
  dup2(errp[1], 2);
  cloexec_from_3(script ? (int)prog : -1);
  signal(SIGPIPE, SIG_DFL);
  int e = 0;
  if (opts && opts->cwd && chdir(opts->cwd) != 0) e = errno;
  if (!e) {
    if (prog >= 0)
      fexecve((int)prog, (char *const *)argv, envp);
    else
      execvpe(argv[0], (char *const *)argv, envp);
    e = errno;
  }
  ssize_t w = write(execp[1], &e, sizeof(e));
  (void)w;
  _exit(127);
}

/* Reads the child's stdout and stderr until both close or the deadline passes (res->timed_out).
 * A pipe it closes is set to -1. */
static void pump(int outp[2], int errp[2], int64_t start, int64_t timeout, struct cg_buf *ob, struct cg_buf *eb,
                 struct cg_proc_result *res) {
  struct pollfd fds[2] = {{.fd = outp[0], .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
  int open_fds = 2;
  char chunk[16384];
  while (open_fds > 0) {
    int wait_ms = -1;
    if (timeout > 0) {
      int64_t left = start + timeout - cg_time_mono_ms();
      if (left <= 0) {
        res->timed_out = true;
        break;
      }
      wait_ms = left > 1000 ? 1000 : (int)left;
    }
    int n = poll(fds, 2, wait_ms);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; n > 0 && i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = read(fds[i].fd, chunk, sizeof(chunk));
      if (r > 0) {
        if (i == 0)
          capture(ob, &res->out_truncated, chunk, (size_t)r);
        else
          capture(eb, &res->err_truncated, chunk, (size_t)r);
      } else if (r == 0 || errno != EINTR) {
        close(fds[i].fd);
        if (i == 0)
          outp[0] = -1;
        else
          errp[0] = -1;
        fds[i].fd = -1;
        open_fds--;
      }
    }
  }
}

/* Waits for the child, kills its whole group at the deadline (a child that closed its stdout but
 * lingers too), and records how it ended. */
static void reap(pid_t pid, int64_t start, int64_t timeout, struct cg_proc_result *res) {
  if (res->timed_out) {
    kill(-pid, SIGKILL); /* the whole group: grandchildren too */
    kill(pid, SIGKILL);
  }
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, timeout > 0 && !res->timed_out ? WNOHANG : 0);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (w == 0) {
      /* Pipes closed but the child lingers (it closed its stdout): keep honouring the deadline. */
      if (cg_time_mono_ms() - start >= timeout) {
        res->timed_out = true;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
      } else {
        usleep(10000);
      }
    }
  }
  if (!res->timed_out) {
    if (WIFEXITED(status)) {
      res->exited = true;
      res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      res->exit_code = 128 + WTERMSIG(status);
    }
  }
}

int cg_proc_run(const char *const *argv, const struct cg_proc_opts *opts, struct cg_proc_result *res, char *err,
                size_t errlen) {
  int rc = CG_ERR_IO;
  int outp[2] = {-1, -1}, errp[2] = {-1, -1}, execp[2] = {-1, -1};
  intptr_t prog = -1;
  bool script = false;
  char *const *envp = opts && opts->envp ? (char *const *)opts->envp : environ;
  pid_t pid = -1;
  struct cg_buf ob, eb;
  size_t cap = opts && opts->max_output ? opts->max_output : DEFAULT_MAX_OUTPUT;
  int64_t timeout = opts ? opts->timeout_ms : 0;
  int64_t start = cg_time_mono_ms();

  memset(res, 0, sizeof(*res));
  cg_buf_init(&ob, cap);
  cg_buf_init(&eb, cap);
  if (!argv || !argv[0] || !argv[0][0]) {
    cg_snprintf(err, errlen, "no program to run");
    rc = CG_ERR_USAGE;
    goto out;
  }
  if (opts && opts->admin_only_program) {
    rc = cg_file_open_admin_only(argv[0], &prog, NULL, err, errlen);
    if (rc != CG_OK) goto out;
    rc = CG_ERR_IO;
    char magic[2] = "";
    /* a script's interpreter opens /dev/fd/N: that one descriptor stays open across exec */
    script = pread((int)prog, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!';
  }
  if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(execp, O_CLOEXEC)) {
    cg_snprintf(err, errlen, "cannot create pipes to run %s: %s", argv[0], strerror(errno));
    goto out;
  }
  pid = fork();
  if (pid < 0) {
    cg_snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
    goto out;
  }
  if (pid == 0) child_exec(argv, envp, opts, prog, script, outp, errp, execp);
  setpgid(pid, pid); /* also from the parent, so the group exists before we might kill it */
  cg_file_close_handle(prog);
  prog = -1;
  close(outp[1]);
  outp[1] = -1;
  close(errp[1]);
  errp[1] = -1;
  close(execp[1]);
  execp[1] = -1;

  int child_errno = 0;
  ssize_t got;
  do
    got = read(execp[0], &child_errno, sizeof(child_errno));
  while (got < 0 && errno == EINTR);
  if (got == (ssize_t)sizeof(child_errno)) {
    waitpid(pid, NULL, 0);
    pid = -1;
    rc = (child_errno == ENOENT || child_errno == ENOTDIR) ? CG_ERR_NOTFOUND
         : (child_errno == EACCES || child_errno == EPERM) ? CG_ERR_ACCESS
                                                           : CG_ERR_IO;
    cg_snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(child_errno));
    goto out;
  }

  pump(outp, errp, start, timeout, &ob, &eb, res);
  reap(pid, start, timeout, res);
  pid = -1;
  rc = CG_OK;

out:
  cg_file_close_handle(prog);
  if (pid > 0) {
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  for (int i = 0; i < 2; i++) {
    if (outp[i] >= 0) close(outp[i]);
    if (errp[i] >= 0) close(errp[i]);
    if (execp[i] >= 0) close(execp[i]);
  }
  res->duration_ms = cg_time_mono_ms() - start;
  if (rc == CG_OK) {
    res->out = cg_buf_take(&ob, &res->out_len);
    res->err = cg_buf_take(&eb, &res->err_len);
    if (!res->out || !res->err) {
      cg_proc_result_free(res);
      rc = CG_ERR_NOMEM;
    }
  }
  cg_buf_free(&ob);
  cg_buf_free(&eb);
  return rc;
}
