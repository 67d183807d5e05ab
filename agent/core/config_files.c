/* The files the configuration refers to (trust roots, keys, tokens, captures, programs): read or run
 * only when no one but an administrator can change them or the configuration (docs/security.md). */
#include <string.h>

#include "config.h"
#include "platform/fs.h"

int cg_config_file_trusted(const struct cg_config *cfg, const char *key, const char *path, char *err, size_t errlen) {
  if (!path || (cfg && cfg->files_vetted)) return CG_OK;
  if (cfg && cfg->insecure) {
    cg_snprintf(err, errlen,
                "%s (%s) is not read: the configuration %s can be changed by users other than administrators (%s)", key,
                path, cfg->path ? cfg->path : "", cfg->insecure_why);
    return CG_ERR_ACCESS;
  }
  char why[400] = "";
  if (cg_path_admin_only(path, why, sizeof(why)) != CG_OK) {
    cg_snprintf(err, errlen, "%s (%s) is not read: %s", key, path, why[0] ? why : "it is not admin-only");
    return CG_ERR_ACCESS;
  }
  return CG_OK;
}

static bool set_on_cli(const struct cg_config *cfg, const char *check, const char *key) {
  if (!cfg->cli_check || strcmp(cfg->cli_check, check)) return false;
  const cJSON *k;
  cJSON_ArrayForEach(k, cfg->cli_keys) if (cJSON_IsString(k) && !strcmp(k->valuestring, key)) return true;
  return false;
}

int cg_config_check_files_trusted(const struct cg_config *cfg, const char *check, char *err, size_t errlen) {
  static const char *const keys[] = {"ca_file", "client_cert", "client_key", "signatures_file", "input"};
  const cJSON *settings = cfg ? cg_config_check(cfg, check) : NULL;
  int rc = CG_OK;
  size_t used = 0;
  if (errlen) err[0] = '\0';
  for (size_t i = 0; settings && i < CG_ARRAY_LEN(keys); i++) {
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(settings, keys[i]));
    char one[700];
    if (!path || set_on_cli(cfg, check, keys[i]) ||
        cg_config_file_trusted(cfg, keys[i], path, one, sizeof(one)) == CG_OK)
      continue;
    rc = CG_ERR_ACCESS;
    if (used < errlen) {
      cg_snprintf(err + used, errlen - used, "%s%s", used ? "; " : "", one);
      used = strlen(err);
    }
  }
  return rc;
}

/* The keys whose value names a file that holds a secret, decides trust, or is run. */
static bool file_key(const char *k) {
  static const char *const keys[] = {"ca_file",       "client_cert",     "client_key",    "bearer_token_file",
                                     "hmac_key_file", "signatures_file", "dsregcmd_path", "input"};
  for (size_t i = 0; k && i < CG_ARRAY_LEN(keys); i++)
    if (!strcmp(k, keys[i])) return true;
  return false;
}

static void walk_files(const cJSON *o, const char *at, int depth, char *out, size_t n, size_t *count) {
  if (depth > 6) return; /* the configuration's shape is at most outputs[i].key or checks.name.key */
  const cJSON *v;
  int i = 0;
  cJSON_ArrayForEach(v, o) {
    char here[160];
    if (cJSON_IsArray(o))
      cg_snprintf(here, sizeof(here), "%s[%d]", at, i++);
    else
      cg_snprintf(here, sizeof(here), "%s%s%s", at, at[0] ? "." : "", v->string ? v->string : "");
    if (cJSON_IsString(v) && !cJSON_IsArray(o) && file_key(v->string) && cg_file_exists(v->valuestring)) {
      char why[300] = "";
      if (cg_path_admin_only(v->valuestring, why, sizeof(why)) != CG_OK) {
        size_t l = strlen(out);
        if (l < n) cg_snprintf(out + l, n - l, "%s%s = %s (%s)", l ? "; " : "", here, v->valuestring, why);
        (*count)++;
      }
    } else if (cJSON_IsObject(v) || cJSON_IsArray(v))
      walk_files(v, here, depth + 1, out, n, count);
  }
}

size_t cg_config_files_not_admin_only(const struct cg_config *cfg, char *out, size_t n) {
  size_t count = 0;
  if (n) out[0] = '\0';
  if (cfg && cfg->root) walk_files(cfg->root, "", 0, out, n, &count);
  return count;
}
