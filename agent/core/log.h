/* The agent's own log, in the CMTrace format the ConfigMgr client uses, so admins read it with
 * CMTrace/OneTrace next to the client logs. Rotates X.log to X.lo_ at max_bytes like the client.
 * Every message passes through secret redaction before it is written. */
#ifndef CG_LOG_H
#define CG_LOG_H

#include <cjson/cJSON.h>

#include "cg.h"
#include "platform/sys.h"

enum cg_log_level { CG_LOG_ERROR = 0, CG_LOG_WARNING, CG_LOG_INFO, CG_LOG_DEBUG };

struct cg_log {
  char *file;        /* owned; NULL: no file */
  int64_t max_bytes; /* rotation threshold; <= 0: never rotate */
  enum cg_log_level level;
  bool echo_stderr;      /* -v: also print a plain line on stderr */
  bool file_failed;      /* reported once, then silent */
  struct cg_mutex *lock; /* set by cg_log_threaded: writes from several threads */
  /* The unprivileged worker's log (pipeline/worker.c): lines are kept here, [{"l": level, "c":
   * component, "m": message}] (at most CG_LOG_CAPTURE_MAX), for the cycle's process to write; the
   * file is not touched. NULL: none. */
  cJSON *capture;
};
#define CG_LOG_CAPTURE_MAX 400

/* Makes writes safe from several threads (the daemon's per-check threads). */
void cg_log_threaded(struct cg_log *log);
/* Points an open log at another file and settings (configuration reload), under its lock. */
void cg_log_reopen(struct cg_log *log, const char *file, int64_t max_bytes, enum cg_log_level level);

/* "error", "warning", "info", "debug" (case-insensitive); false when unknown. */
bool cg_log_level_parse(const char *s, enum cg_log_level *out);
/* Opens (creates the folder of) `file`; never fails hard: a log that cannot be written is
 * reported once on stderr and the agent carries on. */
void cg_log_open(struct cg_log *log, const char *file, int64_t max_bytes, enum cg_log_level level);
void cg_log_close(struct cg_log *log);

/* Writes one entry. `src` is "file.c:line" (use the CG_LOG_* macros). log may be NULL. */
void cg_log_write(struct cg_log *log, enum cg_log_level level, const char *component, const char *src, const char *fmt,
                  ...) CG_PRINTF(5, 6);

/* Formats one CMTrace line into a new string (exposed for tests); caller frees. */
char *cg_log_format_entry(const char *message, int type, const char *component, const char *src,
                          const struct cg_localtime *lt, unsigned long thread);

#define CG_STR2(x) #x
#define CG_STR(x) CG_STR2(x)
#define CG_SRC (__FILE__ ":" CG_STR(__LINE__))
#define cg_log_error(l, comp, ...) cg_log_write((l), CG_LOG_ERROR, (comp), CG_SRC, __VA_ARGS__)
#define cg_log_warn(l, comp, ...) cg_log_write((l), CG_LOG_WARNING, (comp), CG_SRC, __VA_ARGS__)
#define cg_log_info(l, comp, ...) cg_log_write((l), CG_LOG_INFO, (comp), CG_SRC, __VA_ARGS__)
#define cg_log_debug(l, comp, ...) cg_log_write((l), CG_LOG_DEBUG, (comp), CG_SRC, __VA_ARGS__)

#endif
