/* The `aadjoin` check: can this device get the Entra device token that a CMG in Enhanced HTTP
 * mode needs? Reads `dsregcmd /status` (live, or a capture via input) and explains the join state
 * with the rules of docs/domain.md ("dsregcmd"). A device that is not Entra joined cannot use Entra
 * to reach the CMG at all: its client uses a PKI certificate or a site token (the clientauth
 * check), so that is not a failure here unless checks.clientauth.mode says the fleet relies on
 * Entra. What it found is handed to clientauth (discovery "aad_state"). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "aadjoin.h"
#include "findings.h"
#include "config.h"
#include "discovery.h"
#include "log.h"
#include "meaning.h"
#include "platform/fs.h"
#include "platform/proc.h"
#include "platform/sys.h"
#include "plugin.h"
#include "text.h"

#define INPUT_MAX (4 * 1024 * 1024)
#define DAY_MS (86400LL * 1000)

/* The dsregcmd output being judged, from the capture (parse_capture) or from dsregcmd (aad_run). */
struct aad_text {
  char *raw, *text;
  size_t raw_len, text_len;
  enum cg_text_encoding enc;
  int cp;
  struct dsreg_doc doc;
};

struct aad_ctx {
  char *expected_tenant_id, *dsregcmd_path, *evaluate_at;
  int64_t timeout_ms, max_output_bytes, oem_codepage, cert_warn_days;
  struct aad_text out; /* working state, freed by aad_fini */
};

static const struct cg_config_map aad_map[] = {
    {CG_CFG_STRING, "expected_tenant_id", "null", "Fail when the device is joined to another Entra tenant (GUID)",
     offsetof(struct aad_ctx, expected_tenant_id), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "dsregcmd_path", "null",
     "Program to run instead of %SystemRoot%\\System32\\dsregcmd.exe (for tests; leave null)",
     offsetof(struct aad_ctx, dsregcmd_path), 0, 0, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "60000", "How long dsregcmd may run (its diagnostics are slow when elevated)",
     offsetof(struct aad_ctx, timeout_ms), 1000, 600000, NULL, NULL},
    {CG_CFG_INT, "max_output_bytes", "1048576", "Most dsregcmd output read", offsetof(struct aad_ctx, max_output_bytes),
     4096, INPUT_MAX, NULL, NULL},
    {CG_CFG_INT, "oem_codepage", "0",
     "Code page of output without a BOM that is not UTF-8: 437, 850 or 1252 (0: the console code page)",
     offsetof(struct aad_ctx, oem_codepage), 0, 65535, NULL, NULL},
    {CG_CFG_INT, "cert_warn_days", "30", "Warn when the device certificate expires within this many days",
     offsetof(struct aad_ctx, cert_warn_days), 0, 3650, NULL, NULL},
    {CG_CFG_STRING, "evaluate_at", "null",
     "Judge certificate dates at this UTC time (RFC 3339) instead of now: for reviewing an old capture",
     offsetof(struct aad_ctx, evaluate_at), 0, 0, NULL, NULL},
    CG_CFG_END,
};

static const char R_NOT_JOINED[] =
    "Join the device to Entra ID (Settings > Accounts > Access work or school > Connect > Join this device to "
    "Microsoft Entra ID) or configure hybrid join (Entra Connect device options and the SCP). Until then the CMG "
    "needs a PKI client certificate or a bulk registration token. Verify with: dsregcmd /status, Device State.";
static const char R_REGISTERED[] =
    "An Entra registered device (workplace join) has no device token. Hybrid-join or Entra-join the device; a "
    "registered work account in the user profile is not enough for the ConfigMgr client.";
static const char R_HYBRID_FAILED[] =
    "Look at Event Viewer > Applications and Services Logs > Microsoft > Windows > User Device Registration > Admin. "
    "Check the service connection point (AD Configuration Test), that Entra Connect syncs this computer, and that "
    "SYSTEM can reach enterpriseregistration.windows.net and login.microsoftonline.com.";
static const char R_HYBRID_PENDING[] =
    "Hybrid join completes after Entra Connect has synced the computer object and a user has signed in. Check that "
    "the computer's OU is in sync scope, then run dsregcmd /join as SYSTEM or restart; see the User Device "
    "Registration event log.";
static const char R_ENTERPRISE[] =
    "An on-premises DRS (AD FS) join gives no Entra device token. Hybrid-join the device to Entra ID.";
static const char R_DISABLED[] =
    "Enable the device in the Entra admin center (Devices > All devices). If it was deleted, rejoin it: "
    "dsregcmd /leave as an administrator, then hybrid-join or Entra-join again.";
static const char R_CERT_EXPIRED[] =
    "The device certificate (LocalMachine\\My, subject = device id) has expired: rejoin the device (dsregcmd /leave, "
    "then join again).";
static const char R_CERT_EXPIRING[] =
    "Plan a rejoin before the device certificate expires; once it has, the device gets no Entra token.";
static const char R_KEYS[] =
    "The device keys are unusable (AadRecoveryEnabled or a failed KeySignTest). Windows recovers them at the next "
    "sign-in of an Entra user; if that does not happen, rejoin the device.";
static const char R_AUTH_UNTESTED[] =
    "dsregcmd could not test device authentication: SYSTEM probably has no network path to Entra ID. Check SYSTEM's "
    "proxy (netsh winhttp show proxy) and the IE proxy for the System account in dsregcmd /status.";
static const char R_TENANT[] =
    "The device is joined to a different Entra tenant than the one onboarded to ConfigMgr (checks.aadjoin."
    "expected_tenant_id). Rejoin it to the right tenant, or correct the setting.";
static const char R_PRT[] =
    "The signed-in user has no primary refresh token, so a user-token fallback will fail. Look at Attempt Status and "
    "Server Error Description in dsregcmd /status (run as the user), e.g. AADSTS50126 means a wrong password.";

static const char R_NOT_NEEDED[] =
    "Nothing to do for the CMG. If your clients are meant to authenticate with Entra, hybrid-join or Entra-join the "
    "device and set checks.clientauth.mode to entra; facts.findings keeps the Entra state.";
static const char R_CAPTURE[] =
    "Capture the whole output: dsregcmd /status > dsreg.txt (Device Details and Tenant Details follow Device State).";

/* An account without a UPN ("LAPTOP-042\\admin") is a local account: it has no Entra PRT to miss. */
static bool local_account(const struct aad_state *st) {
  const char *a = st->executing_account;
  return a && !strchr(a, '@') && !cg_str_startswith_ci(a, "AzureAD\\");
}

static bool entra_joined(const struct aad_state *st) {
  return !strcmp(st->join_type, "entra_joined") || !strcmp(st->join_type, "hybrid_joined");
}

static void evaluate(const struct aad_ctx *ctx, const struct aad_state *st, int64_t now, struct cg_findings *fs) {
  const char *jt = st->join_type;
  bool joined = entra_joined(st);
  if (st->device_auth_status && cg_str_contains_ci(st->device_auth_status, "disabled or deleted")) {
    cg_findings_add(
        fs, CG_FAIL, "AAD_DEVICE_DISABLED_OR_DELETED", R_DISABLED,
        "This device is disabled or deleted in Entra ID, so it cannot get a device token for the CMG%s%s%s.",
        *st->device_id ? " (device ID " : "", st->device_id, *st->device_id ? ")" : "");
  }
  if (!strcmp(jt, "not_joined")) {
    cg_findings_add(
        fs, CG_FAIL, "AAD_NOT_JOINED", R_NOT_JOINED,
        "This device is not joined to Entra ID or to a domain, so it cannot authenticate to the CMG with an "
        "Entra device token.");
  } else if (!strcmp(jt, "entra_registered")) {
    cg_findings_add(fs, CG_FAIL, "AAD_REGISTERED_ONLY", R_REGISTERED,
                    "This device is only Entra registered (a work account was added), not joined, so it has no device "
                    "token for the CMG.");
  } else if (!strcmp(jt, "enterprise_joined")) {
    cg_findings_add(fs, CG_FAIL, "AAD_ENTERPRISE_JOINED_ONLY", R_ENTERPRISE,
                    "This device is joined to on-premises device registration (AD FS), not to Entra ID, so it has no "
                    "Entra device token.");
  } else if (!strcmp(jt, "domain_joined")) {
    if (st->error_phase || st->client_error || st->first_failed_test) {
      cg_findings_add(fs, CG_FAIL, "AAD_HYBRID_JOIN_FAILED", R_HYBRID_FAILED,
                      "The device is domain joined but hybrid join to Entra ID failed%s%s%s%s%s%s%s%s%s.",
                      st->error_phase ? " in the " : "", st->error_phase ? st->error_phase : "",
                      st->error_phase ? " phase" : "", st->client_error ? " (client error " : "",
                      st->client_error ? st->client_error : "", st->client_error ? ")" : "",
                      st->first_failed_test ? "; the test " : "", st->first_failed_test ? st->first_failed_test : "",
                      st->first_failed_test ? " failed" : "");
    } else {
      cg_findings_add(
          fs, CG_FAIL, "AAD_HYBRID_JOIN_PENDING", R_HYBRID_PENDING,
          "The device is domain joined but not yet hybrid joined to Entra ID, so it has no device token for "
          "the CMG.");
    }
  }
  if (joined && (!*st->tenant_id || !*st->device_id)) {
    cg_findings_add(fs, CG_WARN, "AAD_CAPTURE_INCOMPLETE", R_CAPTURE,
                    "The device is Entra %s, but the output has no %s, so whether it can get a device token cannot be "
                    "told.",
                    !strcmp(jt, "hybrid_joined") ? "hybrid joined" : "joined",
                    !*st->device_id && !*st->tenant_id ? "Device Details or Tenant Details"
                    : !*st->device_id                  ? "Device Details"
                                                       : "Tenant Details");
  }
  if (joined) {
    if (ctx->expected_tenant_id && *ctx->expected_tenant_id &&
        cg_strcasecmp(ctx->expected_tenant_id, st->tenant_id) != 0) {
      cg_findings_add(fs, CG_FAIL, "AAD_TENANT_MISMATCH", R_TENANT,
                      "The device is joined to %s%s%s the one your site expects (tenant ID %s, expected %s).",
                      st->tenant_name && *st->tenant_name ? "the Entra tenant " : "another Entra tenant than",
                      st->tenant_name && *st->tenant_name ? st->tenant_name : "",
                      st->tenant_name && *st->tenant_name ? ", not to" : "", *st->tenant_id ? st->tenant_id : "unknown",
                      ctx->expected_tenant_id);
    }
    if (st->cert_not_after_ms && st->cert_not_after_ms <= now) {
      cg_findings_add(fs, CG_FAIL, "AAD_DEVICE_CERT_EXPIRED", R_CERT_EXPIRED,
                      "The Entra device certificate expired on %.10s.", st->cert_not_after);
    } else if (st->cert_not_after_ms && st->cert_not_after_ms - now < ctx->cert_warn_days * DAY_MS) {
      cg_findings_add(fs, CG_WARN, "AAD_DEVICE_CERT_EXPIRING", R_CERT_EXPIRING,
                      "The Entra device certificate expires in %lld days (%.10s).",
                      (long long)((st->cert_not_after_ms - now) / DAY_MS), st->cert_not_after);
    }
    bool sign_failed = st->key_sign_test && cg_strcasecmp(st->key_sign_test, "PASSED") != 0;
    if (st->aad_recovery == TRI_YES || sign_failed) {
      cg_findings_add(fs, CG_FAIL, "AAD_DEVICE_KEYS_UNUSABLE", R_KEYS, "The device's Entra keys are unusable (%s%s%s).",
                      st->aad_recovery == TRI_YES ? "AadRecoveryEnabled is YES" : "",
                      st->aad_recovery == TRI_YES && sign_failed ? ", " : "",
                      sign_failed ? "KeySignTest did not pass" : "");
    }
    if (st->device_auth_status && cg_str_contains_ci(st->device_auth_status, "FAILED") &&
        !cg_str_contains_ci(st->device_auth_status, "disabled or deleted")) {
      cg_findings_add(fs, CG_WARN, "AAD_DEVICE_AUTH_UNTESTED", R_AUTH_UNTESTED,
                      "dsregcmd could not verify the device with Entra ID (%s).", st->device_auth_status);
    }
    if (st->prt == TRI_NO && !local_account(st)) {
      cg_findings_add(fs, CG_WARN, "AAD_USER_PRT_MISSING", R_PRT,
                      "The signed-in user has no Entra primary refresh token%s%s%s%s%s.",
                      st->prt_attempt_status || st->prt_server_error_desc ? " (last attempt " : "",
                      st->prt_attempt_status ? st->prt_attempt_status : "",
                      st->prt_attempt_status && st->prt_server_error_desc ? ": " : "",
                      st->prt_server_error_desc ? st->prt_server_error_desc : "",
                      st->prt_attempt_status || st->prt_server_error_desc ? ")" : "");
    }
  }
}

static int read_dsregcmd(struct aad_ctx *ctx, const struct cg_env *env, struct cg_result *res, char **data, size_t *len,
                         bool *done) {
  char err[512] = "";
  *done = false;
  char *prog = ctx->dsregcmd_path ? cg_strdup(ctx->dsregcmd_path) : cg_system_tool_path("dsregcmd.exe");
  cJSON_AddStringToObject(res->facts, "source", "dsregcmd");
  if (!prog) {
    *done = true;
    return cg_result_set(res, CG_SKIP, "AAD_NO_DSREGCMD",
                         "Run 'cmgdiag check aadjoin --input FILE' with a file saved from 'dsregcmd /status' on the "
                         "device.",
                         "dsregcmd does not exist on %s; give a captured output with --input to check a device.",
                         cg_platform_name());
  }
  /* a program the configuration names is started only from a configuration no one but administrators
   * can change, and only a file they alone can change (the very file checked is started;
   * docs/security.md) */
  if (ctx->dsregcmd_path && env->config && env->config->insecure) {
    *done = true;
    int r = cg_result_set(res, CG_ERROR, "AAD_DSREGCMD_REFUSED",
                          "Make the configuration admin-only ('cmgdiag setup' restores its permissions) or remove "
                          "checks.aadjoin.dsregcmd_path.",
                          "checks.aadjoin.dsregcmd_path (%s) was not run: the configuration %s can be changed by "
                          "users other than administrators (%s).",
                          prog, env->config->path ? env->config->path : "", env->config->insecure_why);
    cg_free(prog);
    return r;
  }
  const char *argv[] = {prog, "/status", NULL};
  /* an admin-set program is started like an exec command: the verified file, the small environment */
  char **envp = ctx->dsregcmd_path ? cg_proc_minimal_env() : NULL;
  struct cg_proc_opts o = {.timeout_ms = ctx->timeout_ms,
                           .max_output = (size_t)ctx->max_output_bytes,
                           .envp = (const char *const *)envp,
                           .admin_only_program = ctx->dsregcmd_path != NULL};
  struct cg_proc_result pr;
  memset(&pr, 0, sizeof(pr));
  int rc = ctx->dsregcmd_path && !envp ? CG_ERR_NOMEM : cg_proc_run(argv, &o, &pr, err, sizeof(err));
  cg_proc_env_free(envp);
  if (rc == CG_ERR_ACCESS && ctx->dsregcmd_path) {
    *done = true;
    rc = cg_result_set(res, CG_ERROR, "AAD_DSREGCMD_REFUSED",
                       "Put the program where only administrators can change it (and every folder above it), or "
                       "remove checks.aadjoin.dsregcmd_path.",
                       "checks.aadjoin.dsregcmd_path was not run: %s.", err);
    cg_proc_result_free(&pr);
    cg_free(prog);
    return rc;
  }
  cg_log_debug(env->log, "aadjoin", "ran %s /status: rc %d", prog, rc);
  if (rc == CG_ERR_NOTFOUND && !ctx->dsregcmd_path) {
    /* Windows before 10 / Server 2016 has no dsregcmd: nothing to judge on this machine. */
    *done = true;
    rc = cg_result_set(res, CG_SKIP, "AAD_NO_DSREGCMD",
                       "Entra join needs Windows 10 / Server 2016 or later; to review another device, run "
                       "'cmgdiag check aadjoin --input FILE' with its saved 'dsregcmd /status' output.",
                       "This Windows has no dsregcmd (%s), so it has no Entra join state to check.", prog);
  } else if (rc != CG_OK) {
    *done = true;
    rc = cg_result_set(res, CG_ERROR, "AAD_DSREGCMD_FAILED",
                       "dsregcmd.exe ships with Windows 10 and later in System32; check that it exists and that "
                       "SYSTEM may run it.",
                       "dsregcmd could not be started: %s.", err);
  } else if (pr.timed_out) {
    *done = true;
    rc = cg_result_set(res, CG_ERROR, "AAD_DSREGCMD_TIMEOUT",
                       "dsregcmd's diagnostics can be slow on a bad network; raise checks.aadjoin.timeout_ms or look "
                       "at SYSTEM's proxy.",
                       "dsregcmd /status did not finish within %lld ms and was stopped.", (long long)ctx->timeout_ms);
  } else {
    cJSON_AddNumberToObject(res->facts, "dsregcmd_exit_code", pr.exit_code);
    if (pr.out_truncated) cJSON_AddBoolToObject(res->facts, "output_truncated", true);
    *data = pr.out;
    *len = pr.out_len;
    pr.out = NULL;
  }
  cg_proc_result_free(&pr);
  cg_free(prog);
  return rc;
}

/* The half that reads the device (plugin.h `collect`): runs dsregcmd and keeps its output as it came,
 * parsing none of it. */
static int aad_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  char *data = NULL;
  size_t len = 0;
  int rc = read_dsregcmd(vctx, env, res, &data, &len, decided);
  if (rc == CG_OK && !*decided) {
    rc = env->judge_put(env, "dsreg.txt", data ? data : "", len);
    if (env->capture_put) env->capture_put(env, "aadjoin", "dsreg.txt", data ? data : "", len); /* `collect` */
  }
  cg_free(data);
  return rc;
}

/* For clientauth: whether an Entra device token is possible, and if not, why (the worst finding). */
static void publish_state(const struct cg_env *env, const struct aad_state *st, const struct cg_findings *fs) {
  struct cg_handover_aad h;
  memset(&h, 0, sizeof(h));
  const struct cg_finding *w = cg_findings_worst(fs);
  bool failed = w && w->status == CG_FAIL;
  bool incomplete = cg_findings_has(fs, "AAD_CAPTURE_INCOMPLETE");
  cg_strlcpy(h.join_type, st->join_type, sizeof(h.join_type));
  h.entra_usable = !entra_joined(st) || failed ? 0 : incomplete ? -1 : 1;
  cg_strlcpy(h.tenant_id, st->tenant_id, sizeof(h.tenant_id));
  cg_strlcpy(h.code, w ? w->code : "AAD_OK", sizeof(h.code));
  cg_strlcpy(h.reason, w ? w->summary : "", sizeof(h.reason));
  cg_handover_put_aad(env, &h);
}

/* Input that has no Device State: empty, not dsregcmd at all, or cut short. */
static int not_dsregcmd(const struct dsreg_doc *docp, const char *raw, size_t raw_len, struct cg_result *res) {
  int rc;
  char head[256];
  cg_escape_bytes(raw, raw_len, 48, head, sizeof(head));
  static const char again[] = "Capture the output again on the device with: dsregcmd /status > dsreg.txt";
  if (raw_len == 0)
    rc = cg_result_set(res, CG_ERROR, "AAD_UNPARSEABLE", again, "The dsregcmd output is empty.");
  else if (docp->kv_lines < 3)
    rc = cg_result_set(res, CG_ERROR, "AAD_UNPARSEABLE", again,
                       "This is not dsregcmd /status output (%zu bytes starting with \"%s\").", raw_len, head);
  else
    rc = cg_result_set(res, CG_ERROR, "AAD_INCOMPLETE_OUTPUT",
                       "Capture the whole output again: dsregcmd /status > dsreg.txt (the Device State section "
                       "comes first).",
                       "The dsregcmd output has no Device State (AzureAdJoined), so the join state is unknown; it "
                       "looks truncated.");
  return rc;
}

static int verdict(const struct cg_env *env, const struct aad_state *st, const struct cg_findings *fs,
                   struct cg_result *res) {
  const cJSON *ca = env->config ? cg_config_check(env->config, "clientauth") : NULL;
  const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ca, "mode"));
  bool relies_on_entra = mode && !cg_strcasecmp(mode, "entra");
  cJSON_AddBoolToObject(res->facts, "entra_required", relies_on_entra);
  publish_state(env, st, fs);
  const struct cg_finding *w = cg_findings_worst(fs);
  bool auth_ok = st->device_auth_status && cg_str_startswith_ci(st->device_auth_status, "SUCCESS");
  bool hybrid = !strcmp(st->join_type, "hybrid_joined");
  const char *tn = st->tenant_name && *st->tenant_name ? st->tenant_name : NULL;
  bool decided = false;
  if (!entra_joined(st) && !relies_on_entra) {
    /* Not an Entra identity: the client cannot use Entra, so nothing here decides the CMG. */
    int rc = cg_findings_to_facts(fs, res->facts);
    return rc != CG_OK ? rc
                       : cg_result_set(
                             res, CG_SKIP, "AAD_NOT_NEEDED", R_NOT_NEEDED,
                             "This device is %s, not Entra joined, so its ConfigMgr client does not use Entra to reach "
                             "the CMG: it uses a PKI client certificate or a site token (the clientauth check tells "
                             "which).%s%s",
                             !strcmp(st->join_type, "domain_joined")       ? "only domain joined"
                             : !strcmp(st->join_type, "entra_registered")  ? "only Entra registered (a work account)"
                             : !strcmp(st->join_type, "enterprise_joined") ? "joined to on-premises device registration"
                                                                           : "joined to no directory",
                             w ? " Should you rely on Entra: " : "", w ? w->summary : "");
  }
  int rc = cg_findings_result(fs, res, CG_FINDINGS_WORST_FIRST, NULL, &decided);
  if (rc != CG_OK || decided) return rc;
  if (auth_ok)
    return cg_result_set(res, CG_PASS, "AAD_OK", NULL,
                         "The device is Entra %s to %s%s and can request a device token for the CMG: "
                         "device authentication succeeded%s%s%s.",
                         hybrid ? "hybrid joined" : "joined", tn ? "the tenant " : "its tenant", tn ? tn : "",
                         *st->tenant_id ? " (tenant ID " : "", st->tenant_id, *st->tenant_id ? ")" : "");
  return cg_result_set(res, CG_PASS, "AAD_OK", NULL,
                       "The device is Entra %s to %s%s with a valid device certificate; this dsregcmd "
                       "reports no device authentication test, so a token request itself is not proven%s%s%s.",
                       hybrid ? "hybrid joined" : "joined", tn ? "the tenant " : "its tenant", tn ? tn : "",
                       *st->tenant_id ? " (tenant ID " : "", st->tenant_id, *st->tenant_id ? ")" : "");
}

static int decode_parse(const struct aad_ctx *ctx, struct aad_text *o) {
  int cp = ctx->oem_codepage ? (int)ctx->oem_codepage : cg_platform_oem_codepage();
  int rc = cg_text_decode_capture(o->raw, o->raw_len, cp, &o->text, &o->text_len, &o->enc, &o->cp);
  return rc == CG_OK ? dsreg_parse(o->text, &o->doc) : rc;
}

static void text_free(struct aad_text *o) {
  dsreg_free(&o->doc);
  cg_free(o->raw);
  cg_free(o->text);
  memset(o, 0, sizeof(*o));
}

/* The capture (the core's source): one dsregcmd /status output in any encoding, alone or in a
 * folder with other captures (a snapshot), which are not this check's. */
static int parse_capture(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err,
                         size_t errlen) {
  (void)env;
  struct aad_ctx *ctx = vctx;
  struct aad_text t;
  memset(&t, 0, sizeof(t));
  if (!(t.raw = cg_malloc(f->len + 1))) return CG_ERR_NOMEM;
  memcpy(t.raw, f->data, f->len + 1);
  t.raw_len = f->len;
  int rc = decode_parse(ctx, &t);
  char head[256];
  cg_escape_bytes(t.raw, t.raw_len, 48, head, sizeof(head));
  if (rc == CG_ERR_TOOBIG) {
    cg_snprintf(err, errlen, "more sections or fields than any dsregcmd output (it starts with \"%s\")", head);
    rc = CG_ERR_PARSE;
  } else if (rc == CG_OK && (t.raw_len == 0 || t.doc.kv_lines < 3)) {
    cg_snprintf(err, errlen, t.raw_len ? "not dsregcmd /status output (%zu bytes starting with \"%s\")" : "empty",
                t.raw_len, head);
    rc = CG_ERR_PARSE;
  } else if (rc == CG_OK && ctx->out.raw) {
    cg_snprintf(err, errlen, "a second dsregcmd /status output (the first one read is judged)");
    rc = CG_ERR_PARSE;
  }
  if (rc == CG_OK) {
    ctx->out = t;
    return CG_OK;
  }
  text_free(&t);
  return rc;
}

static void aad_fini(void *vctx) {
  struct aad_ctx *ctx = vctx;
  text_free(&ctx->out);
}

static int aad_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct aad_ctx *ctx = vctx;
  struct aad_text *o = &ctx->out;
  int rc = CG_OK;
  if (!env->input) {
    /* what aad_collect read with the agent's privilege, judged here (in the worker where there is one) */
    const struct cg_capture_file *f = cg_collected_file(env, "dsreg.txt");
    if (!f || !(o->raw = cg_malloc(f->len + 1))) return f ? CG_ERR_NOMEM : CG_ERR_INTERNAL;
    memcpy(o->raw, f->data, f->len + 1);
    o->raw_len = f->len;
    if ((rc = decode_parse(ctx, o)) != CG_OK) {
      if (rc != CG_ERR_TOOBIG) return rc;
      char head[256];
      cg_escape_bytes(o->raw, o->raw_len, 48, head, sizeof(head));
      return cg_result_set(
          res, CG_ERROR, "AAD_UNPARSEABLE", "Capture the output again with: dsregcmd /status > dsreg.txt",
          "The output has more sections or fields than any dsregcmd output (it starts with \"%s\").", head);
    }
  }
  const struct dsreg_doc *doc = &o->doc;
  char encname[48];
  if (o->enc == CG_ENC_CODEPAGE)
    cg_snprintf(encname, sizeof(encname), "code page %d", o->cp);
  else
    cg_strlcpy(encname, cg_text_encoding_name(o->enc), sizeof(encname));
  cJSON_AddStringToObject(res->facts, "input_encoding", encname);
  cJSON *parse = cJSON_AddObjectToObject(res->facts, "parse");
  cJSON_AddNumberToObject(parse, "sections", (double)doc->count);
  cJSON_AddNumberToObject(parse, "fields", (double)doc->kv_lines);
  cJSON_AddNumberToObject(parse, "free_lines", (double)doc->free_lines);
  cJSON_AddNumberToObject(parse, "continuations", (double)doc->continuations);

  struct aad_state st;
  aad_model(doc, &st);
  /* The agent's own service runs dsregcmd as SYSTEM: the user's PRT is not visible then. */
  if (!env->input && env->collected && env->collected->as_system) {
    st.system_context = true;
    st.prt = TRI_NULL;
  }
  cJSON_AddBoolToObject(res->facts, "system_context", st.system_context);
  if (doc->kv_lines == 0 || st.azure_ad_joined == TRI_NULL) {
    rc = not_dsregcmd(doc, o->raw, o->raw_len, res);
    return rc == CG_OK ? aad_facts(doc, &st, res->facts) : rc;
  }
  if ((rc = aad_facts(doc, &st, res->facts)) != CG_OK) return rc;
  int64_t now = cg_time_utc_ms();
  if (ctx->evaluate_at && !aad_parse_time(ctx->evaluate_at, &now, NULL, 0))
    return cg_result_set(res, CG_ERROR, "AAD_BAD_SETTING", "Write evaluate_at as 2026-01-31T12:00:00Z, or null.",
                         "checks.aadjoin.evaluate_at \"%.40s\" is not a time.", ctx->evaluate_at);
  const char *asof = ctx->evaluate_at ? ctx->evaluate_at : env->captured_at;
  if (!ctx->evaluate_at && asof) cg_time_parse(asof, &now); /* a capture is judged as of when it was taken */
  if (asof) cJSON_AddStringToObject(res->facts, "judged_as_of", asof);
  if (st.cert_not_after_ms)
    cJSON_AddNumberToObject(res->facts, "device_cert_days_left", (double)((st.cert_not_after_ms - now) / DAY_MS));
  struct cg_findings fs;
  cg_findings_init(&fs);
  evaluate(ctx, &st, now, &fs);
  rc = verdict(env, &st, &fs, res);
  cg_findings_free(&fs);
  return rc;
}

static const struct cg_source aad_source = {
    .accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER,
    .max_bytes = INPUT_MAX,
    .code_prefix = "AAD",
    .what = "a dsregcmd /status output",
    .how = "On the device: dsregcmd /status > dsreg.txt (any encoding), then give --input that file or its folder.",
    .parse = parse_capture,
};

static const char *const aadjoin_provides[] = {CG_DISCOVERY_AAD_STATE, NULL};

static const struct cg_device_fact aadjoin_device[] = {
    {"aad_device_id", "device_id"}, {"tenant_id", "tenant_id"}, {NULL, NULL}};

/* a domain name where the GUID belongs would fail every device (docs/checks/aadjoin.md) */
static const struct cg_setting_meaning aadjoin_meanings[] = {{"expected_tenant_id", cg_meaning_guid}, {NULL, NULL}};

/* whether the fleet relies on Entra (verdict): clientauth's mode */
static const char *const aadjoin_other_settings[] = {"clientauth.mode", NULL};

const struct cg_check_plugin cg_check_aadjoin = {
    .meanings = aadjoin_meanings,
    .device_facts = aadjoin_device,
    .provides = aadjoin_provides,
    .other_settings = aadjoin_other_settings,
    .name = "aadjoin",
    .description = "Entra ID join state from dsregcmd /status: can the device get a device token for the CMG",
    .platforms = CG_PLATFORM_WINDOWS,
    .config_map = aad_map,
    .ctx_size = sizeof(struct aad_ctx),
    .source = &aad_source,
    .collect = aad_collect,
    .run = aad_run,
    .fini = aad_fini,
};
