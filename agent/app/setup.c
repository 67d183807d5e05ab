/* `cmgdiag setup`: what the MSI (and an admin by hand) runs after copying the binary: the data
 * folder restricted to SYSTEM and Administrators, a configuration file (kept when it exists, with
 * the collection point and CMG URL given merged in), the service's delayed start and recovery
 * actions; `setup --purge` removes the configuration, spool, logs and state (MSI PURGE=1). */
#include "setup.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "meaning.h"
#include "policy.h"
#include "platform/fs.h"
#include "platform/service.h"
#include "platform/sys.h"
#include "redact.h"
#include "runner.h"
#include "spool.h"

/* Removes from `dir` only the plain files `mine` recognises, then the folder if it is then empty. */
static void remove_own(const char *dir, bool (*mine)(const char *dir, const char *name)) {
  char **names = NULL;
  size_t n = 0;
  if (!dir || !cg_path_is_plain_dir(dir)) return;
  if (cg_dir_list(dir, &names, &n) == CG_OK)
    for (size_t i = 0; i < n; i++) {
      char *p = mine(dir, names[i]) ? cg_path_join(dir, names[i]) : NULL;
      if (p && cg_path_is_plain_file(p)) cg_file_remove(p);
      cg_free(p);
    }
  cg_dir_list_free(names, n);
  cg_dir_remove(dir); /* fails, as it should, when something else is in it */
}

/* The state folder holds the instance lock, the checks' "*-state.json" and interrupted writes. */
static bool state_file(const char *dir, const char *name) {
  (void)dir;
  return !strcmp(name, "cmgdiag.lock") || cg_str_endswith_ci(name, "-state.json") || strstr(name, ".tmp.") != NULL;
}

static const char *purge_log_name; /* the log file's own name, for log_file() */

/* The agent's log and its one history file (X.lo_), and only when they read as the agent's CMTrace
 * log: a log.file pointed at a system log must not take that log with it. */
static bool log_file(const char *dir, const char *name) {
  size_t n = strlen(purge_log_name);
  bool named = !strcmp(name, purge_log_name) ||
               (n >= 4 && strlen(name) == n && !strncmp(name, purge_log_name, n - 1) && name[n - 1] == '_') ||
               (strlen(name) == n + 4 && !strncmp(name, purge_log_name, n) && !strcmp(name + n, ".lo_"));
  if (!named) return false;
  char *p = cg_path_join(dir, name), *head = NULL;
  size_t len = 0;
  bool ours = p && cg_file_read_range(p, 0, 7, &head, &len) == CG_OK && (len == 0 || !memcmp(head, "<![LOG[", 7));
  cg_free(head);
  cg_free(p);
  return ours;
}

static const char *purge_config_name;

static bool config_file(const char *dir, const char *name) {
  (void)dir;
  size_t n = strlen(purge_config_name);
  return (!cg_strcasecmp(name, "cmgdiag.json") && !cg_strcasecmp(name, purge_config_name)) ||
         (!strncmp(name, purge_config_name, n) && !strncmp(name + n, ".tmp.", 5));
}

static const char *base_name(const char *path) {
  const char *a = strrchr(path, '/'), *b = strrchr(path, '\\');
  const char *s = a > b ? a : b;
  return s ? s + 1 : path;
}

/* Removes what the agent created, by name and pattern, never a folder's other content: purge runs
 * as SYSTEM from the MSI, and a configuration can point log.file or spool.dir anywhere. */
static int purge(const char *config_path) {
  struct cg_config cfg;
  char err[1024] = "";
  memset(&cfg, 0, sizeof(cfg));
  bool ok = cg_config_load(&cfg, config_path, NULL, err, sizeof(err)) == CG_OK;
  if (ok) {
    char *logdir = cg_path_dirname(cfg.log.file);
    cg_spool_purge(cfg.spool.dir);
    remove_own(cfg.state_dir, state_file);
    purge_log_name = base_name(cfg.log.file);
    remove_own(logdir, log_file);
    cg_free(logdir);
  }
  char *path = config_path ? cg_strdup(config_path) : cg_default_config_path();
  char *dir = path ? cg_path_dirname(path) : NULL;
  if (path && dir) {
    purge_config_name = base_name(path);
    remove_own(dir, config_file);
  }
  printf("Removed what cmgdiag wrote: its configuration, spool, logs and state%s; folders that still hold "
         "other files were left as they are.\n",
         ok ? "" : " (the configuration was not readable: default folders only)");
  cg_free(dir);
  cg_free(path);
  cg_config_free(&cfg);
  return 0;
}

/* The SAS URL from a file or standard input ("-"): never from the command line, where the process
 * list and the install logs of ConfigMgr and Intune would keep it. Caller frees. */
char *cg_read_sas_file(const char *file, char *err, size_t errlen) {
  struct cg_buf b;
  char *text = NULL;
  size_t len = 0;
  int rc;
  if (!strcmp(file, "-")) {
    char chunk[4096];
    size_t n;
    cg_buf_init(&b, 65536);
    rc = CG_OK;
    while (rc == CG_OK && (n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
      rc = cg_buf_append(&b, chunk, n);
    text = rc == CG_OK ? cg_buf_take(&b, &len) : NULL;
    cg_buf_free(&b);
  } else {
    rc = cg_file_read(file, 65536, &text, &len);
  }
  if (rc != CG_OK || !text) {
    cg_snprintf(err, errlen, "cannot read the SAS URL from %s: %s", !strcmp(file, "-") ? "standard input" : file,
                cg_strerror(rc == CG_OK ? CG_ERR_NOMEM : rc));
    cg_free(text);
    return NULL;
  }
  if (len >= 2 && (unsigned char)text[0] == 0xFF && (unsigned char)text[1] == 0xFE) {
    /* a UTF-16 file (Notepad's "Unicode", Windows PowerShell 5.1's Out-File): a SAS is ASCII */
    size_t k = 0;
    for (size_t i = 2; i + 1 < len; i += 2)
      if (!text[i + 1]) text[k++] = text[i];
    memset(text + k, 0, len - k);
    len = k;
  }
  char *t = cg_str_trim(text + (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0));
  char *out = *t ? cg_strdup(t) : NULL;
  if (!*t) cg_snprintf(err, errlen, "%s holds no SAS URL", !strcmp(file, "-") ? "standard input" : file);
  memset(text, 0, len);
  cg_free(text);
  return out;
}

/* A configuration file that someone other than administrators could have written is set aside,
 * not kept: its commands would run as SYSTEM. Returns false when it could not be moved. */
static bool set_aside_untrusted(const char *path, const char *why) {
  char stamp[32];
  cg_time_rfc3339(cg_time_utc_ms(), stamp, sizeof(stamp));
  for (char *p = stamp; *p; p++)
    if (*p == ':' || *p == '.') *p = '-';
  char *to = cg_asprintf("%s.untrusted-%s", path, stamp);
  bool ok = to && cg_file_rename(path, to) == CG_OK;
  if (ok)
    fprintf(stderr, "cmgdiag: %s was not written by an administrator (%s); it was set aside as %s\n", path, why, to);
  else
    fprintf(stderr, "cmgdiag: %s was not written by an administrator (%s) and cannot be set aside\n", path, why);
  cg_free(to);
  return ok;
}

int cg_cmd_setup(const struct cg_setup_opts *o) {
  if (o->purge) return purge(o->config_path);
  char *path = o->config_path ? cg_strdup(o->config_path) : cg_default_config_path();
  char *dir = path ? cg_path_dirname(path) : NULL;
  char err[1024] = "", msg[512] = "", why[512] = "";
  char *text = NULL, *sas_url = NULL;
  const char *cmg_url = o->cmg_url;
  size_t len = 0;
  cJSON *root = NULL;
  int ec = 3;
  if (o->sas_url_file) {
    if (!(sas_url = cg_read_sas_file(o->sas_url_file, err, sizeof(err)))) {
      fprintf(stderr, "cmgdiag: %s\n", err);
      goto out;
    }
  } else if (o->sas_url_arg) {
    fprintf(stderr, "cmgdiag: warning: --sas-url puts the SAS in the process list and in install logs; use "
                    "--sas-url-file FILE or --sas-url-file - (standard input)\n");
    sas_url = cg_strdup(o->sas_url_arg);
  }
  /* Judged before the folder is secured: whoever could write the folder until now could have
   * written the file. */
  bool present = path && cg_file_exists(path);
  bool trusted = present && cg_path_is_plain_file(path) && cg_path_admin_only(path, why, sizeof(why)) == CG_OK;
  if (!present)
    why[0] = '\0';
  else if (!trusted && !why[0])
    cg_strlcpy(why, "it is not a plain file", sizeof(why));
  if (!dir || cg_mkdirs(dir) != CG_OK) {
    fprintf(stderr, "cmgdiag: cannot create %s\n", dir ? dir : "the configuration folder");
    goto out;
  }
  if (cg_dir_secure(dir, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    goto out;
  }
  if (present && !trusted && !set_aside_untrusted(path, why)) goto out;
  bool existed = trusted && cg_file_read(path, 4 << 20, &text, &len) == CG_OK;
  if (existed) {
    root = cJSON_Parse(text);
    if (!cJSON_IsObject(root)) {
      fprintf(stderr, "cmgdiag: %s exists but is not a JSON object; it was left as it is\n", path);
      goto out;
    }
  } else {
    root = cJSON_Parse("{\"interval_s\": 3600, \"jitter_s\": 600, \"outputs\": []}");
  }
  /* the same meaning as the policy values of these names (the plugins declare where they go) */
  if (sas_url && *sas_url) cg_policy_set(root, "SasUrl", sas_url);
  if (cmg_url && *cmg_url) cg_policy_set(root, "CmgUrl", cmg_url);
  if (cmg_url && *cmg_url && !cg_cmg_url_has_mp_id(cmg_url)) {
    char w[700];
    cg_cmg_url_warning(cmg_url, w, sizeof(w));
    fprintf(stderr, "cmgdiag: warning: %s.\n", w);
  }
  char *out = cJSON_Print(root);
  /* what will be written must load: check it before replacing anything */
  struct cg_config check;
  memset(&check, 0, sizeof(check));
  int rc = out ? cg_config_load_text(&check, out, strlen(out), path, NULL, err, sizeof(err)) : CG_ERR_NOMEM;
  if (rc == CG_OK) rc = cg_runner_try_settings(&check, err, sizeof(err)); /* what the checks would refuse */
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
  const char *acl = cg_platform_private_folder_words();
  printf("%s %s (%s)%s%s\n", existed ? "Updated" : "Wrote", path, acl,
         sas_url && *sas_url ? "; collection point: Azure Blob " : "",
         sas_url && *sas_url ? "(SAS URL, redacted)" : "");
  if (cg_service_configure(msg, sizeof(msg)) == CG_OK) printf("%s\n", msg);
  ec = 0;
out:
  cJSON_Delete(root);
  cg_free(text);
  if (sas_url) memset(sas_url, 0, strlen(sas_url));
  cg_free(sas_url);
  cg_free(dir);
  cg_free(path);
  return ec;
}
