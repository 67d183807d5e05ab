/* Shared libcurl TLS setup. */
#include "http.h"

#include <string.h>

#include "platform/fs.h"
#include "platform/tls.h"

int cg_http_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? CG_OK : CG_ERR_INTERNAL; }

int cg_http_tls_setup(CURL *h, const char *ca_file, char *err, size_t errlen) {
  if (ca_file && *ca_file) {
    char *data = NULL;
    size_t len = 0;
    int rc = cg_file_read(ca_file, 4 * 1024 * 1024, &data, &len);
    bool pem = rc == CG_OK && strstr(data, "-----BEGIN CERTIFICATE-----") != NULL;
    cg_free(data);
    if (!pem) {
      cg_snprintf(err, errlen, "the CA file %s %s", ca_file,
                  rc != CG_OK ? cg_strerror(rc) : "holds no PEM certificate");
      return CG_ERR_CONFIG;
    }
  }
  long opts = cg_platform_curl_ssl_options();
  if (curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
      (opts && curl_easy_setopt(h, CURLOPT_SSL_OPTIONS, opts) != CURLE_OK) ||
      (ca_file && *ca_file && curl_easy_setopt(h, CURLOPT_CAINFO, ca_file) != CURLE_OK)) {
    cg_snprintf(err, errlen, "libcurl refused the TLS settings");
    return CG_ERR_INTERNAL;
  }
  return CG_OK;
}
