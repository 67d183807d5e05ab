/* Platform-neutral parts of the folder listing. */
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "fs_common.h"

int cg_fs_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void cg_dir_list_free(char **names, size_t count) {
  for (size_t i = 0; i < count; i++)
    cg_free(names[i]);
  cg_free(names);
}

int cg_fs_push_name(char ***names, size_t *count, size_t *alloc, const char *name) {
  if (*count == *alloc) {
    size_t na = *alloc ? *alloc * 2 : 16;
    char **nn = cg_realloc(*names, na * sizeof(char *));
    if (!nn) return CG_ERR_NOMEM;
    *names = nn;
    *alloc = na;
  }
  if (!((*names)[*count] = cg_strdup(name))) return CG_ERR_NOMEM;
  (*count)++;
  return CG_OK;
}

int cg_fs_finish_list(char ***names, size_t *count, int rc) {
  if (rc != CG_OK) {
    cg_dir_list_free(*names, *count);
    *names = NULL;
    *count = 0;
    return rc;
  }
  if (*count) qsort(*names, *count, sizeof(char *), cg_fs_name_cmp);
  return CG_OK;
}
