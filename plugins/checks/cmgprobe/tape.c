/* cmgprobe's transcript (tape.h). */
#include "tape.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "platform/sys.h"

static _Thread_local struct probe_tape *current;

void probe_tape_set(struct probe_tape *t) { current = t; }
struct probe_tape *probe_tape_get(void) {
  return current;
}
bool probe_tape_recording(void) { return current && current->mode == PROBE_TAPE_RECORD; }
bool probe_tape_replaying(void) { return current && current->mode == PROBE_TAPE_REPLAY; }

void probe_tape_add(const char *kind, cJSON *ev) {
  if (!probe_tape_recording() || !ev) {
    cJSON_Delete(ev);
    return;
  }
  if (!current->events) current->events = cJSON_CreateArray();
  cJSON *o = cJSON_CreateObject(); /* the kind first, for a person reading it */
  if (!current->events || !o || !cJSON_AddStringToObject(o, "kind", kind)) {
    cJSON_Delete(o);
    cJSON_Delete(ev);
    return;
  }
  while (ev->child) {
    cJSON *c = cJSON_DetachItemViaPointer(ev, ev->child);
    if (c->string && strcmp(c->string, "kind"))
      cJSON_AddItemToObject(o, c->string, c);
    else
      cJSON_Delete(c);
  }
  cJSON_Delete(ev);
  cJSON_AddItemToArray(current->events, o);
}

const cJSON *probe_tape_take(const char *kind) {
  if (!probe_tape_replaying() || current->error[0]) return NULL;
  const cJSON *ev = cJSON_GetArrayItem(current->events, current->next);
  const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "kind"));
  if (!ev || !k || strcmp(k, kind)) {
    cg_snprintf(current->error, sizeof(current->error),
                "event %d of the transcript is %s%s%s where the probe asks for %s", current->next, ev ? "\"" : "",
                ev ? (k ? k : "(no kind)") : "missing", ev ? "\"" : "", kind);
    return NULL;
  }
  current->next++;
  return ev;
}

bool probe_tape_next_is(const char *kind) {
  if (!probe_tape_replaying() || current->error[0]) return false;
  const cJSON *ev = cJSON_GetArrayItem(current->events, current->next);
  const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "kind"));
  return k && !strcmp(k, kind);
}

int64_t probe_tape_now_ms(void) {
  if (probe_tape_replaying()) {
    const cJSON *ev = probe_tape_take("now");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, "ms");
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
  }
  int64_t now = cg_time_utc_ms();
  if (probe_tape_recording()) {
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddNumberToObject(ev, "ms", (double)now);
    probe_tape_add("now", ev);
  }
  return now;
}

long probe_tape_long(const char *kind, long live) {
  if (probe_tape_replaying()) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(probe_tape_take(kind), "value");
    return cJSON_IsNumber(v) && v->valuedouble > -1e12 && v->valuedouble < 1e12 ? (long)v->valuedouble : 0;
  }
  if (probe_tape_recording()) {
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddNumberToObject(ev, "value", (double)live);
    probe_tape_add(kind, ev);
  }
  return live;
}

/* ---- serialization ------------------------------------------------------------------------------ */

cJSON *probe_tape_certs(STACK_OF(X509) * sk) {
  if (!sk) return cJSON_CreateNull();
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; a && i < sk_X509_num(sk); i++) {
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long n = b && PEM_write_bio_X509(b, sk_X509_value(sk, i)) ? BIO_get_mem_data(b, &pem) : 0;
    char *s = n > 0 ? cg_strndup(pem, (size_t)n) : NULL;
    if (s) cJSON_AddItemToArray(a, cJSON_CreateString(s));
    cg_free(s);
    BIO_free(b);
  }
  return a;
}

STACK_OF(X509) * probe_tape_certs_back(const cJSON *pems) {
  if (!cJSON_IsArray(pems)) return NULL;
  STACK_OF(X509) *sk = sk_X509_new_null();
  const cJSON *p;
  cJSON_ArrayForEach(p, pems) {
    if (!cJSON_IsString(p) || !sk) continue;
    BIO *b = BIO_new_mem_buf(p->valuestring, (int)strlen(p->valuestring));
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (x && !sk_X509_push(sk, x)) X509_free(x);
  }
  return sk;
}

static void put_str(cJSON *o, const char *k, const char *v) {
  if (v && *v) cJSON_AddStringToObject(o, k, v);
}

static void get_str(const cJSON *o, const char *k, char *out, size_t len) {
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
  cg_strlcpy(out, v ? v : "", len);
}

static double get_num(const cJSON *o, const char *k, double def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) && v->valuedouble > -1e15 && v->valuedouble < 1e15 ? v->valuedouble : def;
}

cJSON *probe_tape_resp(int rc, const struct cg_http_resp *r) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, "rc", rc);
  cJSON_AddNumberToObject(o, "status", (double)r->status);
  put_str(o, "reason", r->reason);
  put_str(o, "retry_after", r->retry_after);
  put_str(o, "ms_error_code", r->ms_error_code);
  cJSON_AddNumberToObject(o, "curl_rc", r->curl_rc);
  put_str(o, "error", r->error);
  if (r->body && r->body_len < (1u << 24)) {
    char *b = cg_strndup(r->body, r->body_len);
    if (b && strlen(b) == r->body_len) {
      cJSON_AddStringToObject(o, "body", b);
    } else { /* an answer that holds a NUL: its bytes in base64 */
      char *b64 = cg_malloc(4 * ((r->body_len + 2) / 3) + 1);
      if (b64) {
        EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)r->body, (int)r->body_len);
        cJSON_AddStringToObject(o, "body_base64", b64);
      }
      cg_free(b64);
    }
    cg_free(b);
  }
  cJSON_AddNumberToObject(o, "body_len", (double)r->body_len);
  put_str(o, "date", r->date);
  put_str(o, "last_modified", r->last_modified);
  put_str(o, "content_type", r->content_type);
  if (r->too_large) cJSON_AddBoolToObject(o, "too_large", true);
  cJSON_AddNumberToObject(o, "os_errno", (double)r->os_errno);
  put_str(o, "primary_ip", r->primary_ip);
  cJSON *t = cJSON_AddArrayToObject(o, "ms");
  double v[] = {r->dns_ms, r->connect_ms, r->tls_ms, r->ttfb_ms, r->total_ms};
  for (size_t i = 0; t && i < 5; i++)
    cJSON_AddItemToArray(t, cJSON_CreateNumber(v[i]));
  return o;
}

int probe_tape_resp_back(const cJSON *o, struct cg_http_resp *r) {
  memset(r, 0, sizeof(*r));
  r->dns_ms = r->connect_ms = r->tls_ms = r->ttfb_ms = r->total_ms = -1;
  if (!cJSON_IsObject(o)) {
    cg_snprintf(r->error, sizeof(r->error), "not in the transcript");
    return CG_ERR_IO;
  }
  r->status = (long)get_num(o, "status", 0);
  get_str(o, "reason", r->reason, sizeof(r->reason));
  get_str(o, "retry_after", r->retry_after, sizeof(r->retry_after));
  get_str(o, "ms_error_code", r->ms_error_code, sizeof(r->ms_error_code));
  r->curl_rc = (int)get_num(o, "curl_rc", 0);
  get_str(o, "error", r->error, sizeof(r->error));
  const char *body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "body"));
  const char *b64 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "body_base64"));
  size_t bl = b64 ? strlen(b64) : 0;
  if (body) {
    r->body = cg_strdup(body);
    r->body_len = r->body ? strlen(r->body) : 0;
  } else if (b64 && bl % 4 == 0 && bl < (1u << 25) && (r->body = cg_malloc(bl / 4 * 3 + 1)) != NULL) {
    int n = EVP_DecodeBlock((unsigned char *)r->body, (const unsigned char *)b64, (int)bl);
    /* DecodeBlock counts the padding as bytes: the '=' at the end are none */
    while (n > 0 && bl && b64[--bl] == '=')
      n--;
    r->body_len = n > 0 ? (size_t)n : 0;
    r->body[r->body_len] = '\0';
  } else {
    r->body = cg_strdup(""); /* no answer body in the transcript: none */
    r->body_len = 0;
  }
  get_str(o, "date", r->date, sizeof(r->date));
  get_str(o, "last_modified", r->last_modified, sizeof(r->last_modified));
  get_str(o, "content_type", r->content_type, sizeof(r->content_type));
  r->too_large = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "too_large"));
  r->os_errno = (long)get_num(o, "os_errno", 0);
  get_str(o, "primary_ip", r->primary_ip, sizeof(r->primary_ip));
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "ms");
  double *v[] = {&r->dns_ms, &r->connect_ms, &r->tls_ms, &r->ttfb_ms, &r->total_ms};
  for (int i = 0; i < 5; i++) {
    const cJSON *x = cJSON_GetArrayItem(t, i);
    if (cJSON_IsNumber(x) && x->valuedouble > -1e12 && x->valuedouble < 1e12) *v[i] = x->valuedouble;
  }
  double rc = get_num(o, "rc", CG_ERR_IO);
  return rc >= 0 && rc < 64 ? (int)rc : CG_ERR_IO;
}

cJSON *probe_tape_cap(const struct probe_tls_capture *c) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddItemToObject(o, "sent", probe_tape_certs(c->sent));
  cJSON_AddItemToObject(o, "built", probe_tape_certs(c->built));
  cJSON *e = cJSON_AddArrayToObject(o, "errors");
  for (int i = 0; e && i < c->nerrors; i++) {
    cJSON *x = cJSON_CreateObject();
    cJSON_AddNumberToObject(x, "depth", c->errors[i].depth);
    cJSON_AddNumberToObject(x, "error", c->errors[i].error);
    cJSON_AddItemToArray(e, x);
  }
  put_str(o, "version", c->version);
  put_str(o, "cipher", c->cipher);
  put_str(o, "alert", c->alert);
  cJSON_AddNumberToObject(o, "alert_code", c->alert_code);
  cJSON_AddBoolToObject(o, "cert_requested", c->cert_requested);
  cJSON_AddBoolToObject(o, "handshake_done", c->handshake_done);
  cJSON_AddNumberToObject(o, "bytes_out", (double)c->bytes_out);
  cJSON_AddNumberToObject(o, "bytes_in", (double)c->bytes_in);
  return o;
}

void probe_tape_cap_back(const cJSON *o, struct probe_tls_capture *c) {
  sk_X509_pop_free(c->sent, X509_free);
  sk_X509_pop_free(c->built, X509_free);
  c->sent = probe_tape_certs_back(cJSON_GetObjectItemCaseSensitive(o, "sent"));
  c->built = probe_tape_certs_back(cJSON_GetObjectItemCaseSensitive(o, "built"));
  c->nerrors = 0;
  const cJSON *x;
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(o, "errors")) {
    if (c->nerrors >= PROBE_TLS_MAX_ERRORS) break;
    c->errors[c->nerrors].depth = (int)get_num(x, "depth", 0);
    c->errors[c->nerrors].error = (int)get_num(x, "error", 0);
    c->nerrors++;
  }
  get_str(o, "version", c->version, sizeof(c->version));
  get_str(o, "cipher", c->cipher, sizeof(c->cipher));
  get_str(o, "alert", c->alert, sizeof(c->alert));
  c->alert_code = (int)get_num(o, "alert_code", 0);
  c->cert_requested = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "cert_requested"));
  c->handshake_done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "handshake_done"));
  double bo = get_num(o, "bytes_out", 0), bi = get_num(o, "bytes_in", 0);
  c->bytes_out = bo > 0 ? (uint64_t)bo : 0;
  c->bytes_in = bi > 0 ? (uint64_t)bi : 0;
}

int probe_tape_load(const char *text, size_t len, cJSON **transcript, char *err, size_t errlen) {
  *transcript = NULL;
  cJSON *t = cJSON_ParseWithLength(text, len);
  const char *schema = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "schema"));
  if (!schema || strcmp(schema, PROBE_TAPE_SCHEMA) || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(t, "events"))) {
    cg_snprintf(err, errlen, "not a cmgprobe transcript (\"schema\": \"%s\" and \"events\")", PROBE_TAPE_SCHEMA);
    cJSON_Delete(t);
    return CG_ERR_PARSE;
  }
  *transcript = t;
  return CG_OK;
}
