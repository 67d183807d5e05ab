/* libFuzzer: BOM/UTF-16 decoding, secret redaction of arbitrary text (log messages, errors), and the
 * two voices' split of a sentence that carries such text (voice.h). */
#include <stdint.h>
#include <string.h>

#include "redact.h"
#include "sas.h"
#include "text.h"
#include "voice.h"

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
    /* the split only ever takes away, and what it moved is whole bracketed parts */
    size_t before = strlen(out);
    struct cg_buf detail;
    cg_buf_init(&detail, 1 << 20);
    cg_voice_technical(out, NULL);
    if (cg_voice_split(out, &detail) == CG_OK && (strlen(out) > before || detail.len > before)) __builtin_trap();
    cg_buf_free(&detail);
    cg_free(r);
    cg_free(out);
  }
  return 0;
}
