/* gzip in memory (zlib). */
#ifndef CG_GZ_H
#define CG_GZ_H

#include "cg.h"

/* Compresses into a new buffer (caller frees). level 0..9. */
int cg_gzip(const void *data, size_t len, int level, char **out, size_t *out_len);
/* Decompresses gzip data; output larger than `cap` is CG_ERR_TOOBIG, corrupt input CG_ERR_PARSE.
 * *out is NUL-terminated; caller frees. */
int cg_gunzip(const void *data, size_t len, size_t cap, char **out, size_t *out_len);
bool cg_is_gzip(const void *data, size_t len);

#endif
