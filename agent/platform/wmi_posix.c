/* No WMI or registry off Windows. */
#include "wmi.h"

int cg_wmi_query(const char *ns, const char *wql, int64_t timeout_ms, cJSON **rows, struct cg_wmi_error *err) {
  (void)ns;
  (void)wql;
  (void)timeout_ms;
  *rows = NULL;
  err->hresult = 0;
  cg_snprintf(err->message, sizeof(err->message), "WMI exists only on Windows");
  return CG_ERR_UNSUPPORTED;
}

int cg_registry_read_hklm(const char *key, const char *value, cJSON **out) {
  (void)key;
  (void)value;
  *out = NULL;
  return CG_ERR_UNSUPPORTED;
}

int cg_registry_read(const char *key, const char *value, cJSON **out) { return cg_registry_read_hklm(key, value, out); }

int cg_registry_subkeys(const char *key, char ***names, size_t *count) {
  (void)key;
  *names = NULL;
  *count = 0;
  return CG_ERR_UNSUPPORTED;
}

int cg_registry_replace_hklm(const char *key, const cJSON *values) {
  (void)key;
  (void)values;
  return CG_ERR_UNSUPPORTED;
}
