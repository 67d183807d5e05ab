/* libFuzzer: a cmgprobe transcript judged offline (plugins/checks/cmgprobe/tape.h): the transcript
 * comes with a snapshot or a ticket, so its bytes are anyone's. The whole probe runs on it as
 * `check cmgprobe --input` does (the check's own source parser, then its run), with no network:
 * every answer, handshake, certificate and verdict is the transcript's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "discovery.h"
#include "plugin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cg_config *settings(void) {
  static struct cg_config cfg;
  static bool loaded;
  if (!loaded) {
    /* the settings the seeds were recorded with (tests/data/cmgprobe, the lab's name made this one) */
    static const char text[] = "{\"checks\": {\"cmgprobe\": {\"url\": "
                               "\"https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927939\", "
                               "\"resolve\": [\"cmg.contoso.com:443:127.0.0.1\"], \"timeout_ms\": 6000, "
                               "\"connect_timeout_ms\": 2000}}}";
    char err[300];
    if (cg_config_load_text(&cfg, text, sizeof(text) - 1, "fuzz", NULL, err, sizeof(err)) != CG_OK) abort();
    loaded = true; /* a replay reads and writes no state: the transcript has it */
  }
  return &cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct cg_check_plugin *p = cg_registry_find_check("cmgprobe");
  struct cg_config *cfg = settings();
  char *copy = malloc(size + 1), err[512] = "";
  void *ctx = calloc(1, p->ctx_size);
  if (!copy || !ctx) abort();
  memcpy(copy, data, size);
  copy[size] = '\0';
  struct cg_env env = {.config = cfg, .discovery = cJSON_CreateObject(), .trigger = "check", .input = "fuzz"};
  struct cg_capture_file f = {.path = "fuzz", .name = "transcript.json", .data = copy, .len = size};
  if (cg_config_map_fill(p->config_map, cg_config_check(cfg, "cmgprobe"), ctx) == CG_OK &&
      p->init(ctx, &env, err, sizeof(err)) == CG_OK && p->source->parse(ctx, &env, &f, err, sizeof(err)) == CG_OK) {
    struct cg_result r;
    if (cg_result_init(&r, "cmgprobe") == CG_OK) {
      int rc = p->run(ctx, &env, &r);
      /* a transcript gives a verdict, or says it does not fit: never nothing */
      if (rc == CG_OK && (!r.code || !*r.code)) __builtin_trap();
      cg_result_free(&r);
    }
  }
  if (p->fini) p->fini(ctx);
  cg_config_map_release(p->config_map, ctx);
  free(ctx);
  free(copy);
  cJSON_Delete(env.discovery);
  return 0;
}
