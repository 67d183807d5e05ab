/* Output `file`: a local folder or a UNC share (\\server\share\cmgdiag). Each bundle is written
 * atomically (temporary file, then rename) under yyyy/mm/dd/hostname/, so a reader never sees half
 * a bundle and a repeated delivery finds the file already there. */
#include <stddef.h>
#include <string.h>

#include "platform/fs.h"
#include "plugin.h"

struct file_ctx {
  char *dir;
};

static const struct cg_config_map file_map[] = {
    {CG_CFG_STRING, "dir", "null", "Folder or UNC share that receives the bundles (must exist)",
     offsetof(struct file_ctx, dir), 0, 0, NULL, NULL},
    CG_CFG_END,
};

static int file_init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  struct file_ctx *c = vctx;
  (void)env;
  if (!c->dir || !*c->dir) {
    cg_snprintf(err, errlen, "dir is not set");
    return CG_ERR_CONFIG;
  }
  return CG_OK;
}

/* A delivery a kill interrupted left "<bundle>.json.gz.tmp.<pid>.<n>" beside where the bundle
 * goes; the bundle stayed in the spool, so this retry of the same bundle removes it. Only files of
 * this bundle, by name: the share holds other devices' files. */
static void remove_stale_temps(const char *folder, const char *name) {
  char **names = NULL;
  size_t n = 0, nl = strlen(name);
  if (cg_dir_list(folder, &names, &n) != CG_OK) return;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(names[i], name, nl) != 0 || strncmp(names[i] + nl, ".tmp.", 5) != 0) continue;
    char *t = cg_path_join(folder, names[i]);
    if (t && cg_path_is_plain_file(t)) cg_file_remove(t);
    cg_free(t);
  }
  cg_dir_list_free(names, n);
}

static void file_emit(void *vctx, const struct cg_env *env, const struct cg_emit_req *req, struct cg_emit_result *res) {
  struct file_ctx *c = vctx;
  (void)env;
  char *folder = cg_strdup(c->dir), *path = NULL;
  res->retry_after_ms = -1;
  res->http_status = 0;
  /* The root must already be there: a missing root is a share that is not reachable from here
   * (VPN down, server offline), not something to create on the local disk. */
  if (!cg_file_exists(c->dir)) {
    res->outcome = CG_EMIT_DOWN;
    cg_snprintf(res->error, sizeof(res->error), "the folder %s is not reachable from this device", c->dir);
    goto out;
  }
  char part[256];
  const char *p = req->name;
  while (folder && strchr(p, '/')) { /* yyyy, mm, dd, hostname */
    size_t l = (size_t)(strchr(p, '/') - p);
    cg_snprintf(part, sizeof(part), "%.*s", (int)l, p);
    char *next = cg_path_join(folder, part);
    cg_free(folder);
    folder = next;
    p += l + 1;
  }
  path = folder ? cg_path_join(folder, p) : NULL;
  if (!path) {
    res->outcome = CG_EMIT_RETRY;
    cg_snprintf(res->error, sizeof(res->error), "out of memory");
    goto out;
  }
  if (cg_file_exists(path)) {
    res->outcome = CG_EMIT_ALREADY;
    goto out;
  }
  int rc = cg_mkdirs(folder);
  if (rc == CG_OK) remove_stale_temps(folder, p);
  if (rc == CG_OK)
    rc = cg_file_write_atomic(path, req->gz, req->gz_len, res->error, sizeof(res->error));
  else
    cg_snprintf(res->error, sizeof(res->error), "cannot create %s: %s", folder, cg_strerror(rc));
  res->outcome = rc == CG_OK ? CG_EMIT_DELIVERED : CG_EMIT_DOWN;
  if (rc == CG_OK) res->error[0] = '\0';
out:
  cg_free(folder);
  cg_free(path);
}

const struct cg_output_plugin cg_output_file = {
    .name = "file",
    .description = "A folder or UNC file share (atomic writes)",
    .platforms = CG_PLATFORM_ANY,
    .config_map = file_map,
    .ctx_size = sizeof(struct file_ctx),
    .target_key = "dir",
    .init = file_init,
    .emit = file_emit,
    .fini = NULL,
};
