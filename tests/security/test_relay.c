/* Attack 12 (round 3), the part about a reader: a standard user asks the service for a self-test and
 * never reads the answer. The worker used to write into the channel itself, so it stopped as soon as
 * the channel's buffer was full (64 KiB on Windows) and held the one self-test slot until
 * cycle_timeout_s. Now the service reads the worker's output and relays it: the worker finishes, the
 * silent reader is given up on after relay_stall_ms, and the next user is served at once.
 *
 * The worker is child_helper in its "-c N" role (N bytes of report, far more than any buffer), the
 * service is the real cg_served on the real channel (a Unix socket; a named pipe under wine). */
#ifdef _WIN32
#include <windows.h>
#else
#include <unistd.h>
#endif
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "served.h"
#include "platform/child.h"
#include "platform/fs.h"
#include "platform/ipc.h"
#include "platform/sys.h"
#include "../unit/test.h"

static char *helper, *tmpdir;

static bool log_says(const char *path, const char *what) {
  char *data = NULL;
  size_t len = 0;
  bool yes = cg_file_read(path, 1 << 20, &data, &len) == CG_OK && strstr(data, what);
  cg_free(data);
  return yes;
}

/* The service on a channel of this test's own, logging to NAME.log in the scratch folder; its
 * worker writes N bytes of report (the config path child_helper reads as N). */
struct rig {
  char endpoint[512];
  char *logpath;
  struct cg_log log;
  struct cg_served *sv;
};

static void rig_start(struct rig *r, const char *name, int64_t timeout_s) {
  memset(r, 0, sizeof(*r));
#ifdef _WIN32
  cg_snprintf(r->endpoint, sizeof(r->endpoint), "\\\\.\\pipe\\cmgdiag-test-%s-%lu", name,
              (unsigned long)GetCurrentProcessId());
  _putenv_s("CMGDIAG_SELFTEST_ENDPOINT", r->endpoint);
#else
  cg_snprintf(r->endpoint, sizeof(r->endpoint), "%s/%s-%ld.sock", tmpdir, name, (long)getpid());
  setenv("CMGDIAG_SELFTEST_ENDPOINT", r->endpoint, 1);
#endif
  char file[64];
  cg_snprintf(file, sizeof(file), "%s.log", name);
  r->logpath = cg_path_join(tmpdir, file);
  cg_file_remove(r->logpath);
  cg_log_open(&r->log, r->logpath, 0, CG_LOG_DEBUG);
  cg_log_threaded(&r->log);
  /* 8 MB of report: more than a socket's or a pipe's buffer many times over */
  struct cg_served_settings s = {
      .enabled = true, .timeout_s = timeout_s, .config_path = "8000000", .relay_stall_ms = 1000};
  r->sv = cg_served_start(helper, &r->log, &s);
  CHECK(r->sv != NULL);
}

static void rig_stop(struct rig *r) {
  if (r->sv) cg_served_stop(r->sv);
  cg_log_close(&r->log);
  cg_free(r->logpath);
}

TEST(a_client_that_never_reads_holds_nobody_up) {
  struct rig rg;
  rig_start(&rg, "relay", 120);
  struct cg_served *sv = rg.sv;
  const char *endpoint = rg.endpoint, *logpath = rg.logpath;
  char err[512] = "";
  struct cg_ipc_conn *silent = NULL, *next = NULL;
  int64_t t0 = cg_time_mono_ms();
  CHECK(sv && cg_ipc_connect(endpoint, &silent, err, sizeof(err)) == CG_OK);
  if (silent) CHECK(cg_ipc_write(silent, "{}\n", 3) == CG_OK); /* and then never a read */
  /* the service gives the silent reader up and the worker ends, long before the self-test deadline */
  bool given_up = false;
  while (!given_up && cg_time_mono_ms() - t0 < 30000) {
    cg_sleep_ms(100);
    given_up = log_says(logpath, "stopped reading") && log_says(logpath, "its report was not read");
  }
  CHECK(given_up);
  /* the next user is served, and gets the whole report */
  CHECK(cg_ipc_connect(endpoint, &next, err, sizeof(err)) == CG_OK);
  size_t got = 0;
  bool exit_seen = false;
  if (next && cg_ipc_write(next, "{}\n", 3) == CG_OK) {
    static char buf[65536];
    char tail[32] = ""; /* the last bytes seen: the final record may come split across reads */
    int64_t end = cg_time_mono_ms() + 60000;
    while (!exit_seen && cg_time_mono_ms() < end) {
      long n = cg_ipc_read(next, buf, sizeof(buf), 1000);
      if (n == 0 || n == -2) break;
      if (n < 0) continue;
      for (long i = 0; i < n; i++) {
        got += buf[i] == 'x';
        size_t tl = strlen(tail);
        if (tl == sizeof(tail) - 1) memmove(tail, tail + 1, tl--);
        tail[tl] = buf[i] ? buf[i] : ' ';
        tail[tl + 1] = '\0';
      }
      exit_seen = strstr(tail, "\x1e"
                               "exit 0") != NULL;
    }
  }
  CHECK(exit_seen);
  CHECK(got == 8000000 + 1); /* the whole report, and the x of the "exit" record */
  CHECK(!log_says(logpath, "for someone else"));
  if (silent) cg_ipc_close(silent);
  if (next) cg_ipc_close(next);
  rig_stop(&rg);
}

/* A reader that takes a little now and then, just inside every stall limit, is still held to the
 * self-test's deadline: the worker is stopped at it and the slot is free for the next user. */
TEST(a_slow_reader_is_held_to_the_deadline) {
  struct rig rg;
  rig_start(&rg, "slow", 3);
  struct cg_served *sv = rg.sv;
  const char *endpoint = rg.endpoint, *logpath = rg.logpath;
  char err[512] = "";
  struct cg_ipc_conn *slow = NULL, *next = NULL;
  CHECK(sv && cg_ipc_connect(endpoint, &slow, err, sizeof(err)) == CG_OK);
  if (slow) CHECK(cg_ipc_write(slow, "{}\n", 3) == CG_OK);
  int64_t t0 = cg_time_mono_ms();
  static char buf[4096];
  bool let_go = false;
  while (slow && !let_go && cg_time_mono_ms() - t0 < 20000) {
    /* about 128 KiB now and then: always well inside the stall limit, far too slow for 8 MB */
    for (size_t got = 0; got < 128 * 1024;) {
      long n = cg_ipc_read(slow, buf, sizeof(buf), 200);
      if (n <= 0) break;
      got += (size_t)n;
    }
    cg_sleep_ms(700);
    let_go = log_says(logpath, "when its deadline came") || log_says(logpath, "stopped reading") ||
             log_says(logpath, "stopped at its deadline");
  }
  int64_t took = cg_time_mono_ms() - t0;
  /* given up on at the 3 s deadline (or the stall limit), never after 8 MB at about 150 KB/s */
  CHECK(let_go);
  CHECK(took < 8000);
  cg_sleep_ms(500); /* the worker is stopped and the slot freed right after */
  CHECK(cg_ipc_connect(endpoint, &next, err, sizeof(err)) == CG_OK);
  if (next && cg_ipc_write(next, "{}\n", 3) == CG_OK) {
    long n = cg_ipc_read(next, buf, sizeof(buf) - 1, 5000);
    CHECK(n > 0);
    if (n > 0) buf[n] = '\0';
    CHECK(n > 0 && strstr(buf, "for someone else") == NULL);
  }
  if (slow) cg_ipc_close(slow);
  if (next) cg_ipc_close(next);
  rig_stop(&rg);
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
  RUN(a_client_that_never_reads_holds_nobody_up);
  RUN(a_slow_reader_is_held_to_the_deadline);
  cg_free(helper);
  cg_free(dir);
  cg_free(self);
  return test_finish("relay");
}
