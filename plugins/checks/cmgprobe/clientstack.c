/* cmgprobe: the client's own stack decides. The probe's requests go through libcurl and OpenSSL;
 * the ConfigMgr client's go through WinHTTP and Schannel, with the machine's TLS policy (protocols
 * and cipher suites set by Group Policy), SYSTEM's WinHTTP proxy and, for a PKI client, its
 * certificate from LocalMachine\My. On Windows the MP list request is made once more that way
 * (facts.winhttp); where the two disagree, WinHTTP's outcome is the client's and decides, as
 * CryptoAPI's does for the chain (windows_trust). Under wine it is shown and decides nothing:
 * wine's winhttp is not Windows' (docs/checks/cmgprobe.md, "The client's own stack"). */
#include <string.h>

#include "config.h"
#include "discovery.h"
#include "probe.h"

/* What the client meets for each WinHTTP error, and what to do (WinHTTP error messages, Microsoft
 * Learn; the TLS policy and certificate ones from the cmg-communication-error article). */
static const char *remedy(unsigned long e) {
  switch (e) {
  case 12157:
    return "Schannel found no protocol or cipher suite in common with the CMG: check the TLS 1.2 settings "
           "(SCHANNEL Protocols, WinHTTP DefaultSecureProtocols) and any cipher-suite order set by Group Policy.";
  case 12175:
  case 12045:
  case 12037:
  case 12038:
  case 12057:
  case 12170:
    return "Windows does not accept the CMG's certificate for the client: see secure_failure in the facts "
           "(INVALID_CA: install the root in the machine's Trusted Root store; CERT_REV_FAILED: the CRL is not "
           "reachable, or /NoCRLCheck).";
  case 12044:
    return "The CMG asks for a client certificate and the client has none it can present: check the "
           "client-authentication certificate in LocalMachine\\My.";
  case 12185:
  case 12186:
    return "The client certificate's private key is missing or SYSTEM may not use it: re-enroll the certificate "
           "(its key must be in the machine's key store).";
  case 12007:
  case 12029:
  case 12002:
    return "WinHTTP, as SYSTEM, cannot reach the CMG: check SYSTEM's proxy (netsh winhttp show proxy, WPAD/PAC) "
           "and the firewall.";
  default: return "See facts.winhttp: the client's own stack fails where OpenSSL's request works.";
  }
}

static void drop_request_failures(struct probe *p) {
  char codes[16][64];
  size_t n = 0;
  for (size_t i = 0; i < p->fs.n && n < 16; i++)
    if (p->fs.f[i].status == CG_FAIL && strcmp(p->fs.f[i].code, "CMG_TENANT_NOT_ONBOARDED") != 0)
      cg_strlcpy(codes[n++], p->fs.f[i].code, sizeof(codes[0]));
  for (size_t i = 0; i < n; i++)
    cg_findings_drop_code(&p->fs, codes[i]);
}

/* probe_winhttp, answered live (and recorded) or from the transcript */
static int winhttp_io(struct probe *p, const char *path, const char *thumb, struct probe_winhttp_out *w) {
  if (probe_tape_replaying()) {
    memset(w, 0, sizeof(*w));
    const cJSON *e = probe_tape_take("winhttp"), *f = cJSON_GetObjectItemCaseSensitive(e, "facts");
    const cJSON *v;
    w->facts = f ? cJSON_Duplicate(f, true) : cJSON_CreateObject();
    w->wine = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "wine"));
    w->status = cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(e, "status")) ? (long)v->valuedouble : 0;
    w->error = cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(e, "error")) ? (unsigned long)v->valuedouble : 0;
    w->mplist_n = cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(e, "mplist_n")) ? (int)v->valuedouble : 0;
    w->mplist_ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "mplist_ok"));
    w->cert_presented = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "cert_presented"));
    const char *mp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "mp0_fqdn"));
    cg_strlcpy(w->mp0_fqdn, mp ? mp : "", sizeof(w->mp0_fqdn));
    return e && cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(e, "result")) ? (int)v->valuedouble : -1;
  }
  /* its one event stands for all it learns: what it asks inside (the time left) is not taped, since a
   * replay never runs it (and the Windows build asks what the others do not) */
  struct probe_tape *tape = probe_tape_get();
  probe_tape_set(NULL);
  int rc = probe_winhttp(p, path, thumb, w);
  probe_tape_set(tape);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "result", rc);
    cJSON_AddItemToObject(e, "facts", w->facts ? cJSON_Duplicate(w->facts, true) : cJSON_CreateNull());
    cJSON_AddBoolToObject(e, "wine", w->wine);
    cJSON_AddNumberToObject(e, "status", (double)w->status);
    cJSON_AddNumberToObject(e, "error", (double)w->error);
    cJSON_AddNumberToObject(e, "mplist_n", w->mplist_n);
    cJSON_AddBoolToObject(e, "mplist_ok", w->mplist_ok);
    cJSON_AddBoolToObject(e, "cert_presented", w->cert_presented);
    cJSON_AddStringToObject(e, "mp0_fqdn", w->mp0_fqdn);
    probe_tape_add("winhttp", e);
  }
  return rc;
}

void probe_client_stack(struct probe *p) {
  if (!cg_strcasecmp(p->c->winhttp, "off")) return;
  const char *thumb = NULL;
  struct cg_handover_auth auth; /* thumb may point into it */
  if (cg_str_contains_ci(p->base, "/CCM_Proxy_MutualAuth/")) {
    thumb = p->c->client_cert_thumbprint;
    if (!thumb && probe_io_auth(p->env, &auth) && auth.thumbprint[0]) thumb = auth.thumbprint;
  }
  const char *path = p->c->paths.items[0];
  while (*path == '/')
    path++;
  struct probe_winhttp_out w;
  int rc = winhttp_io(p, path, thumb, &w);
  cJSON_AddItemToObject(p->facts, "winhttp", w.facts);
  if (rc < 0) return;
  bool decides = !w.wine || p->c->winhttp_wine_decides;
  cJSON_AddBoolToObject(w.facts, "decides", decides);
  bool curl_ok = p->mplist_answered;
  const char *cert_error = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w.facts, "client_certificate_error"));
  if (decides && thumb && cert_error && cg_findings_has(&p->fs, "CMG_AUTH_NOT_TESTED")) {
    /* the client's certificate is there by its thumbprint but cannot be used: the client cannot either */
    cg_findings_drop_code(&p->fs, "CMG_AUTH_NOT_TESTED");
    probe_found(p, CG_FAIL, "CMG_CLIENT_CERT_MISSING", "12044 ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED",
                "Re-enroll the client authentication certificate in LocalMachine\\My, with its private key in the "
                "machine's key store (SYSTEM must be able to use it).",
                "The CMG requires a client certificate on the MutualAuth path, and this client's certificate cannot "
                "be presented (%s).",
                cert_error);
    return;
  }
  if (decides && w.cert_presented && cg_findings_has(&p->fs, "CMG_AUTH_NOT_TESTED")) {
    /* OpenSSL could not present the machine's certificate; WinHTTP did: its answer is the test */
    cg_findings_drop_code(&p->fs, "CMG_AUTH_NOT_TESTED");
    if (w.mplist_ok) {
      p->mplist_answered = p->auth_ok = true;
      p->mplist_n = (size_t)w.mplist_n;
      cg_strlcpy(p->mp0_fqdn, w.mp0_fqdn, sizeof(p->mp0_fqdn));
      return;
    }
  } else {
    /* the two must be the same request to be compared: both with a certificate, or neither */
    bool curl_cert = cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p->facts, "authenticated"), "made"));
    if (curl_cert != w.cert_presented) {
      cJSON_AddStringToObject(w.facts, "compared",
                              curl_cert ? "no: OpenSSL presented a client certificate, "
                                          "WinHTTP none (no thumbprint)"
                                        : "no: WinHTTP presented a client certificate, "
                                          "OpenSSL none");
      return;
    }
    if (curl_ok == w.mplist_ok) return;
    cJSON *d = cJSON_AddObjectToObject(p->facts, "stacks_disagree");
    cJSON_AddStringToObject(d, "openssl", curl_ok ? "MP list" : "no MP list");
    cJSON_AddStringToObject(d, "winhttp", w.mplist_ok ? "MP list" : "no MP list");
    cJSON_AddStringToObject(d, "decides", decides ? "winhttp" : "openssl (winhttp is wine's)");
    if (!decides) return;
    if (w.mplist_ok) {
      /* the client's own stack gets the MP list: what OpenSSL objected to about the request is not what
       * the client meets (a finding about something else, the tenant, stays) */
      drop_request_failures(p);
      p->mplist_answered = true;
      p->mplist_n = (size_t)w.mplist_n;
      cg_strlcpy(p->mp0_fqdn, w.mp0_fqdn, sizeof(p->mp0_fqdn));
      return;
    }
  }
  const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(w.facts, "error_name"));
  char what[160];
  if (w.error)
    cg_snprintf(what, sizeof(what), "an error (WinHTTP error %lu %s)", w.error, name ? name : "");
  else if (w.status == 200)
    cg_snprintf(what, sizeof(what), "an MP list with no management point");
  else
    cg_snprintf(what, sizeof(what), "HTTP %ld", w.status);
  probe_found(p, CG_FAIL, "CMG_WINHTTP_FAILED", name && *name ? name : NULL, remedy(w.error),
              "The CMG answers the probe, but not the client's own HTTP stack (WinHTTP and Schannel, as SYSTEM): the "
              "MP list request gets %s.",
              what);
}

/* On Windows the client's own request (WinHTTP, below) presents the machine's certificate by
 * its thumbprint; its private key in the machine's key store is SYSTEM's and administrators' alone,
 * so a worker without privilege could not use it and would report the certificate missing. */
bool probe_needs_machine_key(const struct cg_env *env, char *why, size_t whylen) {
  const cJSON *s = cg_config_check(env->config, "cmgprobe");
  const char *winhttp = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "winhttp"));
  if (!probe_winhttp_available() || (winhttp && !cg_strcasecmp(winhttp, "off"))) return false;
  struct cg_handover_auth auth;
  if (!cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "client_cert_thumbprint")) &&
      !(cg_handover_get_auth(env, &auth) && auth.thumbprint[0]))
    return false;
  cg_snprintf(why, whylen,
              "the client's own request (WinHTTP) presents the machine's certificate, whose private key only SYSTEM "
              "and administrators may use");
  return true;
}
