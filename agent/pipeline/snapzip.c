/* A snapshot folder as one .zip file (snapzip.h). The layout is PKWARE's APPNOTE.TXT: per file a
 * local header, the deflated bytes, then the central directory and its end record. */
#include "snapzip.h"

#include <string.h>
#include <zlib.h>

#include "platform/fs.h"
#include "platform/sys.h"
#include "snapshot.h"

#define ZIP_MAX_TOTAL (256u * 1024 * 1024)
#define ZIP_MAX_ENTRIES 4096

static int put16(struct cg_buf *b, unsigned v) {
  unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
  return cg_buf_append(b, x, 2);
}

static int put32(struct cg_buf *b, unsigned long v) {
  unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
  return cg_buf_append(b, x, 4);
}

/* Raw deflate (no zlib header), as a zip entry holds it. */
static int deflate_raw(const char *in, size_t len, char **out, size_t *outlen) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return CG_ERR_NOMEM;
  uLong cap = deflateBound(&z, (uLong)len);
  char *buf = cg_malloc(cap ? cap : 1);
  int rc = buf ? CG_OK : CG_ERR_NOMEM;
  if (rc == CG_OK) {
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    rc = deflate(&z, Z_FINISH) == Z_STREAM_END ? CG_OK : CG_ERR_INTERNAL;
  }
  *outlen = z.total_out;
  deflateEnd(&z);
  if (rc != CG_OK) {
    cg_free(buf);
    buf = NULL;
  }
  *out = buf;
  return rc;
}

struct entry {
  char *name; /* "manifest.json", "device/device.json" */
  unsigned long crc, csize, usize, offset;
};

/* MS-DOS time and date of now, UTC (a zip has no time zone). */
static void dos_time(unsigned *t, unsigned *d) {
  char iso[40];
  cg_time_rfc3339(cg_time_utc_ms(), iso, sizeof(iso)); /* 2026-12-07T16:28:19.220Z */
  int Y = 1980, M = 1, D = 1, h = 0, m = 0, s = 0;
  if (strlen(iso) >= 19) {
    Y = (iso[0] - '0') * 1000 + (iso[1] - '0') * 100 + (iso[2] - '0') * 10 + (iso[3] - '0');
    M = (iso[5] - '0') * 10 + (iso[6] - '0');
    D = (iso[8] - '0') * 10 + (iso[9] - '0');
    h = (iso[11] - '0') * 10 + (iso[12] - '0');
    m = (iso[14] - '0') * 10 + (iso[15] - '0');
    s = (iso[17] - '0') * 10 + (iso[18] - '0');
  }
  if (Y < 1980) Y = 1980;
  *t = (unsigned)((h << 11) | (m << 5) | (s / 2));
  *d = (unsigned)(((Y - 1980) << 9) | (M << 5) | D);
}

static int add_file(struct cg_buf *b, struct entry *e, const char *path, unsigned t, unsigned d, size_t *total) {
  char *data = NULL, *z = NULL;
  size_t len = 0, zl = 0;
  int rc = cg_file_read(path, CG_SNAPSHOT_MAX_MANIFEST * 4, &data, &len);
  if (rc == CG_OK && (*total += len) > ZIP_MAX_TOTAL) rc = CG_ERR_TOOBIG;
  if (rc == CG_OK) rc = deflate_raw(data, len, &z, &zl);
  if (rc == CG_OK) {
    e->crc = crc32(crc32(0L, Z_NULL, 0), (const Bytef *)data, (uInt)len);
    e->usize = (unsigned long)len;
    e->csize = (unsigned long)zl;
    e->offset = (unsigned long)b->len;
    size_t nl = strlen(e->name);
    rc = put32(b, 0x04034b50UL);
    if (rc == CG_OK) rc = put16(b, 20);     /* version needed: deflate */
    if (rc == CG_OK) rc = put16(b, 0x0800); /* the name is UTF-8 */
    if (rc == CG_OK) rc = put16(b, 8);
    if (rc == CG_OK) rc = put16(b, t);
    if (rc == CG_OK) rc = put16(b, d);
    if (rc == CG_OK) rc = put32(b, e->crc);
    if (rc == CG_OK) rc = put32(b, e->csize);
    if (rc == CG_OK) rc = put32(b, e->usize);
    if (rc == CG_OK) rc = put16(b, (unsigned)nl);
    if (rc == CG_OK) rc = put16(b, 0);
    if (rc == CG_OK) rc = cg_buf_append(b, e->name, nl);
    if (rc == CG_OK) rc = cg_buf_append(b, z, zl);
  }
  cg_free(z);
  cg_free(data);
  return rc;
}

static int central(struct cg_buf *b, const struct entry *es, size_t n, unsigned t, unsigned d) {
  unsigned long start = (unsigned long)b->len;
  int rc = CG_OK;
  for (size_t i = 0; rc == CG_OK && i < n; i++) {
    size_t nl = strlen(es[i].name);
    rc = put32(b, 0x02014b50UL);
    if (rc == CG_OK) rc = put16(b, 20); /* made by: MS-DOS attributes, version 2.0 */
    if (rc == CG_OK) rc = put16(b, 20);
    if (rc == CG_OK) rc = put16(b, 0x0800);
    if (rc == CG_OK) rc = put16(b, 8);
    if (rc == CG_OK) rc = put16(b, t);
    if (rc == CG_OK) rc = put16(b, d);
    if (rc == CG_OK) rc = put32(b, es[i].crc);
    if (rc == CG_OK) rc = put32(b, es[i].csize);
    if (rc == CG_OK) rc = put32(b, es[i].usize);
    if (rc == CG_OK) rc = put16(b, (unsigned)nl);
    if (rc == CG_OK) rc = put16(b, 0); /* extra */
    if (rc == CG_OK) rc = put16(b, 0); /* comment */
    if (rc == CG_OK) rc = put16(b, 0); /* disk */
    if (rc == CG_OK) rc = put16(b, 0); /* internal attributes */
    if (rc == CG_OK) rc = put32(b, 0); /* external attributes */
    if (rc == CG_OK) rc = put32(b, es[i].offset);
    if (rc == CG_OK) rc = cg_buf_append(b, es[i].name, nl);
  }
  unsigned long size = (unsigned long)b->len - start;
  if (rc == CG_OK) rc = put32(b, 0x06054b50UL);
  if (rc == CG_OK) rc = put16(b, 0);
  if (rc == CG_OK) rc = put16(b, 0);
  if (rc == CG_OK) rc = put16(b, (unsigned)n);
  if (rc == CG_OK) rc = put16(b, (unsigned)n);
  if (rc == CG_OK) rc = put32(b, size);
  if (rc == CG_OK) rc = put32(b, start);
  if (rc == CG_OK) rc = put16(b, 0);
  return rc;
}

/* The files to zip: the folder's own, then each folder's in it, by name. */
static int list_entries(const char *dir, struct entry **out, size_t *n, char ***paths) {
  char **files = NULL, **dirs = NULL;
  size_t nf = 0, nd = 0;
  int rc = cg_dir_list_split(dir, &files, &nf, &dirs, &nd);
  struct entry *es = rc == CG_OK ? cg_calloc(ZIP_MAX_ENTRIES, sizeof(*es)) : NULL;
  char **ps = rc == CG_OK ? cg_calloc(ZIP_MAX_ENTRIES, sizeof(char *)) : NULL;
  if (rc == CG_OK && (!es || !ps)) rc = CG_ERR_NOMEM;
  size_t k = 0;
  for (size_t i = 0; rc == CG_OK && i < nf && k < ZIP_MAX_ENTRIES; i++, k++) {
    es[k].name = cg_strdup(files[i]);
    ps[k] = cg_path_join(dir, files[i]);
    if (!es[k].name || !ps[k]) rc = CG_ERR_NOMEM;
  }
  for (size_t j = 0; rc == CG_OK && j < nd; j++) {
    char *sub = cg_path_join(dir, dirs[j]), **sf = NULL;
    size_t ns = 0;
    if (sub && cg_dir_list(sub, &sf, &ns) == CG_OK)
      for (size_t i = 0; rc == CG_OK && i < ns && k < ZIP_MAX_ENTRIES; i++, k++) {
        es[k].name = cg_asprintf("%s/%s", dirs[j], sf[i]);
        ps[k] = cg_path_join(sub, sf[i]);
        if (!es[k].name || !ps[k]) rc = CG_ERR_NOMEM;
      }
    cg_dir_list_free(sf, ns);
    cg_free(sub);
  }
  cg_dir_list_free(files, nf);
  cg_dir_list_free(dirs, nd);
  *out = es;
  *paths = ps;
  *n = k;
  return rc;
}

int cg_snapshot_zip(const char *dir, const char *zip_path, char *err, size_t errlen) {
  if (cg_path_kind(zip_path) != CG_PATH_MISSING) {
    cg_snprintf(err, errlen, "--out %s exists; give a new file name (collect never writes over a file)", zip_path);
    return CG_ERR_USAGE;
  }
  struct entry *es = NULL;
  char **paths = NULL;
  size_t n = 0, total = 0;
  unsigned t, d;
  dos_time(&t, &d);
  struct cg_buf b;
  cg_buf_init(&b, ZIP_MAX_TOTAL + 16u * 1024 * 1024);
  int rc = list_entries(dir, &es, &n, &paths);
  for (size_t i = 0; rc == CG_OK && i < n; i++)
    rc = add_file(&b, &es[i], paths[i], t, d, &total);
  if (rc == CG_OK) rc = central(&b, es, n, t, d);
  if (rc == CG_OK) {
    rc = cg_file_write_atomic(zip_path, b.data, b.len, err, errlen);
  } else {
    cg_snprintf(err, errlen, "the snapshot could not be zipped: %s", cg_strerror(rc));
  }
  for (size_t i = 0; es && paths && i < ZIP_MAX_ENTRIES; i++) {
    cg_free(es[i].name);
    cg_free(paths[i]);
  }
  cg_free(es);
  cg_free(paths);
  cg_buf_free(&b);
  return rc;
}

void cg_snapshot_remove_staging(const char *dir) {
  char **files = NULL, **dirs = NULL;
  size_t nf = 0, nd = 0;
  if (cg_dir_list_split(dir, &files, &nf, &dirs, &nd) != CG_OK) return;
  for (size_t j = 0; j < nd; j++) {
    char *sub = cg_path_join(dir, dirs[j]), **sf = NULL;
    size_t ns = 0;
    if (sub && cg_dir_list(sub, &sf, &ns) == CG_OK)
      for (size_t i = 0; i < ns; i++) {
        char *p = cg_path_join(sub, sf[i]);
        if (p) cg_file_remove(p);
        cg_free(p);
      }
    cg_dir_list_free(sf, ns);
    if (sub) cg_dir_remove(sub);
    cg_free(sub);
  }
  for (size_t i = 0; i < nf; i++) {
    char *p = cg_path_join(dir, files[i]);
    if (p) cg_file_remove(p);
    cg_free(p);
  }
  cg_dir_list_free(files, nf);
  cg_dir_list_free(dirs, nd);
  cg_dir_remove(dir);
}
