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

int cg_gunzip(const void *data, size_t len, size_t cap, char **out, size_t *out_len) {
  z_stream zs;
  struct cg_buf b;
  char chunk[65536];
  int rc = CG_OK;
  memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return CG_ERR_NOMEM;
  cg_buf_init(&b, cap);
  zs.next_in = (Bytef *)data;
  zs.avail_in = (uInt)len;
  for (;;) {
    zs.next_out = (Bytef *)chunk;
    zs.avail_out = sizeof(chunk);
    int zr = inflate(&zs, Z_NO_FLUSH);
    if (zr != Z_OK && zr != Z_STREAM_END) {
      rc = zr == Z_MEM_ERROR ? CG_ERR_NOMEM : CG_ERR_PARSE;
      break;
    }
    if ((rc = cg_buf_append(&b, chunk, sizeof(chunk) - zs.avail_out)) != CG_OK) break;
    if (zr == Z_STREAM_END) break;
    if (zs.avail_in == 0 && zs.avail_out != 0) {
      rc = CG_ERR_PARSE; /* truncated */
      break;
    }
  }
  inflateEnd(&zs);
  if (rc == CG_OK) {
    *out = cg_buf_take(&b, out_len);
    if (!*out) rc = CG_ERR_NOMEM;
  }
  cg_buf_free(&b);
  return rc;
}
