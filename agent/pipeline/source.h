/* The core-owned source of a check (plugin.h, "captures"): reads what `--input` / the check's
 * `input` key names and hands it to the check's parser. */
#ifndef CG_SOURCE_H
#define CG_SOURCE_H

#include "plugin.h"

/* For a check with a source and env->input set: reads the capture into ctx through the check's
 * parser. Returns CG_OK with *decided false when run should go on; with *decided true when res
 * already holds the verdict (an unreadable or unparseable capture). Other statuses are errors. */
/* The time a capture was taken: the first line of captured-at.txt in the input folder (or beside an
 * input file), written by the capture commands of the docs; "" when there is none or it is not a
 * time. */
void cg_capture_time(const char *input, char *out, size_t outlen);
/* The file name of a capture's path (after its last / or \\). */
const char *cg_capture_base_name(const char *path);

int cg_source_read(const struct cg_check_plugin *p, void *ctx, const struct cg_env *env, struct cg_result *res,
                   bool *decided);

#endif
