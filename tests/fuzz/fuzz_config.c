/* libFuzzer: the configuration parser and validator with arbitrary bytes (any encoding), plus the
 * redacted rendering of whatever it accepts. */
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool hooked;
  if (!hooked) {
    cg_json_init_hooks();
    hooked = true;
  }
  struct cg_config cfg;
  char err[1024];
  memset(&cfg, 0, sizeof(cfg));
  if (cg_config_load_text(&cfg, (const char *)data, size, "fuzz.json", NULL, err, sizeof(err)) == CG_OK) {
    char *text = cg_config_render_redacted(&cfg);
    cg_free(text);
  }
  cg_config_free(&cfg);
  return 0;
}
