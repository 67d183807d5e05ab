/* POSIX file system operations. */
#include "fs.h"
#include "fs_common.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

const char cg_path_sep = '/';

static int errno_status(int e) {
  return e == ENOENT ? CG_ERR_NOTFOUND : (e == EACCES || e == EPERM || e == EROFS) ? CG_ERR_ACCESS : CG_ERR_IO;
}

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int cg_file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen) {
  static unsigned counter;
  int rc = CG_ERR_IO, fd = -1;
  char *tmp = cg_asprintf("%s.tmp.%lu.%u", path, cg_process_id(), counter++);
  char *dir = cg_path_dirname(path);
  if (!tmp || !dir) {
    rc = CG_ERR_NOMEM;
    cg_snprintf(err, errlen, "out of memory writing %s", path);
    goto out;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) {
    rc = errno_status(errno);
    cg_snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (write_all(fd, data, len) || fsync(fd)) {
    rc = errno == ENOSPC ? CG_ERR_IO : errno_status(errno);
    cg_snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (close(fd)) {
    fd = -1;
    cg_snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path)) {
    rc = errno_status(errno);
    cg_snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    goto out;
  }
  /* The rename is durable only once the folder entry is on disk. */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  rc = CG_OK;
out:
  if (fd >= 0) close(fd);
  if (rc != CG_OK && tmp) unlink(tmp);
  cg_free(tmp);
  cg_free(dir);
  return rc;
}

int cg_file_read(const char *path, size_t cap, char **data, size_t *len) {
  return cg_file_read_mtime(path, cap, data, len, NULL);
}

/* One file, `name` relative to the folder open as dfd (AT_FDCWD: a path), of at most cap bytes.
 * O_NONBLOCK: a FIFO or device named as a file must not hang the agent; only regular files. */
static int read_at(int dfd, const char *name, size_t cap, char **data, size_t *len, int64_t *mtime) {
  int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return errno_status(errno);
  struct stat st;
  bool known = fstat(fd, &st) == 0;
  if (!known || !S_ISREG(st.st_mode)) {
    close(fd);
    return known && S_ISDIR(st.st_mode) ? CG_ERR_IO : CG_ERR_ACCESS;
  }
  if (mtime) *mtime = (int64_t)st.st_mtime * 1000;
  if ((uint64_t)st.st_size > cap) {
    close(fd);
    return CG_ERR_TOOBIG;
  }
  struct cg_buf b;
  char chunk[65536];
  int rc = CG_OK;
  cg_buf_init(&b, cap);
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) rc = CG_ERR_IO;
    if (n <= 0 || (rc = cg_buf_append(&b, chunk, (size_t)n)) != CG_OK) break;
    /* all of a file whose size is known: no read for the end (/proc and /sys say 0 or a page) */
    if (st.st_size > 0 && (size_t)n < sizeof(chunk) && b.len >= (size_t)st.st_size) break;
  }
  close(fd);
  if (rc == CG_OK && !(*data = cg_buf_take(&b, len))) rc = CG_ERR_NOMEM;
  cg_buf_free(&b);
  return rc;
}

int cg_file_read_mtime(const char *path, size_t cap, char **data, size_t *len, int64_t *mtime_ms) {
  return read_at(AT_FDCWD, path, cap, data, len, mtime_ms);
}

int cg_file_append(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0640);
  if (fd < 0) return errno_status(errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink > 1) { /* a FIFO, device or hard link */
    close(fd);
    return CG_ERR_ACCESS;
  }
  int rc = write_all(fd, data, len) ? CG_ERR_IO : CG_OK;
  close(fd);
  return rc;
}

int64_t cg_file_mtime_ms(const char *path) {
  struct stat st;
  if (stat(path, &st)) return -1;
  return (int64_t)st.st_mtime * 1000;
}

int64_t cg_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) ? -1 : (int64_t)st.st_size;
}

bool cg_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int cg_file_rename(const char *from, const char *to) { return rename(from, to) ? errno_status(errno) : CG_OK; }

int cg_file_remove(const char *path) { return unlink(path) ? errno_status(errno) : CG_OK; }

int cg_mkdirs(const char *path) {
  char *p = cg_strdup(path);
  if (!p) return CG_ERR_NOMEM;
  int rc = CG_OK;
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0750) && errno != EEXIST) {
        rc = errno_status(errno);
        break;
      }
      *s = c;
      if (!c) break;
    }
  }
  cg_free(p);
  return rc;
}

/* The probe is named like an interrupted atomic write ("*.tmp.*", not hidden) so that the spool's
 * start-up cleanup removes one a kill -9 left behind. */
int cg_dir_writable(const char *dir, char *err, size_t errlen) {
  char *probe = cg_asprintf("%s/cmgdiag-probe.tmp.%lu", dir, cg_process_id());
  if (!probe) return CG_ERR_NOMEM;
  int rc = CG_OK;
  int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) { /* one a kill -9 left: ours by name, a plain file or link */
    unlink(probe);
    fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  }
  bool created = fd >= 0;
  if (fd < 0 || write_all(fd, "ok", 2)) {
    rc = errno_status(errno);
    cg_snprintf(err, errlen, "%s is not writable: %s", dir, strerror(errno));
  }
  if (fd >= 0) close(fd);
  if (created) unlink(probe);
  cg_free(probe);
  return rc;
}

int cg_disk_space(const char *path, uint64_t *free_bytes, uint64_t *total_bytes) {
  struct statvfs vf;
  if (statvfs(path, &vf)) return errno_status(errno);
  *free_bytes = (uint64_t)vf.f_bavail * vf.f_frsize;
  *total_bytes = (uint64_t)vf.f_blocks * vf.f_frsize;
  return CG_OK;
}

char *cg_path_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return cg_strdup(".");
  if (slash == path) return cg_strdup("/");
  return cg_strndup(path, (size_t)(slash - path));
}

char *cg_path_join(const char *dir, const char *name) {
  size_t n = strlen(dir);
  return cg_asprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

char *cg_default_config_path(void) { return cg_strdup("/etc/cmgdiag/cmgdiag.json"); }
char *cg_default_spool_dir(void) { return cg_strdup("/var/lib/cmgdiag/spool"); }
char *cg_default_log_file(void) { return cg_strdup("/var/log/cmgdiag/cmgdiag.log"); }

/* What an entry is: a regular file (stat: links followed), a folder (lstat: never a link), or neither.
 * The type the file system gives is used when it says (a folder of a million bundles is not stat'ed
 * per entry); a link or an unknown type is looked up. */
static int entry_kind(const char *dir, const struct dirent *e) {
  if (e->d_type == DT_REG) return 1;
  if (e->d_type == DT_DIR) return 2;
  if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN) return 0;
  char *p = cg_path_join(dir, e->d_name);
  struct stat st;
  int k = 0;
  if (p && e->d_type == DT_UNKNOWN && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
    k = 2;
  else if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
    k = 1;
  cg_free(p);
  return k;
}

/* The names in `dir` of regular files and of folders, in one pass; either list may be NULL. */
static int list_split(const char *dir, char ***files, size_t *nf, char ***dirs, size_t *nd) {
  DIR *d = opendir(dir);
  size_t af = 0, ad = 0;
  int rc = CG_OK;
  char **none = NULL;
  size_t zero = 0;
  if (files) *files = NULL, *nf = 0;
  if (dirs) *dirs = NULL, *nd = 0;
  if (!d) return errno == ENOTDIR || errno == ENOENT ? CG_ERR_NOTFOUND : errno_status(errno);
  for (struct dirent *e; rc == CG_OK && (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    int k = entry_kind(dir, e);
    if (k == 1 && files) rc = cg_fs_push_name(files, nf, &af, e->d_name);
    if (k == 2 && dirs) rc = cg_fs_push_name(dirs, nd, &ad, e->d_name);
  }
  closedir(d);
  int rf = cg_fs_finish_list(files ? files : &none, files ? nf : &zero, rc);
  int rd = cg_fs_finish_list(dirs ? dirs : &none, dirs ? nd : &zero, rc);
  if (rf == CG_OK && rd != CG_OK && files) {
    cg_dir_list_free(*files, *nf);
    *files = NULL;
    *nf = 0;
  }
  return rf != CG_OK ? rf : rd;
}

static int list_entries(const char *dir, bool dirs, char ***names, size_t *count) {
  return dirs ? list_split(dir, NULL, NULL, names, count) : list_split(dir, names, count, NULL, NULL);
}

int cg_dir_read_files(const char *dir, bool (*want)(const char *name), size_t cap, cg_dir_file_fn fn, void *user,
                      char ***dirs, size_t *ndirs) {
  size_t ad = 0;
  int rc = CG_OK;
  *dirs = NULL;
  *ndirs = 0;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int lfd = dfd >= 0 ? dup(dfd) : -1;
  DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
  if (!d) {
    int e = errno;
    if (lfd >= 0) close(lfd);
    if (dfd >= 0) close(dfd);
    return e == ENOTDIR || e == ENOENT ? CG_ERR_NOTFOUND : errno_status(e);
  }
  for (struct dirent *e; rc == CG_OK && (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    int k = entry_kind(dir, e);
    if (k == 2) rc = cg_fs_push_name(dirs, ndirs, &ad, e->d_name);
    if (k != 1 || !want(e->d_name)) continue;
    char *path = cg_path_join(dir, e->d_name), *data = NULL;
    size_t len = 0;
    int64_t mtime = -1;
    int r = path ? read_at(dfd, e->d_name, cap, &data, &len, &mtime) : CG_ERR_NOMEM;
    if (path) fn(user, path, r, data, len, mtime);
    cg_free(data);
    cg_free(path);
    if (!path) rc = CG_ERR_NOMEM;
  }
  closedir(d);
  close(dfd);
  return cg_fs_finish_list(dirs, ndirs, rc);
}

int cg_dir_list_split(const char *dir, char ***files, size_t *nfiles, char ***dirs, size_t *ndirs) {
  return list_split(dir, files, nfiles, dirs, ndirs);
}

int cg_dir_list(const char *dir, char ***names, size_t *count) { return list_entries(dir, false, names, count); }

int cg_dir_list_dirs(const char *dir, char ***names, size_t *count) { return list_entries(dir, true, names, count); }

int cg_file_read_range(const char *path, int64_t offset, size_t max, char **data, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return errno_status(errno);
  char *buf = cg_malloc(max + 1);
  size_t got = 0;
  int rc = buf ? CG_OK : CG_ERR_NOMEM;
  while (rc == CG_OK && got < max) {
    ssize_t r = pread(fd, buf + got, max - got, (off_t)offset + (off_t)got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rc = CG_ERR_IO;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (rc != CG_OK) {
    cg_free(buf);
    return rc;
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return CG_OK;
}

char *cg_default_state_dir(void) { return cg_strdup("/var/lib/cmgdiag/state"); }

int cg_client_log_dirs(char ***dirs, size_t *count) {
  *dirs = NULL;
  *count = 0;
  return CG_OK;
}

int cg_dir_remove(const char *path) { return rmdir(path) == 0 ? CG_OK : errno_status(errno); }

static int secure_one(const char *path, int depth, char *err, size_t errlen) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    cg_snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    return errno_status(errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    cg_snprintf(err, errlen, "%s is %s, not a folder; remove it and run setup again", path,
                S_ISLNK(st.st_mode) ? "a symbolic link" : "not a folder");
    return CG_ERR_ACCESS;
  }
  if (geteuid() == 0 && (st.st_uid != 0 || st.st_gid != 0) && lchown(path, 0, 0) != 0) {
    cg_snprintf(err, errlen, "cannot give %s to root: %s", path, strerror(errno));
    return errno_status(errno);
  }
  if (chmod(path, depth == 0 ? 0700 : (st.st_mode & 0750)) != 0) {
    cg_snprintf(err, errlen, "cannot restrict %s: %s", path, strerror(errno));
    return errno_status(errno);
  }
  if (depth >= 4) return CG_OK;
  DIR *d = opendir(path);
  if (!d) return CG_OK;
  int rc = CG_OK;
  for (struct dirent *e; rc == CG_OK && (e = readdir(d)) != NULL;) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *p = cg_path_join(path, e->d_name);
    struct stat cs;
    if (!p)
      rc = CG_ERR_NOMEM;
    else if (lstat(p, &cs) == 0 &&
             (S_ISDIR(cs.st_mode) || (S_ISLNK(cs.st_mode) && stat(p, &cs) == 0 && S_ISDIR(cs.st_mode))))
      rc = secure_one(p, depth + 1, err, errlen); /* a link to a folder is refused there */
    cg_free(p);
  }
  closedir(d);
  return rc;
}

int cg_dir_secure(const char *path, char *err, size_t errlen) { return secure_one(path, 0, err, errlen); }

static int admin_only_one(const char *p, bool file, bool own_folder, char *why, size_t whylen) {
  struct stat st;
  if (lstat(p, &st) != 0) {
    cg_snprintf(why, whylen, "%s: %s", p, strerror(errno));
    return errno == ENOENT ? CG_ERR_NOTFOUND : CG_ERR_IO;
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    cg_snprintf(why, whylen, "%s belongs to user id %ld, not to root", p, (long)st.st_uid);
    return CG_ERR_ACCESS;
  }
  bool sticky_ok = !file && !own_folder && (st.st_mode & S_ISVTX);
  if ((st.st_mode & S_IWOTH) && !sticky_ok) {
    cg_snprintf(why, whylen, "%s is writable by every user (mode %04o)", p, (unsigned)(st.st_mode & 07777));
    return CG_ERR_ACCESS;
  }
  if ((st.st_mode & S_IWGRP) && st.st_gid != 0 && !sticky_ok) {
    cg_snprintf(why, whylen, "%s is writable by group id %ld (mode %04o)", p, (long)st.st_gid,
                (unsigned)(st.st_mode & 07777));
    return CG_ERR_ACCESS;
  }
  return CG_OK;
}

/* The path as given, component by component: a symbolic link counts by its owner (its mode means
 * nothing) and by the folder holding it, which is the previous component; a folder or the file by
 * admin_only_one. Relative paths start at the working folder. */
static int admin_only_given(const char *path, char *why, size_t whylen) {
  char *abs = NULL;
  if (path[0] == '/') {
    abs = cg_strdup(path);
  } else {
    char *cwd = getcwd(NULL, 0);
    abs = cwd ? cg_path_join(cwd, path) : NULL;
    free(cwd);
  }
  if (!abs) return CG_ERR_NOMEM;
  int rc = CG_OK;
  size_t n = strlen(abs);
  /* the last component ends at n; the folder holding it is the last prefix before it */
  size_t last_start = n;
  while (last_start > 1 && abs[last_start - 1] != '/')
    last_start--;
  for (size_t i = 1; rc == CG_OK && i <= n; i++) {
    if (i < n && abs[i] != '/') continue;
    if (i < n && abs[i - 1] == '/') continue; /* "//" */
    char c = abs[i];
    abs[i] = '\0';
    struct stat st;
    bool last = i == n;
    if (lstat(abs, &st) != 0) {
      cg_snprintf(why, whylen, "%s: %s", abs, strerror(errno));
      rc = errno == ENOENT ? CG_ERR_NOTFOUND : CG_ERR_IO;
    } else if (S_ISLNK(st.st_mode)) {
      if (st.st_uid != 0 && st.st_uid != geteuid()) {
        cg_snprintf(why, whylen, "%s is a link that belongs to user id %ld, not to root", abs, (long)st.st_uid);
        rc = CG_ERR_ACCESS;
      }
    } else {
      rc = admin_only_one(abs, last && !S_ISDIR(st.st_mode), i + 1 == last_start, why, whylen);
    }
    abs[i] = c;
  }
  cg_free(abs);
  return rc;
}

int cg_path_admin_only(const char *path, char *why, size_t whylen) {
  int rc = admin_only_given(path, why, whylen);
  if (rc != CG_OK) return rc;
  char *real = realpath(path, NULL);
  if (!real) {
    cg_snprintf(why, whylen, "%s: %s", path, strerror(errno));
    return errno == ENOENT ? CG_ERR_NOTFOUND : CG_ERR_IO;
  }
  /* ... and where it leads: the file and every folder above it. */
  rc = admin_only_one(real, true, false, why, whylen);
  for (int level = 0; rc == CG_OK; level++) {
    char *slash = strrchr(real, '/');
    if (!slash) break;
    if (slash == real)
      slash[1] = '\0';
    else
      *slash = '\0';
    rc = admin_only_one(real, false, level == 0, why, whylen);
    if (slash == real) break;
  }
  free(real);
  return rc;
}

int cg_file_open_admin_only(const char *path, intptr_t *out, char **final_path, char *why, size_t whylen) {
  *out = -1;
  if (final_path) *final_path = NULL;
  if (path[0] != '/') {
    cg_snprintf(why, whylen, "%s is not a full path (it must start with /)", path);
    return CG_ERR_ACCESS;
  }
  /* Opened first, checked after: whatever the path led to at the open is what is run, and a
   * swap after the checks needs write access the checks just proved nobody else has. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    cg_snprintf(why, whylen, "%s: %s", path, strerror(errno));
    return errno_status(errno);
  }
  struct stat fst, rst;
  int rc = CG_OK;
  char *real = NULL;
  if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode)) {
    cg_snprintf(why, whylen, "%s is not a regular file", path);
    rc = CG_ERR_ACCESS;
    goto out;
  }
  if ((rc = cg_path_admin_only(path, why, whylen)) != CG_OK) goto out;
  real = realpath(path, NULL);
  if (!real || stat(real, &rst) != 0 || rst.st_dev != fst.st_dev || rst.st_ino != fst.st_ino) {
    cg_snprintf(why, whylen, "%s changed while it was being checked", path);
    rc = CG_ERR_ACCESS;
    goto out;
  }
  if (final_path && !(*final_path = cg_strdup(real))) rc = CG_ERR_NOMEM;
out:
  free(real);
  if (rc == CG_OK)
    *out = fd;
  else
    close(fd);
  return rc;
}

void cg_file_close_handle(intptr_t h) {
  if (h >= 0) close((int)h);
}

static bool trusted_owner(uid_t uid) { return uid == 0 || uid == geteuid(); }

int cg_dir_ensure_private(const char *path, char *why, size_t whylen) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    int rc = cg_mkdirs(path);
    if (rc != CG_OK) {
      cg_snprintf(why, whylen, "cannot create %s: %s", path, cg_strerror(rc));
      return rc;
    }
    if (lstat(path, &st) != 0) {
      cg_snprintf(why, whylen, "%s: %s", path, strerror(errno));
      return CG_ERR_IO;
    }
  }
  if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
    cg_snprintf(why, whylen, "%s is %s, not a folder; the agent does not write through it", path,
                S_ISLNK(st.st_mode) ? "a symbolic link" : "a file");
    return CG_ERR_ACCESS;
  }
  if (!trusted_owner(st.st_uid)) {
    cg_snprintf(why, whylen, "%s belongs to user id %ld, not to root; the agent does not use it", path,
                (long)st.st_uid);
    return CG_ERR_ACCESS;
  }
  if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != 0)) {
    cg_snprintf(why, whylen, "%s is writable by other users (mode %04o); the agent does not use it", path,
                (unsigned)(st.st_mode & 07777));
    return CG_ERR_ACCESS;
  }
  return CG_OK;
}

bool cg_path_is_plain_file(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool cg_path_is_plain_dir(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

enum cg_path_kind cg_path_kind(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return CG_PATH_MISSING;
  return S_ISREG(st.st_mode) ? CG_PATH_FILE : S_ISDIR(st.st_mode) ? CG_PATH_DIR : CG_PATH_OTHER;
}
