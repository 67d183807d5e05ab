/* gzip in memory with zlib. */
#include "gz.h"

#include <string.h>
#include <zlib.h>

bool cg_is_gzip(const void *data, size_t len) {
  const unsigned char *u = data;
  return len >= 2 && u[0] == 0x1f && u[1] == 0x8b;
}

int cg_gzip(const void *data, size_t len, int level, char **out, size_t *out_len) {
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return CG_ERR_NOMEM;
  uLong bound = deflateBound(&zs, (uLong)len);
  char *buf = cg_malloc(bound);
  if (!buf) {
    deflateEnd(&zs);
    return CG_ERR_NOMEM;
  }
  zs.next_in = (Bytef *)data;
  zs.avail_in = (uInt)len;
  zs.next_out = (Bytef *)buf;
  zs.avail_out = (uInt)bound;
  int zr = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (zr != Z_STREAM_END) {
    cg_free(buf);
    return CG_ERR_INTERNAL;
  }
  *out = buf;
  *out_len = zs.total_out;
  return CG_OK;
}

/* The inflate state of a thread that reads many bundles (cg_gz_bulk): made once and reset for each,
 * instead of 40 KB allocated and freed per bundle. */
static _Thread_local z_stream bulk;
static _Thread_local bool bulk_on, bulk_made;

void cg_gz_bulk(bool on) {
  bulk_on = on;
  if (!on && bulk_made) {
    inflateEnd(&bulk);
    bulk_made = false;
  }
}

int cg_gunzip(const void *data, size_t len, size_t cap, char **out, size_t *out_len) {
  return cg_gunzip_until(data, len, cap, NULL, NULL, out, out_len, NULL);
}

int cg_gunzip_until(const void *data, size_t len, size_t cap, bool (*enough)(const char *text, size_t len, void *user),
                    void *user, char **out, size_t *out_len, bool *whole) {
  if (whole) *whole = false;
  z_stream local, *zp = bulk_on ? &bulk : &local;
  if (zp == &bulk && bulk_made) {
    if (inflateReset(zp) != Z_OK) return CG_ERR_NOMEM;
  } else {
    memset(zp, 0, sizeof(*zp));
    if (inflateInit2(zp, 15 + 16) != Z_OK) return CG_ERR_NOMEM;
    if (zp == &bulk) bulk_made = true;
  }
  z_stream *zs = zp;
  /* The trailer's ISIZE (the size mod 2^32) sizes the first buffer: a bundle inflates in one call,
   * straight into it. It is only a hint (the data may lie): the buffer grows as needed, up to cap. */
  const unsigned char *u = data;
  size_t hint =
      len >= 4 ? (size_t)u[len - 4] | (size_t)u[len - 3] << 8 | (size_t)u[len - 2] << 16 | (size_t)u[len - 1] << 24 : 0;
  size_t alloc = hint && hint <= cap && hint <= len * 1032 ? hint + 1 : 65536;
  if (enough && alloc > 4096) alloc = 4096; /* a reader of the start: the hint does not size its buffer */
  /* asked after each step of output: a reader that wants the start of the text stops early */
  const size_t step = 2048;
  size_t ask_at = enough ? step : SIZE_MAX;
  bool stopped = false;
  if (alloc > cap + 1) alloc = cap + 1;
  char *buf = cg_malloc(alloc);
  size_t have = 0;
  int rc = buf ? CG_OK : CG_ERR_NOMEM;
  zs->next_in = (Bytef *)data;
  zs->avail_in = (uInt)len;
  while (rc == CG_OK) {
    if (have + 1 >= alloc) { /* room for the NUL is kept */
      if (alloc > cap) {
        rc = CG_ERR_TOOBIG;
        break;
      }
      size_t na = alloc * 2 > cap + 1 ? cap + 1 : alloc * 2;
      char *nb = cg_realloc(buf, na);
      if (!nb) {
        rc = CG_ERR_NOMEM;
        break;
      }
      buf = nb;
      alloc = na;
    }
    zs->next_out = (Bytef *)buf + have;
    size_t room = alloc - 1 - have;
    if (ask_at != SIZE_MAX && ask_at > have && room > ask_at - have) room = ask_at - have;
    zs->avail_out = (uInt)room;
    int zr = inflate(zs, Z_NO_FLUSH);
    have = (size_t)((char *)zs->next_out - buf);
    if (zr == Z_STREAM_END) break;
    if (ask_at != SIZE_MAX && have >= ask_at && (zr == Z_OK || zr == Z_BUF_ERROR)) {
      ask_at = have + step;
      if (enough(buf, have, user)) {
        stopped = true;
        break;
      }
    }
    if (zr == Z_BUF_ERROR && zs->avail_in == 0) {
      rc = CG_ERR_PARSE; /* truncated */
    } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
      rc = zr == Z_MEM_ERROR ? CG_ERR_NOMEM : CG_ERR_PARSE;
    } else if (zs->avail_in == 0 && zs->avail_out != 0) {
      rc = CG_ERR_PARSE; /* truncated */
    }
  }
  if (zp != &bulk) inflateEnd(zs);
  if (rc == CG_OK && have > cap) rc = CG_ERR_TOOBIG;
  if (whole) *whole = rc == CG_OK && !stopped;
  if (rc != CG_OK) {
    cg_free(buf);
    return rc;
  }
  buf[have] = '\0';
  *out = buf;
  *out_len = have;
  return CG_OK;
}
