/* Which proxy SYSTEM takes to each URL (see proxychoice.h). */
#include "proxychoice.h"

#include <string.h>

void ne_to_config(const struct ne_proxy *v, struct cg_proxy_config *c) {
  c->auto_detect = v->auto_detect;
  c->auto_config_url = v->pac[0] ? (char *)v->pac : NULL;
  c->proxy = v->proxy[0] ? (char *)v->proxy : NULL;
  c->bypass = v->bypass[0] ? (char *)v->bypass : NULL;
}

void ne_system_views(const cJSON *keys, const struct ne_proxy *winhttp, struct ne_proxy *wh, struct ne_proxy *sys) {
  *wh = *winhttp;
  if (!wh->present) ne_winhttp_from_reg(keys, wh);
  ne_wininet_from_reg(keys, "HKEY_USERS\\S-1-5-18", sys);
  if (!sys->present) ne_wininet_from_reg(keys, "HKEY_USERS\\.DEFAULT", sys);
}

void ne_choice_put(cJSON *choices, const char *url, const struct cg_proxy_choice *pc) {
  if (!choices || cJSON_GetObjectItemCaseSensitive(choices, url)) return;
  cJSON *o = cJSON_AddObjectToObject(choices, url);
  cJSON_AddStringToObject(o, "proxy", pc->proxy);
  cJSON_AddBoolToObject(o, "curl_default", pc->curl_default);
  cJSON_AddStringToObject(o, "source", pc->source);
  cJSON_AddStringToObject(o, "shown", pc->shown);
  cJSON_AddStringToObject(o, "detail", pc->detail);
}

static void take(const cJSON *o, const char *key, char *out, size_t len) {
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
  cg_strlcpy(out, v ? v : "", len);
}

bool ne_choice_get(const cJSON *choices, const char *url, struct cg_proxy_choice *pc) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(choices, url);
  if (!cJSON_IsObject(o)) return false;
  memset(pc, 0, sizeof(*pc));
  take(o, "proxy", pc->proxy, sizeof(pc->proxy));
  pc->curl_default = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "curl_default"));
  take(o, "source", pc->source, sizeof(pc->source));
  take(o, "shown", pc->shown, sizeof(pc->shown));
  take(o, "detail", pc->detail, sizeof(pc->detail));
  return true;
}
