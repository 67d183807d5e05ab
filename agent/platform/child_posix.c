#define _GNU_SOURCE /* pipe2 */
/* Worker processes on POSIX (see child.h): fork and exec in a new process group, reaped with wait4. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fs.h"

extern char **environ;

struct cg_child {
  pid_t pid;
  bool reaped;
  struct cg_child_status st;
};

char *cg_self_exe(void) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return NULL;
  buf[n] = '\0';
  return cg_strdup(buf);
}

int cg_child_start_output(const char *const *argv, intptr_t output, struct cg_child **out, char *err, size_t errlen) {
  struct cg_child *c = cg_calloc(1, sizeof(*c));
  if (!c) return CG_ERR_NOMEM;
  pid_t pid = fork();
  if (pid < 0) {
    cg_snprintf(err, errlen, "cannot start a worker: %s", strerror(errno));
    cg_free(c);
    return CG_ERR_IO;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
      dup2(nul, 0);
      dup2(nul, 1);
    }
    if (output >= 0) /* standard error stays the agent's (the journal): the client gets stdout only */
      dup2((int)output, 1);
    /* a worker whose output is a client's channel finishes its cycle when the client goes away */
    signal(SIGPIPE, output >= 0 ? SIG_IGN : SIG_DFL);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  setpgid(pid, pid);
  c->pid = pid;
  *out = c;
  return CG_OK;
}

int cg_child_start(const char *const *argv, struct cg_child **out, char *err, size_t errlen) {
  return cg_child_start_output(argv, -1, out, err, errlen);
}

int cg_pipe_open(intptr_t *rd, intptr_t *wr, char *err, size_t errlen) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) { /* close-on-exec from the start: no other thread's fork inherits it */
    cg_snprintf(err, errlen, "cannot make a pipe for the worker: %s", strerror(errno));
    return CG_ERR_IO;
  }
  *rd = fds[0];
  *wr = fds[1];
  return CG_OK;
}

long cg_pipe_read(intptr_t rd, void *buf, size_t len, int64_t ms) {
  struct pollfd p = {.fd = (int)rd, .events = POLLIN};
  int n = poll(&p, 1, (int)(ms > 0 ? ms : 0));
  if (n == 0 || (n < 0 && errno == EINTR)) return -1;
  if (n < 0) return -2;
  ssize_t r = read((int)rd, buf, len);
  return r >= 0 ? (long)r : errno == EAGAIN || errno == EINTR ? -1 : -2;
}

void cg_pipe_close(intptr_t h) {
  if (h >= 0) close((int)h);
}

unsigned long cg_child_pid(const struct cg_child *c) { return (unsigned long)c->pid; }

bool cg_child_ended(struct cg_child *c, struct cg_child_status *st) {
  if (!c->reaped) {
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    pid_t w = wait4(c->pid, &status, WNOHANG, &ru);
    if (w == 0 || (w < 0 && errno == EINTR)) return false;
    c->reaped = true;
    c->st.max_rss_kb = w == c->pid ? (int64_t)ru.ru_maxrss : -1;
    if (w == c->pid && WIFEXITED(status)) {
      c->st.exited = true;
      c->st.exit_code = WEXITSTATUS(status);
      cg_snprintf(c->st.text, sizeof(c->st.text), "exit code %d", c->st.exit_code);
    } else if (w == c->pid && WIFSIGNALED(status)) {
      c->st.signal = WTERMSIG(status);
      cg_snprintf(c->st.text, sizeof(c->st.text), "signal %d (%s)", c->st.signal, strsignal(c->st.signal));
    } else {
      cg_snprintf(c->st.text, sizeof(c->st.text), "ended, status unknown");
    }
    kill(-c->pid, SIGKILL); /* what it started goes with it */
  }
  *st = c->st;
  return true;
}

void cg_child_stop(struct cg_child *c) {
  if (!c->reaped) kill(-c->pid, SIGTERM);
}

void cg_child_kill(struct cg_child *c) {
  if (c->reaped) return;
  kill(-c->pid, SIGKILL);
  kill(c->pid, SIGKILL);
}

void cg_child_free(struct cg_child *c) {
  if (c && !c->reaped) {
    cg_child_kill(c);
    waitpid(c->pid, NULL, 0);
  }
  cg_free(c);
}

int cg_child_exec_admin_only(const char *const *argv, char *err, size_t errlen) {
  intptr_t fd = -1;
  int rc = cg_file_open_admin_only(argv[0], &fd, NULL, err, errlen);
  if (rc != CG_OK) return rc;
  fexecve((int)fd, (char *const *)argv, environ);
  cg_snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
  cg_file_close_handle(fd);
  return CG_ERR_IO;
}
