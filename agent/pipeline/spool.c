/* Crash-safe, bounded spool of gzip bundles. */
#include "spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "ship.h"
#include "gz.h"
#include "platform/fs.h"

#define SUFFIX ".json.gz"
#define STATE "spool-state.json"
#define MARK ".sent-"
#define META ".meta" /* beside each bundle: its object name, host, id and size, written when spooled */
/* Bundles the collection point refused for good, or files that failed the integrity check, are
 * kept for a person to look at, but only so many: the oldest go first. */
#define QUARANTINE_MAX_FILES 50

static bool is_bundle_name(const char *n) {
  /* 13 digits, '-', a 36-character id, ".json.gz" */
  size_t len = strlen(n);
  if (len != 13 + 1 + 36 + strlen(SUFFIX) || n[13] != '-' || !cg_str_endswith_ci(n, SUFFIX)) return false;
  for (int i = 0; i < 13; i++)
    if (n[i] < '0' || n[i] > '9') return false;
  return true;
}

#define BUNDLE_NAME_LEN (13 + 1 + 36 + sizeof(SUFFIX) - 1)

/* "<bundle>.meta": the sidecar of a bundle. */
static bool is_meta_name(const char *n) {
  return strlen(n) == BUNDLE_NAME_LEN + strlen(META) && cg_str_endswith_ci(n, META);
}

bool cg_spool_owns(const char *n) {
  const char *m = strstr(n, MARK);
  return is_bundle_name(n) || cg_str_endswith_ci(n, SUFFIX) || strcmp(n, STATE) == 0 ||
         (m && (size_t)(m - n) == BUNDLE_NAME_LEN) || is_meta_name(n) || strstr(n, ".tmp.") != NULL;
}

static char *meta_path(struct cg_spool *sp, const char *name) {
  char *m = cg_asprintf("%s" META, name);
  char *p = m ? cg_path_join(sp->dir, m) : NULL;
  cg_free(m);
  return p;
}

static void remove_meta(struct cg_spool *sp, const char *name) {
  char *p = meta_path(sp, name);
  if (p) cg_file_remove(p);
  cg_free(p);
}

static int write_meta(struct cg_spool *sp, const struct cg_spool_entry *e, char *err, size_t errlen) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "object", e->object);
  cJSON_AddStringToObject(j, "host", e->host);
  cJSON_AddStringToObject(j, "created_at", e->created_at);
  cJSON_AddStringToObject(j, "bundle_id", e->bundle_id);
  cJSON_AddNumberToObject(j, "bytes", (double)e->bytes);
  char *text = cJSON_PrintUnformatted(j), *p = meta_path(sp, e->name);
  int rc = text && p ? cg_file_write_atomic(p, text, strlen(text), err, errlen) : CG_ERR_NOMEM;
  cJSON_free(text);
  cJSON_Delete(j);
  cg_free(p);
  return rc;
}

int cg_spool_entry(struct cg_spool *sp, const char *name, struct cg_spool_entry *e) {
  char *p = meta_path(sp, name), *text = NULL;
  size_t len = 0;
  int rc = p ? cg_file_read(p, 4096, &text, &len) : CG_ERR_NOMEM;
  cg_free(p);
  if (rc != CG_OK) return rc;
  cJSON *j = cJSON_ParseWithLength(text, len);
  cg_free(text);
  const char *object = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "object"));
  const char *host = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "host"));
  const char *created = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "created_at"));
  const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "bundle_id"));
  const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(j, "bytes");
  memset(e, 0, sizeof(*e));
  rc = object && host && created && id && cJSON_IsNumber(bytes) ? CG_OK : CG_ERR_PARSE;
  if (rc == CG_OK) {
    cg_strlcpy(e->name, name, sizeof(e->name));
    cg_strlcpy(e->object, object, sizeof(e->object));
    cg_strlcpy(e->host, host, sizeof(e->host));
    cg_strlcpy(e->created_at, created, sizeof(e->created_at));
    cg_strlcpy(e->bundle_id, id, sizeof(e->bundle_id));
    e->bytes = (int64_t)bytes->valuedouble;
  }
  cJSON_Delete(j);
  return rc;
}

/* The entry of a bundle: its object name and host from created_at, device.hostname and the id. */
static int make_entry(const char *name, const char *created_at, const char *hostname, const char *bundle_id,
                      int64_t bytes, struct cg_spool_entry *e) {
  memset(e, 0, sizeof(*e));
  if (cg_bundle_object_name(created_at, hostname, bundle_id, e->object, sizeof(e->object)) != CG_OK)
    return CG_ERR_PARSE;
  /* yyyy/mm/dd/HOST/id.json.gz: the host is the fourth part, made path-safe */
  const char *h = e->object;
  for (int i = 0; i < 3 && h; i++)
    h = strchr(h, '/') ? strchr(h, '/') + 1 : NULL;
  if (!h) return CG_ERR_PARSE;
  cg_snprintf(e->host, sizeof(e->host), "%.*s", (int)strcspn(h, "/"), h);
  cg_strlcpy(e->name, name, sizeof(e->name));
  cg_strlcpy(e->created_at, created_at, sizeof(e->created_at));
  cg_strlcpy(e->bundle_id, bundle_id, sizeof(e->bundle_id));
  e->bytes = bytes;
  return CG_OK;
}

/* Keeps the quarantine within QUARANTINE_MAX_FILES (names sort oldest first). */
static void trim_quarantine(struct cg_spool *sp) {
  char **names = NULL;
  size_t n = 0;
  if (cg_dir_list(sp->quarantine, &names, &n) != CG_OK) return;
  for (size_t i = 0; n > QUARANTINE_MAX_FILES && i < n - QUARANTINE_MAX_FILES; i++) {
    char *p = cg_spool_owns(names[i]) ? cg_path_join(sp->quarantine, names[i]) : NULL;
    if (p && cg_file_remove(p) == CG_OK) cg_log_info(sp->log, "spool", "quarantine full: removed %s", names[i]);
    cg_free(p);
  }
  cg_dir_list_free(names, n);
}

static void remove_own_files(const char *dir) {
  char **names = NULL;
  size_t n = 0;
  if (!cg_path_is_plain_dir(dir) || cg_dir_list(dir, &names, &n) != CG_OK) return;
  for (size_t i = 0; i < n; i++) {
    char *p = cg_spool_owns(names[i]) ? cg_path_join(dir, names[i]) : NULL;
    if (p && cg_path_is_plain_file(p)) cg_file_remove(p);
    cg_free(p);
  }
  cg_dir_list_free(names, n);
}

void cg_spool_purge(const char *dir) {
  char *q = cg_path_join(dir, "quarantine");
  if (q && cg_path_is_plain_dir(dir)) {
    remove_own_files(q);
    if (cg_path_is_plain_dir(q)) cg_dir_remove(q); /* only when empty */
    remove_own_files(dir);
    cg_dir_remove(dir);
  }
  cg_free(q);
}

static void save_state(struct cg_spool *sp) {
  char *path = cg_path_join(sp->dir, STATE), err[256];
  char *text = cg_asprintf("{\"dropped_total\": %lld}\n", (long long)sp->dropped_total);
  if (path && text && cg_file_write_atomic(path, text, strlen(text), err, sizeof(err)) != CG_OK)
    cg_log_warn(sp->log, "spool", "cannot save the spool state: %s", err);
  cg_free(path);
  cg_free(text);
}

/* A mark "<bundle>.sent-<key>" or a "<bundle>.meta" whose bundle is not in the (sorted) listing. */
static bool orphan_mark(char **names, size_t n, const char *name) {
  const char *m = strstr(name, MARK);
  if (!m && is_meta_name(name)) m = name + BUNDLE_NAME_LEN;
  if (!m) return false;
  size_t blen = (size_t)(m - name);
  size_t lo = 0, hi = n;
  while (lo < hi) { /* binary search of the bundle name in the sorted listing */
    size_t mid = (lo + hi) / 2;
    int c = strncmp(names[mid], name, blen);
    if (c == 0 && names[mid][blen] == '\0') return false;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return true;
}

static void check_all(struct cg_spool *sp);

int cg_spool_open(struct cg_spool *sp, const char *dir, int64_t max_bytes, int64_t max_files, struct cg_log *log,
                  char *err, size_t errlen) {
  memset(sp, 0, sizeof(*sp));
  sp->max_bytes = max_bytes;
  sp->max_files = max_files;
  sp->log = log;
  sp->dir = cg_strdup(dir);
  sp->quarantine = cg_path_join(dir, "quarantine");
  if (!sp->dir || !sp->quarantine) return CG_ERR_NOMEM;
  /* Folders that exist must be the agent's own: a link or a folder a user planted would redirect
   * what SYSTEM writes (docs/security.md). */
  int rc = cg_dir_ensure_private(dir, err, errlen);
  if (rc == CG_OK) rc = cg_dir_ensure_private(sp->quarantine, err, errlen);
  if (rc != CG_OK) return rc;
  char **names = NULL;
  size_t n = 0;
  if (cg_dir_list(dir, &names, &n) == CG_OK)
    for (size_t i = 0; i < n; i++)
      if (strstr(names[i], ".tmp.") || orphan_mark(names, n, names[i])) {
        /* an atomic write or a writability probe a crash interrupted, or the delivery mark of a
         * bundle that is gone */
        char *p = cg_path_join(dir, names[i]);
        if (p) cg_file_remove(p);
        cg_free(p);
      }
  cg_dir_list_free(names, n);
  char *path = cg_path_join(dir, STATE), *text = NULL;
  size_t len = 0;
  if (path && cg_file_read(path, 4096, &text, &len) == CG_OK) {
    cJSON *j = cJSON_Parse(text);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "dropped_total");
    if (cJSON_IsNumber(d) && d->valuedouble >= 0) sp->dropped_total = (int64_t)d->valuedouble;
    cJSON_Delete(j);
  }
  cg_free(text);
  cg_free(path);
  check_all(sp);
  return CG_OK;
}

void cg_spool_close(struct cg_spool *sp) {
  cg_free(sp->dir);
  cg_free(sp->quarantine);
  memset(sp, 0, sizeof(*sp));
}

/* A bundle whose entry is missing or does not match its size (a crash between the bundle and its
 * entry, an older agent's spool, a changed file): gzip, JSON, schema and the id in the name must all
 * agree, and the entry is written anew from the bundle. False: it goes to quarantine. */
static bool check_bundle(struct cg_spool *sp, const char *name) {
  char *gz = NULL, err[256];
  size_t len = 0;
  cJSON *b = NULL;
  struct cg_spool_entry e;
  char *path = cg_path_join(sp->dir, name), *head = NULL;
  size_t hl = 0;
  /* written by cg_spool_put and unchanged since: its entry, size and gzip header agree (no read of
   * the whole bundle every time the spool is opened) */
  bool known = path && cg_spool_entry(sp, name, &e) == CG_OK && cg_file_size(path) == e.bytes &&
               strncmp(name + 14, e.bundle_id, 36) == 0 && cg_file_read_range(path, 0, 2, &head, &hl) == CG_OK &&
               cg_is_gzip(head, hl);
  cg_free(head);
  cg_free(path);
  if (known) return true;
  bool ok = cg_spool_read(sp, name, &gz, &len) == CG_OK && cg_is_gzip(gz, len) &&
            cg_bundle_parse(gz, len, name, &b, err, sizeof(err)) == CG_OK;
  const char *id = ok ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "bundle_id")) : NULL;
  ok = ok && id && strncmp(name + 14, id, 36) == 0;
  if (ok) {
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(b, "device");
    ok = make_entry(name, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "created_at")),
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dev, "hostname")), id, (int64_t)len,
                    &e) == CG_OK &&
         write_meta(sp, &e, err, sizeof(err)) == CG_OK;
  }
  cJSON_Delete(b);
  cg_free(gz);
  return ok;
}

int cg_spool_read(struct cg_spool *sp, const char *name, char **gz, size_t *len) {
  char *p = cg_path_join(sp->dir, name);
  int rc = p ? cg_file_read(p, CG_BUNDLE_MAX_BYTES, gz, len) : CG_ERR_NOMEM;
  cg_free(p);
  return rc;
}

int cg_spool_remove(struct cg_spool *sp, const char *name) {
  char *p = cg_path_join(sp->dir, name);
  int rc = p ? cg_file_remove(p) : CG_ERR_NOMEM;
  cg_free(p);
  return rc;
}

static void quarantine(struct cg_spool *sp, const char *name) {
  char *from = cg_path_join(sp->dir, name), *to = cg_path_join(sp->quarantine, name);
  /* logged once: once moved, the file is no longer in the queue */
  remove_meta(sp, name);
  if (from && to && cg_file_rename(from, to) == CG_OK) {
    cg_log_warn(sp->log, "spool", "%s failed the integrity check and was moved to %s", name, sp->quarantine);
    trim_quarantine(sp);
  } else if (from) {
    cg_file_remove(from);
  }
  cg_free(from);
  cg_free(to);
}

int cg_spool_list(struct cg_spool *sp, char ***names, size_t *count) {
  char **all = NULL;
  size_t n = 0, k = 0;
  int rc = cg_dir_list(sp->dir, &all, &n);
  *names = NULL;
  *count = 0;
  if (rc != CG_OK) return rc;
  for (size_t i = 0; i < n; i++) {
    if (is_bundle_name(all[i]))
      all[k++] = all[i];
    else
      cg_free(all[i]);
  }
  *names = all; /* already sorted: oldest first */
  *count = k;
  return CG_OK;
}

/* Once when the spool is opened: every bundle is checked (its entry, or the whole bundle when the
 * entry is missing or does not match) and a bad one, or a bundle-looking file with a name the agent
 * never writes, goes to quarantine. */
static void check_all(struct cg_spool *sp) {
  char **all = NULL;
  size_t n = 0;
  if (cg_dir_list(sp->dir, &all, &n) != CG_OK) return;
  for (size_t i = 0; i < n; i++)
    if ((is_bundle_name(all[i]) && !check_bundle(sp, all[i])) ||
        (!is_bundle_name(all[i]) && cg_str_endswith_ci(all[i], SUFFIX)))
      quarantine(sp, all[i]);
  cg_dir_list_free(all, n);
}

/* Drops the oldest bundles until `add_files` more bundles of `add_bytes` fit within the bounds: room
 * is made before the new bundle is written, so the spool never holds more than its cap, not even
 * for a moment. */
static void enforce_bounds(struct cg_spool *sp, int64_t add_files, int64_t add_bytes) {
  char **names = NULL;
  size_t n = 0;
  if (cg_dir_list(sp->dir, &names, &n) != CG_OK) return;
  int64_t bytes = 0, files = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_bundle_name(names[i])) continue;
    char *p = cg_path_join(sp->dir, names[i]);
    int64_t sz = p ? cg_file_size(p) : -1;
    cg_free(p);
    if (sz >= 0) {
      bytes += sz;
      files++;
    }
  }
  int64_t dropped = 0;
  bytes += add_bytes;
  files += add_files;
  for (size_t i = 0; i < n && (bytes > sp->max_bytes || files > sp->max_files); i++) {
    if (!is_bundle_name(names[i])) continue;
    char *p = cg_path_join(sp->dir, names[i]);
    int64_t sz = p ? cg_file_size(p) : -1;
    if (p && cg_file_remove(p) == CG_OK) {
      remove_meta(sp, names[i]);
      bytes -= sz > 0 ? sz : 0;
      files--;
      dropped++;
    }
    cg_free(p);
  }
  if (dropped) {
    sp->dropped_total += dropped;
    save_state(sp);
    cg_log_warn(sp->log, "spool", "spool full: dropped the %lld oldest bundle(s), %lld dropped in all",
                (long long)dropped, (long long)sp->dropped_total);
  }
  cg_dir_list_free(names, n);
}

int cg_spool_put(struct cg_spool *sp, const char *bundle_id, int64_t created_ms, const char *created_at,
                 const char *hostname, const void *gz, size_t len, char *err, size_t errlen) {
  char name[96];
  struct cg_spool_entry e;
  if (strlen(bundle_id) != 36 || created_ms < 0) {
    cg_snprintf(err, errlen, "not a bundle id: %s", bundle_id);
    return CG_ERR_USAGE;
  }
  cg_snprintf(name, sizeof(name), "%013lld-%s%s", (long long)created_ms, bundle_id, SUFFIX);
  if (make_entry(name, created_at, hostname, bundle_id, (int64_t)len, &e) != CG_OK) {
    cg_snprintf(err, errlen, "no object name can be made from created_at %.40s and bundle id %s", created_at,
                bundle_id);
    return CG_ERR_USAGE;
  }
  char *path = cg_path_join(sp->dir, name);
  if (!path) return CG_ERR_NOMEM;
  enforce_bounds(sp, 1, (int64_t)len);
  /* the bundle first: a crash before its entry leaves a bundle the next open checks in full */
  int rc = cg_file_write_atomic(path, gz, len, err, errlen);
  if (rc == CG_OK) rc = write_meta(sp, &e, err, errlen);
  cg_free(path);
  return rc;
}

static char *mark_path(struct cg_spool *sp, const char *name, const char *key) {
  char *m = cg_asprintf("%s" MARK "%s", name, key);
  char *p = m ? cg_path_join(sp->dir, m) : NULL;
  cg_free(m);
  return p;
}

bool cg_spool_is_sent(struct cg_spool *sp, const char *name, const char *key) {
  char *p = mark_path(sp, name, key);
  bool yes = p && cg_file_exists(p);
  cg_free(p);
  return yes;
}

int cg_spool_mark_sent(struct cg_spool *sp, const char *name, const char *key) {
  char *p = mark_path(sp, name, key), err[256];
  int rc = p ? cg_file_write_atomic(p, "", 0, err, sizeof(err)) : CG_ERR_NOMEM;
  if (rc != CG_OK && p) cg_log_warn(sp->log, "spool", "cannot record a delivery: %s", err);
  cg_free(p);
  return rc;
}

int cg_spool_done(struct cg_spool *sp, const char *name, const char *const *keys, size_t nkeys) {
  int rc = cg_spool_remove(sp, name);
  if (rc == CG_OK) remove_meta(sp, name);
  /* bundle first: a crash in between leaves marks without a bundle, which open() removes */
  for (size_t i = 0; rc == CG_OK && i < nkeys; i++) {
    char *p = mark_path(sp, name, keys[i]);
    if (p) cg_file_remove(p);
    cg_free(p);
  }
  return rc;
}

int cg_spool_set_aside(struct cg_spool *sp, const char *name, const char *const *keys, size_t nkeys, const char *why) {
  char *from = cg_path_join(sp->dir, name), *to = cg_path_join(sp->quarantine, name);
  int rc = from && to ? cg_file_rename(from, to) : CG_ERR_NOMEM;
  if (rc == CG_OK) {
    remove_meta(sp, name);
    cg_log_warn(sp->log, "spool", "%s was refused for good (%s) and was moved to %s", name, why, sp->quarantine);
    trim_quarantine(sp);
    for (size_t i = 0; i < nkeys; i++) {
      char *p = mark_path(sp, name, keys[i]);
      if (p) cg_file_remove(p);
      cg_free(p);
    }
  }
  cg_free(from);
  cg_free(to);
  return rc;
}

int cg_spool_count(struct cg_spool *sp, int64_t *files, int64_t *bytes) {
  char **names = NULL;
  size_t n = 0;
  *files = *bytes = 0;
  int rc = cg_dir_list(sp->dir, &names, &n);
  for (size_t i = 0; rc == CG_OK && i < n; i++) {
    if (!is_bundle_name(names[i])) continue;
    char *p = cg_path_join(sp->dir, names[i]);
    int64_t sz = p ? cg_file_size(p) : -1;
    cg_free(p);
    if (sz >= 0) {
      (*files)++;
      *bytes += sz;
    }
  }
  cg_dir_list_free(names, n);
  return rc;
}
