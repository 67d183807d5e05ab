/* Targets of client log lines (see logstate.h). */
#include <string.h>

#include "logstate.h"

static const char *find_ci(const char *h, size_t hl, const char *n) { return cg_memmem_ci(h, hl, n, strlen(n)); }

static bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static bool copy_host(const char *b, const char *end, char host[LS_HOST]) {
  size_t n = 0;
  while (b + n < end && host_char(b[n]) && n < LS_HOST - 1)
    n++;
  if (n < 1 || !memchr(b, '.', n)) return false; /* a name with a dot, not a word */
  for (size_t i = 0; i < n; i++)
    host[i] = (char)(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i]);
  host[n] = '\0';
  return true;
}

bool ls_target(const char *msg, size_t len, char host[LS_HOST], bool *cmg) {
  const char *end = msg + len;
  *cmg = false;
  const char *u = find_ci(msg, len, "://");
  if (u && u - msg >= 4 && copy_host(u + 3, end, host)) {
    const char *stop = u + 3;
    while (stop < end && *stop != ' ' && *stop != ',' && *stop != ']' && *stop != '\'' && *stop != '"')
      stop++;
    *cmg = find_ci(u, (size_t)(stop - u), "/CCM_Proxy_") != NULL;
    return true;
  }
  const char *h = find_ci(msg, len, "Host=");
  if (h && copy_host(h + 5, end, host)) {
    const char *p = find_ci(h, (size_t)(end - h), "Path=");
    *cmg = p && p - h < 400 && find_ci(p, (size_t)(end - p) < 40 ? (size_t)(end - p) : 40, "/CCM_Proxy_") != NULL;
    return true;
  }
  const char *px = find_ci(msg, len, "/CCM_Proxy_");
  if (px) {
    const char *b = px;
    while (b > msg && host_char(b[-1]))
      b--;
    if (b < px && copy_host(b, px, host)) {
      *cmg = true;
      return true;
    }
  }
  return false;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !strcmp(s + a - b, suffix);
}

bool ls_is_cmg_host(const char *host, const cJSON *cmg_hosts) {
  if (!host || !*host) return false;
  const cJSON *x;
  cJSON_ArrayForEach(x, cmg_hosts) if (cJSON_IsString(x) && !strcmp(x->valuestring, host)) return true;
  return ends_with(host, ".cloudapp.azure.com") || ends_with(host, ".cloudapp.net") ||
         ends_with(host, ".usgovcloudapp.net") || ends_with(host, ".blob.core.windows.net");
}
