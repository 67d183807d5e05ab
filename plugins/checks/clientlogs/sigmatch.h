/* The signature catalogue of the clientlogs check and its matcher. A catalogue is JSON data:
 *   {"signatures": [{"code": "LOG_CMG_FORBIDDEN", "severity": "fail|warn|info",
 *     "logs": ["CcmMessaging.log"], "component": "CcmMessaging",
 *     "all": ["substring", ...], "any": ["substring", ...],
 *     "summary": "...", "remediation": "...", "source": "https://learn.microsoft.com/..."}]}
 * Severity "ok" marks a success line: it resolves earlier failures of the same server and the same
 * operation (docs/checks/clientlogs.md, "What a success resolves"). Substrings match
 * case-insensitively in the message; every "all" item and at least one "any" item (when given)
 * must be present and no "none" item may be (a success line written inside a failure, such as
 * "Successfully queued event on HTTP/HTTPS failure", is not a success); "logs" and "component"
 * narrow where it applies. "op" names the operation a line is about when its URL does not
 * ("location": the MP list); "connectivity": true marks a failure to reach the server at all
 * (name, connect, TLS, timeout), which any later success with that server resolves. "basis"
 * (documented | inferred) and "quote" carry the evidence. All the patterns of a catalogue run in
 * one Aho-Corasick pass per message. */
#ifndef CG_SIGMATCH_H
#define CG_SIGMATCH_H

#include <cjson/cJSON.h>

#include "cg.h"

#define SIG_MAX_PATTERNS 256

/* SIG_OK: a success line; it resolves earlier failures of the same log and server. */
enum sig_severity { SIG_OK = -1, SIG_INFO = 0, SIG_WARN = 1, SIG_FAIL = 2 };

struct signature {
  char *code, *summary, *remediation, *component;
  char *source; /* where the cause and fix come from (a URL, or a docs/ page); NULL from a file without one */
  char **logs;
  size_t nlogs;
  enum sig_severity severity;
  char *op;    /* the operation key ("location"); NULL: the path kind of the line's URL decides */
  char *basis; /* "documented" or "inferred" */
  uint64_t all[SIG_MAX_PATTERNS / 64], any[SIG_MAX_PATTERNS / 64], none[SIG_MAX_PATTERNS / 64];
  bool has_any;
  bool connectivity; /* the server could not be reached: any later success with it resolves this */
  bool generic;      /* a catch-all: a specific finding of the same severity is reported first */
};

struct sigset {
  struct signature *sigs;
  size_t count;
  /* Aho-Corasick automaton over the lower-cased patterns */
  int32_t *next;    /* [states][256] */
  uint64_t *out;    /* [states][SIG_MAX_PATTERNS/64] patterns ending here (fail chain folded in) */
  uint8_t *has_out; /* [states] any pattern ends here: the hot loop's only extra load */
  size_t states, patterns;
  char **pattern_text;
};

/* Loads signatures from JSON text; `origin` names it in errors. Entries whose code is already in
 * `set` replace the earlier one (so a config file overrides the built-in catalogue). Call
 * sig_compile after the last load. */
int sig_load(struct sigset *set, const char *json, const char *origin, char *err, size_t errlen);
int sig_compile(struct sigset *set);
/* The built-in catalogue, then `file` (NULL: none) over it, compiled: what the check matches. */
int sig_load_catalogue(struct sigset *set, const char *file, char *err, size_t errlen);
void sig_free(struct sigset *set);

/* Which signatures match a message of `log`/`component`: calls cb for each. */
typedef void (*sig_cb)(const struct signature *s, void *user);
void sig_match(const struct sigset *set, const char *log, const char *component, size_t component_len, const char *msg,
               size_t msg_len, sig_cb cb, void *user);

/* The catalogue built into the agent (signatures.json, embedded at build time). */
extern const char clientlogs_builtin_signatures[];

#endif
