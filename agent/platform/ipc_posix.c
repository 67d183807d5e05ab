/* The service's self-test channel on POSIX (see ipc.h): a Unix socket, mode 0666, in a folder that
 * only its owner may change; the peer's credentials from SO_PEERCRED. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs.h"
#include "ipc.h"
#include "sys.h"

#define DEFAULT_ENDPOINT "/run/cmgdiag/selftest.sock"

struct cg_ipc_server {
  int fd;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  dev_t dev; /* the socket file it created: removed at close only when it is still that file */
  ino_t ino;
};

struct cg_ipc_conn {
  int fd;
  struct ucred cred;
};

char *cg_ipc_endpoint(void) {
  char *e = cg_getenv("CMGDIAG_SELFTEST_ENDPOINT");
  if (e && *e) return e;
  cg_free(e);
  return cg_strdup(DEFAULT_ENDPOINT);
}

static int address(const char *path, struct sockaddr_un *a, char *err, size_t errlen) {
  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  if (path[0] != '/' || strlen(path) >= sizeof(a->sun_path)) {
    cg_snprintf(err, errlen, "the self-test endpoint %s is not an absolute path of at most %zu bytes", path,
                sizeof(a->sun_path) - 1);
    return CG_ERR_USAGE;
  }
  memcpy(a->sun_path, path, strlen(path) + 1);
  return CG_OK;
}

/* The socket's folder: created when missing (0755); it must be a real folder of this user that no
 * one else may change, or anyone could replace the socket. */
static int folder(const char *path, char *err, size_t errlen) {
  char *dir = cg_path_dirname(path);
  if (!dir) return CG_ERR_NOMEM;
  int rc = CG_OK;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    cg_snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    rc = CG_ERR_IO;
  }
  struct stat st;
  if (rc == CG_OK && lstat(dir, &st) != 0) {
    cg_snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
    rc = CG_ERR_IO;
  } else if (rc == CG_OK && (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))) {
    cg_snprintf(err, errlen,
                "%s is not a folder of this account that only it may change; the self-test channel "
                "is not opened there",
                dir);
    rc = CG_ERR_ACCESS;
  }
  cg_free(dir);
  return rc;
}

/* A socket file left by an earlier run of this account is removed; anything else is refused. */
static int stale(const struct sockaddr_un *a, char *err, size_t errlen) {
  struct stat st;
  if (lstat(a->sun_path, &st) != 0) return errno == ENOENT ? CG_OK : CG_ERR_IO;
  if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
    cg_snprintf(err, errlen, "%s exists and is not a socket this account created; it is left alone", a->sun_path);
    return CG_ERR_ACCESS;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool live = fd >= 0 && connect(fd, (const struct sockaddr *)a, sizeof(*a)) == 0;
  if (fd >= 0) close(fd);
  if (live) {
    cg_snprintf(err, errlen, "another cmgdiag agent already serves self-tests on %s", a->sun_path);
    return CG_ERR_BUSY;
  }
  return unlink(a->sun_path) == 0 || errno == ENOENT ? CG_OK : CG_ERR_IO;
}

int cg_ipc_listen(const char *endpoint, struct cg_ipc_server **out, char *err, size_t errlen) {
  struct sockaddr_un a;
  int rc = address(endpoint, &a, err, errlen);
  if (rc == CG_OK) rc = folder(endpoint, err, errlen);
  if (rc == CG_OK) rc = stale(&a, err, errlen);
  if (rc != CG_OK) return rc;
  struct cg_ipc_server *s = cg_calloc(1, sizeof(*s));
  if (!s) return CG_ERR_NOMEM;
  s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct stat st;
  if (s->fd < 0 || bind(s->fd, (const struct sockaddr *)&a, sizeof(a)) != 0 || lstat(a.sun_path, &st) != 0 ||
      chmod(a.sun_path, 0666) != 0 || listen(s->fd, 16) != 0) {
    cg_snprintf(err, errlen, "cannot open the self-test channel %s: %s", endpoint, strerror(errno));
    if (s->fd >= 0) close(s->fd);
    cg_free(s);
    return CG_ERR_IO;
  }
  cg_strlcpy(s->path, a.sun_path, sizeof(s->path));
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  *out = s;
  return CG_OK;
}

static struct cg_ipc_conn *conn_of(int fd) {
  struct cg_ipc_conn *c = cg_calloc(1, sizeof(*c));
  if (!c) {
    close(fd);
    return NULL;
  }
  c->fd = fd;
  socklen_t l = sizeof(c->cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &l) != 0) c->cred.uid = (uid_t)-1;
  return c;
}

int cg_ipc_accept(struct cg_ipc_server *s, int64_t ms, struct cg_ipc_conn **out, char *err, size_t errlen) {
  struct pollfd p = {.fd = s->fd, .events = POLLIN};
  int n = poll(&p, 1, (int)(ms > 0 ? ms : 0));
  if (n == 0 || (n < 0 && errno == EINTR)) return CG_ERR_TIMEOUT;
  int fd = n > 0 ? accept4(s->fd, NULL, NULL, SOCK_CLOEXEC) : -1;
  if (fd < 0) {
    cg_snprintf(err, errlen, "self-test channel: %s", strerror(errno));
    return errno == EAGAIN || errno == ECONNABORTED || errno == EINTR ? CG_ERR_TIMEOUT : CG_ERR_IO;
  }
  *out = conn_of(fd);
  return *out ? CG_OK : CG_ERR_NOMEM;
}

void cg_ipc_hangup(struct cg_ipc_server *s, struct cg_ipc_conn *c) {
  (void)s;
  cg_ipc_close(c);
}

void cg_ipc_server_close(struct cg_ipc_server *s) {
  if (!s) return;
  struct stat st;
  if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino) unlink(s->path);
  close(s->fd);
  cg_free(s);
}

int cg_ipc_connect(const char *endpoint, struct cg_ipc_conn **out, char *err, size_t errlen) {
  struct sockaddr_un a;
  int rc = address(endpoint, &a, err, errlen);
  if (rc != CG_OK) return rc;
  /* non-blocking: a full backlog (EAGAIN) is tried again until CG_IPC_CONNECT_MS, never waited on */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int64_t end = cg_time_mono_ms() + CG_IPC_CONNECT_MS;
  int crc = -1;
  while (fd >= 0 && (crc = connect(fd, (const struct sockaddr *)&a, sizeof(a))) != 0 &&
         (errno == EAGAIN || errno == EINTR) && cg_time_mono_ms() < end)
    cg_sleep_ms(100);
  if (fd >= 0 && crc != 0 && errno == EAGAIN) errno = ETIMEDOUT;
  if (fd >= 0 && crc == 0) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) crc = -1;
  }
  if (fd < 0 || crc != 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    cg_snprintf(err, errlen, "%s: %s", endpoint, strerror(e));
    return e == ENOENT || e == ECONNREFUSED ? CG_ERR_NOTFOUND
           : e == EACCES || e == EPERM      ? CG_ERR_ACCESS
           : e == ETIMEDOUT                 ? CG_ERR_BUSY
                                            : CG_ERR_IO;
  }
  struct cg_ipc_conn *c = conn_of(fd);
  if (!c) return CG_ERR_NOMEM;
  if (c->cred.uid != 0 && c->cred.uid != geteuid()) {
    cg_snprintf(err, errlen, "%s is served by user %lu, not by the service (root); it was not used", endpoint,
                (unsigned long)c->cred.uid);
    cg_ipc_close(c);
    return CG_ERR_ACCESS;
  }
  *out = c;
  return CG_OK;
}

long cg_ipc_read(struct cg_ipc_conn *c, void *buf, size_t len, int64_t ms) {
  struct pollfd p = {.fd = c->fd, .events = POLLIN};
  int n = poll(&p, 1, (int)(ms > 0 ? ms : 0));
  if (n == 0 || (n < 0 && errno == EINTR)) return -1;
  if (n < 0) return -2;
  ssize_t r = recv(c->fd, buf, len, 0);
  return r >= 0 ? (long)r : errno == EAGAIN || errno == EINTR ? -1 : -2;
}

int cg_ipc_write(struct cg_ipc_conn *c, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return CG_ERR_IO;
    p += w;
    len -= (size_t)w;
  }
  return CG_OK;
}

int cg_ipc_write_within(struct cg_ipc_conn *c, const void *buf, size_t len, int64_t stall_ms) {
  const char *p = buf;
  int64_t end = cg_time_mono_ms() + stall_ms;
  while (len) {
    int64_t left = end - cg_time_mono_ms();
    if (left <= 0) return CG_ERR_TIMEOUT;
    struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
    int n = poll(&pf, 1, (int)left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return CG_ERR_IO;
    if (n == 0) return CG_ERR_TIMEOUT;
    ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (w <= 0) return CG_ERR_IO;
    p += w;
    len -= (size_t)w;
    end = cg_time_mono_ms() + stall_ms; /* progress: the reader reads */
  }
  return CG_OK;
}

void cg_ipc_peer(const struct cg_ipc_conn *c, char *out, size_t len) {
  cg_snprintf(out, len, "user %lu, process %lu", (unsigned long)c->cred.uid, (unsigned long)c->cred.pid);
}

void cg_ipc_peer_user(const struct cg_ipc_conn *c, char *out, size_t len) {
  if (c->cred.uid == (uid_t)-1)
    cg_snprintf(out, len, "%s", "");
  else
    cg_snprintf(out, len, "uid %lu", (unsigned long)c->cred.uid);
}

intptr_t cg_ipc_native(const struct cg_ipc_conn *c) { return c->fd; }

void cg_ipc_close(struct cg_ipc_conn *c) {
  if (!c) return;
  close(c->fd);
  cg_free(c);
}
