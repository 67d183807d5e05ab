/* libFuzzer: clientauth's LocalMachine\My capture (decoded like a capture, then parsed), and the
 * selection criteria (selection.h) parsed from the same text and matched against each certificate. */
#include <stdint.h>

#include <string.h>

#include "certjson.h"
#include "selection.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = NULL, err[256];
  size_t n = 0;
  enum cg_text_encoding enc;
  int cp;
  if (cg_text_decode_capture((const char *)data, size, 1252, &text, &n, &enc, &cp) != CG_OK) return 0;
  struct cg_cert_info *certs = NULL;
  size_t count = 0;
  struct selection sel;
  char crit[300], why[300];
  cg_snprintf(crit, sizeof(crit), "%.*s", (int)strcspn(text, "\n"), text);
  err[0] = '\0';
  if (!sel_parse(crit, &sel, err, sizeof(err)) && !err[0]) __builtin_trap(); /* a refusal says why */
  cg_strlcpy(sel.computer, "PC042", sizeof(sel.computer));
  bool unknown;
  err[0] = '\0';
  if (clientauth_certs_parse(text, &certs, &count, err, sizeof(err)) == CG_OK) {
    if (count > CG_CERT_MAX) __builtin_trap();
    for (size_t i = 0; i < count; i++) {
      if (certs[i].n_ekus > CG_CERT_MAX_EKUS) __builtin_trap();
      if (!sel_matches(&sel, certs[i].subject, certs[i].sans, &unknown, why, sizeof(why)) && !why[0]) __builtin_trap();
      /* a hostile subject as long as the store allows (a capture's Subject is cut to 511 bytes) */
      char subject[512];
      cg_strlcpy(subject, text, sizeof(subject));
      sel_matches(&sel, subject, subject, &unknown, why, sizeof(why));
    }
    cg_free(certs);
  } else if (!err[0]) {
    __builtin_trap(); /* every refusal says why */
  }
  int64_t ms;
  clientauth_parse_date(text, &ms);
  cg_free(text);
  return 0;
}
