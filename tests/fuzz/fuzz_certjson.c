/* libFuzzer: clientauth's LocalMachine\My capture (decoded like a capture, then parsed). */
#include <stdint.h>

#include "certjson.h"
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
  if (clientauth_certs_parse(text, &certs, &count, err, sizeof(err)) == CG_OK) {
    if (count > CG_CERT_MAX) __builtin_trap();
    for (size_t i = 0; i < count; i++)
      if (certs[i].n_ekus > CG_CERT_MAX_EKUS) __builtin_trap();
    cg_free(certs);
  } else if (!err[0]) {
    __builtin_trap(); /* every refusal says why */
  }
  int64_t ms;
  clientauth_parse_date(text, &ms);
  cg_free(text);
  return 0;
}
