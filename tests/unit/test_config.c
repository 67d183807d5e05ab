/* Configuration: errors name the file and the key with a suggestion, types and ranges are
 * enforced, defaults are filled, --set is typed, Windows encodings are accepted, secrets redacted. */
#include <stdlib.h>

#include "config.h"
#include "redact.h"
#include "test.h"

static int load(struct cg_config *c, const char *text, char *err, const struct cg_config_override *ov) {
  memset(c, 0, sizeof(*c));
  return cg_config_load_text(c, text, strlen(text), "C:\\ProgramData\\cmgdiag\\cmgdiag.json", ov, err, 1024);
}

static void expect_error(const char *text, const char *needle1, const char *needle2) {
  struct cg_config c;
  char err[1024] = "";
  CHECK(load(&c, text, err, NULL) == CG_ERR_CONFIG);
  CHECK_CONTAINS(err, "C:\\ProgramData\\cmgdiag\\cmgdiag.json");
  CHECK_CONTAINS(err, needle1);
  if (needle2) CHECK_CONTAINS(err, needle2);
  cg_config_free(&c);
}

TEST(defaults_are_filled) {
  struct cg_config c;
  char err[1024] = "";
  CHECK(load(&c, "{}", err, NULL) == CG_OK);
  CHECK(c.interval_s == 3600 && c.jitter_s == 600);
  CHECK(c.spool.max_bytes == 20971520);
  CHECK(c.log.max_bytes == 250000);
  CHECK_STR(c.log.level, "info");
  CHECK(c.spool.dir && *c.spool.dir && c.log.file && *c.log.file);
  CHECK(cg_config_check_enabled(&c, "agent"));
  const cJSON *a = cg_config_check(&c, "agent");
  CHECK(cJSON_IsNumber(cJSON_GetObjectItem(a, "min_free_mb")));
  cg_config_free(&c);
}

TEST(values_are_read) {
  struct cg_config c;
  char err[1024] = "";
  CHECK(load(&c,
             "{\"interval_s\": 120, \"log\": {\"level\": \"DEBUG\", \"file\": \"/x/y.log\"},"
             " \"spool\": {\"dir\": \"/s\"}, \"checks\": {\"agent\": {\"enabled\": false}}}",
             err, NULL) == CG_OK);
  CHECK(c.interval_s == 120);
  CHECK_STR(c.log.file, "/x/y.log");
  CHECK_STR(c.spool.dir, "/s");
  CHECK(!cg_config_check_enabled(&c, "agent"));
  cg_config_free(&c);
}

TEST(unknown_keys_are_named_with_suggestion) {
  expect_error("{\"intervall_s\": 5}", "'intervall_s'", "did you mean 'interval_s'");
  expect_error("{\"log\": {\"levle\": \"info\"}}", "'log.levle'", "did you mean 'level'");
  expect_error("{\"checks\": {\"agent\": {\"enabeld\": true}}}", "'checks.agent.enabeld'", "did you mean 'enabled'");
  expect_error("{\"checks\": {\"agnet\": {}}}", "'checks.agnet'", "did you mean 'agent'");
  expect_error("{\"checks\": {\"zzzzzz\": {}}}", "compiled into this build: agent", NULL);
  expect_error("{\"completely_unrelated_name\": 1}", "unknown key 'completely_unrelated_name'", NULL);
}

TEST(wrong_types_are_named) {
  expect_error("{\"interval_s\": \"3600\"}", "'interval_s' must be a whole number, not a string", NULL);
  expect_error("{\"interval_s\": 36.5}", "'interval_s' must be a whole number", NULL);
  expect_error("{\"checks\": {\"agent\": {\"enabled\": \"yes\"}}}", "'checks.agent.enabled' must be true or false",
               NULL);
  expect_error("{\"spool\": []}", "'spool' must be an object, not a list", NULL);
  expect_error("{\"checks\": []}", "'checks' must be an object", NULL);
  expect_error("{\"outputs\": {}}", "'outputs' must be a list", NULL);
  expect_error("{\"outputs\": [{\"type\": \"s3\"}]}", "unknown output \"s3\"", NULL);
  expect_error("{\"outputs\": [42]}", "'outputs[0]' must be an object", NULL);
  expect_error("{\"interval_s\": 0}", "between 1 and 604800", NULL);
  expect_error("{\"profiles\": {\"gate\": {\"require\": [{\"check\": \"cmgprob\"}]}}}", "unknown check 'cmgprob'",
               NULL);
  expect_error("{\"profiles\": {\"gate\": {\"require\": [{\"check\": \"cmgprobe\", \"minimum\": 3}]}}}",
               "profiles.gate.require[0].minimum", NULL);
  expect_error("{\"profiles\": {\"gate\": {}}}", "\"require\" list", NULL);
  expect_error("{\"log\": {\"level\": \"chatty\"}}", "one of error|warning|info|debug", NULL);
  expect_error("{\"interval_s\": 60, \"interval_s\": 70}", "appears twice", NULL);
}

TEST(syntax_errors_have_a_position) {
  expect_error("{\n  \"interval_s\": 60,\n  oops\n}", "not valid JSON near line 3", NULL);
  expect_error("[1, 2]", "must be a JSON object", NULL);
  expect_error("", "not valid JSON", NULL);
  expect_error("{} trailing", "not valid JSON", NULL);
}

TEST(windows_encodings_are_accepted) {
  /* Notepad's UTF-8 BOM and PowerShell 5.1 Out-File's UTF-16LE. */
  const char bom[] = "\xEF\xBB\xBF{\"interval_s\": 61}";
  struct cg_config c;
  char err[1024] = "";
  memset(&c, 0, sizeof(c));
  CHECK(cg_config_load_text(&c, bom, sizeof(bom) - 1, "x.json", NULL, err, sizeof(err)) == CG_OK);
  CHECK(c.interval_s == 61);
  cg_config_free(&c);
  const char *ascii = "{\"interval_s\": 62}";
  char u16[64];
  size_t n = 0;
  u16[n++] = (char)0xFF;
  u16[n++] = (char)0xFE;
  for (const char *p = ascii; *p; p++) {
    u16[n++] = *p;
    u16[n++] = 0;
  }
  memset(&c, 0, sizeof(c));
  CHECK(cg_config_load_text(&c, u16, n, "x.json", NULL, err, sizeof(err)) == CG_OK);
  CHECK(c.interval_s == 62);
  cg_config_free(&c);
  /* UTF-16 without a BOM has NUL bytes: a clear error, not a crash. */
  memset(&c, 0, sizeof(c));
  CHECK(cg_config_load_text(&c, u16 + 2, n - 2, "x.json", NULL, err, sizeof(err)) == CG_ERR_CONFIG);
  CHECK_CONTAINS(err, "NUL bytes");
  cg_config_free(&c);
}

TEST(set_overrides_are_typed) {
  struct cg_config c;
  char err[1024] = "";
  const char *sets[] = {"enabled=no", "min_free_mb=5"};
  struct cg_config_override ov = {.check = "agent", .sets = sets, .count = 2};
  CHECK(load(&c, "{\"checks\": {\"agent\": {\"min_free_mb\": 900}}}", err, &ov) == CG_OK);
  const cJSON *a = cg_config_check(&c, "agent");
  CHECK(cJSON_IsFalse(cJSON_GetObjectItem(a, "enabled")));
  CHECK(cJSON_GetObjectItem(a, "min_free_mb")->valuedouble == 5);
  cg_config_free(&c);

  const char *bad_key[] = {"min_fre_mb=5"};
  ov.sets = bad_key;
  ov.count = 1;
  CHECK(load(&c, "{}", err, &ov) == CG_ERR_CONFIG);
  CHECK_CONTAINS(err, "not a setting of check 'agent'");
  CHECK_CONTAINS(err, "did you mean 'min_free_mb'");
  cg_config_free(&c);
  const char *bad_int[] = {"min_free_mb=lots"};
  ov.sets = bad_int;
  CHECK(load(&c, "{}", err, &ov) == CG_ERR_CONFIG);
  CHECK_CONTAINS(err, "must be a whole number");
  cg_config_free(&c);
  const char *no_eq[] = {"min_free_mb"};
  ov.sets = no_eq;
  CHECK(load(&c, "{}", err, &ov) == CG_ERR_USAGE);
  cg_config_free(&c);
  const char *range[] = {"min_free_mb=-1"};
  ov.sets = range;
  CHECK(load(&c, "{}", err, &ov) == CG_ERR_CONFIG);
  CHECK_CONTAINS(err, "between 0 and");
  cg_config_free(&c);
}

TEST(strlist_set_replaces_list) {
  /* A list-valued key: fill and --set semantics, through a map of its own. */
  struct ctx {
    struct cg_strlist l;
  } x = {{0}};
  static const struct cg_config_map map[] = {
      {CG_CFG_STRLIST, "resolve", "[]", "", offsetof(struct ctx, l), 0, 0, NULL, NULL},
      CG_CFG_END,
  };
  cJSON *o = cJSON_Parse("{\"resolve\": [\"a:443:1.2.3.4\", \"b:443:5.6.7.8\"]}");
  CHECK(cg_config_map_fill(map, o, &x) == CG_OK);
  CHECK(x.l.count == 2);
  CHECK_STR(x.l.items[1], "b:443:5.6.7.8");
  cg_config_map_release(map, &x);
  CHECK(x.l.count == 0 && x.l.items == NULL);
  cJSON_Delete(o);
  /* --set on a list key replaces the list with one element; an empty value empties it */
  char key[64], err[256];
  cJSON *v = NULL;
  CHECK(cg_config_parse_set(map, "cmgprobe", "resolve=cmg.contoso.com:443:127.0.0.1", key, sizeof(key), &v, err,
                            sizeof(err)) == CG_OK);
  CHECK_STR(key, "resolve");
  char *printed = cJSON_PrintUnformatted(v);
  CHECK_STR(printed, "[\"cmg.contoso.com:443:127.0.0.1\"]");
  cJSON_free(printed);
  cJSON_Delete(v);
  CHECK(cg_config_parse_set(map, "cmgprobe", "resolve=", key, sizeof(key), &v, err, sizeof(err)) == CG_OK);
  CHECK(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0);
  cJSON_Delete(v);
  CHECK(cg_config_parse_set(map, "cmgprobe", "resolv=x", key, sizeof(key), &v, err, sizeof(err)) == CG_ERR_CONFIG);
  CHECK_CONTAINS(err, "did you mean 'resolve'");
  CHECK(v == NULL);
}

TEST(huge_and_hostile_inputs) {
  struct cg_config c;
  char err[1024] = "";
  /* deeply nested garbage: rejected, no crash */
  static char deep[20000];
  memset(deep, '[', sizeof(deep) - 1);
  CHECK(load(&c, deep, err, NULL) == CG_ERR_CONFIG);
  cg_config_free(&c);
  /* a long string value in the wrong place names the key, does not echo megabytes */
  size_t n = 300000;
  const char *head = "{\"log\": {\"level\": \"";
  size_t h = strlen(head);
  char *big = malloc(n + 64);
  memcpy(big, head, h);
  memset(big + h, 'a', n);
  memcpy(big + h + n, "\"}}", 4);
  CHECK(load(&c, big, err, NULL) == CG_ERR_CONFIG);
  CHECK_CONTAINS(err, "'log.level' must be one of");
  CHECK(strlen(err) < 1024);
  cg_config_free(&c);
  free(big);
}

TEST(secrets_are_redacted_when_rendered) {
  struct cg_config c;
  char err[1024] = "";
  CHECK(load(&c, "{}", err, NULL) == CG_OK);
  /* Outputs with secrets arrive with the output plugins; the renderer must already hide them. */
  cJSON *outs = cJSON_GetObjectItem(c.root, "outputs");
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "sas_url", "https://acct.blob.core.windows.net/c?sv=2022&sig=SECRETSIG");
  cJSON_AddStringToObject(o, "url", "https://collector/ingest?code=1&sig=ALSOSECRET&x=1");
  cJSON_AddStringToObject(o, "bearer_token", "eyJhbGciOi");
  cJSON_AddStringToObject(o, "client_secret", "s3cr3t");
  cJSON_AddStringToObject(o, "PASSWORD", "hunter2");
  cJSON_AddItemToArray(outs, o);
  char *text = cg_config_render_redacted(&c);
  CHECK(text && !strstr(text, "SECRETSIG") && !strstr(text, "ALSOSECRET") && !strstr(text, "eyJhbGciOi") &&
        !strstr(text, "s3cr3t") && !strstr(text, "hunter2"));
  CHECK_CONTAINS(text, "code=<redacted>&sig=<redacted>&x=1"); /* code= is an Azure Functions key */
  CHECK_CONTAINS(text, "\"interval_s\":\t3600");
  cg_free(text);
  /* The live config keeps the real values. */
  CHECK_CONTAINS(cJSON_GetObjectItem(o, "sas_url")->valuestring, "SECRETSIG");
  cg_config_free(&c);
}

TEST(missing_explicit_file_is_an_error) {
  struct cg_config c;
  char err[1024] = "";
  CHECK(cg_config_load(&c, "/nonexistent/dir/cmgdiag.json", NULL, err, sizeof(err)) == CG_ERR_NOTFOUND);
  CHECK_CONTAINS(err, "/nonexistent/dir/cmgdiag.json");
  cg_config_free(&c);
}

int main(void) {
  cg_json_init_hooks();
  RUN(defaults_are_filled);
  RUN(values_are_read);
  RUN(unknown_keys_are_named_with_suggestion);
  RUN(wrong_types_are_named);
  RUN(syntax_errors_have_a_position);
  RUN(windows_encodings_are_accepted);
  RUN(set_overrides_are_typed);
  RUN(strlist_set_replaces_list);
  RUN(huge_and_hostile_inputs);
  RUN(secrets_are_redacted_when_rendered);
  RUN(missing_explicit_file_is_an_error);
  return test_finish("config");
}
