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

const char *ls_kind_name(enum ls_kind k) {
  switch (k) {
  case LS_KIND_MUTUALAUTH: return "mutualauth";
  case LS_KIND_SERVERAUTH: return "serverauth";
  case LS_KIND_CONTENT: return "content";
  case LS_KIND_OTHER: return "other";
  case LS_KIND_NONE: break;
  }
  return "";
}

/* The kind of the path in [p, end): the first marker found decides. */
static enum ls_kind path_kind(const char *p, const char *end) {
  size_t n = (size_t)(end - p);
  if (find_ci(p, n, "/CCM_Proxy_MutualAuth")) return LS_KIND_MUTUALAUTH;
  if (find_ci(p, n, "/CCM_Proxy_ServerAuth")) return LS_KIND_SERVERAUTH;
  if (find_ci(p, n, "/downloadrestservice.svc/") || find_ci(p, n, "/SMS_DP_")) return LS_KIND_CONTENT;
  return LS_KIND_OTHER;
}

bool ls_target_kind(const char *msg, size_t len, char host[LS_HOST], enum ls_kind *kind) {
  const char *end = msg + len;
  *kind = LS_KIND_NONE;
  const char *u = find_ci(msg, len, "://");
  if (u && u - msg >= 4 && copy_host(u + 3, end, host)) {
    const char *stop = u + 3;
    while (stop < end && *stop != ' ' && *stop != ',' && *stop != ']' && *stop != '\'' && *stop != '"')
      stop++;
    *kind = path_kind(u + 3, stop);
    if (*kind == LS_KIND_OTHER && !memchr(u + 3, '/', (size_t)(stop - (u + 3)))) *kind = LS_KIND_NONE;
    return true;
  }
  const char *h = find_ci(msg, len, "Host=");
  if (h && copy_host(h + 5, end, host)) {
    const char *p = find_ci(h, (size_t)(end - h), "Path=");
    if (p && p - h < 400) {
      const char *stop = p + 5;
      while (stop < end && stop - p < 200 && *stop != ' ' && *stop != ',')
        stop++;
      *kind = path_kind(p + 4, stop);
    }
    return true;
  }
  const char *px = find_ci(msg, len, "/CCM_Proxy_");
  if (px) {
    const char *b = px;
    while (b > msg && host_char(b[-1]))
      b--;
    if (b < px && copy_host(b, px, host)) {
      const char *stop = px;
      while (stop < end && *stop != ' ' && *stop != ',' && *stop != '\'' && *stop != ')')
        stop++;
      *kind = path_kind(px, stop);
      return true;
    }
  }
  /* CcmMessaging: "Delivered successfully to host 'MP01.CONTOSO.COM'." names a server without a path */
  const char *q = find_ci(msg, len, "host '");
  if (q && copy_host(q + 6, end, host)) return true;
  return false;
}

bool ls_target(const char *msg, size_t len, char host[LS_HOST], bool *cmg) {
  enum ls_kind k;
  *cmg = false;
  if (!ls_target_kind(msg, len, host, &k)) return false;
  *cmg = k == LS_KIND_MUTUALAUTH || k == LS_KIND_SERVERAUTH ||
         (k == LS_KIND_CONTENT && find_ci(msg, len, "/downloadrestservice.svc/"));
  return true;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !cg_strcasecmp(s + a - b, suffix);
}

bool ls_is_cmg_host(const char *host, const cJSON *cmg_hosts) {
  if (!host || !*host) return false;
  const cJSON *x;
  cJSON_ArrayForEach(x, cmg_hosts) if (cJSON_IsString(x) && !cg_strcasecmp(x->valuestring, host)) return true;
  return ends_with(host, ".cloudapp.azure.com") || ends_with(host, ".cloudapp.net") ||
         ends_with(host, ".usgovcloudapp.net") || ends_with(host, ".blob.core.windows.net");
}

bool ls_grow(void **items, size_t *alloc, size_t count, size_t first, size_t size) {
  if (count < *alloc) return true;
  size_t na = *alloc ? *alloc * 2 : first;
  void *n = cg_realloc(*items, na * size);
  if (!n) return false;
  *items = n;
  *alloc = na;
  return true;
}

void ls_add_success(struct ls_model *m, const char *log, const char *host, const char *op, int64_t ms) {
  if (!host || !*host) return; /* names no server: resolves nothing */
  for (size_t i = 0; i < m->nok; i++)
    if (!strcmp(m->ok[i].log, log) && !strcmp(m->ok[i].host, host) && !strcmp(m->ok[i].op, op)) {
      if (ms > m->ok[i].ms) m->ok[i].ms = ms;
      return;
    }
  if (m->nok >= LS_MAX_SERVERS || !ls_grow((void **)&m->ok, &m->aok, m->nok, 8, sizeof(*m->ok))) return;
  struct ls_success *x = &m->ok[m->nok++];
  cg_strlcpy(x->log, log, sizeof(x->log));
  cg_strlcpy(x->host, host, sizeof(x->host));
  cg_strlcpy(x->op, op, sizeof(x->op));
  x->ms = ms;
}

void ls_saw(struct ls_model *m, const char *host, int64_t ms) {
  if (!host || !*host) return;
  for (size_t i = 0; i < m->nseen; i++)
    if (!strcmp(m->seen[i].host, host)) {
      if (ms > m->seen[i].ms) m->seen[i].ms = ms;
      return;
    }
  if (m->nseen >= LS_MAX_SERVERS || !ls_grow((void **)&m->seen, &m->aseen, m->nseen, 16, sizeof(*m->seen))) return;
  struct ls_seen *x = &m->seen[m->nseen++];
  cg_strlcpy(x->host, host, sizeof(x->host));
  x->ms = ms;
}

int64_t ls_last_cmg(const struct ls_model *m, const cJSON *cmg_hosts) {
  int64_t last = m->kept_cmg_ms;
  for (size_t i = 0; i < m->nseen; i++)
    if (m->seen[i].ms > last && ls_is_cmg_host(m->seen[i].host, cmg_hosts)) last = m->seen[i].ms;
  return last;
}

int64_t ls_resolved_at(const struct ls_model *m, const char *log, const char *host, const char *op, bool connectivity,
                       int64_t last_ms) {
  if (!host || !*host) return 0;
  int64_t at = 0;
  for (size_t i = 0; i < m->nok; i++) {
    const struct ls_success *x = &m->ok[i];
    if (x->ms <= last_ms || strcmp(x->host, host) != 0) continue;
    bool same_op = *op ? !strcmp(x->op, op) : !strcmp(x->log, log);
    if ((connectivity || same_op) && (!at || x->ms < at)) at = x->ms;
  }
  return at;
}

void ls_model_load(struct ls_model *m, const cJSON *kept, int64_t min_ms) {
  const cJSON *x, *lc = cJSON_GetObjectItemCaseSensitive(kept, "last_cmg_ms");
  if (cJSON_IsNumber(lc) && (int64_t)lc->valuedouble >= min_ms) m->kept_cmg_ms = (int64_t)lc->valuedouble;
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(kept, "ok")) {
    const char *log = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "log"));
    const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "host"));
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "op"));
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(x, "ms");
    if (log && host && cJSON_IsNumber(ms) && (int64_t)ms->valuedouble >= min_ms)
      ls_add_success(m, log, host, op ? op : "", (int64_t)ms->valuedouble);
  }
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(kept, "seen")) {
    const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "host"));
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(x, "ms");
    if (host && cJSON_IsNumber(ms) && (int64_t)ms->valuedouble >= min_ms) ls_saw(m, host, (int64_t)ms->valuedouble);
  }
}

void ls_model_save(const struct ls_model *m, const cJSON *cmg_hosts, cJSON *kept) {
  cJSON_AddNumberToObject(kept, "last_cmg_ms", (double)ls_last_cmg(m, cmg_hosts));
  cJSON *ok = cJSON_AddArrayToObject(kept, "ok"), *seen = cJSON_AddArrayToObject(kept, "seen");
  for (size_t i = 0; i < m->nok; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "log", m->ok[i].log);
    cJSON_AddStringToObject(o, "host", m->ok[i].host);
    cJSON_AddStringToObject(o, "op", m->ok[i].op);
    cJSON_AddNumberToObject(o, "ms", (double)m->ok[i].ms);
    cJSON_AddItemToArray(ok, o);
  }
  for (size_t i = 0; i < m->nseen; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "host", m->seen[i].host);
    cJSON_AddNumberToObject(o, "ms", (double)m->seen[i].ms);
    cJSON_AddItemToArray(seen, o);
  }
}

void ls_model_free(struct ls_model *m) {
  cg_free(m->ok);
  cg_free(m->seen);
  memset(m, 0, sizeof(*m));
}
