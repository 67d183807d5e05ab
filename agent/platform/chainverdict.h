/* Windows' own verdict on a server's certificate chain, the one the ConfigMgr client lives by:
 * CryptoAPI builds the chain (completing it from the AIA caIssuers URL, downloading trusted roots
 * on demand, checking revocation when asked) and CertVerifyCertificateChainPolicy with the SSL
 * policy judges it for the host name, as WinHTTP does. Elsewhere it is not available. */
#ifndef CG_PLATFORM_CHAINVERDICT_H
#define CG_PLATFORM_CHAINVERDICT_H

#include <stdbool.h>
#include <stddef.h>

struct cg_chain_verdict {
  bool available;             /* false: no CryptoAPI here (detail says why) */
  bool trusted;               /* the SSL policy accepted the chain for the host */
  bool wine;                  /* crypt32 is wine's, not Windows' */
  bool revocation_checked;    /* revocation was part of the verdict */
  unsigned long error;        /* CERT_CHAIN_POLICY_STATUS.dwError (an HRESULT), 0 when trusted */
  char error_name[48];        /* "CERT_E_UNTRUSTEDROOT" */
  unsigned long trust_errors; /* CERT_TRUST_STATUS.dwErrorStatus of the chain */
  char trust_flags[400];      /* those bits by name, comma-separated */
  int chain_length;           /* certificates in the chain Windows built (AIA completes it) */
  char detail[300];
};

/* der[0] is the server's certificate, der[1..n-1] what it sent with it. `extra_roots_pem` (may be
 * NULL) is a PEM file of roots trusted besides the machine's Root store (cmgprobe.ca_file).
 * Revocation is checked for the whole chain but the root when `check_revocation`. Always fills v. */
void cg_chain_verdict(const unsigned char *const *der, const size_t *der_len, int n, const char *host,
                      const char *extra_roots_pem, bool check_revocation, long timeout_ms, struct cg_chain_verdict *v);

#endif
