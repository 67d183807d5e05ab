/* Result model and rendering: the check result object (docs/commands.md "Check result"), overall verdicts, exit codes,
 * the report. */
#include <stdlib.h>

#include "result.h"
#include "voice.h"
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

/* What a helpdesk cannot read aloud, and what it can (docs/commands.md "Two voices") */
TEST(technical_tokens_are_found_and_plain_words_pass) {
  const char *tech[][2] = {
      {"tenant 72f988bf-86f1-41af-91ab-2d7cd011db47 here", "a GUID"},
      {"thumbprint 3F2A9C4D1B7E8A06C5D2F19E4B3A7C8D9E0F1A2B", "a thumbprint or serial number"},
      {"the user S-1-5-21-3623811015-3361044348-30300820-1013", "a SID"},
      {"failed (0x87d0027e)", "an error code"},
      {"Couldn't connect to server (curl error 7)", "a curl error"},
      {"Error 12157 happened", "an error number"},
      {"fails (WinHTTP 12030 / 12157)", "a WinHTTP error number"},
      {"AADSTS50126: invalid password", "an Entra error code"},
      {"Correlation ID: 3f2b", "a trace identifier"},
      {"it starts with \"\\x89PNG\"", "raw bytes"},
      {"3008 bytes of it", "a byte count"},
      {"77684 MB free", "a size in MB or KB"},
  };
  for (size_t i = 0; i < sizeof(tech) / sizeof(tech[0]); i++) {
    const char *what = NULL;
    CHECK(cg_voice_technical(tech[i][0], &what) != NULL);
    CHECK_STR(what ? what : "", tech[i][1]);
  }
  const char *plain[] = {
      "The CMG answered 403 CMGConnector_Forbidden on port 443 (HTTP 403).",
      "59.8 GB free on the system volume, 200 MB kept; judged as of 2026-11-25T00:00:00Z.",
      "WinHTTP's DefaultSecureProtocols is 0xA0, without TLS 1.2.",
      "The client version 5.00.9128.1000 is fine; cmg.contoso.com:443 answers; the deadbeef host; error-free.",
      "xS-1-5 and a0x123456 inside words are not tokens.",
  };
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
    CHECK(cg_voice_technical(plain[i], NULL) == NULL);
  CHECK(cg_voice_technical("1 byte left", NULL) && !cg_voice_technical("12 bytesize", NULL));
  CHECK(cg_voice_technical("72f988bf-86f1-41af-91ab-2d7cd011db47ab", NULL)); /* more hex after a GUID */
}

TEST(a_full_detail_keeps_the_group_in_the_sentence) {
  char buf[64] = "Not reachable (curl error 7).";
  struct cg_buf d;
  cg_buf_init(&d, 8);
  CHECK(cg_buf_puts(&d, "0x1") == CG_OK);
  CHECK(cg_voice_split(buf, &d) == CG_OK);
  CHECK_STR(buf, "Not reachable (curl error 7).");
  CHECK_STR(d.data, "0x1"); /* no dangling separator */
  cg_buf_free(&d);
}

static void split_case(const char *in, const char *sentence, const char *detail) {
  char buf[512];
  cg_strlcpy(buf, in, sizeof(buf));
  struct cg_buf d;
  cg_buf_init(&d, 4096);
  CHECK(cg_voice_split(buf, &d) == CG_OK);
  CHECK_STR(buf, sentence);
  CHECK_STR(d.data ? d.data : "", detail);
  cg_buf_free(&d);
}

TEST(split_moves_technical_brackets_to_the_detail) {
  split_case("The certificate CN=PC1 (thumbprint 3F2A9C4D1B7E8A06C5D2F19E4B3A7C8D9E0F1A2B) expired.",
             "The certificate CN=PC1 expired.", "thumbprint 3F2A9C4D1B7E8A06C5D2F19E4B3A7C8D9E0F1A2B");
  /* only the technical bracket inside: the words stay */
  split_case("Not reachable (mp01 port 1: Failed (reason) (curl error 7)), so it never tries the CMG.",
             "Not reachable (mp01 port 1: Failed (reason)), so it never tries the CMG.", "curl error 7");
  split_case("Not reachable (mp01 (0x80072EFD) (curl error 7)).", "Not reachable (mp01).", "0x80072EFD; curl error 7");
  split_case("Not reachable (thumbprint 3F2A9C4D1B7E8A06C5D2F19E4B3A7C8D9E0F1A2B (curl error 7)).", "Not reachable.",
             "thumbprint 3F2A9C4D1B7E8A06C5D2F19E4B3A7C8D9E0F1A2B (curl error 7)");
  /* a part is said once, a part that only starts like another is not lost */
  split_case("A (curl error 70) and (curl error 7) and (curl error 7).", "A and and.", "curl error 70; curl error 7");
  /* punctuation left behind goes with it */
  split_case("It failed: (0x80070005).", "It failed.", "0x80070005");
  split_case("It failed,\t(0x80070005); then.", "It failed; then.", "0x80070005");
  /* plain brackets stay; quoted brackets do not end a group; the same part is said once */
  split_case("It fails (HTTP 403) (0x87d0027e). Also: again (0x87d0027e).", "It fails (HTTP 403). Also: again.",
             "0x87d0027e");
  split_case("Garbage (starts with \"\\x00)\\x01\") here.", "Garbage here.", "starts with \"\\x00)\\x01\"");
  /* an unclosed bracket is left alone, and a sentence never becomes empty */
  split_case("Broken (curl error 7", "Broken (curl error 7", "");
  split_case("(curl error 7)", "(curl error 7)", ""); /* nothing else to say: it stays, said once */
}

TEST(detail_in_json_and_on_its_own_line) {
  struct cg_result rs[2];
  cg_result_init(&rs[0], "netenv");
  cg_result_set(&rs[0], CG_WARN, "NETENV_SYSTEM_NO_PROXY", "Give SYSTEM the proxy.",
                "The signed-in user goes through a proxy (the user's account: S-1-5-21-1-2-3-1013).");
  CHECK(cg_result_detail(&rs[0], "HKU %s", "key") == CG_OK);
  cJSON *j = cg_result_to_json(&rs[0]);
  CHECK_STR(cJSON_GetObjectItem(j, "summary")->valuestring, "The signed-in user goes through a proxy.");
  CHECK_STR(cJSON_GetObjectItem(j, "detail")->valuestring, "the user's account: S-1-5-21-1-2-3-1013; HKU key");
  cJSON_Delete(j);
  cg_result_init(&rs[1], "aadjoin");
  cg_result_set(&rs[1], CG_SKIP, "AAD_NOT_NEEDED", "Set checks.clientauth.mode to entra.", "Not Entra joined.");
  j = cg_result_to_json(&rs[1]);
  CHECK(cJSON_GetObjectItem(j, "detail") == NULL); /* no detail, no key */
  cJSON_Delete(j);
  char *text = render(rs, 2, false);
  CHECK_CONTAINS(text, "WARN  netenv        The signed-in user goes through a proxy.\n"
                       "                    Detail: the user's account: S-1-5-21-1-2-3-1013; HKU key\n"
                       "                    [NETENV_SYSTEM_NO_PROXY]\n"
                       "                    What to do: Give SYSTEM the proxy.\n");
  CHECK_CONTAINS(text, "[AAD_NOT_NEEDED]\n                    For your administrator: Set checks.clientauth.mode");
  free(text);
  cg_result_free(&rs[0]);
  cg_result_free(&rs[1]);
}

int main(void) {
  cg_json_init_hooks();
  RUN(json_has_exactly_the_contract_keys);
  RUN(overall_and_exit_codes);
  RUN(report_lines_and_colour);
  RUN(technical_tokens_are_found_and_plain_words_pass);
  RUN(split_moves_technical_brackets_to_the_detail);
  RUN(a_full_detail_keeps_the_group_in_the_sentence);
  RUN(detail_in_json_and_on_its_own_line);
  return test_finish("result");
}
