/* The plugin registry: a const list expanded from the CMake-generated X-macro header. */
#include <string.h>

#include "cg_plugins.h"
#include "plugin.h"
#include "regfile.h"
#include "result.h"

#define CG_DECLARE_CHECK(n) extern const struct cg_check_plugin cg_check_##n;
#define CG_DECLARE_OUTPUT(n) extern const struct cg_output_plugin cg_output_##n;
CG_PLUGIN_CHECKS(CG_DECLARE_CHECK)
CG_PLUGIN_OUTPUTS(CG_DECLARE_OUTPUT)

#define CG_REF_CHECK(n) &cg_check_##n,
#define CG_REF_OUTPUT(n) &cg_output_##n,
static const struct cg_check_plugin *const checks[] = {CG_PLUGIN_CHECKS(CG_REF_CHECK) NULL};
static const struct cg_output_plugin *const outputs[] = {CG_PLUGIN_OUTPUTS(CG_REF_OUTPUT) NULL};

const struct cg_check_plugin *const *cg_registry_checks(void) { return checks; }
const struct cg_output_plugin *const *cg_registry_outputs(void) { return outputs; }

const struct cg_check_plugin *cg_registry_find_check(const char *name) {
  for (size_t i = 0; checks[i]; i++)
    if (strcmp(checks[i]->name, name) == 0) return checks[i];
  return NULL;
}

const struct cg_output_plugin *cg_registry_find_output(const char *name) {
  for (size_t i = 0; outputs[i]; i++)
    if (strcmp(outputs[i]->name, name) == 0) return outputs[i];
  return NULL;
}

const char *cg_registry_suggest_check(const char *name) {
  const char *best = NULL;
  int best_d = (int)strlen(name) / 3 + 2;
  for (size_t i = 0; checks[i]; i++) {
    int d = cg_edit_distance(name, checks[i]->name, best_d);
    if (d < best_d) {
      best_d = d;
      best = checks[i]->name;
    }
  }
  return best;
}

cJSON *cg_registry_plugins_json(void) {
  cJSON *list = cJSON_CreateArray();
  for (size_t i = 0; list && checks[i]; i++)
    cJSON_AddItemToArray(list, cJSON_CreateString(checks[i]->name));
  for (size_t i = 0; list && outputs[i]; i++) {
    char name[80];
    cg_snprintf(name, sizeof(name), "output:%s", outputs[i]->name);
    cJSON_AddItemToArray(list, cJSON_CreateString(name));
  }
  return list;
}

const struct cg_capture_file *cg_collected_file(const struct cg_env *env, const char *name) {
  for (size_t i = 0; env && env->collected && i < env->collected->count; i++)
    if (env->collected->files[i].name && !strcmp(env->collected->files[i].name, name)) return &env->collected->files[i];
  return NULL;
}

int cg_collect_put(const struct cg_env *env, const char *check, const char *name, const void *data, size_t len) {
  int rc = env->judge_put(env, name, data, len);
  if (env->capture_put) env->capture_put(env, check, name, data, len); /* `cmgdiag collect` */
  return rc;
}

int cg_collect_allow(const struct cg_env *env, const char *name, cg_agent_request_fn fn, const cJSON *prepared) {
  if (!env->allow || !name || !fn) return CG_ERR_UNSUPPORTED;
  return env->allow(env, name, fn, prepared);
}

int cg_ask_agent(const struct cg_env *env, const char *name, const cJSON *asked, int64_t left_ms,
                 struct cg_agent_answer *out) {
  memset(out, 0, sizeof(*out));
  if (!env->ask) return CG_ERR_UNSUPPORTED;
  return env->ask(env, name, asked, left_ms, out);
}

void cg_agent_answer_free(struct cg_agent_answer *a) {
  cJSON_Delete(a->facts);
  cg_free(a->bytes);
  memset(a, 0, sizeof(*a));
}

int cg_collect_put_registry(const struct cg_env *env, const char *check, const cJSON *keys) {
  if (!cJSON_GetArraySize(keys)) return CG_OK;
  size_t len = 0;
  char *reg = cg_regfile_write(keys, &len);
  int rc = reg ? cg_collect_put(env, check, "registry.reg", reg, len) : CG_ERR_NOMEM;
  cg_free(reg);
  return rc;
}

int cg_judge_collected(void *ctx, const struct cg_env *env, const struct cg_source *src, const char *const *other,
                       const char *what, struct cg_result *res) {
  if (!env->collected) return CG_ERR_INTERNAL;
  for (size_t i = 0; i < env->collected->count; i++) {
    char err[300] = "", code[64];
    bool skip = false;
    for (size_t k = 0; other && other[k]; k++)
      skip = skip || !strcmp(other[k], env->collected->files[i].name);
    if (skip) continue;
    int rc = src->parse(ctx, env, &env->collected->files[i], err, sizeof(err));
    if (rc == CG_ERR_NOMEM) return rc;
    if (rc == CG_OK) continue;
    cg_snprintf(code, sizeof(code), "%s_UNPARSEABLE", src->code_prefix);
    return cg_result_set(res, CG_ERROR, code,
                         "Run the check again with -v and send the agent log (cmgdiag.log) to the cmgdiag maintainers.",
                         "What the agent read of %s (%s) cannot be read back: %s.", what, env->collected->files[i].name,
                         err[0] ? err : cg_strerror(rc));
  }
  return CG_OK;
}
