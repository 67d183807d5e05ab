/* How clientlogs reads a log (docs/security.md, "Privilege separation"): straight from the disk (a
 * copied log folder given with --input), or in two halves. The agent's half (`collect`, with its
 * privilege) reads the live logs exactly as the check would, parses none of it, and keeps every read:
 * which file, where, how many bytes, and the bytes. The judging half (`run`, in the worker without
 * privilege where there is one) then reads the same places from what was kept, scans the entries and
 * matches the signatures. Both halves run the same reading code, so they ask for the same bytes. */
#ifndef CG_CLIENTLOGS_LOGIO_H
#define CG_CLIENTLOGS_LOGIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"

enum cl_io_mode { CL_IO_DISK = 0, CL_IO_COLLECT, CL_IO_REPLAY };

/* A log's encoding, from its byte order mark (none: UTF-8, or cp1252 where it is not valid UTF-8). */
enum enc { ENC_UTF8 = 0, ENC_UTF8_BOM, ENC_UTF16 };
/* Decodes raw bytes of one encoding into UTF-8 (UTF-8 chunks that are not valid: cp1252). */
int cl_decode(const char *raw, size_t len, enum enc enc, char **out, size_t *out_len, bool *cp1252);
/* Raw bytes behind the first `n` bytes of decoded UTF-8 (for resuming at the right place). */
size_t cl_raw_length(const char *utf8, size_t n, enum enc enc, bool cp1252);

struct cl_io {
  enum cl_io_mode mode;
  cJSON *index;        /* {"files": {path: size}, "reads": [[path, offset, max, at, len]]}; owned */
  struct cg_buf bytes; /* the reads' bytes one after another (collect: appended; replay: read) */
};

/* The names of the two captures the agent's half hands to the judging half. */
#define CL_IO_INDEX "clientlogs-reads.json"
#define CL_IO_BYTES "clientlogs-reads.bin"

void cl_io_init(struct cl_io *io, enum cl_io_mode mode);
void cl_io_free(struct cl_io *io);
/* Replay: the two captures (env->collected); CG_ERR_PARSE when they are not what collect made. The
 * index's other keys (settings of the reading) stay in io->index for the caller. */
int cl_io_load(struct cl_io *io, const struct cg_env *env);
/* Collect: hands the two captures to env->judge_put. */
int cl_io_hand_over(struct cl_io *io, const struct cg_env *env);

/* The size of a file (-1: none), and a read of [offset, offset + max) as cg_file_read_range gives it;
 * a replay answers only a read the agent made (CG_ERR_IO otherwise). */
int64_t cl_io_size(struct cl_io *io, const char *path);
int cl_io_read(struct cl_io *io, const char *path, int64_t offset, size_t max, char **data, size_t *len);

#endif
