/* The agent log: CMTrace lines that CMTrace's own grammar (docs/checks/clientlogs.md) accepts, bias sign,
 * messages that contain the terminator, rotation to .lo_, level filter and secret redaction. */
#include <stdlib.h>

#include "log.h"
#include "platform/runtime.h"
#include "platform/fs.h"
#include "test.h"

/* A strict check of one line against the CMTrace grammar (docs/checks/clientlogs.md). */
static bool is_cmtrace_line(const char *line, char *msg, size_t msglen) {
  if (strncmp(line, "<![LOG[", 7) != 0) return false;
  const char *end = strstr(line, "]LOG]!><time=\"");
  if (!end) return false;
  snprintf(msg, msglen, "%.*s", (int)(end - line - 7), line + 7);
  int hh, mm, ss, fff, bias, mo, dd, yyyy, type;
  char sign, comp[64], file[64];
  unsigned long thread;
  int n = sscanf(end,
                 "]LOG]!><time=\"%2d:%2d:%2d.%3d%c%3d\" date=\"%2d-%2d-%4d\" component=\"%63[^\"]\" "
                 "context=\"\" type=\"%1d\" thread=\"%lu\" file=\"%63[^\"]\">",
                 &hh, &mm, &ss, &fff, &sign, &bias, &mo, &dd, &yyyy, comp, &type, &thread, file);
  return n == 13 && (sign == '+' || sign == '-') && type >= 0 && type <= 3 && strchr(file, ':');
}

TEST(entry_matches_grammar) {
  struct cg_localtime lt = {2026, 5, 7, 8, 48, 0, 831, 240};
  char *line = cg_log_format_entry("Hello \"world\" <xml/>", 2, "probe", "/src/agent/probe.c:42", &lt, 77);
  CHECK_STR(line, "<![LOG[Hello \"world\" <xml/>]LOG]!><time=\"08:48:00.831+240\" date=\"05-07-2026\" "
                  "component=\"probe\" context=\"\" type=\"2\" thread=\"77\" file=\"probe.c:42\">\r\n");
  char msg[256];
  CHECK(is_cmtrace_line(line, msg, sizeof(msg)));
  free(line);
  lt.bias_min = -60; /* UTC+1: UTC = local + bias */
  line = cg_log_format_entry("x", 1, "c", "a.c:1", &lt, 1);
  CHECK_CONTAINS(line, "time=\"08:48:00.831-060\"");
  free(line);
}

TEST(terminator_inside_message_is_defused) {
  struct cg_localtime lt = {2026, 1, 2, 3, 4, 5, 6, 0};
  char *line = cg_log_format_entry("evil ]LOG]!><time=\"x\" text", 1, "c", "a.c:1", &lt, 1);
  char msg[256];
  CHECK(is_cmtrace_line(line, msg, sizeof(msg)));
  CHECK_STR(msg, "evil ]LOG]!)<time=\"x\" text");
  free(line);
}

static char *tmp_log(const char *dir, const char *name) {
  char *p = cg_path_join(dir, name);
  cg_file_remove(p);
  return p;
}

static void rotation_and_levels(const char *dir) {
  char *path = tmp_log(dir, "rotate.log");
  char *old = tmp_log(dir, "rotate.lo_");
  struct cg_log log;
  cg_log_open(&log, path, 2000, CG_LOG_INFO);
  for (int i = 0; i < 60; i++)
    cg_log_info(&log, "test", "entry number %d with some padding text", i);
  cg_log_debug(&log, "test", "DEBUG-NOT-WRITTEN");
  CHECK(cg_file_exists(old));
  CHECK(cg_file_size(path) <= 2000);
  CHECK(cg_file_size(old) <= 2000 && cg_file_size(old) > 1000);
  char *data = NULL;
  size_t len = 0;
  CHECK(cg_file_read(path, 1 << 20, &data, &len) == CG_OK);
  CHECK_CONTAINS(data, "entry number 59 ");
  CHECK(!strstr(data, "DEBUG-NOT-WRITTEN"));
  /* every line is a complete CMTrace entry */
  for (char *l = data; *l;) {
    char *eol = strstr(l, "\r\n");
    CHECK(eol != NULL);
    if (!eol) break;
    *eol = '\0';
    char msg[256];
    CHECK(is_cmtrace_line(l, msg, sizeof(msg)));
    l = eol + 2;
  }
  cg_free(data);
  cg_log_close(&log);
  cg_free(path);
  cg_free(old);
}

static void secrets_never_logged(const char *dir) {
  char *path = tmp_log(dir, "secret.log");
  struct cg_log log;
  cg_log_open(&log, path, 0, CG_LOG_DEBUG);
  cg_log_error(&log, "ship",
               "PUT https://a.blob.core.windows.net/c/x?sv=1&sig=TOPSECRET%%3D failed; auth Bearer eyJTOKEN");
  char *data = NULL;
  size_t len = 0;
  CHECK(cg_file_read(path, 1 << 20, &data, &len) == CG_OK);
  CHECK(!strstr(data, "TOPSECRET"));
  CHECK(!strstr(data, "eyJTOKEN"));
  CHECK_CONTAINS(data, "sig=<redacted>");
  CHECK_CONTAINS(data, "type=\"3\"");
  cg_free(data);
  cg_log_close(&log);
  cg_free(path);
}

static void unwritable_log_is_not_fatal(const char *dir) {
  /* A log "folder" that is really a file: cannot be created on any platform. */
  char *blocker = cg_path_join(dir, "log-blocker");
  char err[256];
  cg_file_write_atomic(blocker, "x", 1, err, sizeof(err));
  char *path = cg_path_join(blocker, "x.log");
  struct cg_log log;
  cg_log_open(&log, path, 0, CG_LOG_INFO);
  cg_log_info(&log, "t", "first");
  cg_log_info(&log, "t", "second");
  CHECK(log.file_failed);
  cg_log_close(&log);
  cg_free(path);
  cg_free(blocker);
}

struct writer {
  struct cg_log *log;
  int lines;
  volatile int done;
};

static void write_lines(void *arg) {
  struct writer *w = arg;
  for (int i = 0; i < w->lines; i++)
    cg_log_info(w->log, "w", "line %d", i);
  w->done = 1;
}

static int count_lines(const char *path) {
  char *data = NULL;
  size_t len = 0;
  int n = 0;
  if (cg_file_read(path, 64 << 20, &data, &len) != CG_OK) return 0;
  for (const char *p = data; (p = strstr(p, "<![LOG[line ")) != NULL; p++)
    n++;
  cg_free(data);
  return n;
}

/* A configuration reload points the log elsewhere while a check's thread is writing: under the
 * log's lock, every line lands whole in one file or the other, none is lost (and ASan sees no
 * use of the freed file name). */
static void reopen_while_writing(const char *dir) {
  char *a = cg_path_join(dir, "reopen-a.log"), *b = cg_path_join(dir, "reopen-b.log");
  cg_file_remove(a);
  cg_file_remove(b);
  struct cg_log log;
  cg_log_open(&log, a, 0, CG_LOG_INFO);
  cg_log_threaded(&log);
  struct writer w = {.log = &log, .lines = 3000};
  CHECK(cg_thread_start(write_lines, &w) == CG_OK);
  for (int i = 0; !w.done; i++)
    cg_log_reopen(&log, i % 2 ? a : b, 0, CG_LOG_INFO);
  CHECK(count_lines(a) + count_lines(b) == w.lines);
  cg_log_close(&log);
  cg_mutex_free(log.lock);
  cg_free(a);
  cg_free(b);
}

int main(int argc, char **argv) {
  cg_json_init_hooks();
  const char *dir = argc > 1 ? argv[1] : ".";
  cg_mkdirs(dir);
  RUN(entry_matches_grammar);
  RUN(terminator_inside_message_is_defused);
  int before = t_failed;
  rotation_and_levels(dir);
  printf("%s rotation_and_levels\n", t_failed == before ? "ok  " : "FAIL");
  before = t_failed;
  secrets_never_logged(dir);
  printf("%s secrets_never_logged\n", t_failed == before ? "ok  " : "FAIL");
  before = t_failed;
  unwritable_log_is_not_fatal(dir);
  printf("%s unwritable_log_is_not_fatal\n", t_failed == before ? "ok  " : "FAIL");
  before = t_failed;
  reopen_while_writing(dir);
  printf("%s reopen_while_writing\n", t_failed == before ? "ok  " : "FAIL");
  return test_finish("log");
}
