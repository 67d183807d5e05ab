#define _GNU_SOURCE /* pipe2 */
/* Worker processes on POSIX (see child.h): fork and exec in a new process group, reaped with wait4. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fs.h"
#include "sys.h"

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

/* The account from the local /etc/passwd only (an LDAP or sssd account that happens to have the name
 * is not the one the package made). */
int cg_worker_user_find(const char *name, struct cg_worker_user *u, char *err, size_t errlen) {
  memset(u, 0, sizeof(*u));
  if (geteuid() != 0) {
    cg_snprintf(err, errlen, "this process has no privilege to give up (it does not run as root)");
    return CG_ERR_UNSUPPORTED;
  }
  FILE *f = name && *name ? fopen("/etc/passwd", "re") : NULL;
  size_t cap = 65536; /* a line of /etc/passwd longer than this is not an account's */
  char *buf = f ? cg_malloc(cap) : NULL;
  struct passwd pw, *found = NULL;
  int e = 0;
  while (buf && (e = fgetpwent_r(f, &pw, buf, cap, &found)) == 0 && found && strcmp(found->pw_name, name))
    found = NULL;
  if (f) fclose(f);
  if (found) {
    u->uid = found->pw_uid;
    u->gid = found->pw_gid;
  }
  cg_free(buf);
  if (!found) {
    cg_snprintf(err, errlen,
                e == ERANGE ? "/etc/passwd has a line too long to read" : "there is no local account named %s",
                name && *name ? name : "(none)");
    return CG_ERR_NOTFOUND;
  }
  if (u->uid == 0 || u->gid == 0) {
    cg_snprintf(err, errlen, "the account %s is root's (uid or gid 0)", name);
    memset(u, 0, sizeof(*u));
    return CG_ERR_NOTFOUND;
  }
  cg_strlcpy(u->name, name, sizeof(u->name));
  return CG_OK;
}

/* In the child, between fork and exec: system calls only (the parent may have other threads). */
static void worker_child(const struct cg_worker_user *u, int in, int out, int exe, int dir, pid_t parent,
                         char *const *argv, char *const *envp) {
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (setsid() < 0 || nul < 0) _exit(120);
  umask(077); /* what it writes is its own */
  /* 0: the request, 1: the answer, 2: nothing (no terminal, no journal); 3: the program; 4: the folder */
  int moved[] = {in >= 0 ? in : nul, out, nul, exe, dir}, tmp[5];
  for (int i = 0; i < 5; i++)
    if ((tmp[i] = fcntl(moved[i], F_DUPFD_CLOEXEC, 10)) < 0) _exit(121);
  for (int i = 0; i < 5; i++)
    if (dup2(tmp[i], i) < 0) _exit(122);
  if (close_range(5, ~0U, 0) != 0) /* a kernel before 5.9, or a filter that refuses it */
    for (int fd = 5; fd < 65536; fd++)
      close(fd);
  fcntl(3, F_SETFD, FD_CLOEXEC); /* the program: gone once it runs */
  /* signals as a new program expects them, whatever the agent's thread blocked or ignored (a crash
   * must end it); only a closed pipe or connection is an error to see, not a signal */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++)
    signal(sig, sig == SIGPIPE ? SIG_IGN : SIG_DFL);
  if (setgroups(0, NULL) != 0 || setresgid((gid_t)u->gid, (gid_t)u->gid, (gid_t)u->gid) != 0 ||
      setresuid((uid_t)u->uid, (uid_t)u->uid, (uid_t)u->uid) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    _exit(123);
  if (setuid(0) == 0 || getuid() == 0 || geteuid() == 0 || getegid() == 0) _exit(124);
  /* the kernel clears the parent-death signal when the uid changes: set it now, then make sure the
   * parent did not go in between */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(125);
  if (fchdir(4) != 0) _exit(126);
  close(4);
  syscall(SYS_execveat, 3, "", argv, envp, AT_EMPTY_PATH);
  _exit(127);
}

int cg_worker_start(const struct cg_worker_user *u, const char *folder, const char *const *argv,
                    const char *const *envp, intptr_t in, intptr_t *rd, struct cg_child **out, char *err,
                    size_t errlen) {
  *out = NULL;
  intptr_t r = -1, w = -1;
  /* this program itself through /proc/self/exe: still the running image after a package upgrade
   * replaced (and so renamed) the file */
  char *self = cg_self_exe();
  int exe = open(self && !strcmp(self, argv[0]) ? "/proc/self/exe" : argv[0], O_RDONLY | O_CLOEXEC);
  int dir = open(folder, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cg_free(self);
  int rc = exe >= 0 && dir >= 0 ? cg_pipe_open(&r, &w, err, errlen) : CG_ERR_IO;
  if (exe < 0 || dir < 0) cg_snprintf(err, errlen, "cannot open %s: %s", exe < 0 ? argv[0] : folder, strerror(errno));
  struct cg_child *c = rc == CG_OK ? cg_calloc(1, sizeof(*c)) : NULL;
  pid_t parent = getpid(), pid = c ? fork() : -1;
  if (c && pid < 0) cg_snprintf(err, errlen, "cannot start a worker: %s", strerror(errno));
  if (pid == 0) worker_child(u, (int)in, (int)w, exe, dir, parent, (char *const *)argv, (char *const *)envp);
  if (exe >= 0) close(exe);
  if (dir >= 0) close(dir);
  cg_pipe_close(w);
  if (pid < 0) {
    cg_pipe_close(r);
    cg_free(c);
    return rc != CG_OK ? rc : c ? CG_ERR_IO : CG_ERR_NOMEM;
  }
  c->pid = pid;
  *rd = r;
  *out = c;
  return CG_OK;
}

int cg_worker_folder(const char *path, const struct cg_worker_user *u, char *err, size_t errlen) {
  if (mkdir(path, 0700) != 0 && errno != EEXIST) {
    cg_snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    return CG_ERR_IO;
  }
  /* O_PATH: root without CAP_DAC_READ_SEARCH (the systemd unit) may not open the account's folder
   * for reading, but may look at it and give it away */
  int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = CG_OK;
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
    rc = CG_ERR_ACCESS;
  } else if (st.st_uid == 0) { /* new: root's, made the account's (mode first, while root owns it) */
    int rw = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat again;
    if (rw < 0 || fstat(rw, &again) != 0 || again.st_ino != st.st_ino || fchmod(rw, 0700) != 0 ||
        fchown(rw, (uid_t)u->uid, (gid_t)u->gid) != 0)
      rc = CG_ERR_ACCESS;
    if (rw >= 0) close(rw);
  } else if ((st.st_mode & 077) != 0) { /* the account's, but open to others: not used */
    rc = CG_ERR_ACCESS;
  } else if (st.st_uid != (uid_t)u->uid || st.st_gid != (gid_t)u->gid) {
    /* made for another account (unprivileged_user changed): only root could have put it in root's
     * state folder, so it is taken over */
    if (fchownat(fd, "", (uid_t)u->uid, (gid_t)u->gid, AT_EMPTY_PATH) != 0) rc = CG_ERR_ACCESS;
  }
  if (rc != CG_OK)
    cg_snprintf(err, errlen, "%s cannot be made the folder of %s (%s)", path, u->name,
                fd < 0 || errno ? strerror(errno) : "it is a link, or open to others");
  if (fd >= 0) close(fd);
  return rc;
}

int cg_pipe_write(intptr_t wr, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t n = write((int)wr, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return CG_ERR_IO;
    p += n;
    len -= (size_t)n;
  }
  return CG_OK;
}

/* The filter of cg_worker_confine: no new process (fork, vfork, clone without CLONE_THREAD; clone3
 * answers ENOSYS, so threads fall back to clone) and no new program. */
#if defined(__x86_64__)
#define CG_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CG_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

int cg_worker_confine(char *err, size_t errlen) {
  struct rlimit none = {0, 0};
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &none) != 0) {
    cg_snprintf(err, errlen, "cannot make itself undumpable: %s", strerror(errno));
    return CG_ERR_ACCESS;
  }
#ifdef CG_AUDIT_ARCH
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CG_AUDIT_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __X32_SYSCALL_BIT
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 9, 0),
#else
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 9, 0),
#endif
#ifdef __NR_fork
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fork, 8, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_vfork, 7, 0),
#else
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 8, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 7, 0),
#endif
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 6, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 5, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 5, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 2),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
  };
  struct sock_fprog prog = {.len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    cg_snprintf(err, errlen, "cannot forbid itself new processes: %s", strerror(errno));
    return CG_ERR_ACCESS;
  }
#endif
  return CG_OK;
}

int cg_pipe_write_within(intptr_t wr, const void *buf, size_t len, int64_t ms) {
  int fd = (int)wr, fl = fcntl(fd, F_GETFL), rc = CG_OK;
  const char *p = buf;
  int64_t end = cg_time_mono_ms() + ms;
  sigset_t pipe_set, old, before, after;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old); /* a reader that went away is an error here, not a signal */
  sigpending(&before);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  while (len && rc == CG_OK) {
    ssize_t n = write(fd, p, len);
    if (n > 0) {
      p += n;
      len -= (size_t)n;
    } else if (n < 0 && errno == EAGAIN) {
      int64_t left = end - cg_time_mono_ms();
      struct pollfd pf = {.fd = fd, .events = POLLOUT};
      if (left <= 0)
        rc = CG_ERR_TIMEOUT;
      else
        poll(&pf, 1, (int)(left < 200 ? left : 200));
    } else if (!(n < 0 && errno == EINTR)) {
      rc = CG_ERR_IO;
    }
  }
  sigpending(&after);
  if (sigismember(&after, SIGPIPE) && !sigismember(&before, SIGPIPE)) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero); /* the one this write raised */
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (fl >= 0) fcntl(fd, F_SETFL, fl);
  return rc;
}

bool cg_worker_reads_connections(void) { return true; }

int cg_worker_token_facts(char *buf, size_t len) {
  (void)buf;
  (void)len;
  return CG_ERR_UNSUPPORTED; /* its uid (facts.worker.uid) is what it is here */
}
