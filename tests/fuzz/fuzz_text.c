/* libFuzzer: BOM/UTF-16 decoding and secret redaction of arbitrary text (log messages, errors). */
#include <stdint.h>
#include <string.h>

#include "redact.h"
#include "sas.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *out = NULL;
  size_t n = 0;
  if (cg_text_decode((const char *)data, size, &out, &n, NULL) == CG_OK) {
    char *r = cg_redact_text(out);
    /* Redaction never leaves a sig= value behind. */
    if (r && strstr(out, "?sig=A") && strstr(r, "?sig=A")) __builtin_trap();
    /* Stripped text holds no escape character, whatever came in. */
    if (r) {
      cg_strip_controls(r);
      if (strchr(r, 0x1b)) __builtin_trap();
    }
    char warn[512];
    cg_sas_check(out, 0, warn, sizeof(warn));
    cg_free(r);
    cg_free(out);
  }
  return 0;
}
