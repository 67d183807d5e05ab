/* The spool: atomic one-file-per-bundle storage, oldest first, bounded with the drops counted
 * across restarts, corrupt files quarantined without blocking the queue, crash leftovers removed. */
#include <stdlib.h>

#include "bundle.h"
#include "gz.h"
#include "platform/fs.h"
#include "spool.h"
#include "test.h"

static const char *root;

static char *fresh_dir(const char *name) {
  char *d = cg_path_join(root, name);
  char **names = NULL;
  size_t n = 0;
  for (int pass = 0; pass < 2; pass++) {
    char *sub = pass ? cg_path_join(d, "quarantine") : cg_strdup(d);
    if (cg_dir_list(sub, &names, &n) == CG_OK)
      for (size_t i = 0; i < n; i++) {
        char *p = cg_path_join(sub, names[i]);
        cg_file_remove(p);
        cg_free(p);
      }
    cg_dir_list_free(names, n);
    cg_free(sub);
  }
  return d;
}

/* A real bundle (empty checks) as gzip, with its id. */
static int make_bundle(char *id, size_t idlen, char **gz, size_t *len) {
  cJSON *b = cJSON_CreateObject();
  cg_uuid_v4(id, idlen);
  cJSON_AddStringToObject(b, "schema", CG_BUNDLE_SCHEMA);
  cJSON_AddStringToObject(b, "bundle_id", id);
  cJSON_AddStringToObject(b, "created_at", "2026-11-25T10:00:00.000Z");
  cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "device"), "hostname", "HOST");
  cJSON_AddArrayToObject(b, "checks");
  cJSON_AddStringToObject(b, "padding", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  int rc = cg_bundle_gzip(b, 6, gz, len);
  cJSON_Delete(b);
  return rc;
}

TEST(order_and_remove) {
  char *d = fresh_dir("spool-order");
  struct cg_spool sp;
  char err[256], ids[3][40];
  CHECK(cg_spool_open(&sp, d, 1 << 20, 100, NULL, err, sizeof(err)) == CG_OK);
  for (int i = 0; i < 3; i++) {
    char *gz;
    size_t len;
    make_bundle(ids[i], sizeof(ids[i]), &gz, &len);
    CHECK(cg_spool_put(&sp, ids[i], 1764000000000LL + 1000 * (3 - i), "2026-11-25T10:00:00Z", "HOST", gz, len, err,
                       sizeof(err)) == CG_OK);
    cg_free(gz);
  }
  char **names;
  size_t n;
  CHECK(cg_spool_list(&sp, &names, &n) == CG_OK && n == 3);
  /* oldest first: the last one put has the earliest time */
  CHECK(n == 3 && strstr(names[0], ids[2]) && strstr(names[2], ids[0]));
  char *gz = NULL;
  size_t len = 0;
  CHECK(n && cg_spool_read(&sp, names[0], &gz, &len) == CG_OK && cg_is_gzip(gz, len));
  cg_free(gz);
  CHECK(n && cg_spool_remove(&sp, names[0]) == CG_OK);
  cg_dir_list_free(names, n);
  CHECK(cg_spool_list(&sp, &names, &n) == CG_OK && n == 2);
  cg_dir_list_free(names, n);
  cg_spool_close(&sp);
  cg_free(d);
}

TEST(bounded_and_drops_counted) {
  char *d = fresh_dir("spool-bounds");
  struct cg_spool sp;
  char err[256], id[40], newest[40] = "";
  CHECK(cg_spool_open(&sp, d, 1 << 20, 5, NULL, err, sizeof(err)) == CG_OK);
  for (int i = 0; i < 12; i++) {
    char *gz;
    size_t len;
    make_bundle(id, sizeof(id), &gz, &len);
    CHECK(cg_spool_put(&sp, id, 1764000000000LL + i, "2026-11-25T10:00:00Z", "HOST", gz, len, err, sizeof(err)) ==
          CG_OK);
    cg_strlcpy(newest, id, sizeof(newest));
    cg_free(gz);
  }
  char **names;
  size_t n;
  CHECK(cg_spool_list(&sp, &names, &n) == CG_OK && n == 5);
  CHECK(n == 5 && strstr(names[4], newest)); /* the newest stay */
  cg_dir_list_free(names, n);
  CHECK(sp.dropped_total == 7);
  cg_spool_close(&sp);
  /* the count survives a restart */
  CHECK(cg_spool_open(&sp, d, 1 << 20, 5, NULL, err, sizeof(err)) == CG_OK);
  CHECK(sp.dropped_total == 7);
  /* a byte bound: one bundle's worth of bytes keeps only the newest */
  sp.max_bytes = 200;
  char *gz;
  size_t len;
  make_bundle(id, sizeof(id), &gz, &len);
  CHECK(cg_spool_put(&sp, id, 1764000001000LL, "2026-11-25T10:00:00Z", "HOST", gz, len, err, sizeof(err)) == CG_OK);
  cg_free(gz);
  CHECK(cg_spool_list(&sp, &names, &n) == CG_OK && n == 1);
  CHECK(n == 1 && strstr(names[0], id));
  cg_dir_list_free(names, n);
  CHECK(sp.dropped_total == 12);
  cg_spool_close(&sp);
  cg_free(d);
}

TEST(corrupt_files_are_quarantined) {
  char *d = fresh_dir("spool-corrupt");
  struct cg_spool sp;
  char err[256], id[40], other[40];
  CHECK(cg_spool_open(&sp, d, 1 << 20, 100, NULL, err, sizeof(err)) == CG_OK);
  char *gz;
  size_t len;
  make_bundle(id, sizeof(id), &gz, &len);
  CHECK(cg_spool_put(&sp, id, 1764000000005LL, "2026-11-25T10:00:00Z", "HOST", gz, len, err, sizeof(err)) == CG_OK);
  /* truncated gzip, garbage, a valid bundle under another id's name, and a crash leftover */
  char name[128], *p;
  cg_uuid_v4(other, sizeof(other));
  cg_snprintf(name, sizeof(name), "1764000000001-%s.json.gz", other);
  p = cg_path_join(d, name);
  cg_file_write_atomic(p, gz, len / 2, err, sizeof(err));
  cg_free(p);
  cg_uuid_v4(other, sizeof(other));
  cg_snprintf(name, sizeof(name), "1764000000002-%s.json.gz", other);
  p = cg_path_join(d, name);
  cg_file_write_atomic(p, "not gzip at all", 15, err, sizeof(err));
  cg_free(p);
  cg_uuid_v4(other, sizeof(other));
  cg_snprintf(name, sizeof(name), "1764000000003-%s.json.gz", other);
  p = cg_path_join(d, name);
  cg_file_write_atomic(p, gz, len, err, sizeof(err)); /* content says `id`, name says `other` */
  cg_free(p);
  p = cg_path_join(d, "1764000000004-x.json.gz.tmp.1.0");
  cg_file_write_atomic(p, "partial", 7, err, sizeof(err));
  cg_free(gz);
  cg_spool_close(&sp);
  /* the next open checks every bundle once: the bad ones go to quarantine, the leftover goes */
  CHECK(cg_file_exists(p));
  CHECK(cg_spool_open(&sp, d, 1 << 20, 100, NULL, err, sizeof(err)) == CG_OK);
  CHECK(!cg_file_exists(p));
  char **names;
  size_t n;
  CHECK(cg_spool_list(&sp, &names, &n) == CG_OK && n == 1);
  CHECK(n == 1 && strstr(names[0], id));
  /* what shipping needs was recorded when it was spooled */
  struct cg_spool_entry e;
  char want[128];
  cg_snprintf(want, sizeof(want), "2026/11/25/HOST/%s.json.gz", id);
  CHECK(n == 1 && cg_spool_entry(&sp, names[0], &e) == CG_OK && !strcmp(e.object, want) && !strcmp(e.host, "HOST"));
  /* an entry lost (a crash before it was written, an older agent's spool) is made again from the bundle */
  char *meta = n == 1 ? cg_asprintf("%s/%s.meta", d, names[0]) : NULL;
  CHECK(meta && cg_file_remove(meta) == CG_OK);
  cg_spool_close(&sp);
  CHECK(cg_spool_open(&sp, d, 1 << 20, 100, NULL, err, sizeof(err)) == CG_OK);
  CHECK(meta && cg_file_exists(meta));
  CHECK(cg_spool_entry(&sp, names[0], &e) == CG_OK && !strcmp(e.object, want));
  cg_free(meta);
  cg_dir_list_free(names, n);
  char **q;
  size_t nq;
  CHECK(cg_dir_list(sp.quarantine, &q, &nq) == CG_OK && nq == 3);
  cg_dir_list_free(q, nq);
  cg_spool_close(&sp);
  cg_free(p);
  cg_free(d);
}

TEST(unwritable_spool_is_an_error_not_a_crash) {
  char *blocker = cg_path_join(root, "spool-blocker"), err[256] = "";
  cg_file_write_atomic(blocker, "x", 1, err, sizeof(err));
  char *d = cg_path_join(blocker, "spool");
  struct cg_spool sp;
  CHECK(cg_spool_open(&sp, d, 1 << 20, 100, NULL, err, sizeof(err)) != CG_OK);
  CHECK_CONTAINS(err, "spool-blocker");
  cg_spool_close(&sp);
  cg_free(d);
  cg_free(blocker);
}

int main(int argc, char **argv) {
  cg_json_init_hooks();
  root = argc > 1 ? argv[1] : ".";
  cg_mkdirs(root);
  RUN(order_and_remove);
  RUN(bounded_and_drops_counted);
  RUN(corrupt_files_are_quarantined);
  RUN(unwritable_spool_is_an_error_not_a_crash);
  return test_finish("spool");
}
