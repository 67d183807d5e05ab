/* Runs a check over the fixtures of a data folder, driven by its expected.json: verdict, code and
 * the listed facts must match exactly, and every parsed result carries the contract facts.
 *   test_fixtures CHECK DATA_DIR */
#include <stdlib.h>

#include "config.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "runner.h"
#include "voice.h"
#include "harness.h"
#include "../unit/test.h"

static const char *data_dir, *check_name;

static int run_case(const char *input, const cJSON *sets, struct cg_result *res) {
  return cgt_run_check(check_name, input, sets, res);
}

TEST(fixtures_match_expectations) {
  char *manifest_path = cg_path_join(data_dir, "expected.json");
  char *text = NULL;
  size_t len = 0;
  CHECK(cg_file_read(manifest_path, 1 << 20, &text, &len) == CG_OK);
  cJSON *m = cJSON_Parse(text);
  const cJSON *cases = cJSON_GetObjectItem(m, "cases");
  CHECK(cJSON_GetArraySize(cases) >= 10);
  int n = 0;
  for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next, n++) {
    const char *file = cJSON_GetObjectItem(c, "file")->valuestring;
    char *path = cg_path_join(data_dir, file);
    struct cg_result r;
    int before = t_failed;
    /* "config": the rest of the configuration, e.g. another check's setting this one reads */
    char *cfg = cJSON_GetObjectItem(c, "config") ? cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "config")) : NULL;
    cgt_config_text = cfg ? cfg : "{}";
    CHECK(run_case(path, cJSON_GetObjectItem(c, "set"), &r) == CG_OK);
    cgt_config_text = "{}";
    cJSON_free(cfg);
    CHECK_STR(cg_verdict_name(r.status), cJSON_GetObjectItem(c, "status")->valuestring);
    CHECK_STR(r.code, cJSON_GetObjectItem(c, "code")->valuestring);
    CHECK(r.summary && strlen(r.summary) > 20);
    /* the sentence is read aloud: its technical part is on the detail line (voice.h) */
    const char *what = NULL, *tech = r.summary ? cg_voice_technical(r.summary, &what) : NULL;
    if (tech) fprintf(stderr, "  %s: %s in the sentence: %s\n", file, what, r.summary);
    CHECK(!tech);
    CHECK(r.status == CG_PASS ? !*r.remediation : strlen(r.remediation) > 20);
    for (const cJSON *want = cJSON_GetObjectItem(c, "facts")->child; want; want = want->next) {
      const cJSON *got = r.facts;
      char key[128]; /* "readiness.verdict": a fact inside a fact */
      cg_strlcpy(key, want->string, sizeof(key));
      for (char *part = key, *dot; got && part; part = dot ? dot + 1 : NULL) {
        dot = strchr(part, '.');
        if (dot) *dot = '\0';
        got = cJSON_GetObjectItem(got, part);
      }
      cJSON *codes = NULL;
      if (!strcmp(want->string, "findings") && cJSON_IsArray(got)) { /* expected: the codes, in order */
        codes = cJSON_CreateArray();
        for (const cJSON *f = got->child; f; f = f->next)
          cJSON_AddItemToArray(codes, cJSON_CreateString(cJSON_GetStringValue(cJSON_GetObjectItem(f, "code"))));
        got = codes;
      }
      t_checks++;
      if (!got || !cJSON_Compare(got, want, true)) {
        char *g = got ? cJSON_PrintUnformatted(got) : NULL, *w = cJSON_PrintUnformatted(want);
        fprintf(stderr, "%s: fact %s = %s, expected %s\n", file, want->string, g ? g : "(absent)", w);
        t_failed++;
        cJSON_free(g);
        cJSON_free(w);
      }
      cJSON_Delete(codes);
    }
    /* every contract fact is present on every parsed output */
    const cJSON *contract = cJSON_GetObjectItem(m, "contract_facts");
    const cJSON *marker = cJSON_GetObjectItem(m, "contract_when");
    if (cJSON_IsString(marker) && cJSON_GetObjectItem(r.facts, marker->valuestring))
      for (const cJSON *k = contract ? contract->child : NULL; k; k = k->next) {
        CHECK(cJSON_HasObjectItem(r.facts, k->valuestring));
        if (!cJSON_HasObjectItem(r.facts, k->valuestring)) fprintf(stderr, "%s: no fact %s\n", file, k->valuestring);
      }
    if (t_failed != before) fprintf(stderr, "  ^ in case %d (%s): %s\n", n, file, r.summary ? r.summary : "");
    cg_result_free(&r);
    cg_free(path);
  }
  cJSON_Delete(m);
  cg_free(text);
  cg_free(manifest_path);
}

int main(int argc, char **argv) {
  cg_platform_args(&argc, &argv);
  cg_json_init_hooks();
  if (argc < 3 || !cg_registry_find_check(argv[1])) return 2;
  check_name = argv[1];
  data_dir = argv[2];
  RUN(fixtures_match_expectations);
  return test_finish(check_name);
}
