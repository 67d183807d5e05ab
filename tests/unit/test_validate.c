/* The gate over synthetic bundles: profiles as data (built in, replaced, extended by id, dropped),
 * blocking and warning requirements, the count that matches what the line lists, "and N more",
 * "could not be checked", and a fact quoted into the sentence. */
#include <stdlib.h>

#include "validate.h"
#include "test.h"

static cJSON *bundle(const char *checks_json, int pending) {
  char *t = cg_asprintf("{\"schema\": \"cmgdiag.bundle/1\", \"device\": {\"cmg_host\": \"cmg.contoso.com\"}, "
                        "\"spool\": {\"pending\": %d}, \"checks\": %s}",
                        pending, checks_json);
  cJSON *b = cJSON_Parse(t);
  cg_free(t);
  return b;
}

static const char healthy[] =
    "[{\"check\": \"clientauth\", \"status\": \"pass\", \"code\": \"CLIENTAUTH_PKI_OK\", \"facts\": {\"reason\": "
    "\"\"}},"
    " {\"check\": \"mpcandidates\", \"status\": \"pass\", \"facts\": {\"cmg_present\": true, \"currently_internet\": "
    "false, \"false_intranet\": false}},"
    " {\"check\": \"cmgprobe\", \"status\": \"pass\", \"facts\": {\"host\": \"cmg.contoso.com\", \"mplist_total\": 2,"
    "  \"mp_list_answered\": true,"
    "  \"tls\": {\"days_to_expiry\": 20}, \"clock_skew_s\": 3}}]";

TEST(builtin_pre_upgrade_ready_with_warnings) {
  char err[256], line[CG_VALIDATE_LINE_MAX + 1];
  bool ready = false;
  cJSON *cfg = cJSON_Parse("{}"), *p = cg_profile_resolve(cfg, "pre-upgrade", err, sizeof(err)),
        *b = bundle(healthy, 12);
  CHECK(p != NULL);
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK(ready);
  CHECK_CONTAINS(line, "READY (pre-upgrade): all 15 blocking requirement(s) met; CMG cmg.contoso.com. Warnings: ");
  /* device and content did not run here: said as warnings, never blocking, never silent */
  CHECK_CONTAINS(line, "could not tell whether the upgrade content comes through the CMG in time: the content "
                       "check did not run");
  CHECK_CONTAINS(line, "expires within 30 days");
  CHECK_CONTAINS(line, "on the intranet or VPN now");
  CHECK_CONTAINS(line, "wait in its spool");
  cJSON_Delete(p);
  cJSON_Delete(b);
  cJSON_Delete(cfg);
}

/* A CMG that answered only ServiceMetadata (a URL without an MP id) is reachable, not usable:
 * the probe warns, and the gate's cmg-usable is not met. */
TEST(a_cmg_reachable_but_not_proven_is_not_usable) {
  char err[256], line[CG_VALIDATE_LINE_MAX + 1];
  bool ready = true;
  cJSON *cfg = cJSON_Parse("{}"), *p = cg_profile_resolve(cfg, "pre-upgrade", err, sizeof(err));
  cJSON *b =
      bundle("[{\"check\": \"clientauth\", \"status\": \"pass\", \"facts\": {}},"
             " {\"check\": \"mpcandidates\", \"status\": \"pass\", \"facts\": {\"cmg_present\": true}},"
             " {\"check\": \"cmgprobe\", \"status\": \"warn\", \"code\": \"CMG_REACHABLE_UNPROVEN\", \"facts\": "
             "{\"host\": \"cmg.contoso.com\", \"mp_list_answered\": false, \"tls\": {\"days_to_expiry\": 200}}}]",
             0);
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK(!ready);
  CHECK_CONTAINS(line, "the CMG cannot be used from here (a management point request through it must return an MP "
                       "list) (cmgprobe mp_list_answered false)");
  cJSON_Delete(p);
  cJSON_Delete(b);
  cJSON_Delete(cfg);
}

TEST(not_ready_quotes_the_fact_and_counts_what_it_lists) {
  char err[256], line[CG_VALIDATE_LINE_MAX + 1];
  bool ready = true;
  cJSON *cfg = cJSON_Parse("{}"), *p = cg_profile_resolve(cfg, "pre-upgrade", err, sizeof(err));
  /* cmgprobe failed: its missing facts are not listed again as "could not be checked" */
  cJSON *b = bundle("[{\"check\": \"clientauth\", \"status\": \"fail\", \"code\": \"CLIENTAUTH_NONE\", \"facts\": "
                    "{\"reason\": \"its only client-authentication certificate CN=pc1 expired on 2026-10-01\"}},"
                    " {\"check\": \"mpcandidates\", \"status\": \"pass\", \"facts\": {\"cmg_present\": true}},"
                    " {\"check\": \"cmgprobe\", \"status\": \"fail\", \"code\": \"CMG_DNS_FAILURE\", \"facts\": {}}]",
                    0);
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK(!ready);
  CHECK(strncmp(line,
                "NOT READY (pre-upgrade): 2 of 15 blocking requirement(s) not met: the client cannot "
                "authenticate to the CMG: its only client-authentication certificate CN=pc1 expired on 2026-10-01 "
                "(fail CLIENTAUTH_NONE); the CMG cannot be used from here (a management point request through it "
                "must return an MP list) (fail CMG_DNS_FAILURE). Warnings: ",
                300) == 0);
  cJSON_Delete(b);
  /* a check that did not run at all */
  b = bundle("[{\"check\": \"clientauth\", \"status\": \"pass\", \"facts\": {}}]", 0);
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK_CONTAINS(line, "could not tell whether the client has a CMG in its management point list: the mpcandidates "
                       "check did not run (it is disabled)");
  CHECK_CONTAINS(line, ": 5 of 15 blocking");
  cJSON_Delete(b);
  cJSON_Delete(p);
  cJSON_Delete(cfg);
}

TEST(profiles_replace_extend_and_drop) {
  char err[256] = "", line[CG_VALIDATE_LINE_MAX + 1];
  bool ready;
  cJSON *cfg = cJSON_Parse(
      "{\"profiles\": {\"pre-upgrade\": {\"extends\": \"pre-upgrade\", \"drop\": [\"clock\", \"backlog\"],"
      " \"require\": [{\"id\": \"cmg-cert\", \"check\": \"cmgprobe\", \"fact\": \"tls.days_to_expiry\", \"min\": 30,"
      " \"why\": \"the CMG certificate must last a month\"}, {\"id\": \"extra\", \"severity\": \"warn\", \"bundle\":"
      " \"spool.pending\", \"max\": 0, \"why\": \"spool not empty\"}]},"
      " \"mine\": {\"description\": \"probe only\", \"require\": [{\"check\": \"cmgprobe\", \"status\": [\"pass\"]}]},"
      " \"loop\": {\"extends\": \"loop2\"}, \"loop2\": {\"extends\": \"loop\"}}}");
  cJSON *p = cg_profile_resolve(cfg, "pre-upgrade", err, sizeof(err)), *b = bundle(healthy, 1);
  CHECK(p && cJSON_GetArraySize(cJSON_GetObjectItem(p, "require")) == 21); /* 22 - 2 dropped + 1 new */
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK(!ready); /* the replaced cmg-cert asks for 30 days, the certificate has 20 */
  CHECK_CONTAINS(line, "1 of 14 blocking requirement(s) not met: the CMG certificate must last a month");
  CHECK_CONTAINS(line, "spool not empty");
  cJSON_Delete(p);
  CHECK(cg_profile_resolve(cfg, "loop", err, sizeof(err)) == NULL);
  CHECK_CONTAINS(err, "chain");
  CHECK(cg_profile_resolve(cfg, "nope", err, sizeof(err)) == NULL);
  CHECK_CONTAINS(err, "known: pre-upgrade, mine, loop, loop2");
  cJSON *cat = cg_profile_catalogue(cfg);
  char *t = cJSON_PrintUnformatted(cat);
  CHECK_CONTAINS(t, "{\"name\":\"pre-upgrade\",\"origin\":\"configuration, extends pre-upgrade (built in)\"");
  CHECK_CONTAINS(t, "\"blocking\":14,\"warning\":7}");
  CHECK_CONTAINS(
      t,
      "{\"name\":\"mine\",\"origin\":\"configuration\",\"description\":\"probe only\",\"blocking\":1,\"warning\":0}");
  cJSON_free(t);
  cJSON_Delete(cat);
  cJSON_Delete(b);
  cJSON_Delete(cfg);
}

TEST(the_line_fits_and_says_how_many_more) {
  char err[256], line[CG_VALIDATE_LINE_MAX + 1];
  bool ready;
  struct cg_buf req;
  cg_buf_init(&req, 1 << 20);
  cg_buf_puts(&req, "{\"profiles\": {\"many\": {\"require\": [");
  for (int i = 0; i < 60; i++)
    cg_buf_printf(&req,
                  "%s{\"check\": \"cmgprobe\", \"fact\": \"tls.days_to_expiry\", \"min\": %d, \"why\": \"requirement "
                  "%d, a long sentence about the certificate that goes on and on\"}",
                  i ? "," : "", 100 + i, i);
  cg_buf_puts(&req, "]}}}");
  cJSON *cfg = cJSON_Parse(req.data), *p = cg_profile_resolve(cfg, "many", err, sizeof(err)), *b = bundle(healthy, 0);
  cg_validate_eval(p, "many", b, &ready, line, sizeof(line));
  CHECK(strlen(line) <= CG_VALIDATE_LINE_MAX && strlen(line) > 1800);
  CHECK_CONTAINS(line, "NOT READY (many): 60 of 60 blocking requirement(s) not met: requirement 0,");
  const char *more = strstr(line, " and ");
  int listed = 1;
  for (const char *q = line; (q = strstr(q, "; ")) != NULL; q++)
    listed++;
  CHECK(more != NULL);
  const char *tail = strstr(line, " more.");
  CHECK(tail && tail[6] == '\0');
  const char *num = tail;
  while (num > line && num[-1] >= '0' && num[-1] <= '9')
    num--;
  int64_t more_n = 0;
  char digits[16];
  cg_snprintf(digits, sizeof(digits), "%.*s", (int)(tail - num), num);
  CHECK(cg_parse_i64(digits, &more_n));
  CHECK(listed + more_n == 60); /* what is listed plus what "and N more" counts */
  cJSON_Delete(p);
  cJSON_Delete(b);
  cJSON_Delete(cfg);
  cg_buf_free(&req);
}

TEST(device_and_content_from_a_capture) {
  char err[256], line[CG_VALIDATE_LINE_MAX + 1];
  bool ready = true;
  cJSON *cfg = cJSON_Parse("{}"), *p = cg_profile_resolve(cfg, "pre-upgrade", err, sizeof(err));
  char *checks = cg_asprintf(
      "[%.*s, {\"check\": \"device\", \"status\": \"fail\", \"code\": \"DEVICE_LOW_DISK\", \"facts\": "
      "{\"system_free_mb\": 9000, \"reboot_pending\": true, \"reboot_reason\": \"component servicing (CBS "
      "RebootPending)\", \"power_ok\": false, \"ccmexec_running\": true, \"provisioning_mode\": false}},"
      " {\"check\": \"content\", \"status\": \"skip\", \"code\": \"CONTENT_NOT_CONFIGURED\", \"summary\": "
      "\"The content path was not checked: no test object is configured (checks.content.urls).\", \"facts\": {}}]",
      (int)strlen(healthy) - 2, healthy + 1);
  cJSON *b = bundle(checks, 0);
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK(!ready);
  CHECK_CONTAINS(line, "3 of 15 blocking requirement(s) not met: the system volume has less than 20 GB free (device "
                       "system_free_mb 9000); a restart is pending (component servicing (CBS RebootPending)) (device "
                       "reboot_pending true); the device runs on a low battery (plug it in) (device power_ok false).");
  CHECK_CONTAINS(line, "could not tell whether the upgrade content comes through the CMG in time: The content path was "
                       "not checked: no test object is configured (checks.content.urls)");
  CHECK(!strstr(line, "Why:")); /* no diagnosis in this bundle: nothing to add */
  /* a root cause a rule names is said after what blocks; one that is only a check's own failure is
   * already in the line */
  cJSON *diag = cJSON_Parse("{\"root_causes\": [{\"code\": \"SYSTEM_NO_PROXY\", \"basis\": \"documented\", "
                            "\"say\": \"SYSTEM has no way through the proxy.\"}]}");
  cJSON_AddItemToObject(b, "diagnosis", diag);
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK_CONTAINS(line, "(device power_ok false). Why: SYSTEM has no way through the proxy. Warnings: ");
  cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(diag, "root_causes"), 0), "basis",
                            cJSON_CreateString("check"));
  cg_validate_eval(p, "pre-upgrade", b, &ready, line, sizeof(line));
  CHECK(!strstr(line, "Why:"));
  cg_free(checks);
  cJSON_Delete(b);
  cJSON_Delete(p);
  cJSON_Delete(cfg);
}

/* Readiness findings through the gate, and the gate as data (validate --json, the bundle's "gate"). */
TEST(readiness_requirements_and_the_gate_as_data) {
  char err[256], line[CG_VALIDATE_LINE_MAX + 1];
  bool ready = false;
  cJSON *cfg = cJSON_Parse("{}"), *p = cg_profile_resolve(cfg, "pre-upgrade", err, sizeof(err));
  static const char dev[] = "{\"check\": \"device\", \"status\": \"pass\", \"code\": \"DEVICE_READY\", \"facts\": "
                            "{\"system_free_mb\": 60000, \"reboot_pending\": false, \"file_renames_pending\": %s, "
                            "\"power_ok\": true, \"ccmexec_running\": true, \"provisioning_mode\": false, "
                            "\"cache_fits_upgrade\": %s, \"downloads_blocked\": %s, \"downloads_limited\": false}}";
  struct {
    const char *renames, *cache, *blocked;
    bool ready;
    const char *says;
  } cases[] = {
      {"true", "true", "false", true, "files wait to be renamed at the next restart"},
      {"false", "false", "false", false, "the client cache is smaller than the upgrade content"},
      {"false", "true", "true", false, "the client transfers nothing on this connection"},
  };
  for (size_t i = 0; i < CG_ARRAY_LEN(cases); i++) {
    char *d = cg_asprintf(dev, cases[i].renames, cases[i].cache, cases[i].blocked);
    char *checks = cg_asprintf("[%.*s, %s]", (int)strlen(healthy) - 2, healthy + 1, d);
    cJSON *b = bundle(checks, 0);
    cJSON *g = cg_validate_gate(p, "pre-upgrade", b, &ready, line, sizeof(line));
    CHECK(ready == cases[i].ready);
    CHECK_CONTAINS(line, cases[i].says);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(g, "verdict")), cases[i].ready ? "ready" : "not ready");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(g, "profile")), "pre-upgrade");
    /* each listed requirement has its id and the sentence the line says */
    const cJSON *list = cJSON_GetObjectItem(g, cases[i].ready ? "warnings" : "blocking"), *it;
    bool found = false;
    cJSON_ArrayForEach(it, list) {
      const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(it, "id"));
      const char *sentence = cJSON_GetStringValue(cJSON_GetObjectItem(it, "sentence"));
      CHECK(id && *id && sentence && strstr(line, sentence));
      found |= sentence && strstr(sentence, cases[i].says) != NULL;
    }
    CHECK(found);
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(g, "not_checked")));
    cJSON_Delete(g);
    cJSON_Delete(b);
    cg_free(checks);
    cg_free(d);
  }
  cJSON_Delete(p);
  cJSON_Delete(cfg);
}

int main(void) {
  cg_json_init_hooks();
  RUN(builtin_pre_upgrade_ready_with_warnings);
  RUN(a_cmg_reachable_but_not_proven_is_not_usable);
  RUN(not_ready_quotes_the_fact_and_counts_what_it_lists);
  RUN(profiles_replace_extend_and_drop);
  RUN(the_line_fits_and_says_how_many_more);
  RUN(device_and_content_from_a_capture);
  RUN(readiness_requirements_and_the_gate_as_data);
  return test_finish("validate");
}
