/* Which proxy SYSTEM takes to each URL netenv reaches, chosen by the half that reads the device.
 * On Windows a PAC script or WPAD is run by WinHTTP for the account that asks (docs/checks/netenv.md),
 * and the judging half may run in a worker without privilege, which is not SYSTEM: so the agent's
 * process chooses, with SYSTEM's settings, and hands the choices over (proxy-choices.json). */
#ifndef CG_NETENV_PROXYCHOICE_H
#define CG_NETENV_PROXYCHOICE_H

#include <cjson/cJSON.h>

#include "netparse.h"
#include "platform/netcfg.h"
#include "proxy.h"

/* The proxy configuration of a view (WinHTTP's default, an account's Internet Options); borrowed. */
void ne_to_config(const struct ne_proxy *v, struct cg_proxy_config *c);

/* SYSTEM's views from what the device holds: WinHTTP's default (`winhttp` when read by the API, else
 * the registry's WinHttpSettings) and SYSTEM's Internet Options (S-1-5-18, else .DEFAULT). Only
 * SYSTEM's own hive and HKLM are read: no user can write them. */
void ne_system_views(const cJSON *keys, const struct ne_proxy *winhttp, struct ne_proxy *wh, struct ne_proxy *sys);

/* Adds to `choices` (an object keyed by URL) the choice for `url`: the proxy, whether libcurl's own
 * (the environment) applies, where it came from, how it is shown and what failed. */
void ne_choice_put(cJSON *choices, const char *url, const struct cg_proxy_choice *pc);
/* The choice handed over for `url`; false when there is none (the judge then chooses itself). */
bool ne_choice_get(const cJSON *choices, const char *url, struct cg_proxy_choice *pc);

#endif
