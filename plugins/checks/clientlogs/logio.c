/* Reading a log from the disk, or from what the agent read of it (logio.h). */
#include "logio.h"

#include <string.h>

#include "platform/fs.h"
#include "text.h"

#define INDEX_MAX (16u << 20)

void cl_io_init(struct cl_io *io, enum cl_io_mode mode) {
  memset(io, 0, sizeof(*io));
  io->mode = mode;
  cg_buf_init(&io->bytes, 64u << 20);
  if (mode == CL_IO_COLLECT) {
    io->index = cJSON_CreateObject();
    cJSON_AddObjectToObject(io->index, "files");
    cJSON_AddArrayToObject(io->index, "reads");
  }
}

void cl_io_free(struct cl_io *io) {
  cJSON_Delete(io->index);
  cg_buf_free(&io->bytes);
  memset(io, 0, sizeof(*io));
}

int cl_io_load(struct cl_io *io, const struct cg_env *env) {
  const struct cg_capture_file *ix = cg_collected_file(env, CL_IO_INDEX), *by = cg_collected_file(env, CL_IO_BYTES);
  if (!ix || !by || ix->len > INDEX_MAX) return CG_ERR_PARSE;
  io->index = cJSON_ParseWithLength(ix->data, ix->len);
  if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(io->index, "files")) ||
      !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(io->index, "reads")))
    return CG_ERR_PARSE;
  io->bytes.len = 0;
  return cg_buf_append(&io->bytes, by->data, by->len);
}

int cl_io_hand_over(struct cl_io *io, const struct cg_env *env) {
  char *text = cJSON_PrintUnformatted(io->index);
  int rc = text ? env->judge_put(env, CL_IO_INDEX, text, strlen(text)) : CG_ERR_NOMEM;
  if (rc == CG_OK) rc = env->judge_put(env, CL_IO_BYTES, io->bytes.data ? io->bytes.data : "", io->bytes.len);
  cJSON_free(text);
  return rc;
}

int64_t cl_io_size(struct cl_io *io, const char *path) {
  cJSON *files = cJSON_GetObjectItemCaseSensitive(io->index, "files");
  if (io->mode == CL_IO_REPLAY) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(files, path);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 ? (int64_t)v->valuedouble : -1;
  }
  int64_t size = cg_file_size(path);
  if (io->mode == CL_IO_COLLECT && !cJSON_GetObjectItemCaseSensitive(files, path))
    cJSON_AddNumberToObject(files, path, (double)size);
  return size;
}

/* The kept read for (path, offset, max): its place in the bytes. */
static bool find(const struct cl_io *io, const char *path, int64_t offset, size_t max, size_t *at, size_t *len) {
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(io->index, "reads")) {
    const cJSON *p = cJSON_GetArrayItem(r, 0), *o = cJSON_GetArrayItem(r, 1), *m = cJSON_GetArrayItem(r, 2),
                *a = cJSON_GetArrayItem(r, 3), *l = cJSON_GetArrayItem(r, 4);
    if (!cJSON_IsString(p) || strcmp(p->valuestring, path) || !cJSON_IsNumber(o) || !cJSON_IsNumber(m) ||
        !cJSON_IsNumber(a) || !cJSON_IsNumber(l) || o->valuedouble != (double)offset || m->valuedouble != (double)max)
      continue;
    if (a->valuedouble < 0 || l->valuedouble < 0 || a->valuedouble > (double)io->bytes.len ||
        l->valuedouble > (double)io->bytes.len - a->valuedouble || l->valuedouble > (double)max)
      return false;
    *at = (size_t)a->valuedouble;
    *len = (size_t)l->valuedouble;
    return true;
  }
  return false;
}

int cl_io_read(struct cl_io *io, const char *path, int64_t offset, size_t max, char **data, size_t *len) {
  *data = NULL;
  *len = 0;
  if (io->mode == CL_IO_REPLAY) {
    size_t at = 0, n = 0;
    if (!find(io, path, offset, max, &at, &n)) return CG_ERR_IO; /* a read the agent did not make */
    if (!(*data = cg_malloc(n + 1))) return CG_ERR_NOMEM;
    if (n) memcpy(*data, io->bytes.data + at, n);
    (*data)[n] = '\0';
    *len = n;
    return CG_OK;
  }
  int rc = cg_file_read_range(path, offset, max, data, len);
  if (rc != CG_OK || io->mode != CL_IO_COLLECT) return rc;
  size_t at = io->bytes.len;
  if (cg_buf_append(&io->bytes, *data, *len) != CG_OK) return CG_ERR_TOOBIG;
  cJSON *r = cJSON_CreateArray();
  cJSON_AddItemToArray(r, cJSON_CreateString(path));
  cJSON_AddItemToArray(r, cJSON_CreateNumber((double)offset));
  cJSON_AddItemToArray(r, cJSON_CreateNumber((double)max));
  cJSON_AddItemToArray(r, cJSON_CreateNumber((double)at));
  cJSON_AddItemToArray(r, cJSON_CreateNumber((double)*len));
  cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(io->index, "reads"), r);
  return CG_OK;
}

/* ---- the bytes of a log ---- */

/* Raw bytes behind the first `n` bytes of decoded UTF-8 (for resuming at the right place). */
size_t cl_raw_length(const char *utf8, size_t n, enum enc enc, bool cp1252) {
  if (enc != ENC_UTF16 && !cp1252) return n;
  size_t units = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)utf8[i];
    if ((c & 0xC0) == 0x80) continue;
    units += (enc == ENC_UTF16 && c >= 0xF0) ? 2 : 1; /* a 4-byte sequence is a surrogate pair */
  }
  return enc == ENC_UTF16 ? units * 2 : units;
}

/* Decodes raw bytes of one encoding into UTF-8 (UTF-8 chunks that are not valid: cp1252). */
int cl_decode(const char *raw, size_t len, enum enc enc, char **out, size_t *out_len, bool *cp1252) {
  *cp1252 = false;
  if (enc == ENC_UTF16) {
    char *tmp = cg_malloc(len + 3);
    if (!tmp) return CG_ERR_NOMEM;
    tmp[0] = (char)0xFF;
    tmp[1] = (char)0xFE;
    memcpy(tmp + 2, raw, len & ~(size_t)1);
    int rc = cg_text_decode(tmp, (len & ~(size_t)1) + 2, out, out_len, NULL);
    cg_free(tmp);
    return rc;
  }
  if (cg_utf8_valid(raw, len)) {
    *out = cg_strndup(raw, len);
    *out_len = len;
    return *out ? CG_OK : CG_ERR_NOMEM;
  }
  enum cg_text_encoding e;
  int used;
  *cp1252 = true;
  return cg_text_decode_capture(raw, len, 1252, out, out_len, &e, &used);
}
