/* libFuzzer: what `netenv` reads from captures — netsh text, `reg export` files (continuation
 * lines, hex data), the WinHttpSettings and DefaultConnectionSettings blobs, the TLS values — and
 * the proxy-list helpers, on decoded text as the check feeds them; and what `collect` writes of
 * the parsed keys (cg_regfile_write), which must read back to the same values. */
#include <stdint.h>
#include <string.h>

#include "netparse.h"
#include "proxy.h"
#include "regfile.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct ne_proxy p;
  /* the raw bytes as a WinHTTP settings blob */
  ne_parse_winhttp_blob(data, size, &p);
  char *text = NULL;
  size_t n = 0;
  enum cg_text_encoding enc;
  int cp;
  if (cg_text_decode_capture((const char *)data, size, 850, &text, &n, &enc, &cp) != CG_OK) return 0;
  ne_parse_netsh(text, &p);
  cJSON *keys = NULL;
  if (cg_regfile_parse(text, &keys) == CG_OK) {
    ne_winhttp_from_reg(keys, &p);
    ne_wininet_from_reg(keys, "HKEY_USERS\\S-1-5-18", &p);
    for (const cJSON *k = keys->child; k; k = k->next) {
      ne_is_user_sid(k->string);
      for (const cJSON *v = k->child; v; v = v->next) {
        unsigned char b[64];
        if (cJSON_IsString(v)) cg_regfile_hex(v->valuestring, b, sizeof(b));
      }
    }
    struct ne_tls t;
    ne_tls_from_reg(keys, &t);
    /* what `collect` writes of keys reads back to the same keys and text values */
    size_t wl = 0;
    char *written = cg_regfile_write(keys, &wl);
    cJSON *back = NULL;
    if (!written || cg_regfile_parse(written, &back) != CG_OK) __builtin_trap();
    /* compared exactly (key and value names as written), not through the case-blind lookup */
    if (!cJSON_Compare(keys, back, true)) __builtin_trap();
    cJSON_Delete(back);
    cg_free(written);
    cJSON_Delete(keys);
  }
  /* the first line as a proxy list and a bypass list */
  char line[512], out[512], host[256];
  size_t l = strcspn(text, "\n");
  memcpy(line, text, l < sizeof(line) - 1 ? l : sizeof(line) - 1);
  line[l < sizeof(line) - 1 ? l : sizeof(line) - 1] = '\0';
  cg_proxy_pick(line, "https", out, sizeof(out));
  cg_proxy_bypassed(line, "login.microsoftonline.com");
  cg_url_host(line, host, sizeof(host), out, sizeof(out));
  cg_proxy_redact(line, out, sizeof(out));
  cg_free(text);
  return 0;
}
