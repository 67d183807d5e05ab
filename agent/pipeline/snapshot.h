/* The device snapshot (docs/checks/captures.md, "Snapshots"): `cmgdiag collect --out FOLDER` runs
 * the checks on this device and keeps what they read, so that `selftest`, `validate` and `check`
 * with `--input FOLDER` give the same verdicts anywhere, judged as of the time it was taken.
 *
 * FOLDER/manifest.json   when, which host, which agent, and per check: how it is judged
 * FOLDER/captured-at.txt the time, as every capture has it
 * FOLDER/CHECK/...       the files a check with a source wrote while it read the device, in the
 *                        formats its `--input` reads, with their own captured-at.txt
 *
 * A check is judged from its files ("judged_from": "capture") only when, at collect time, judging
 * them gave the verdict and code the device gave; otherwise (a check that reads the network, or
 * whose reading this platform cannot write down yet) its result as the device gave it is kept and
 * shown as recorded ("judged_from": "recorded"). */
#ifndef CG_SNAPSHOT_H
#define CG_SNAPSHOT_H

#include "plugin.h"

#define CG_SNAPSHOT_MANIFEST "manifest.json"
#define CG_SNAPSHOT_SCHEMA "cmgdiag.snapshot/1"
#define CG_SNAPSHOT_MAX_MANIFEST (4u * 1024 * 1024)
#define CG_SNAPSHOT_MAX_FILE (8u * 1024 * 1024)

/* The manifest of a snapshot folder. CG_ERR_NOTFOUND: the folder has none (a capture folder of the
 * docs, read as before); CG_ERR_PARSE with a sentence: there is one but it is not a snapshot's. */
int cg_snapshot_load(const char *dir, cJSON **manifest, char *err, size_t errlen);

/* The same on the manifest's bytes (`what` names it in err): what cg_snapshot_load does after reading. */
int cg_snapshot_parse(const char *data, size_t len, const char *what, cJSON **manifest, char *err, size_t errlen);

/* How the manifest says `check` is judged: "capture", "recorded", or NULL (not in the snapshot). */
const char *cg_snapshot_judged_from(const cJSON *manifest, const char *check);

/* The folder of `check`'s files in the snapshot (caller frees). */
char *cg_snapshot_check_dir(const char *dir, const char *check);

/* res (initialised for check) from the manifest's record of it: the device's verdict as it was, with
 * facts.source "recorded" and the summary saying when and where it was taken. CG_ERR_NOTFOUND when
 * the manifest has no record of the check. */
int cg_snapshot_recorded(const cJSON *manifest, const char *check, struct cg_result *res);

/* The configuration to judge `p` with: a copy of cfg's root whose checks.NAME is the device's settings
 * from the manifest (validated as a configuration file's; the keys a person set on this command line,
 * cfg->cli_keys, still win). NULL when the manifest has none, or they do not validate (why says so);
 * the caller then judges with cfg. Caller deletes. */
struct cg_config;
cJSON *cg_snapshot_settings(const cJSON *manifest, const struct cg_config *cfg, const struct cg_check_plugin *p,
                            char *why, size_t whylen);

/* Run by `cmgdiag collect`: the checks of `only` (NULL: every enabled one) live, each check with a
 * source writing what it read under `out` (a folder that must not exist yet, or be empty), then the
 * snapshot judged once to mark which checks its files reproduce. *manifest: what was written (the
 * caller frees). CG_ERR_USAGE/CG_ERR_ACCESS/CG_ERR_IO with a sentence in err. */
int cg_snapshot_collect(const struct cg_env *env, const char *only, int64_t deadline_ms, const char *out,
                        cJSON **manifest, char *err, size_t errlen);

#endif
