/* A snapshot folder as one .zip file (`cmgdiag collect --out FILE.zip`, docs/checks/captures.md
 * "Snapshots"): what a helpdesk attaches to a ticket. Written with deflate (zlib), UTF-8 names,
 * no ZIP64 (a snapshot is a few megabytes), readable by Windows Explorer's "Extract All",
 * Expand-Archive and unzip. */
#ifndef CG_SNAPZIP_H
#define CG_SNAPZIP_H

#include "cg.h"

/* Zips the files of `dir` and of the folders directly in it (regular files only; links and deeper
 * folders are not followed) into `zip_path`, which must not exist yet. CG_OK, or a status with a
 * sentence in err. */
int cg_snapshot_zip(const char *dir, const char *zip_path, char *err, size_t errlen);

/* Removes what cg_snapshot_collect wrote in `dir` (a folder it made): the regular files in it and in
 * the folders directly in it, then those folders and `dir`, each only when empty. */
void cg_snapshot_remove_staging(const char *dir);

#endif
