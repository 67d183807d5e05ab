/* `cmgdiag collect` (docs/checks/captures.md, "Snapshots"): the part of a client log that the
 * check reads live, written as a log file that `--input` reads back to the same entries. */
#ifndef CG_CLIENTLOGS_LOGCOPY_H
#define CG_CLIENTLOGS_LOGCOPY_H

#include "plugin.h"

/* The newest `max` bytes of the log at `path` (all of it when smaller) handed to env->capture_put
 * under `name`: a cut log keeps its byte order mark, and a UTF-16 one an even start, as the live
 * reader cuts it. CG_OK, or why not (the snapshot then keeps the check as recorded). */
int cl_copy_tail(const struct cg_env *env, const char *path, const char *name, size_t max);

#endif
