/* `cmgdiag collect` and the snapshot a selftest judges (pipeline/snapshot.h,
 * docs/checks/captures.md "Snapshots"). */
#ifndef CG_COLLECT_H
#define CG_COLLECT_H

#include "cli.h"
#include "config.h"
#include "log.h"

/* collect --out FOLDER with the loaded configuration: the snapshot written, what it holds printed
 * (or its manifest with --json). Exit code: 0 written, 3 not. */
int cg_cmd_collect(const struct cli *cli, const struct cg_config *cfg, struct cg_log *log);

/* The manifest of the snapshot `--input` names, or NULL with the reason on stderr (a folder
 * without one is a capture for `check NAME --input`, not a snapshot). */
cJSON *cg_snapshot_for_cli(const char *path);

/* A bundle judged from a snapshot is the snapshot's device: its host, and where it came from. */
void cg_snapshot_mark_bundle(cJSON *bundle, const cJSON *manifest, const char *path);

#endif
