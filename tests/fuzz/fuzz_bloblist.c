/* libFuzzer: a List Blobs answer from whatever answers at the container URL (report_azure.c). */
#include <stdint.h>
#include <string.h>

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *xml = cg_malloc(size + 1);
  if (!xml) return 0;
  memcpy(xml, data, size);
  xml[size] = '\0';
  struct report_names ns = {0};
  char marker[1100];
  (void)report_list_page(xml, &ns, marker, sizeof(marker));
  for (size_t i = 0; i < ns.n; i++)
    cg_free(ns.v[i]);
  cg_free(ns.v);
  cg_free(xml);
  return 0;
}
