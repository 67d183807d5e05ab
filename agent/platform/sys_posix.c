#include <errno.h>
/* POSIX clocks, identity and console. */
#define _GNU_SOURCE
#include "sys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int64_t cg_time_utc_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cg_time_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cg_time_local(struct cg_localtime *out) {
  int64_t ms = cg_time_utc_ms();
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  out->year = tm.tm_year + 1900;
  out->month = tm.tm_mon + 1;
  out->day = tm.tm_mday;
  out->hour = tm.tm_hour;
  out->minute = tm.tm_min;
  out->second = tm.tm_sec;
  out->millisecond = (int)(ms % 1000);
  out->bias_min = (int)(-tm.tm_gmtoff / 60);
}

void cg_time_rfc3339(int64_t utc_ms, char *buf, size_t len) {
  time_t t = (time_t)(utc_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  cg_snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
              tm.tm_min, tm.tm_sec, (int)(utc_ms % 1000));
}

unsigned long cg_thread_id(void) {
#ifdef SYS_gettid
  return (unsigned long)syscall(SYS_gettid);
#else
  return (unsigned long)getpid();
#endif
}

unsigned long cg_process_id(void) { return (unsigned long)getpid(); }

char *cg_hostname(void) {
  char name[256] = "";
  if (gethostname(name, sizeof(name) - 1)) cg_strlcpy(name, "unknown", sizeof(name));
  name[sizeof(name) - 1] = '\0';
  char *dot = strchr(name, '.');
  if (dot) *dot = '\0';
  return cg_strdup(name);
}

char *cg_os_description(void) {
  struct utsname u;
  if (uname(&u)) return cg_strdup("unknown");
  return cg_asprintf("%s %s %s", u.sysname, u.release, u.machine);
}

const char *cg_platform_name(void) {
#ifdef __linux__
  return "linux";
#else
  return "posix";
#endif
}

bool cg_stdout_is_tty(void) { return isatty(STDOUT_FILENO) == 1; }

char *cg_getenv(const char *name) {
  const char *v = getenv(name);
  return v ? cg_strdup(v) : NULL;
}

void cg_platform_args(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
}

char *cg_executable_path(void) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return NULL;
  return cg_strndup(buf, (size_t)n);
}

void cg_sleep_ms(int64_t ms) {
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

char *cg_system_tool_path(const char *exe) {
  (void)exe;
  return NULL;
}

int cg_platform_oem_codepage(void) { return 850; }

bool cg_running_as_system(void) { return false; }

bool cg_platform_connect_refused(long os_errno) { return os_errno == ECONNREFUSED; }

const char *cg_platform_private_folder_words(void) { return "folder restricted to its owner, mode 0700"; }
