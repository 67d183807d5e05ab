/* libFuzzer: the mpcandidates capture parsers (format detection, JSON, Format-List, Format-Table,
 * reg export), MP strings and the Capabilities XML, on decoded text as the check feeds them. */
#include <stdint.h>
#include <string.h>

#include "mpparse.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = NULL;
  size_t n = 0;
  enum cg_text_encoding enc;
  int cp;
  if (cg_text_decode_capture((const char *)data, size, 1252, &text, &n, &enc, &cp) != CG_OK) return 0;
  enum mp_format fmt = mp_detect(text);
  cJSON *out = NULL;
  if (fmt == MP_FMT_REG) {
    if (mp_parse_reg(text, &out) == CG_OK) cJSON_Delete(out);
  } else if (mp_parse_rows(text, fmt, &out) == CG_OK) {
    for (const cJSON *r = out->child; r; r = r->next) {
      const cJSON *mp = cJSON_GetObjectItem(r, "MP"), *caps = cJSON_GetObjectItem(r, "Capabilities");
      struct mp_string ms;
      if (cJSON_IsString(mp)) mp_parse_string(mp->valuestring, &ms);
      int64_t a, b;
      if (cJSON_IsString(caps)) mp_parse_capabilities(caps->valuestring, &a, &b);
    }
    cJSON_Delete(out);
  }
  /* the raw text as an MP string and a Capabilities document too */
  struct mp_string ms;
  mp_parse_string(text, &ms);
  int64_t a, b;
  mp_parse_capabilities(text, &a, &b);
  cg_free(text);
  return 0;
}
