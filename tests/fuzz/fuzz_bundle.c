/* libFuzzer: what `cmgdiag show` reads: gzip or plain bundles, then the report conversion; the
 * head the fleet report reads of most bundles (cg_bundle_head); and a snapshot's manifest.json, the
 * other JSON `--input` takes (snapshot.h), with every check's record made into a result and printed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cJSON *b = NULL;
  char err[512];
  /* a head says what the whole says, of what a report takes from it */
  cJSON *head = NULL;
  if (cg_bundle_head((const char *)data, size, &head) == CG_OK &&
      !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(head, "partial")))
    __builtin_trap();
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
    static const char *const same[] = {"schema", "created_at", "overall", "partial", "device"};
    for (size_t i = 0; head && i < sizeof(same) / sizeof(same[0]); i++) {
      const cJSON *x = cJSON_GetObjectItemCaseSensitive(head, same[i]),
                  *y = cJSON_GetObjectItemCaseSensitive(b, same[i]);
      if (!x != !y || (x && !cJSON_Compare(x, y, true))) __builtin_trap();
    }
    cJSON_Delete(b);
  }
  cJSON_Delete(head);
  cJSON *m = NULL;
  if (cg_snapshot_parse((const char *)data, size, "fuzz", &m, err, sizeof(err)) == CG_OK) {
    FILE *f = fopen("/dev/null", "w");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "checks")) {
      struct cg_result r;
      memset(&r, 0, sizeof(r));
      const char *how = c->string ? cg_snapshot_judged_from(m, c->string) : NULL;
      if (how && strcmp(how, "capture") && strcmp(how, "recorded")) __builtin_trap();
      if (c->string && cg_snapshot_recorded(m, c->string, &r) == CG_OK) {
        if (!r.code || !*r.code || !cJSON_IsObject(r.facts)) __builtin_trap();
        if (f) cg_report_print_result(f, &r, true);
      }
      cg_result_free(&r);
    }
    if (f) fclose(f);
    cJSON_Delete(m);
  }
  return 0;
}
