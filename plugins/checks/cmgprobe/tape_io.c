/* The probe's questions to the world, answered live and recorded, or from the transcript (tape.h). */
#include <string.h>

#include "discovery.h"
#include "dnschain.h"
#include "platform/chainverdict.h"
#include "platform/resolve.h"
#include "proxy.h"
#include "probe.h"
#include "tape.h"

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void cp(const cJSON *o, const char *k, char *out, size_t len) {
  const char *v = str(o, k);
  cg_strlcpy(out, v ? v : "", len);
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) && v->valuedouble > -1e15 && v->valuedouble < 1e15 ? v->valuedouble : 0;
}

static bool yes(const cJSON *o, const char *k) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k)); }

/* ---- hand-overs from the checks before ------------------------------------------------------------ */

bool probe_io_auth(const struct cg_env *env, struct cg_handover_auth *a) {
  memset(a, 0, sizeof(*a));
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("handover_auth");
    cp(e, "mode", a->mode, sizeof(a->mode));
    cp(e, "thumbprint", a->thumbprint, sizeof(a->thumbprint));
    a->usable = yes(e, "usable");
    a->recorded = yes(e, "recorded");
    return yes(e, "present");
  }
  bool got = cg_handover_get_auth(env, a);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddBoolToObject(e, "present", got);
    cJSON_AddStringToObject(e, "mode", a->mode);
    cJSON_AddStringToObject(e, "thumbprint", a->thumbprint);
    cJSON_AddBoolToObject(e, "usable", a->usable);
    cJSON_AddBoolToObject(e, "recorded", a->recorded);
    probe_tape_add("handover_auth", e);
  }
  return got;
}

bool probe_io_aad(const struct cg_env *env, struct cg_handover_aad *a) {
  memset(a, 0, sizeof(*a));
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("handover_aad");
    cp(e, "join_type", a->join_type, sizeof(a->join_type));
    a->entra_usable = (int)num(e, "entra_usable");
    cp(e, "tenant_id", a->tenant_id, sizeof(a->tenant_id));
    cp(e, "code", a->code, sizeof(a->code));
    cp(e, "reason", a->reason, sizeof(a->reason));
    return yes(e, "present");
  }
  bool got = cg_handover_get_aad(env, a);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddBoolToObject(e, "present", got);
    cJSON_AddStringToObject(e, "join_type", a->join_type);
    cJSON_AddNumberToObject(e, "entra_usable", a->entra_usable);
    cJSON_AddStringToObject(e, "tenant_id", a->tenant_id);
    cJSON_AddStringToObject(e, "code", a->code);
    cJSON_AddStringToObject(e, "reason", a->reason);
    probe_tape_add("handover_aad", e);
  }
  return got;
}

bool probe_io_cmg_urls(const struct cg_env *env, struct cg_handover_cmg_urls *u) {
  memset(u, 0, sizeof(*u));
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("handover_cmg_urls"), *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "urls")) {
      if (u->count < CG_HANDOVER_MAX_URLS && cJSON_IsString(x))
        cg_strlcpy(u->url[u->count++], x->valuestring, sizeof(u->url[0]));
    }
    return yes(e, "present");
  }
  bool got = cg_handover_get_cmg_urls(env, u);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(e, "urls");
    cJSON_AddBoolToObject(e, "present", got);
    for (size_t i = 0; a && i < u->count; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(u->url[i]));
    probe_tape_add("handover_cmg_urls", e);
  }
  return got;
}

/* ---- the way out and the names --------------------------------------------------------------------- */

void probe_io_proxy(const struct cg_env *env, const char *configured, const char *url, int64_t timeout_ms,
                    struct cg_proxy_choice *out) {
  memset(out, 0, sizeof(*out));
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("proxy");
    cp(e, "proxy", out->proxy, sizeof(out->proxy));
    out->curl_default = false; /* never this machine's environment: the proxy the device chose, or direct */
    cp(e, "source", out->source, sizeof(out->source));
    cp(e, "shown", out->shown, sizeof(out->shown));
    cp(e, "detail", out->detail, sizeof(out->detail));
    return;
  }
  if (!probe_proxy_collected(env, url, out)) cg_proxy_resolve(configured, url, timeout_ms, out);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    /* the proxy as shown: a proxy's user name and password are never written down */
    cJSON_AddStringToObject(e, "proxy", out->shown);
    cJSON_AddStringToObject(e, "source", out->source);
    cJSON_AddStringToObject(e, "shown", out->shown);
    cJSON_AddStringToObject(e, "detail", out->detail);
    probe_tape_add("proxy", e);
  }
}

int probe_io_cname_chain(const char *host, const char *server, char (*chain)[256], int max, char *err, size_t errlen) {
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("cname"), *x;
    int n = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "chain")) {
      if (n < max && cJSON_IsString(x)) cg_strlcpy(chain[n++], x->valuestring, 256);
    }
    cp(e, "error", err, errlen);
    return e && yes(e, "failed") ? -1 : n;
  }
  int n = probe_dns_cname_chain(host, server, chain, max, err, errlen);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(e, "chain");
    for (int i = 0; a && i < n; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(chain[i]));
    cJSON_AddBoolToObject(e, "failed", n < 0);
    cJSON_AddStringToObject(e, "error", n < 0 ? err : "");
    probe_tape_add("cname", e);
  }
  return n;
}

int probe_io_resolve(const char *host, char (*addrs)[64], int max, int *n, char *canon, size_t canonlen, char *err,
                     size_t errlen) {
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("resolve"), *x;
    *n = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(e, "addresses")) {
      if (*n < max && cJSON_IsString(x)) cg_strlcpy(addrs[(*n)++], x->valuestring, 64);
    }
    cp(e, "canonical", canon, canonlen);
    cp(e, "error", err, errlen);
    return e && !yes(e, "failed") ? CG_OK : CG_ERR_IO;
  }
  int rc = cg_resolve(host, addrs, max, n, canon, canonlen, err, errlen);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(e, "addresses");
    for (int i = 0; a && rc == CG_OK && i < *n; i++)
      cJSON_AddItemToArray(a, cJSON_CreateString(addrs[i]));
    cJSON_AddBoolToObject(e, "failed", rc != CG_OK);
    cJSON_AddStringToObject(e, "canonical", rc == CG_OK ? canon : "");
    cJSON_AddStringToObject(e, "error", rc == CG_OK ? "" : err);
    probe_tape_add("resolve", e);
  }
  return rc;
}

/* ---- requests ------------------------------------------------------------------------------------------ */

int probe_io_http(CURL *h, const struct cg_http_req *rq, struct cg_http_resp *resp, struct probe_tls_capture *cap,
                  bool full_cap) {
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("http");
    const char *url = str(e, "url");
    if (e && (!url || strcmp(url, rq->url))) {
      struct probe_tape *t = probe_tape_get();
      cg_snprintf(t->error, sizeof(t->error), "the transcript's request went to %.200s, not to %.200s",
                  url ? url : "(none)", rq->url);
      e = NULL;
    }
    int rc = probe_tape_resp_back(cJSON_GetObjectItemCaseSensitive(e, "answer"), resp);
    const cJSON *tls = cJSON_GetObjectItemCaseSensitive(e, "tls");
    if (cap && full_cap && tls) probe_tape_cap_back(tls, cap);
    if (cap && !full_cap && tls) {
      cap->bytes_out = (uint64_t)num(tls, "bytes_out");
      cap->bytes_in = (uint64_t)num(tls, "bytes_in");
    }
    return rc;
  }
  int rc = cg_http_request(h, rq, resp);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "url", rq->url);
    cJSON_AddItemToObject(e, "answer", probe_tape_resp(rc, resp));
    if (cap && full_cap) {
      cJSON_AddItemToObject(e, "tls", probe_tape_cap(cap));
    } else if (cap) {
      cJSON *t = cJSON_AddObjectToObject(e, "tls");
      cJSON_AddNumberToObject(t, "bytes_out", (double)cap->bytes_out);
      cJSON_AddNumberToObject(t, "bytes_in", (double)cap->bytes_in);
    }
    probe_tape_add("http", e);
  }
  return rc;
}

int probe_io_fetch_issuers(X509 *x, long timeout_ms, const char *proxy, bool local_ok, int *left, STACK_OF(X509) * out,
                           char *url, size_t urllen, char *why, size_t whylen) {
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("aia");
    STACK_OF(X509) *got = probe_tape_certs_back(cJSON_GetObjectItemCaseSensitive(e, "added"));
    int pushed = 0;
    while (got && sk_X509_num(got)) {
      X509 *c = sk_X509_shift(got);
      if (out && sk_X509_push(out, c))
        pushed++;
      else
        X509_free(c);
    }
    sk_X509_free(got);
    cp(e, "url", url, urllen);
    cp(e, "why", why, whylen);
    double l = num(e, "left");
    if (left) *left = l >= 0 && l <= PROBE_AIA_PER_PROBE ? (int)l : 0;
    /* what was added is what the certificates say, whatever number the transcript claims */
    int r = e ? (int)num(e, "result") : 0;
    return r > 0 ? pushed : r < 0 ? -1 : 0;
  }
  int before = out ? sk_X509_num(out) : 0;
  int n = probe_tls_fetch_issuers(x, timeout_ms, proxy, local_ok, left, out, url, urllen, why, whylen);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(e, "added");
    for (int i = before; a && out && i < sk_X509_num(out); i++) {
      STACK_OF(X509) *one = sk_X509_new_null();
      if (one && sk_X509_push(one, sk_X509_value(out, i))) {
        cJSON *pem = probe_tape_certs(one);
        cJSON_AddItemToArray(a, cJSON_DetachItemFromArray(pem, 0));
        cJSON_Delete(pem);
      }
      sk_X509_free(one);
    }
    cJSON_AddNumberToObject(e, "result", n);
    cJSON_AddNumberToObject(e, "left", left ? *left : 0);
    cJSON_AddStringToObject(e, "url", url);
    cJSON_AddStringToObject(e, "why", why);
    probe_tape_add("aia", e);
  }
  return n;
}

static int revocation(const char *kind, int live_rc, bool live, char *detail, size_t dlen) {
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take(kind);
    cp(e, "detail", detail, dlen);
    double r = num(e, "result");
    return e && r >= PROBE_REV_NOT_CHECKED && r <= PROBE_REV_NO_CDP ? (int)r : (int)PROBE_REV_NOT_CHECKED;
  }
  if (live && probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "result", live_rc);
    cJSON_AddStringToObject(e, "status", probe_rev_name((enum probe_rev)live_rc));
    cJSON_AddStringToObject(e, "detail", detail);
    probe_tape_add(kind, e);
  }
  return live_rc;
}

int probe_io_check_crl(X509 *x, X509 *issuer, long timeout_ms, size_t max_bytes, const char *proxy, char *detail,
                       size_t dlen) {
  if (probe_tape_replaying()) return revocation("crl", 0, false, detail, dlen);
  return revocation("crl", (int)probe_tls_check_crl(x, issuer, timeout_ms, max_bytes, proxy, detail, dlen), true,
                    detail, dlen);
}

int probe_io_check_ocsp(X509 *x, X509 *issuer, long timeout_ms, const char *proxy, char *detail, size_t dlen) {
  if (probe_tape_replaying()) return revocation("ocsp", 0, false, detail, dlen);
  return revocation("ocsp", (int)probe_tls_check_ocsp(x, issuer, timeout_ms, proxy, detail, dlen), true, detail, dlen);
}

void probe_io_chain_verdict(const unsigned char *const *der, const size_t *len, int n, const char *host,
                            const char *extra_roots_pem, bool check_revocation, long timeout_ms,
                            struct cg_chain_verdict *v) {
  memset(v, 0, sizeof(*v));
  if (probe_tape_replaying()) {
    const cJSON *e = probe_tape_take("windows_verdict");
    v->available = yes(e, "available");
    v->trusted = yes(e, "trusted");
    v->wine = yes(e, "wine");
    v->revocation_checked = yes(e, "revocation_checked");
    v->error = (unsigned long)num(e, "error");
    cp(e, "error_name", v->error_name, sizeof(v->error_name));
    v->trust_errors = (unsigned long)num(e, "trust_errors");
    cp(e, "trust_flags", v->trust_flags, sizeof(v->trust_flags));
    v->chain_length = (int)num(e, "chain_length");
    cp(e, "detail", v->detail, sizeof(v->detail));
    return;
  }
  cg_chain_verdict(der, len, n, host, extra_roots_pem, check_revocation, timeout_ms, v);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddBoolToObject(e, "available", v->available);
    cJSON_AddBoolToObject(e, "trusted", v->trusted);
    cJSON_AddBoolToObject(e, "wine", v->wine);
    cJSON_AddBoolToObject(e, "revocation_checked", v->revocation_checked);
    cJSON_AddNumberToObject(e, "error", (double)v->error);
    cJSON_AddStringToObject(e, "error_name", v->error_name);
    cJSON_AddNumberToObject(e, "trust_errors", (double)v->trust_errors);
    cJSON_AddStringToObject(e, "trust_flags", v->trust_flags);
    cJSON_AddNumberToObject(e, "chain_length", v->chain_length);
    cJSON_AddStringToObject(e, "detail", v->detail);
    probe_tape_add("windows_verdict", e);
  }
}

cJSON *probe_io_json(const char *kind, cJSON *(*live)(void *), void *arg) {
  if (probe_tape_replaying()) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(probe_tape_take(kind), "value");
    return v ? cJSON_Duplicate(v, true) : NULL;
  }
  cJSON *v = live(arg);
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToObject(e, "value", v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
    probe_tape_add(kind, e);
  }
  return v;
}

const char *probe_io_trigger(const struct cg_env *env) {
  static const char *const known[] = {"schedule", "once", "network_change", "selftest", "validate", "check"};
  const char *t = env->trigger ? env->trigger : "check";
  if (probe_tape_replaying()) {
    if (!probe_tape_next_is("trigger")) return t;
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(probe_tape_take("trigger"), "value"));
    for (size_t i = 0; v && i < sizeof(known) / sizeof(known[0]); i++)
      if (!strcmp(v, known[i])) return known[i];
    return "check"; /* a trigger this probe does not know: a person's run */
  }
  if (probe_tape_recording()) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "value", t);
    probe_tape_add("trigger", e);
  }
  return t;
}
