/* Diagnosis over fixture bundles (tests/data/diagnosis, expected.json): each built-in rule names
 * its root cause and the findings it explains; a bundle without failures has no root cause; a
 * failure no rule explains is its own; errors and resolved or skipped findings make none; a rule
 * from the configuration replaces a built-in one by id; bad rules are refused.
 *   test_diagnosis SCRATCH_DIR DATA_DIR */
#include <stdlib.h>

#include "diagnosis.h"
#include "platform/fs.h"
#include "test.h"

static const char *data_dir;

static cJSON *load(const char *name) {
  char *p = cg_path_join(data_dir, name), *text = NULL;
  size_t len = 0;
  cJSON *j = cg_file_read(p, 1 << 20, &text, &len) == CG_OK ? cJSON_Parse(text) : NULL;
  cg_free(text);
  cg_free(p);
  return j;
}

static bool has_string(const cJSON *list, const char *s) {
  const cJSON *x;
  cJSON_ArrayForEach(x, list) if (cJSON_IsString(x) && !strcmp(x->valuestring, s)) return true;
  return false;
}

TEST(fixtures_name_the_right_root_causes) {
  cJSON *exp = load("expected.json"), *rules = cg_diagnosis_rules(NULL);
  CHECK(exp && rules);
  cJSON *named = cJSON_CreateArray(), *negatives = cJSON_CreateArray();
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(exp, "cases")) {
    const char *file = cJSON_GetObjectItem(c, "file")->valuestring;
    cJSON *b = load(file);
    CHECK(b != NULL);
    cJSON *d = cg_diagnose(cJSON_GetObjectItem(b, "checks"), rules);
    const cJSON *roots = cJSON_GetObjectItem(d, "root_causes"), *want = cJSON_GetObjectItem(c, "root_causes");
    int before = t_failed;
    CHECK(cJSON_GetArraySize(roots) == cJSON_GetArraySize(want));
    for (int i = 0; i < cJSON_GetArraySize(want); i++) {
      const cJSON *r = cJSON_GetArrayItem(roots, i);
      const char *code = r ? cJSON_GetObjectItem(r, "code")->valuestring : "(none)";
      CHECK_STR(code, cJSON_GetArrayItem(want, i)->valuestring);
      cJSON_AddItemToArray(named, cJSON_CreateString(code));
      CHECK(r && *cJSON_GetObjectItem(r, "say")->valuestring && *cJSON_GetObjectItem(r, "source")->valuestring);
      CHECK(r && cJSON_GetArraySize(cJSON_GetObjectItem(r, "evidence")) > 0);
    }
    const cJSON *x, *top = cJSON_GetArrayItem(roots, 0);
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(c, "explains")) {
      CHECK(has_string(cJSON_GetObjectItem(top, "explains"), x->valuestring));
      if (!has_string(cJSON_GetObjectItem(top, "explains"), x->valuestring))
        fprintf(stderr, "  %s: %s not explained\n", file, x->valuestring);
    }
    /* what a rule must not explain: the negative half of each rule's fixtures */
    const cJSON *neg;
    cJSON_ArrayForEach(neg, cJSON_GetObjectItem(c, "must_not_explain")) {
      cJSON_AddItemToArray(negatives, cJSON_CreateString(neg->string));
      const cJSON *r2, *item;
      cJSON_ArrayForEach(r2, roots) if (!strcmp(cJSON_GetObjectItem(r2, "code")->valuestring, neg->string))
          cJSON_ArrayForEach(item, neg) {
        CHECK(!has_string(cJSON_GetObjectItem(r2, "explains"), item->valuestring));
        if (has_string(cJSON_GetObjectItem(r2, "explains"), item->valuestring))
          fprintf(stderr, "  %s: %s explains %s\n", file, neg->string, item->valuestring);
      }
    }
    const cJSON *why = cJSON_GetObjectItem(d, "why");
    if (cJSON_GetArraySize(want) == 0) {
      CHECK(cJSON_IsNull(why) && cJSON_IsNull(cJSON_GetObjectItem(d, "first_step")));
    } else {
      CHECK(cJSON_IsString(why) && !strcmp(why->valuestring, cJSON_GetObjectItem(top, "say")->valuestring));
    }
    if (cJSON_GetObjectItem(c, "why_contains"))
      CHECK_CONTAINS(cJSON_IsString(why) ? why->valuestring : "", cJSON_GetObjectItem(c, "why_contains")->valuestring);
    if (t_failed != before) {
      char *t = cJSON_PrintUnformatted(d);
      fprintf(stderr, "  ^ in %s: %s\n", file, t);
      cJSON_free(t);
    }
    cJSON_Delete(d);
    cJSON_Delete(b);
  }
  /* every built-in rule has a fixture that names it */
  cJSON_ArrayForEach(c, rules) {
    const char *id = cJSON_GetObjectItem(c, "id")->valuestring;
    CHECK(has_string(named, id));
    if (!has_string(named, id)) fprintf(stderr, "  rule %s has no fixture\n", id);
    CHECK(has_string(negatives, id));
    if (!has_string(negatives, id)) fprintf(stderr, "  rule %s has no negative fixture (must_not_explain)\n", id);
  }
  cJSON_Delete(negatives);
  cJSON_Delete(named);
  cJSON_Delete(rules);
  cJSON_Delete(exp);
}

TEST(the_error_of_a_check_is_said_not_guessed) {
  cJSON *b = load("error-is-not-a-root-cause.json"), *rules = cg_diagnosis_rules(NULL);
  cJSON *d = cg_diagnose(cJSON_GetObjectItem(b, "checks"), rules);
  CHECK(has_string(cJSON_GetObjectItem(d, "not_checked"), "aadjoin"));
  cJSON_Delete(d);
  cJSON_Delete(rules);
  cJSON_Delete(b);
}

TEST(rules_from_the_configuration) {
  char err[512];
  cJSON *builtin = cJSON_Parse(cg_builtin_diagnosis_rules);
  CHECK(cg_diagnosis_rules_check(cJSON_GetObjectItem(builtin, "rules"), "built-in", err, sizeof(err)) == CG_OK);
  cJSON_Delete(builtin);
  /* a rule with a built-in id replaces it; a new one is added */
  cJSON *extra =
      cJSON_Parse("[{\"id\": \"SYSTEM_NO_PROXY\", \"rank\": 5, \"cause\": [\"netenv:NETENV_SYSTEM_NO_PROXY\"],"
                  " \"explains\": [\"cmgprobe:CMG_*\"], \"say\": \"Our proxy again.\", \"first_step\": \"Call "
                  "the network team.\", \"source\": \"https://intranet.example/proxy\"},"
                  " {\"id\": \"DISK\", \"rank\": 1, \"cause\": [\"device:DEVICE_LOW_DISK\"], \"explains\": [],"
                  " \"say\": \"The disk is full.\", \"first_step\": \"Run Disk Cleanup.\", \"source\": "
                  "\"https://intranet.example/disk\", \"basis\": \"documented\"}]");
  CHECK(cg_diagnosis_rules_check(extra, "diagnosis_rules", err, sizeof(err)) == CG_OK);
  cJSON *rules = cg_diagnosis_rules(extra);
  cJSON *b = load("two-causes-ranked.json");
  cJSON *d = cg_diagnose(cJSON_GetObjectItem(b, "checks"), rules);
  const cJSON *roots = cJSON_GetObjectItem(d, "root_causes");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(roots, 0), "code")->valuestring, "SYSTEM_NO_PROXY");
  CHECK_STR(cJSON_GetObjectItem(d, "why")->valuestring, "Our proxy again.");
  /* a prefix pattern: CMG_* explains the probe's timeout */
  CHECK(has_string(cJSON_GetObjectItem(cJSON_GetArrayItem(roots, 0), "explains"), "cmgprobe:CMG_CONNECT_TIMEOUT"));
  cJSON_Delete(d);
  cJSON_Delete(b);
  b = load("unexplained-failure.json");
  d = cg_diagnose(cJSON_GetObjectItem(b, "checks"), rules);
  CHECK_STR(cJSON_GetObjectItem(d, "why")->valuestring, "The disk is full.");
  cJSON_Delete(d);
  cJSON_Delete(b);
  cJSON_Delete(rules);
  cJSON_Delete(extra);
  /* refused, naming the rule and the key */
  static const char *const bad[] = {
      "{}",
      "[{\"id\": \"X\", \"rank\": 1, \"cause\": [], \"explains\": [], \"say\": \"s\", \"first_step\": \"f\", "
      "\"source\": \"u\"}]",
      "[{\"id\": \"X\", \"rank\": \"1\", \"cause\": [\"a:B\"], \"explains\": [], \"say\": \"s\", \"first_step\": "
      "\"f\", \"source\": \"u\"}]",
      "[{\"id\": \"X\", \"rank\": 1, \"cause\": [\"NOCOLON\"], \"explains\": [], \"say\": \"s\", \"first_step\": "
      "\"f\", \"source\": \"u\"}]",
      "[{\"id\": \"X\", \"rank\": 1, \"cause\": [\"a:B\"], \"explains\": [], \"say\": \"\", \"first_step\": \"f\", "
      "\"source\": \"u\"}]",
      "[{\"id\": \"X\", \"rank\": 1, \"cause\": [\"a:B\"], \"explains\": [], \"say\": \"s\", \"first_step\": \"f\", "
      "\"source\": \"u\", \"basis\": \"guess\"}]",
      "[{\"id\": \"X\", \"rank\": 1, \"cause\": [\"a:B\"], \"explains\": [], \"say\": \"s\", \"first_step\": \"f\", "
      "\"source\": \"u\", \"sayy\": \"typo\"}]",
  };
  static const char *const why[] = {"must be a list", "\"cause\" is a list", "\"rank\"",          "\"cause\" is a list",
                                    "needs \"say\"",  "\"basis\"",           "unknown key 'sayy'"};
  for (size_t i = 0; i < CG_ARRAY_LEN(bad); i++) {
    cJSON *r = cJSON_Parse(bad[i]);
    CHECK(cg_diagnosis_rules_check(r, "diagnosis_rules", err, sizeof(err)) == CG_ERR_CONFIG);
    CHECK_CONTAINS(err, why[i]);
    cJSON_Delete(r);
  }
}

TEST(bounded_on_a_huge_bundle) {
  /* thousands of findings: at most 256 are weighed, and the answer still comes */
  cJSON *checks = cJSON_CreateArray(), *r = cJSON_CreateObject(), *facts, *list;
  cJSON_AddStringToObject(r, "check", "clientlogs");
  cJSON_AddStringToObject(r, "status", "fail");
  cJSON_AddStringToObject(r, "code", "LOG_TLS_REVOCATION_FAILED");
  cJSON_AddStringToObject(r, "summary", "s");
  facts = cJSON_AddObjectToObject(r, "facts");
  list = cJSON_AddArrayToObject(facts, "findings");
  for (int i = 0; i < 5000; i++) {
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "code", "LOG_X");
    cJSON_AddStringToObject(f, "status", "fail");
    cJSON_AddItemToArray(list, f);
  }
  cJSON_AddItemToArray(checks, r);
  cJSON *rules = cg_diagnosis_rules(NULL), *d = cg_diagnose(checks, rules);
  CHECK(d && cJSON_GetArraySize(cJSON_GetObjectItem(d, "root_causes")) == 1);
  cJSON_Delete(d);
  cJSON_Delete(rules);
  cJSON_Delete(checks);
}

int main(int argc, char **argv) {
  cg_json_init_hooks();
  if (argc < 3) return 2;
  data_dir = argv[2];
  RUN(fixtures_name_the_right_root_causes);
  RUN(the_error_of_a_check_is_said_not_guessed);
  RUN(rules_from_the_configuration);
  RUN(bounded_on_a_huge_bundle);
  return test_finish("diagnosis");
}
