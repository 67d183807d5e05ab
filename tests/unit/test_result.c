/* Result model and rendering: the check result object (docs/commands.md "Check result"), overall verdicts, exit codes,
 * the report. */
#include <stdlib.h>

#include "result.h"
#include "test.h"

static char *render(const struct cg_result *rs, size_t n, bool color) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = tmpfile();
  struct cg_report_opts o = {.color = color, .title = "title line"};
  cg_report_print(f, rs, n, &o);
  long size = ftell(f);
  rewind(f);
  buf = calloc(1, (size_t)size + 1);
  len = fread(buf, 1, (size_t)size, f);
  buf[len] = '\0';
  fclose(f);
  return buf;
}

TEST(json_has_exactly_the_contract_keys) {
  struct cg_result r;
  CHECK(cg_result_init(&r, "aadjoin") == CG_OK);
  CHECK(cg_result_set(&r, CG_FAIL, "AAD_NOT_JOINED", "Join the device.", "Device is not joined (%d).", 7) == CG_OK);
  cJSON_AddStringToObject(r.facts, "join_type", "not_joined");
  r.duration_ms = 12;
  cJSON *j = cg_result_to_json(&r);
  const char *keys[] = {"check", "status", "code", "summary", "remediation", "facts", "duration_ms"};
  size_t i = 0;
  for (cJSON *c = j->child; c; c = c->next, i++)
    CHECK(i < 7 && strcmp(c->string, keys[i]) == 0);
  CHECK(i == 7);
  CHECK_STR(cJSON_GetObjectItem(j, "status")->valuestring, "fail");
  CHECK_STR(cJSON_GetObjectItem(j, "summary")->valuestring, "Device is not joined (7).");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "facts"), "join_type")->valuestring, "not_joined");
  CHECK(cJSON_GetObjectItem(j, "duration_ms")->valuedouble == 12);
  cJSON_Delete(j);
  /* A pass has an empty remediation, not null. */
  CHECK(cg_result_set(&r, CG_PASS, "AAD_OK", NULL, "Fine.") == CG_OK);
  j = cg_result_to_json(&r);
  CHECK_STR(cJSON_GetObjectItem(j, "remediation")->valuestring, "");
  cJSON_Delete(j);
  cg_result_free(&r);
}

TEST(overall_and_exit_codes) {
  struct cg_result rs[3];
  for (int i = 0; i < 3; i++)
    cg_result_init(&rs[i], "x");
  rs[0].status = CG_PASS;
  rs[1].status = CG_SKIP;
  rs[2].status = CG_PASS;
  CHECK(cg_results_overall(rs, 3) == CG_PASS);
  CHECK(cg_verdict_exit_code(cg_results_overall(rs, 3)) == 0);
  rs[1].status = CG_WARN;
  CHECK(cg_results_overall(rs, 3) == CG_WARN);
  CHECK(cg_verdict_exit_code(CG_WARN) == 1);
  rs[2].status = CG_ERROR;
  CHECK(cg_results_overall(rs, 3) == CG_FAIL);
  rs[2].status = CG_FAIL;
  CHECK(cg_verdict_exit_code(cg_results_overall(rs, 3)) == 2);
  CHECK(cg_results_overall(rs, 0) == CG_PASS);
  for (int i = 0; i < 3; i++)
    cg_result_free(&rs[i]);
}

TEST(report_lines_and_colour) {
  struct cg_result rs[2];
  cg_result_init(&rs[0], "agent");
  cg_result_set(&rs[0], CG_PASS, "AGENT_OK", NULL, "All good.");
  cg_result_init(&rs[1], "cmgprobe");
  cg_result_set(&rs[1], CG_FAIL, "CMG_TLS_UNTRUSTED", "Publish the CRL on the internet.",
                "The CMG certificate is not trusted.");
  char *plain = render(rs, 2, false);
  CHECK_CONTAINS(plain, "title line\n");
  CHECK_CONTAINS(plain, "PASS  agent         All good.");
  CHECK_CONTAINS(plain, "FAIL  cmgprobe      The CMG certificate is not trusted.");
  CHECK_CONTAINS(plain, "What to do: Publish the CRL on the internet.");
  CHECK_CONTAINS(plain, "Overall: FAIL (1 pass, 0 warn, 1 fail, 0 skip, 0 error)");
  CHECK(!strchr(plain, '\033'));
  char *colored = render(rs, 2, true);
  CHECK_CONTAINS(colored, "\033[31mFAIL \033[0m");
  CHECK_CONTAINS(colored, "\033[32mPASS \033[0m");
  free(plain);
  free(colored);
  /* Long summaries wrap under the summary column. */
  char long_text[400];
  memset(long_text, 0, sizeof(long_text));
  for (int i = 0; i < 40; i++)
    memcpy(long_text + i * 9, "wordword ", 9);
  cg_result_set(&rs[0], CG_PASS, "AGENT_OK", NULL, "%s", long_text);
  char *wrapped = render(rs, 1, false);
  CHECK_CONTAINS(wrapped, "\n                    wordword");
  for (char *line = wrapped; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
    size_t n = strcspn(line, "\n");
    CHECK(n <= 100);
  }
  free(wrapped);
  cg_result_free(&rs[0]);
  cg_result_free(&rs[1]);
}

int main(void) {
  cg_json_init_hooks();
  RUN(json_has_exactly_the_contract_keys);
  RUN(overall_and_exit_codes);
  RUN(report_lines_and_colour);
  return test_finish("result");
}
