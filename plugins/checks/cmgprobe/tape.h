/* cmgprobe's transcript (docs/checks/cmgprobe.md, "Transcripts"): everything the probe learns from
 * outside its own code — the answers and handshakes of its requests, the certificates fetched from
 * AIA, the CRL and OCSP verdicts, the platform's chain verdict, name resolution, the proxy chosen,
 * the hand-overs from other checks, its state, the clock and the time left — kept as events in the
 * order the probe asks for them. Replayed in that order, the same code takes the same path and
 * reaches the same verdict, offline: the transcript is the capture of a network check
 * (`check cmgprobe --input transcript.json`, a snapshot's cmgprobe/transcript.json,
 * tests/data/cmgprobe/NN-*). The probe runs in one thread; the tape is that thread's. */
#ifndef CG_CMGPROBE_TAPE_H
#define CG_CMGPROBE_TAPE_H

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "http.h"
#include "tlsinfo.h"

#define PROBE_TAPE_SCHEMA "cmgdiag.cmgprobe-transcript/1"

enum probe_tape_mode { PROBE_TAPE_OFF = 0, PROBE_TAPE_RECORD, PROBE_TAPE_REPLAY };

struct probe_tape {
  enum probe_tape_mode mode;
  cJSON *events;   /* owned */
  int next;        /* replay: the next event */
  char error[300]; /* replay: the first event that did not fit ("" when none) */
};

/* The tape of this thread's probe (NULL: none, every hook does what it always did). */
void probe_tape_set(struct probe_tape *t);
struct probe_tape *probe_tape_get(void);
bool probe_tape_recording(void);
bool probe_tape_replaying(void);

/* Record: adds {"kind": kind, ...ev} (ev is taken). */
void probe_tape_add(const char *kind, cJSON *ev);
/* Replay: the next event when it is of `kind` (borrowed); otherwise NULL, and the tape says which
 * event did not fit and gives nothing more (the probe then ends as the network failing would). */
const cJSON *probe_tape_take(const char *kind);

/* The clock (ms since 1970), and a number the probe learns (the time left): recorded, or replayed. */
int64_t probe_tape_now_ms(void);
/* Replaying: whether the transcript's next event is of this kind (an event a transcript may lack). */
bool probe_tape_next_is(const char *kind);
long probe_tape_long(const char *kind, long live);

/* Serialization of what the probe keeps in C structures. */
cJSON *probe_tape_certs(STACK_OF(X509) * sk);
STACK_OF(X509) * probe_tape_certs_back(const cJSON *pems); /* NULL for null or empty */
cJSON *probe_tape_resp(int rc, const struct cg_http_resp *r);
int probe_tape_resp_back(const cJSON *o, struct cg_http_resp *r); /* returns the rc */
cJSON *probe_tape_cap(const struct probe_tls_capture *c);
void probe_tape_cap_back(const cJSON *o, struct probe_tls_capture *c);

/* The probe's questions to the world, each answered live (and recorded) or from the transcript:
 * the same signatures as what they wrap (tape_io.c). */
struct cg_env;
struct cg_handover_auth;
struct cg_handover_aad;
struct cg_handover_cmg_urls;
struct cg_proxy_choice;
struct cg_chain_verdict;
bool probe_io_auth(const struct cg_env *env, struct cg_handover_auth *a);
bool probe_io_aad(const struct cg_env *env, struct cg_handover_aad *a);
bool probe_io_cmg_urls(const struct cg_env *env, struct cg_handover_cmg_urls *u);
/* The proxy for `url`: the one the agent's half chose (proxy-choices.json, probe_collect), else chosen
 * here; recorded, or replayed. */
void probe_io_proxy(const struct cg_env *env, const char *configured, const char *url, int64_t timeout_ms,
                    struct cg_proxy_choice *out);
int probe_io_cname_chain(const char *host, const char *server, char (*chain)[256], int max, char *err, size_t errlen);
int probe_io_resolve(const char *host, char (*addrs)[64], int max, int *n, char *canon, size_t canonlen, char *err,
                     size_t errlen);
/* A request: `url` is checked against the transcript's; cap (may be NULL) gets the handshake when
 * `full_cap`, else only its byte counts (a request on the connection the first one opened). */
int probe_io_http(CURL *h, const struct cg_http_req *rq, struct cg_http_resp *resp, struct probe_tls_capture *cap,
                  bool full_cap);
int probe_io_fetch_issuers(X509 *x, long timeout_ms, const char *proxy, bool local_ok, int *left, STACK_OF(X509) * out,
                           char *url, size_t urllen, char *why, size_t whylen);
int probe_io_check_crl(X509 *x, X509 *issuer, long timeout_ms, size_t max_bytes, const char *proxy, char *detail,
                       size_t dlen);
int probe_io_check_ocsp(X509 *x, X509 *issuer, long timeout_ms, const char *proxy, char *detail, size_t dlen);
void probe_io_chain_verdict(const unsigned char *const *der, const size_t *len, int n, const char *host,
                            const char *extra_roots_pem, bool check_revocation, long timeout_ms,
                            struct cg_chain_verdict *v);
/* A state or setting read as a whole JSON value (the probe's state file, the CRL setting's facts):
 * `live` is called when not replaying; its value recorded. The caller owns the result. */
cJSON *probe_io_json(const char *kind, cJSON *(*live)(void *), void *arg);
/* Why this run (plugin.h, env->trigger: "schedule" makes a light cycle): the run's own, recorded; or,
 * replaying, the one the transcript says (a transcript recorded before it was taped: the run's). */
const char *probe_io_trigger(const struct cg_env *env);

/* A transcript file: parsed and checked (schema, an array of events). CG_ERR_PARSE with err. */
int probe_tape_load(const char *text, size_t len, cJSON **transcript, char *err, size_t errlen);

#endif
