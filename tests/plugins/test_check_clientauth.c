/* The clientauth check's judging half (plugin.h `collect`): what the agent read of the store, the
 * registry, WMI and the client's log, judged as the worker judges it (after aadjoin judged the
 * dsregcmd output it collected), gives the verdict a capture of the same gives.
 *   test_check_clientauth DATA_DIR */
#include <stdlib.h>

#include "config.h"
#include "platform/fs.h"
#include "runner.h"
#include "harness.h"
#include "../unit/test.h"

static const char *data_dir;

static const cJSON *fact(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Every readable fixture judged as a capture and as collected: the same verdict and code. A folder's
 * dsregcmd output is aadjoin's to judge first, as in a live run, and its hand-over is clientauth's. */
static bool with_entra_state(const cJSON *kase, cJSON *sets, struct cg_collection *c, cJSON *disc) {
  (void)kase;
  if (!cJSON_GetArraySize(sets)) return false; /* judged as of its capture time, which a live read has not */
  for (size_t i = 0; i < c->view.count; i++)
    if (!strncmp(c->files[i].name, "dsreg", 5)) { /* the fixtures' dsregcmd outputs: aadjoin's, first */
      struct cg_collection d;
      memset(&d, 0, sizeof(d));
      struct cg_result ar;
      if (cg_collection_add(&d, "dsreg.txt", c->files[i].data, c->files[i].len) == CG_OK &&
          cgt_judge_collected("aadjoin", &d, NULL, disc, &ar) == CG_OK)
        cg_result_free(&ar);
      cg_collection_free(&d);
    }
  return true;
}

TEST(collected_judged_as_a_capture_is) {
  int differ = 0;
  CHECK(cgt_compare_collected("clientauth", data_dir, with_entra_state, &differ) >= 25);
  CHECK(differ == 0);
}

/* The chain Windows built on the device is judged, where a capture says it was not checked; the
 * identity names WMI as its source. */
TEST(a_live_reads_chain_and_identity_are_the_devices) {
  char *folder = cg_path_join(data_dir, "07-ps7-iso-dates"); /* UTF-8 */
  cJSON *sets = cJSON_CreateArray();
  cJSON_AddItemToArray(sets, cJSON_CreateString("evaluate_at=2026-11-25T00:00:00Z"));
  struct cg_collection c;
  CHECK(cgt_collect_path(folder, &c) == CG_OK);
  /* the store as the agent writes it: the same certificates, their chains built and not trusted */
  for (size_t i = 0; i < c.view.count; i++)
    if (!strcmp(c.files[i].name, "certs.json")) {
      char *t = cg_strdup(c.files[i].data);
      struct cg_buf b;
      cg_buf_init(&b, 4096);
      for (const char *p = t, *q; p && *p; p = q) {
        q = strstr(p, "\"Thumbprint\"");
        if (!q) {
          cg_buf_puts(&b, p);
          break;
        }
        cg_buf_printf(&b, "%.*s\"CmgdiagChain\": {\"Trusted\": false, \"Error\": \"no trusted root\"}, ", (int)(q - p),
                      p);
        cg_buf_puts(&b, "\"Thumbprint\"");
        q += 12;
      }
      cg_free((char *)c.files[i].data);
      c.files[i].data = b.data;
      c.files[i].len = b.len;
      cg_free(t);
    }
  c.view.files = c.files;
  cJSON *disc = cJSON_CreateObject();
  struct cg_result r;
  CHECK(cgt_judge_collected("clientauth", &c, sets, disc, &r) == CG_OK);
  CHECK(r.status != CG_PASS);
  char *facts = cJSON_PrintUnformatted(r.facts);
  CHECK_CONTAINS(facts, "no trusted root");
  CHECK(!strstr(facts, "a capture)"));
  CHECK_STR(cJSON_GetStringValue(fact(fact(fact(r.facts, "candidates"), "pki"), "store")), "LocalMachine\\My");
  cJSON_free(facts);
  cg_result_free(&r);
  cg_collection_free(&c);
  cJSON_Delete(disc);
  cJSON_Delete(sets);
  cg_free(folder);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_check_clientauth DATA_DIR\n");
    return 2;
  }
  data_dir = argv[1];
  RUN(collected_judged_as_a_capture_is);
  RUN(a_live_reads_chain_and_identity_are_the_devices);
  return test_finish("check_clientauth");
}
