/* Parsers of netparse.h. */
#include "netparse.h"

#include <string.h>

#include "regfile.h"

/* The label's end in a "label : value" line of any language: the first ':' (or the full-width
 * U+FF1A) followed by a blank or the end; NULL when the line has none (the "direct access" sentence). */
static const char *label_end(const char *t, size_t *seplen) {
  for (const char *c = t; *c; c++) {
    size_t n = *c == ':' ? 1 : !strncmp(c, "\xEF\xBC\x9A", 3) ? 3 : 0;
    if (n && (c[n] == ' ' || c[n] == '\t' || !c[n])) {
      *seplen = n;
      return c;
    }
  }
  return NULL;
}

/* `netsh winhttp show proxy` in any display language, read by its structure: a header line that
 * names WinHTTP and ends with a colon, then either one sentence (direct access) or two "label :
 * value" lines, the proxy server(s) and the bypass list (a value in parentheses, "(none)", "(keine)",
 * "(aucun)", "(なし)", is no list). */
int ne_parse_netsh(const char *text, struct ne_proxy *out) {
  memset(out, 0, sizeof(*out));
  bool header = false, direct = false;
  int values = 0;
  const char *p = text;
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    char line[700];
    cg_snprintf(line, sizeof(line), "%.*s", (int)(n < 699 ? n : 699), p);
    char *t = cg_str_trim(line);
    size_t tl = strlen(t), sep = 0;
    p = nl ? nl + 1 : NULL;
    if (!*t) continue;
    if (!header) {
      /* the header: names WinHTTP, ends with ':' (" :" in French, a full-width colon possibly) */
      header =
          cg_str_contains_ci(t, "WinHTTP") && (t[tl - 1] == ':' || (tl >= 3 && !strcmp(t + tl - 3, "\xEF\xBC\x9A")));
      if (!header) break; /* netsh's first words are its header: anything else is not netsh */
      continue;
    }
    const char *c = label_end(t, &sep);
    if (!c) {
      direct = values == 0; /* the one sentence: direct access (no proxy server) */
      continue;
    }
    char *dst = values == 0 ? out->proxy : values == 1 ? out->bypass : NULL;
    size_t dl = values == 0 ? sizeof(out->proxy) : sizeof(out->bypass);
    if (dst) {
      char buf[600];
      cg_strlcpy(buf, c + sep, sizeof(buf));
      cg_strlcpy(dst, cg_str_trim(buf), dl);
    }
    values++;
  }
  if (out->bypass[0] == '(' && out->bypass[strlen(out->bypass) - 1] == ')') out->bypass[0] = '\0'; /* (none) */
  if (!header || (!direct && !out->proxy[0])) {
    memset(out, 0, sizeof(*out));
    return CG_ERR_PARSE;
  }
  if (direct) out->proxy[0] = out->bypass[0] = '\0';
  out->present = true;
  return CG_OK;
}

static uint32_t le32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* DWORD length + that many bytes of ANSI text at *off. */
static bool blob_string(const unsigned char *b, size_t n, size_t *off, char *out, size_t outlen) {
  if (*off + 4 > n) return false;
  uint32_t len = le32(b + *off);
  *off += 4;
  if (len > n - *off) return false;
  cg_snprintf(out, outlen, "%.*s", (int)(len < outlen ? len : outlen - 1), (const char *)(b + *off));
  *off += len;
  return true;
}

int ne_parse_winhttp_blob(const unsigned char *b, size_t n, struct ne_proxy *out) {
  memset(out, 0, sizeof(*out));
  if (n < 12) return CG_ERR_PARSE;
  uint32_t flags = le32(b + 8);
  size_t off = 12;
  char proxy[512] = "", bypass[512] = "";
  if (n >= 16 && !blob_string(b, n, &off, proxy, sizeof(proxy))) return CG_ERR_PARSE;
  if (off + 4 <= n && !blob_string(b, n, &off, bypass, sizeof(bypass))) return CG_ERR_PARSE;
  out->present = true;
  if (flags & 0x2) {
    cg_strlcpy(out->proxy, proxy, sizeof(out->proxy));
    cg_strlcpy(out->bypass, bypass, sizeof(out->bypass));
  }
  return CG_OK;
}

static const char *str_value(const cJSON *keys, const char *key, const char *value) {
  const cJSON *v = cg_regfile_get(keys, key, value);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t num_value(const cJSON *keys, const char *key, const char *value) {
  const cJSON *v = cg_regfile_get(keys, key, value);
  if (cJSON_IsNumber(v)) return (int64_t)v->valuedouble;
  /* hex(b): a QWORD some scripts write instead of a DWORD */
  unsigned char b[8];
  if (cJSON_IsString(v) && cg_str_startswith_ci(v->valuestring, "hex(b):")) {
    char tmp[64];
    cg_snprintf(tmp, sizeof(tmp), "hex:%s", v->valuestring + 7);
    if (cg_regfile_hex(tmp, b, sizeof(b)) >= 4) return (int64_t)le32(b);
  }
  return -1;
}

void ne_wininet_from_reg(const cJSON *keys, const char *root, struct ne_proxy *out) {
  char inet[400], conn[400];
  memset(out, 0, sizeof(*out));
  cg_snprintf(inet, sizeof(inet), "%s\\%s", root, NE_KEY_INET);
  cg_snprintf(conn, sizeof(conn), "%s\\%s", root, NE_KEY_CONN);
  int64_t enable = num_value(keys, inet, "ProxyEnable");
  const char *server = str_value(keys, inet, "ProxyServer"), *over = str_value(keys, inet, "ProxyOverride"),
             *pac = str_value(keys, inet, "AutoConfigURL");
  const cJSON *dcs = cg_regfile_get(keys, conn, "DefaultConnectionSettings");
  out->present = enable >= 0 || server || pac || dcs;
  if (enable == 1 && server) cg_strlcpy(out->proxy, server, sizeof(out->proxy));
  if (out->proxy[0] && over) cg_strlcpy(out->bypass, over, sizeof(out->bypass));
  if (pac) cg_strlcpy(out->pac, pac, sizeof(out->pac));
  unsigned char b[16];
  if (cJSON_IsString(dcs) && cg_regfile_hex(dcs->valuestring, b, sizeof(b)) >= 12) {
    uint32_t flags = le32(b + 8);
    out->auto_detect = (flags & 0x8) != 0;
    if (!(flags & 0x4)) out->pac[0] = '\0'; /* "Use setup script" unticked */
    if (!(flags & 0x2) && enable < 0) out->proxy[0] = '\0';
  }
  cg_strlcpy(out->source, root, sizeof(out->source));
}

void ne_winhttp_from_reg(const cJSON *keys, struct ne_proxy *out) {
  memset(out, 0, sizeof(*out));
  const char *v = str_value(keys, NE_KEY_WINHTTP_SETTINGS, "WinHttpSettings");
  unsigned char b[2048];
  long n = v ? cg_regfile_hex(v, b, sizeof(b)) : -1;
  if (n > 0 && ne_parse_winhttp_blob(b, (size_t)n, out) == CG_OK)
    cg_strlcpy(out->source, "registry WinHttpSettings", sizeof(out->source));
}

void ne_tls_from_reg(const cJSON *keys, struct ne_tls *out) {
  out->enabled = num_value(keys, NE_KEY_SCHANNEL, "Enabled");
  out->disabled_by_default = num_value(keys, NE_KEY_SCHANNEL, "DisabledByDefault");
  out->dsp = num_value(keys, NE_KEY_WINHTTP, "DefaultSecureProtocols");
  out->dsp_wow = num_value(keys, NE_KEY_WINHTTP_WOW, "DefaultSecureProtocols");
}

bool ne_is_user_sid(const char *name) {
  size_t n = strlen(name);
  return cg_str_startswith_ci(name, "S-1-5-21-") && !(n > 8 && cg_strcasecmp(name + n - 8, "_Classes") == 0);
}
