/* POSIX trust: OpenSSL's default CA bundle (Debian: /etc/ssl/certs). */
#include "tls.h"

long cg_platform_curl_ssl_options(void) { return 0; }
const char *cg_platform_trust_name(void) { return "system CA bundle"; }
