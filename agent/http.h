/* Shared libcurl setup for every HTTPS request cmgdiag makes (CMG probe, outputs, netenv).
 * TLS verification is always on: peer and host name are verified against the platform store
 * plus an optional CA file. There is no switch to turn it off. */
#ifndef CG_HTTP_H
#define CG_HTTP_H

#include <curl/curl.h>

#include "cg.h"

/* Applies verification settings to `h`. ca_file (PEM, may be NULL) is trusted in addition to the
 * platform store; a ca_file that cannot be read is an error here, because curl would otherwise
 * carry on with the platform store alone and hide the misconfiguration. */
int cg_http_tls_setup(CURL *h, const char *ca_file, char *err, size_t errlen);

/* One-time libcurl initialisation; call before any thread starts. */
int cg_http_global_init(void);

#endif
