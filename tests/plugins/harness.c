/* Plugin test harness. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "platform/fs.h"
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
    /* the check itself, in this process: a worker would be this test program started again */
    cg_free(cfg.unprivileged_user);
    cfg.unprivileged_user = NULL;
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

int cgt_judge_collected(const char *check, struct cg_collection *c, const cJSON *sets, cJSON *disc,
                        struct cg_result *res) {
  const char *argv_sets[16];
  size_t n = 0;
  for (const cJSON *s = sets ? sets->child : NULL; s && n < 16; s = s->next)
    argv_sets[n++] = s->valuestring;
  struct cg_config_override ov = {.check = check, .sets = argv_sets, .count = n};
  struct cg_config cfg;
  char err[512] = "";
  memset(&cfg, 0, sizeof(cfg));
  int rc = cg_config_load_text(&cfg, "{}", 2, "test.json", &ov, err, sizeof(err));
  if (rc != CG_OK) {
    fprintf(stderr, "config: %s\n", err);
    return rc;
  }
  cJSON *own = disc ? NULL : cJSON_CreateObject();
  struct cg_env env = {.config = &cfg, .collected = c ? &c->view : NULL, .discovery = disc ? disc : own};
  cg_run_check(cg_registry_find_check(check), &env, res);
  cJSON_Delete(own);
  cg_config_free(&cfg);
  return CG_OK;
}

static int add_file(struct cg_collection *c, const char *path, const char *name) {
  char *data = NULL;
  size_t len = 0;
  int rc = cg_file_read(path, 1u << 20, &data, &len);
  if (rc == CG_OK) rc = cg_collection_add(c, name, data, len);
  cg_free(data);
  return rc;
}

int cgt_collect_path(const char *path, struct cg_collection *c) {
  memset(c, 0, sizeof(*c));
  char **names = NULL;
  size_t n = 0;
  if (cg_dir_list(path, &names, &n) != CG_OK) {
    const char *name = path;
    for (const char *q = path; *q; q++)
      if (*q == '/' || *q == '\\') name = q + 1;
    return add_file(c, path, name);
  }
  int rc = CG_OK;
  for (size_t i = 0; rc == CG_OK && i < n; i++) {
    if (!strcmp(names[i], "README.md") || !strcmp(names[i], "captured-at.txt")) continue;
    char *p = cg_path_join(path, names[i]);
    rc = p ? add_file(c, p, names[i]) : CG_ERR_NOMEM;
    cg_free(p);
  }
  cg_dir_list_free(names, n);
  return rc;
}

int cgt_compare_collected(const char *check, const char *data_dir,
                          bool (*prepare)(const cJSON *kase, cJSON *sets, struct cg_collection *c, cJSON *disc),
                          int *differ) {
  char *path = cg_path_join(data_dir, "expected.json"), *text = NULL;
  size_t len = 0;
  int compared = 0;
  *differ = 0;
  cJSON *doc = path && cg_file_read(path, 1u << 20, &text, &len) == CG_OK ? cJSON_Parse(text) : NULL;
  const cJSON *k;
  cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "file"));
    cJSON *sets = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(k, "set"), true), *disc = cJSON_CreateObject();
    if (!sets) sets = cJSON_CreateArray();
    char *capture = cg_path_join(data_dir, file ? file : "");
    struct cg_collection c;
    struct cg_result a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    int rc = cgt_collect_path(capture, &c);
    if (rc == CG_OK && (!prepare || prepare(k, sets, &c, disc))) {
      if (cgt_run_check(check, capture, sets, &a) != CG_OK || cgt_judge_collected(check, &c, sets, disc, &b) != CG_OK) {
        *differ = -1;
      } else if (a.status != b.status || strcmp(a.code, b.code)) {
        fprintf(stderr, "  %s: as a capture %s, as collected %s\n", file, a.code, b.code);
        if (*differ >= 0) (*differ)++;
      }
      compared++;
    } else if (rc != CG_OK && prepare && prepare(k, sets, &c, disc)) {
      *differ = -1; /* a case its test wants compared could not be read */
    }
    cg_result_free(&a);
    cg_result_free(&b);
    cg_collection_free(&c);
    cJSON_Delete(disc);
    cJSON_Delete(sets);
    cg_free(capture);
  }
  cJSON_Delete(doc);
  cg_free(text);
  cg_free(path);
  return compared;
}
