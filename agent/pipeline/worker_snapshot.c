/* Another device's capture judged in the worker (docs/security.md, "A snapshot from another device is
 * judged without privilege"): the agent's reading of its files (never parsed here), the worker's copy
 * of them, and what the result says of that copy, said of the capture (worker.h). */
#include <string.h>

#include "log.h"
#include "runner.h"
#include "source.h"
#include "worker.h"
#include "platform/fs.h"
#include "platform/sys.h"

/* A snapshot's files for this check (cg_run_check_worker on a snapshot): written into `dir`, which the
 * check then reads as the snapshot's folder. */
int cg_worker_take_snapshot(const cJSON *snap, const char *body, size_t blen, const char *dir) {
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  size_t used = 0;
  int rc = cg_worker_take_listed(snap, body, blen, &c, &used);
  if (rc == CG_OK) rc = cg_mkdirs(dir);
  for (size_t i = 0; rc == CG_OK && i < c.view.count; i++) {
    char *path = cg_path_join(dir, c.files[i].name), err[256];
    rc = path ? cg_file_write_atomic(path, c.files[i].data, c.files[i].len, err, sizeof(err)) : CG_ERR_NOMEM;
    cg_free(path);
  }
  cg_collection_free(&c);
  return rc;
}

/* What the check said of the worker's copy of a snapshot (`from`) is said of the snapshot (`to`). */
static char *shown(const char *s, const char *from, const char *to) {
  struct cg_buf b;
  cg_buf_init(&b, 1u << 24);
  size_t fl = strlen(from);
  for (const char *at; s && (at = strstr(s, from)) != NULL; s = at + fl) {
    cg_buf_append(&b, s, (size_t)(at - s));
    cg_buf_puts(&b, to);
  }
  if (s) cg_buf_puts(&b, s);
  char *out = b.data ? cg_strndup(b.data, b.len) : cg_strdup("");
  cg_buf_free(&b);
  return out;
}

static void shown_json(cJSON *j, const char *from, const char *to, int depth) {
  for (cJSON *c = j && depth < 64 ? j->child : NULL; c; c = c->next) {
    if (cJSON_IsString(c) && strstr(c->valuestring, from)) {
      char *t = shown(c->valuestring, from, to);
      if (t) cJSON_SetValuestring(c, t);
      cg_free(t);
    }
    shown_json(c, from, to, depth + 1);
  }
}

void cg_worker_shown_result(struct cg_result *res, const char *from, const char *to) {
  char **texts[] = {&res->summary, &res->detail, &res->remediation};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
    if (*texts[i] && strstr(*texts[i], from)) {
      char *t = shown(*texts[i], from, to);
      if (t) {
        cg_free(*texts[i]);
        *texts[i] = t;
      }
    }
  shown_json(res->facts, from, to, 0);
}

/* One file of a snapshot's folder `dir` into c, when it is a regular file reached without a link. */
static int snapshot_file(const struct cg_env *env, struct cg_collection *c, const char *dir, const char *name) {
  char *path = cg_path_join(dir, name), *data = NULL;
  size_t len = 0;
  int rc = path ? CG_OK : CG_ERR_NOMEM;
  if (rc == CG_OK && cg_path_is_plain_file(path)) {
    int frc = c->view.count < CG_COLLECTED_MAX ? cg_file_read(path, CG_COLLECTED_BYTES - c->bytes, &data, &len)
                                               : CG_ERR_TOOBIG;
    if (frc == CG_OK) frc = cg_collection_add(c, name, data, len);
    if (frc == CG_ERR_NOMEM) rc = frc;
    if (frc != CG_OK)
      cg_log_warn(env->log, "runner", "capture: %s is not judged (%s)", path,
                  frc == CG_ERR_TOOBIG ? "past 64 files or 64 MiB for one check" : cg_strerror(frc));
  }
  cg_free(data);
  cg_free(path);
  return rc;
}

/* The capture of another device that env->snapshot names, for check p: a snapshot's folder for it, a
 * capture folder, or one capture file (with the captured-at.txt beside it). Its regular files (no
 * link, no folder) are read here and not parsed, within what a collection holds; what does not fit is
 * left out and logged, never a reason to judge in this process instead: a capture is anyone's (its
 * files decide nothing here). *shown: the folder the worker's copy stands for; *file: the capture
 * file's name, or NULL for a folder. */
int cg_worker_snapshot_files(const struct cg_env *env, struct cg_collection *c, char **shown, char **file) {
  *file = NULL;
  if (cg_path_is_plain_file(env->snapshot)) {
    *shown = cg_path_dirname(env->snapshot);
    *file = cg_strdup(cg_capture_base_name(env->snapshot));
    if (!*shown || !*file) return CG_ERR_NOMEM;
    int rc = snapshot_file(env, c, *shown, *file);
    if (rc == CG_OK && cg_strcasecmp(*file, "captured-at.txt")) rc = snapshot_file(env, c, *shown, "captured-at.txt");
    return rc;
  }
  *shown = cg_strdup(env->snapshot);
  if (!*shown) return CG_ERR_NOMEM;
  char **names = NULL;
  size_t n = 0;
  int rc = cg_dir_list(env->snapshot, &names, &n);
  if (rc != CG_OK) return rc == CG_ERR_NOMEM ? rc : CG_OK; /* nothing for it: the check says so */
  for (size_t i = 0; rc == CG_OK && i < n; i++)
    rc = snapshot_file(env, c, env->snapshot, names[i]);
  cg_dir_list_free(names, n);
  return rc;
}
