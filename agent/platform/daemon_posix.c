/* Daemon support on POSIX: pthreads, flock(2), signals through a self-pipe, and the network
 * watched by comparing the interface addresses (getifaddrs) while waiting. */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys.h"

struct cg_mutex {
  pthread_mutex_t m;
  pthread_cond_t c;
};

struct cg_mutex *cg_mutex_new(void) {
  struct cg_mutex *m = cg_calloc(1, sizeof(*m));
  if (!m) return NULL;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_mutex_init(&m->m, NULL);
  pthread_cond_init(&m->c, &ca);
  pthread_condattr_destroy(&ca);
  return m;
}

void cg_mutex_free(struct cg_mutex *m) {
  if (!m) return;
  pthread_cond_destroy(&m->c);
  pthread_mutex_destroy(&m->m);
  cg_free(m);
}

void cg_mutex_lock(struct cg_mutex *m) { pthread_mutex_lock(&m->m); }
void cg_mutex_unlock(struct cg_mutex *m) { pthread_mutex_unlock(&m->m); }
void cg_mutex_broadcast(struct cg_mutex *m) { pthread_cond_broadcast(&m->c); }

void cg_mutex_wait(struct cg_mutex *m, int64_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(&m->c, &m->m, &ts);
}

struct trampoline {
  void (*fn)(void *);
  void *arg;
};

static void *thread_main(void *p) {
  struct trampoline t = *(struct trampoline *)p;
  cg_free(p);
  t.fn(t.arg);
  return NULL;
}

int cg_thread_start(void (*fn)(void *), void *arg) {
  struct trampoline *t = cg_malloc(sizeof(*t));
  if (!t) return CG_ERR_NOMEM;
  t->fn = fn;
  t->arg = arg;
  pthread_t th;
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  /* the signal handlers' work is done by the main thread: block them here */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&th, &a, thread_main, t);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
  if (rc) {
    cg_free(t);
    return CG_ERR_INTERNAL;
  }
  return CG_OK;
}

int cg_instance_lock(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
  if (fd < 0) {
    cg_snprintf(err, errlen, "cannot open the lock file %s: %s", path, strerror(errno));
    return CG_ERR_IO;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
    cg_snprintf(err, errlen, "the lock file %s is not a plain file of its own; remove it", path);
    close(fd);
    return CG_ERR_IO;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = "";
    ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    cg_snprintf(err, errlen, "another cmgdiag agent is running (process %s holds %s)", cg_str_trim(pid), path);
    close(fd);
    return CG_ERR_BUSY;
  }
  char buf[32];
  int l = snprintf(buf, sizeof(buf), "%lu\n", cg_process_id());
  if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)l, 0) < 0) { /* the pid is informational */
  }
  return CG_OK; /* fd stays open: the lock lives as long as the process */
}

static int pipefd[2] = {-1, -1};
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) {
  int saved = errno;
  char c = sig == SIGHUP ? 'R' : 'S';
  if (c == 'S') stop_flag = 1;
  if (pipefd[1] >= 0 && write(pipefd[1], &c, 1) < 0) { /* pipe full: an event is pending anyway */
  }
  errno = saved;
}

static uint64_t net_fingerprint(void) {
  struct ifaddrs *ifa = NULL;
  uint64_t h = 0xcbf29ce484222325ull;
  if (getifaddrs(&ifa) != 0) return 0;
  for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
    const unsigned char *p = (const unsigned char *)i->ifa_addr;
    size_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    uint64_t one = 0xcbf29ce484222325ull; /* order-independent: sum of per-address hashes */
    for (size_t k = 0; k < len; k++)
      one = (one ^ p[k]) * 0x100000001b3ull;
    for (const char *n = i->ifa_name; n && *n; n++)
      one = (one ^ (unsigned char)*n) * 0x100000001b3ull;
    h += one;
  }
  freeifaddrs(ifa);
  return h;
}

static uint64_t last_net;

int cg_events_init(void) {
  if (pipefd[0] < 0) {
    if (pipe(pipefd) != 0) return CG_ERR_IO;
    for (int i = 0; i < 2; i++) {
      fcntl(pipefd[i], F_SETFL, fcntl(pipefd[i], F_GETFL) | O_NONBLOCK);
      fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  last_net = net_fingerprint();
  return CG_OK;
}

void cg_events_raise(enum cg_wake w) { on_signal(w == CG_WAKE_RELOAD ? SIGHUP : SIGTERM); }

bool cg_stop_requested(void) { return stop_flag != 0; }

enum cg_wake cg_events_wait(int64_t ms) {
  int64_t deadline = cg_time_mono_ms() + (ms > 0 ? ms : 0);
  for (;;) {
    if (stop_flag) return CG_WAKE_STOP;
    int64_t left = deadline - cg_time_mono_ms();
    if (left <= 0) return CG_WAKE_TIMEOUT;
    struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
    /* wake every 5 s to look at the network (no portable change notification) */
    int rc = poll(&p, 1, (int)(left < 5000 ? left : 5000));
    if (rc > 0) {
      char buf[16];
      ssize_t n = read(pipefd[0], buf, sizeof(buf));
      bool reload = false;
      for (ssize_t i = 0; i < n; i++)
        reload |= buf[i] == 'R';
      if (stop_flag) return CG_WAKE_STOP;
      if (reload) return CG_WAKE_RELOAD;
    }
    uint64_t now = net_fingerprint();
    if (now != last_net) {
      last_net = now;
      return CG_WAKE_NETWORK;
    }
  }
}
