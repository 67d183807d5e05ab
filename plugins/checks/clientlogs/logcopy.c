/* The newest part of a client log as a capture (logcopy.h). */
#include "logcopy.h"

#include <string.h>

#include "platform/fs.h"

int cl_copy_tail(const struct cg_env *env, const char *path, const char *name, size_t max) {
  if (!env->capture_put) return CG_OK;
  int64_t size = cg_file_size(path);
  if (size < 0) return CG_ERR_NOTFOUND;
  char *head = NULL, *body = NULL;
  size_t hn = 0, bn = 0;
  size_t bom = 0;
  if (cg_file_read_range(path, 0, 4, &head, &hn) == CG_OK) {
    const unsigned char *u = (const unsigned char *)head;
    if (hn >= 2 && u[0] == 0xFF && u[1] == 0xFE)
      bom = 2;
    else if (hn >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
      bom = 3;
  }
  /* the live reader's cut: the last `max` bytes after the mark, a UTF-16 start made even */
  int64_t start = size - (int64_t)bom > (int64_t)max ? size - (int64_t)max : (int64_t)bom;
  if (bom == 2 && (start & 1)) start++;
  int rc = cg_file_read_range(path, start, (size_t)(size - start), &body, &bn);
  char *out = rc == CG_OK ? cg_malloc(bom + bn + 1) : NULL;
  if (rc == CG_OK && !out) rc = CG_ERR_NOMEM;
  if (rc == CG_OK) {
    memcpy(out, head, bom);
    memcpy(out + bom, body, bn);
    rc = env->capture_put(env, "clientlogs", name, out, bom + bn);
  }
  cg_free(out);
  cg_free(body);
  cg_free(head);
  return rc;
}
