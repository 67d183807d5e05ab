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
#include "log.h"
#include "mplist.h"
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
  struct cg_handover_auth auth; /* thumb may point into it */
  const char *thumb =
      cg_str_contains_ci(p->base, "/CCM_Proxy_MutualAuth/") ? probe_machine_thumbprint(p->c, p->env, &auth) : NULL;
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

/* ---- the request with the machine's key: made by the agent, read here ---------------------------------
 * On Windows the client's own request presents the machine's certificate by its thumbprint; its
 * private key in the machine's key store is SYSTEM's and administrators' alone, so a worker without
 * privilege could not use it and would report the certificate missing. The collect half (in the
 * agent's process) allows that one request per CMG, with all it needs fixed there (the URL, the
 * proxy SYSTEM takes, the certificate); the probe in the worker asks for it when its turn comes (TLS
 * reached, not a light cycle), and reads the answer's bytes, the MP list, itself (docs/security.md,
 * "Requests to the agent"). */

const char *probe_machine_thumbprint(const struct probe_ctx *c, const struct cg_env *env,
                                     struct cg_handover_auth *store) {
  if (c->client_cert_thumbprint) return c->client_cert_thumbprint;
  return probe_io_auth(env, store) && store->thumbprint[0] ? store->thumbprint : NULL;
}

/* The address a `resolve` entry (HOST:PORT:ADDRESS, the lab or split DNS) gives this host, or "". */
static void resolved_address(const struct probe_ctx *c, const char *host, long port, char *out, size_t outlen) {
  char want[300];
  cg_snprintf(want, sizeof(want), "%s:%ld:", host, port);
  out[0] = '\0';
  for (size_t i = 0; i < c->resolve.count; i++)
    if (cg_str_startswith_ci(c->resolve.items[i], want)) {
      cg_strlcpy(out, c->resolve.items[i] + strlen(want), outlen);
      out[strcspn(out, ",")] = '\0'; /* the first address of a list */
      return;
    }
}

static const char *mp_path(const struct probe_ctx *c) {
  const char *path = c->paths.count ? c->paths.items[0] : "";
  while (*path == '/')
    path++;
  return path;
}

static size_t body_cap(const struct probe_ctx *c) {
  return c->max_body_bytes > 0 && c->max_body_bytes < CG_AGENT_ANSWER_MAX ? (size_t)c->max_body_bytes
                                                                          : CG_AGENT_ANSWER_MAX;
}

/* The client's MP list request to the CMG of p, as WinHTTP makes it (url and addr: its storage). */
static void request_of(const struct probe *p, const char *path, const char *thumbprint, struct probe_winhttp_req *rq,
                       char *url, size_t urllen, char *addr, size_t addrlen) {
  cg_snprintf(url, urllen, "%s/%s", p->base, path);
  resolved_address(p->c, p->host, p->port, addr, addrlen);
  *rq = (struct probe_winhttp_req){.url = url,
                                   .host = p->host,
                                   .address = addr[0] ? addr : NULL,
                                   .proxy = p->proxy && *p->proxy ? p->proxy : NULL,
                                   .ca_file = p->c->ca_file,
                                   .thumbprint = thumbprint,
                                   .port = p->port,
                                   .revocation = p->crl_enforced && p->c->check_revocation,
                                   .timeout_ms = probe_remaining(p),
                                   .max_body = body_cap(p->c)};
}

static const char *jstr(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static double jnum(const cJSON *o, const char *k, double dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* The agent's side (cg_agent_request_fn): the request collect prepared; the worker chooses only how
 * long it may take (within what is left of its deadline) and whether revocation is checked. */
static int winhttp_for_worker(const cJSON *prepared, const cJSON *asked, int64_t left_ms, struct cg_agent_answer *a) {
  int64_t t = (int64_t)jnum(asked, "timeout_ms", 0), most = (int64_t)jnum(prepared, "timeout_ms", 30000);
  if (t <= 0 || t > most) t = most;
  if (t > left_ms) t = left_ms;
  struct probe_winhttp_req rq = {.url = jstr(prepared, "url"),
                                 .host = jstr(prepared, "host"),
                                 .address = jstr(prepared, "address"),
                                 .proxy = jstr(prepared, "proxy"),
                                 .ca_file = jstr(prepared, "ca_file"),
                                 .thumbprint = jstr(prepared, "thumbprint"),
                                 .port = (long)jnum(prepared, "port", 443),
                                 .revocation = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(asked, "revocation")),
                                 .timeout_ms = t > 0 ? t : 1,
                                 .max_body = (size_t)jnum(prepared, "max_body", 0)};
  if (!rq.url || !rq.host || rq.max_body > CG_AGENT_ANSWER_MAX) return CG_ERR_INTERNAL;
  struct probe_winhttp_out w;
  int rc = probe_winhttp_request(&rq, &w, &a->bytes, &a->len);
  a->facts = cJSON_CreateObject();
  cJSON_AddNumberToObject(a->facts, "result", rc);
  cJSON_AddItemToObject(a->facts, "winhttp", w.facts ? w.facts : cJSON_CreateObject());
  cJSON_AddBoolToObject(a->facts, "wine", w.wine);
  cJSON_AddNumberToObject(a->facts, "status", (double)w.status);
  cJSON_AddNumberToObject(a->facts, "error", (double)w.error);
  cJSON_AddBoolToObject(a->facts, "cert_presented", w.cert_presented);
  return CG_OK;
}

static void ask_name(const struct probe *p, char *out, size_t outlen) {
  cg_snprintf(out, outlen, "winhttp %s", p->base);
}

int probe_allow_winhttp(struct probe *p, const char *thumbprint) {
  char url[1400], addr[80], name[1100];
  struct probe_winhttp_req rq;
  request_of(p, mp_path(p->c), thumbprint, &rq, url, sizeof(url), addr, sizeof(addr));
  cJSON *pr = cJSON_CreateObject(); /* it stays in the agent's process, with the proxy's credentials */
  cJSON_AddStringToObject(pr, "url", rq.url);
  cJSON_AddStringToObject(pr, "host", rq.host);
  cJSON_AddNumberToObject(pr, "port", (double)rq.port);
  if (rq.address) cJSON_AddStringToObject(pr, "address", rq.address);
  if (rq.proxy) cJSON_AddStringToObject(pr, "proxy", rq.proxy);
  if (rq.ca_file) cJSON_AddStringToObject(pr, "ca_file", rq.ca_file);
  cJSON_AddStringToObject(pr, "thumbprint", thumbprint);
  cJSON_AddNumberToObject(pr, "timeout_ms", (double)p->c->timeout_ms); /* the most; the worker asks for less */
  cJSON_AddNumberToObject(pr, "max_body", (double)rq.max_body);
  ask_name(p, name, sizeof(name));
  int rc = cg_collect_allow(p->env, name, winhttp_for_worker, pr);
  cJSON_Delete(pr);
  return rc;
}

/* The MP list in the answer's body (status 200), read here, without privilege where there is a worker. */
static void take_mplist(struct probe_winhttp_out *w, const char *body, size_t len) {
  if (w->status != 200 || !body) return;
  struct mplist *m = cg_calloc(1, sizeof(*m));
  if (m && mplist_parse(body, len, m) == CG_OK) {
    w->mplist_n = (int)m->count;
    w->mplist_ok = m->total > 0; /* an empty list is no management point for the client */
    cJSON_AddNumberToObject(w->facts, "management_points", (double)m->count);
    if (m->count) {
      cg_strlcpy(w->mp0_fqdn, m->mp[0].fqdn, sizeof(w->mp0_fqdn));
      cJSON_AddStringToObject(w->facts, "first_management_point", m->mp[0].fqdn);
    }
  } else if (m) {
    cJSON_AddStringToObject(w->facts, "mplist_error", m->error);
  }
  cg_free(m);
}

/* The request with the machine's key, asked of the agent: -1 (facts say why) when it was not made. */
static int asked_of_agent(struct probe *p, struct probe_winhttp_out *w, char **body, size_t *len) {
  char name[1100];
  ask_name(p, name, sizeof(name));
  cJSON *asked = cJSON_CreateObject();
  cJSON_AddNumberToObject(asked, "timeout_ms", (double)probe_remaining(p));
  cJSON_AddBoolToObject(asked, "revocation", p->crl_enforced && p->c->check_revocation);
  struct cg_agent_answer a;
  int rc = cg_ask_agent(p->env, name, asked, probe_remaining(p) + 2000, &a);
  cJSON_Delete(asked);
  memset(w, 0, sizeof(*w));
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(a.facts, "winhttp");
  w->facts = rc == CG_OK && cJSON_IsObject(f) ? cJSON_Duplicate(f, true) : cJSON_CreateObject();
  if (rc != CG_OK) {
    cJSON_AddBoolToObject(w->facts, "available", true);
    cJSON_AddStringToObject(w->facts, "not_made", cg_strerror(rc));
    cg_log_warn(p->env->log, "cmgprobe", "the agent did not make the client's request with the machine's key: %s",
                cg_strerror(rc));
    return -1;
  }
  cJSON_AddStringToObject(w->facts, "made_by", "the agent, with its privilege (the machine's key), for the worker");
  w->wine = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a.facts, "wine"));
  w->status = (long)jnum(a.facts, "status", 0);
  w->error = (unsigned long)jnum(a.facts, "error", 0);
  w->cert_presented = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a.facts, "cert_presented"));
  *body = a.bytes;
  *len = a.len;
  a.bytes = NULL;
  rc = (int)jnum(a.facts, "result", -1);
  cg_agent_answer_free(&a);
  return rc;
}

int probe_winhttp(struct probe *p, const char *path, const char *thumbprint, struct probe_winhttp_out *w) {
  char *body = NULL;
  size_t len = 0;
  int rc;
  if (thumbprint && p->env->ask) {
    rc = asked_of_agent(p, w, &body, &len);
  } else {
    char url[1400], addr[80];
    struct probe_winhttp_req rq;
    request_of(p, path, thumbprint, &rq, url, sizeof(url), addr, sizeof(addr));
    rc = probe_winhttp_request(&rq, w, &body, &len);
  }
  if (rc >= 0) take_mplist(w, body, len);
  cg_free(body);
  return rc < 0 ? -1 : w->mplist_ok ? 1 : 0;
}
