/* The `agent` check: the agent's own health. Present in every bundle, so a silent fleet member
 * can be told apart from a broken agent: config found and valid, spool and log folders writable,
 * free disk on the spool volume. */
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "sas.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "plugin.h"

struct agent_ctx {
  int64_t min_free_mb;
};

static const struct cg_config_map agent_map[] = {
    {CG_CFG_INT, "min_free_mb", "200", "Warn when the spool volume has less free space (MB)",
     offsetof(struct agent_ctx, min_free_mb), 0, 1048576, NULL, NULL},
    CG_CFG_END,
};

/* Creates the folder if needed, checks it is the agent's own (no link, nobody else may write it)
 * and proves it writable; adds facts `<prefix>_writable`. */
static bool folder_ok(cJSON *facts, const char *key, const char *dir, char *why, size_t whylen) {
  int rc = cg_dir_ensure_private(dir, why, whylen);
  if (rc == CG_OK) rc = cg_dir_writable(dir, why, whylen);
  cJSON_AddBoolToObject(facts, key, rc == CG_OK);
  return rc == CG_OK;
}

/* What the agent is and where it runs. */
static void identity_facts(cJSON *f) {
  char *hostname = cg_hostname(), *os = cg_os_description();
  cJSON_AddStringToObject(f, "version", CMGDIAG_VERSION);
  cJSON_AddStringToObject(f, "platform", cg_platform_name());
  cJSON_AddStringToObject(f, "os", os ? os : "unknown");
  cJSON_AddStringToObject(f, "hostname", hostname ? hostname : "unknown");
  cJSON_AddItemToObject(f, "plugins", cg_registry_plugins_json());
  cg_free(hostname);
  cg_free(os);
}

/* A size as a person says it: MB under a thousand, GB with one decimal above */
static const char *size_words(uint64_t mb, char *out, size_t len) {
  if (mb < 1000)
    cg_snprintf(out, len, "%llu MB", (unsigned long long)mb);
  else
    cg_snprintf(out, len, "%.1f GB", (double)mb / 1024.0);
  return out;
}

/* Whether what the network sends is parsed without privilege (docs/security.md). */
static void privsep_facts(cJSON *f, const struct cg_env *env) {
  cJSON *ps = cJSON_AddObjectToObject(f, "privilege_separation");
  cJSON_AddBoolToObject(ps, "active", env->worker_account != NULL);
  if (env->worker_account) cJSON_AddStringToObject(ps, "account", env->worker_account);
  if (env->worker_off) cJSON_AddStringToObject(ps, "why_not", env->worker_off);
}

static int agent_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct agent_ctx *ctx = vctx;
  const struct cg_config *cfg = env->config;
  cJSON *f = res->facts;
  char spool_why[512] = "", log_why[512] = "", size[32];
  char *log_dir = cg_path_dirname(cfg->log.file);
  uint64_t free_b = 0, total_b = 0;
  int rc = CG_OK;
  identity_facts(f);
  privsep_facts(f, env);
  cJSON_AddStringToObject(f, "config_path", cfg->path);
  cJSON_AddBoolToObject(f, "config_found", cfg->file_found);
  /* A config that failed validation stops the agent before any check runs. */
  cJSON_AddBoolToObject(f, "config_valid", true);
  cJSON_AddNumberToObject(f, "outputs_configured",
                          cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cfg->root, "outputs")));
  cJSON_AddStringToObject(f, "spool_dir", cfg->spool.dir);
  bool spool_ok = folder_ok(f, "spool_writable", cfg->spool.dir, spool_why, sizeof(spool_why));
  cJSON_AddStringToObject(f, "log_file", cfg->log.file);
  bool log_ok = log_dir && folder_ok(f, "log_writable", log_dir, log_why, sizeof(log_why));
  bool disk_known = cg_disk_space(cfg->spool.dir, &free_b, &total_b) == CG_OK;
  if (disk_known) {
    cJSON_AddNumberToObject(f, "disk_free_bytes", (double)free_b);
    cJSON_AddNumberToObject(f, "disk_total_bytes", (double)total_b);
  } else {
    cJSON_AddNullToObject(f, "disk_free_bytes");
    cJSON_AddNullToObject(f, "disk_total_bytes");
  }
  uint64_t free_mb = free_b / (1024 * 1024);

  cJSON_AddBoolToObject(f, "config_admin_only", !cfg->insecure);
  /* the collection point's SAS: when it lapses every device goes dark at once */
  int64_t sas_exp = cg_sas_soonest_expiry(cJSON_GetObjectItemCaseSensitive(cfg->root, "outputs"));
  int64_t sas_days = sas_exp ? (sas_exp - cg_time_utc_ms()) / 86400000 - (sas_exp < cg_time_utc_ms()) : 0;
  char sas_at[40] = "";
  if (sas_exp) {
    cg_time_rfc3339(sas_exp, sas_at, sizeof(sas_at));
    cJSON_AddStringToObject(f, "sas_expires_at", sas_at);
    cJSON_AddNumberToObject(f, "sas_days_left", (double)sas_days);
  }
  /* the supervisor's note of a worker that crashed or hung (`run`): this bundle carries it */
  char *crash_path = cg_path_join(cfg->state_dir, "worker-crash.json"), *crash_text = NULL;
  size_t crash_len = 0;
  cJSON *crash = NULL;
  if (crash_path && cg_file_read(crash_path, 4096, &crash_text, &crash_len) == CG_OK)
    crash = cJSON_ParseWithLength(crash_text, crash_len);
  const char *how = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(crash, "how"));
  const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(crash, "status"));
  const char *when = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(crash, "time"));
  if (how && status) cJSON_AddItemToObject(f, "last_worker", cJSON_Duplicate(crash, true));
  char files[900];
  size_t nfiles = cg_config_files_not_admin_only(cfg, files, sizeof(files));
  if (nfiles) cJSON_AddStringToObject(f, "files_not_admin_only", files);
  if (how && status && !cfg->insecure && !nfiles)
    rc = cg_result_set(res, CG_WARN, "AGENT_WORKER_CRASHED",
                       "Send the agent log (it names the cycle) to the cmgdiag maintainers; the agent itself kept "
                       "running and this cycle is complete.",
                       "The previous cycle's worker process %s (%s) at %s, so its bundle was not made.",
                       !strcmp(how, "hung") ? "hung and was killed at cycle_timeout_s" : "crashed", status,
                       when ? when : "an unknown time");
  else if (cfg->insecure)
    rc = cg_result_set(res, CG_FAIL, "AGENT_CONFIG_INSECURE",
                       "Run 'cmgdiag setup' as an administrator (it restricts the folder and sets aside a file "
                       "it did not write), or restrict the file and every folder above it to SYSTEM/root and "
                       "Administrators.",
                       "Users other than administrators can change the configuration %s (%s), so the agent "
                       "runs no command and reads no secret or trust file it names.",
                       cfg->path, cfg->insecure_why);
  else if (nfiles)
    rc = cg_result_set(res, CG_FAIL, "AGENT_FILE_INSECURE",
                       "Restrict each file and every folder above it to SYSTEM/root and Administrators (or point "
                       "the setting at a file in the agent's own configuration folder).",
                       "Users other than administrators can change files the configuration names (an output does "
                       "not read them, dsregcmd_path is not run): %s.",
                       files);
  else if (!spool_ok)
    rc = cg_result_set(res, CG_FAIL, "AGENT_SPOOL_NOT_WRITABLE",
                       "Check the folder's permissions (SYSTEM needs Modify, and only SYSTEM and Administrators "
                       "may change it; run 'cmgdiag setup' to restore them) or set spool.dir in cmgdiag.json to a "
                       "writable local folder.",
                       "The agent cannot write its spool folder, so status bundles cannot be kept while offline (%s).",
                       spool_why);
  else if (sas_exp && sas_days < 0)
    rc = cg_result_set(res, CG_FAIL, "AGENT_SAS_EXPIRED",
                       "Deploy a new SAS URL for the collection point (docs/shipping.md, \"Rotating the SAS\"): the "
                       "bundles wait in the spool until then.",
                       "The collection point's SAS expired on %.10s, so this device's bundles are refused and it "
                       "goes dark in the fleet report.",
                       sas_at);
  else if (sas_exp && sas_days < 30)
    rc = cg_result_set(res, CG_WARN, "AGENT_SAS_EXPIRING",
                       "Deploy a new SAS URL before then (docs/shipping.md, \"Rotating the SAS\"): Group Policy, "
                       "Intune or an MSI repair.",
                       "The collection point's SAS expires on %.10s, in %lld day(s); after that this device's "
                       "bundles are refused.",
                       sas_at, (long long)sas_days);
  else if (disk_known && (int64_t)free_mb < ctx->min_free_mb)
    rc = cg_result_set(res, CG_WARN, "AGENT_LOW_DISK",
                       "Free space on that volume; the agent keeps working but drops old bundles first.",
                       "Only %s are free on the volume of the spool folder %s.",
                       size_words(free_mb, size, sizeof(size)), cfg->spool.dir);
  else if (!log_ok)
    rc = cg_result_set(res, CG_WARN, "AGENT_LOG_NOT_WRITABLE",
                       "Check the folder's permissions or set log.file in cmgdiag.json.",
                       "The agent cannot write its own log, so its history will be missing (%s).", log_why);
  else if (!cfg->file_found)
    rc = cg_result_set(res, CG_WARN, "AGENT_NO_CONFIG",
                       "Deploy cmgdiag.json (or set the policy) with the CMG URL and a collection point.",
                       "Agent %s runs on built-in defaults: there is no configuration file at %s.", CMGDIAG_VERSION,
                       cfg->path);
  else
    rc = cg_result_set(res, CG_PASS, "AGENT_OK", NULL,
                       "Agent %s is healthy: configuration valid, spool and log folders writable, %s free.",
                       CMGDIAG_VERSION, size_words(free_mb, size, sizeof(size)));
  cg_free(log_dir);
  cg_free(crash_path);
  cg_free(crash_text);
  cJSON_Delete(crash);
  return rc;
}

const struct cg_check_plugin cg_check_agent = {
    .name = "agent",
    .description = "the agent's own health: configuration, spool and log folders, free disk",
    .platforms = CG_PLATFORM_ANY,
    .config_map = agent_map,
    .ctx_size = sizeof(struct agent_ctx),
    .run = agent_run,
};
