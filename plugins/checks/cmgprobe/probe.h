/* What the files of the cmgprobe check share: its settings, one probe's state, and the functions
 * each file provides (cmgprobe.c: the check and its requests; classify.c: what a failed transfer or
 * an HTTP answer means, with the source of each code; trust.c: the chain as Windows would judge it:
 * AIA completion, CRL and OCSP, the client's CRL setting, CryptoAPI's own verdict). */
#ifndef CG_CMGPROBE_PROBE_H
#define CG_CMGPROBE_PROBE_H

#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "http.h"
#include "findings.h"
#include "plugin.h"
#include "tape.h"
#include "tlsinfo.h"

struct probe_ctx {
  char *url, *proxy_kind, *ca_file, *proxy, *dns_server, *crl_check;
  char *client_cert, *client_key, *authenticated, *client_cert_thumbprint, *winhttp;
  struct cg_strlist paths, extra_paths, resolve;
  int64_t timeout_ms, connect_timeout_ms, max_body_bytes, crl_timeout_ms, expiry_warn_days, max_clock_skew_s;
  int64_t max_candidates, mp_probe_interval_s;
  bool check_revocation, crl_unreachable_fails, check_tenant, windows_verdict, wine_decides, winhttp_wine_decides;
  cJSON *transcript; /* the transcript being judged (transcript.c), or NULL */
};

struct probe {
  const struct probe_ctx *c;
  const struct cg_env *env;
  const char *trigger; /* why this run (probe_io_trigger): "schedule" and "once" may be light cycles */
  cJSON *facts;
  int64_t deadline;
  char host[256], base[1024], origin[300]; /* origin: https://HOST[:PORT] */
  long port;
  bool has_mp_id;
  bool handshake_only;   /* a scheduled cycle that leaves the management point alone */
  bool crl_enforced;     /* this client refuses a chain whose CRL it cannot fetch */
  struct cg_findings fs; /* in the order found; the first failure, else the first warning, decides */
  /* what later steps and the verdict's words need, kept here rather than read back from the facts */
  bool name_kind_set;
  char deployment[256];     /* the Azure name a custom CMG name leads to; "" when the same */
  char name_violation[200]; /* the first naming rule broken; "" when none */
  char aia_url[600];        /* where the missing intermediate was fetched from */
  bool cmg_local;           /* the CMG itself was reached, without a proxy, on a loopback or link-local
                             * address (a lab): only then may AIA URLs point there */
  size_t mplist_n;          /* management points in the MP list */
  bool mplist_answered;     /* an MP request through the CMG returned an MP list (even an empty one) */
  char mp0_fqdn[256];       /* the first of them */
  const char *proxy;        /* for curl: NULL leaves libcurl's environment handling */
  /* the anonymous request on MutualAuth was refused for want of a client certificate */
  bool anon_wants_cert;
  bool auth_ok;                      /* the request with the client certificate got an answer that decides (mutual.c) */
  struct probe_tls_capture auth_cap; /* the authenticated request's handshake (mutual.c) */
};

struct req_out {
  struct cg_http_resp r;
  int rc;
  cJSON *j;
};

long probe_remaining(const struct probe *p);

/* cmgprobe.c: every CMG the client may use, probed (or replayed from a transcript) into res. */
int probe_run_checks(void *vctx, const struct cg_env *env, struct cg_result *res);
/* transcript.c: the check's run (a transcript recorded for `collect`, replayed for `--input`), its
 * source (a transcript file) and its fini. */
int probe_run(void *vctx, const struct cg_env *env, struct cg_result *res);
void probe_fini(void *vctx);
extern const struct cg_source probe_source;
void probe_found(struct probe *p, enum cg_verdict v, const char *code, const char *winhttp, const char *remediation,
                 const char *fmt, ...) CG_PRINTF(6, 7);

/* classify.c */
const char *probe_status_meaning(long status, const char *text, const char **remedy);
void probe_classify_transport(struct probe *p, const struct req_out *o, const struct probe_tls_capture *cap);
void probe_classify_http(struct probe *p, const struct req_out *o, const struct req_out *cert);
void probe_clock_skew(struct probe *p, const struct req_out *o);
/* The Microsoft article (or the repository's docs/domain.md section) each code's cause and fix come
 * from; NULL for a code without one (a test keeps that from happening). */
const char *probe_code_source(const char *code);

/* mutual.c: the request a PKI client makes, with its certificate (docs/checks/cmgprobe.md,
 * "Mutual TLS"). */
/* The anonymous request failed in a way that means "a client certificate is required" (a TLS alert
 * after a CertificateRequest, or the HTTP refusal of a server that checks it). */
bool probe_refused_for_cert(const struct req_out *o, const struct probe_tls_capture *cap, bool with_cert);
/* After the anonymous request (`anon`, handshake `acap`): on the MutualAuth path, the MP list request
 * with the client certificate, facts `anonymous` and `authenticated`, the outcome as findings.
 * Returns the answer whose MP list decides (the authenticated one when it came, else `anon`), or
 * NULL when the outcome is already found. `auth` is filled when the request was made. */
const struct req_out *probe_mutual(struct probe *p, const struct req_out *anon, const struct probe_tls_capture *acap,
                                   const struct curl_slist *resolve, struct req_out *auth);
/* What a TLS-inspecting device leaves in a chain (the issuer of a known product), as a sentence. */
bool probe_inspection_issuer(const struct probe_tls_capture *cap, char *why, size_t whylen);

/* winhttp_win32.c / winhttp_posix.c: the MP list request through WinHTTP and Schannel, as the
 * client makes it (docs/checks/cmgprobe.md, "The client's own stack"). */
struct probe_winhttp_out {
  cJSON *facts;        /* facts.winhttp (owned by the caller) */
  bool wine;           /* wine's winhttp, not Windows' */
  long status;         /* HTTP status, 0 none */
  unsigned long error; /* the WinHTTP / Win32 error, 0 none */
  int mplist_n;
  bool mplist_ok;      /* status 200 and an MP list */
  bool cert_presented; /* a client certificate was set on the request */
  char mp0_fqdn[256];  /* the first management point of the list */
};
/* clientstack.c: 1: the MP list came; 0: it did not (facts say why); -1: no WinHTTP here, or the
 * request was not made. `thumbprint` (may be NULL): the client certificate in LocalMachine\My to
 * present; the agent makes that request with its privilege when the collect half allowed it
 * (probe_collect), and the MP list it answers is read here. */
int probe_winhttp(struct probe *p, const char *path, const char *thumbprint, struct probe_winhttp_out *out);
/* One WinHTTP request, all it needs said (no probe: the agent makes it for the worker). */
struct probe_winhttp_req {
  const char *url;        /* https://HOST[:PORT]/PATH */
  const char *host;       /* the name (Host header, certificate name) */
  const char *address;    /* a `resolve` entry's address for host, or NULL */
  const char *proxy;      /* [scheme://][user:password@]host:port, or NULL: direct */
  const char *ca_file;    /* extra trust roots, or NULL */
  const char *thumbprint; /* the certificate of LocalMachine\My to present, or NULL */
  long port;
  bool revocation; /* WINHTTP_ENABLE_SSL_REVOCATION */
  int64_t timeout_ms;
  size_t max_body;
};
/* winhttp_win32.c / winhttp_posix.c: the request; its facts in out (out->facts owned by the caller;
 * no MP list read), the answer's body unparsed in *body (cg_free). 0, or -1 without WinHTTP here. */
int probe_winhttp_request(const struct probe_winhttp_req *rq, struct probe_winhttp_out *out, char **body, size_t *blen);
/* Whether this platform has the client's own stack (WinHTTP) for probe_winhttp. */
bool probe_winhttp_available(void);
struct cg_handover_auth;
/* clientstack.c: the thumbprint of the machine's certificate the client's own request presents on a
 * MutualAuth URL (client_cert_thumbprint, else clientauth's selection), or NULL. */
const char *probe_machine_thumbprint(const struct probe_ctx *c, const struct cg_env *env,
                                     struct cg_handover_auth *store);
/* clientstack.c, for the collect half: allows the agent's WinHTTP request with the machine's key for
 * the CMG of p (its base), once in this run (plugin.h, cg_collect_allow). */
int probe_allow_winhttp(struct probe *p, const char *thumbprint);
struct cg_proxy_choice;
/* cmgprobe.c: the probe's fields of a CMG URL (host, port, base, MP id); false and why when unusable. */
bool probe_parse_url(struct probe *p, const char *url, char *why, size_t whylen);
/* proxypick.c, the half that reads the device (plugin.h `collect`): SYSTEM's proxy for each CMG the
 * probe will try, chosen in the agent's process (a PAC script or WPAD is run by WinHTTP for the
 * account that asks, and the worker without privilege is not SYSTEM); handed over as
 * proxy-choices.json. The choice for `url` from it: false when there is none. */
int probe_collect(void *ctx, const struct cg_env *env, struct cg_result *res, bool *decided);
bool probe_proxy_collected(const struct cg_env *env, const char *url, struct cg_proxy_choice *out);
/* clientstack.c: runs it and lets WinHTTP decide where it disagrees (not under wine). */
void probe_client_stack(struct probe *p);

/* state.c: when the management point was last asked, per CMG */
cJSON *probe_load_state(const struct cg_env *env);
void probe_save_state(const struct cg_env *env, cJSON *s);
/* The proxy the requests take: in the facts, and handed to netenv (SYSTEM's way out). */
struct cg_proxy_choice;
void probe_proxy_facts(struct probe *p, const struct cg_proxy_choice *pc);
bool probe_handshake_only(const struct probe *p, const cJSON *state, char *why, size_t whylen);
bool probe_last_passed(const cJSON *state, const char *base);
/* What this probe cost the CMG (both connections) in facts.traffic, and facts.mp_list_answered (the
 * gate's cmg-usable). */
void probe_traffic_facts(struct probe *p, const struct probe_tls_capture *cap, const struct req_out *outs,
                         const cJSON *state);

/* trust.c */
/* Whether this client checks the CRL of the CMG's chain (crl_check auto|on|off), as a fact. */
void probe_crl_setting(struct probe *p);
/* The server sent a chain OpenSSL cannot complete: fetch the missing issuer from AIA into cap->extra.
 * True when something was fetched (retry the handshake with it); otherwise a failure naming the URL. */
bool probe_complete_from_aia(struct probe *p, struct probe_tls_capture *cap);
void probe_chain_facts(struct probe *p, struct probe_tls_capture *cap, bool verified, cJSON *tls);
/* CryptoAPI's verdict on the sent chain (Windows), as facts.windows_trust; returns 1 when it
 * trusts the chain, 0 when it refuses, -1 when it is not available or does not decide (wine). */
int probe_windows_verdict(struct probe *p, const struct probe_tls_capture *cap, bool openssl_ok);

#endif
