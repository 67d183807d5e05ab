/* gzip in memory (zlib). */
#ifndef CG_GZ_H
#define CG_GZ_H

#include "cg.h"

/* Compresses into a new buffer (caller frees). level 0..9. */
int cg_gzip(const void *data, size_t len, int level, char **out, size_t *out_len);
/* Decompresses gzip data; output larger than `cap` is CG_ERR_TOOBIG, corrupt input CG_ERR_PARSE.
 * *out is NUL-terminated; caller frees. */
int cg_gunzip(const void *data, size_t len, size_t cap, char **out, size_t *out_len);
/* cg_gunzip that stops early: after each 2 KB of output, `enough` (when given) is asked whether the
 * text so far is enough; when it says so, *out holds that much, unchecked by the trailer's CRC, and
 * *whole is false. *whole is true when the whole stream was inflated and checked. */
int cg_gunzip_until(const void *data, size_t len, size_t cap, bool (*enough)(const char *text, size_t len, void *user),
                    void *user, char **out, size_t *out_len, bool *whole);
/* on: this thread's cg_gunzip calls reuse one inflate state (a thread that reads many bundles);
 * off: it is freed (call before the thread ends). */
void cg_gz_bulk(bool on);
bool cg_is_gzip(const void *data, size_t len);

#endif
