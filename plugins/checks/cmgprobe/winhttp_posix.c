/* cmgprobe off Windows: WinHTTP is the Windows client's own stack; there is none to ask here. */
#include <string.h>

#include "probe.h"

int probe_winhttp_request(const struct probe_winhttp_req *rq, struct probe_winhttp_out *out, char **body,
                          size_t *blen) {
  (void)rq;
  memset(out, 0, sizeof(*out));
  *body = NULL;
  *blen = 0;
  out->facts = cJSON_CreateObject();
  cJSON_AddBoolToObject(out->facts, "available", false);
  cJSON_AddStringToObject(out->facts, "detail", "WinHTTP is the Windows client's HTTP stack; not on this platform");
  return -1;
}

bool probe_winhttp_available(void) { return false; }
