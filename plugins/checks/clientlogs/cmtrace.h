/* Parser for ConfigMgr client logs (docs/checks/clientlogs.md): the CMTrace "<![LOG[...]LOG]!><attrs>"
 * format with multi-line messages (and the Intune Management Extension variant: 7-digit
 * fractions, no bias, unpadded dates), and the "SMS trace" "message  $$<comp><date><thread=..>"
 * line format. Works on UTF-8 text in memory and reports complete entries only, so a log that is
 * being written is resumed where its last complete entry ended. */
#ifndef CG_CMTRACE_H
#define CG_CMTRACE_H

#include "cg.h"

struct cmt_entry {
  const char *msg; /* not NUL-terminated */
  size_t msg_len;
  const char *component;
  size_t component_len;
  int type;       /* 0..3; 1 when the format has none */
  int64_t utc_ms; /* 0 when the time could not be read */
  bool utc_exact; /* false: no bias in the log, the time is local */
  unsigned long thread;
};

/* Called for every complete entry; a non-zero return stops the scan. */
typedef int (*cmt_cb)(const struct cmt_entry *e, void *user);

/* Scans text[0..len). With `final` false, a trailing incomplete entry is not reported and not
 * consumed. Returns the number of bytes consumed (the start of the first unconsumed entry).
 * *entries counts what was reported. */
size_t cmt_scan(const char *text, size_t len, bool final, cmt_cb cb, void *user, size_t *entries);

#endif
