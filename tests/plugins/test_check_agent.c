/* The `agent` check through the core API (config -> runner -> result), and the runner's handling of
 * a check that breaks. */
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "platform/fs.h"
#include "runner.h"
#include "../unit/test.h"

static const char *dir;

static int run_agent(const char *json, struct cg_result *res, bool file_found) {
  struct cg_config cfg;
  char err[1024] = "";
  memset(&cfg, 0, sizeof(cfg));
  int rc = cg_config_load_text(&cfg, json, strlen(json), "test.json", NULL, err, sizeof(err));
  if (rc != CG_OK) {
    fprintf(stderr, "config: %s\n", err);
    cg_config_free(&cfg);
    return rc;
  }
  cfg.file_found = file_found;
  struct cg_log log;
  cg_log_open(&log, NULL, 0, CG_LOG_DEBUG);
  struct cg_env env = {.config = &cfg, .log = &log};
  cg_run_check(cg_registry_find_check("agent"), &env, res);
  cg_log_close(&log);
  cg_config_free(&cfg);
  return CG_OK;
}

static char *config_json(const char *spool, const char *logfile, int min_free_mb) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "spool"), "dir", spool);
  cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "log"), "file", logfile);
  cJSON *agent = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "checks"), "agent");
  cJSON_AddNumberToObject(agent, "min_free_mb", min_free_mb);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

TEST(healthy_agent_passes) {
  char *spool = cg_path_join(dir, "spool-ok");
  char *logf = cg_path_join(dir, "logs-ok/cmgdiag.log");
  char *json = config_json(spool, logf, 0);
  struct cg_result r;
  CHECK(run_agent(json, &r, true) == CG_OK);
  CHECK(r.status == CG_PASS);
  CHECK_STR(r.code, "AGENT_OK");
  CHECK_STR(r.remediation, "");
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r.facts, "spool_writable")));
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r.facts, "log_writable")));
  CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r.facts, "config_found")));
  CHECK(cJSON_IsNumber(cJSON_GetObjectItem(r.facts, "disk_free_bytes")));
  CHECK_STR(cJSON_GetObjectItem(r.facts, "version")->valuestring, CMGDIAG_VERSION);
  CHECK(cg_file_exists(spool)); /* created on first use */
  cJSON *j = cg_result_to_json(&r);
  CHECK_STR(cJSON_GetObjectItem(j, "check")->valuestring, "agent");
  CHECK_STR(cJSON_GetObjectItem(j, "status")->valuestring, "pass");
  cJSON_Delete(j);
  cg_result_free(&r);
  cJSON_free(json);
  cg_free(spool);
  cg_free(logf);
}

TEST(unwritable_spool_fails) {
  char *blocker = cg_path_join(dir, "spool-blocker");
  char err[256];
  cg_file_write_atomic(blocker, "x", 1, err, sizeof(err));
  char *spool = cg_path_join(blocker, "spool");
  char *logf = cg_path_join(dir, "logs-2/cmgdiag.log");
  char *json = config_json(spool, logf, 0);
  struct cg_result r;
  CHECK(run_agent(json, &r, true) == CG_OK);
  CHECK(r.status == CG_FAIL);
  CHECK_STR(r.code, "AGENT_SPOOL_NOT_WRITABLE");
  CHECK_CONTAINS(r.summary, "spool-blocker");
  CHECK_CONTAINS(r.remediation, "spool.dir");
  CHECK(cJSON_IsFalse(cJSON_GetObjectItem(r.facts, "spool_writable")));
  cg_result_free(&r);
  cJSON_free(json);
  cg_free(spool);
  cg_free(logf);
  cg_free(blocker);
}

TEST(low_disk_and_missing_config_warn) {
  char *spool = cg_path_join(dir, "spool-3");
  char *logf = cg_path_join(dir, "logs-3/cmgdiag.log");
  char *json = config_json(spool, logf, 1048576); /* wants 1 TB free */
  struct cg_result r;
  CHECK(run_agent(json, &r, true) == CG_OK);
  CHECK(r.status == CG_WARN);
  CHECK_STR(r.code, "AGENT_LOW_DISK");
  cg_result_free(&r);
  cJSON_free(json);
  json = config_json(spool, logf, 0);
  CHECK(run_agent(json, &r, false) == CG_OK);
  CHECK(r.status == CG_WARN);
  CHECK_STR(r.code, "AGENT_NO_CONFIG");
  cg_result_free(&r);
  cJSON_free(json);
  cg_free(spool);
  cg_free(logf);
}

/* A check that breaks: the runner turns it into an `error` verdict with a readable summary. */
static int broken_run(void *ctx, const struct cg_env *env, struct cg_result *res) {
  (void)ctx;
  (void)env;
  (void)res;
  return CG_ERR_IO;
}
static int silent_run(void *ctx, const struct cg_env *env, struct cg_result *res) {
  (void)ctx;
  (void)env;
  (void)res;
  return CG_OK; /* forgot to set a verdict */
}

TEST(broken_checks_become_errors) {
  struct cg_check_plugin broken = {
      .name = "broken", .description = "d", .platforms = CG_PLATFORM_ANY, .run = broken_run};
  struct cg_config cfg;
  char err[256];
  memset(&cfg, 0, sizeof(cfg));
  CHECK(cg_config_load_text(&cfg, "{}", 2, "t", NULL, err, sizeof(err)) == CG_OK);
  struct cg_env env = {.config = &cfg, .log = NULL};
  struct cg_result r;
  cg_run_check(&broken, &env, &r);
  CHECK(r.status == CG_ERROR);
  CHECK_STR(r.code, "BROKEN_INTERNAL_ERROR");
  CHECK_CONTAINS(r.summary, "input/output error");
  cg_result_free(&r);
  broken.run = silent_run;
  cg_run_check(&broken, &env, &r);
  CHECK(r.status == CG_ERROR);
  CHECK_CONTAINS(r.summary, "without a verdict");
  cg_result_free(&r);
  cg_config_free(&cfg);
}

TEST(run_checks_honours_only_and_enabled) {
  struct cg_config cfg;
  char err[256];
  const char *off =
      "{\"checks\": {\"agent\": {\"enabled\": false}, \"aadjoin\": {\"enabled\": false}, "
      "\"mpcandidates\": {\"enabled\": false}, \"clientlogs\": {\"enabled\": false}, "
      "\"cmgprobe\": {\"enabled\": false}, \"netenv\": {\"enabled\": false}, \"exec\": {\"enabled\": false}, "
      "\"clientauth\": {\"enabled\": false}, \"device\": {\"enabled\": false}, "
      "\"content\": {\"enabled\": false}}}";
  memset(&cfg, 0, sizeof(cfg));
  CHECK(cg_config_load_text(&cfg, off, strlen(off), "t", NULL, err, sizeof(err)) == CG_OK);
  struct cg_env env = {.config = &cfg};
  struct cg_result *rs = NULL;
  size_t n = 9;
  CHECK(cg_run_checks(&env, NULL, 0, NULL, &rs, &n, err, sizeof(err)) == CG_OK);
  CHECK(n == 0);
  cg_results_free(rs, n);
  CHECK(cg_run_checks(&env, "agnet", 0, NULL, &rs, &n, err, sizeof(err)) == CG_ERR_USAGE);
  CHECK_CONTAINS(err, "did you mean 'agent'");
  cg_config_free(&cfg);
}

int main(int argc, char **argv) {
  cg_json_init_hooks();
  dir = argc > 1 ? argv[1] : ".";
  cg_mkdirs(dir);
  RUN(healthy_agent_passes);
  RUN(unwritable_spool_fails);
  RUN(low_disk_and_missing_config_warn);
  RUN(broken_checks_become_errors);
  RUN(run_checks_honours_only_and_enabled);
  return test_finish("check_agent");
}
