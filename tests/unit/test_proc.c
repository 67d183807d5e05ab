/* Process spawn: arguments survive quoting, exit codes and both streams are captured, the timeout
 * kills the child and its children, the output cap holds, a missing program is a clear error. */
#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif

#include "platform/child.h"
#include "platform/fs.h"
#include "platform/proc.h"
#include "platform/sys.h"
#include "test.h"

static char *helper; /* child_helper next to this test binary */
static char *tmpdir;

static int run(const char *const *argv, int64_t timeout, size_t cap, struct cg_proc_result *r, char *err) {
  struct cg_proc_opts o = {.timeout_ms = timeout, .max_output = cap};
  return cg_proc_run(argv, &o, r, err, 512);
}

/* The Windows C runtime writes text-mode stdout with CRLF: compare lines, not line endings. */
static void strip_cr(char *s) {
  char *w = s;
  for (char *r = s; s && *r; r++)
    if (*r != '\r') *w++ = *r;
  if (s) *w = '\0';
}

TEST(arguments_survive_quoting) {
  const char *argv[] = {
      helper, "args",      "plain",   "with space", "with \"quotes\"", "trailing\\", "back\\\\slash\"q",
      "",     "tab\there", "ünïcödé", NULL};
  struct cg_proc_result r;
  char err[512] = "";
  CHECK(run(argv, 10000, 0, &r, err) == CG_OK);
  CHECK(r.exited && r.exit_code == 0);
  strip_cr(r.out);
  CHECK_STR(r.out ? r.out : "",
            "<plain>\n<with space>\n<with \"quotes\">\n<trailing\\>\n<back\\\\slash\"q>\n<>\n<tab\there>\n<ünïcödé>\n");
  cg_proc_result_free(&r);
}

TEST(exit_code_and_stderr) {
  const char *a1[] = {helper, "exit", "42", NULL};
  const char *a2[] = {helper, "stderr", "problem text", NULL};
  struct cg_proc_result r;
  char err[512];
  CHECK(run(a1, 10000, 0, &r, err) == CG_OK);
  CHECK(r.exited && r.exit_code == 42 && !r.timed_out);
  cg_proc_result_free(&r);
  CHECK(run(a2, 10000, 0, &r, err) == CG_OK);
  CHECK_STR(r.err, "problem text");
  CHECK(r.out_len == 0);
  cg_proc_result_free(&r);
}

TEST(timeout_kills_child) {
  const char *argv[] = {helper, "sleep", "30000", NULL};
  struct cg_proc_result r;
  char err[512];
  CHECK(run(argv, 700, 0, &r, err) == CG_OK);
  CHECK(r.timed_out);
  CHECK(!r.exited);
  CHECK(r.duration_ms < 10000); /* not the 30 s the child wanted */
  CHECK(!strstr(r.out, "woke"));
  cg_proc_result_free(&r);
}

TEST(timeout_kills_grandchild) {
  char *marker = cg_path_join(tmpdir, "grandchild-marker");
  cg_file_remove(marker);
  const char *argv[] = {helper, "grandchild", marker, "2500", NULL};
  struct cg_proc_result r;
  char err[512];
  CHECK(run(argv, 700, 0, &r, err) == CG_OK);
  CHECK(r.timed_out);
  cg_proc_result_free(&r);
  cg_sleep_ms(4000); /* past the grandchild's 2.5 s: had it survived, the marker would exist */
  CHECK(!cg_file_exists(marker));
  /* Control: without a timeout the same grandchild does write the marker. */
  CHECK(run(argv, 20000, 0, &r, err) == CG_OK);
  CHECK(r.exited && r.exit_code == 0);
  CHECK(cg_file_exists(marker));
  cg_proc_result_free(&r);
  cg_file_remove(marker);
  cg_free(marker);
}

TEST(output_cap_enforced) {
  const char *argv[] = {helper, "flood", "300000", NULL};
  struct cg_proc_result r;
  char err[512];
  CHECK(run(argv, 20000, 1000, &r, err) == CG_OK);
  CHECK(r.out_truncated);
  CHECK(r.out_len == 1000);
  CHECK(r.exited && r.exit_code == 0); /* drained, so the child was not blocked on a full pipe */
  cg_proc_result_free(&r);
  CHECK(run(argv, 20000, 400000, &r, err) == CG_OK);
  CHECK(!r.out_truncated && r.out_len == 300000);
  cg_proc_result_free(&r);
}

TEST(missing_program_is_clear) {
  char *missing = cg_path_join(tmpdir, "no-such-program.exe");
  const char *argv[] = {missing, "x", NULL};
  struct cg_proc_result r;
  char err[512] = "";
  CHECK(run(argv, 5000, 0, &r, err) == CG_ERR_NOTFOUND);
  CHECK_CONTAINS(err, "no-such-program.exe");
  CHECK_CONTAINS(err, "cannot run");
  const char *empty[] = {NULL};
  CHECK(run(empty, 5000, 0, &r, err) == CG_ERR_USAGE);
  cg_free(missing);
}

/* A worker serving a user's self-test: the user's stream gets its standard output, never its
 * standard error (which may hold what only the log may, and would break a --json answer). */
TEST(served_output_is_stdout_only) {
  char buf[4096] = "";
  size_t len = 0;
  intptr_t out;
#ifdef _WIN32
  HANDLE rd = NULL, wr = NULL;
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, FALSE};
  CHECK(CreatePipe(&rd, &wr, &sa, 65536));
  out = (intptr_t)wr;
#else
  int fds[2] = {-1, -1};
  CHECK(pipe(fds) == 0);
  out = fds[1];
#endif
  const char *argv[] = {helper, "both", "TO-STDOUT", "TO-STDERR", NULL};
  struct cg_child *c = NULL;
  char err[512] = "";
  CHECK(cg_child_start_output(argv, out, &c, err, sizeof(err)) == CG_OK);
  struct cg_child_status st;
  memset(&st, 0, sizeof(st));
  for (int i = 0; c && i < 1000 && !cg_child_ended(c, &st); i++)
    cg_sleep_ms(10);
#ifdef _WIN32
  CloseHandle(wr);
  DWORD got = 0;
  while (len < sizeof(buf) - 1 && ReadFile(rd, buf + len, (DWORD)(sizeof(buf) - 1 - len), &got, NULL) && got)
    len += got;
  CloseHandle(rd);
#else
  close(fds[1]);
  ssize_t got;
  while (len < sizeof(buf) - 1 && (got = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
    len += (size_t)got;
  close(fds[0]);
#endif
  buf[len] = '\0';
  CHECK(st.exited && st.exit_code == 0);
  CHECK_CONTAINS(buf, "TO-STDOUT");
  CHECK(strstr(buf, "TO-STDERR") == NULL);
  if (c) cg_child_free(c);
}

int main(int argc, char **argv) {
  cg_platform_args(&argc, &argv);
  char *self = cg_executable_path();
  char *dir = self ? cg_path_dirname(self) : NULL;
  helper = dir ? cg_asprintf("%s%cchild_helper%s", dir, cg_path_sep, CG_EXE_SUFFIX) : NULL;
  tmpdir = argc > 1 ? argv[1] : dir;
  cg_mkdirs(tmpdir);
  if (!helper || !cg_file_exists(helper)) {
    fprintf(stderr, "child_helper not found next to %s\n", self ? self : "the test");
    return 1;
  }
  RUN(arguments_survive_quoting);
  RUN(exit_code_and_stderr);
  RUN(timeout_kills_child);
  RUN(timeout_kills_grandchild);
  RUN(output_cap_enforced);
  RUN(missing_program_is_clear);
  RUN(served_output_is_stdout_only);
  cg_free(helper);
  cg_free(dir);
  cg_free(self);
  return test_finish("proc");
}
