/* CMTrace-format log with size-based rotation to .lo_. */
#include "log.h"

#include "platform/runtime.h"

#include <stdio.h>
#include <string.h>

#include "platform/fs.h"
#include "redact.h"

static const char *const level_names[] = {"error", "warning", "info", "debug"};

bool cg_log_level_parse(const char *s, enum cg_log_level *out) {
  for (int i = 0; s && i < 4; i++) {
    if (cg_strcasecmp(s, level_names[i]) == 0) {
      *out = (enum cg_log_level)i;
      return true;
    }
  }
  return false;
}

/* The log's folder must be the agent's own (no link, not writable by others): appends as SYSTEM
 * into a folder a user controls could be redirected. A refused folder means no log file, said once. */
static void set_file(struct cg_log *log, const char *file) {
  char why[512] = "";
  log->file = NULL;
  log->file_failed = false;
  if (!file || !*file) return;
  log->file = cg_strdup(file);
  char *dir = cg_path_dirname(file);
  if (dir && cg_dir_ensure_private(dir, why, sizeof(why)) != CG_OK) {
    log->file_failed = true;
    fprintf(stderr, "cmgdiag: warning: not writing the log %s: %s\n", file, why);
  }
  cg_free(dir);
}

void cg_log_open(struct cg_log *log, const char *file, int64_t max_bytes, enum cg_log_level level) {
  memset(log, 0, sizeof(*log));
  log->max_bytes = max_bytes;
  log->level = level;
  set_file(log, file);
}

void cg_log_reopen(struct cg_log *log, const char *file, int64_t max_bytes, enum cg_log_level level) {
  if (log->lock) cg_mutex_lock(log->lock); /* a check's thread may be writing a line right now */
  cg_free(log->file);
  log->max_bytes = max_bytes;
  log->level = level;
  set_file(log, file);
  if (log->lock) cg_mutex_unlock(log->lock);
}

void cg_log_threaded(struct cg_log *log) {
  if (!log->lock) log->lock = cg_mutex_new();
}

void cg_log_close(struct cg_log *log) {
  cg_free(log->file);
  log->file = NULL;
}

static const char *base_name(const char *path) {
  const char *a = strrchr(path, '/'), *b = strrchr(path, '\\');
  const char *s = a > b ? a : b;
  return s ? s + 1 : path;
}

char *cg_log_format_entry(const char *message, int type, const char *component, const char *src,
                          const struct cg_localtime *lt, unsigned long thread) {
  struct cg_buf b;
  int rc;
  cg_buf_init(&b, strlen(message) + strlen(component) + strlen(src) + 256);
  rc = cg_buf_puts(&b, "<![LOG[");
  /* A message must not end the entry early: CMTrace would cut it at "]LOG]!>". */
  for (const char *p = message; rc == CG_OK && *p;) {
    const char *hit = strstr(p, "]LOG]!>");
    size_t n = hit ? (size_t)(hit - p) : strlen(p);
    rc = cg_buf_append(&b, p, n);
    if (rc == CG_OK && hit) rc = cg_buf_puts(&b, "]LOG]!)");
    p += n + (hit ? 7 : 0);
  }
  int bias = lt->bias_min;
  if (rc == CG_OK)
    rc = cg_buf_printf(&b,
                       "]LOG]!><time=\"%02d:%02d:%02d.%03d%c%03d\" date=\"%02d-%02d-%04d\" "
                       "component=\"%s\" context=\"\" type=\"%d\" thread=\"%lu\" file=\"%s\">\r\n",
                       lt->hour, lt->minute, lt->second, lt->millisecond, bias < 0 ? '-' : '+', bias < 0 ? -bias : bias,
                       lt->month, lt->day, lt->year, component, type, thread, base_name(src));
  if (rc != CG_OK) {
    cg_buf_free(&b);
    return NULL;
  }
  return cg_buf_take(&b, NULL);
}

static void rotate_if_needed(struct cg_log *log, size_t adding) {
  if (log->max_bytes <= 0) return;
  int64_t size = cg_file_size(log->file);
  if (size <= 0 || size + (int64_t)adding <= log->max_bytes) return;
  /* Like the ConfigMgr client: one history file, X.log -> X.lo_ */
  size_t n = strlen(log->file);
  char *old = cg_strdup(log->file);
  if (!old) return;
  if (n >= 4 && cg_str_endswith_ci(old, ".log"))
    old[n - 1] = '_';
  else {
    cg_free(old);
    old = cg_asprintf("%s.lo_", log->file);
    if (!old) return;
  }
  cg_file_rename(log->file, old);
  cg_free(old);
}

void cg_log_write(struct cg_log *log, enum cg_log_level level, const char *component, const char *src, const char *fmt,
                  ...) {
  if (!log || level > log->level) return;
  /* with a lock, the file is looked at under it: a reload may be swapping it */
  if (!log->echo_stderr && !log->lock && !log->capture && (!log->file || log->file_failed)) return;
  va_list ap;
  va_start(ap, fmt);
  char *raw = cg_vasprintf(fmt, ap);
  va_end(ap);
  char *msg = raw ? cg_display_text(raw) : NULL; /* redacted, and no escape sequence from a server */
  cg_free(raw);
  if (!msg) return;
  if (log->echo_stderr) fprintf(stderr, "cmgdiag: %s: %s\n", level_names[level], msg);
  if (log->capture && cJSON_GetArraySize(log->capture) < CG_LOG_CAPTURE_MAX) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "l", (double)level);
    cJSON_AddStringToObject(o, "c", component ? component : "");
    cJSON_AddStringToObject(o, "m", msg);
    cJSON_AddItemToArray(log->capture, o);
  } else if (!log->capture && (log->lock || (log->file && !log->file_failed))) {
    struct cg_localtime lt;
    cg_time_local(&lt);
    int type = level == CG_LOG_ERROR ? 3 : level == CG_LOG_WARNING ? 2 : 1;
    char *line = cg_log_format_entry(msg, type, component, src, &lt, cg_thread_id());
    if (line) {
      size_t len = strlen(line);
      if (log->lock) cg_mutex_lock(log->lock);
      if (log->file && !log->file_failed) rotate_if_needed(log, len);
      if (log->file && !log->file_failed && cg_file_append(log->file, line, len) != CG_OK) {
        log->file_failed = true;
        fprintf(stderr, "cmgdiag: warning: cannot write the log %s; continuing without it\n", log->file);
      }
      if (log->lock) cg_mutex_unlock(log->lock);
      cg_free(line);
    }
  }
  cg_free(msg);
}
