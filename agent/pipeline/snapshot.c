/* The device snapshot (snapshot.h, docs/checks/captures.md "Snapshots"). */
#include "snapshot.h"

#include <openssl/evp.h>
#include <string.h>

#include "platform/fs.h"
#include "platform/sys.h"
#include "config.h"
#include "log.h"
#include "redact.h"
#include "runner.h"

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

int cg_snapshot_parse(const char *data, size_t len, const char *what, cJSON **manifest, char *err, size_t errlen) {
  *manifest = NULL;
  cJSON *m = cJSON_ParseWithLength(data, len);
  const char *schema = str(m, "schema");
  if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "checks")) || !schema ||
      strncmp(schema, "cmgdiag.snapshot/", 17)) {
    cg_snprintf(err, errlen, "%s is not the manifest of a cmgdiag snapshot (no \"schema\": \"%s\" and \"checks\")",
                what, CG_SNAPSHOT_SCHEMA);
  } else if (strcmp(schema, CG_SNAPSHOT_SCHEMA)) {
    cg_snprintf(err, errlen, "%s is a snapshot of a newer format (%.40s); this cmgdiag reads %s", what, schema,
                CG_SNAPSHOT_SCHEMA);
  } else {
    *manifest = m;
    return CG_OK;
  }
  cJSON_Delete(m);
  return CG_ERR_PARSE;
}

int cg_snapshot_load(const char *dir, cJSON **manifest, char *err, size_t errlen) {
  *manifest = NULL;
  char *path = cg_path_join(dir, CG_SNAPSHOT_MANIFEST), *data = NULL;
  size_t len = 0;
  if (!path) return CG_ERR_NOMEM;
  int rc = cg_path_kind(dir) == CG_PATH_DIR && cg_path_kind(path) == CG_PATH_FILE
               ? cg_file_read(path, CG_SNAPSHOT_MAX_MANIFEST, &data, &len)
               : CG_ERR_NOTFOUND;
  if (rc == CG_OK) {
    rc = cg_snapshot_parse(data, len, path, manifest, err, errlen);
  } else if (rc != CG_ERR_NOTFOUND) {
    cg_snprintf(err, errlen, "%s cannot be read: %s", path, cg_strerror(rc));
    rc = CG_ERR_PARSE;
  }
  cg_free(data);
  cg_free(path);
  return rc;
}

const char *cg_snapshot_judged_from(const cJSON *manifest, const char *check) {
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "checks"), check);
  const char *j = str(c, "judged_from");
  return j && (!strcmp(j, "capture") || !strcmp(j, "recorded")) ? j : NULL;
}

char *cg_snapshot_check_dir(const char *dir, const char *check) { return cg_path_join(dir, check); }

static enum cg_verdict verdict_of(const char *s) {
  static const enum cg_verdict all[] = {CG_PASS, CG_WARN, CG_FAIL, CG_SKIP, CG_ERROR};
  for (size_t i = 0; s && i < CG_ARRAY_LEN(all); i++)
    if (!strcmp(s, cg_verdict_name(all[i]))) return all[i];
  return CG_ERROR;
}

int cg_snapshot_recorded(const cJSON *manifest, const char *check, struct cg_result *res) {
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "checks"), check);
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "result");
  const char *code = str(r, "code");
  if (!cJSON_IsObject(r) || !code || !*code) return CG_ERR_NOTFOUND;
  int rc = cg_result_init(res, check);
  if (rc != CG_OK) return rc;
  const char *host = str(manifest, "host"), *when = str(manifest, "taken_at");
  rc = cg_result_set(res, verdict_of(str(r, "status")), code, str(r, "remediation"), "%s Recorded on %.100s at %.40s.",
                     str(r, "summary") ? str(r, "summary") : "", host ? host : "the device", when ? when : "?");
  if (rc == CG_OK && str(r, "detail")) rc = cg_result_detail(res, "%s", str(r, "detail"));
  const cJSON *facts = cJSON_GetObjectItemCaseSensitive(r, "facts");
  if (rc == CG_OK && cJSON_IsObject(facts)) {
    cJSON *dup = cJSON_Duplicate(facts, true);
    if (!dup) return CG_ERR_NOMEM;
    cJSON_Delete(res->facts);
    res->facts = dup;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(res->facts, "source");
  cJSON_AddStringToObject(res->facts, "source", "recorded");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "duration_ms");
  res->duration_ms = cJSON_IsNumber(d) ? (int64_t)d->valuedouble : 0;
  return rc;
}

cJSON *cg_snapshot_settings(const cJSON *manifest, const struct cg_config *cfg, const struct cg_check_plugin *p,
                            char *why, size_t whylen) {
  const cJSON *given =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "settings"), p->name);
  if (!given) return NULL;
  cJSON *sec = cJSON_Duplicate(given, true), *root = NULL;
  char err[400] = "";
  if (sec && cg_config_check_section(p, sec, "the snapshot's settings", err, sizeof(err)) != CG_OK) {
    cg_snprintf(why, whylen, "%s", err);
    cJSON_Delete(sec);
    return NULL;
  }
  const cJSON *mine = cg_config_check(cfg, p->name), *k;
  /* a path names a file of the device, not of this machine: this machine's own setting for it is
   * used (and vetted as always), so a snapshot never makes this machine read a file it names */
  static const char *const file_keys[] = {"ca_file",         "client_cert",   "client_key",
                                          "signatures_file", "dsregcmd_path", "input"};
  /* (a check that replays its own transcript reads none of them: it keeps the device's, which its
   * transcript's questions depend on; runner.c runs it without vetting them here) */
  bool replays = p->source && p->source->snapshot_only;
  for (size_t i = 0; sec && !replays && i < CG_ARRAY_LEN(file_keys); i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(mine, file_keys[i]);
    if (!cJSON_GetObjectItemCaseSensitive(sec, file_keys[i])) continue;
    cJSON_ReplaceItemInObjectCaseSensitive(sec, file_keys[i], v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
  }
  /* what the person running the command set (--set, --input) stays theirs */
  bool cli = cfg->cli_check && !strcmp(cfg->cli_check, p->name);
  const cJSON *keys = cli ? cfg->cli_keys : NULL;
  cJSON_ArrayForEach(k, keys) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(mine, cJSON_GetStringValue(k));
    cJSON *d = sec && v ? cJSON_Duplicate(v, true) : NULL;
    if (d && !cJSON_ReplaceItemInObjectCaseSensitive(sec, k->valuestring, d))
      cJSON_AddItemToObject(sec, k->valuestring, d);
  }
  root = sec ? cJSON_Duplicate(cfg->root, true) : NULL;
  cJSON *checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
  if (!checks && root) checks = cJSON_AddObjectToObject(root, "checks");
  if (!checks) {
    cJSON_Delete(sec);
    cJSON_Delete(root);
    return NULL;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(checks, p->name);
  cJSON_AddItemToObject(checks, p->name, sec);
  return root;
}

/* ---- collect ---------------------------------------------------------------------------------- */

/* A file name a check may write: one plain name, no folder, nothing hidden. */
static bool plain_name(const char *n) {
  size_t len = strlen(n);
  if (!len || len > 64 || n[0] == '.' || !strcmp(n, "captured-at.txt")) return false;
  for (const char *c = n; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
          *c == '.'))
      return false;
  return true;
}

static int put(const struct cg_env *env, const char *check, const char *name, const void *data, size_t len) {
  if (!env->collect_dir || !plain_name(check) || !plain_name(name)) return CG_ERR_USAGE;
  if (len > CG_SNAPSHOT_MAX_FILE) return CG_ERR_TOOBIG;
  char *dir = cg_snapshot_check_dir(env->collect_dir, check), *path = dir ? cg_path_join(dir, name) : NULL;
  char err[300] = "";
  int rc = path ? CG_OK : CG_ERR_NOMEM;
  /* the folder was made empty by collect; a check's folder in it is made here, never a link */
  if (rc == CG_OK && cg_path_kind(dir) == CG_PATH_MISSING) rc = cg_mkdirs(dir);
  if (rc == CG_OK && !cg_path_is_plain_dir(dir)) rc = CG_ERR_ACCESS;
  if (rc == CG_OK) rc = cg_file_write_atomic(path, data, len, err, sizeof(err));
  if (rc != CG_OK)
    cg_log_warn(env->log, "collect", "%s's capture %s was not written: %s", check, name,
                err[0] ? err : cg_strerror(rc));
  cg_free(path);
  cg_free(dir);
  return rc;
}

static void sha256_hex(const char *data, size_t len, char out[65]) {
  unsigned char md[32];
  unsigned int n = 0;
  out[0] = '\0';
  if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) return;
  for (unsigned i = 0; i < 32; i++)
    cg_snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The files a check wrote, with sizes and hashes; NULL when it wrote none. */
static cJSON *files_of(const char *out, const char *check) {
  char *dir = cg_snapshot_check_dir(out, check);
  char **names = NULL;
  size_t n = 0;
  cJSON *files = NULL;
  if (dir && cg_dir_list(dir, &names, &n) == CG_OK) {
    for (size_t i = 0; i < n; i++) {
      if (!strcmp(names[i], "captured-at.txt")) continue;
      char *p = cg_path_join(dir, names[i]), *data = NULL, hex[65];
      size_t len = 0;
      if (p && cg_file_read(p, CG_SNAPSHOT_MAX_FILE, &data, &len) == CG_OK) {
        sha256_hex(data, len, hex);
        cJSON *f = cJSON_CreateObject();
        if (!files) files = cJSON_CreateArray();
        cJSON_AddItemToArray(files, f);
        cJSON_AddStringToObject(f, "name", names[i]);
        cJSON_AddNumberToObject(f, "bytes", (double)len);
        cJSON_AddStringToObject(f, "sha256", hex);
      }
      cg_free(data);
      cg_free(p);
    }
  }
  cg_dir_list_free(names, n);
  cg_free(dir);
  return files;
}

static int write_text(const char *dir, const char *name, const char *text, char *err, size_t errlen) {
  char *p = cg_path_join(dir, name);
  int rc = p ? cg_file_write_atomic(p, text, strlen(text), err, errlen) : CG_ERR_NOMEM;
  cg_free(p);
  return rc;
}

static int write_manifest(const char *out, cJSON *m, char *err, size_t errlen) {
  /* the records are the checks' results: redacted as a bundle is before it leaves memory */
  char *text = cg_redact_json(m) == CG_OK ? cJSON_Print(m) : NULL;
  int rc = text ? write_text(out, CG_SNAPSHOT_MANIFEST, text, err, errlen) : CG_ERR_NOMEM;
  cJSON_free(text);
  return rc;
}

/* An empty folder to write into, readable by administrators only (the snapshot holds what a bundle
 * holds and more): made and restricted when missing; an existing one must be a real, empty folder
 * that only administrators (or this account) can change, and is left as it is (collect never mixes
 * its files with someone else's, never writes where another user could put a link, never deletes). */
static int prepare(const char *out, char *err, size_t errlen) {
  enum cg_path_kind k = cg_path_kind(out);
  char why[600] = "";
  if (k == CG_PATH_MISSING) {
    if (cg_mkdirs(out) != CG_OK || !cg_path_is_plain_dir(out)) {
      cg_snprintf(err, errlen, "--out %s cannot be created", out);
      return CG_ERR_IO;
    }
    if (cg_dir_secure(out, why, sizeof(why)) == CG_OK) return CG_OK;
    cg_snprintf(err, errlen, "--out %s was created but cannot be restricted to administrators: %s", out, why);
    return CG_ERR_ACCESS;
  }
  char **f = NULL, **d = NULL;
  size_t nf = 0, nd = 0;
  int rc = k == CG_PATH_DIR && cg_path_is_plain_dir(out) ? cg_dir_list_split(out, &f, &nf, &d, &nd) : CG_ERR_USAGE;
  cg_dir_list_free(f, nf);
  cg_dir_list_free(d, nd);
  if (rc == CG_OK && (nf || nd)) rc = CG_ERR_USAGE;
  if (rc == CG_OK && cg_dir_ensure_private(out, why, sizeof(why)) == CG_OK) return CG_OK;
  cg_snprintf(err, errlen, "--out %s %s; give a new folder (collect never writes into or over another one)", out,
              rc != CG_OK && k == CG_PATH_DIR && cg_path_is_plain_dir(out) ? "is a folder that is not empty"
              : rc != CG_OK                                                ? "exists and is not a plain folder"
                                                                           : why);
  return CG_ERR_USAGE;
}

/* The manifest's entry of one live result. */
static cJSON *entry_of(const struct cg_check_plugin *p, const struct cg_result *r, cJSON *files) {
  cJSON *e = cJSON_CreateObject();
  if (!e) return NULL;
  cJSON_AddStringToObject(e, "status", cg_verdict_name(r->status));
  cJSON_AddStringToObject(e, "code", r->code ? r->code : "");
  const char *why = !p || !p->source ? "reads the network or the agent itself, not files of the device: kept as the "
                                       "device gave it"
                    : !files         ? "wrote no capture on this device (nothing to read here, or this platform cannot "
                                       "write its reading down): kept as the device gave it"
                                     : NULL;
  cJSON_AddStringToObject(e, "judged_from", why ? "recorded" : "capture");
  if (why) cJSON_AddStringToObject(e, "why", why);
  if (files) cJSON_AddItemToObject(e, "files", files);
  cJSON *res = cg_result_to_json(r);
  if (res) cJSON_AddItemToObject(e, "result", res);
  return e;
}

/* Judges the snapshot as `--input` will and keeps a check on its files only where they give what
 * the device gave. Returns how many checks moved to "recorded". */
static int verify(const struct cg_env *env, const char *out, cJSON *m, int64_t deadline_ms, char *err, size_t errlen) {
  cJSON *checks = cJSON_GetObjectItemCaseSensitive(m, "checks");
  cJSON *disc = cJSON_CreateObject();
  struct cg_env e = {
      .config = env->config, .log = env->log, .discovery = disc, .trigger = env->trigger, .snapshot = out};
  struct cg_result *rs = NULL;
  size_t n = 0;
  int moved = 0;
  if (cg_run_checks(&e, NULL, deadline_ms, NULL, &rs, &n, err, errlen) != CG_OK) moved = -1;
  for (size_t i = 0; moved >= 0 && i < n; i++) {
    cJSON *c = cJSON_GetObjectItemCaseSensitive(checks, rs[i].check);
    if (!c || strcmp(str(c, "judged_from") ? str(c, "judged_from") : "", "capture")) continue;
    const char *code = str(c, "code"), *status = str(c, "status");
    if (code && status && !strcmp(code, rs[i].code) && !strcmp(status, cg_verdict_name(rs[i].status))) continue;
    char why[400];
    cg_snprintf(why, sizeof(why),
                "its capture gave %s %s where the device gave %s %s, so the capture misses something the device "
                "showed: kept as the device gave it, with the capture beside it",
                cg_verdict_name(rs[i].status), rs[i].code, status ? status : "?", code ? code : "?");
    cJSON_ReplaceItemInObjectCaseSensitive(c, "judged_from", cJSON_CreateString("recorded"));
    cJSON_DeleteItemFromObjectCaseSensitive(c, "why");
    cJSON_AddStringToObject(c, "why", why);
    cg_log_info(env->log, "collect", "%s: %s", rs[i].check, why);
    moved++;
  }
  cg_results_free(rs, n);
  cJSON_Delete(disc);
  (void)out;
  return moved;
}

static cJSON *manifest_head(const struct cg_env *env, const char *only, int64_t taken) {
  cJSON *m = cJSON_CreateObject();
  char when[40], *host = cg_hostname(), *os = cg_os_description();
  cg_time_rfc3339(taken, when, sizeof(when));
  cJSON_AddStringToObject(m, "schema", CG_SNAPSHOT_SCHEMA);
  cJSON_AddStringToObject(m, "taken_at", when);
  cJSON_AddStringToObject(m, "host", host ? host : "");
  cJSON_AddStringToObject(m, "platform", cg_platform_name());
  cJSON_AddStringToObject(m, "os", os ? os : "");
  cJSON *agent = cJSON_AddObjectToObject(m, "agent");
  cJSON_AddStringToObject(agent, "version", CMGDIAG_VERSION);
  cJSON_AddStringToObject(agent, "ran_as", cg_running_as_system() ? "SYSTEM or root" : "this account");
  if (env->config && env->config->path) cJSON_AddStringToObject(agent, "config", env->config->path);
  if (only) cJSON_AddStringToObject(m, "only", only);
  cJSON_AddObjectToObject(m, "checks");
  /* every check's settings as the device had them: the snapshot is judged with them anywhere */
  cJSON *settings = cJSON_AddObjectToObject(m, "settings");
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); settings && *p; p++) {
    const cJSON *sec = cg_config_check(env->config, (*p)->name);
    if (sec) cJSON_AddItemToObject(settings, (*p)->name, cJSON_Duplicate(sec, true));
  }
  cg_free(host);
  cg_free(os);
  return m;
}

int cg_snapshot_collect(const struct cg_env *env, const char *only, int64_t deadline_ms, const char *out,
                        cJSON **manifest, char *err, size_t errlen) {
  *manifest = NULL;
  int rc = prepare(out, err, errlen);
  if (rc != CG_OK) return rc;
  int64_t taken = cg_time_utc_ms();
  struct cg_env e = *env;
  e.capture_put = put;
  e.collect_dir = out;
  struct cg_result *rs = NULL;
  size_t n = 0;
  if ((rc = cg_run_checks(&e, only, deadline_ms, NULL, &rs, &n, err, errlen)) != CG_OK) return rc;
  cJSON *m = manifest_head(env, only, taken);
  cJSON *checks = cJSON_GetObjectItemCaseSensitive(m, "checks");
  char when[40];
  cg_time_rfc3339(taken, when, sizeof(when));
  rc = checks ? write_text(out, "captured-at.txt", when, err, errlen) : CG_ERR_NOMEM;
  for (size_t i = 0; rc == CG_OK && i < n; i++) {
    const struct cg_check_plugin *p = cg_registry_find_check(rs[i].check);
    cJSON *files = p && p->source ? files_of(out, rs[i].check) : NULL;
    if (files) {
      char *dir = cg_snapshot_check_dir(out, rs[i].check);
      rc = dir ? write_text(dir, "captured-at.txt", when, err, errlen) : CG_ERR_NOMEM;
      cg_free(dir);
    }
    cJSON *en = entry_of(p, &rs[i], files);
    if (!en) rc = CG_ERR_NOMEM;
    cJSON_AddItemToObject(checks, rs[i].check, en);
  }
  cg_results_free(rs, n);
  if (rc == CG_OK) rc = write_manifest(out, m, err, errlen);
  /* a check moved to "recorded" may have handed over to another: judge again until nothing moves */
  for (int round = 0, moved = 1; rc == CG_OK && moved > 0 && round < 4; round++) {
    moved = verify(env, out, m, deadline_ms, err, errlen);
    if (moved < 0) rc = CG_ERR_IO;
    if (moved > 0) rc = write_manifest(out, m, err, errlen);
  }
  if (rc != CG_OK) {
    cJSON_Delete(m);
    return rc;
  }
  *manifest = m;
  return CG_OK;
}
