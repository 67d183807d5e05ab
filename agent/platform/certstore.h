/* The machine's personal certificate store (LocalMachine\My), as the ConfigMgr client sees it when
 * it picks its client-authentication certificate: what each certificate is for, whether it has a
 * private key, and whether Windows builds it a chain to a trusted root. */
#ifndef CG_PLATFORM_CERTSTORE_H
#define CG_PLATFORM_CERTSTORE_H

#include "cg.h"

#define CG_CERT_MAX_EKUS 16
#define CG_CERT_MAX 512

struct cg_cert_info {
  char subject[512], issuer[512]; /* "CN=..., OU=..., O=..." (most specific first, as .NET shows) */
  char sans[512];                 /* the subject alternative name's DNS names, ", "-joined; "" none */
  char thumbprint[48];            /* SHA-1, upper-case hex */
  int64_t not_before_ms, not_after_ms;
  int has_private_key;             /* 1, 0, -1 unknown */
  char ekus[CG_CERT_MAX_EKUS][40]; /* enhanced key usage OIDs */
  size_t n_ekus;
  int chain;             /* -1 not built (a capture), 0 trusted, 1 not trusted */
  char chain_error[200]; /* why not, when chain == 1 */
  char root[512];        /* subject of the chain's root, "" when not built */
};

/* Every certificate of LocalMachine\My (at most CG_CERT_MAX), chains built without revocation
 * checking and from cached URLs only (a chain build must not wait on the network). *certs is an
 * array the caller frees with cg_free. CG_ERR_UNSUPPORTED off Windows, CG_ERR_ACCESS, CG_ERR_IO. */
int cg_certstore_machine_my(struct cg_cert_info **certs, size_t *count, char *err, size_t errlen);

#endif
