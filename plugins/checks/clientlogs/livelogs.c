/* The live logs in two halves (logio.h, docs/security.md "Privilege separation"): the agent reads,
 * the worker judges. */
#include <string.h>

#include "clientlogs.h"
#include "config.h"
#include "logcopy.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/sys.h"

/* ---- the live logs: the agent reads, the worker judges (logio.h) ------------------------------------ */

/* Every configured log in every folder, from where the previous cycle stopped (positions in `state`,
 * keyed by path), by both halves: the same walk asks for the same bytes. */
static int walk_logs(struct cl_ctx *ctx, const struct cg_env *env, char **dirs, size_t ndirs, cJSON *state,
                     bool from_scratch, size_t *found) {
  struct cl_work *w = ctx->w;
  int rc = CG_OK;
  *found = 0;
  for (size_t d = 0; d < ndirs && rc == CG_OK; d++)
    for (size_t i = 0; i < ctx->logs.count && rc == CG_OK; i++) {
      char *p = cg_path_join(dirs[d], ctx->logs.items[i]);
      if (p && cl_io_size(&w->io, p) >= 0) {
        cJSON *st = cJSON_GetObjectItemCaseSensitive(state, p);
        if (!st) st = cJSON_AddObjectToObject(state, p);
        w->s.log = ctx->logs.items[i];
        w->s.ctx_host[0] = '\0';
        rc = cl_read_log(&w->s, ctx, p, ctx->logs.items[i], st, w->logs, from_scratch);
        /* `cmgdiag collect`: the newest part of each log, as a copied log folder (captures.md) */
        if (rc == CG_OK && w->s.collect && env->capture_put)
          cl_copy_tail(env, p, ctx->logs.items[i], (size_t)ctx->max_bytes_per_file);
        (*found)++;
      }
      cg_free(p);
    }
  return rc;
}

static int no_logs(struct cg_result *res, char **dirs, size_t ndirs) {
  if (!ndirs)
    return cg_result_set(res, CG_SKIP, "LOG_NO_CLIENT_LOGS",
                         "Run 'cmgdiag check clientlogs --input DIR' with a copy of "
                         "the client's CCM\\Logs folder.",
                         "There are no ConfigMgr client logs on %s; give a copied log folder with --input.",
                         cg_platform_name());
  return cg_result_set(res, CG_SKIP, "LOG_NO_CLIENT_LOGS",
                       "Install the ConfigMgr client, or set checks.clientlogs.log_dirs to where its logs are.",
                       "None of the client logs exist in %s%s.", dirs[0],
                       ndirs > 1 ? " and the other log folders" : "");
}

/* The read positions and what is kept, where the judging half keeps them: its own folder when it runs
 * without privilege (the worker's, STATE_DIR/unprivileged), the state folder otherwise. */
static char *state_path(const struct cg_env *env, bool judge) {
  char *dir = !judge && env->worker_account ? cg_path_join(env->config->state_dir, "unprivileged") : NULL;
  char *p = cg_path_join(dir ? dir : env->config->state_dir, STATE_FILE);
  cg_free(dir);
  return p;
}

/* The agent's half (plugin.h `collect`): the reads the walk makes, kept unparsed, with the positions
 * and folders it used; reads from scratch for a snapshot, whose positions are not the agent's. */
int cl_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  struct cl_ctx *ctx = vctx;
  struct cl_work *w = ctx->w;
  char **dirs = NULL;
  size_t ndirs = 0, found = 0;
  bool own_dirs = false, from_scratch = env->capture_put != NULL;
  *decided = true;
  if (w->sig_rc != CG_OK)
    return cg_result_set(res, CG_ERROR, "LOG_BAD_SIGNATURES", "Fix the signature catalogue named in the summary.",
                         "The signature catalogue cannot be used: %s.",
                         w->sig_err[0] ? w->sig_err : cg_strerror(w->sig_rc));
  if (ctx->log_dirs.count) {
    dirs = ctx->log_dirs.items;
    ndirs = ctx->log_dirs.count;
  } else {
    cg_client_log_dirs(&dirs, &ndirs);
    own_dirs = true;
  }
  char *sp = state_path(env, false), *sdata = NULL;
  size_t slen = 0;
  cJSON *state = NULL;
  /* the judging half wrote it (without privilege, perhaps): a plain file, read as JSON, numbers used */
  if (!from_scratch && sp && cg_path_is_plain_file(sp) && cg_file_read(sp, 4 * 1024 * 1024, &sdata, &slen) == CG_OK)
    state = cJSON_ParseWithLength(sdata, slen);
  cg_free(sdata);
  if (!cJSON_IsObject(state)) {
    cJSON_Delete(state);
    state = cJSON_CreateObject();
  }
  cJSON *kept = cJSON_DetachItemFromObjectCaseSensitive(state, KEPT);
  cl_io_free(&w->io);
  cl_io_init(&w->io, CL_IO_COLLECT);
  w->s.collect = true;
  cJSON *positions = cJSON_Duplicate(state, true); /* the judging half walks from the same places */
  int rc = ndirs ? walk_logs(ctx, env, dirs, ndirs, state, from_scratch, &found) : CG_OK;
  cJSON_Delete(state);
  if (rc == CG_OK && !found) {
    rc = no_logs(res, dirs, ndirs);
  } else if (rc == CG_OK) {
    *decided = false;
    cJSON *d = cJSON_AddArrayToObject(w->io.index, "dirs");
    for (size_t i = 0; i < ndirs; i++)
      cJSON_AddItemToArray(d, cJSON_CreateString(dirs[i]));
    cJSON_AddBoolToObject(w->io.index, "from_scratch", from_scratch);
    cJSON_AddItemToObject(w->io.index, "kept", kept ? kept : cJSON_CreateObject());
    cJSON_AddItemToObject(w->io.index, "positions", positions ? positions : cJSON_CreateObject());
    kept = positions = NULL;
    cJSON_AddStringToObject(res->facts, "source", "live");
    if (!from_scratch && sp) cJSON_AddStringToObject(res->facts, "state_file", sp);
    rc = cl_io_hand_over(&w->io, env);
  }
  cJSON_Delete(kept);
  cJSON_Delete(positions);
  if (own_dirs) cg_dir_list_free(dirs, ndirs);
  cg_free(sp);
  return rc;
}

/* The judging half: the same walk on what the agent read, the entries scanned and matched, the new
 * positions and what is still open kept (in its own folder) for the next cycle. */
int cl_judge_collected(struct cl_ctx *ctx, const struct cg_env *env, struct cg_result *res) {
  struct cl_work *w = ctx->w;
  char err[512] = "", *dirs[16];
  size_t ndirs = 0, found = 0;
  cl_io_free(&w->io);
  cl_io_init(&w->io, CL_IO_REPLAY);
  if (cl_io_load(&w->io, env) != CG_OK) return CG_ERR_INTERNAL; /* not what collect hands over */
  const cJSON *x;
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(w->io.index, "dirs")) if (cJSON_IsString(x) && ndirs < 16)
      dirs[ndirs++] = x->valuestring;
  bool from_scratch = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w->io.index, "from_scratch"));
  const cJSON *pos = cJSON_GetObjectItemCaseSensitive(w->io.index, "positions");
  cJSON *state = cJSON_IsObject(pos) ? cJSON_Duplicate(pos, true) : cJSON_CreateObject(),
        *kept = cJSON_GetObjectItemCaseSensitive(w->io.index, "kept");
  cl_load_kept(&w->s, kept, w->s.min_ms);
  w->s.collect = false;
  int rc = state ? walk_logs(ctx, env, dirs, ndirs, state, from_scratch, &found) : CG_ERR_NOMEM;
  if (rc != CG_OK) goto out;
  if (!found) {
    rc = no_logs(res, dirs, ndirs);
    goto out;
  }
  cJSON_AddItemToObject(state, KEPT, cl_save_kept(&w->s));
  char *text = from_scratch ? NULL : cJSON_PrintUnformatted(state), *sp = text ? state_path(env, true) : NULL;
  if (sp && cg_mkdirs(env->config->state_dir) == CG_OK &&
      cg_file_write_atomic(sp, text, strlen(text), err, sizeof(err)) != CG_OK)
    cg_log_warn(env->log, "clientlogs", "cannot save the read positions: %s", err);
  cJSON_free(text);
  cg_free(sp);
  rc = cl_finish(&w->s, &w->set, res, found);
out:
  cJSON_Delete(state);
  return rc;
}
