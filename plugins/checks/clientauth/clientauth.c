/* The `clientauth` check: how this ConfigMgr client authenticates to the CMG, and whether that works
 * now. The client uses the first of these that works (docs/domain.md, "Authentication"):
 *   1. a PKI client-authentication certificate in LocalMachine\My (valid, with its private key, a
 *      chain to a trusted root, matching the client's certificate selection criteria);
 *   2. an Entra device token (the device is Entra or hybrid joined: aadjoin's hand-over);
 *   3. a token the site issued (ConfigMgr 2002 and later clients).
 * Setting `mode` names the mode instead of detecting it. Live on Windows: CryptoAPI and the registry;
 * `input` (a file or folder): the PowerShell capture of the store (certjson.h), `reg export` files,
 * a dsregcmd capture. */
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
#include "runner.h"
#include "text.h"

#define DAY_MS (86400LL * 1000)
#define INPUT_MAX (4 * 1024 * 1024)
#define OID_CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
/* ConfigMgr 2002, the first client that can use a site-issued token (Microsoft Learn, "Token-based
 * authentication for cloud management gateway"). */
#define TOKEN_MIN_BUILD 8968
#define K_SECURITY "SOFTWARE\\Microsoft\\CCM\\Security"
#define K_MOBILE "SOFTWARE\\Microsoft\\SMS\\Mobile Client"

struct src {
  bool input;
  char store_source[512]; /* "LocalMachine\\My" or the capture file (a copy: the path is freed) */
  struct cg_cert_info *certs;
  size_t ncerts;
  bool certs_known;
  cJSON *reg;       /* reg export keys (input mode) */
  char *dsreg_file; /* input mode: a dsregcmd capture */
  cJSON *aad;       /* aadjoin's hand-over, owned copy */
  char issuers[1024], subject_rule[256], criteria_source[96];
  char client_version[64];
};

struct ca_ctx {
  char *mode, *cert_subject, *evaluate_at;
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
    {CG_CFG_STRING, "cert_subject", "null",
     "Text the client certificate's subject must contain (null: the client's own criterion, \"Certificate Selection "
     "Criteria\" SubjectStr:/SubjectAttr:)",
     offsetof(struct ca_ctx, cert_subject), 0, 0, NULL, NULL},
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
  return cg_regfile_hklm_text(s->input, s->reg, key, value, out, outlen) && out[0];
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
  if (*t == '[' || *t == '{' || cg_str_endswith_ci(f->name, ".json")) {
    if (s->certs_known) {
      cg_snprintf(err, errlen, "a second certificate store capture");
      rc = CG_ERR_PARSE;
    } else if ((rc = clientauth_certs_parse(text, &s->certs, &s->ncerts, err, errlen)) == CG_OK) {
      s->certs_known = true;
      cg_strlcpy(s->store_source, f->path, sizeof(s->store_source));
    }
  } else if (cg_regfile_is_export(t)) {
    rc = cg_regfile_merge(&s->reg, text);
  } else if (strstr(t, "AzureAdJoined") && !s->dsreg_file) {
    if (!(s->dsreg_file = cg_strdup(f->path))) rc = CG_ERR_NOMEM;
  } else {
    cg_snprintf(err, errlen, "neither the certificate store (JSON), a registry export nor dsregcmd output");
    rc = CG_ERR_PARSE;
  }
  cg_free(text);
  return rc;
}

/* aadjoin's verdict on the Entra identity: from this run's hand-over, or by running aadjoin (on the
 * dsregcmd capture in input mode) when clientauth runs on its own. */
static void entra_state(struct src *s, const struct cg_env *env) {
  const cJSON *h = cg_discovery_get(env, CG_DISCOVERY_AAD_STATE);
  if (h) {
    s->aad = cJSON_Duplicate(h, true);
    return;
  }
  const struct cg_check_plugin *p = cg_registry_find_check("aadjoin");
  if (!p || (s->input && !s->dsreg_file)) return;
  struct cg_config tmp;
  memset(&tmp, 0, sizeof(tmp));
  char set[1200], err[256];
  const char *sets[] = {set};
  struct cg_config_override ov = {.check = "aadjoin", .sets = sets, .count = 1};
  cg_snprintf(set, sizeof(set), "input=%s", s->dsreg_file ? s->dsreg_file : "");
  bool own = s->input && cg_config_load_text(&tmp, "{}", 2, "clientauth", &ov, err, sizeof(err)) == CG_OK;
  struct cg_env sub = {.config = own ? &tmp : env->config, .log = env->log, .discovery = cJSON_CreateObject()};
  if (sub.config && sub.discovery) {
    struct cg_result r;
    cg_run_check(p, &sub, &r);
    cg_result_free(&r);
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(sub.discovery, CG_DISCOVERY_AAD_STATE);
    if (got) s->aad = cJSON_Duplicate(got, true);
  }
  cJSON_Delete(sub.discovery);
  cg_config_free(&tmp);
}

/* ---- the PKI candidate ------------------------------------------------------------------------ */

struct pki {
  const struct cg_cert_info *ci;
  bool usable, org; /* org: a client-authentication certificate of the organisation's PKI */
  char why[320];
  int64_t days_left;
};

static bool has_eku(const struct cg_cert_info *ci, const char *oid) {
  for (size_t i = 0; i < ci->n_ekus; i++)
    if (!strcmp(ci->ekus[i], oid)) return true;
  return false;
}

/* Certificates with Client Authentication that Windows puts in LocalMachine\My for Entra and
 * Intune; they chain to roots outside the machine's trusted roots, so the ConfigMgr client never
 * selects them (an inference from how the client selects, see docs/checks/clientauth.md). */
static bool entra_or_intune_cert(const struct cg_cert_info *ci) {
  return cg_str_contains_ci(ci->issuer, "MS-Organization-Access") ||
         cg_str_contains_ci(ci->issuer, "MS-Organization-P2P-Access") ||
         cg_str_contains_ci(ci->issuer, "Microsoft Intune MDM Device CA") ||
         cg_str_contains_ci(ci->issuer, "Microsoft Intune Root Certification Authority");
}

/* "CN=Root; O=Contoso" and "CN=Root, O=Contoso" name the same issuer: compare letters and digits
 * and '=' only, case-insensitively. */
static bool same_dn(const char *a, const char *b) {
  for (;;) {
    while (*a && !((*a >= '0' && *a <= '9') || (*a >= 'A' && *a <= 'Z') || (*a >= 'a' && *a <= 'z') || *a == '='))
      a++;
    while (*b && !((*b >= '0' && *b <= '9') || (*b >= 'A' && *b <= 'Z') || (*b >= 'a' && *b <= 'z') || *b == '='))
      b++;
    if (!*a || !*b) return !*a && !*b;
    char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a, y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
    if (x != y) return false;
    a++, b++;
  }
}

/* The issuers list: "DN | DN | ..." (ccmsetup CCMCERTISSUERS form). */
static bool issuer_listed(const char *list, const char *dn) {
  char item[512];
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, "|");
    cg_snprintf(item, sizeof(item), "%.*s", (int)(n < 511 ? n : 511), p);
    if (*cg_str_trim(item) && same_dn(item, dn)) return true;
    p += n + (p[n] == '|');
  }
  return false;
}

static void judge_cert(const struct src *s, const struct cg_cert_info *ci, int64_t now, struct pki *e) {
  memset(e, 0, sizeof(*e));
  e->ci = ci;
  e->days_left = (ci->not_after_ms - now) / DAY_MS;
  e->org = !entra_or_intune_cert(ci);
  char nb[32], na[32];
  cg_time_rfc3339(ci->not_before_ms, nb, sizeof(nb));
  cg_time_rfc3339(ci->not_after_ms, na, sizeof(na));
  if (!e->org)
    cg_snprintf(e->why, sizeof(e->why), "issued by %s for Entra or Intune, not a certificate the ConfigMgr client uses",
                ci->issuer);
  else if (ci->not_after_ms <= now)
    cg_snprintf(e->why, sizeof(e->why), "expired on %.10s", na);
  else if (ci->not_before_ms > now)
    cg_snprintf(e->why, sizeof(e->why), "not valid before %.10s", nb);
  else if (ci->has_private_key == 0)
    cg_snprintf(e->why, sizeof(e->why), "has no private key on this device");
  else if (ci->chain == 1)
    cg_snprintf(e->why, sizeof(e->why), "%s", ci->chain_error);
  else if (s->issuers[0] && !issuer_listed(s->issuers, ci->issuer) &&
           !(ci->root[0] && issuer_listed(s->issuers, ci->root)) && ci->chain != -1)
    cg_snprintf(e->why, sizeof(e->why), "does not chain to an issuer the client accepts (%s)", s->issuers);
  else if (s->subject_rule[0] && !cg_str_contains_ci(ci->subject, s->subject_rule))
    cg_snprintf(e->why, sizeof(e->why), "has a subject without \"%s\" (the client's selection criterion)",
                s->subject_rule);
  else
    e->usable = true;
}

static cJSON *cert_json(const struct pki *e, const struct src *s) {
  cJSON *o = cJSON_CreateObject();
  char t[32];
  cJSON_AddStringToObject(o, "subject", e->ci->subject);
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
  if (e->ci->chain == -1 && s->issuers[0] && !issuer_listed(s->issuers, e->ci->issuer))
    cJSON_AddStringToObject(o, "issuer_check",
                            "its issuer is not in the client's list; whether its chain leads to "
                            "a listed root is not known from a capture");
  cJSON_AddBoolToObject(o, "usable", e->usable);
  if (!e->usable) cJSON_AddStringToObject(o, "why", e->why);
  return o;
}

/* ---- the run ---------------------------------------------------------------------------------- */

struct verdict {
  const struct pki *best, *first_org; /* the certificate the client would use; the org's first one */
  size_t n_client_auth, n_org;
  bool entra_usable, entra_known, token_possible;
  char entra_why[400], token_why[300], pki_why[420];
};

static void pki_reason(const struct verdict *v, char *out, size_t outlen) {
  if (v->n_org == 0)
    cg_snprintf(out, outlen, "no client-authentication certificate of your PKI is in LocalMachine\\My");
  else if (v->n_org == 1)
    cg_snprintf(out, outlen, "its only client-authentication certificate %s (thumbprint %s) %s",
                v->first_org->ci->subject, v->first_org->ci->thumbprint, v->first_org->why);
  else
    cg_snprintf(out, outlen, "none of its %zu client-authentication certificates is usable; %s (thumbprint %s) %s",
                v->n_org, v->first_org->ci->subject, v->first_org->ci->thumbprint, v->first_org->why);
}

static bool token_capable(const char *version, char *why, size_t whylen) {
  /* "5.00.9122.1000": the third part is the build */
  int part = 0;
  long build = 0;
  for (const char *p = version; *p && part <= 2; p++) {
    if (*p == '.')
      part++;
    else if (part == 2 && *p >= '0' && *p <= '9')
      build = build * 10 + (*p - '0');
  }
  if (!*version) {
    cg_snprintf(why, whylen, "the ConfigMgr client is not installed (no version in HKLM\\%s)", K_MOBILE);
    return false;
  }
  if (build < TOKEN_MIN_BUILD) {
    cg_snprintf(why, whylen, "client %s is older than ConfigMgr 2002 (build %d), the first to use site tokens", version,
                TOKEN_MIN_BUILD);
    return false;
  }
  return true;
}

static const char R_PKI[] =
    "Renew or re-enroll the client-authentication certificate (certlm.msc > Personal > Certificates; autoenrollment "
    "runs with gpupdate /force on the intranet or VPN): it must carry Client Authentication, have its private key, "
    "chain to a root this device trusts and that was uploaded to the CMG, and match the site's certificate selection "
    "criteria.";
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

static int finish(struct ca_ctx *c, const struct cg_env *env, const struct verdict *v, struct cg_result *res) {
  bool pki_ok = v->best != NULL, entra_ok = v->entra_usable, token_ok = v->token_possible;
  char mode[8] = "auto";
  if (c->mode) cg_strlcpy(mode, c->mode, sizeof(mode));
  for (char *m = mode; *m; m++)
    if (*m >= 'A' && *m <= 'Z') *m = (char)(*m + 32);
  bool autodetect = !strcmp(mode, "auto");
  const char *use = autodetect ? (pki_ok ? "pki" : entra_ok ? "entra" : token_ok ? "token" : "unknown") : mode;
  bool works = !strcmp(use, "pki")     ? pki_ok
               : !strcmp(use, "entra") ? entra_ok
               : !strcmp(use, "token") ? token_ok
                                       : false;
  cJSON_AddStringToObject(res->facts, "mode", use);
  cJSON_AddStringToObject(res->facts, "mode_source", autodetect ? "detected" : "configured");
  cJSON *h = cJSON_CreateObject();
  cJSON_AddStringToObject(h, "mode", use);
  cJSON_AddBoolToObject(h, "usable", works);
  cg_discovery_publish(env, CG_DISCOVERY_AUTH_MODE, h);
  const char *how = autodetect ? "" : " (configured)";
  /* The one piece at fault, for a gate's line (profiles quote it as {reason}) */
  char reason[640] = "";
  if (!works) {
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
        "%.10s (%lld days)%s.",
        how, ci->subject, ci->thumbprint, na, (long long)v->best->days_left,
        ci->chain == -1 ? "; its chain was not checked (a capture)" : "");
  }
  if (!strcmp(use, "entra") && works)
    return cg_result_set(
        res, v->entra_known ? CG_PASS : CG_WARN, v->entra_known ? "CLIENTAUTH_ENTRA_OK" : "CLIENTAUTH_ENTRA_UNPROVEN",
        v->entra_known ? NULL : R_ENTRA, "The client authenticates to the CMG with an Entra device token%s%s%s.", how,
        autodetect ? " (no usable PKI client certificate)" : "",
        v->entra_known ? "" : ", but the dsregcmd output does not show everything that needs");
  if (!strcmp(use, "token") && works)
    return cg_result_set(res, CG_PASS, "CLIENTAUTH_TOKEN_OK", NULL,
                         "The client authenticates to the CMG with a token its site issued%s (no usable PKI client "
                         "certificate, not Entra joined). A client that has not reached its site for more than 30 days "
                         "has an expired token (CMGService_Invalid_Token): it must reconnect to the intranet or VPN.",
                         how);
  if (!strcmp(use, "pki"))
    return cg_result_set(res, CG_FAIL, "CLIENTAUTH_PKI_UNUSABLE", R_PKI,
                         "The client cannot authenticate to the CMG with a PKI certificate: %s.", v->pki_why);
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

static void criteria(struct ca_ctx *c, struct src *s) {
  /* The client's own selection criteria, where ccmsetup's CCMCERTISSUERS and CCMCERTSEL end up
   * (value names inferred, see docs/checks/clientauth.md); settings replace them. */
  char sel[256] = "";
  bool from_client = reg_value(s, K_SECURITY, "Certificate Issuers", s->issuers, sizeof(s->issuers));
  if (reg_value(s, K_SECURITY, "Certificate Selection Criteria", sel, sizeof(sel))) {
    from_client = true;
    const char *v = strchr(sel, ':');
    if (v && (cg_str_startswith_ci(sel, "SubjectStr:") || cg_str_startswith_ci(sel, "SubjectAttr:")))
      cg_strlcpy(s->subject_rule, v + 1, sizeof(s->subject_rule));
  }
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
  if (c->cert_subject) {
    cg_strlcpy(s->subject_rule, c->cert_subject, sizeof(s->subject_rule));
    cg_strlcpy(s->criteria_source, "setting", sizeof(s->criteria_source));
  }
}

/* The Entra and the site-token candidates, as facts and in the verdict's terms. */
static void entra_and_token_facts(const struct src *sp, cJSON *cands, struct verdict *vp) {
  cJSON *en = cJSON_AddObjectToObject(cands, "entra");
  const cJSON *eu = cJSON_GetObjectItemCaseSensitive(sp->aad, "entra_usable");
  const char *jt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sp->aad, "join_type"));
  const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sp->aad, "reason"));
  vp->entra_usable = cJSON_IsTrue(eu) || cJSON_IsNull(eu);
  vp->entra_known = cJSON_IsTrue(eu);
  if (!sp->aad)
    cg_snprintf(vp->entra_why, sizeof(vp->entra_why), "the Entra join state is not known (%s)",
                sp->input ? "no dsregcmd capture in the input" : "aadjoin did not run");
  else if (!vp->entra_usable) {
    cg_snprintf(vp->entra_why, sizeof(vp->entra_why), "%s", why && *why ? why : "the device is not Entra joined");
    size_t l = strlen(vp->entra_why); /* it is quoted inside a sentence */
    if (l && vp->entra_why[l - 1] == '.') vp->entra_why[l - 1] = '\0';
    if (vp->entra_why[0] >= 'A' && vp->entra_why[0] <= 'Z' && vp->entra_why[1] >= 'a')
      vp->entra_why[0] = (char)(vp->entra_why[0] + 32);
  }
  cJSON_AddItemToObject(en, "usable", eu ? cJSON_Duplicate(eu, true) : cJSON_CreateNull());
  cJSON_AddStringToObject(en, "join_type", jt ? jt : "unknown");
  if (vp->entra_why[0]) cJSON_AddStringToObject(en, "why", vp->entra_why);

  cJSON *tk = cJSON_AddObjectToObject(cands, "token");
  bool capable = token_capable(sp->client_version, vp->token_why, sizeof(vp->token_why));
  if (!capable && sp->input && !sp->client_version[0])
    cg_snprintf(vp->token_why, sizeof(vp->token_why),
                "the capture has no client version (add: reg export \"HKLM\\%s\" client.reg)", K_MOBILE);
  /* A device that holds a client-authentication certificate of the organisation is a PKI client:
   * the site issues tokens to clients that use self-signed certificates (docs/checks/clientauth.md),
   * so a broken certificate is reported, not assumed away by a token. */
  vp->token_possible = capable && vp->n_org == 0;
  if (capable && vp->n_org)
    cg_snprintf(vp->token_why, sizeof(vp->token_why),
                "the client holds a PKI client certificate, so it is a PKI client and has no site token");
  cJSON_AddBoolToObject(tk, "usable", vp->token_possible);
  if (sp->client_version[0])
    cJSON_AddStringToObject(tk, "client_version", sp->client_version);
  else
    cJSON_AddNullToObject(tk, "client_version");
  if (!vp->token_possible) cJSON_AddStringToObject(tk, "why", vp->token_why);
  cJSON_AddStringToObject(tk, "age", "unknown: the client does not record when its token was renewed");
}

static int ca_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct ca_ctx *c = vctx;
  struct src *s = &c->s;
  s->input = env->input != NULL;
  if (!s->input) cg_strlcpy(s->store_source, "LocalMachine\\My", sizeof(s->store_source));
  char err[512] = "";
  int rc = CG_OK;
  struct pki *evals = NULL;
  if (!s->input) cJSON_AddStringToObject(res->facts, "source", "live");
  if (s->input) {
    if (!s->certs_known) {
      rc = cg_result_set(res, CG_ERROR, "CLIENTAUTH_NO_STORE_CAPTURE",
                         "Add certs.json (see the clientauth documentation for the PowerShell line) to the folder.",
                         "The input %s has no capture of LocalMachine\\My.", env->input);
      goto out;
    }
  } else {
    rc = cg_certstore_machine_my(&s->certs, &s->ncerts, err, sizeof(err));
    if (rc == CG_ERR_UNSUPPORTED) {
      rc = cg_result_set(res, CG_SKIP, "CLIENTAUTH_NOT_WINDOWS",
                         "Run it on the Windows device, or give --input captures.",
                         "There is no ConfigMgr client or Windows certificate store on this platform.");
      goto out;
    }
    if (rc != CG_OK) {
      rc = cg_result_set(res, CG_ERROR, "CLIENTAUTH_STORE_UNREADABLE", "Run cmgdiag as SYSTEM or an administrator.",
                         "The certificate store cannot be read: %s.", err);
      goto out;
    }
    s->certs_known = true;
  }
  criteria(c, s);
  reg_value(s, K_MOBILE, "ProductVersion", s->client_version, sizeof(s->client_version));
  if (!s->input && !s->client_version[0] && (!c->mode || !cg_strcasecmp(c->mode, "auto"))) {
    rc = cg_result_set(res, CG_SKIP, "CLIENTAUTH_NO_CLIENT", "Install the ConfigMgr client (ccmsetup.exe).",
                       "The ConfigMgr client is not installed on this device, so nothing authenticates to the CMG.");
    goto out;
  }
  entra_state(s, env);

  int64_t now = cg_time_utc_ms();
  if (c->evaluate_at && !clientauth_parse_date(c->evaluate_at, &now)) {
    rc = cg_result_set(res, CG_ERROR, "CLIENTAUTH_BAD_SETTING", "Write evaluate_at as 2026-01-31T12:00:00Z, or null.",
                       "checks.clientauth.evaluate_at \"%.40s\" is not a time.", c->evaluate_at);
    goto out;
  }
  struct verdict v;
  memset(&v, 0, sizeof(v));
  evals = cg_calloc(s->ncerts ? s->ncerts : 1, sizeof(*evals));
  if (!evals) {
    rc = CG_ERR_NOMEM;
    goto out;
  }
  cJSON *cands = cJSON_AddObjectToObject(res->facts, "candidates");
  cJSON *pk = cJSON_AddObjectToObject(cands, "pki"), *list = cJSON_AddArrayToObject(pk, "certificates");
  for (size_t i = 0; i < s->ncerts; i++) {
    if (!has_eku(&s->certs[i], OID_CLIENT_AUTH)) continue;
    struct pki *e = &evals[v.n_client_auth++];
    judge_cert(s, &s->certs[i], now, e);
    cJSON_AddItemToArray(list, cert_json(e, s));
    if (e->org && !v.first_org) v.first_org = e;
    v.n_org += e->org;
    if (e->usable && (!v.best || e->ci->not_after_ms > v.best->ci->not_after_ms)) v.best = e;
  }
  if (v.best) { /* the first usable org certificate explains nothing: name the one in use */
    v.first_org = v.best;
  } else {
    for (size_t i = 0; i < v.n_client_auth && v.first_org; i++) /* prefer the org's most recent one */
      if (evals[i].org && evals[i].ci->not_after_ms > v.first_org->ci->not_after_ms) v.first_org = &evals[i];
  }
  pki_reason(&v, v.pki_why, sizeof(v.pki_why));
  cJSON_AddBoolToObject(pk, "usable", v.best != NULL);
  if (!v.best) cJSON_AddStringToObject(pk, "why", v.pki_why);
  cJSON_AddNumberToObject(pk, "other_certificates", (double)(s->ncerts - v.n_client_auth));
  cJSON_AddStringToObject(pk, "store", s->store_source);
  cJSON *sel = cJSON_AddObjectToObject(pk, "selection");
  cJSON_AddStringToObject(sel, "issuers", s->issuers);
  cJSON_AddStringToObject(sel, "subject", s->subject_rule);
  cJSON_AddStringToObject(sel, "source", s->criteria_source);

  entra_and_token_facts(s, cands, &v);
  rc = finish(c, env, &v, res);
out:
  cg_free(evals);
  return rc;
}

static void ca_fini(void *vctx) {
  struct src *s = &((struct ca_ctx *)vctx)->s;
  cg_free(s->certs);
  cJSON_Delete(s->reg);
  cJSON_Delete(s->aad);
  cg_free(s->dsreg_file);
}

static const struct cg_source ca_source = {
    .accepts = CG_SOURCE_FILE | CG_SOURCE_FOLDER,
    .max_bytes = INPUT_MAX,
    .code_prefix = "CLIENTAUTH",
    .what = "the certificate store as ConvertTo-Json, reg export files or a dsregcmd /status output",
    .how = "Capture the store again: Get-ChildItem Cert:\\\\LocalMachine\\\\My | Select-Object Subject,Issuer,"
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
    .run = ca_run,
    .fini = ca_fini,
};
