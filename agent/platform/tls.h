/* Which certificate store TLS trusts on this platform. */
#ifndef CG_PLATFORM_TLS_H
#define CG_PLATFORM_TLS_H

/* CURLOPT_SSL_OPTIONS bits that make curl trust the platform's own store: CURLSSLOPT_NATIVE_CA
 * on Windows (the machine's ROOT store, as the ConfigMgr client uses), 0 elsewhere (OpenSSL's
 * default CA bundle is used). */
long cg_platform_curl_ssl_options(void);
/* A sentence for `version` and the probe facts: "Windows certificate store" or "system CA bundle". */
const char *cg_platform_trust_name(void);

#endif
