/* The device check's judging half (plugin.h `collect`): what the agent read from the device, judged
 * as the worker judges it, gives the verdict a capture of the same values gives; what a live read
 * means that a capture does not (no restart key found: none is pending); the platform's facts that
 * are not applicable travel with it; and the judge never reads the device itself.
 *   test_check_device DATA_DIR */
#include <stdlib.h>

#include "config.h"
#include "platform/fs.h"
#include "runner.h"
#include "harness.h"
#include "../unit/test.h"

static const char *data_dir;

static const cJSON *fact(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Every fixture judged as a capture and as collected: the same verdict and code. */
/* judged as of its capture time, which a live read has not: the cases that set evaluate_at */
static bool dated(const cJSON *kase, cJSON *sets, struct cg_collection *c, cJSON *disc) {
  (void)kase, (void)c, (void)disc;
  return cJSON_GetArraySize(sets) > 0;
}

TEST(collected_judged_as_a_capture_is) {
  int differ = 0;
  CHECK(cgt_compare_collected("device", data_dir, dated, &differ) >= 15);
  CHECK(differ == 0);
}

/* A live read that found none of the restart keys says none is pending; a capture without registry
 * exports says nothing about them. */
TEST(a_live_read_without_restart_keys_is_no_restart) {
  char *folder = cg_path_join(data_dir, "06-json-only-no-reg");
  cJSON *sets = cJSON_CreateArray();
  cJSON_AddItemToArray(sets, cJSON_CreateString("evaluate_at=2026-11-25T00:00:00Z"));
  struct cg_result a, b;
  CHECK(cgt_run_check("device", folder, sets, &a) == CG_OK);
  CHECK(cJSON_IsNull(fact(a.facts, "reboot_pending")));
  struct cg_collection c;
  CHECK(cgt_collect_path(folder, &c) == CG_OK);
  CHECK(cgt_judge_collected("device", &c, sets, NULL, &b) == CG_OK);
  CHECK(cJSON_IsFalse(fact(b.facts, "reboot_pending")));
  CHECK(cJSON_IsFalse(fact(b.facts, "file_renames_pending")));
  cg_result_free(&a);
  cg_result_free(&b);
  cg_collection_free(&c);
  cJSON_Delete(sets);
  cg_free(folder);
}

/* Off Windows the collect half names what the platform does not have; the judge says so, and asks
 * nothing of a registry. Names it does not know are not facts. */
TEST(not_applicable_travels_with_what_was_read) {
  static const char json[] =
      "{\"SystemFreeMB\": 51200, \"NotApplicable\": [\"ccmcache_mb\", \"metered\", \"reboot_pending\", "
      "\"ccmexec_running\", \"provisioning_mode\", \"client_version\", \"last_policy_age_h\", \"rm -rf\"]}";
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  CHECK(cg_collection_add(&c, "device.json", json, strlen(json)) == CG_OK);
  struct cg_result r;
  CHECK(cgt_judge_collected("device", &c, NULL, NULL, &r) == CG_OK);
  CHECK_STR(r.code, "DEVICE_READY");
  CHECK_CONTAINS(r.summary, "no ConfigMgr client or Windows state here");
  CHECK(cJSON_GetArraySize(fact(r.facts, "not_applicable")) == 7);
  CHECK(cJSON_IsNull(fact(r.facts, "reboot_pending")));
  CHECK(cJSON_GetNumberValue(fact(r.facts, "system_free_mb")) == 51200);
  cg_result_free(&r);
  cg_collection_free(&c);
}

/* The judge reads no device in place of what was collected (this machine's free space stays
 * unknown when the collection has none); what it cannot read back is said, not guessed. Without a
 * collection the runner collects first (a live run). */
TEST(the_judge_reads_only_what_was_collected) {
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  struct cg_result r;
  CHECK(cgt_judge_collected("device", &c, NULL, NULL, &r) == CG_OK);
  CHECK(cJSON_IsNull(fact(r.facts, "system_free_mb")));
  CHECK(!fact(r.facts, "collected"));
  cg_result_free(&r);
  CHECK(cgt_judge_collected("device", NULL, NULL, NULL, &r) == CG_OK);
  CHECK(cJSON_IsNumber(fact(r.facts, "system_free_mb")));
  CHECK_STR(cJSON_GetStringValue(fact(cJSON_GetArrayItem(fact(r.facts, "collected"), 0), "name")), "device.json");
  cg_result_free(&r);
  CHECK(cg_collection_add(&c, "device.json", "{\"SystemFree", 12) == CG_OK);
  CHECK(cgt_judge_collected("device", &c, NULL, NULL, &r) == CG_OK);
  CHECK_STR(r.code, "DEVICE_UNPARSEABLE");
  CHECK(r.status == CG_ERROR);
  CHECK_CONTAINS(r.summary, "device.json");
  cg_result_free(&r);
  cg_collection_free(&c);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_check_device DATA_DIR\n");
    return 2;
  }
  data_dir = argv[1];
  RUN(collected_judged_as_a_capture_is);
  RUN(a_live_read_without_restart_keys_is_no_restart);
  RUN(not_applicable_travels_with_what_was_read);
  RUN(the_judge_reads_only_what_was_collected);
  return test_finish("check_device");
}
