/* cmgprobe off Windows: WinHTTP is the Windows client's own stack; there is none to ask here. */
#include <string.h>

#include "probe.h"

int probe_winhttp(struct probe *p, const char *path, const char *thumbprint, struct probe_winhttp_out *out) {
  (void)p;
  (void)path;
  (void)thumbprint;
  memset(out, 0, sizeof(*out));
  out->facts = cJSON_CreateObject();
  cJSON_AddBoolToObject(out->facts, "available", false);
  cJSON_AddStringToObject(out->facts, "detail", "WinHTTP is the Windows client's HTTP stack; not on this platform");
  return -1;
}

bool probe_winhttp_available(void) { return false; }
