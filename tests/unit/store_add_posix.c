/* There is no per-user certificate store API to add to on POSIX. */
#include <stddef.h>

int add_root_to_store(const void *der, size_t len);

int add_root_to_store(const void *der, size_t len) {
  (void)der;
  (void)len;
  return -1;
}
