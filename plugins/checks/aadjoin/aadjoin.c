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
#include "config.h"
#include "discovery.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/proc.h"
#include "platform/sys.h"
#include "plugin.h"
#include "text.h"

#define INPUT_MAX (4 * 1024 * 1024)
#define DAY_MS (86400LL * 1000)

struct aad_ctx {
  char *input, *expected_tenant_id, *dsregcmd_path, *evaluate_at;
  int64_t timeout_ms, max_output_bytes, oem_codepage, cert_warn_days;
};

static const struct cg_config_map aad_map[] = {
    {CG_CFG_STRING, "input", "null", "A captured `dsregcmd /status` output to read instead of running dsregcmd",
     offsetof(struct aad_ctx, input), 0, 0, NULL, NULL},
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

enum sev { SEV_PASS, SEV_WARN, SEV_FAIL };

struct finding {
  enum sev sev;
  const char *code;
  char summary[768];
  const char *remediation;
};

struct findings {
  struct finding f[12];
  size_t n;
};

static struct finding *add(struct findings *fs, enum sev sev, const char *code, const char *remediation) {
  if (fs->n >= CG_ARRAY_LEN(fs->f)) return &fs->f[fs->n - 1];
  struct finding *f = &fs->f[fs->n++];
  f->sev = sev;
  f->code = code;
  f->remediation = remediation;
  f->summary[0] = '\0';
  return f;
}

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

static void evaluate(const struct aad_ctx *ctx, const struct aad_state *st, int64_t now, struct findings *fs) {
  struct finding *f;
  const char *jt = st->join_type;
  bool joined = entra_joined(st);
  if (st->device_auth_status && cg_str_contains_ci(st->device_auth_status, "disabled or deleted")) {
    f = add(fs, SEV_FAIL, "AAD_DEVICE_DISABLED_OR_DELETED", R_DISABLED);
    cg_snprintf(f->summary, sizeof(f->summary),
                "The device %s is disabled or deleted in Entra ID, so it cannot get a device token for the CMG.",
                *st->device_id ? st->device_id : "object");
  }
  if (!strcmp(jt, "not_joined")) {
    f = add(fs, SEV_FAIL, "AAD_NOT_JOINED", R_NOT_JOINED);
    cg_snprintf(f->summary, sizeof(f->summary),
                "This device is not joined to Entra ID or to a domain, so it cannot authenticate to the CMG with an "
                "Entra device token.");
  } else if (!strcmp(jt, "entra_registered")) {
    f = add(fs, SEV_FAIL, "AAD_REGISTERED_ONLY", R_REGISTERED);
    cg_snprintf(f->summary, sizeof(f->summary),
                "This device is only Entra registered (a work account was added), not joined, so it has no device "
                "token for the CMG.");
  } else if (!strcmp(jt, "enterprise_joined")) {
    f = add(fs, SEV_FAIL, "AAD_ENTERPRISE_JOINED_ONLY", R_ENTERPRISE);
    cg_snprintf(f->summary, sizeof(f->summary),
                "This device is joined to on-premises device registration (AD FS), not to Entra ID, so it has no "
                "Entra device token.");
  } else if (!strcmp(jt, "domain_joined")) {
    if (st->error_phase || st->client_error || st->first_failed_test) {
      f = add(fs, SEV_FAIL, "AAD_HYBRID_JOIN_FAILED", R_HYBRID_FAILED);
      cg_snprintf(f->summary, sizeof(f->summary),
                  "The device is domain joined but hybrid join to Entra ID failed%s%s%s%s%s%s%s%s.",
                  st->error_phase ? " in the " : "", st->error_phase ? st->error_phase : "",
                  st->error_phase ? " phase" : "", st->client_error ? " with client error " : "",
                  st->client_error ? st->client_error : "", st->first_failed_test ? "; " : "",
                  st->first_failed_test ? st->first_failed_test : "", st->first_failed_test ? " failed" : "");
    } else {
      f = add(fs, SEV_FAIL, "AAD_HYBRID_JOIN_PENDING", R_HYBRID_PENDING);
      cg_snprintf(f->summary, sizeof(f->summary),
                  "The device is domain joined but not yet hybrid joined to Entra ID, so it has no device token for "
                  "the CMG.");
    }
  }
  if (joined && (!*st->tenant_id || !*st->device_id)) {
    f = add(fs, SEV_WARN, "AAD_CAPTURE_INCOMPLETE", R_CAPTURE);
    cg_snprintf(f->summary, sizeof(f->summary),
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
      f = add(fs, SEV_FAIL, "AAD_TENANT_MISMATCH", R_TENANT);
      cg_snprintf(f->summary, sizeof(f->summary),
                  "The device is joined to tenant %s (%s), not to the expected tenant %s.",
                  *st->tenant_id ? st->tenant_id : "unknown",
                  st->tenant_name && *st->tenant_name ? st->tenant_name : "no name", ctx->expected_tenant_id);
    }
    if (st->cert_not_after_ms && st->cert_not_after_ms <= now) {
      f = add(fs, SEV_FAIL, "AAD_DEVICE_CERT_EXPIRED", R_CERT_EXPIRED);
      cg_snprintf(f->summary, sizeof(f->summary), "The Entra device certificate expired on %.10s.", st->cert_not_after);
    } else if (st->cert_not_after_ms && st->cert_not_after_ms - now < ctx->cert_warn_days * DAY_MS) {
      f = add(fs, SEV_WARN, "AAD_DEVICE_CERT_EXPIRING", R_CERT_EXPIRING);
      cg_snprintf(f->summary, sizeof(f->summary), "The Entra device certificate expires in %lld days (%.10s).",
                  (long long)((st->cert_not_after_ms - now) / DAY_MS), st->cert_not_after);
    }
    bool sign_failed = st->key_sign_test && cg_strcasecmp(st->key_sign_test, "PASSED") != 0;
    if (st->aad_recovery == TRI_YES || sign_failed) {
      f = add(fs, SEV_FAIL, "AAD_DEVICE_KEYS_UNUSABLE", R_KEYS);
      cg_snprintf(f->summary, sizeof(f->summary), "The device's Entra keys are unusable (%s%s%s).",
                  st->aad_recovery == TRI_YES ? "AadRecoveryEnabled is YES" : "",
                  st->aad_recovery == TRI_YES && sign_failed ? ", " : "",
                  sign_failed ? "KeySignTest did not pass" : "");
    }
    if (st->device_auth_status && cg_str_contains_ci(st->device_auth_status, "FAILED") &&
        !cg_str_contains_ci(st->device_auth_status, "disabled or deleted")) {
      f = add(fs, SEV_WARN, "AAD_DEVICE_AUTH_UNTESTED", R_AUTH_UNTESTED);
      cg_snprintf(f->summary, sizeof(f->summary), "dsregcmd could not verify the device with Entra ID (%s).",
                  st->device_auth_status);
    }
    if (st->prt == TRI_NO && !local_account(st)) {
      f = add(fs, SEV_WARN, "AAD_USER_PRT_MISSING", R_PRT);
      cg_snprintf(f->summary, sizeof(f->summary), "The signed-in user has no Entra primary refresh token%s%s%s%s.",
                  st->prt_attempt_status ? "; last attempt status " : "",
                  st->prt_attempt_status ? st->prt_attempt_status : "", st->prt_server_error_desc ? ": " : "",
                  st->prt_server_error_desc ? st->prt_server_error_desc : "");
    }
  }
}

static int read_source(struct aad_ctx *ctx, const struct cg_env *env, struct cg_result *res, char **data, size_t *len,
                       bool *done) {
  char err[512] = "";
  *done = false;
  if (ctx->input) {
    int rc = cg_file_read(ctx->input, INPUT_MAX, data, len);
    cJSON_AddStringToObject(res->facts, "source", "input");
    if (rc == CG_OK) return CG_OK;
    *done = true;
    return cg_result_set(res, CG_ERROR, rc == CG_ERR_TOOBIG ? "AAD_INPUT_TOO_LARGE" : "AAD_INPUT_UNREADABLE",
                         "Give --input a file saved from 'dsregcmd /status' (any encoding).",
                         rc == CG_ERR_TOOBIG ? "The input %s is larger than 4 MiB, which no dsregcmd output is."
                                             : "The input %s cannot be read: %s.",
                         ctx->input, cg_strerror(rc));
  }
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
  const char *argv[] = {prog, "/status", NULL};
  struct cg_proc_opts o = {.timeout_ms = ctx->timeout_ms, .max_output = (size_t)ctx->max_output_bytes};
  struct cg_proc_result pr;
  int rc = cg_proc_run(argv, &o, &pr, err, sizeof(err));
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

/* For clientauth: whether an Entra device token is possible, and if not, why (the worst finding). */
static void publish_state(const struct cg_env *env, const struct aad_state *st, const struct findings *fs,
                          size_t worst) {
  cJSON *o = cJSON_CreateObject();
  bool failed = fs->n && fs->f[worst].sev == SEV_FAIL;
  bool incomplete = false;
  for (size_t i = 0; i < fs->n; i++)
    incomplete |= !strcmp(fs->f[i].code, "AAD_CAPTURE_INCOMPLETE");
  cJSON_AddStringToObject(o, "join_type", st->join_type);
  if (!entra_joined(st) || failed)
    cJSON_AddFalseToObject(o, "entra_usable");
  else if (incomplete)
    cJSON_AddNullToObject(o, "entra_usable");
  else
    cJSON_AddTrueToObject(o, "entra_usable");
  cJSON_AddStringToObject(o, "tenant_id", st->tenant_id);
  cJSON_AddStringToObject(o, "code", fs->n ? fs->f[worst].code : "AAD_OK");
  cJSON_AddStringToObject(o, "reason", fs->n ? fs->f[worst].summary : "");
  cg_discovery_publish(env, CG_DISCOVERY_AAD_STATE, o);
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

static int aad_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct aad_ctx *ctx = vctx;
  char *raw = NULL, *text = NULL;
  size_t raw_len = 0, text_len = 0;
  bool done = false;
  struct dsreg_doc doc = {0};
  int rc = read_source(ctx, env, res, &raw, &raw_len, &done);
  if (rc != CG_OK || done) goto out;

  enum cg_text_encoding enc;
  int used_cp = 0;
  int cp = ctx->oem_codepage ? (int)ctx->oem_codepage : cg_platform_oem_codepage();
  if ((rc = cg_text_decode_capture(raw, raw_len, cp, &text, &text_len, &enc, &used_cp)) != CG_OK) goto out;
  if ((rc = dsreg_parse(text, &doc)) != CG_OK) {
    if (rc == CG_ERR_TOOBIG) {
      char head[256];
      cg_escape_bytes(raw, raw_len, 48, head, sizeof(head));
      rc =
          cg_result_set(res, CG_ERROR, "AAD_UNPARSEABLE", "Capture the output again with: dsregcmd /status > dsreg.txt",
                        "The input has more sections or fields than any dsregcmd output; it starts with \"%s\".", head);
    }
    goto out;
  }
  char encname[48];
  if (enc == CG_ENC_CODEPAGE)
    cg_snprintf(encname, sizeof(encname), "code page %d", used_cp);
  else
    cg_strlcpy(encname, cg_text_encoding_name(enc), sizeof(encname));
  cJSON_AddStringToObject(res->facts, "input_encoding", encname);
  cJSON *parse = cJSON_AddObjectToObject(res->facts, "parse");
  cJSON_AddNumberToObject(parse, "sections", (double)doc.count);
  cJSON_AddNumberToObject(parse, "fields", (double)doc.kv_lines);
  cJSON_AddNumberToObject(parse, "free_lines", (double)doc.free_lines);
  cJSON_AddNumberToObject(parse, "continuations", (double)doc.continuations);

  struct aad_state st;
  aad_model(&doc, &st);
  /* The agent's own service runs dsregcmd as SYSTEM: the user's PRT is not visible then. */
  if (!ctx->input && cg_running_as_system()) {
    st.system_context = true;
    st.prt = TRI_NULL;
  }
  cJSON_AddBoolToObject(res->facts, "system_context", st.system_context);
  if (doc.kv_lines == 0 || st.azure_ad_joined == TRI_NULL) {
    rc = not_dsregcmd(&doc, raw, raw_len, res);
    if (rc == CG_OK) rc = aad_facts(&doc, &st, res->facts);
    goto out;
  }
  if ((rc = aad_facts(&doc, &st, res->facts)) != CG_OK) goto out;

  int64_t now = cg_time_utc_ms();
  if (ctx->evaluate_at && !aad_parse_time(ctx->evaluate_at, &now, NULL, 0)) {
    rc = cg_result_set(res, CG_ERROR, "AAD_BAD_SETTING", "Write evaluate_at as 2026-01-31T12:00:00Z, or null.",
                       "checks.aadjoin.evaluate_at \"%.40s\" is not a time.", ctx->evaluate_at);
    goto out;
  }
  if (st.cert_not_after_ms)
    cJSON_AddNumberToObject(res->facts, "device_cert_days_left", (double)((st.cert_not_after_ms - now) / DAY_MS));
  struct findings fs = {.n = 0};
  evaluate(ctx, &st, now, &fs);
  cJSON *codes = cJSON_AddArrayToObject(res->facts, "findings");
  size_t worst = 0;
  for (size_t i = 0; i < fs.n; i++) {
    cJSON_AddItemToArray(codes, cJSON_CreateString(fs.f[i].code));
    if (fs.f[i].sev > fs.f[worst].sev) worst = i;
  }
  const cJSON *ca = env->config ? cg_config_check(env->config, "clientauth") : NULL;
  const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ca, "mode"));
  bool relies_on_entra = mode && !cg_strcasecmp(mode, "entra");
  cJSON_AddBoolToObject(res->facts, "entra_required", relies_on_entra);
  publish_state(env, &st, &fs, worst);
  bool auth_ok = st.device_auth_status && cg_str_startswith_ci(st.device_auth_status, "SUCCESS");
  bool hybrid = !strcmp(st.join_type, "hybrid_joined");
  const char *tn = st.tenant_name && *st.tenant_name ? st.tenant_name : NULL;
  if (!entra_joined(&st) && !relies_on_entra) {
    /* Not an Entra identity: the client cannot use Entra, so nothing here decides the CMG. */
    rc = cg_result_set(res, CG_SKIP, "AAD_NOT_NEEDED", R_NOT_NEEDED,
                       "This device is %s, not Entra joined, so its ConfigMgr client does not use Entra to reach the "
                       "CMG: it uses a PKI client certificate or a site token (the clientauth check tells which).%s%s",
                       !strcmp(st.join_type, "domain_joined")       ? "only domain joined"
                       : !strcmp(st.join_type, "entra_registered")  ? "only Entra registered (a work account)"
                       : !strcmp(st.join_type, "enterprise_joined") ? "joined to on-premises device registration"
                                                                    : "joined to no directory",
                       fs.n ? " Should you rely on Entra: " : "", fs.n ? fs.f[worst].summary : "");
  } else if (fs.n == 0) {
    if (auth_ok)
      rc =
          cg_result_set(res, CG_PASS, "AAD_OK", NULL,
                        "The device is Entra %s to tenant %s%s%s%s and can request a device token for the CMG: "
                        "device authentication succeeded.",
                        hybrid ? "hybrid joined" : "joined", st.tenant_id, tn ? " (" : "", tn ? tn : "", tn ? ")" : "");
    else
      rc =
          cg_result_set(res, CG_PASS, "AAD_OK", NULL,
                        "The device is Entra %s to tenant %s%s%s%s with a valid device certificate; this dsregcmd "
                        "reports no device authentication test, so a token request itself is not proven.",
                        hybrid ? "hybrid joined" : "joined", st.tenant_id, tn ? " (" : "", tn ? tn : "", tn ? ")" : "");
  } else {
    const struct finding *f = &fs.f[worst];
    enum cg_verdict v = f->sev == SEV_FAIL ? CG_FAIL : CG_WARN;
    if (fs.n > 1)
      rc = cg_result_set(res, v, f->code, f->remediation, "%s (%zu more finding%s in facts.findings.)", f->summary,
                         fs.n - 1, fs.n > 2 ? "s" : "");
    else
      rc = cg_result_set(res, v, f->code, f->remediation, "%s", f->summary);
  }
out:
  dsreg_free(&doc);
  cg_free(raw);
  cg_free(text);
  return rc;
}

static const char *const aadjoin_provides[] = {CG_DISCOVERY_AAD_STATE, NULL};

const struct cg_check_plugin cg_check_aadjoin = {
    .provides = aadjoin_provides,
    .name = "aadjoin",
    .description = "Entra ID join state from dsregcmd /status: can the device get a device token for the CMG",
    .platforms = CG_PLATFORM_WINDOWS,
    .config_map = aad_map,
    .ctx_size = sizeof(struct aad_ctx),
    .run = aad_run,
};
