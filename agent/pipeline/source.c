/* Reading a check's capture (source.h). */
#include "source.h"

#include <string.h>

#include "platform/fs.h"
#include "platform/sys.h"
#include "text.h"

#define DEFAULT_MAX_FILES 64

static bool wanted(const struct cg_source *s, const char *name) {
  if (!s->suffixes) return true;
  for (const char *const *x = s->suffixes; *x; x++)
    if (cg_str_endswith_ci(name, *x)) return true;
  return false;
}

static void upper_prefix(const struct cg_source *s, const char *check, char *out, size_t len) {
  const char *p = s->code_prefix ? s->code_prefix : check;
  size_t i = 0;
  for (; p[i] && i < len - 1; i++)
    out[i] = (p[i] >= 'a' && p[i] <= 'z') ? (char)(p[i] - 32) : p[i];
  out[i] = '\0';
}

struct reading {
  const struct cg_check_plugin *p;
  void *ctx;
  const struct cg_env *env;
  cJSON *files;
  size_t used, too_large, not_read;
  char first_why[700];
};

/* One file: read, parsed, listed. CG_OK unless memory ran out: a file the check cannot use is listed
 * with the reason, and the others are still read. */
static int one_file(struct reading *r, const char *path, const char *name) {
  const struct cg_source *s = r->p->source;
  struct cg_capture_file f = {.path = path, .name = name};
  char *data = NULL, err[512] = "";
  int rc = CG_OK;
  cJSON *o = cJSON_CreateObject();
  if (!o) return CG_ERR_NOMEM;
  cJSON_AddItemToArray(r->files, o);
  cJSON_AddStringToObject(o, "name", name);
  if (s->max_bytes) {
    rc = cg_file_read(path, s->max_bytes, &data, &f.len);
    f.data = data;
    if (rc == CG_ERR_TOOBIG) {
      r->too_large++;
      cg_snprintf(err, sizeof(err), "larger than %zu KB, which no such capture is", s->max_bytes / 1024);
    } else if (rc != CG_OK) {
      cg_snprintf(err, sizeof(err), "cannot be read: %s", cg_strerror(rc));
    }
    if (rc == CG_OK) cJSON_AddNumberToObject(o, "bytes", (double)f.len);
  }
  if (rc == CG_OK) {
    rc = s->parse(r->ctx, r->env, &f, err, sizeof(err));
    if (rc == CG_OK) {
      r->used++;
    } else if (rc == CG_ERR_NOMEM) {
      cg_free(data);
      return rc;
    } else if (!err[0]) { /* a file the check cannot use: listed, and the next one is read */
      cg_snprintf(err, sizeof(err), "%s%s", rc == CG_ERR_PARSE ? "not " : "cannot be used: ",
                  rc == CG_ERR_PARSE ? (s->what ? s->what : "a capture this check reads") : cg_strerror(rc));
    }
  }
  cJSON_AddBoolToObject(o, "used", rc == CG_OK);
  if (rc != CG_OK) {
    cJSON_AddStringToObject(o, "why", err);
    if (!r->first_why[0]) cg_snprintf(r->first_why, sizeof(r->first_why), "%s: %s", name, err);
  }
  cg_free(data);
  return CG_OK;
}

static int read_folder(struct reading *r, const char *dir, size_t *listed) {
  const struct cg_source *s = r->p->source;
  char **names = NULL;
  size_t n = 0, max = s->max_files ? s->max_files : DEFAULT_MAX_FILES;
  int rc = cg_dir_list(dir, &names, &n);
  if (rc != CG_OK) return rc;
  *listed = 0;
  for (size_t i = 0; i < n && rc == CG_OK; i++) {
    /* captured-at.txt says when the capture was taken (cg_capture_time): no check's capture */
    if (!wanted(s, names[i]) || !cg_strcasecmp(names[i], "captured-at.txt")) continue;
    if (*listed == max) {
      r->not_read++; /* over max_files: counted, not read */
      continue;
    }
    (*listed)++;
    char *path = cg_path_join(dir, names[i]);
    rc = path ? one_file(r, path, names[i]) : CG_ERR_NOMEM;
    cg_free(path);
  }
  cg_dir_list_free(names, n);
  return rc;
}

const char *cg_capture_base_name(const char *path) {
  const char *b = path;
  for (const char *c = path; *c; c++)
    if (*c == '/' || *c == '\\') b = c + 1;
  return b;
}

void cg_capture_time(const char *input, char *out, size_t outlen) {
  out[0] = '\0';
  char *dir = NULL;
  if (cg_path_kind(input) == CG_PATH_DIR) {
    dir = cg_strdup(input);
  } else {
    const char *b = cg_capture_base_name(input);
    dir = b > input ? cg_strndup(input, (size_t)(b - input)) : cg_strdup(".");
  }
  char *path = dir ? cg_path_join(dir, "captured-at.txt") : NULL, *raw = NULL, *text = NULL;
  size_t len = 0, tl = 0;
  enum cg_text_encoding enc;
  int cp;
  int64_t ms;
  if (path && cg_path_kind(path) == CG_PATH_FILE && cg_file_read(path, 4096, &raw, &len) == CG_OK &&
      cg_text_decode_capture(raw, len, 1252, &text, &tl, &enc, &cp) == CG_OK) {
    char line[64];
    cg_snprintf(line, sizeof(line), "%.*s", (int)strcspn(text, "\r\n"), text);
    if (cg_time_parse(cg_str_trim(line), &ms)) cg_time_rfc3339(ms, out, outlen);
  }
  cg_free(raw);
  cg_free(text);
  cg_free(path);
  cg_free(dir);
}

int cg_source_read(const struct cg_check_plugin *p, void *ctx, const struct cg_env *env, struct cg_result *res,
                   bool *decided) {
  const struct cg_source *s = p->source;
  const char *in = env->input;
  char pre[32];
  upper_prefix(s, p->name, pre, sizeof(pre));
  char code[64];
  *decided = false;
  cJSON_DeleteItemFromObjectCaseSensitive(res->facts, "source");
  cJSON_AddStringToObject(res->facts, "source", "input");
  cJSON *input = cJSON_AddObjectToObject(res->facts, "input");
  struct reading r = {.p = p, .ctx = ctx, .env = env, .files = input ? cJSON_AddArrayToObject(input, "files") : NULL};
  if (!r.files || !cJSON_AddStringToObject(input, "path", in)) return CG_ERR_NOMEM;
  enum cg_path_kind k = cg_path_kind(in);
  bool file_ok = s->accepts & CG_SOURCE_FILE, dir_ok = s->accepts & CG_SOURCE_FOLDER;
  int rc = CG_OK;
  size_t listed = 1;
  if (k == CG_PATH_FILE && file_ok) {
    rc = one_file(&r, in, cg_capture_base_name(in));
  } else if (k == CG_PATH_DIR && dir_ok) {
    rc = read_folder(&r, in, &listed);
  } else {
    *decided = true;
    cg_snprintf(code, sizeof(code), "%s_INPUT_UNREADABLE", pre);
    const char *want = file_ok && dir_ok ? "a file or a folder" : file_ok ? "a file" : "a folder";
    return cg_result_set(res, CG_ERROR, code, s->how, "The input %s %s; give %s of %s.", in,
                         k == CG_PATH_MISSING ? "does not exist or cannot be read"
                         : k == CG_PATH_DIR   ? "is a folder"
                         : k == CG_PATH_FILE  ? "is a file"
                                              : "is not a regular file or folder",
                         want, s->what ? s->what : "captures");
  }
  if (rc != CG_OK) return rc == CG_ERR_NOTFOUND ? CG_ERR_IO : rc;
  cJSON_AddNumberToObject(input, "used", (double)r.used);
  if (r.not_read) cJSON_AddNumberToObject(input, "not_read", (double)r.not_read);
  if (r.used) return CG_OK;
  *decided = true;
  if (k == CG_PATH_FILE && r.too_large) {
    cg_snprintf(code, sizeof(code), "%s_INPUT_TOO_LARGE", pre);
    return cg_result_set(res, CG_ERROR, code, s->how, "The input %s is larger than %zu KB, which no %s is.", in,
                         s->max_bytes / 1024, s->what ? s->what : "capture");
  }
  cg_snprintf(code, sizeof(code), "%s_UNPARSEABLE", pre);
  if (listed == 0)
    return cg_result_set(res, CG_ERROR, code, s->how, "The folder %s holds no file this check reads (%s).", in,
                         s->what ? s->what : "captures");
  return cg_result_set(res, CG_ERROR, code, s->how, "Nothing in %s could be read as %s. %s.", in,
                       s->what ? s->what : "a capture", r.first_why);
}
