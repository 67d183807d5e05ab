/* clientlogs incremental reading on a live log folder built here: a second cycle reports only what
 * is new, an entry being written is left for the next cycle, rotation to .lo_ between cycles is
 * followed (the old file's tail is read), truncation restarts at 0, the state survives a restart,
 * and a 5 MB log is capped at max_bytes_per_file.
 *   test_check_clientlogs SCRATCH_DIR */
#include <stdlib.h>

#include "config.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "runner.h"
#include "logstate.h"
#include "../unit/test.h"

static const char *dir;
static char *logs, *state, *cfg_json;

static void entry(struct cg_buf *b, const char *msg, int type) {
  cg_buf_printf(b,
                "<![LOG[%s]LOG]!><time=\"10:00:00.000+000\" date=\"11-25-2026\" component=\"CcmMessaging\" "
                "context=\"\" type=\"%d\" thread=\"1\" file=\"x.cpp:1\">\r\n",
                msg, type);
}

static void entry_at(struct cg_buf *b, const char *msg, int type, const char *time) {
  cg_buf_printf(b,
                "<![LOG[%s]LOG]!><time=\"%s.000+000\" date=\"11-26-2026\" component=\"CcmMessaging\" "
                "context=\"\" type=\"%d\" thread=\"1\" file=\"x.cpp:1\">\r\n",
                msg, time, type);
}

static void append(const char *name, const char *text) {
  char *p = cg_path_join(logs, name);
  cg_file_append(p, text, strlen(text));
  cg_free(p);
}

static int run(struct cg_result *r, const char *extra_set) {
  const char *sets[2] = {"max_age_hours=0", extra_set};
  struct cg_config_override ov = {.check = "clientlogs", .sets = sets, .count = extra_set ? 2 : 1};
  struct cg_config cfg;
  char err[512];
  memset(&cfg, 0, sizeof(cfg));
  int rc = cg_config_load_text(&cfg, cfg_json, strlen(cfg_json), "t.json", &ov, err, sizeof(err));
  if (rc != CG_OK) {
    fprintf(stderr, "%s\n", err);
    return rc;
  }
  struct cg_env env = {.config = &cfg};
  cg_run_check(cg_registry_find_check("clientlogs"), &env, r);
  cg_config_free(&cfg);
  return CG_OK;
}

static double num(const struct cg_result *r, const char *k) {
  const cJSON *v = cJSON_GetObjectItem(r->facts, k);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const cJSON *finding(const struct cg_result *r, const char *code) {
  for (const cJSON *f = cJSON_GetObjectItem(r->facts, "findings")->child; f; f = f->next)
    if (!strcmp(cJSON_GetObjectItem(f, "code")->valuestring, code)) return f;
  return NULL;
}

TEST(cycles) {
  struct cg_buf b;
  struct cg_result r;
  cg_buf_init(&b, 1 << 20);
  entry(&b, "Appending CCM Token to the header.", 1);
  entry(&b, "[CCMHTTP] ERROR INFO: StatusCode=403 StatusText=CMGConnector_Forbidden", 3);
  append("CcmMessaging.log", b.data);
  CHECK(run(&r, NULL) == CG_OK);
  CHECK_STR(r.code, "LOG_CMG_FORBIDDEN");
  CHECK(num(&r, "entries_new") == 2);
  cg_result_free(&r);

  /* second cycle, nothing new: the failure is still the last state (logs are a state, not a history) */
  CHECK(run(&r, NULL) == CG_OK);
  CHECK_STR(r.code, "LOG_CMG_FORBIDDEN");
  CHECK(num(&r, "entries_new") == 0);
  CHECK_STR(cJSON_GetObjectItem(finding(&r, "LOG_CMG_FORBIDDEN"), "state")->valuestring, "active");
  cg_result_free(&r);

  /* one new entry plus one being written: only the complete one is read */
  b.len = 0;
  entry(&b, "Appending CCM Token to the header.", 1);
  append("CcmMessaging.log", b.data);
  append("CcmMessaging.log", "<![LOG[[CCMHTTP] ERROR: URL=https://cmg/x, Code=12175, Text=ERROR_WINHTTP_SEC");
  CHECK(run(&r, NULL) == CG_OK);
  CHECK(num(&r, "entries_new") == 1);
  CHECK_STR(r.code, "LOG_CMG_FORBIDDEN");
  const cJSON *log0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r.facts, "logs"), 0);
  CHECK(cJSON_GetObjectItem(log0, "pending_bytes")->valuedouble > 0);
  cg_result_free(&r);

  /* the writer finishes the entry: the next cycle reads it whole */
  append("CcmMessaging.log",
         "URE_FAILURE]LOG]!><time=\"10:00:01.000+000\" date=\"11-25-2026\" component=\"CcmMessaging\" "
         "context=\"\" type=\"3\" thread=\"1\" file=\"x.cpp:1\">\r\n");
  CHECK(run(&r, NULL) == CG_OK);
  CHECK(num(&r, "entries_new") == 1);
  CHECK(finding(&r, "LOG_TLS_SECURE_FAILURE") != NULL);
  cg_result_free(&r);

  /* rotation between cycles: new entries land in the old file, which becomes .lo_; a new .log starts */
  b.len = 0;
  entry(&b, "Failed to get CCM access token and client doesn't have PKI issued cert to use SSL. Error 0x80070002", 3);
  append("CcmMessaging.log", b.data);
  char *cur = cg_path_join(logs, "CcmMessaging.log"), *old = cg_path_join(logs, "CcmMessaging.lo_");
  CHECK(cg_file_rename(cur, old) == CG_OK);
  b.len = 0;
  entry(&b, "[CCMHTTP] ERROR: URL=https://cmg/x, Code=12007, Text=ERROR_WINHTTP_NAME_NOT_RESOLVED", 3);
  append("CcmMessaging.log", b.data);
  CHECK(run(&r, NULL) == CG_OK);
  CHECK(num(&r, "entries_new") == 2);
  CHECK(finding(&r, "LOG_CCM_TOKEN_FAILED") != NULL); /* from the rotated file's tail */
  CHECK(finding(&r, "LOG_NAME_NOT_RESOLVED") != NULL);
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r.facts, "logs"), 0), "rotated")));
  cg_result_free(&r);

  /* truncation: the file starts over, shorter than the saved position */
  char err[256];
  b.len = 0;
  entry(&b, "0x87d00455 CCM_E_NO_TOKEN_AUTH", 3);
  CHECK(cg_file_write_atomic(cur, b.data, b.len, err, sizeof(err)) == CG_OK);
  CHECK(run(&r, NULL) == CG_OK);
  CHECK(num(&r, "entries_new") == 1);
  CHECK(finding(&r, "LOG_NO_TOKEN_AUTH") != NULL);
  cg_result_free(&r);

  /* the positions are in the state folder (they survive a restart of the agent) */
  char *sp = cg_path_join(state, "clientlogs-state.json");
  CHECK(cg_file_exists(sp));
  CHECK(run(&r, NULL) == CG_OK);
  CHECK(num(&r, "entries_new") == 0);
  cg_result_free(&r);
  /* ... and without them, everything is new again */
  cg_file_remove(sp);
  CHECK(run(&r, NULL) == CG_OK);
  CHECK(num(&r, "entries_new") == 1);
  cg_result_free(&r);
  cg_free(sp);
  cg_free(cur);
  cg_free(old);
  cg_buf_free(&b);
}

TEST(big_log_is_capped) {
  struct cg_buf b;
  struct cg_result r;
  char *sp = cg_path_join(state, "clientlogs-state.json");
  cg_file_remove(sp); /* what the previous test left open */
  cg_free(sp);
  cg_buf_init(&b, 8 << 20);
  while (b.len < 5 * 1024 * 1024)
    entry(&b, "Current AD site of machine is Default-First-Site-Name, nothing to see", 1);
  entry(&b, "[CCMHTTP] ERROR INFO: StatusCode=403 StatusText=CMGConnector_Forbidden", 3);
  char *p = cg_path_join(logs, "LocationServices.log");
  char err[256];
  CHECK(cg_file_write_atomic(p, b.data, b.len, err, sizeof(err)) == CG_OK);
  CHECK(run(&r, "max_bytes_per_file=1048576") == CG_OK);
  CHECK_STR(r.code, "LOG_CMG_FORBIDDEN"); /* the newest part is the part that is read */
  const cJSON *l = NULL;
  for (const cJSON *x = cJSON_GetObjectItem(r.facts, "logs")->child; x; x = x->next)
    if (!strcmp(cJSON_GetObjectItem(x, "name")->valuestring, "LocationServices.log")) l = x;
  CHECK(l && cJSON_GetObjectItem(l, "bytes_read")->valuedouble <= 1048576);
  /* first sight: only the newest MiB is read, and what was left out is said */
  CHECK(l && cJSON_GetObjectItem(l, "skipped_bytes")->valuedouble > 4 * 1024 * 1024 - 1048576);
  cg_result_free(&r);
  cg_free(p);
  cg_buf_free(&b);
}

/* The server a line is about, from the three ways client logs name one; garbage names none. */
TEST(targets) {
  char h[LS_HOST];
  bool cmg;
  const char *a = "[CCMHTTP] ERROR: URL=https://CMG.Contoso.com:443/CCM_Proxy_ServerAuth/1/x, Port=443";
  CHECK(ls_target(a, strlen(a), h, &cmg) && !strcmp(h, "cmg.contoso.com") && cmg);
  const char *b = "SMS CCM 5.0: Host=cmg.cloudapp.net, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=1, Port=443";
  CHECK(ls_target(b, strlen(b), h, &cmg) && !strcmp(h, "cmg.cloudapp.net") && cmg);
  const char *c = "Internet MPs have changed: CMG.CONTOSO.COM/CCM_Proxy_MutualAuth/72057594037927939";
  CHECK(ls_target(c, strlen(c), h, &cmg) && !strcmp(h, "cmg.contoso.com") && cmg);
  const char *d = "failed: http://dp01.corp.contoso.com/SMS_DP_SMSPKG$/PS100012/setup.exe, error 0x80190194";
  CHECK(ls_target(d, strlen(d), h, &cmg) && !strcmp(h, "dp01.corp.contoso.com") && !cmg);
  const char *none[] = {"://", "Host=", "Host=,", "/CCM_Proxy_", "https://nodot/x", "\xff\xfe://\x00h\x00", ""};
  for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
    CHECK(!ls_target(none[i], strlen(none[i]), h, &cmg));
  struct cg_buf big;
  cg_buf_init(&big, 1 << 20);
  cg_buf_puts(&big, "https://");
  while (big.len < 100000)
    cg_buf_puts(&big, "a.");
  CHECK(ls_target(big.data, big.len, h, &cmg) && strlen(h) == LS_HOST - 1); /* capped, not overrun */
  cg_buf_free(&big);
}

/* What a line's path is about, and CMG content on a custom domain. */
TEST(target_kinds) {
  char h[LS_HOST];
  enum ls_kind k;
  bool cmg;
  const char *a =
      "Request to https://cmg1.contoso.com/downloadrestservice.svc/getcontentxmlsecure?pid=1 failed with 400";
  CHECK(ls_target_kind(a, strlen(a), h, &k) && k == LS_KIND_CONTENT && !strcmp(h, "cmg1.contoso.com"));
  CHECK(ls_target(a, strlen(a), h, &cmg) && cmg); /* the CMG's content service: a CMG host */
  const char *b = "Delivered successfully to host 'CMG.CONTOSO.COM/CCM_Proxy_MutualAuth/72057594037927939'.";
  CHECK(ls_target_kind(b, strlen(b), h, &k) && k == LS_KIND_MUTUALAUTH && !strcmp(h, "cmg.contoso.com"));
  const char *c = "OutgoingMessage(Queue='mp_[http]mp_locationmanager', ID={7}): Delivered successfully to host "
                  "'PS1SYS.CONTOSO.COM'.";
  CHECK(ls_target_kind(c, strlen(c), h, &k) && k == LS_KIND_NONE && !strcmp(h, "ps1sys.contoso.com"));
  CHECK(ls_target(c, strlen(c), h, &cmg) && !cmg);
  const char *d = "Host=cmg.contoso.com, Path=/CCM_Proxy_ServerAuth/72057594037927939/x, Port=443";
  CHECK(ls_target_kind(d, strlen(d), h, &k) && k == LS_KIND_SERVERAUTH);
  const char *e = "https://mp01.corp.contoso.com is the host";
  CHECK(ls_target_kind(e, strlen(e), h, &k) && k == LS_KIND_NONE);
  CHECK(!strcmp(ls_kind_name(LS_KIND_CONTENT), "content") && !strcmp(ls_kind_name(LS_KIND_NONE), ""));
}

/* A success resolves a failure of the same server and operation; after a connectivity failure any
 * success with the server; one that names no server nothing. */
TEST(what_a_success_resolves) {
  struct ls_model m = {0};
  ls_add_success(&m, "CcmMessaging.log", "cmg.contoso.com", "mutualauth", 2000);
  ls_add_success(&m, "DataTransferService.log", "", "", 3000); /* names no server: not kept */
  CHECK(m.nok == 1);
  /* connectivity failure in another log: resolved */
  CHECK(ls_resolved_at(&m, "LocationServices.log", "cmg.contoso.com", "location", true, 1000) == 2000);
  /* an MP-list failure is not resolved by a message delivery (another operation) */
  CHECK(ls_resolved_at(&m, "LocationServices.log", "cmg.contoso.com", "location", false, 1000) == 0);
  /* content to the same host is another operation */
  CHECK(ls_resolved_at(&m, "DataTransferService.log", "cmg.contoso.com", "content", false, 1000) == 0);
  /* the same operation in another log: resolved */
  CHECK(ls_resolved_at(&m, "ccmsetup.log", "cmg.contoso.com", "mutualauth", false, 1000) == 2000);
  /* a success before the failure resolves nothing; a failure that names no server neither */
  CHECK(ls_resolved_at(&m, "CcmMessaging.log", "cmg.contoso.com", "mutualauth", false, 2500) == 0);
  CHECK(ls_resolved_at(&m, "CcmMessaging.log", "", "", true, 0) == 0);
  /* the newest CMG traffic whatever the order the servers were seen in */
  ls_saw(&m, "cmg.contoso.com", 5000);
  ls_saw(&m, "mp01.corp.contoso.com", 9000);
  ls_saw(&m, "cmg.contoso.com", 4000);
  cJSON *hosts = cJSON_CreateArray();
  cJSON_AddItemToArray(hosts, cJSON_CreateString("cmg.contoso.com"));
  CHECK(ls_last_cmg(&m, hosts) == 5000);
  cJSON_Delete(hosts);
  ls_model_free(&m);
}

/* A failure stays the state from one cycle to the next until a success of the same log and server
 * resolves it; a failure towards an intranet server never makes the verdict. */
TEST(state_not_history) {
  struct cg_buf b;
  struct cg_result r;
  char *sp = cg_path_join(state, "clientlogs-state.json");
  char *cur = cg_path_join(logs, "CcmMessaging.log");
  char *ls = cg_path_join(logs, "LocationServices.log"), *lo = cg_path_join(logs, "CcmMessaging.lo_");
  cg_file_remove(sp); /* a folder of its own: nothing from the tests before */
  cg_file_remove(cur);
  cg_file_remove(ls);
  cg_file_remove(lo);
  cg_free(ls);
  cg_free(lo);
  cg_buf_init(&b, 1 << 16);
  entry_at(&b,
           "[CCMHTTP] ERROR: URL=https://cmg.contoso.com/CCM_Proxy_MutualAuth/1/ccm_system/request, Port=443, "
           "Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE",
           3, "09:00:00");
  append("CcmMessaging.log", b.data);
  CHECK(run(&r, NULL) == CG_OK);
  CHECK_STR(r.code, "LOG_TLS_SECURE_FAILURE");
  CHECK_STR(cJSON_GetObjectItem(finding(&r, "LOG_TLS_SECURE_FAILURE"), "target")->valuestring, "cmg.contoso.com");
  cg_result_free(&r);
  /* next cycle: an intranet MP fails (not the CMG's), the CMG failure is still open */
  b.len = 0;
  entry_at(&b,
           "[CCMHTTP] ERROR: URL=http://mp01.corp.contoso.com/SMS_MP/.sms_aut?MPLIST, Port=80, Code=12029, "
           "Text=ERROR_WINHTTP_CANNOT_CONNECT",
           3, "09:10:00");
  append("CcmMessaging.log", b.data);
  CHECK(run(&r, NULL) == CG_OK);
  CHECK(num(&r, "entries_new") == 1);
  CHECK_STR(r.code, "LOG_TLS_SECURE_FAILURE");
  CHECK_STR(cJSON_GetObjectItem(finding(&r, "LOG_CANNOT_CONNECT"), "state")->valuestring, "not_cmg");
  cg_result_free(&r);
  /* the cycle after: a message delivered to the same CMG resolves it, with both times */
  b.len = 0;
  entry_at(&b,
           "OutgoingMessage(Queue='mp_mp_locationmanager', ID={1}): Delivered successfully to host "
           "'cmg.contoso.com/CCM_Proxy_MutualAuth/1'.",
           1, "09:20:00");
  append("CcmMessaging.log", b.data);
  CHECK(run(&r, NULL) == CG_OK);
  CHECK_STR(r.code, "LOG_OK");
  const cJSON *f = finding(&r, "LOG_TLS_SECURE_FAILURE");
  CHECK(f && !strcmp(cJSON_GetObjectItem(f, "state")->valuestring, "resolved"));
  CHECK(f && strstr(cJSON_GetObjectItem(f, "last_seen")->valuestring, "09:00:00"));
  CHECK(f && strstr(cJSON_GetObjectItem(f, "resolved_at")->valuestring, "09:20:00"));
  cg_result_free(&r);
  /* and it is no longer kept: the next cycle has nothing open */
  CHECK(run(&r, NULL) == CG_OK);
  CHECK_STR(r.code, "LOG_OK");
  CHECK(finding(&r, "LOG_TLS_SECURE_FAILURE") == NULL);
  cg_result_free(&r);
  cg_free(sp);
  cg_free(cur);
  cg_buf_free(&b);
}

int main(int argc, char **argv) {
  cg_platform_args(&argc, &argv);
  cg_json_init_hooks();
  if (argc < 2) return 2;
  dir = argv[1];
  logs = cg_path_join(dir, "logs");
  state = cg_path_join(dir, "state");
  /* start from nothing every run */
  char **names = NULL;
  size_t n = 0;
  if (cg_dir_list(logs, &names, &n) == CG_OK)
    for (size_t i = 0; i < n; i++) {
      char *p = cg_path_join(logs, names[i]);
      cg_file_remove(p);
      cg_free(p);
    }
  cg_dir_list_free(names, n);
  char *sp = cg_path_join(state, "clientlogs-state.json");
  cg_file_remove(sp);
  cg_free(sp);
  cg_mkdirs(logs);
  cJSON *c = cJSON_CreateObject();
  cJSON_AddStringToObject(c, "state_dir", state);
  cJSON *cl = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "checks"), "clientlogs");
  cJSON *dirs = cJSON_AddArrayToObject(cl, "log_dirs");
  cJSON_AddItemToArray(dirs, cJSON_CreateString(logs));
  cfg_json = cJSON_PrintUnformatted(c);
  cJSON_Delete(c);
  RUN(cycles);
  RUN(big_log_is_capped);
  RUN(state_not_history);
  RUN(targets);
  RUN(target_kinds);
  RUN(what_a_success_resolves);
  cJSON_free(cfg_json);
  cg_free(logs);
  cg_free(state);
  return test_finish("check_clientlogs");
}
