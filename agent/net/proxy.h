/* Which proxy a request to a URL goes through, as SYSTEM's WinHTTP-based ConfigMgr client would
 * pick it (shared by the CMG probe and `netenv`), and the proxy-string helpers behind it.
 * The client's own selection order is not documented (docs/domain.md, "Proxy"): the order used here is
 * an assumption, shown in every result, and `proxy` in the config overrides it. */
#ifndef CG_PROXY_H
#define CG_PROXY_H

#include "cg.h"

struct cg_proxy_choice {
  char proxy[512];   /* for CURLOPT_PROXY: "http://host:port", or "" for a direct connection */
  bool curl_default; /* leave CURLOPT_PROXY unset: libcurl reads https_proxy / no_proxy (POSIX) */
  char source[48];   /* config, direct, winhttp_default, wininet_pac, wininet_wpad, wininet_static,
                        environment, none */
  char shown[512];   /* the proxy as it may be shown (user:password@ removed), "" for direct */
  char detail[384];  /* why, or what failed (a PAC that could not be run) */
};

/* configured: NULL or "" (the system's choice), "direct", or a proxy URL. On Windows: the WinHTTP
 * default proxy (netsh winhttp) unless the host is in its bypass list; else this account's WinINET
 * settings (WPAD / PAC evaluated by WinHTTP for `url`, else its static proxy unless bypassed);
 * else direct. Elsewhere: the environment (https_proxy, HTTPS_PROXY, all_proxy with no_proxy),
 * applied by libcurl. Always fills out; CG_OK. */
int cg_proxy_resolve(const char *configured, const char *url, int64_t timeout_ms, struct cg_proxy_choice *out);

/* The same choice from given settings (netenv passes SYSTEM's, read from the registry or a
 * capture): wh = WinHTTP default, ie = WinINET of the account (either NULL when unknown);
 * windows false: the environment rule. */
struct cg_proxy_config;
int cg_proxy_resolve_with(const char *configured, const char *url, int64_t timeout_ms, const struct cg_proxy_config *wh,
                          const struct cg_proxy_config *ie, bool windows, struct cg_proxy_choice *out);

/* Adds "proxy" (the proxy shown without credentials; absent when direct) and "proxy_used"
 * ({"proxy", "source", "detail"}) to facts. */
#include <cjson/cJSON.h>
void cg_proxy_facts(cJSON *facts, const struct cg_proxy_choice *c);

/* The entry of a WinHTTP/WinINET proxy list for a scheme ("https"): "host:port",
 * "http=h:p;https=h:p", "https://h:p", separated by ';' or blanks. Writes "http://host:port" (or
 * the URL as given when it has a scheme) into out; false when no entry applies. */
bool cg_proxy_pick(const char *list, const char *scheme, char *out, size_t outlen);

/* True when `host` matches the bypass list ("<local>;*.contoso.com;10.*;intranet"), case-insensitive;
 * "<local>" matches names without a dot. */
bool cg_proxy_bypassed(const char *bypass, const char *host);

/* Host (lower case, without port and brackets) and scheme of a URL into buffers. */
void cg_url_host(const char *url, char *host, size_t hostlen, char *scheme, size_t schemelen);

/* A proxy URL without user:password@ into out. */
void cg_proxy_redact(const char *proxy, char *out, size_t outlen);

/* A choice as JSON ({"proxy", "curl_default", "source", "shown", "detail"}; the proxy with its
 * credentials: for a hand-over between the halves of a check, never for facts) and back; false when
 * `o` is no object. */
cJSON *cg_proxy_choice_to_json(const struct cg_proxy_choice *c);
bool cg_proxy_choice_from_json(const cJSON *o, struct cg_proxy_choice *c);

#endif
