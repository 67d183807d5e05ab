/* libFuzzer: what `cmgdiag show` reads: gzip or plain bundles, then the report conversion; and the
 * head the fleet report reads of most bundles (cg_bundle_head). */
#include <stdint.h>
#include <stdio.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *b = NULL;
  char err[512];
  if (cg_bundle_head((const char *)data, size, &b) == CG_OK && !cJSON_IsBool(cJSON_GetObjectItem(b, "partial")))
    __builtin_trap(); /* a head is only taken with "partial" in it */
  cJSON_Delete(b);
  b = NULL;
  if (cg_bundle_parse((const char *)data, size, "fuzz", &b, err, sizeof(err)) == CG_OK) {
    struct cg_result *rs = NULL;
    size_t n = 0;
    if (cg_bundle_results(b, &rs, &n) == CG_OK) {
      FILE *f = fopen("/dev/null", "w");
      struct cg_report_opts o = {.color = true, .title = "t"};
      if (f) {
        cg_report_print(f, rs, n, &o);
        fclose(f);
      }
      for (size_t i = 0; i < n; i++)
        cg_result_free(&rs[i]);
      cg_free(rs);
    }
    cJSON_Delete(b);
  }
  return 0;
}
