/* No CryptoAPI off Windows: the probe's own OpenSSL verdict (with AIA and OCSP) stands alone. */
#include <string.h>

#include "cg.h"
#include "chainverdict.h"

void cg_chain_verdict(const unsigned char *const *der, const size_t *der_len, int n, const char *host,
                      const char *extra_roots_pem, bool check_revocation, long timeout_ms, struct cg_chain_verdict *v) {
  (void)der;
  (void)der_len;
  (void)n;
  (void)host;
  (void)extra_roots_pem;
  (void)check_revocation;
  (void)timeout_ms;
  memset(v, 0, sizeof(*v));
  cg_strlcpy(v->detail, "CryptoAPI exists on Windows only", sizeof(v->detail));
}
