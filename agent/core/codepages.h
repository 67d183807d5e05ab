/* High halves (bytes 0x80-0xFF) of the single-byte code pages cmgdiag can decode everywhere. */
#ifndef CG_CODEPAGES_H
#define CG_CODEPAGES_H

#include <stdint.h>

/* 128 code points for bytes 0x80..0xFF, or NULL for a code page without a table. */
const uint16_t *cg_codepage_table(int codepage);

#endif
