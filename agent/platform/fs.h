/* File system operations that differ between platforms. Paths are UTF-8. */
#ifndef CG_PLATFORM_FS_H
#define CG_PLATFORM_FS_H

#include "cg.h"

/* Replace `path` with `data` so that a reader (or a crash) sees either the old or the whole new
 * content: temp file in the same folder, write, flush to disk, rename over; POSIX also fsyncs the
 * folder. CG_ERR_IO (or CG_ERR_ACCESS) with a sentence in err on failure; the temp file is removed. */
int cg_file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Read a whole file of at most `cap` bytes. *data is NUL-terminated; caller frees with cg_free.
 * CG_ERR_NOTFOUND, CG_ERR_TOOBIG, CG_ERR_IO. */
int cg_file_read(const char *path, size_t cap, char **data, size_t *len);
/* The same, and the file's modification time (ms since 1970) from the handle that was read: one open
 * for both (the fleet report reads a million files). */
int cg_file_read_mtime(const char *path, size_t cap, char **data, size_t *len, int64_t *mtime_ms);

/* Reads up to `max` bytes from `offset` (a file other programs are writing: shared for read, write
 * and delete on Windows). *data is NUL-terminated; caller frees. */
int cg_file_read_range(const char *path, int64_t offset, size_t max, char **data, size_t *len);

/* Append bytes (creating the file); used by the log. */
int cg_file_append(const char *path, const void *data, size_t len);
/* Size in bytes, or -1 when the file does not exist. */
int64_t cg_file_size(const char *path);
/* When the file was last written, ms since 1970 UTC; -1 when unknown. */
int64_t cg_file_mtime_ms(const char *path);
bool cg_file_exists(const char *path);
/* Rename, replacing the target. */
int cg_file_rename(const char *from, const char *to);
int cg_file_remove(const char *path);
/* Removes an empty folder. */
int cg_dir_remove(const char *path);
/* Makes a folder the agent's own, with every folder below it: none may be a link, junction or other
 * reparse point (refused, nothing changed below it); each is then owned by root (POSIX, when running
 * as root) or by Administrators (Windows; SeTakeOwnershipPrivilege is enabled for it) and restricted
 * to its owner, mode 0700 (POSIX), or to SYSTEM and Administrators through a protected DACL inherited
 * by everything below (Windows). The configuration can hold a SAS URL or a token. */
int cg_dir_secure(const char *path, char *err, size_t errlen);
/* Whether only administrators (and this process's own account) can change what runs from `path`:
 * the file, its folder and every folder above. POSIX: owner root or this user, no write for
 * others, none for a group other than root (a sticky folder above the file's own folder is
 * allowed). Windows: owner and every allow ACE with write, delete or permission rights on the file,
 * add/delete rights on its folder, and delete-child/permission rights on the folders above belong to
 * SYSTEM, Administrators, TrustedInstaller or this account. CG_OK, CG_ERR_ACCESS with a sentence
 * naming the path and who may write it, CG_ERR_NOTFOUND. */
int cg_path_admin_only(const char *path, char *why, size_t whylen);
/* cg_path_admin_only for `path` as given (every component, links and the folders holding them) and
 * for the file it leads to, which must be a regular file; the file is opened first and the open
 * descriptor (POSIX: fd; Windows: a HANDLE that denies writes and deletes while it is open) must be
 * the file that was checked. An absolute path is required. *out belongs to the caller: close with
 * cg_file_close_handle. *final_path (may be NULL) receives the path the handle resolved to, caller
 * frees. CG_OK, CG_ERR_ACCESS (with the reason), CG_ERR_NOTFOUND. */
int cg_file_open_admin_only(const char *path, intptr_t *out, char **final_path, char *why, size_t whylen);
void cg_file_close_handle(intptr_t h);
/* A folder the agent keeps its own files in: created (with parents) when missing; an existing one
 * must be a real folder (not a link, junction or other reparse point) owned by root/Administrators/
 * SYSTEM or this account and not writable by others. CG_ERR_ACCESS with the reason otherwise. */
int cg_dir_ensure_private(const char *path, char *why, size_t whylen);
/* Whether a file or folder is a regular file (or folder) reached without following a link at its
 * last component (POSIX: lstat; Windows: no reparse point). */
bool cg_path_is_plain_file(const char *path);
bool cg_path_is_plain_dir(const char *path);
/* What a path leads to, links followed: */
enum cg_path_kind { CG_PATH_MISSING, CG_PATH_FILE, CG_PATH_DIR, CG_PATH_OTHER /* FIFO, device, socket */ };
enum cg_path_kind cg_path_kind(const char *path);
/* Create a folder and its parents (like mkdir -p). */
int cg_mkdirs(const char *path);
/* Create and delete a probe file in `dir`: proves the folder is writable. */
int cg_dir_writable(const char *dir, char *err, size_t errlen);
/* Free and total bytes of the volume holding `path`. */
int cg_disk_space(const char *path, uint64_t *free_bytes, uint64_t *total_bytes);

/* Names of the regular files in a folder, sorted (bytewise). CG_ERR_NOTFOUND when `dir` does not
 * exist or is not a folder. Free with cg_dir_list_free. */
int cg_dir_list(const char *dir, char ***names, size_t *count);
void cg_dir_list_free(char **names, size_t count);
/* Names of the folders in a folder, sorted; links and junctions to folders are left out (a walk
 * never loops or leaves the tree). Free with cg_dir_list_free. */
int cg_dir_list_dirs(const char *dir, char ***names, size_t *count);
/* Reads every regular file of `dir` whose name `want` accepts (at most `cap` bytes each, as
 * cg_file_read_mtime), calling fn with its path and what was read (rc CG_OK: data, len, mtime; else
 * the error; fn frees nothing, data is freed after it returns); and lists the folders in it (sorted,
 * no links; free with cg_dir_list_free). POSIX opens each file relative to the folder's descriptor
 * (no path walk per file). */
typedef void (*cg_dir_file_fn)(void *user, const char *path, int rc, const char *data, size_t len, int64_t mtime_ms);
int cg_dir_read_files(const char *dir, bool (*want)(const char *name), size_t cap, cg_dir_file_fn fn, void *user,
                      char ***dirs, size_t *ndirs);
/* Both lists of one folder (as cg_dir_list and cg_dir_list_dirs), read in one pass where the
 * platform can. Free each with cg_dir_list_free. */
int cg_dir_list_split(const char *dir, char ***files, size_t *nfiles, char ***dirs, size_t *ndirs);

/* Folder part of a path (caller frees), and the platform's separator. */
char *cg_path_dirname(const char *path);
char *cg_path_join(const char *dir, const char *name);
extern const char cg_path_sep;

/* Platform defaults: %ProgramData%\cmgdiag\... on Windows, /etc, /var/lib, /var/log elsewhere.
 * Caller frees. */
char *cg_default_config_path(void);
char *cg_default_spool_dir(void);
char *cg_default_log_file(void);
char *cg_default_state_dir(void);
/* Where the ConfigMgr client writes its logs (%WINDIR%\CCM\Logs and %WINDIR%\ccmsetup\Logs);
 * *count 0 off Windows. Free with cg_dir_list_free. */
int cg_client_log_dirs(char ***dirs, size_t *count);

#endif
