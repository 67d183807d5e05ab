/* How Windows would pick a proxy: the WinHTTP machine default (`netsh winhttp`), the WinINET
 * ("Internet Options") settings of the account this process runs as, and WPAD / PAC evaluation
 * for one URL (WinHTTP's own, as the ConfigMgr client's stack does). Off Windows every call
 * answers CG_ERR_UNSUPPORTED; the environment proxies (https_proxy...) are read by the caller. */
#ifndef CG_PLATFORM_NETCFG_H
#define CG_PLATFORM_NETCFG_H

#include "cg.h"

struct cg_proxy_config {
  bool auto_detect;      /* WPAD */
  char *auto_config_url; /* PAC URL; NULL when none */
  char *proxy;           /* "host:port" or "http=h:p;https=h:p"; NULL: direct */
  char *bypass;          /* "<local>;*.contoso.com"; NULL when none */
};
void cg_proxy_config_free(struct cg_proxy_config *c);

/* WinHttpGetDefaultProxyConfiguration. CG_OK and out filled (proxy NULL: direct access). */
int cg_net_winhttp_default(struct cg_proxy_config *out, char *err, size_t errlen);

/* WinHttpGetIEProxyConfigForCurrentUser: the WinINET settings of this process's account (SYSTEM's
 * when the agent runs as the service). */
int cg_net_ie_current(struct cg_proxy_config *out, char *err, size_t errlen);

/* WinHttpGetProxyForUrl with WPAD (auto_detect) and/or a PAC URL: *proxy is what the script said
 * ("host:port", caller frees) or NULL for direct. CG_ERR_NOTFOUND when WPAD found no script
 * (ERROR_WINHTTP_AUTODETECTION_FAILED), CG_ERR_IO for a PAC that could not be downloaded or run;
 * *winerr is the WinHTTP error number (0 on success). Bounded by timeout_ms. */
int cg_net_proxy_for_url(const char *url, bool auto_detect, const char *pac_url, int64_t timeout_ms, char **proxy,
                         unsigned long *winerr, char *err, size_t errlen);

#endif
