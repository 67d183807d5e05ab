/* What the agent's file operations do with links a local user planted (POSIX; the Windows side,
 * reparse points, is in tests/windows/security.sh): the writability probe, appends, and the
 * verified open of a program that is started by descriptor. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/fs.h"
#include "platform/sys.h"
#include "test.h"

static char *victim(const char *dir) {
  char *v = cg_path_join(dir, "victim"), err[256];
  cg_file_write_atomic(v, "precious", 8, err, sizeof(err));
  return v;
}

static bool intact(const char *v) {
  char *d = NULL;
  size_t n = 0;
  bool ok = cg_file_read(v, 100, &d, &n) == CG_OK && n == 8 && !memcmp(d, "precious", 8);
  cg_free(d);
  return ok;
}

/* The probe's name is predictable (pid): a link planted there is replaced, never written through. */
static void probe_does_not_follow_a_link(const char *dir) {
  char *v = victim(dir), err[256];
  char *probe = cg_asprintf("%s/cmgdiag-probe.tmp.%lu", dir, cg_process_id());
  unlink(probe);
  CHECK(symlink(v, probe) == 0);
  CHECK(cg_dir_writable(dir, err, sizeof(err)) == CG_OK);
  CHECK(intact(v));
  struct stat st;
  CHECK(lstat(probe, &st) != 0); /* removed afterwards, link and all */
  cg_free(probe);
  cg_free(v);
}

static void append_refuses_links_and_hard_links(const char *dir) {
  char *v = victim(dir), *l = cg_path_join(dir, "log-link"), *h = cg_path_join(dir, "log-hard");
  unlink(l);
  unlink(h);
  CHECK(symlink(v, l) == 0);
  CHECK(cg_file_append(l, "x", 1) != CG_OK);
  CHECK(link(v, h) == 0);
  CHECK(cg_file_append(h, "x", 1) == CG_ERR_ACCESS);
  CHECK(intact(v));
  cg_free(v);
  cg_free(l);
  cg_free(h);
}

static void verified_open(const char *dir) {
  char why[512] = "";
  intptr_t fd = -1;
  char *final = NULL;
  CHECK(cg_file_open_admin_only("bin/sh", &fd, NULL, why, sizeof(why)) == CG_ERR_ACCESS);
  CHECK_CONTAINS(why, "not a full path");
  CHECK(cg_file_open_admin_only("/bin/sh", &fd, &final, why, sizeof(why)) == CG_OK);
  CHECK(fd >= 0 && final && final[0] == '/');
  cg_file_close_handle(fd);
  cg_free(final);
  CHECK(cg_file_open_admin_only(dir, &fd, NULL, why, sizeof(why)) == CG_ERR_ACCESS); /* a folder */
  char *fifo = cg_path_join(dir, "fifo");
  unlink(fifo);
  CHECK(mkfifo(fifo, 0700) == 0);
  CHECK(cg_file_open_admin_only(fifo, &fd, NULL, why, sizeof(why)) == CG_ERR_ACCESS); /* does not hang */
  char *d = NULL;
  size_t n = 0;
  CHECK(cg_file_read(fifo, 100, &d, &n) == CG_ERR_ACCESS); /* neither does a read */
  cg_free(fifo);
  char *w = cg_path_join(dir, "writable.sh"), err[256];
  cg_file_write_atomic(w, "#!/bin/sh\n", 10, err, sizeof(err));
  chmod(w, 0777);
  CHECK(cg_file_open_admin_only(w, &fd, NULL, why, sizeof(why)) == CG_ERR_ACCESS);
  CHECK_CONTAINS(why, "writable by every user");
  cg_free(w);
}

static void private_folders(const char *dir) {
  char why[512] = "";
  char *p = cg_path_join(dir, "private"), *l = cg_path_join(dir, "private-link");
  rmdir(p);
  unlink(l);
  CHECK(cg_dir_ensure_private(p, why, sizeof(why)) == CG_OK); /* created */
  CHECK(cg_dir_ensure_private(p, why, sizeof(why)) == CG_OK); /* exists, ours */
  CHECK(symlink(p, l) == 0);
  CHECK(cg_dir_ensure_private(l, why, sizeof(why)) == CG_ERR_ACCESS);
  CHECK_CONTAINS(why, "symbolic link");
  chmod(p, 0777);
  CHECK(cg_dir_ensure_private(p, why, sizeof(why)) == CG_ERR_ACCESS);
  CHECK_CONTAINS(why, "writable by other users");
  cg_free(p);
  cg_free(l);
}

int main(int argc, char **argv) {
  cg_mkdirs(argc > 1 ? argv[1] : ".");
  char *dir = realpath(argc > 1 ? argv[1] : ".", NULL); /* the verified open wants a full path */
  if (!dir) return 1;
  int before = t_failed;
  probe_does_not_follow_a_link(dir);
  printf("%s probe_does_not_follow_a_link\n", t_failed == before ? "ok  " : "FAIL");
  before = t_failed;
  append_refuses_links_and_hard_links(dir);
  printf("%s append_refuses_links_and_hard_links\n", t_failed == before ? "ok  " : "FAIL");
  before = t_failed;
  verified_open(dir);
  printf("%s verified_open\n", t_failed == before ? "ok  " : "FAIL");
  before = t_failed;
  private_folders(dir);
  printf("%s private_folders\n", t_failed == before ? "ok  " : "FAIL");
  free(dir);
  return test_finish("fs_links");
}
