/* What `netenv` reads of Windows' network settings, from captures or live reads of the same
 * values: `netsh winhttp show proxy` text, the WinHttpSettings blob, WinINET ("Internet Options")
 * values of an account, and the TLS 1.2 policy (docs/checks/netenv.md, docs/domain.md "Proxy"). Pure functions
 * over clean UTF-8 and regfile.h's key/value shape, so fixtures, live reads and the fuzzer meet the same code. */
#ifndef CG_NETPARSE_H
#define CG_NETPARSE_H

#include <cjson/cJSON.h>

#include "cg.h"

struct ne_proxy {
  bool present;     /* something was read for this view */
  bool auto_detect; /* WPAD ("Automatically detect settings") */
  char pac[512];    /* AutoConfigURL, "" when none */
  char proxy[512];  /* static proxy list, "" when direct */
  char bypass[512];
  char source[160]; /* where it was read */
};

/* `netsh winhttp show proxy` in any display language, by its structure: the header line that names
 * WinHTTP and ends with a colon, then the direct-access sentence or the proxy server(s) and bypass
 * list lines ("label : value"). CG_ERR_PARSE for anything else. */
int ne_parse_netsh(const char *text, struct ne_proxy *out);

/* HKLM\...\Internet Settings\Connections\WinHttpSettings: DWORD size (0x18), DWORD counter, DWORD
 * flags (bit 2 = named proxy), DWORD length + proxy, DWORD length + bypass (ANSI). */
int ne_parse_winhttp_blob(const unsigned char *b, size_t n, struct ne_proxy *out);

/* WinINET settings of one account from registry values under `root` ("HKEY_USERS\\S-1-5-18"):
 * ProxyEnable/ProxyServer/ProxyOverride/AutoConfigURL, and the flags of
 * Connections\DefaultConnectionSettings (byte 8: 0x2 proxy, 0x4 PAC, 0x8 auto-detect). */
void ne_wininet_from_reg(const cJSON *keys, const char *root, struct ne_proxy *out);

/* The WinHTTP default proxy from a registry capture of the WinHttpSettings value, when present. */
void ne_winhttp_from_reg(const cJSON *keys, struct ne_proxy *out);

/* TLS 1.2 for clients: SCHANNEL ...\Protocols\TLS 1.2\Client (Enabled, DisabledByDefault) and
 * WinHTTP's DefaultSecureProtocols (64-bit and WOW6432Node); -1 where the value is absent. */
struct ne_tls {
  int64_t enabled, disabled_by_default, dsp, dsp_wow;
};
#define NE_WINHTTP_TLS12 0x800
void ne_tls_from_reg(const cJSON *keys, struct ne_tls *out);

/* Registry keys and values `netenv` reads (live and from captures), for the live reader. */
#define NE_KEY_INET "Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
#define NE_KEY_CONN NE_KEY_INET "\\Connections"
#define NE_KEY_SCHANNEL                                                                                                \
  "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client"
#define NE_KEY_WINHTTP "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp"
#define NE_KEY_WINHTTP_WOW                                                                                             \
  "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp"
#define NE_KEY_WINHTTP_SETTINGS "HKEY_LOCAL_MACHINE\\" NE_KEY_CONN

/* True for a signed-in user's hive under HKEY_USERS ("S-1-5-21-...", not "..._Classes"). */
bool ne_is_user_sid(const char *name);

#endif
