/* The aadjoin check beyond its fixtures (test_fixtures runs those): unreadable input, and the live
 * source with a stand-in dsregcmd (output, hang, garbage, missing program).
 *   test_check_aadjoin DATA_DIR SCRATCH_DIR [FAKE_DSREGCMD] */
#include <stdlib.h>
#ifndef _WIN32
#include <sys/stat.h>
#endif

#include "config.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "runner.h"
#include "harness.h"
#include "../unit/test.h"

static const char *data_dir;

static int run_case(const char *input, const cJSON *sets, struct cg_result *res) {
  return cgt_run_check("aadjoin", input, sets, res);
}

TEST(unreadable_and_oversized_input) {
  struct cg_result r;
  char *missing = cg_path_join(data_dir, "no-such-capture.txt");
  CHECK(run_case(missing, NULL, &r) == CG_OK);
  CHECK(r.status == CG_ERROR);
  CHECK_STR(r.code, "AAD_INPUT_UNREADABLE");
  cg_result_free(&r);
  cg_free(missing);
}

static const cJSON *fact(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* A snapshot folder: aadjoin judges its dsregcmd output and leaves the other captures alone. */
TEST(snapshot_folder) {
  char *folder = cg_path_join(data_dir, "../clientauth/03-hybrid-entra-ps7");
  struct cg_result r;
  CHECK(run_case(folder, NULL, &r) == CG_OK);
  CHECK(r.status != CG_ERROR);
  CHECK(!strncmp(r.code, "AAD_", 4) && !strstr(r.code, "INPUT") && strcmp(r.code, "AAD_UNPARSEABLE"));
  const cJSON *files = fact(fact(r.facts, "input"), "files");
  CHECK(cJSON_GetArraySize(files) == 3);
  CHECK(cJSON_GetNumberValue(fact(fact(r.facts, "input"), "used")) == 1);
  for (const cJSON *f = files ? files->child : NULL; f; f = f->next)
    CHECK(cJSON_IsTrue(fact(f, "used")) == !strcmp(cJSON_GetStringValue(fact(f, "name")), "dsreg.txt"));
  CHECK_STR(cJSON_GetStringValue(fact(r.facts, "join_type")), "hybrid_joined");
  cg_result_free(&r);
  cg_free(folder);
}

/* Two dsregcmd outputs in one folder: the first (by name) is judged, the second is said to be one. */
static void snapshot_two_dsregcmd(const char *scratch) {
  char *dir = cg_path_join(scratch, "two-dsregcmd"), *src = cg_path_join(data_dir, "01-entra-joined-win11.txt");
  char *a = cg_path_join(dir, "a.txt"), *b = cg_path_join(dir, "b.txt"), *data = NULL, err[256];
  size_t len = 0;
  cg_mkdirs(dir);
  CHECK(cg_file_read(src, 1u << 20, &data, &len) == CG_OK);
  CHECK(cg_file_write_atomic(a, data, len, err, sizeof(err)) == CG_OK);
  CHECK(cg_file_write_atomic(b, data, len, err, sizeof(err)) == CG_OK);
  struct cg_result r;
  CHECK(run_case(dir, NULL, &r) == CG_OK);
  CHECK_STR(r.code, "AAD_OK");
  const cJSON *files = fact(fact(r.facts, "input"), "files");
  CHECK(cJSON_GetArraySize(files) == 2);
  CHECK(cJSON_IsTrue(fact(cJSON_GetArrayItem(files, 0), "used")));
  CHECK_CONTAINS(cJSON_GetStringValue(fact(cJSON_GetArrayItem(files, 1), "why")), "a second dsregcmd");
  cg_result_free(&r);
  cg_free(data);
  cg_free(a);
  cg_free(b);
  cg_free(src);
  cg_free(dir);
}

/* On a snapshot, a provider that cannot read it is not run: netenv's cmgprobe would probe this
 * machine's network, so it is left out and the hand-over said missing. */
TEST(snapshot_runs_no_live_provider) {
  char *folder = cg_path_join(data_dir, "../netenv/01-system-direct-user-pac");
  struct cg_result r;
  CHECK(cgt_run_check("netenv", folder, NULL, &r) == CG_OK);
  const cJSON *miss = fact(r.facts, "handover_missing");
  CHECK(cJSON_IsArray(miss) && cJSON_GetArraySize(miss) >= 1);
  char *text = miss ? cJSON_PrintUnformatted(miss) : NULL;
  CHECK(text && strstr(text, "cmgprobe is not in this run"));
  cg_free(text);
  CHECK(!fact(fact(r.facts, "_discovery"), "cmg_date"));
  cg_result_free(&r);
  cg_free(folder);
}

/* The judging half alone (plugin.h `collect`): what the agent read from the device, judged as the
 * worker judges it. Read by SYSTEM, the user's PRT is not there to see; read by a person, it is. */
TEST(judges_what_was_collected) {
  char *path = cg_path_join(data_dir, "01-entra-joined-win11.txt"), *data = NULL;
  size_t len = 0;
  CHECK(cg_file_read(path, 1u << 20, &data, &len) == CG_OK);
  struct cg_config cfg;
  char err[512] = "";
  memset(&cfg, 0, sizeof(cfg));
  CHECK(cg_config_load_text(&cfg, "{}", 2, "test.json", NULL, err, sizeof(err)) == CG_OK);
  for (int system = 0; system < 2; system++) {
    struct cg_collection c;
    memset(&c, 0, sizeof(c));
    CHECK(cg_collection_add(&c, "dsreg.txt", data, len) == CG_OK);
    c.view.as_system = system;
    struct cg_env env = {.config = &cfg, .collected = &c.view};
    struct cg_result r;
    cg_run_check(cg_registry_find_check("aadjoin"), &env, &r);
    CHECK_STR(r.code, "AAD_OK");
    CHECK(cJSON_IsTrue(fact(r.facts, "system_context")) == (system == 1));
    CHECK(cJSON_IsNull(fact(r.facts, "prt")) == (system == 1));
    CHECK(!fact(r.facts, "dsregcmd_exit_code")); /* how it was read is the collect's to say */
    cg_result_free(&r);
    /* nothing collected under that name: the judge does not read the device instead */
    cg_collection_free(&c);
    CHECK(cg_collection_add(&c, "other.txt", "x", 1) == CG_OK);
    cg_run_check(cg_registry_find_check("aadjoin"), &env, &r);
    CHECK_STR(r.code, "AADJOIN_INTERNAL_ERROR");
    cg_result_free(&r);
    cg_collection_free(&c);
  }
  /* the limits of what a check's collect may keep */
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  for (int i = 0; i < CG_COLLECTED_MAX; i++)
    CHECK(cg_collection_add(&c, "f", "", 0) == CG_OK);
  CHECK(cg_collection_add(&c, "f", "", 0) == CG_ERR_TOOBIG);
  cg_collection_free(&c);
  cg_config_free(&cfg);
  cg_free(data);
  cg_free(path);
}

static void live_source(const char *fake_arg, const char *scratch) {
  char *fixture = cg_path_join(data_dir, "01-entra-joined-win11.txt");
  cJSON *sets = cJSON_CreateArray();
  /* Started with the restricted environment, the stand-in reads "fake-mode" beside itself: a copy of
   * it in the scratch folder. dsregcmd_path is started only as an absolute path that administrators
   * alone can change; under wine, ctest hands over Unix paths, which Windows reads as relative: the
   * same file on Z: */
  char *copy_data = NULL, copy_err[256];
  size_t copy_len = 0;
#ifdef _WIN32
  char *fake = cg_path_join(scratch, "dsregcmd.exe");
#else
  char *fake = cg_path_join(scratch, "dsregcmd");
#endif
  cg_mkdirs(scratch);
  CHECK(cg_file_read(fake_arg, 64u << 20, &copy_data, &copy_len) == CG_OK);
  CHECK(cg_file_write_atomic(fake, copy_data, copy_len, copy_err, sizeof(copy_err)) == CG_OK);
  cg_free(copy_data);
#ifdef _WIN32
  if (fake && fake[0] == '/') {
    char *z = cg_asprintf("Z:%s", fake);
    cg_free(fake);
    fake = z;
    for (char *c = fake; c && *c; c++)
      if (*c == '/') *c = '\\';
  }
#else
  chmod(fake, 0700);
#endif
  char *p = cg_asprintf("dsregcmd_path=%s", fake);
  cJSON_AddItemToArray(sets, cJSON_CreateString(p));
  cJSON_AddItemToArray(sets, cJSON_CreateString("evaluate_at=2026-11-25T00:00:00Z"));
  cJSON_AddItemToArray(sets, cJSON_CreateString("timeout_ms=2000"));
  struct cg_result r;
  /* the stand-in prints the file named by CMGDIAG_FAKE_DSREG, or hangs, or fails */
  char *mode = cg_path_join(scratch, "fake-mode");
  char err[256];
  cg_mkdirs(scratch);
  cg_file_write_atomic(mode, fixture, strlen(fixture), err, sizeof(err));
  CHECK(run_case(NULL, sets, &r) == CG_OK);
  CHECK_STR(r.code, "AAD_OK");
  CHECK_STR(cJSON_GetObjectItem(r.facts, "source")->valuestring, "dsregcmd");
  CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(r.facts, "dsregcmd_exit_code")) == 0);
  cg_result_free(&r);
  cg_file_write_atomic(mode, "hang", 4, err, sizeof(err));
  CHECK(run_case(NULL, sets, &r) == CG_OK);
  CHECK_STR(r.code, "AAD_DSREGCMD_TIMEOUT");
  CHECK(r.duration_ms < 10000);
  cg_result_free(&r);
  cg_file_write_atomic(mode, "garbage", 7, err, sizeof(err));
  CHECK(run_case(NULL, sets, &r) == CG_OK);
  CHECK_STR(r.code, "AAD_UNPARSEABLE");
  cg_result_free(&r);
  cJSON_Delete(sets);
  sets = cJSON_CreateArray();
  char *bad = cg_asprintf("dsregcmd_path=%s.missing", fake);
  cJSON_AddItemToArray(sets, cJSON_CreateString(bad));
  CHECK(run_case(NULL, sets, &r) == CG_OK);
  CHECK_STR(r.code, "AAD_DSREGCMD_FAILED");
  CHECK_CONTAINS(r.summary, ".missing");
  cg_result_free(&r);
  cJSON_Delete(sets);
  cg_free(bad);
  cg_free(mode);
  cg_free(p);
  cg_free(fake);
  cg_free(fixture);
}

int main(int argc, char **argv) {
  cg_platform_args(&argc, &argv);
  cg_json_init_hooks();
  if (argc < 3) return 2;
  data_dir = argv[1];
  RUN(unreadable_and_oversized_input);
  RUN(snapshot_folder);
  RUN(judges_what_was_collected);
  RUN(snapshot_runs_no_live_provider);
  {
    int before = t_failed;
    snapshot_two_dsregcmd(argv[2]);
    printf("%s snapshot_two_dsregcmd\n", t_failed == before ? "ok  " : "FAIL");
  }
  if (argc > 3) {
    int before = t_failed;
    live_source(argv[3], argv[2]);
    printf("%s live_source\n", t_failed == before ? "ok  " : "FAIL");
  }
  return test_finish("check_aadjoin");
}
