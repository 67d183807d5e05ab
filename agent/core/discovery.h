/* Values one check hands to later checks of the same run, through the core rather than one plugin
 * reaching into another: e.g. mpcandidates publishes "cmg_urls" (a list of https://HOST/CCM_Proxy_*
 * base URLs) that cmgprobe uses when its url is not configured. Checks run in registry order. */
#ifndef CG_DISCOVERY_H
#define CG_DISCOVERY_H

#include <cjson/cJSON.h>

#include "plugin.h"

#define CG_DISCOVERY_CMG_URLS "cmg_urls"
/* cmgprobe: the proxy it used ({"proxy", "source", "detail"}) and the CMG's Date header (string). */
#define CG_DISCOVERY_CMG_PROXY "cmg_proxy"
#define CG_DISCOVERY_CMG_DATE "cmg_date"
/* aadjoin: {"join_type", "entra_usable": true|false|null, "tenant_id", "code", "reason"}. */
#define CG_DISCOVERY_AAD_STATE "aad_state"
/* clientauth: {"mode": "pki"|"entra"|"token"|"unknown", "usable": bool}. */
#define CG_DISCOVERY_AUTH_MODE "auth_mode"
/* device: whether the internet connection is metered (bool); content judges by it. */
#define CG_DISCOVERY_METERED "metered"

/* Takes ownership of `value` (also on failure). No-op when the run has no discovery store. */
int cg_discovery_publish(const struct cg_env *env, const char *key, cJSON *value);
/* Borrowed; NULL when nothing was published under `key`. */
const cJSON *cg_discovery_get(const struct cg_env *env, const char *key);

#endif
