/* The clientlogs check's view of the logs as a state, not a history: which server a log line is
 * about (its target), whether that server is the CMG or an intranet one, and what is kept from
 * one cycle to the next (failures still open, the last success per log and server, when CMG
 * traffic was last seen). See docs/checks/clientlogs.md, "State, not history". */
#ifndef CG_CLIENTLOGS_LOGSTATE_H
#define CG_CLIENTLOGS_LOGSTATE_H

#include <cjson/cJSON.h>

#include "cg.h"

#define LS_HOST 256

/* The server a message names: a URL (https://HOST/...), "Host=HOST," (CCMHTTP) or a bare
 * "HOST/CCM_Proxy_..." (LocationServices, CcmMessaging). cmg is true for a CCM_Proxy_ path.
 * False when the message names none. Linear in len. */
bool ls_target(const char *msg, size_t len, char host[LS_HOST], bool *cmg);

/* Whether a host is an internet service of the CMG: named with a CCM_Proxy_ path in the logs or
 * the client's MP list (`cmg_hosts`), or an Azure name (cloudapp, blob storage for CMG content). */
bool ls_is_cmg_host(const char *host, const cJSON *cmg_hosts);

#endif
