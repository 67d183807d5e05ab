/* The `device` check: the state that decides whether an in-place upgrade can start on this device
 * now (docs/checks/device.md): free space on the system volume, the ConfigMgr client cache against
 * the upgrade's size, power, a metered network, a pending reboot from every usual source, the SMS
 * Agent Host running, the client not in provisioning mode, its version, and how long ago it last
 * asked for policy. Live: Windows APIs, the registry and WMI (Linux: the disk and power from sysfs,
 * the rest not applicable); `input`: a folder of captures (device.json and reg export files). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "discovery.h"
#include "findings.h"
#include "platform/device.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "platform/wmi.h"
#include "plugin.h"
#include "regfile.h"
#include "text.h"

#define INPUT_MAX (4 * 1024 * 1024)
#define K_CBS "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"
#define K_WU "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"
#define K_SESSION "SYSTEM\\CurrentControlSet\\Control\\Session Manager"
#define K_CCM_REBOOT "SOFTWARE\\Microsoft\\SMS\\Mobile Client\\Reboot Management\\RebootData"
#define K_CCMEXEC "SOFTWARE\\Microsoft\\CCM\\CcmExec"
#define K_MOBILE "SOFTWARE\\Microsoft\\SMS\\Mobile Client"
/* The Machine Policy Retrieval & Evaluation Cycle's schedule (community-documented id). */
#define POLICY_SCHEDULE "{00000000-0000-0000-0000-000000000021}"

struct device_ctx {
  char *evaluate_at, *ts_package_id;
  int64_t min_free_gb, min_battery_percent, upgrade_size_mb, policy_max_age_h;
  cJSON *cap_dev, *cap_reg; /* what the capture held (parse_capture); run takes them over */
};

static const struct cg_config_map device_map[] = {
    {CG_CFG_INT, "min_free_gb", "20",
     "Free space the system volume needs (GB); Microsoft asks 20 GB for a 64-bit in-place upgrade",
     offsetof(struct device_ctx, min_free_gb), 0, 10000, NULL, NULL},
    {CG_CFG_INT, "min_battery_percent", "50", "On battery, the charge below which an upgrade must not start",
     offsetof(struct device_ctx, min_battery_percent), 0, 100, NULL, NULL},
    {CG_CFG_INT, "upgrade_size_mb", "4096", "Size of the upgrade content, for the client cache (MB)",
     offsetof(struct device_ctx, upgrade_size_mb), 1, 1048576, NULL, NULL},
    {CG_CFG_INT, "policy_max_age_h", "168", "Warn when the client last asked for policy longer ago (hours)",
     offsetof(struct device_ctx, policy_max_age_h), 1, 87600, NULL, NULL},
    {CG_CFG_STRING, "ts_package_id", "null",
     "The upgrade task sequence's package ID (PS100123): is its deployment in the client's policy",
     offsetof(struct device_ctx, ts_package_id), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "evaluate_at", "null", "Judge ages at this UTC time (RFC 3339) instead of now: for an old capture",
     offsetof(struct device_ctx, evaluate_at), 0, 0, NULL, NULL},
    CG_CFG_END,
};

struct state {
  bool input;
  bool collected; /* judging what device_collect read live (the capture's path, the live meaning) */
  cJSON *dev;     /* device.json (input) */
  cJSON *reg;     /* reg exports (input) */
  int64_t free_mb, cache_mb, policy_age_h;
  int on_ac, battery, metered, roaming, ccmexec, provisioning; /* 1 / 0 / -1 unknown */
  int metered_usage; /* the client setting for metered networks: 1 Allow, 2 Limit, 4 Block; -1 not known */
  int ts_in_policy;  /* the named task sequence's deployment is in the client's policy: 1 / 0 / -1 not known */
  const char *ts_id; /* checks.device.ts_package_id, borrowed */
  bool free_known, cache_known, policy_known, client;
  char client_version[64];
  cJSON *reboot_sources, *not_applicable;
  int reboot;  /* 1 / 0 / -1 */
  int renames; /* PendingFileRenameOperations alone: 1 / 0 / -1 */
  int64_t min_battery;
  int64_t policy_ms; /* the last policy request, live */
  cJSON *seen;       /* `collect`: the registry keys and values read live, regfile.h shape */
};

/* ---- the capture ------------------------------------------------------------------------------ */

/* One file of the capture folder (the core's source): device.json or a registry export. */
static int parse_capture(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err,
                         size_t errlen) {
  (void)env;
  struct device_ctx *c = vctx;
  char *text = NULL;
  size_t tl = 0;
  enum cg_text_encoding enc;
  int cp;
  int rc = cg_text_decode_capture(f->data, f->len, 1252, &text, &tl, &enc, &cp);
  const char *t = text ? text : "";
  while (*t == ' ' || *t == '\r' || *t == '\n' || *t == '\t')
    t++;
  if (rc != CG_OK) {
    /* cannot be decoded: said by the core */
  } else if (*t == '{' || *t == '[' || cg_str_endswith_ci(f->name, ".json")) {
    cJSON *j = cJSON_Parse(t);
    if (!cJSON_IsObject(j)) {
      cg_snprintf(err, errlen, "not the JSON object of the device capture");
      rc = CG_ERR_PARSE;
      cJSON_Delete(j);
    } else {
      cJSON_Delete(c->cap_dev);
      c->cap_dev = j;
    }
  } else if (cg_regfile_is_export(t)) {
    rc = cg_regfile_merge(&c->cap_reg, text);
  } else {
    cg_snprintf(err, errlen, "neither device.json nor a registry export");
    rc = CG_ERR_PARSE;
  }
  cg_free(text);
  return rc;
}

static void device_fini(void *vctx) {
  struct device_ctx *c = vctx;
  cJSON_Delete(c->cap_dev);
  cJSON_Delete(c->cap_reg);
}

static bool reg_key_exists(const struct state *s, const char *key) {
  if (!s->input) {
    char **names = NULL;
    size_t n = 0;
    char full[300];
    cg_snprintf(full, sizeof(full), "HKEY_LOCAL_MACHINE\\%s", key);
    bool ok = cg_registry_subkeys(full, &names, &n) == CG_OK;
    cg_dir_list_free(names, n);
    if (ok && s->seen) cg_regfile_keep(s->seen, key, NULL, NULL);
    return ok;
  }
  char full[300];
  cg_snprintf(full, sizeof(full), "HKEY_LOCAL_MACHINE\\%s", key);
  for (const cJSON *k = s->reg ? s->reg->child : NULL; k; k = k->next)
    if (!cg_strcasecmp(k->string, full)) return true;
  return false;
}

/* A value as text; whether it exists (regfile.h). */
static bool reg_text(const struct state *s, const char *key, const char *value, char *out, size_t outlen) {
  bool found = cg_regfile_hklm_text(s->input, s->reg, key, value, out, outlen);
  if (found && s->seen) cg_regfile_keep(s->seen, key, value, out); /* `collect`: kept as read */
  return found;
}

static int tri_of(const cJSON *v) { return cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? 1 : 0) : -1; }

/* "20261130103000.000000+000" (WMI CIM_DATETIME), an ISO date, or PowerShell's "\/Date(ms)\/" -> ms. */
static bool any_time(const char *t, int64_t *ms) {
  if (!t) return false;
  size_t n = strlen(t);
  if (n >= 14 && t[8] >= '0' && t[8] <= '9' && strspn(t, "0123456789") >= 14) {
    char iso[32];
    cg_snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", t, t + 4, t + 6, t + 8, t + 10, t + 12);
    t = iso;
    int y, mo, d, h, mi, se;
    if (sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6) return false;
    *ms = ((cg_days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + se) * 1000LL;
    return true;
  }
  if (cg_str_startswith_ci(t, "/Date(") || cg_str_startswith_ci(t, "\\/Date(")) {
    const char *p = strchr(t, '(') + 1;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9')
      v = v * 10 + (*p++ - '0');
    *ms = v;
    return true;
  }
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) >= 3 && mo >= 1 && mo <= 12 && d >= 1 &&
      d <= 31) {
    *ms = ((cg_days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + se) * 1000LL;
    return true;
  }
  return false;
}

/* ---- gathering -------------------------------------------------------------------------------- */

/* The facts a platform without the service control manager (Linux) does not have. */
static const char *const NA_FACTS[] = {"ccmcache_mb",       "metered",        "reboot_pending",   "ccmexec_running",
                                       "provisioning_mode", "client_version", "last_policy_age_h"};

static void gather_capture(struct state *s, int64_t now) {
  const cJSON *d = s->dev;
  const cJSON *v;
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(d, "SystemFreeMB"))) {
    s->free_mb = (int64_t)v->valuedouble;
    s->free_known = true;
  }
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(d, "CacheSizeMB"))) {
    s->cache_mb = (int64_t)v->valuedouble;
    s->cache_known = true;
  }
  s->on_ac = tri_of(cJSON_GetObjectItemCaseSensitive(d, "OnAC"));
  v = cJSON_GetObjectItemCaseSensitive(d, "BatteryPercent");
  s->battery = cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 100 ? (int)v->valuedouble : -1;
  s->metered = tri_of(cJSON_GetObjectItemCaseSensitive(d, "Metered"));
  s->roaming = tri_of(cJSON_GetObjectItemCaseSensitive(d, "Roaming"));
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(d, "TaskSequences");
  if (s->ts_id && cJSON_IsArray(ts)) {
    s->ts_in_policy = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, ts) {
      const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "PKG_PackageID"));
      if (id && !cg_strcasecmp(id, s->ts_id)) s->ts_in_policy = 1;
    }
  }
  v = cJSON_GetObjectItemCaseSensitive(d, "MeteredNetworkUsage");
  s->metered_usage = cJSON_IsNumber(v) && (v->valuedouble == 1 || v->valuedouble == 2 || v->valuedouble == 4)
                         ? (int)v->valuedouble
                         : -1;
  s->ccmexec = tri_of(cJSON_GetObjectItemCaseSensitive(d, "CcmExecRunning"));
  /* what this platform does not have (device_collect off Windows): the facts of NA_FACTS only */
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "NotApplicable")) {
    for (size_t i = 0; cJSON_IsString(v) && i < CG_ARRAY_LEN(NA_FACTS); i++)
      if (!strcmp(v->valuestring, NA_FACTS[i]) && cJSON_GetArraySize(s->not_applicable) < (int)CG_ARRAY_LEN(NA_FACTS))
        cJSON_AddItemToArray(s->not_applicable, cJSON_CreateString(NA_FACTS[i]));
  }
  int64_t t;
  if (any_time(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "LastPolicyRequest")), &t)) {
    s->policy_age_h = (now - t) / 3600000;
    s->policy_known = true;
  }
}

static void gather_live(struct state *s) {
  char *vol = cg_system_volume();
  uint64_t fb = 0, tb = 0;
  if (vol && cg_disk_space(vol, &fb, &tb) == CG_OK) {
    s->free_mb = (int64_t)(fb / (1024 * 1024));
    s->free_known = true;
  }
  cg_free(vol);
  cg_power_status(&s->on_ac, &s->battery);
  s->metered = cg_network_metered(&s->roaming);
  bool running = false;
  int rc = cg_service_running("CcmExec", &running);
  s->ccmexec = rc == CG_OK ? (running ? 1 : 0) : -1;
  if (rc == CG_ERR_UNSUPPORTED) {
    for (size_t i = 0; i < CG_ARRAY_LEN(NA_FACTS); i++)
      cJSON_AddItemToArray(s->not_applicable, cJSON_CreateString(NA_FACTS[i]));
    return;
  }
}

/* The client's own settings and history, from its WMI namespaces (live only). */
static void client_wmi(struct state *s, int64_t now) {
  cJSON *rows = NULL;
  struct cg_wmi_error we;
  if (cg_wmi_query("root\\ccm\\SoftMgmtAgent", "SELECT Size FROM CacheConfig", 15000, &rows, &we) == CG_OK) {
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), "Size");
    if (cJSON_IsNumber(sz)) {
      s->cache_mb = (int64_t)sz->valuedouble;
      s->cache_known = true;
    }
  }
  cJSON_Delete(rows);
  rows = NULL;
  /* the named task sequence in the client's machine policy (CCM_TaskSequence, ConfigMgr SDK; its
   * ID is letters and digits only, so nothing of it can change the query) */
  if (s->ts_id &&
      strspn(s->ts_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == strlen(s->ts_id) &&
      strlen(s->ts_id) <= 16) {
    char wql[160];
    cg_snprintf(wql, sizeof(wql), "SELECT PKG_PackageID FROM CCM_TaskSequence WHERE PKG_PackageID='%s'", s->ts_id);
    if (cg_wmi_query("root\\ccm\\Policy\\Machine\\ActualConfig", wql, 15000, &rows, &we) == CG_OK)
      s->ts_in_policy = cJSON_GetArraySize(rows) > 0;
    cJSON_Delete(rows);
    rows = NULL;
  }
  /* the client setting for metered connections, in the client's policy (ConfigMgr SDK,
   * CCM_NetworkSettings.MeteredNetworkUsage: 1 Allow, 2 Limit, 4 Block; the namespace is observed) */
  if (cg_wmi_query("root\\ccm\\Policy\\Machine\\ActualConfig", "SELECT MeteredNetworkUsage FROM CCM_NetworkSettings",
                   15000, &rows, &we) == CG_OK) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), "MeteredNetworkUsage");
    if (cJSON_IsNumber(u) && (u->valuedouble == 1 || u->valuedouble == 2 || u->valuedouble == 4))
      s->metered_usage = (int)u->valuedouble;
  }
  cJSON_Delete(rows);
  rows = NULL;
  if (cg_wmi_query("root\\ccm\\Scheduler",
                   "SELECT LastTriggerTime FROM CCM_Scheduler_History WHERE ScheduleID='" POLICY_SCHEDULE
                   "' AND UserSID='Machine'",
                   15000, &rows, &we) == CG_OK) {
    int64_t t;
    if (any_time(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), "LastTriggerTime")),
                 &t)) {
      s->policy_age_h = (now - t) / 3600000;
      s->policy_ms = t;
      s->policy_known = true;
    }
  }
  cJSON_Delete(rows);
}

static void put_tri(cJSON *d, const char *k, int v) {
  if (v >= 0) cJSON_AddBoolToObject(d, k, v == 1);
}

/* What was read live, as device.json and a registry export (device.md): for the judging half and,
 * when a snapshot is collected, for the snapshot. */
static int put_captures(const struct state *s, const struct cg_env *env) {
  cJSON *d = cJSON_CreateObject();
  if (!d) return CG_ERR_NOMEM;
  if (s->free_known) cJSON_AddNumberToObject(d, "SystemFreeMB", (double)s->free_mb);
  if (s->cache_known) cJSON_AddNumberToObject(d, "CacheSizeMB", (double)s->cache_mb);
  put_tri(d, "OnAC", s->on_ac);
  if (s->battery >= 0) cJSON_AddNumberToObject(d, "BatteryPercent", s->battery);
  put_tri(d, "Metered", s->metered);
  put_tri(d, "Roaming", s->roaming);
  if (s->metered_usage > 0) cJSON_AddNumberToObject(d, "MeteredNetworkUsage", s->metered_usage);
  put_tri(d, "CcmExecRunning", s->ccmexec);
  if (s->policy_known) {
    char t[40];
    cg_time_rfc3339(s->policy_ms, t, sizeof(t));
    cJSON_AddStringToObject(d, "LastPolicyRequest", t);
  }
  if (s->ts_id && s->ts_in_policy >= 0) {
    cJSON *ts = cJSON_AddArrayToObject(d, "TaskSequences"), *row = cJSON_CreateObject();
    if (s->ts_in_policy == 1 && row && cJSON_AddStringToObject(row, "PKG_PackageID", s->ts_id))
      cJSON_AddItemToArray(ts, row);
    else
      cJSON_Delete(row);
  }
  if (cJSON_GetArraySize(s->not_applicable))
    cJSON_AddItemToObject(d, "NotApplicable", cJSON_Duplicate(s->not_applicable, true));
  char *text = cJSON_Print(d);
  cJSON_Delete(d);
  int rc = text ? cg_collect_put(env, "device", "device.json", text, strlen(text)) : CG_ERR_NOMEM;
  cJSON_free(text);
  if (rc == CG_OK) rc = cg_collect_put_registry(env, "device", s->seen);
  return rc;
}

static void reboot_sources(struct state *s) {
  char buf[64];
  struct {
    const char *name;
    bool pending;
  } src[] = {
      {"component servicing (CBS RebootPending)", reg_key_exists(s, K_CBS)},
      {"Windows Update (RebootRequired)", reg_key_exists(s, K_WU)},
      {"pending file renames (PendingFileRenameOperations)",
       reg_text(s, K_SESSION, "PendingFileRenameOperations", buf, sizeof(buf)) && buf[0] &&
           strcmp(buf, "hex(7):00,00") && strcmp(buf, "hex(7):00,00,00,00")},
      {"the ConfigMgr client (Reboot Management\\RebootData)", reg_key_exists(s, K_CCM_REBOOT)},
  };
  /* a capture without registry exports says nothing; a live read that found none of the keys, that none
   * is there */
  bool known = !s->input || s->reg || s->collected;
  s->reboot = known ? 0 : -1;
  s->renames = known ? 0 : -1;
  for (size_t i = 0; known && i < CG_ARRAY_LEN(src); i++)
    if (src[i].pending) {
      /* installers and antivirus leave file renames behind routinely, and Microsoft's upgrade
       * guidance asks nothing of them: alone they are a warning, not a pending restart */
      if (i == 2)
        s->renames = 1;
      else
        s->reboot = 1;
      cJSON_AddItemToArray(s->reboot_sources, cJSON_CreateString(src[i].name));
    }
}

static void client_state(struct state *s) {
  char pm[32];
  s->client = reg_text(s, K_MOBILE, "ProductVersion", s->client_version, sizeof(s->client_version));
  s->provisioning = -1;
  if (reg_text(s, K_CCMEXEC, "ProvisioningMode", pm, sizeof(pm)))
    s->provisioning = !cg_strcasecmp(pm, "true") || !strcmp(pm, "1") ? 1 : 0;
  else if (s->client)
    s->provisioning = 0; /* the client writes it when it enters the mode */
}

/* ---- verdict ---------------------------------------------------------------------------------- */

static void add_tri(cJSON *f, const char *k, int v) {
  if (v < 0)
    cJSON_AddNullToObject(f, k);
  else
    cJSON_AddBoolToObject(f, k, v == 1);
}

static void facts(const struct state *s, cJSON *f) {
  if (s->free_known)
    cJSON_AddNumberToObject(f, "system_free_mb", (double)s->free_mb);
  else
    cJSON_AddNullToObject(f, "system_free_mb");
  if (s->cache_known)
    cJSON_AddNumberToObject(f, "ccmcache_mb", (double)s->cache_mb);
  else
    cJSON_AddNullToObject(f, "ccmcache_mb");
  add_tri(f, "on_ac", s->on_ac);
  /* for a gate: on mains, or on battery above the level (null when neither is known) */
  add_tri(f, "power_ok", s->on_ac == 1 ? 1 : s->battery >= 0 ? (s->battery >= s->min_battery ? 1 : 0) : -1);
  if (s->battery >= 0)
    cJSON_AddNumberToObject(f, "battery_percent", s->battery);
  else
    cJSON_AddNullToObject(f, "battery_percent");
  add_tri(f, "metered", s->metered);
  add_tri(f, "roaming", s->roaming);
  if (s->ts_id) cJSON_AddStringToObject(f, "ts_package_id", s->ts_id);
  add_tri(f, "ts_in_policy", s->ts_id ? s->ts_in_policy : -1);
  if (s->metered_usage > 0)
    cJSON_AddStringToObject(f, "metered_setting",
                            s->metered_usage == 1   ? "allow"
                            : s->metered_usage == 2 ? "limit"
                                                    : "block");
  else
    cJSON_AddNullToObject(f, "metered_setting");
  /* what the gate reads: downloads the client will not make here (roaming, or metered and Block) */
  if (s->roaming == 1 || (s->metered == 1 && s->metered_usage == 4))
    cJSON_AddBoolToObject(f, "downloads_blocked", true);
  else if (s->roaming == 0 && (s->metered == 0 || (s->metered == 1 && s->metered_usage > 0)))
    cJSON_AddBoolToObject(f, "downloads_blocked", false);
  else
    cJSON_AddNullToObject(f, "downloads_blocked");
  add_tri(f, "downloads_limited", s->metered == 1 && s->metered_usage == 2 ? 1 : s->metered == -1 ? -1 : 0);
  add_tri(f, "reboot_pending", s->reboot);
  add_tri(f, "file_renames_pending", s->renames);
  cJSON_AddItemToObject(f, "reboot_sources", cJSON_Duplicate(s->reboot_sources, true));
  char why[300] = "";
  const cJSON *x;
  cJSON_ArrayForEach(x, s->reboot_sources) {
    size_t l = strlen(why);
    cg_snprintf(why + l, sizeof(why) - l, "%s%s", l ? ", " : "", x->valuestring);
  }
  cJSON_AddStringToObject(f, "reboot_reason", why);
  add_tri(f, "ccmexec_running", s->ccmexec);
  add_tri(f, "provisioning_mode", s->provisioning);
  if (s->client_version[0])
    cJSON_AddStringToObject(f, "client_version", s->client_version);
  else
    cJSON_AddNullToObject(f, "client_version");
  if (s->policy_known)
    cJSON_AddNumberToObject(f, "last_policy_age_h", (double)s->policy_age_h);
  else
    cJSON_AddNullToObject(f, "last_policy_age_h");
  cJSON_AddItemToObject(f, "not_applicable", cJSON_Duplicate(s->not_applicable, true));
}

/* Two axes (docs/checks/device.md): whether the client can be managed now (the SMS Agent Host runs,
 * no provisioning mode, policy is fresh) is the check's verdict; whether the device can take an
 * in-place upgrade now (disk, restart, power, cache, metered) is `readiness`, never the verdict: a
 * pending restart does not stop the CMG from managing the laptop. */
static void readiness_findings(const struct device_ctx *c, const struct state *s, struct cg_findings *fs) {
#define ADD(V, CODE, REM, ...) cg_findings_add(fs, V, CODE, REM, __VA_ARGS__)
  if (s->free_known && s->free_mb < c->min_free_gb * 1024)
    ADD(CG_FAIL, "DEVICE_LOW_DISK", "Free space on the system drive (Disk Cleanup, the client cache, old profiles).",
        "only %.1f GB are free on the system volume; an in-place upgrade needs %lld GB", (double)s->free_mb / 1024,
        (long long)c->min_free_gb);
  if (s->reboot == 1) {
    char list[300] = "";
    const cJSON *x;
    cJSON_ArrayForEach(x, s->reboot_sources) {
      size_t l = strlen(list);
      cg_snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", x->valuestring);
    }
    ADD(CG_FAIL, "DEVICE_REBOOT_PENDING", "Restart the device, then run the gate again.", "a restart is pending (%s)",
        list);
  }
  if (s->renames == 1 && s->reboot != 1)
    ADD(CG_WARN, "DEVICE_FILE_RENAMES_PENDING",
        "Restart the device when convenient; if the renames stay after a "
        "restart, an installer or antivirus keeps writing them (HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session "
        "Manager, PendingFileRenameOperations).",
        "files wait to be renamed at the next restart (PendingFileRenameOperations), which installers and antivirus "
        "leave behind routinely; no restart is required for the upgrade");
  if (s->on_ac == 0 && s->battery >= 0 && s->battery < c->min_battery_percent)
    ADD(CG_FAIL, "DEVICE_ON_BATTERY", "Plug the device into power.", "it runs on battery at %d%% (below %lld%%)",
        s->battery, (long long)c->min_battery_percent);
  if (s->roaming == 1)
    ADD(CG_FAIL, "DEVICE_ROAMING",
        "Move to a network that is not roaming (Wi-Fi, a home network), then run the gate "
        "again.",
        "the connection is roaming, and on a roaming connection the client transfers nothing to or from its site");
  if (s->metered == 1 && s->metered_usage == 4)
    ADD(CG_FAIL, "DEVICE_METERED_BLOCKED",
        "Use an unmetered network, or change the client setting Client communication on metered internet "
        "connections (Allow or Limit) for these devices.",
        "the connection is metered and the client setting for metered connections is Block, so the client does not "
        "communicate over it");
  if (s->ts_id && s->ts_in_policy == 0)
    ADD(CG_WARN, "DEVICE_TS_NOT_IN_POLICY",
        "Check the task sequence's deployment to this device's collection, then refresh machine policy (it comes "
        "through the CMG on the internet).",
        "the client's policy has no deployment of the task sequence %s (not deployed here, or not received yet)",
        s->ts_id);
  if (s->cache_known && s->cache_mb < c->upgrade_size_mb)
    ADD(CG_FAIL, "DEVICE_CACHE_SMALL", "Raise the client cache size in the client settings (Client Cache Settings).",
        "the client cache (%.1f GB) is smaller than the upgrade content (%.1f GB), so the download fails "
        "(0x87D01202)",
        (double)s->cache_mb / 1024, (double)c->upgrade_size_mb / 1024);
  if (s->metered == 1 && s->metered_usage != 4)
    ADD(CG_WARN, "DEVICE_METERED", "Use an unmetered network, or check the client setting for metered connections.",
        s->metered_usage == 2 ? "the internet connection is metered and the client setting is Limit, so the client "
                                "holds back large downloads"
                              : "the internet connection is metered; the client may hold back downloads (its setting "
                                "for metered connections is not known here; Microsoft's default is Block)");
#undef ADD
}

/* facts.readiness: {verdict, code, summary, findings[]}; the findings are not the check's own
 * (facts.findings), so the diagnosis of the CMG axis never sees them. */
static void readiness_facts(const struct cg_findings *fs, cJSON *facts, char *summary, size_t len) {
  cJSON *r = cJSON_AddObjectToObject(facts, "readiness");
  const struct cg_finding *w = cg_findings_worst(fs);
  cJSON_AddStringToObject(r, "verdict", w ? cg_verdict_name(w->status) : "pass");
  cJSON_AddStringToObject(r, "code", w ? w->code : "DEVICE_READY");
  summary[0] = '\0';
  for (size_t i = 0; i < fs->n; i++) {
    size_t l = strlen(summary);
    cg_snprintf(summary + l, len - l, "%s%s", l ? "; " : "", fs->f[i].summary);
  }
  cJSON_AddStringToObject(r, "summary", summary);
  if (w) cJSON_AddStringToObject(r, "remediation", w->remediation);
  cJSON *tmp = cJSON_CreateObject();
  if (tmp && cg_findings_to_facts(fs, tmp) == CG_OK)
    cJSON_AddItemToObject(r, "findings", cJSON_DetachItemFromObjectCaseSensitive(tmp, "findings"));
  cJSON_Delete(tmp);
}

static int verdict(const struct device_ctx *c, const struct state *s, struct cg_result *res) {
  struct cg_findings fs, ready;
  cg_findings_init(&fs);
  cg_findings_init(&ready);
  readiness_findings(c, s, &ready);
  char not_ready[700];
  readiness_facts(&ready, res->facts, not_ready, sizeof(not_ready));
#define ADD(V, CODE, REM, ...) cg_findings_add(&fs, V, CODE, REM, __VA_ARGS__)
  if (s->client && s->ccmexec == 0)
    ADD(CG_FAIL, "DEVICE_CCMEXEC_STOPPED", "Start the SMS Agent Host service (CcmExec) and find out why it stopped.",
        "the SMS Agent Host service (CcmExec) is not running");
  if (s->provisioning == 1)
    ADD(CG_FAIL, "DEVICE_PROVISIONING_MODE",
        "Take the client out of provisioning mode (SetClientProvisioningMode false, as after a task sequence).",
        "the ConfigMgr client is in provisioning mode, so it runs no deployments");
  if (s->policy_known && s->policy_age_h > c->policy_max_age_h)
    ADD(CG_WARN, "DEVICE_POLICY_OLD", "Check that the client reaches its management point (through the CMG).",
        "the client last asked for policy %lld hours ago", (long long)s->policy_age_h);
#undef ADD
  bool decided = false;
  int rc = cg_findings_result(&fs, res, CG_FINDINGS_LIST, "The ConfigMgr client cannot be managed now: ", &decided);
  cg_findings_free(&fs);
  bool ready_ok = ready.n == 0;
  const struct cg_finding *rw = cg_findings_worst(&ready);
  bool ready_fails = rw && rw->status == CG_FAIL;
  cg_findings_free(&ready);
  if (rc != CG_OK || decided) return rc;
  if (!ready_ok && !ready_fails) /* warnings only: the upgrade may start */
    return cg_result_set(res, CG_PASS, "DEVICE_READY", NULL, "The device can start an upgrade, with warnings: %s.",
                         not_ready);
  if (!ready_ok) /* manageable through the CMG; only the upgrade has to wait */
    return cg_result_set(res, CG_PASS, "DEVICE_NOT_READY", NULL, /* the fix is in facts.readiness */
                         "The ConfigMgr client can be managed, but the device is not ready for an in-place upgrade "
                         "now: %s.",
                         not_ready);
  char ok[400] = "";
  size_t l;
  if (s->free_known) cg_snprintf(ok, sizeof(ok), "%.1f GB free on the system volume", (double)s->free_mb / 1024);
  l = strlen(ok);
  if (s->on_ac == 1)
    cg_snprintf(ok + l, sizeof(ok) - l, "%son mains power", l ? ", " : "");
  else if (s->battery >= 0)
    cg_snprintf(ok + l, sizeof(ok) - l, "%son battery at %d%%", l ? ", " : "", s->battery);
  l = strlen(ok);
  if (s->reboot == 0) cg_snprintf(ok + l, sizeof(ok) - l, "%sno restart pending", l ? ", " : "");
  l = strlen(ok);
  if (s->ccmexec == 1) cg_snprintf(ok + l, sizeof(ok) - l, "%sthe ConfigMgr client runs", l ? ", " : "");
  return cg_result_set(res, CG_PASS, "DEVICE_READY", NULL, "The device can start an upgrade: %s%s.", ok,
                       cJSON_GetArraySize(s->not_applicable) ? " (no ConfigMgr client or Windows state here)" : "");
}

static void state_init(struct state *s, const struct device_ctx *c) {
  memset(s, 0, sizeof(*s));
  s->min_battery = c->min_battery_percent;
  s->roaming = s->metered_usage = s->ts_in_policy = -1;
  s->ts_id = c->ts_package_id;
  s->reboot_sources = cJSON_CreateArray();
  s->not_applicable = cJSON_CreateArray();
}

static void state_free(struct state *s) {
  cJSON_Delete(s->dev);
  cJSON_Delete(s->reg);
  cJSON_Delete(s->reboot_sources);
  cJSON_Delete(s->not_applicable);
  cJSON_Delete(s->seen);
}

/* The half that reads the device (plugin.h `collect`), with the agent's privilege: the disk, power,
 * network cost, the SMS Agent Host, the registry keys of a pending restart and of the client, and the
 * client's WMI values; kept as device.json and a registry export, as a capture holds them. It decides
 * nothing: the judging half reads those two, in the worker without privilege where there is one. */
static int device_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  struct device_ctx *c = vctx;
  struct state s;
  state_init(&s, c);
  s.seen = cJSON_CreateObject();
  *decided = false;
  int rc = s.seen && s.reboot_sources && s.not_applicable ? CG_OK : CG_ERR_NOMEM;
  if (rc == CG_OK) {
    gather_live(&s);
    if (!cJSON_GetArraySize(s.not_applicable)) {
      reboot_sources(&s);
      client_state(&s);
      /* the client's WMI namespaces exist only with the client: no query (and no WMI start-up) without it */
      if (s.client) client_wmi(&s, cg_time_utc_ms());
    }
    cJSON_AddStringToObject(res->facts, "source", "live");
    rc = put_captures(&s, env);
  }
  state_free(&s);
  return rc;
}

static const struct cg_source device_source;

static int device_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct device_ctx *c = vctx;
  struct state s;
  state_init(&s, c);
  s.input = true; /* a capture, or what device_collect read */
  s.collected = env->input == NULL;
  int rc = CG_OK;
  int64_t now = cg_time_utc_ms();
  if (c->evaluate_at && !any_time(c->evaluate_at, &now)) {
    rc = cg_result_set(res, CG_ERROR, "DEVICE_BAD_SETTING", "Write evaluate_at as 2026-01-31T12:00:00Z, or null.",
                       "checks.device.evaluate_at \"%.40s\" is not a time.", c->evaluate_at);
    goto out;
  }
  if (s.collected &&
      ((rc = cg_judge_collected(c, env, &device_source, NULL, "this device", res)) != CG_OK || res->code))
    goto out;
  const char *asof = c->evaluate_at ? c->evaluate_at : env->captured_at;
  if (!c->evaluate_at && asof) cg_time_parse(asof, &now); /* a capture is judged as of when it was taken */
  if (asof) cJSON_AddStringToObject(res->facts, "judged_as_of", asof);
  s.dev = c->cap_dev;
  s.reg = c->cap_reg;
  c->cap_dev = c->cap_reg = NULL;
  gather_capture(&s, now);
  if (!cJSON_GetArraySize(s.not_applicable)) {
    reboot_sources(&s);
    client_state(&s);
  } else {
    s.reboot = s.renames = s.provisioning = -1;
  }
  facts(&s, res->facts);
  cJSON_AddItemToObject(res->facts, "cache_fits_upgrade",
                        s.cache_known ? cJSON_CreateBool(s.cache_mb >= c->upgrade_size_mb) : cJSON_CreateNull());
  if (s.metered >= 0) cg_handover_put_metered(env, s.metered == 1);
  rc = verdict(c, &s, res);
out:
  state_free(&s);
  return rc;
}

static const struct cg_source device_source = {
    .accepts = CG_SOURCE_FOLDER,
    .max_bytes = INPUT_MAX,
    .code_prefix = "DEVICE",
    .what = "device captures (device.json, reg export files)",
    .how = "Capture again with the commands of the device check's page (docs/checks/device.md).",
    .parse = parse_capture,
};

static const char *const device_provides[] = {CG_DISCOVERY_METERED, NULL};

const struct cg_check_plugin cg_check_device = {
    .provides = device_provides,
    .name = "device",
    .description =
        "whether an upgrade can start now: disk, client cache, power, metered network, pending restart, client",
    .platforms = CG_PLATFORM_ANY,
    .config_map = device_map,
    .ctx_size = sizeof(struct device_ctx),
    .source = &device_source,
    .collect = device_collect,
    .run = device_run,
    .fini = device_fini,
};
