/* There is no Windows certificate store here: the capture form (clientauth --input) applies. */
#include "certstore.h"

int cg_certstore_machine_my(struct cg_cert_info **certs, size_t *count, char *err, size_t errlen) {
  *certs = NULL;
  *count = 0;
  cg_snprintf(err, errlen, "there is no Windows certificate store on this platform");
  return CG_ERR_UNSUPPORTED;
}
