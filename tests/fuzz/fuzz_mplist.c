/* libFuzzer: the CMG's MP list answer (SMS_MP/.sms_aut?mplist) through the small XML reader. */
#include <stdint.h>
#include <string.h>

#include "cg.h"
#include "mplist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct mplist m;
  if (mplist_parse((const char *)data, size, &m) == CG_OK) {
    if (m.count > CG_MPLIST_MAX || m.count > m.total) __builtin_trap();
    for (size_t i = 0; i < m.count; i++)
      if (strlen(m.mp[i].name) >= sizeof(m.mp[i].name) || strlen(m.mp[i].fqdn) >= sizeof(m.mp[i].fqdn))
        __builtin_trap();
  } else if (!m.error[0]) {
    __builtin_trap(); /* every refusal says why */
  }
  return 0;
}
