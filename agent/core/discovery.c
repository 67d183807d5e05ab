/* The per-run discovery store. */
#include "discovery.h"

int cg_discovery_publish(const struct cg_env *env, const char *key, cJSON *value) {
  if (!env->discovery || !value) {
    cJSON_Delete(value);
    return value ? CG_OK : CG_ERR_NOMEM;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(env->discovery, key);
  cJSON_AddItemToObject(env->discovery, key, value);
  return CG_OK;
}

const cJSON *cg_discovery_get(const struct cg_env *env, const char *key) {
  return env->discovery ? cJSON_GetObjectItemCaseSensitive(env->discovery, key) : NULL;
}
