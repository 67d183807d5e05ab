/* The plugin registry and every compiled-in plugin's declarations are well formed. */
#include <stdlib.h>

#include "cg_plugins.h"
#include "plugin.h"
#include "test.h"

#define COUNT(n) +1
enum { N_CHECKS = 0 CG_PLUGIN_CHECKS(COUNT), N_OUTPUTS = 0 CG_PLUGIN_OUTPUTS(COUNT) };

static void check_map(const char *owner, const struct cg_config_map *map) {
  for (const struct cg_config_map *m = map; m && m->key; m++) {
    CHECK(m->description != NULL);
    CHECK(strcmp(m->key, "enabled") != 0 && strcmp(m->key, "type") != 0); /* reserved by the core */
    if (m->type == CG_CFG_SECTION) {
      CHECK(m->sub != NULL);
      check_map(owner, m->sub);
      continue;
    }
    cJSON *def = cJSON_Parse(m->def);
    CHECK(def != NULL);
    if (!def) {
      fprintf(stderr, "%s.%s: default %s is not JSON\n", owner, m->key, m->def ? m->def : "(null)");
      continue;
    }
    switch (m->type) {
    case CG_CFG_BOOL: CHECK(cJSON_IsBool(def)); break;
    case CG_CFG_INT:
      CHECK(cJSON_IsNumber(def));
      if (m->min || m->max) CHECK(def->valuedouble >= (double)m->min && def->valuedouble <= (double)m->max);
      break;
    case CG_CFG_STRING: CHECK(cJSON_IsString(def) || cJSON_IsNull(def)); break;
    case CG_CFG_STRLIST: CHECK(cJSON_IsArray(def)); break;
    default: break;
    }
    cJSON_Delete(def);
  }
}

TEST(checks_are_listed_and_valid) {
  size_t n = 0;
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++, n++) {
    const char *name = (*p)->name;
    CHECK(name && *name);
    for (const char *c = name; *c; c++)
      CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
    CHECK((*p)->description && (*p)->run);
    CHECK((*p)->platforms != 0);
    CHECK(cg_registry_find_check(name) == *p);
    check_map(name, (*p)->config_map);
  }
  CHECK(n == N_CHECKS);
  CHECK(cg_registry_find_check("agent") != NULL);
  CHECK(cg_registry_find_check("nope") == NULL);
}

TEST(outputs_are_listed_and_valid) {
  size_t n = 0;
  for (const struct cg_output_plugin *const *p = cg_registry_outputs(); *p; p++, n++) {
    CHECK((*p)->emit != NULL);
    CHECK(cg_registry_find_output((*p)->name) == *p);
    check_map((*p)->name, (*p)->config_map);
  }
  CHECK(n == N_OUTPUTS);
  CHECK(cg_registry_find_output("nope") == NULL);
}

TEST(suggestions) {
  CHECK_STR(cg_registry_suggest_check("agnet"), "agent");
  CHECK_STR(cg_registry_suggest_check("Agent"), "agent");
  CHECK(cg_registry_suggest_check("xyzzyplugh") == NULL);
}

int main(void) {
  cg_json_init_hooks();
  RUN(checks_are_listed_and_valid);
  RUN(outputs_are_listed_and_valid);
  RUN(suggestions);
  return test_finish("registry");
}
