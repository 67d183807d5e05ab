/* Windows trust: the certificate store, like the ConfigMgr client and WinHTTP. */
#include <curl/curl.h>

#include "tls.h"

long cg_platform_curl_ssl_options(void) { return CURLSSLOPT_NATIVE_CA; }
const char *cg_platform_trust_name(void) { return "Windows certificate store"; }
