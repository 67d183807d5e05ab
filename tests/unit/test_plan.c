/* The run plan: checks run after the providers of what they need; --only adds the enabled providers;
 * the built-in checks' hand-overs form no cycle (a cycle would fail here, and so CI); a cycle is
 * an error with a sentence, not a hang. */
#include <string.h>

#include "discovery.h"
#include "plugin.h"
#include "runner.h"
#include "test.h"

static const char *const k_a[] = {"a", NULL}, *const k_b[] = {"b", NULL};
static const struct cg_check_plugin p_needs_a = {.name = "needs_a", .needs = k_a};
static const struct cg_check_plugin p_gives_a = {.name = "gives_a", .provides = k_a};
static const struct cg_check_plugin p_a_to_b = {.name = "a_to_b", .needs = k_a, .provides = k_b};
static const struct cg_check_plugin p_b_to_a = {.name = "b_to_a", .needs = k_b, .provides = k_a};

static size_t plan(const struct cg_check_plugin *const *all, size_t n, const bool *sel, const bool *en, size_t *order,
                   int *rc) {
  size_t m = 0;
  char err[256];
  *rc = cg_runner_plan(all, n, sel, en, order, &m, err, sizeof(err));
  return m;
}

TEST(providers_first_and_added_for_only) {
  const struct cg_check_plugin *all[] = {&p_needs_a, &p_gives_a};
  bool sel[] = {true, false}, en[] = {true, true};
  size_t order[2];
  int rc;
  size_t m = plan(all, 2, sel, en, order, &rc);
  CHECK(rc == CG_OK && m == 2 && order[0] == 1 && order[1] == 0); /* the provider first, though listed later */
  en[1] = false;                                                  /* a disabled provider is not added */
  m = plan(all, 2, sel, en, order, &rc);
  CHECK(rc == CG_OK && m == 1 && order[0] == 0);
}

TEST(a_cycle_is_an_error) {
  const struct cg_check_plugin *all[] = {&p_a_to_b, &p_b_to_a};
  bool sel[] = {true, true}, en[] = {true, true};
  size_t order[2];
  int rc;
  plan(all, 2, sel, en, order, &rc);
  CHECK(rc == CG_ERR_CONFIG);
}

TEST(built_in_checks_have_no_cycle_and_cmgprobe_gets_its_providers) {
  const struct cg_check_plugin *const *all = cg_registry_checks();
  size_t n = 0;
  while (all[n])
    n++;
  bool sel[64] = {false}, en[64];
  size_t order[64];
  int rc;
  for (size_t i = 0; i < n && i < 64; i++) {
    en[i] = true;
    sel[i] = true;
  }
  size_t m = plan(all, n, sel, en, order, &rc);
  CHECK(rc == CG_OK && m == n);
  /* every provider comes before every check that needs its key */
  for (size_t x = 0; x < m; x++)
    for (size_t y = x + 1; y < m; y++)
      for (size_t k = 0; all[order[x]]->needs && all[order[x]]->needs[k]; k++)
        for (size_t j = 0; all[order[y]]->provides && all[order[y]]->provides[j]; j++)
          CHECK(strcmp(all[order[x]]->needs[k], all[order[y]]->provides[j]) != 0);
  /* --only cmgprobe: the MP list, the authentication mode and the Entra state come with it */
  for (size_t i = 0; i < n; i++)
    sel[i] = !strcmp(all[i]->name, "cmgprobe");
  m = plan(all, n, sel, en, order, &rc);
  bool mp = false, auth = false, aad = false;
  for (size_t i = 0; i < m; i++) {
    mp |= !strcmp(all[order[i]]->name, "mpcandidates");
    auth |= !strcmp(all[order[i]]->name, "clientauth");
    aad |= !strcmp(all[order[i]]->name, "aadjoin");
  }
  CHECK(rc == CG_OK && mp && auth && aad && !strcmp(all[order[m - 1]]->name, "cmgprobe"));
}

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  RUN(providers_first_and_added_for_only);
  RUN(a_cycle_is_an_error);
  RUN(built_in_checks_have_no_cycle_and_cmgprobe_gets_its_providers);
  return test_finish("plan");
}
