/* No WinHTTP off Windows: the environment proxies are the platform's settings there. */
#include <string.h>

#include "netcfg.h"

void cg_proxy_config_free(struct cg_proxy_config *c) {
  cg_free(c->auto_config_url);
  cg_free(c->proxy);
  cg_free(c->bypass);
  memset(c, 0, sizeof(*c));
}

int cg_net_winhttp_default(struct cg_proxy_config *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  cg_snprintf(err, errlen, "WinHTTP exists only on Windows");
  return CG_ERR_UNSUPPORTED;
}

int cg_net_ie_current(struct cg_proxy_config *out, char *err, size_t errlen) {
  return cg_net_winhttp_default(out, err, errlen);
}

int cg_net_proxy_for_url(const char *url, bool auto_detect, const char *pac_url, int64_t timeout_ms, char **proxy,
                         unsigned long *winerr, char *err, size_t errlen) {
  (void)url;
  (void)auto_detect;
  (void)pac_url;
  (void)timeout_ms;
  *proxy = NULL;
  *winerr = 0;
  cg_snprintf(err, errlen, "WinHTTP exists only on Windows");
  return CG_ERR_UNSUPPORTED;
}
