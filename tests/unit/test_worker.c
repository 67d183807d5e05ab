/* What the agent's privileged process takes back from its unprivileged worker (pipeline/worker.c):
 * a compromised worker's answer is the attacker's, so only a result of the shape of one is taken,
 * its sentences capped and stripped, and no more than it may say. */
#include <stdio.h>
#include <string.h>
#ifndef _WIN32
#include <unistd.h>
#endif

#include "discovery.h"
#include "emit_worker.h"
#include "log.h"
#include "platform/child.h"
#include "platform/fs.h"
#include "runner.h"
#include "platform/sys.h"
#include "test.h"
#include "worker.h"

static const struct cg_check_plugin *probe;

static int take(const char *text, struct cg_env *env, struct cg_result *res) {
  return cg_worker_take_answer(probe, env, text, strlen(text), res);
}

/* An upload's outcome from the emit worker: taken only as an outcome, its sentence clean. */
TEST(an_upload_outcome_is_taken_only_as_one) {
  struct cg_log log = {.level = CG_LOG_DEBUG, .capture = cJSON_CreateArray()};
  struct cg_env env = {.log = &log};
  struct cg_emit_result r;
  const char *good =
      "{\"outcome\":2,\"http_status\":503,\"retry_after_ms\":2000,\"error\":\"HTTP 503 \\u001b[31mbusy "
      "https://a.blob.core.windows.net/c?sv=1&sig=SECRETSIG\",\"log\":[{\"l\":2,\"c\":\"http\",\"m\":\"hi\"}]}";
  CHECK(cg_emit_take_answer(good, strlen(good), &env, "azblob", &r) == CG_OK);
  CHECK(r.outcome == CG_EMIT_RETRY && r.http_status == 503 && r.retry_after_ms == 2000);
  CHECK(!strstr(r.error, "SECRETSIG"));
  CHECK(!strchr(r.error, 0x1b));
  CHECK_CONTAINS(r.error, "HTTP 503");
  CHECK(cJSON_GetArraySize(log.capture) == 1);
  CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(log.capture, 0), "m")),
                 "[azblob upload, without privilege] hi");
  static const char *const bad[] = {
      "{\"outcome\":5,\"http_status\":200,\"retry_after_ms\":-1,\"error\":\"\"}",
      "{\"outcome\":0.5,\"http_status\":200,\"retry_after_ms\":-1,\"error\":\"\"}",
      "{\"outcome\":-1,\"http_status\":200,\"retry_after_ms\":-1,\"error\":\"\"}",
      "{\"outcome\":0,\"http_status\":1000,\"retry_after_ms\":-1,\"error\":\"\"}",
      "{\"outcome\":0,\"http_status\":200,\"retry_after_ms\":1e300,\"error\":\"\"}",
      "{\"outcome\":0,\"http_status\":200,\"retry_after_ms\":-2,\"error\":\"\"}",
      "{\"outcome\":0,\"http_status\":200,\"retry_after_ms\":-1}",
      "{\"outcome\":\"0\",\"http_status\":200,\"retry_after_ms\":-1,\"error\":\"\"}",
      "[0,200,-1,\"\"]",
      "",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    CHECK(cg_emit_take_answer(bad[i], strlen(bad[i]), &env, "http", &r) == CG_ERR_PARSE);
  cJSON_Delete(log.capture);
}

TEST(a_good_answer_is_taken_with_its_handover) {
  struct cg_env env = {.discovery = cJSON_CreateObject()};
  struct cg_result r;
  CHECK(take("{\"result\":{\"check\":\"cmgprobe\",\"status\":\"pass\",\"code\":\"CMG_OK\",\"summary\":\"The client "
             "can use the CMG.\",\"remediation\":\"\",\"facts\":{\"host\":\"cmg\"},\"duration_ms\":120},"
             "\"handover\":{\"cmg_date\":\"Mon, 07 Dec 2026 10:00:00 GMT\"}}",
             &env, &r) == CG_OK);
  CHECK(r.status == CG_PASS);
  CHECK_STR(r.code, "CMG_OK");
  CHECK(r.duration_ms == 120);
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.facts, "host")), "cmg");
  char date[64];
  CHECK(cg_handover_get_cmg_date(&env, date, sizeof(date)) && !strcmp(date, "Mon, 07 Dec 2026 10:00:00 GMT"));
  cg_result_free(&r);
  cJSON_Delete(env.discovery);
}

/* Who ran the check is the agent's to say: a worker's own "worker" fact is dropped, however often it
 * names it (a duplicate key once slipped through: fuzz_worker). */
TEST(a_worker_cannot_say_who_it_is) {
  struct cg_env env = {.discovery = cJSON_CreateObject()};
  struct cg_result r;
  const char *t = "{\"result\":{\"status\":\"pass\",\"code\":\"CMG_OK\",\"summary\":\"s\",\"remediation\":\"\","
                  "\"facts\":{\"worker\":{\"uid\":0},\"worker\":{\"uid\":0},\"x\":1}}}";
  CHECK(take(t, &env, &r) == CG_OK);
  CHECK(!cJSON_GetObjectItemCaseSensitive(r.facts, "worker"));
  CHECK(cJSON_GetObjectItemCaseSensitive(r.facts, "x") != NULL);
  cg_result_free(&r);
  cJSON_Delete(env.discovery);
}

TEST(what_is_not_a_result_is_refused) {
  static const char *const bad[] = {
      "",
      "null",
      "[]",
      "{\"result\":null}",
      "{\"result\":{\"status\":\"pass\",\"code\":\"CMG_OK\",\"summary\":\"s\",\"remediation\":\"\",\"facts\":[]}}",
      "{\"result\":{\"status\":\"great\",\"code\":\"CMG_OK\",\"summary\":\"s\",\"remediation\":\"\",\"facts\":{}}}",
      ("{\"result\":{\"status\":\"pass\",\"code\":\"cmg ok; rm -rf /\",\"summary\":\"s\",\"remediation\":\"\","
       "\"facts\":{}}}"),
      "{\"result\":{\"status\":\"pass\",\"code\":\"\",\"summary\":\"s\",\"remediation\":\"\",\"facts\":{}}}",
      "{\"result\":{\"status\":\"pass\",\"code\":\"CMG_OK\",\"summary\":7,\"remediation\":\"\",\"facts\":{}}}",
      "{\"result\":{\"status\":\"pass\",\"code\":\"CMG_OK\",\"summary\":\"s\",\"facts\":{}}}",
      "{\"result\":{\"status\":\"pass\",\"code\":\"CMG_OK\",\"summary\":\"s\",\"remediation\":\"\",\"facts\":{}",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct cg_env env = {.discovery = cJSON_CreateObject()};
    struct cg_result r;
    memset(&r, 0, sizeof(r));
    if (take(bad[i], &env, &r) != CG_ERR_PARSE) {
      fprintf(stderr, "taken: %s\n", bad[i]);
      CHECK(false);
      cg_result_free(&r);
    }
    CHECK(r.code == NULL && r.facts == NULL); /* untouched */
    cJSON_Delete(env.discovery);
  }
}

TEST(a_hostile_answer_says_no_more_than_it_may) {
  /* escape sequences in the sentences, a forged `worker` fact, an undeclared hand-over (aad_state is
   * aadjoin's), a log component that would forge a CMTrace line, and far too many log lines */
  cJSON *a =
      cJSON_Parse("{\"result\":{\"check\":\"cmgprobe\",\"status\":\"fail\",\"code\":\"CMG_X\","
                  "\"summary\":\"a\\u001b]0;title\\u0007b\\u001b[2J\",\"remediation\":\"r\\r\",\"detail\":"
                  "\"d\\u009b31m\",\"facts\":{\"worker\":{\"uid\":0},\"s\":\"\\u001b[31mred\"},"
                  "\"duration_ms\":1e300},\"handover\":{\"aad_state\":{\"tenant_id\":\"x\"},\"cmg_date\":\"d\"}}");
  cJSON *lines = cJSON_AddArrayToObject(a, "log");
  for (int i = 0; i < 5000; i++) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddNumberToObject(l, "l", 0);
    cJSON_AddStringToObject(l, "c", "x\"\r\n<![LOG[forged");
    cJSON_AddStringToObject(l, "m", "line");
    cJSON_AddItemToArray(lines, l);
  }
  char *text = cJSON_PrintUnformatted(a);
  struct cg_log log = {.level = CG_LOG_DEBUG, .capture = cJSON_CreateArray()}; /* what reaches the log */
  struct cg_env env = {.discovery = cJSON_CreateObject(), .log = &log};
  struct cg_result r;
  CHECK(take(text, &env, &r) == CG_OK);
  CHECK_STR(r.summary, "a]0;titleb");
  CHECK(!strchr(r.remediation, '\r'));
  CHECK(!strstr(r.detail, "\xc2\x9b"));
  CHECK(cJSON_GetObjectItem(r.facts, "worker") == NULL);
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r.facts, "s")), "red");
  CHECK(r.duration_ms == 0);
  CHECK(cJSON_GetObjectItem(env.discovery, "aad_state") == NULL);
  CHECK(cJSON_GetObjectItem(env.discovery, "cmg_date") != NULL);
  CHECK(cJSON_GetArraySize(log.capture) == CG_LOG_CAPTURE_MAX);
  const cJSON *first = cJSON_GetArrayItem(log.capture, 0);
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "c")), "worker");
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(first, "m")), "[cmgprobe, without privilege] line");
  cg_result_free(&r);
  cJSON_Delete(log.capture);
  cJSON_Delete(env.discovery);
  cJSON_free(text);
  cJSON_Delete(a);
}

TEST(long_sentences_are_cut) {
  char *big = cg_malloc(200000);
  memset(big, 'a', 199999);
  big[199999] = '\0';
  char *text = cg_asprintf("{\"result\":{\"status\":\"warn\",\"code\":\"CMG_Y\",\"summary\":\"%s\",\"remediation\":"
                           "\"%s\",\"detail\":\"%s\",\"facts\":{}}}",
                           big, big, big);
  struct cg_env env = {0};
  struct cg_result r;
  CHECK(take(text, &env, &r) == CG_OK);
  CHECK(strlen(r.summary) == 4096 && strlen(r.remediation) == 4096 && strlen(r.detail) == 8192);
  cg_result_free(&r);
  cg_free(text);
  cg_free(big);
}

#ifndef _WIN32
/* The request goes to a worker within its deadline: one that stops reading costs the deadline, one
 * that went away an error (never a SIGPIPE for the agent). */
TEST(a_request_write_has_a_deadline) {
  intptr_t rd = -1, wr = -1;
  char err[200];
  CHECK(cg_pipe_open(&rd, &wr, err, sizeof(err)) == CG_OK);
  size_t len = 4u << 20;
  char *big = cg_calloc(1, len);
  int64_t t0 = cg_time_mono_ms();
  CHECK(cg_pipe_write_within(wr, big, len, 300) == CG_ERR_TIMEOUT);
  int64_t took = cg_time_mono_ms() - t0;
  CHECK(took >= 250 && took < 3000);
  cg_pipe_close(rd);
  CHECK(cg_pipe_write_within(wr, big, 16, 300) == CG_ERR_IO); /* and this process is still here */
  cg_pipe_close(wr);
  cg_free(big);
}
#endif

#ifndef _WIN32
/* ---- requests to the agent (plugin.h, cg_ask_agent): this test program is started again as the
 * worker, which reads its request and asks the agent with the worker's own functions. What it asks
 * is in its request's trigger: "ask" asks for what was allowed, twice, and for what was not; "flood"
 * sends a line longer than a request may be. */

#define ANSWER_BYTES "line one\nline two\n\x01\x02 bytes" /* unparsed: newlines and all */
static int made, seen_x;
static char seen_prepared[64];

static int allowed_fn(const cJSON *prepared, const cJSON *asked, int64_t left_ms, struct cg_agent_answer *out) {
  made++;
  seen_x = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(asked, "x"));
  cg_strlcpy(seen_prepared, cJSON_GetStringValue(cJSON_GetObjectItem(prepared, "secret")), sizeof(seen_prepared));
  out->facts = cJSON_CreateObject();
  cJSON_AddNumberToObject(out->facts, "left_ms_positive", left_ms > 0);
  out->bytes = cg_strdup(ANSWER_BYTES);
  out->len = sizeof(ANSWER_BYTES) - 1;
  return CG_OK;
}

static int scripted_worker(void) {
  if (cg_pipe_write(1, "\n", 1) != CG_OK) return 3;
  struct cg_buf b;
  cg_buf_init(&b, 1u << 20);
  cJSON *rq = NULL;
  size_t line = 0;
  if (cg_worker_read_request(&b, &rq, &line) != CG_OK) return 4;
  const char *how = cJSON_GetStringValue(cJSON_GetObjectItem(rq, "trigger"));
  char said[600] = "";
  if (how && !strcmp(how, "many")) { /* refused each time, and ended after 16 */
    struct cg_env e = {0};
    struct cg_agent_answer a;
    int n = 0;
    while (n < 100 && cg_worker_ask(&e, "not allowed", NULL, 2000, &a) == CG_ERR_ACCESS)
      n++;
    cg_sleep_ms(5000);
    return 0;
  }
  if (how && !strcmp(how, "flood")) {
    static char big[CG_AGENT_ASK_MAX + 10];
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    cg_pipe_write(1, big, sizeof(big));
    cg_sleep_ms(5000); /* the agent ends it */
    return 0;
  }
  struct cg_env e = {0};
  cJSON *asked = cJSON_CreateObject();
  cJSON_AddNumberToObject(asked, "x", 7);
  struct cg_agent_answer a;
  int rc1 = cg_worker_ask(&e, "allowed", asked, 5000, &a);
  int pos = a.facts ? (int)cJSON_GetNumberValue(cJSON_GetObjectItem(a.facts, "left_ms_positive")) : -1;
  bool same = rc1 == CG_OK && a.len == sizeof(ANSWER_BYTES) - 1 && !memcmp(a.bytes, ANSWER_BYTES, a.len);
  cg_agent_answer_free(&a);
  int rc2 = cg_worker_ask(&e, "allowed", asked, 5000, &a);
  int rc3 = cg_worker_ask(&e, "not allowed", asked, 5000, &a);
  cJSON_Delete(asked);
  cg_snprintf(said, sizeof(said), "first %d bytes %s left %d; again %d; other %d", rc1, same ? "same" : "differ", pos,
              rc2, rc3);
  cJSON *ans = cJSON_CreateObject(), *r = cJSON_AddObjectToObject(ans, "result");
  cJSON_AddStringToObject(r, "check", "cmgprobe");
  cJSON_AddStringToObject(r, "status", "pass");
  cJSON_AddStringToObject(r, "code", "CMG_OK");
  cJSON_AddStringToObject(r, "summary", said);
  cJSON_AddStringToObject(r, "remediation", "");
  cJSON_AddObjectToObject(r, "facts");
  char *text = cJSON_PrintUnformatted(ans);
  cg_pipe_write(1, text, strlen(text));
  cJSON_free(text);
  cJSON_Delete(ans);
  cJSON_Delete(rq);
  cg_buf_free(&b);
  return 0;
}

static const char *tmp_dir;

static void run_scripted(const char *trigger, struct cg_result *res, struct cg_collection *c) {
  char text[600];
  cg_snprintf(text, sizeof(text), "{\"state_dir\":\"%s/state\",\"checks\":{\"cmgprobe\":{}}}", tmp_dir);
  struct cg_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  char err[300];
  CHECK(cg_config_load_text(&cfg, text, strlen(text), "test", NULL, err, sizeof(err)) == CG_OK);
  struct cg_log log = {.level = CG_LOG_DEBUG, .capture = cJSON_CreateArray()};
  struct cg_env env = {.config = &cfg, .log = &log, .trigger = trigger, .ask = cg_collection_ask, .ask_user = c};
  struct cg_worker_user u;
  CHECK(cg_worker_user_find("nobody", &u, err, sizeof(err)) == CG_OK);
  cg_run_check_worker(probe, &env, &u, 20000, res);
  cJSON_Delete(log.capture);
  cg_config_free(&cfg);
}

TEST(the_agent_makes_only_what_collect_allowed_once) {
  if (geteuid() != 0) {
    printf("  (skipped: a worker is started as nobody only by root)\n");
    return;
  }
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  c.permits[0].name = cg_strdup("allowed");
  c.permits[0].fn = allowed_fn;
  c.permits[0].prepared = cJSON_Parse("{\"secret\":\"the agent's own\"}");
  c.npermits = 1;
  struct cg_result res;
  run_scripted("ask", &res, &c);
  /* made once, with what the worker chose and what collect prepared (which never left this process) */
  CHECK(made == 1 && seen_x == 7);
  CHECK_STR(seen_prepared, "the agent's own");
  char want[200];
  cg_snprintf(want, sizeof(want), "first 0 bytes same left 1; again %d; other %d", CG_ERR_ACCESS, CG_ERR_ACCESS);
  CHECK_STR(res.summary, want);
  CHECK_STR(res.code, "CMG_OK");
  cg_result_free(&res);
  cg_collection_free(&c);
}

TEST(a_worker_that_floods_the_agent_is_ended) {
  if (geteuid() != 0) return;
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  struct cg_result res;
  made = 0;
  int64_t t0 = cg_time_mono_ms();
  run_scripted("flood", &res, &c);
  CHECK(made == 0);
  CHECK_STR(res.code, "CMGPROBE_WORKER_CRASHED");
  CHECK_CONTAINS(res.summary, "more than a result can be");
  CHECK(cg_time_mono_ms() - t0 < 4500); /* ended, not waited for */
  cg_result_free(&res);
  t0 = cg_time_mono_ms();
  run_scripted("many", &res, &c);
  CHECK_STR(res.code, "CMGPROBE_WORKER_CRASHED");
  CHECK(cg_time_mono_ms() - t0 < 4500);
  cg_result_free(&res);
}
#endif

int main(int argc, char **argv) {
  cg_json_init_hooks();
#ifndef _WIN32
  if (argc >= 3 && !strcmp(argv[1], "__worker")) return scripted_worker();
  tmp_dir = argc > 1 ? argv[1] : "/tmp";
  cg_mkdirs(tmp_dir);
#else
  (void)argc;
  (void)argv;
#endif
  probe = cg_registry_find_check("cmgprobe");
  CHECK(probe != NULL);
  RUN(an_upload_outcome_is_taken_only_as_one);
  RUN(a_worker_cannot_say_who_it_is);
  RUN(a_good_answer_is_taken_with_its_handover);
  RUN(what_is_not_a_result_is_refused);
  RUN(a_hostile_answer_says_no_more_than_it_may);
  RUN(long_sentences_are_cut);
#ifndef _WIN32
  RUN(a_request_write_has_a_deadline);
  RUN(the_agent_makes_only_what_collect_allowed_once);
  RUN(a_worker_that_floods_the_agent_is_ended);
#endif
  return test_finish("worker");
}
