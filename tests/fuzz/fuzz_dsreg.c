/* libFuzzer: dsregcmd capture decoding (BOM, UTF-16 without BOM, UTF-8, code pages), the parser,
 * the join model and the facts, exactly as the aadjoin check runs them. */
#include <stdint.h>
#include <string.h>

#include "aadjoin.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = NULL;
  size_t n = 0;
  enum cg_text_encoding enc;
  int used;
  if (cg_text_decode_capture((const char *)data, size, size ? data[0] % 2 ? 850 : 437 : 1252, &text, &n, &enc, &used) !=
      CG_OK)
    return 0;
  struct dsreg_doc doc;
  if (dsreg_parse(text, &doc) == CG_OK) {
    struct aad_state st;
    aad_model(&doc, &st);
    cJSON *facts = cJSON_CreateObject();
    aad_facts(&doc, &st, facts);
    char *s = cJSON_PrintUnformatted(facts);
    cJSON_free(s);
    cJSON_Delete(facts);
  }
  dsreg_free(&doc);
  cg_free(text);
  return 0;
}
