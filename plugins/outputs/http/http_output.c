/* Output `http`: POST or PUT of the gzip bundle to any HTTPS ingestion endpoint (Splunk HEC-,
 * Logstash-, Fluent Bit- or Vector-style HTTP inputs, a WebDAV folder). Idempotency-Key carries
 * the bundle id. Authentication: a bearer token (file or environment variable), an HMAC-SHA256
 * signature over "<timestamp>.<body>", a client certificate (mTLS), or several of them. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <string.h>

#include "http.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "meaning.h"
#include "config.h"
#include "plugin.h"

struct http_ctx {
  char *url, *method, *ca_file, *proxy, *client_cert, *client_key;
  char *bearer_token_file, *bearer_token_env, *auth_scheme;
  char *hmac_key_file, *hmac_key_env, *signature_header, *timestamp_header;
  int64_t timeout_ms;
  /* prepared by init; secrets */
  char *token, *hmac_key;
  size_t hmac_key_len;
  char what[300];
  CURL *curl;
};

static const struct cg_config_map http_map[] = {
    {CG_CFG_STRING, "url", "null",
     "Where to send bundles (https). For PUT, {bundle_id}, {hostname}, {yyyy}, {mm}, {dd} and {name} "
     "(the whole object name) are filled in",
     offsetof(struct http_ctx, url), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "method", "\"POST\"", "POST or PUT", offsetof(struct http_ctx, method), 0, 0, NULL, "POST|PUT"},
    {CG_CFG_STRING, "bearer_token_file", "null", "File holding a token sent as 'Authorization: <scheme> <token>'",
     offsetof(struct http_ctx, bearer_token_file), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "bearer_token_env", "null", "Environment variable holding that token instead",
     offsetof(struct http_ctx, bearer_token_env), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "auth_scheme", "\"Bearer\"", "Authorization scheme for the token (Splunk HEC: Splunk)",
     offsetof(struct http_ctx, auth_scheme), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "hmac_key_file", "null", "File holding an HMAC-SHA256 key: signs \"<timestamp>.<body>\"",
     offsetof(struct http_ctx, hmac_key_file), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "hmac_key_env", "null", "Environment variable holding that key instead",
     offsetof(struct http_ctx, hmac_key_env), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "signature_header", "\"X-Cmgdiag-Signature\"", "Header for \"sha256=<hex>\"",
     offsetof(struct http_ctx, signature_header), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "timestamp_header", "\"X-Cmgdiag-Timestamp\"", "Header for the signing time (Unix seconds)",
     offsetof(struct http_ctx, timestamp_header), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "client_cert", "null", "Client certificate (PEM) for mutual TLS",
     offsetof(struct http_ctx, client_cert), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "client_key", "null", "Its private key (PEM)", offsetof(struct http_ctx, client_key), 0, 0, NULL,
     NULL},
    {CG_CFG_STRING, "ca_file", "null", "Extra trusted roots (PEM), on top of the platform store",
     offsetof(struct http_ctx, ca_file), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "proxy", "null", "Proxy URL (null: none, or the https_proxy environment variable)",
     offsetof(struct http_ctx, proxy), 0, 0, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "30000", "Longest time one upload may take", offsetof(struct http_ctx, timeout_ms), 1000,
     600000, NULL, NULL},
    CG_CFG_END,
};

/* A secret from a file or an environment variable, whitespace trimmed. */
static int load_secret(const char *file, const char *env, const char *what, char **out, char *err, size_t errlen) {
  char *raw = NULL;
  size_t len = 0;
  *out = NULL;
  if (file && env) {
    cg_snprintf(err, errlen, "set either %s_file or %s_env, not both", what, what);
    return CG_ERR_CONFIG;
  }
  if (file) {
    int rc = cg_file_read(file, 65536, &raw, &len);
    if (rc != CG_OK) {
      cg_snprintf(err, errlen, "cannot read %s_file %s: %s", what, file, cg_strerror(rc));
      return CG_ERR_CONFIG;
    }
  } else if (env) {
    raw = cg_getenv(env);
    if (!raw) {
      cg_snprintf(err, errlen, "%s_env names the environment variable %s, which is not set", what, env);
      return CG_ERR_CONFIG;
    }
  } else {
    return CG_OK;
  }
  char *t = cg_str_trim(raw);
  if (!*t) {
    cg_snprintf(err, errlen, "the %s from %s is empty", what, file ? file : env);
    cg_free(raw);
    return CG_ERR_CONFIG;
  }
  *out = cg_strdup(t);
  memset(raw, 0, strlen(raw));
  cg_free(raw);
  return *out ? CG_OK : CG_ERR_NOMEM;
}

static int http_init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  struct http_ctx *c = vctx;
  if (!c->url || !*c->url) {
    cg_snprintf(err, errlen, "url is not set");
    return CG_ERR_CONFIG;
  }
  if (!cg_str_startswith_ci(c->url, "https://") &&
      !(cg_str_startswith_ci(c->url, "http://") && cg_url_is_loopback(c->url))) {
    cg_snprintf(err, errlen, "url must start with https://");
    return CG_ERR_CONFIG;
  }
  if (!c->client_cert != !c->client_key) {
    cg_snprintf(err, errlen, "client_cert and client_key go together");
    return CG_ERR_CONFIG;
  }
  for (const char *p = c->url; (p = strchr(p, '{')); p++) {
    static const char *const vars[] = {"{bundle_id}", "{hostname}", "{yyyy}", "{mm}", "{dd}", "{name}"};
    bool known = false;
    for (size_t i = 0; i < CG_ARRAY_LEN(vars); i++)
      known |= cg_str_startswith_ci(p, vars[i]);
    if (!known) {
      cg_snprintf(err, errlen,
                  "url: unknown placeholder %.24s (known: {bundle_id} {hostname} {yyyy} {mm} {dd} "
                  "{name})",
                  p);
      return CG_ERR_CONFIG;
    }
  }
  /* a file it names holds a secret or decides trust: read only from an admin-only configuration,
   * and only when the file is admin-only too (a user could otherwise send root's file to a URL of
   * their choosing, or add a root that intercepts the upload) */
  const struct cg_config *cfg = env ? env->config : NULL;
  const char *keys[] = {"bearer_token_file", "hmac_key_file", "client_key", "client_cert", "ca_file"};
  const char *files[] = {c->bearer_token_file, c->hmac_key_file, c->client_key, c->client_cert, c->ca_file};
  for (size_t i = 0; i < CG_ARRAY_LEN(files); i++)
    if (cg_config_file_trusted(cfg, keys[i], files[i], err, errlen) != CG_OK) return CG_ERR_CONFIG;
  int rc = load_secret(c->bearer_token_file, c->bearer_token_env, "bearer_token", &c->token, err, errlen);
  if (rc == CG_OK) rc = load_secret(c->hmac_key_file, c->hmac_key_env, "hmac_key", &c->hmac_key, err, errlen);
  if (rc != CG_OK) return rc;
  c->hmac_key_len = c->hmac_key ? strlen(c->hmac_key) : 0;
  char origin[200]; /* scheme, host and port: a path token or user information is never in a sentence */
  cg_url_origin(c->url, origin, sizeof(origin));
  cg_snprintf(c->what, sizeof(c->what), "the ingestion endpoint %s", origin);
  c->curl = curl_easy_init();
  return c->curl ? CG_OK : CG_ERR_NOMEM;
}

static char *expand_url(const char *tpl, const struct cg_emit_req *req) {
  struct cg_buf b;
  cg_buf_init(&b, 8192);
  int rc = CG_OK;
  for (const char *p = tpl; *p && rc == CG_OK;) {
    const char *val = NULL;
    size_t skip = 0, vlen = 0;
    if (cg_str_startswith_ci(p, "{bundle_id}"))
      val = req->bundle_id, skip = 11;
    else if (cg_str_startswith_ci(p, "{hostname}"))
      val = req->hostname, skip = 10;
    else if (cg_str_startswith_ci(p, "{name}"))
      val = req->name, skip = 6;
    else if (cg_str_startswith_ci(p, "{yyyy}"))
      val = req->created_at, vlen = 4, skip = 6;
    else if (cg_str_startswith_ci(p, "{mm}"))
      val = req->created_at + 5, vlen = 2, skip = 4;
    else if (cg_str_startswith_ci(p, "{dd}"))
      val = req->created_at + 8, vlen = 2, skip = 4;
    if (val) {
      rc = cg_buf_append(&b, val, vlen ? vlen : strlen(val));
      p += skip;
    } else {
      rc = cg_buf_append(&b, p++, 1);
    }
  }
  if (rc != CG_OK) {
    cg_buf_free(&b);
    return NULL;
  }
  return cg_buf_take(&b, NULL);
}

/* "sha256=<hex>" of HMAC-SHA256(key, "<ts>.<body>"). */
static char *sign(const struct http_ctx *c, const char *ts, const void *body, size_t len) {
  size_t tl = strlen(ts);
  unsigned char *msg = cg_malloc(tl + 1 + len), md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (!msg) return NULL;
  memcpy(msg, ts, tl);
  msg[tl] = '.';
  memcpy(msg + tl + 1, body, len);
  bool ok = HMAC(EVP_sha256(), c->hmac_key, (int)c->hmac_key_len, msg, tl + 1 + len, md, &mdlen) != NULL;
  cg_free(msg);
  if (!ok) return NULL;
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  for (unsigned i = 0; i < mdlen; i++)
    cg_snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return cg_asprintf("%s: sha256=%s", c->signature_header, hex);
}

static void http_emit(void *vctx, const struct cg_env *env, const struct cg_emit_req *req, struct cg_emit_result *res) {
  struct http_ctx *c = vctx;
  (void)env;
  char ts[32];
  cg_snprintf(ts, sizeof(ts), "%lld", (long long)(cg_time_utc_ms() / 1000));
  char *url = expand_url(c->url, req);
  char *idem = cg_asprintf("Idempotency-Key: %s", req->bundle_id);
  char *auth = c->token ? cg_asprintf("Authorization: %s %s", c->auth_scheme, c->token) : NULL;
  char *tsh = c->hmac_key ? cg_asprintf("%s: %s", c->timestamp_header, ts) : NULL;
  char *sig = c->hmac_key ? sign(c, ts, req->gz, req->gz_len) : NULL;
  struct curl_slist *h = NULL;
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Content-Encoding: gzip");
  h = curl_slist_append(h, "Expect:");
  if (idem) h = curl_slist_append(h, idem);
  if (auth) h = curl_slist_append(h, auth);
  if (tsh) h = curl_slist_append(h, tsh);
  if (sig) h = curl_slist_append(h, sig);
  struct cg_http_resp r;
  memset(&r, 0, sizeof(r));
  int rc = CG_ERR_NOMEM;
  if (url && idem && h && (!c->token || auth) && (!c->hmac_key || (tsh && sig))) {
    struct cg_http_req rq = {.method = c->method,
                             .url = url,
                             .headers = h,
                             .body = req->gz,
                             .body_len = req->gz_len,
                             .timeout_ms = (long)c->timeout_ms,
                             .proxy = c->proxy,
                             .ca_file = c->ca_file,
                             .client_cert = c->client_cert,
                             .client_key = c->client_key,
                             .allow_loopback_http = true,
                             .max_response = 16384};
    rc = cg_http_request(c->curl, &rq, &r);
  } else {
    cg_strlcpy(r.error, "out of memory", sizeof(r.error));
  }
  cg_emit_classify_http(rc, &r, c->what, res);
  if (rc == CG_OK && (r.status == 401 || r.status == 403)) {
    size_t l = strlen(res->error);
    cg_snprintf(res->error + l, sizeof(res->error) - l, ": check the %s",
                c->token         ? "token"
                : c->client_cert ? "client certificate"
                                 : "endpoint's authentication settings");
  }
  if (auth) memset(auth, 0, strlen(auth));
  curl_slist_free_all(h);
  cg_free(url);
  cg_free(idem);
  cg_free(auth);
  cg_free(tsh);
  cg_free(sig);
  cg_free(r.body);
}

static void http_fini(void *vctx) {
  struct http_ctx *c = vctx;
  if (c->curl) curl_easy_cleanup(c->curl);
  if (c->token) memset(c->token, 0, strlen(c->token));
  if (c->hmac_key) memset(c->hmac_key, 0, c->hmac_key_len);
  cg_free(c->token);
  cg_free(c->hmac_key);
}

static const struct cg_setting_meaning http_meanings[] = {{"url", cg_meaning_https_or_loopback}, {NULL, NULL}};

const struct cg_output_plugin cg_output_http = {
    .meanings = http_meanings,
    .name = "http",
    .unprivileged = true, /* the network and its own settings: the answers are parsed without privilege */
    .description = "HTTPS POST or PUT to an ingestion endpoint (token, HMAC signature or client certificate)",
    .platforms = CG_PLATFORM_ANY,
    .config_map = http_map,
    .ctx_size = sizeof(struct http_ctx),
    .target_key = "url",
    .init = http_init,
    .emit = http_emit,
    .fini = http_fini,
};
