/* Helpers shared by fs_posix.c and fs_win32.c (platform-neutral). */
#ifndef CG_PLATFORM_FS_COMMON_H
#define CG_PLATFORM_FS_COMMON_H

#include <stddef.h>

/* qsort comparator for char* names, bytewise. */
int cg_fs_name_cmp(const void *a, const void *b);
/* Appends a copy of name to a growable list. */
int cg_fs_push_name(char ***names, size_t *count, size_t *alloc, const char *name);

/* Ends a listing: sorts it on success, frees it (and empties the outputs) on failure. */
int cg_fs_finish_list(char ***names, size_t *count, int rc);

#endif
