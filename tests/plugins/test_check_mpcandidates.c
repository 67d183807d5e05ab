/* The mpcandidates check's judging half (plugin.h `collect`): what the agent read from WMI and the
 * registry, judged as the worker judges it, gives the verdict a capture of the same gives, and says
 * where each value came from as the live read did; the registry export the agent writes reads back.
 *   test_check_mpcandidates DATA_DIR */
#include <stdlib.h>

#include "config.h"
#include "platform/fs.h"
#include "regfile.h"
#include "runner.h"
#include "harness.h"
#include "../unit/test.h"

static const char *data_dir;

static const cJSON *fact(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Every readable fixture judged as a capture and as collected: the same verdict and code. The
 * intranet probe is the live read's (auto tries it, as on the device): off here unless a case sets it. */
static bool readable(const cJSON *kase, cJSON *sets, struct cg_collection *c, cJSON *disc) {
  (void)c, (void)disc;
  if (!cJSON_GetArraySize(sets)) cJSON_AddItemToArray(sets, cJSON_CreateString("intranet_probe=off"));
  return strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kase, "code")), "MP_INPUT_UNREADABLE") != 0;
}

TEST(collected_judged_as_a_capture_is) {
  int differ = 0;
  CHECK(cgt_compare_collected("mpcandidates", data_dir, readable, &differ) >= 16);
  CHECK(differ == 0);
}

/* What the agent writes of the registry (regfile.h's writer) reads back to the same values, and each
 * fact names where the live read found it, not a file. */
TEST(the_registry_the_agent_read_reads_back_with_its_sources) {
  cJSON *keys = cJSON_CreateObject();
  cJSON *ccm = cJSON_AddObjectToObject(keys, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\CCM");
  cJSON_AddStringToObject(ccm, "CMGFQDNs", "cmg.contoso.com;CMG2.contoso.com");
  cJSON *sec = cJSON_AddObjectToObject(keys, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\CCM\\Security");
  cJSON_AddNumberToObject(sec, "ClientAlwaysOnInternet", 1);
  cJSON *mob = cJSON_AddObjectToObject(keys, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS\\Mobile Client");
  cJSON_AddStringToObject(mob, "AssignedSiteCode", "PS1");
  size_t len = 0;
  char *reg = cg_regfile_write(keys, &len);
  CHECK(reg != NULL);
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  CHECK(cg_collection_add(&c, "registry.reg", reg, len) == CG_OK);
  CHECK(cg_collection_add(&c, "clientinfo.json", "{\"InInternet\": true}\n", 21) == CG_OK);
  struct cg_result r;
  CHECK(cgt_judge_collected("mpcandidates", &c, NULL, NULL, &r) == CG_OK);
  CHECK_STR(r.code, "MP_NO_CANDIDATES"); /* no rows: no mp.json */
  CHECK_STR(cJSON_GetStringValue(fact(r.facts, "site_code")), "PS1");
  CHECK_STR(cJSON_GetStringValue(fact(r.facts, "cmg_fqdns")), "cmg.contoso.com;CMG2.contoso.com");
  CHECK(cJSON_IsTrue(fact(r.facts, "always_on_internet")));
  CHECK(cJSON_IsTrue(fact(r.facts, "currently_internet")));
  const cJSON *src = fact(r.facts, "sources");
  CHECK_STR(cJSON_GetStringValue(fact(src, "cmg_fqdns")), "registry:HKLM\\SOFTWARE\\Microsoft\\CCM\\CMGFQDNs");
  CHECK_STR(cJSON_GetStringValue(fact(src, "currently_internet")), "wmi:root\\ccm:ClientInfo.InInternet");
  CHECK(cJSON_GetArraySize(fact(r.facts, "cmg_urls")) == 2);
  cg_result_free(&r);
  /* the rows, as the agent writes them (ConvertTo-Json's shape), name WMI as their source */
  static const char rows[] = "[{\"MP\": \"cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927939\", \"Type\": "
                             "\"Internet\", \"Index\": 1, \"Version\": 9128}]";
  CHECK(cg_collection_add(&c, "mp.json", rows, strlen(rows)) == CG_OK);
  CHECK(cgt_judge_collected("mpcandidates", &c, NULL, NULL, &r) == CG_OK);
  CHECK_STR(r.code, "MP_CMG_PRESENT");
  CHECK_STR(cJSON_GetStringValue(fact(cJSON_GetArrayItem(fact(r.facts, "candidates"), 0), "source")),
            "wmi:root\\ccm\\LocationServices:SMS_ActiveMPCandidate");
  cg_result_free(&r);
  cg_collection_free(&c);
  /* what cannot be read back is said, with the file's name */
  CHECK(cg_collection_add(&c, "mp.json", "<html>", 6) == CG_OK);
  CHECK(cgt_judge_collected("mpcandidates", &c, NULL, NULL, &r) == CG_OK);
  CHECK_STR(r.code, "MP_UNPARSEABLE");
  CHECK_CONTAINS(r.summary, "mp.json");
  cg_result_free(&r);
  cg_collection_free(&c);
  cg_free(reg);
  cJSON_Delete(keys);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_check_mpcandidates DATA_DIR\n");
    return 2;
  }
  data_dir = argv[1];
  RUN(collected_judged_as_a_capture_is);
  RUN(the_registry_the_agent_read_reads_back_with_its_sources);
  return test_finish("check_mpcandidates");
}
