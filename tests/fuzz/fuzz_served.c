/* libFuzzer: the request a user's `cmgdiag selftest` sends to the service (served.c), from whoever
 * can open the channel: any local user. */
#include <stdint.h>
#include <string.h>

#include "served.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct cg_served_request rq;
  char err[300];
  if (cg_served_parse((const char *)data, size, &rq, err, sizeof(err)) == CG_OK) {
    /* what reaches the worker's argument vector is bounded and of its character set */
    if (strlen(rq.ticket) > CG_SERVED_TICKET_MAX ||
        strspn(rq.ticket, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789._:#/-") != strlen(rq.ticket))
      __builtin_trap();
    if (rq.only[0] == ',' ||
        strspn(rq.only, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_,") != strlen(rq.only))
      __builtin_trap();
  }
  return 0;
}
