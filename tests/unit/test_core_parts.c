/* What the core does for every check: the findings accumulator (findings.h), reading a capture
 * (source.h: file or folder, sizes, suffixes, the shared error codes, a file that cannot be used
 * among good ones), the policy values plugins declare (policy.h) and the device facts they lift.
 *   test_core_parts SCRATCH_DIR */
#include <stdlib.h>

#include "bundle.h"
#include "discovery.h"
#include "findings.h"
#include "platform/fs.h"
#include "log.h"
#include "policy.h"
#include "platform/sys.h"
#include "runner.h"
#include "source.h"
#include "test.h"

static const char *scratch;

TEST(findings_worst_decides_and_all_are_listed) {
  struct cg_findings fs;
  cg_findings_init(&fs);
  struct cg_result r;
  bool decided = true;
  cg_result_init(&r, "x");
  /* nothing above pass: the check words its own pass, facts.findings is still written */
  cg_findings_add(&fs, CG_PASS, "X_NOTE", NULL, "only a note");
  CHECK(cg_findings_result(&fs, &r, CG_FINDINGS_WORST_FIRST, NULL, &decided) == CG_OK);
  CHECK(!decided && r.code == NULL);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(r.facts, "findings")) == 1);
  cg_findings_add(&fs, CG_WARN, "X_W1", "fix w1", "first warning %d", 1);
  cg_findings_add(&fs, CG_FAIL, "X_F1", "fix f1", "first failure");
  cg_findings_add(&fs, CG_FAIL, "X_F2", "fix f2", "second failure");
  cg_findings_add(&fs, CG_WARN, "X_W2", "fix w1", "second warning");
  CHECK_STR(cg_findings_worst(&fs)->code, "X_F1");
  CHECK(cg_findings_has(&fs, "X_W2") && !cg_findings_has(&fs, "X_NONE"));
  CHECK(cg_findings_result(&fs, &r, CG_FINDINGS_WORST_FIRST, NULL, &decided) == CG_OK && decided);
  CHECK(r.status == CG_FAIL);
  CHECK_STR(r.code, "X_F1");
  /* every finding is said, none only counted */
  CHECK_STR(r.summary, "first failure Also (a warning): first warning 1 Also: second failure Also (a warning): second "
                       "warning");
  CHECK_STR(r.remediation, "fix f1 fix f2");
  const cJSON *list = cJSON_GetObjectItem(r.facts, "findings");
  CHECK(cJSON_GetArraySize(list) == 5); /* every one, in order, rewritten not appended */
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "code")->valuestring, "X_W1");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "status")->valuestring, "warn");
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "summary")->valuestring, "first warning 1");
  CHECK(cg_findings_result(&fs, &r, CG_FINDINGS_WORST_ONLY, NULL, &decided) == CG_OK);
  CHECK_STR(r.summary, "first failure Also (a warning): first warning 1 Also: second failure Also (a warning): second "
                       "warning");
  CHECK_STR(r.remediation, "fix f1");
  CHECK(cg_findings_result(&fs, &r, CG_FINDINGS_LIST, "Not ready: ", &decided) == CG_OK);
  CHECK_STR(r.summary, "Not ready: first warning 1; first failure; second failure; second warning.");
  /* a better judge overrules the failures: the first warning decides */
  cg_findings_drop(&fs, CG_FAIL);
  CHECK(fs.n == 3);
  CHECK(cg_findings_result(&fs, &r, CG_FINDINGS_WORST_FIRST, NULL, &decided) == CG_OK);
  CHECK(r.status == CG_WARN);
  CHECK_STR(r.code, "X_W1");
  CHECK_STR(r.remediation, "fix w1"); /* the same remediation once */
  cg_result_free(&r);
  /* bounded: a runaway check keeps CG_FINDINGS_MAX */
  for (int i = 0; i < CG_FINDINGS_MAX + 10; i++)
    cg_findings_add(&fs, CG_WARN, "X_MANY", NULL, "many %d", i);
  CHECK(fs.n == CG_FINDINGS_MAX);
  CHECK(cg_findings_add(&fs, CG_WARN, "X_MANY", NULL, "one more") == NULL);
  cg_findings_free(&fs);
  CHECK(fs.n == 0 && fs.f == NULL);
}

/* A check that reads captures: a file is used when it starts with "OK", refused when it starts with
 * "NO", and "OOM" stops the check. */
struct fake_ctx {
  int used, calls;
  char names[512];
};

static int fake_parse(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err, size_t errlen) {
  (void)env;
  struct fake_ctx *c = vctx;
  c->calls++;
  size_t l = strlen(c->names);
  cg_snprintf(c->names + l, sizeof(c->names) - l, "%s%s", l ? "," : "", f->name);
  if (!f->data) return CG_OK; /* max_bytes 0: the path alone */
  if (!strncmp(f->data, "OOM", 3)) return CG_ERR_NOMEM;
  if (!strncmp(f->data, "OK", 2)) {
    c->used++;
    return CG_OK;
  }
  if (!strncmp(f->data, "NO", 2)) cg_snprintf(err, errlen, "a fake refusal");
  return !strncmp(f->data, "NO", 2) ? CG_ERR_PARSE : CG_ERR_IO;
}

static const char *const fake_suffixes[] = {".txt", NULL};
static struct cg_source fake_source = {
    .accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER,
    .suffixes = fake_suffixes,
    .max_bytes = 64,
    .code_prefix = "FAKE",
    .what = "a fake capture",
    .how = "Capture it again.",
    .parse = fake_parse,
};
static const struct cg_check_plugin fake = {.name = "fake", .source = &fake_source};

static void put(const char *dir, const char *name, const char *text) {
  char err[256];
  char *p = cg_path_join(dir, name);
  CHECK(cg_file_write_atomic(p, text, strlen(text), err, sizeof(err)) == CG_OK);
  cg_free(p);
}

static int read_capture(const char *input, struct fake_ctx *c, struct cg_result *r, bool *decided) {
  memset(c, 0, sizeof(*c));
  cg_result_init(r, "fake");
  struct cg_env env = {.input = input};
  return cg_source_read(&fake, c, &env, r, decided);
}

TEST(source_file_or_folder_and_the_shared_codes) {
  char *dir = cg_path_join(scratch, "captures");
  cg_mkdirs(dir);
  char *stale = cg_path_join(dir, "0-oom.txt");
  cg_file_remove(stale); /* left by a run that stopped half-way */
  cg_free(stale);
  put(dir, "b-good.txt", "OK b");
  put(dir, "a-refused.txt", "NO a");
  put(dir, "c-io.txt", "??");
  put(dir, "d-ignored.bin", "OK but not a .txt");
  put(dir, "e-huge.txt", "OK 0123456789012345678901234567890123456789012345678901234567890123456789");
  struct fake_ctx c;
  struct cg_result r;
  bool decided = true;
  /* a folder: sorted, only the suffixes asked for, the unusable ones listed with why, run goes on */
  CHECK(read_capture(dir, &c, &r, &decided) == CG_OK);
  CHECK(!decided && c.used == 1);
  CHECK_STR(c.names, "a-refused.txt,b-good.txt,c-io.txt"); /* e-huge is never handed over */
  CHECK_STR(cJSON_GetObjectItem(r.facts, "source")->valuestring, "input");
  const cJSON *in = cJSON_GetObjectItem(r.facts, "input");
  CHECK_STR(cJSON_GetObjectItem(in, "path")->valuestring, dir);
  CHECK(cJSON_GetObjectItem(in, "used")->valuedouble == 1);
  const cJSON *files = cJSON_GetObjectItem(in, "files");
  CHECK(cJSON_GetArraySize(files) == 4);
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(files, 0), "why")->valuestring, "a fake refusal");
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(files, 1), "used")));
  CHECK_CONTAINS(cJSON_GetObjectItem(cJSON_GetArrayItem(files, 2), "why")->valuestring, "cannot be used");
  CHECK_CONTAINS(cJSON_GetObjectItem(cJSON_GetArrayItem(files, 3), "why")->valuestring, "larger than");
  cg_result_free(&r);
  /* one file that is not a capture: <PREFIX>_UNPARSEABLE naming the file and why */
  char *refused = cg_path_join(dir, "a-refused.txt");
  CHECK(read_capture(refused, &c, &r, &decided) == CG_OK && decided);
  CHECK(r.status == CG_ERROR);
  CHECK_STR(r.code, "FAKE_UNPARSEABLE");
  CHECK_CONTAINS(r.summary, "a-refused.txt: a fake refusal");
  CHECK_STR(r.remediation, "Capture it again.");
  cg_result_free(&r);
  /* one file too large: <PREFIX>_INPUT_TOO_LARGE */
  char *huge = cg_path_join(dir, "e-huge.txt");
  CHECK(read_capture(huge, &c, &r, &decided) == CG_OK && decided);
  CHECK_STR(r.code, "FAKE_INPUT_TOO_LARGE");
  CHECK(c.calls == 0);
  cg_result_free(&r);
  /* nothing there: <PREFIX>_INPUT_UNREADABLE */
  char *missing = cg_path_join(dir, "no-such-file.txt");
  CHECK(read_capture(missing, &c, &r, &decided) == CG_OK && decided);
  CHECK_STR(r.code, "FAKE_INPUT_UNREADABLE");
  CHECK_CONTAINS(r.summary, "does not exist");
  cg_result_free(&r);
  /* a folder for a check that reads one file: the wrong kind, said as such */
  fake_source.accepts = CG_SOURCE_FILE;
  CHECK(read_capture(dir, &c, &r, &decided) == CG_OK && decided);
  CHECK_STR(r.code, "FAKE_INPUT_UNREADABLE");
  CHECK_CONTAINS(r.summary, "is a folder; give a file");
  cg_result_free(&r);
  fake_source.accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER;
  /* at most max_files are read; the rest counted */
  fake_source.max_files = 2;
  CHECK(read_capture(dir, &c, &r, &decided) == CG_OK);
  CHECK(c.calls == 2);
  CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(r.facts, "input"), "not_read")->valuedouble == 2);
  cg_result_free(&r);
  fake_source.max_files = 0;
  /* a folder without one file of the suffixes */
  char *empty = cg_path_join(scratch, "empty");
  cg_mkdirs(empty);
  put(empty, "notes.bin", "OK");
  CHECK(read_capture(empty, &c, &r, &decided) == CG_OK && decided);
  CHECK_STR(r.code, "FAKE_UNPARSEABLE");
  CHECK_CONTAINS(r.summary, "holds no file this check reads");
  cg_result_free(&r);
  /* max_bytes 0: the check gets the path and reads it itself */
  fake_source.max_bytes = 0;
  CHECK(read_capture(dir, &c, &r, &decided) == CG_OK && !decided);
  CHECK(c.calls == 4); /* e-huge too: the core did not judge its size */
  cg_result_free(&r);
  fake_source.max_bytes = 64;
  /* out of memory in the parser stops the check (the runner makes it an error) */
  put(dir, "0-oom.txt", "OOM");
  CHECK(read_capture(dir, &c, &r, &decided) == CG_ERR_NOMEM);
  cg_result_free(&r);
  char *oom = cg_path_join(dir, "0-oom.txt");
  cg_file_remove(oom); /* the next run starts as this one did */
  cg_free(oom);
  cg_free(empty);
  cg_free(missing);
  cg_free(huge);
  cg_free(refused);
  cg_free(dir);
}

TEST(policy_values_are_what_plugins_declare) {
  cJSON *root =
      cJSON_Parse("{\"checks\": {\"cmgprobe\": {\"timeout_ms\": 9000}}, \"outputs\": [{\"type\": \"file\"}]}");
  CHECK(cg_policy_set(root, "CmgUrl", "https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927940") == CG_OK);
  const cJSON *probe = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "checks"), "cmgprobe");
  CHECK_STR(cJSON_GetObjectItem(probe, "url")->valuestring,
            "https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927940");
  CHECK(cJSON_GetObjectItem(probe, "timeout_ms")->valuedouble == 9000); /* the rest stays */
  CHECK(cg_policy_set(root, "SasUrl", "https://acct.blob.core.windows.net/c?sv=x&sig=y") == CG_OK);
  const cJSON *outs = cJSON_GetObjectItem(root, "outputs");
  CHECK(cJSON_GetArraySize(outs) == 1); /* the policy's output replaces the list */
  CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(outs, 0), "type")->valuestring, "azblob");
  CHECK(cg_policy_set(root, "NoSuchValue", "x") == CG_ERR_NOTFOUND);
  cJSON_Delete(root);
}

TEST(device_facts_come_from_the_checks_that_declare_them) {
  struct cg_result rs[2];
  cg_result_init(&rs[0], "aadjoin");
  cg_result_set(&rs[0], CG_PASS, "AAD_OK", NULL, "ok");
  cJSON_AddStringToObject(rs[0].facts, "device_id", "d-1");
  cg_result_init(&rs[1], "cmgprobe");
  cg_result_set(&rs[1], CG_PASS, "CMG_OK", NULL, "ok");
  cJSON_AddStringToObject(rs[1].facts, "host", "cmg.contoso.com");
  struct cg_env env = {0};
  cJSON *b = cg_bundle_build(&env, "once", NULL, rs, 2, 0, 0);
  const cJSON *dev = cJSON_GetObjectItem(b, "device");
  CHECK_STR(cJSON_GetObjectItem(dev, "aad_device_id")->valuestring, "d-1");
  CHECK_STR(cJSON_GetObjectItem(dev, "cmg_host")->valuestring, "cmg.contoso.com");
  CHECK(cJSON_IsNull(cJSON_GetObjectItem(dev, "tenant_id"))); /* declared, not in the facts */
  CHECK(cJSON_IsNull(cJSON_GetObjectItem(dev, "site_code"))); /* its check did not run */
  cJSON_Delete(b);
  cg_result_free(&rs[0]);
  cg_result_free(&rs[1]);
}

/* The hand-overs between checks are typed: what a provider puts is what a consumer gets, with the
 * "not known" states kept (an unknown Entra state, a direct connection), and nothing when no check of
 * the run handed it over. */
TEST(handovers_are_typed_and_round_trip) {
  cJSON *store = cJSON_CreateObject();
  struct cg_env env = {.discovery = store}, none = {0};
  struct cg_handover_aad aad = {.join_type = "hybrid_joined", .entra_usable = -1, .tenant_id = "t-1", .code = "AAD_X"},
                         aad2;
  cg_strlcpy(aad.reason, "the PRT is missing", sizeof(aad.reason));
  CHECK(!cg_handover_get_aad(&env, &aad2) && aad2.entra_usable == -1 && !aad2.join_type[0]);
  CHECK(cg_handover_put_aad(&env, &aad) == CG_OK);
  CHECK(cg_handover_get_aad(&env, &aad2));
  CHECK_STR(aad2.join_type, "hybrid_joined");
  CHECK(aad2.entra_usable == -1);
  CHECK_STR(aad2.reason, "the PRT is missing");
  CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(store, "aad_state"), "entra_usable")));
  aad.entra_usable = 0;
  cg_handover_put_aad(&env, &aad); /* replaces */
  CHECK(cg_handover_get_aad(&env, &aad2) && aad2.entra_usable == 0);

  struct cg_handover_auth auth = {.mode = "pki", .usable = true, .recorded = true, .thumbprint = "AB12"}, auth2;
  CHECK(cg_handover_put_auth(&env, &auth) == CG_OK && cg_handover_get_auth(&env, &auth2));
  CHECK(!strcmp(auth2.mode, "pki") && auth2.usable && auth2.recorded && !strcmp(auth2.thumbprint, "AB12"));

  struct cg_handover_cmg_urls *urls = calloc(1, sizeof(*urls)), *urls2 = calloc(1, sizeof(*urls2));
  for (urls->count = 0; urls->count < CG_HANDOVER_MAX_URLS; urls->count++)
    snprintf(urls->url[urls->count], sizeof(urls->url[0]), "https://cmg%zu.example/CCM_Proxy_ServerAuth/1",
             urls->count);
  CHECK(cg_handover_put_cmg_urls(&env, urls) == CG_OK && cg_handover_get_cmg_urls(&env, urls2));
  CHECK(urls2->count == CG_HANDOVER_MAX_URLS);
  CHECK_STR(urls2->url[15], "https://cmg15.example/CCM_Proxy_ServerAuth/1");
  /* a store written by someone else with more than the cap: the first ones, never an overflow */
  cJSON *many = cJSON_CreateArray();
  for (int i = 0; i < 40; i++)
    cJSON_AddItemToArray(many, cJSON_CreateString("https://x/CCM_Proxy_ServerAuth/1"));
  cJSON_ReplaceItemInObject(store, "cmg_urls", many);
  CHECK(cg_handover_get_cmg_urls(&env, urls2) && urls2->count == CG_HANDOVER_MAX_URLS);

  struct cg_handover_proxy px = {.source = "winhttp"}, px2;
  CHECK(cg_handover_put_proxy(&env, &px) == CG_OK && cg_handover_get_proxy(&env, &px2));
  CHECK(!px2.proxy[0] && !strcmp(px2.source, "winhttp"));
  CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(store, "cmg_proxy"), "proxy")));

  char date[64];
  bool metered = true;
  CHECK(!cg_handover_get_cmg_date(&env, date, sizeof(date)) && !date[0]);
  CHECK(!cg_handover_get_metered(&env, &metered) && !metered);
  CHECK(cg_handover_put_cmg_date(&env, "Mon, 07 Dec 2026 10:00:00 GMT") == CG_OK);
  CHECK(cg_handover_get_cmg_date(&env, date, sizeof(date)) && !strcmp(date, "Mon, 07 Dec 2026 10:00:00 GMT"));
  CHECK(cg_handover_put_metered(&env, true) == CG_OK && cg_handover_get_metered(&env, &metered) && metered);

  /* a run without a store: puts are no-ops, gets find nothing */
  CHECK(cg_handover_put_metered(&none, true) == CG_OK && !cg_handover_get_metered(&none, &metered));
  CHECK(!cg_handover_get_auth(&none, &auth2) && !auth2.mode[0]);
  free(urls);
  free(urls2);
  cJSON_Delete(store);
}

/* A check left behind past its deadline keeps judging what was collected, and may still ask the
 * agent: the runner frees its own collection when it returns, so the check must have its own copy
 * (a use after free, which the ASan tier sees, without it). */
static int slow_asked;

static int slow_fn(const cJSON *prepared, const cJSON *asked, int64_t left_ms, struct cg_agent_answer *out) {
  (void)asked;
  (void)left_ms;
  slow_asked = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(prepared, "n"));
  out->facts = cJSON_CreateObject();
  return CG_OK;
}

static int slow_collect(void *ctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  (void)ctx;
  (void)res;
  *decided = false;
  cJSON *pr = cJSON_CreateObject();
  cJSON_AddNumberToObject(pr, "n", 42);
  int rc = cg_collect_allow(env, "slow", slow_fn, pr);
  cJSON_Delete(pr);
  return rc == CG_OK ? env->judge_put(env, "read.txt", "what the agent read", 19) : rc;
}

static int slow_seen_len;

static int slow_run(void *ctx, const struct cg_env *env, struct cg_result *res) {
  (void)ctx;
  cg_sleep_ms(400); /* past its deadline: left behind */
  const struct cg_capture_file *f = cg_collected_file(env, "read.txt");
  slow_seen_len = f && !memcmp(f->data, "what the agent read", 19) ? (int)f->len : -1;
  struct cg_agent_answer a;
  if (cg_ask_agent(env, "slow", NULL, 1000, &a) == CG_OK) cg_agent_answer_free(&a);
  return cg_result_set(res, CG_PASS, "SLOW_OK", NULL, "late");
}

TEST(a_check_left_behind_keeps_its_own_collection) {
  static const struct cg_config_map none[] = {{0}};
  static const struct cg_check_plugin slow = {.name = "slow",
                                              .description = "",
                                              .platforms = CG_PLATFORM_ANY,
                                              .config_map = none,
                                              .collect = slow_collect,
                                              .run = slow_run};
  struct cg_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  char err[200];
  CHECK(cg_config_load_text(&cfg, "{}", 2, "test", NULL, err, sizeof(err)) == CG_OK);
  struct cg_log log = {.level = CG_LOG_ERROR};
  struct cg_env env = {.config = &cfg, .log = &log};
  struct cg_result res;
  cg_run_check_collected(&slow, &env, NULL, 100, &res);
  CHECK_STR(res.code, "SLOW_DEADLINE");
  cg_result_free(&res);
  for (int i = 0; i < 300 && cg_runner_abandoned(); i++)
    cg_sleep_ms(10);
  CHECK(cg_runner_abandoned() == 0);
  CHECK(slow_seen_len == 19);
  CHECK(slow_asked == 42); /* what collect prepared, still there */
  cg_config_free(&cfg);
}

int main(int argc, char **argv) {
  cg_json_init_hooks();
  if (argc < 2) return 2;
  scratch = argv[1];
  cg_mkdirs(scratch);
  RUN(findings_worst_decides_and_all_are_listed);
  RUN(handovers_are_typed_and_round_trip);
  RUN(source_file_or_folder_and_the_shared_codes);
  RUN(policy_values_are_what_plugins_declare);
  RUN(device_facts_come_from_the_checks_that_declare_them);
  RUN(a_check_left_behind_keeps_its_own_collection);
  return test_finish("core_parts");
}
