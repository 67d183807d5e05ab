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
  if (choices && !cJSON_GetObjectItemCaseSensitive(choices, url))
    cJSON_AddItemToObject(choices, url, cg_proxy_choice_to_json(pc));
}

bool ne_choice_get(const cJSON *choices, const char *url, struct cg_proxy_choice *pc) {
  return cg_proxy_choice_from_json(cJSON_GetObjectItemCaseSensitive(choices, url), pc);
}
