/* The `clientauth` check: how this ConfigMgr client authenticates to the CMG, and whether that works
 * now, from evidence (docs/checks/clientauth.md). What the client records comes first: the
 * certificate that identifies it (WMI CCM_ClientIdentificationInformation.ReservedString1, a
 * thumbprint: in LocalMachine\My a PKI certificate, elsewhere its self-signed one) or the admin's
 * `mode` setting. Without a record the mode is inferred: a PKI client-authentication certificate
 * that the client's selection criteria select (selection.h) before Entra or a site token (ccmsetup
 * "always prefers the certificate"; Entra before a token is inferred). An inferred problem warns and
 * names its evidence; only a recorded mode that does not work, or no possible mode, fails.
 * Live on Windows: CryptoAPI, WMI and the registry; `input`: the PowerShell captures (certjson.h,
 * identity.json), `reg export` files, a dsregcmd capture. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "certjson.h"
#include "config.h"
#include "discovery.h"
#include "platform/certstore.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "platform/wmi.h"
#include "plugin.h"
#include "regfile.h"
#include "selection.h"
#include "text.h"

#define DAY_MS (86400LL * 1000)
#define INPUT_MAX (4 * 1024 * 1024)
#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define K_SECURITY "SOFTWARE\\Microsoft\\CCM\\Security"
#define K_MOBILE "SOFTWARE\\Microsoft\\SMS\\Mobile Client"
#define K_COMPUTER "SYSTEM\\CurrentControlSet\\Control\\ComputerName\\ComputerName"

struct src {
  bool input;
  bool collected;         /* judging what ca_collect read on this device (the capture's path, the live meaning) */
  cJSON *seen;            /* ca_collect: the registry values read, regfile.h shape */
  char store_source[512]; /* "LocalMachine\\My" or the capture file (a copy: the path is freed) */
  struct cg_cert_info *certs;
  size_t ncerts;
  bool certs_known;
  cJSON *reg;                 /* reg export keys (input mode) */
  bool dsreg_seen;            /* input mode: a dsregcmd capture is in it (aadjoin judges it) */
  struct cg_handover_aad aad; /* aadjoin's hand-over (aad_known: there is one) */
  bool aad_known;
  char issuers[1024], criteria_source[96];
  struct selection sel;      /* CCMCERTSEL, or the default: the computer name in the subject */
  char sel_error[240];       /* a criterion that is none of the documented forms */
  char cert_store[64];       /* CCMCERTSTORE where recorded ("" : My) */
  int first_cert;            /* CCMFIRSTCERT: 1 the longest-valid of several, 0 none, -1 not recorded */
  char identity[64];         /* the thumbprint the client identifies with; "" not recorded */
  char aad_registration[96]; /* where the client logged "Registering client using AAD auth"; "" not seen */
  char identity_source[96];
  char client_version[64];
};

struct ca_ctx {
  char *mode, *cert_subject, *cert_selection, *computer_name, *evaluate_at;
  struct cg_strlist cert_issuers;
  int64_t cert_warn_days;
  struct src s; /* working state: the capture (parse_capture) or this device (ca_run); freed by ca_fini */
};

static const struct cg_config_map ca_map[] = {
    {CG_CFG_STRING, "mode", "\"auto\"",
     "auto: the client's own order (PKI certificate, then Entra, then a site token); pki, entra or token: judge "
     "that mode only",
     offsetof(struct ca_ctx, mode), 0, 0, NULL, "auto|pki|entra|token"},
    {CG_CFG_STRLIST, "cert_issuers", "[]",
     "Issuer or root CA names a client certificate must chain to (empty: the client's own list, read from "
     "HKLM\\SOFTWARE\\Microsoft\\CCM\\Security \"Certificate Issuers\")",
     offsetof(struct ca_ctx, cert_issuers), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "cert_selection", "null",
     "The client's certificate selection criterion as CCMCERTSEL writes it: Subject:VALUE, SubjectStr:VALUE or "
     "SubjectAttr:OU = Computers (null: the client's own, \"Certificate Selection Criteria\", else the computer name "
     "in the subject)",
     offsetof(struct ca_ctx, cert_selection), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "cert_subject", "null", "Older form of cert_selection: SubjectStr:VALUE",
     offsetof(struct ca_ctx, cert_subject), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "computer_name", "null",
     "The computer name of the default criterion (null: this device's, or the capture's ComputerName export)",
     offsetof(struct ca_ctx, computer_name), 0, 0, NULL, NULL},
    {CG_CFG_INT, "cert_warn_days", "30", "Warn when the client certificate expires within this many days",
     offsetof(struct ca_ctx, cert_warn_days), 0, 3650, NULL, NULL},
    {CG_CFG_STRING, "evaluate_at", "null",
     "Judge certificate dates at this UTC time (RFC 3339) instead of now: for reviewing an old capture",
     offsetof(struct ca_ctx, evaluate_at), 0, 0, NULL, NULL},
    CG_CFG_END,
};

/* ---- sources ---------------------------------------------------------------------------------- */

/* A non-empty HKLM value as text (regfile.h). */
static bool reg_value(const struct src *s, const char *key, const char *value, char *out, size_t outlen) {
  bool found = cg_regfile_hklm_text(s->input, s->reg, key, value, out, outlen);
  if (found && s->seen) cg_regfile_keep(s->seen, key, value, out); /* ca_collect: kept as read, as text */
  return found && out[0];
}

/* The client's own record of Entra registration: ClientIDManagerStartup.log's "Registering client
 * using AAD auth." (Microsoft Learn, Install and assign clients using Microsoft Entra ID). */
static void registration_evidence(struct src *s, const char *text, size_t len, const char *where) {
  if (cg_memmem_ci(text, len, "Registering client using AAD auth", 33))
    cg_snprintf(s->aad_registration, sizeof(s->aad_registration), "%.90s", where);
}

/* Live: the newest 1 MiB of ClientIDManagerStartup.log and of its rotated .lo_, from the first of the
 * client's log folders that has them, handed over as read. */
static int registration_collect(const struct cg_env *env) {
  char **dirs = NULL;
  size_t n = 0;
  int rc = CG_OK, found = 0;
  if (cg_client_log_dirs(&dirs, &n) != CG_OK) return CG_OK;
  for (size_t d = 0; d < n && !found && rc == CG_OK; d++)
    for (int k = 0; k < 2 && rc == CG_OK; k++) {
      const char *name = k ? "ClientIDManagerStartup.lo_" : "ClientIDManagerStartup.log";
      char *p = cg_path_join(dirs[d], name), *raw = NULL;
      int64_t size = p ? cg_file_size(p) : -1;
      size_t len = 0;
      if (size > 0 && cg_file_read_range(p, size > (1 << 20) ? size - (1 << 20) : 0, 1 << 20, &raw, &len) == CG_OK) {
        rc = cg_collect_put(env, "clientauth", name, raw, len);
        found++;
      }
      cg_free(raw);
      cg_free(p);
    }
  cg_dir_list_free(dirs, n);
  return rc;
}

/* One capture file (the core's source): the store (JSON), registry exports, or dsregcmd output,
 * told apart by content. */
static int parse_capture(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err,
                         size_t errlen) {
  (void)env;
  struct src *s = &((struct ca_ctx *)vctx)->s;
  char *text = NULL;
  size_t tl = 0;
  enum cg_text_encoding enc;
  int cp = 0;
  s->input = true;
  int rc = cg_text_decode_capture(f->data, f->len, 1252, &text, &tl, &enc, &cp);
  if (rc != CG_OK) return rc;
  const char *t = text;
  while (*t == ' ' || *t == '\r' || *t == '\n' || *t == '\t')
    t++;
  if ((*t == '[' || *t == '{') && strstr(t, "ReservedString1")) {
    /* identity.json: the certificate the client identifies with (CCM_ClientIdentificationInformation) */
    cJSON *j = cJSON_Parse(t), *row = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, 0) : j;
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "ReservedString1"));
    if (v) {
      cg_strlcpy(s->identity, v, sizeof(s->identity));
      cg_snprintf(s->identity_source, sizeof(s->identity_source), "%.80s", f->name);
    } else {
      cg_snprintf(err, errlen, "an identity capture without ReservedString1");
      rc = CG_ERR_PARSE;
    }
    cJSON_Delete(j);
  } else if (cg_str_startswith_ci(f->name, "ClientIDManagerStartup.lo")) {
    registration_evidence(s, text, strlen(text), f->name);
  } else if (*t == '[' || *t == '{' || cg_str_endswith_ci(f->name, ".json")) {
    if (s->certs_known) {
      cg_snprintf(err, errlen, "a second certificate store capture");
      rc = CG_ERR_PARSE;
    } else if ((rc = clientauth_certs_parse(text, &s->certs, &s->ncerts, err, errlen)) == CG_OK) {
      s->certs_known = true;
      cg_strlcpy(s->store_source, f->path, sizeof(s->store_source));
    }
  } else if (cg_regfile_is_export(t)) {
    rc = cg_regfile_merge(&s->reg, text);
  } else if (strstr(t, "AzureAdJoined") && !s->dsreg_seen) {
    s->dsreg_seen = true;
  } else {
    cg_snprintf(err, errlen, "neither the certificate store (JSON), a registry export nor dsregcmd output");
    rc = CG_ERR_PARSE;
  }
  cg_free(text);
  return rc;
}

/* aadjoin's verdict on the Entra identity, from this run's hand-over. The runner runs aadjoin before
 * clientauth (it provides what clientauth needs), also on a capture: it reads the same capture. */
static void entra_state(struct src *s, const struct cg_env *env) { s->aad_known = cg_handover_get_aad(env, &s->aad); }

/* ---- the PKI candidate ------------------------------------------------------------------------ */

struct pki {
  const struct cg_cert_info *ci;
  bool org;      /* a client-authentication certificate of the organisation's PKI */
  bool selected; /* the client's selection criteria select it */
  bool valid;    /* in date, with its private key, a chain the client accepts */
  bool usable;   /* selected and valid */
  bool identity; /* the certificate the client records as its own */
  char why[320];
  int64_t days_left;
};

/* Selection first (the client's issuers list and criteria: a certificate they do not select is
 * listed, never taken), then validity. */
static void judge_cert(const struct src *s, const struct cg_cert_info *ci, int64_t now, struct pki *e) {
  memset(e, 0, sizeof(*e));
  e->ci = ci;
  e->days_left = (ci->not_after_ms - now) / DAY_MS;
  e->org = !ca_entra_or_intune_cert(ci);
  e->identity = s->identity[0] && !cg_strcasecmp(s->identity, ci->thumbprint);
  char nb[32], na[32], why[300];
  bool unknown = false;
  cg_time_rfc3339(ci->not_before_ms, nb, sizeof(nb));
  cg_time_rfc3339(ci->not_after_ms, na, sizeof(na));
  if (!e->org)
    cg_snprintf(e->why, sizeof(e->why), "issued by %s for Entra or Intune, not a certificate the ConfigMgr client uses",
                ci->issuer);
  else if (s->issuers[0] && !ca_issuer_listed(s->issuers, ci->issuer) &&
           !(ci->root[0] && ca_issuer_listed(s->issuers, ci->root)) && ci->chain != -1)
    cg_snprintf(e->why, sizeof(e->why), "does not chain to an issuer the client accepts (%s)", s->issuers);
  else if (!s->sel_error[0] && !sel_matches(&s->sel, ci->subject, ci->sans, &unknown, why, sizeof(why)))
    cg_snprintf(e->why, sizeof(e->why), "is not selected by the client: %s", why);
  else
    e->selected = true;
  if (e->identity) e->selected = true; /* the client records it as its own, whatever the criteria say here */
  if (!e->selected) return;
  if (ci->not_after_ms <= now)
    cg_snprintf(e->why, sizeof(e->why), "expired on %.10s", na);
  else if (ci->not_before_ms > now)
    cg_snprintf(e->why, sizeof(e->why), "not valid before %.10s", nb);
  else if (ci->has_private_key == 0)
    cg_snprintf(e->why, sizeof(e->why), "has no private key on this device");
  else if (ci->chain == 1)
    cg_snprintf(e->why, sizeof(e->why), "%s", ci->chain_error);
  else
    e->valid = e->usable = true;
}

static cJSON *cert_json(const struct pki *e, const struct src *s) {
  cJSON *o = cJSON_CreateObject();
  char t[32];
  cJSON_AddStringToObject(o, "subject", e->ci->subject);
  if (e->ci->sans[0]) cJSON_AddStringToObject(o, "sans", e->ci->sans);
  cJSON_AddStringToObject(o, "issuer", e->ci->issuer);
  cJSON_AddStringToObject(o, "thumbprint", e->ci->thumbprint);
  cg_time_rfc3339(e->ci->not_after_ms, t, sizeof(t));
  cJSON_AddStringToObject(o, "not_after", t);
  cJSON_AddNumberToObject(o, "days_to_expiry", (double)e->days_left);
  if (e->ci->has_private_key < 0)
    cJSON_AddNullToObject(o, "has_private_key");
  else
    cJSON_AddBoolToObject(o, "has_private_key", e->ci->has_private_key == 1);
  cJSON_AddStringToObject(o, "chain",
                          e->ci->chain == 0   ? "trusted"
                          : e->ci->chain == 1 ? e->ci->chain_error
                                              : "not checked: a capture cannot build a chain");
  if (e->ci->root[0]) cJSON_AddStringToObject(o, "root", e->ci->root);
  if (e->ci->chain == -1 && s->issuers[0] && !ca_issuer_listed(s->issuers, e->ci->issuer))
    cJSON_AddStringToObject(o, "issuer_check",
                            "its issuer is not in the client's list; whether its chain leads to "
                            "a listed root is not known from a capture");
  cJSON_AddBoolToObject(o, "selected", e->selected);
  cJSON_AddBoolToObject(o, "usable", e->usable);
  if (e->identity) cJSON_AddBoolToObject(o, "client_identity", true);
  if (!e->usable) cJSON_AddStringToObject(o, "why", e->why);
  return o;
}

/* ---- the run ---------------------------------------------------------------------------------- */

struct verdict {
  const struct pki *best;      /* the certificate the client would use: selected and valid */
  const struct pki *first_sel; /* the selected one that explains a PKI failure (the recorded one first) */
  const struct pki *first_org; /* the organisation's first one, when none is selected */
  size_t n_client_auth, n_org, n_selected;
  bool entra_usable, entra_known, token_capable;
  bool pki_recorded, self_signed_recorded; /* what the client's identity certificate says */
  bool entra_recorded;                     /* the client logged its Entra registration */
  bool none_of_several;                    /* several selected and CCMFIRSTCERT=0: the client takes none */
  char entra_why[400], token_why[300], pki_why[420];
};

static void pki_reason(const struct src *s, const struct verdict *v, char *out, size_t outlen) {
  if (s->identity[0] && !v->pki_recorded && !v->self_signed_recorded)
    cg_snprintf(out, outlen, "the certificate the client records as its own (%s) is not in LocalMachine\\My",
                s->identity);
  else if (v->n_org == 0)
    cg_snprintf(out, outlen, "no client-authentication certificate of your PKI is in LocalMachine\\My");
  else if (v->n_selected == 0)
    cg_snprintf(out, outlen, "none of its %zu client-authentication certificate%s is selected by the client; %s %s",
                v->n_org, v->n_org == 1 ? "" : "s", v->first_org->ci->subject, v->first_org->why);
  else if (v->none_of_several)
    cg_snprintf(out, outlen,
                "%zu certificates meet its selection criteria and the client is set to select none of several "
                "(CCMFIRSTCERT=0)",
                v->n_selected);
  else
    cg_snprintf(out, outlen, "the client-authentication certificate it selects, %s (thumbprint %s), %s",
                v->first_sel->ci->subject, v->first_sel->ci->thumbprint, v->first_sel->why);
}

static const char R_PKI[] =
    "Renew or re-enroll the client-authentication certificate (certlm.msc > Personal > Certificates; autoenrollment "
    "runs with gpupdate /force on the intranet or VPN): it must carry Client Authentication, have its private key, "
    "chain to a root this device trusts and that was uploaded to the CMG, and match the site's certificate selection "
    "criteria.";
static const char R_PKI_INFERRED[] =
    "Nothing to do if the client uses Entra or a site token. If your site uses PKI client certificates when "
    "available (Site properties, Communication Security), renew the certificate named here, or take it out of the "
    "client's selection criteria.";
static const char R_ENTRA[] =
    "The client would use an Entra device token: fix the device's Entra identity as the aadjoin check says, or give "
    "it a PKI client certificate.";
static const char R_TOKEN[] =
    "Install or upgrade the ConfigMgr client (2002 or later) and let it register once on the intranet or VPN, or "
    "reinstall it from the internet with a bulk registration token (ccmsetup /regtoken).";
static const char R_NONE[] =
    "Give the device one way in: a client-authentication certificate from your PKI, an Entra or hybrid join, or a "
    "site token (register the client on the intranet/VPN once, or ccmsetup /regtoken). facts.candidates says what "
    "each one lacks.";

static void evidence(cJSON *list, const char *what, const char *where) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "what", what);
  cJSON_AddStringToObject(o, "source", where);
  cJSON_AddItemToArray(list, o);
}

/* Which mode, and whether that is recorded (the client's identity certificate, the admin's setting)
 * or inferred. */
static const char *decide_mode(const struct ca_ctx *c, const struct verdict *v, bool *recorded) {
  *recorded = true;
  if (c->mode && cg_strcasecmp(c->mode, "auto")) return c->mode;
  if (v->pki_recorded) return "pki";
  if (v->entra_recorded && v->entra_usable) return "entra";
  *recorded = false;
  if (!v->self_signed_recorded && v->n_selected && !v->none_of_several) return "pki";
  return v->entra_usable ? "entra" : v->token_capable ? "token" : "unknown";
}

static int finish(struct ca_ctx *c, const struct cg_env *env, const struct verdict *v, struct cg_result *res) {
  bool recorded;
  char use[8];
  cg_strlcpy(use, decide_mode(c, v, &recorded), sizeof(use));
  for (char *m = use; *m; m++)
    if (*m >= 'A' && *m <= 'Z') *m = (char)(*m + 32);
  bool configured = c->mode && cg_strcasecmp(c->mode, "auto");
  bool works = !strcmp(use, "pki")     ? v->best != NULL
               : !strcmp(use, "entra") ? v->entra_usable
               : !strcmp(use, "token") ? v->token_capable
                                       : false;
  /* an inferred PKI client whose certificate does not work may well use Entra or a token instead */
  bool fallback = !recorded && !strcmp(use, "pki") && !works && (v->entra_usable || v->token_capable);
  cJSON_AddStringToObject(res->facts, "mode", use);
  cJSON_AddStringToObject(res->facts, "mode_source", configured ? "configured" : "detected");
  cJSON_AddStringToObject(res->facts, "confidence", recorded ? "recorded" : "inferred");
  struct cg_handover_auth h = {.usable = works || fallback, .recorded = recorded};
  cg_strlcpy(h.mode, use, sizeof(h.mode));
  if (!strcmp(use, "pki") && v->best) cg_strlcpy(h.thumbprint, v->best->ci->thumbprint, sizeof(h.thumbprint));
  cg_handover_put_auth(env, &h);
  const char *how = configured ? " (configured)" : recorded ? " (as the client records)" : "";
  /* The one piece at fault, for a gate's line (profiles quote it as {reason}) */
  char reason[640] = "";
  if (!works && !fallback) {
    if (!strcmp(use, "entra"))
      cg_snprintf(reason, sizeof(reason), "%s", v->entra_why);
    else if (!strcmp(use, "token"))
      cg_snprintf(reason, sizeof(reason), "%s", v->token_why);
    else if (!strcmp(use, "pki") || v->n_org)
      cg_snprintf(reason, sizeof(reason), "%s", v->pki_why);
    else
      cg_snprintf(reason, sizeof(reason), "no PKI client certificate, no Entra join, no site token (%s)", v->token_why);
  }
  cJSON_AddStringToObject(res->facts, "reason", reason);
  if (!strcmp(use, "pki") && works) {
    const struct cg_cert_info *ci = v->best->ci;
    char na[32];
    cg_time_rfc3339(ci->not_after_ms, na, sizeof(na));
    bool soon = v->best->days_left < c->cert_warn_days;
    return cg_result_set(
        res, soon ? CG_WARN : CG_PASS, soon ? "CLIENTAUTH_PKI_EXPIRING" : "CLIENTAUTH_PKI_OK", soon ? R_PKI : NULL,
        "The client authenticates to the CMG with its PKI certificate%s %s (thumbprint %s), valid until "
        "%.10s (%lld days)%s%s.",
        how, ci->subject, ci->thumbprint, na, (long long)v->best->days_left,
        recorded ? "" : "; inferred: it is the certificate the client's selection criteria select",
        ci->chain == -1 ? "; its chain was not checked (a capture)" : "");
  }
  if (fallback)
    return cg_result_set(res, CG_WARN, "CLIENTAUTH_PKI_INFERRED_UNUSABLE", R_PKI_INFERRED,
                         "Inferred, not recorded: if the client uses a PKI certificate, it cannot, because %s; "
                         "%s remains possible, and whether the site uses PKI certificates when available cannot be "
                         "read on the device.",
                         v->pki_why, v->entra_usable ? "an Entra device token" : "a site token");
  if (!strcmp(use, "entra") && works)
    return cg_result_set(
        res, v->entra_known ? CG_PASS : CG_WARN, v->entra_known ? "CLIENTAUTH_ENTRA_OK" : "CLIENTAUTH_ENTRA_UNPROVEN",
        v->entra_known ? NULL : R_ENTRA, "The client authenticates to the CMG with an Entra device token%s%s%s.", how,
        configured || recorded ? "" : " (inferred: no certificate the client selects, and the device is Entra joined)",
        v->entra_known ? "" : ", but the dsregcmd output does not show everything that needs");
  if (!strcmp(use, "token") && works)
    return cg_result_set(res, CG_PASS, "CLIENTAUTH_TOKEN_OK", NULL,
                         "The client can authenticate to the CMG with a token its site issues%s: a token client by its "
                         "version (2002 or later) without a certificate it selects or an Entra join; the token itself "
                         "cannot be read on the device. A client that has not reached its site for more than 30 days "
                         "has an expired token (CMGService_Invalid_Token): it must reconnect to the intranet or VPN.",
                         how);
  if (!strcmp(use, "pki"))
    return cg_result_set(res, CG_FAIL, "CLIENTAUTH_PKI_UNUSABLE", R_PKI,
                         "The client cannot authenticate to the CMG with its PKI certificate%s: %s.", how, v->pki_why);
  if (!strcmp(use, "entra"))
    return cg_result_set(res, CG_FAIL, "CLIENTAUTH_ENTRA_UNUSABLE", R_ENTRA,
                         "The client cannot authenticate to the CMG with an Entra device token: %s.", v->entra_why);
  if (!strcmp(use, "token"))
    return cg_result_set(res, CG_FAIL, "CLIENTAUTH_TOKEN_UNUSABLE", R_TOKEN,
                         "The client cannot authenticate to the CMG with a site token: %s.", v->token_why);
  return cg_result_set(res, CG_FAIL, "CLIENTAUTH_NONE", v->n_org ? R_PKI : R_NONE,
                       "The client has no way to authenticate to the CMG: %s; Entra: %s; site token: %s.", v->pki_why,
                       v->entra_why, v->token_why);
}

/* The client's own selection criteria, where ccmsetup's CCMCERTISSUERS, CCMCERTSEL, CCMCERTSTORE and
 * CCMFIRSTCERT end up (value names inferred, see docs/checks/clientauth.md); settings replace them. */
static void criteria(struct ca_ctx *c, struct src *s) {
  char sel[256] = "", v[64] = "", crit[300] = "";
  bool from_client = reg_value(s, K_SECURITY, "Certificate Issuers", s->issuers, sizeof(s->issuers));
  if (reg_value(s, K_SECURITY, "Certificate Selection Criteria", sel, sizeof(sel))) {
    from_client = true;
    cg_strlcpy(crit, sel, sizeof(crit));
  }
  reg_value(s, K_SECURITY, "Certificate Store", s->cert_store, sizeof(s->cert_store));
  s->first_cert = reg_value(s, K_SECURITY, "Select First Certificate", v, sizeof(v)) ? strcmp(v, "0") != 0 : -1;
  cg_strlcpy(s->criteria_source, from_client ? "the client's registry (HKLM\\" K_SECURITY ")" : "none",
             sizeof(s->criteria_source));
  if (c->cert_issuers.count) {
    s->issuers[0] = '\0';
    for (size_t i = 0; i < c->cert_issuers.count; i++) {
      size_t l = strlen(s->issuers);
      cg_snprintf(s->issuers + l, sizeof(s->issuers) - l, "%s%s", l ? " | " : "", c->cert_issuers.items[i]);
    }
    cg_strlcpy(s->criteria_source, "setting", sizeof(s->criteria_source));
  }
  if (c->cert_selection || c->cert_subject) {
    if (c->cert_selection)
      cg_strlcpy(crit, c->cert_selection, sizeof(crit));
    else
      cg_snprintf(crit, sizeof(crit), "SubjectStr:%s", c->cert_subject);
    cg_strlcpy(s->criteria_source, "setting", sizeof(s->criteria_source));
  }
  if (!sel_parse(crit, &s->sel, s->sel_error, sizeof(s->sel_error))) s->sel.kind = SEL_DEFAULT;
  if (s->sel.kind != SEL_DEFAULT) return;
  /* the default criterion: the computer name in the subject */
  if (c->computer_name) {
    cg_strlcpy(s->sel.computer, c->computer_name, sizeof(s->sel.computer));
  } else if (s->input) {
    reg_value(s, K_COMPUTER, "ComputerName", s->sel.computer, sizeof(s->sel.computer));
  } else {
    char *h = cg_hostname();
    if (h) cg_snprintf(s->sel.computer, sizeof(s->sel.computer), "%.*s", (int)strcspn(h, "."), h);
    cg_free(h);
  }
}

/* The certificate the client identifies with (CCM_ClientIdentificationInformation.ReservedString1,
 * observed: a thumbprint of LocalMachine\My for a PKI client, of its self-signed certificate else). */
static void identity_live(struct src *s) {
  cJSON *rows = NULL;
  struct cg_wmi_error we;
  if (cg_wmi_query("root\\ccm", "SELECT ReservedString1 FROM CCM_ClientIdentificationInformation", 15000, &rows, &we) ==
      CG_OK) {
    const char *v =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rows, 0), "ReservedString1"));
    if (v && strspn(v, "0123456789abcdefABCDEF") == strlen(v) && strlen(v) >= 40) {
      cg_strlcpy(s->identity, v, sizeof(s->identity));
      cg_strlcpy(s->identity_source, "WMI root\\ccm CCM_ClientIdentificationInformation.ReservedString1",
                 sizeof(s->identity_source));
    }
  }
  cJSON_Delete(rows);
}

/* The Entra and the site-token candidates, as facts and in the verdict's terms. */
static void entra_and_token_facts(const struct src *sp, cJSON *cands, struct verdict *vp) {
  cJSON *en = cJSON_AddObjectToObject(cands, "entra");
  int eu = sp->aad_known ? sp->aad.entra_usable : 0; /* 1, 0, -1: not known */
  const char *jt = sp->aad_known && sp->aad.join_type[0] ? sp->aad.join_type : "unknown", *why = sp->aad.reason;
  vp->entra_usable = eu != 0;
  vp->entra_known = eu == 1;
  if (!sp->aad_known)
    cg_snprintf(vp->entra_why, sizeof(vp->entra_why), "the Entra join state is not known (%s)",
                !sp->input || sp->collected ? "aadjoin did not run"
                : sp->dsreg_seen            ? "aadjoin could not judge the dsregcmd capture"
                                            : "no dsregcmd capture in the input");
  else if (!vp->entra_usable) {
    cg_snprintf(vp->entra_why, sizeof(vp->entra_why), "%s", *why ? why : "the device is not Entra joined");
    size_t l = strlen(vp->entra_why); /* it is quoted inside a sentence */
    if (l && vp->entra_why[l - 1] == '.') vp->entra_why[l - 1] = '\0';
    if (vp->entra_why[0] >= 'A' && vp->entra_why[0] <= 'Z' && vp->entra_why[1] >= 'a')
      vp->entra_why[0] = (char)(vp->entra_why[0] + 32);
  }
  cJSON_AddItemToObject(en, "usable", sp->aad_known && eu >= 0 ? cJSON_CreateBool(eu) : cJSON_CreateNull());
  cJSON_AddStringToObject(en, "join_type", jt);
  if (vp->entra_why[0]) cJSON_AddStringToObject(en, "why", vp->entra_why);

  cJSON *tk = cJSON_AddObjectToObject(cands, "token");
  bool capable = ca_token_capable(sp->client_version, vp->token_why, sizeof(vp->token_why));
  if (!capable && sp->input && !sp->collected && !sp->client_version[0])
    cg_snprintf(vp->token_why, sizeof(vp->token_why),
                "the capture has no client version (add: reg export \"HKLM\\%s\" client.reg)", K_MOBILE);
  /* the site issues tokens to clients that use their self-signed certificate: a client that records
   * a PKI certificate as its own has none */
  vp->token_capable = capable && !vp->pki_recorded;
  if (capable && vp->pki_recorded)
    cg_snprintf(vp->token_why, sizeof(vp->token_why),
                "the client records a PKI certificate as its own, so it is a PKI client and has no site token");
  cJSON_AddBoolToObject(tk, "usable", vp->token_capable);
  if (sp->client_version[0])
    cJSON_AddStringToObject(tk, "client_version", sp->client_version);
  else
    cJSON_AddNullToObject(tk, "client_version");
  if (!vp->token_capable) cJSON_AddStringToObject(tk, "why", vp->token_why);
  cJSON_AddStringToObject(tk, "age", "unknown: the client does not record when its token was renewed");
}

/* The PKI candidates: every client-authentication certificate judged, the one the client would use. */
static void pki_candidates(const struct src *s, int64_t now, struct pki *evals, struct verdict *v, cJSON *list) {
  for (size_t i = 0; i < s->ncerts; i++) {
    if (!ca_has_eku(&s->certs[i], OID_CLIENT_AUTH) &&
        !(s->identity[0] && !cg_strcasecmp(s->identity, s->certs[i].thumbprint)))
      continue;
    struct pki *e = &evals[v->n_client_auth++];
    judge_cert(s, &s->certs[i], now, e);
    cJSON_AddItemToArray(list, cert_json(e, s));
    if (e->org && !v->first_org) v->first_org = e;
    v->n_org += e->org;
    v->n_selected += e->selected;
    if (e->identity) v->pki_recorded = true;
    /* the recorded certificate; else, as the client does, among the selected ones that are valid
     * (in date, key, chain) the longest-valid (CCMFIRSTCERT's default); with none valid, the
     * longest-valid selected one explains why */
    const struct pki *f = v->first_sel;
    bool better = !f || (e->identity && !f->identity) ||
                  (!f->identity && ((e->usable && !f->usable) ||
                                    (e->usable == f->usable && e->ci->not_after_ms > f->ci->not_after_ms)));
    if (e->selected && better) v->first_sel = e;
  }
  size_t valid = 0;
  for (size_t i = 0; i < v->n_client_auth; i++)
    valid += evals[i].usable;
  v->self_signed_recorded = s->identity[0] && !v->pki_recorded;
  v->none_of_several = !v->pki_recorded && valid > 1 && s->first_cert == 0;
  if (v->first_sel && v->first_sel->usable && !v->none_of_several) v->best = v->first_sel;
  if (!v->first_sel && v->first_org) /* the organisation's most recent one explains best */
    for (size_t i = 0; i < v->n_client_auth; i++)
      if (evals[i].org && evals[i].ci->not_after_ms > v->first_org->ci->not_after_ms) v->first_org = &evals[i];
}

static void evidence_facts(const struct ca_ctx *c, const struct src *s, const struct verdict *v, cJSON *facts) {
  cJSON *ev = cJSON_AddArrayToObject(facts, "evidence");
  char t[400], crit[300];
  if (c->mode && cg_strcasecmp(c->mode, "auto")) {
    cg_snprintf(t, sizeof(t), "the administrator names the mode %s", c->mode);
    evidence(ev, t, "setting checks.clientauth.mode");
  }
  if (s->identity[0]) {
    cg_snprintf(t, sizeof(t), "the client identifies with the certificate %s: %s", s->identity,
                v->pki_recorded ? "in LocalMachine\\My, a PKI certificate"
                                : "not in LocalMachine\\My, its self-signed one");
    evidence(ev, t, s->identity_source);
  } else {
    evidence(ev, "the client's own certificate is not recorded here (inferred from the store)",
             s->input && !s->collected ? "add identity.json (docs/checks/clientauth.md)"
                                       : "WMI root\\ccm CCM_ClientIdentificationInformation");
  }
  if (s->aad_registration[0])
    evidence(ev, "the client registered with Entra ID (\"Registering client using AAD auth\")", s->aad_registration);
  sel_text(&s->sel, crit, sizeof(crit));
  if (s->sel_error[0])
    cg_snprintf(t, sizeof(t), "the selection criterion cannot be read (%s): judged by the default", s->sel_error);
  else
    cg_snprintf(t, sizeof(t), "selection: %s; %zu of %zu client-authentication certificate(s) selected", crit,
                v->n_selected, v->n_client_auth);
  evidence(ev, t, s->criteria_source);
  if (s->cert_store[0] && cg_strcasecmp(s->cert_store, "MY")) {
    cg_snprintf(t, sizeof(t), "the client selects from the store %s (CCMCERTSTORE), not LocalMachine\\My: not checked",
                s->cert_store);
    evidence(ev, t, s->criteria_source);
  }
  if (s->first_cert == 0)
    evidence(ev, "of several certificates the client selects none (CCMFIRSTCERT=0)", s->criteria_source);
  evidence(ev,
           "whether the site uses a PKI client certificate when available (a site option) is not recorded on the "
           "device",
           "docs/checks/clientauth.md");
}

/* What ca_collect read, in the formats of a capture (docs/checks/clientauth.md): certs.json (with the
 * chain Windows built), registry.reg, identity.json and the client's registration log. */
static int put_captures(const struct src *s, const struct cg_env *env) {
  char *certs = clientauth_certs_write(s->certs, s->ncerts);
  int rc = certs ? cg_collect_put(env, "clientauth", "certs.json", certs, strlen(certs)) : CG_ERR_NOMEM;
  cg_free(certs);
  if (rc == CG_OK) rc = cg_collect_put_registry(env, "clientauth", s->seen);
  if (rc == CG_OK && s->identity[0]) {
    char id[120];
    cg_snprintf(id, sizeof(id), "[{\"ReservedString1\": \"%s\"}]\n", s->identity); /* hex digits only */
    rc = cg_collect_put(env, "clientauth", "identity.json", id, strlen(id));
  }
  return rc == CG_OK ? registration_collect(env) : rc;
}

/* The half that reads the device (plugin.h `collect`), with the agent's privilege: LocalMachine\My (the
 * certificates, their keys' presence, the chains Windows builds), the client's registry values, its
 * identity in WMI and its registration log; kept as a capture holds them. No certificate store or no
 * client decides here; the rest is judged by the other half, in the worker where there is one. */
static int ca_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  struct ca_ctx *c = vctx;
  struct src *s = &c->s;
  char err[512] = "";
  *decided = true;
  cJSON_AddStringToObject(res->facts, "source", "live");
  int rc = cg_certstore_machine_my(&s->certs, &s->ncerts, err, sizeof(err));
  if (rc == CG_ERR_UNSUPPORTED)
    return cg_result_set(res, CG_SKIP, "CLIENTAUTH_NOT_WINDOWS",
                         "Run it on the Windows device, or give --input captures.",
                         "There is no ConfigMgr client or Windows certificate store on this platform.");
  if (rc != CG_OK)
    return cg_result_set(res, CG_ERROR, "CLIENTAUTH_STORE_UNREADABLE", "Run cmgdiag as SYSTEM or an administrator.",
                         "The certificate store cannot be read: %s.", err);
  if (!(s->seen = cJSON_CreateObject())) return CG_ERR_NOMEM;
  criteria(c, s);
  reg_value(s, K_MOBILE, "ProductVersion", s->client_version, sizeof(s->client_version));
  if (!s->client_version[0] && (!c->mode || !cg_strcasecmp(c->mode, "auto")))
    return cg_result_set(res, CG_SKIP, "CLIENTAUTH_NO_CLIENT", "Install the ConfigMgr client (ccmsetup.exe).",
                         "The ConfigMgr client is not installed on this device, so nothing authenticates to the CMG.");
  /* the computer name of the default criterion, where a capture has it */
  char *h = cg_hostname(), name[64];
  cg_snprintf(name, sizeof(name), "%.*s", h ? (int)strcspn(h, ".") : 0, h ? h : "");
  cg_free(h);
  if (name[0]) cg_regfile_keep(s->seen, K_COMPUTER, "ComputerName", name);
  identity_live(s);
  *decided = false;
  return put_captures(s, env);
}

static const struct cg_source ca_source;

/* The judging half of a live run: what ca_collect read, parsed as a capture is. */
static int take_collected(struct ca_ctx *c, const struct cg_env *env, struct cg_result *res) {
  struct src *s = &c->s;
  int rc = cg_judge_collected(c, env, &ca_source, NULL, "this device's certificates and client", res);
  if (rc != CG_OK || res->code) return rc;
  s->input = s->collected = true;
  cg_strlcpy(s->store_source, "LocalMachine\\My", sizeof(s->store_source));
  if (s->identity[0])
    cg_strlcpy(s->identity_source, "WMI root\\ccm CCM_ClientIdentificationInformation.ReservedString1",
               sizeof(s->identity_source));
  return CG_OK;
}

static int ca_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct ca_ctx *c = vctx;
  struct src *s = &c->s;
  int rc = CG_OK;
  struct pki *evals = NULL;
  if (!env->input && ((rc = take_collected(c, env, res)) != CG_OK || res->code)) goto out;
  if (!s->certs_known) {
    rc = cg_result_set(res, CG_ERROR, "CLIENTAUTH_NO_STORE_CAPTURE",
                       "Add certs.json (see the clientauth documentation for the PowerShell line) to the folder.",
                       "The input %s has no capture of LocalMachine\\My.", env->input ? env->input : "");
    goto out;
  }
  criteria(c, s);
  reg_value(s, K_MOBILE, "ProductVersion", s->client_version, sizeof(s->client_version));
  entra_state(s, env);

  int64_t now = cg_time_utc_ms();
  if (c->evaluate_at && !clientauth_parse_date(c->evaluate_at, &now)) {
    rc = cg_result_set(res, CG_ERROR, "CLIENTAUTH_BAD_SETTING", "Write evaluate_at as 2026-01-31T12:00:00Z, or null.",
                       "checks.clientauth.evaluate_at \"%.40s\" is not a time.", c->evaluate_at);
    goto out;
  }
  const char *asof = c->evaluate_at ? c->evaluate_at : env->captured_at;
  if (!c->evaluate_at && asof) cg_time_parse(asof, &now); /* a capture is judged as of when it was taken */
  if (asof) cJSON_AddStringToObject(res->facts, "judged_as_of", asof);
  struct verdict v;
  memset(&v, 0, sizeof(v));
  evals = cg_calloc(s->ncerts ? s->ncerts : 1, sizeof(*evals));
  if (!evals) {
    rc = CG_ERR_NOMEM;
    goto out;
  }
  cJSON *cands = cJSON_AddObjectToObject(res->facts, "candidates");
  cJSON *pk = cJSON_AddObjectToObject(cands, "pki"), *list = cJSON_AddArrayToObject(pk, "certificates");
  pki_candidates(s, now, evals, &v, list);
  pki_reason(s, &v, v.pki_why, sizeof(v.pki_why));
  cJSON_AddBoolToObject(pk, "usable", v.best != NULL);
  if (!v.best) cJSON_AddStringToObject(pk, "why", v.pki_why);
  cJSON_AddNumberToObject(pk, "other_certificates", (double)(s->ncerts - v.n_client_auth));
  cJSON_AddStringToObject(pk, "store", s->store_source);
  cJSON *sel = cJSON_AddObjectToObject(pk, "selection");
  char crit[300];
  sel_text(&s->sel, crit, sizeof(crit));
  cJSON_AddStringToObject(sel, "issuers", s->issuers);
  cJSON_AddStringToObject(sel, "criterion", crit);
  if (s->sel_error[0]) cJSON_AddStringToObject(sel, "error", s->sel_error);
  cJSON_AddStringToObject(sel, "source", s->criteria_source);

  v.entra_recorded = s->aad_registration[0] && !v.pki_recorded;
  entra_and_token_facts(s, cands, &v);
  evidence_facts(c, s, &v, res->facts);
  rc = finish(c, env, &v, res);
out:
  cg_free(evals);
  return rc;
}

static void ca_fini(void *vctx) {
  struct src *s = &((struct ca_ctx *)vctx)->s;
  cg_free(s->certs);
  cJSON_Delete(s->reg);
  cJSON_Delete(s->seen);
}

static const struct cg_source ca_source = {
    .accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER,
    .max_bytes = INPUT_MAX,
    .code_prefix = "CLIENTAUTH",
    .what = "the certificate store as ConvertTo-Json, reg export files or a dsregcmd /status output",
    .how = "Capture the store again: Get-ChildItem Cert:\\LocalMachine\\My | Select-Object Subject,Issuer,"
           "Thumbprint,NotBefore,NotAfter,HasPrivateKey,@{n='EnhancedKeyUsageList';e={$_.EnhancedKeyUsageList."
           "ObjectId}} | ConvertTo-Json > certs.json (docs/checks/clientauth.md lists the rest).",
    .parse = parse_capture,
};

static const char *const clientauth_needs[] = {CG_DISCOVERY_AAD_STATE, NULL};
static const char *const clientauth_provides[] = {CG_DISCOVERY_AUTH_MODE, NULL};

const struct cg_check_plugin cg_check_clientauth = {
    .needs = clientauth_needs,
    .provides = clientauth_provides,
    .name = "clientauth",
    .description =
        "how the client authenticates to the CMG (PKI certificate, Entra token, site token) and whether it works",
    .platforms = CG_PLATFORM_ANY,
    .config_map = ca_map,
    .ctx_size = sizeof(struct ca_ctx),
    .source = &ca_source,
    .collect = ca_collect,
    .run = ca_run,
    .fini = ca_fini,
};
