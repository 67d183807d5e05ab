/* `cmgdiag setup`: what the MSI (and an admin by hand) runs after copying the binary: the data
 * folder restricted to SYSTEM and Administrators, a configuration file (kept when it exists, with
 * the collection point and CMG URL given merged in), the service's delayed start and recovery
 * actions; `setup --purge` removes the configuration, spool, logs and state (MSI PURGE=1). */
#include "setup.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "platform/fs.h"
#include "platform/service.h"
#include "redact.h"

static void set_str(cJSON *obj, const char *key, const char *val) {
  cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
  cJSON_AddStringToObject(obj, key, val);
}

static cJSON *child(cJSON *o, const char *key) {
  cJSON *c = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!cJSON_IsObject(c)) {
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    c = cJSON_AddObjectToObject(o, key);
  }
  return c;
}

/* Removes the files of one folder (not below) and the folder when it is then empty. */
static void remove_folder(const char *dir, int depth) {
  char **names = NULL;
  size_t n = 0;
  if (!dir || cg_dir_list(dir, &names, &n) != CG_OK) return;
  for (size_t i = 0; i < n; i++) {
    char *p = cg_path_join(dir, names[i]);
    if (p && cg_file_remove(p) != CG_OK && depth < 2) remove_folder(p, depth + 1); /* quarantine/ */
    cg_free(p);
  }
  cg_dir_list_free(names, n);
  cg_dir_remove(dir);
}

static int purge(const char *config_path) {
  struct cg_config cfg;
  char err[1024] = "";
  memset(&cfg, 0, sizeof(cfg));
  bool ok = cg_config_load(&cfg, config_path, NULL, err, sizeof(err)) == CG_OK;
  if (ok) {
    char *logdir = cg_path_dirname(cfg.log.file);
    remove_folder(cfg.spool.dir, 0);
    remove_folder(cfg.state_dir, 0);
    remove_folder(logdir, 0);
    cg_free(logdir);
  }
  char *path = config_path ? cg_strdup(config_path) : cg_default_config_path();
  char *dir = path ? cg_path_dirname(path) : NULL;
  if (path) cg_file_remove(path);
  remove_folder(dir, 0);
  printf("Removed the configuration, spool, logs and state of cmgdiag%s.\n", ok ? "" : " (the configuration "
                                                                                     "was not readable: default "
                                                                                     "folders only)");
  cg_free(dir);
  cg_free(path);
  cg_config_free(&cfg);
  return 0;
}

int cg_cmd_setup(const char *config_path, const char *sas_url, const char *cmg_url, bool do_purge) {
  if (do_purge) return purge(config_path);
  char *path = config_path ? cg_strdup(config_path) : cg_default_config_path();
  char *dir = path ? cg_path_dirname(path) : NULL;
  char err[1024] = "", msg[512] = "";
  char *text = NULL;
  size_t len = 0;
  cJSON *root = NULL;
  int ec = 3;
  if (!dir || cg_mkdirs(dir) != CG_OK) {
    fprintf(stderr, "cmgdiag: cannot create %s\n", dir ? dir : "the configuration folder");
    goto out;
  }
  if (cg_dir_secure(dir, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    goto out;
  }
  bool existed = cg_file_read(path, 4 << 20, &text, &len) == CG_OK;
  if (existed) {
    root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
      fprintf(stderr, "cmgdiag: %s exists but is not a JSON object; it was left as it is\n", path);
      goto out;
    }
  } else {
    root = cJSON_Parse("{\"interval_s\": 3600, \"jitter_s\": 600, \"outputs\": []}");
  }
  if (sas_url && *sas_url) {
    cJSON *outs = cJSON_CreateArray(), *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "azblob");
    cJSON_AddStringToObject(o, "sas_url", sas_url);
    cJSON_AddItemToArray(outs, o);
    cJSON_DeleteItemFromObjectCaseSensitive(root, "outputs");
    cJSON_AddItemToObject(root, "outputs", outs);
  }
  if (cmg_url && *cmg_url) set_str(child(child(root, "checks"), "cmgprobe"), "url", cmg_url);
  char *out = cJSON_Print(root);
  /* what will be written must load: check it before replacing anything */
  struct cg_config check;
  memset(&check, 0, sizeof(check));
  int rc = out ? cg_config_load_text(&check, out, strlen(out), path, NULL, err, sizeof(err)) : CG_ERR_NOMEM;
  cg_config_free(&check);
  if (rc != CG_OK) {
    fprintf(stderr, "cmgdiag: configuration error: %s\n", err);
    cJSON_free(out);
    goto out;
  }
  if (cg_file_write_atomic(path, out, strlen(out), err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: cannot write %s: %s\n", path, err);
    cJSON_free(out);
    goto out;
  }
  cJSON_free(out);
#ifdef _WIN32
  const char *acl = "folder restricted to SYSTEM and Administrators";
#else
  const char *acl = "folder restricted to its owner, mode 0700";
#endif
  printf("%s %s (%s)%s%s\n", existed ? "Updated" : "Wrote", path, acl,
         sas_url && *sas_url ? "; collection point: azblob " : "",
         sas_url && *sas_url ? "(SAS URL, redacted)" : "");
  if (cg_service_configure(msg, sizeof(msg)) == CG_OK) printf("%s\n", msg);
  ec = 0;
out:
  cJSON_Delete(root);
  cg_free(text);
  cg_free(dir);
  cg_free(path);
  return ec;
}
