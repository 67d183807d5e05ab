/* libFuzzer: the client-log parser (CMTrace, IME, SMS trace; partial and final scans) with the
 * built-in signature catalogue matched against every entry and the server each entry is about
 * (logstate.h) read from it, as the clientlogs check runs them. */
#include <stdint.h>
#include <string.h>

#include "cmtrace.h"
#include "logstate.h"
#include "sigmatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sigset set;

static void on_sig(const struct signature *s, void *user) {
  (void)s;
  ++*(size_t *)user;
}

static int on_entry(const struct cmt_entry *e, void *user) {
  if (e->msg_len > 1 << 24 || (e->component_len && !e->component)) __builtin_trap();
  sig_match(&set, "CcmMessaging.log", e->component, e->component_len, e->msg, e->msg_len, on_sig, user);
  char host[LS_HOST];
  bool cmg;
  if (ls_target(e->msg, e->msg_len, host, &cmg) && (strlen(host) >= LS_HOST || !strchr(host, '.'))) __builtin_trap();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) {
    char err[256];
    if (sig_load(&set, clientlogs_builtin_signatures, "built-in", err, sizeof(err)) != CG_OK ||
        sig_compile(&set) != CG_OK)
      __builtin_trap();
    ready = true;
  }
  size_t entries = 0, matches = 0;
  char host[LS_HOST];
  bool cmg;
  if (ls_target((const char *)data, size, host, &cmg) && strlen(host) >= LS_HOST) __builtin_trap();
  size_t used = cmt_scan((const char *)data, size, false, on_entry, &matches, &entries);
  if (used > size) __builtin_trap();
  used = cmt_scan((const char *)data, size, true, on_entry, &matches, &entries);
  if (used > size) __builtin_trap();
  return 0;
}
