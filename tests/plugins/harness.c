/* Plugin test harness. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "runner.h"

const char *cgt_config_text = "{}";

int cgt_run_check(const char *check, const char *input, const cJSON *sets, struct cg_result *res) {
  const char *argv_sets[16];
  size_t n = 0;
  char *input_set = input ? cg_asprintf("input=%s", input) : NULL;
  if (input_set) argv_sets[n++] = input_set;
  for (const cJSON *s = sets ? sets->child : NULL; s && n < 16; s = s->next)
    argv_sets[n++] = s->valuestring;
  struct cg_config_override ov = {.check = check, .sets = argv_sets, .count = n};
  struct cg_config cfg;
  char err[1024] = "";
  memset(&cfg, 0, sizeof(cfg));
  int rc = cg_config_load_text(&cfg, cgt_config_text, strlen(cgt_config_text), "test.json", &ov, err, sizeof(err));
  if (rc == CG_OK) {
    cJSON *disc = cJSON_CreateObject();
    /* as `cmgdiag check NAME --input PATH` runs it: its providers judge the same capture first */
    struct cg_env env = {.config = &cfg, .discovery = disc, .snapshot = input};
    struct cg_result *rs = NULL;
    size_t nrs = 0;
    if (!input) {
      cg_run_check(cg_registry_find_check(check), &env, res);
    } else if ((rc = cg_run_checks(&env, check, 0, NULL, &rs, &nrs, err, sizeof(err))) == CG_OK) {
      for (size_t i = 0; i < nrs; i++)
        if (!strcmp(rs[i].check, check)) {
          *res = rs[i];
          memset(&rs[i], 0, sizeof(rs[i]));
        }
      cg_results_free(rs, nrs);
    } else {
      fprintf(stderr, "plan: %s\n", err);
    }
    if (rc == CG_OK)
      cJSON_AddItemToObject(res->facts, "_discovery", disc);
    else
      cJSON_Delete(disc);
  } else {
    fprintf(stderr, "config: %s\n", err);
  }
  cg_config_free(&cfg);
  cg_free(input_set);
  return rc;
}
