/* Output `azblob`: Azure Blob Storage through a container SAS URL. Each bundle is one Block Blob
 * PUT with If-None-Match: *, so a retry of a bundle that got through answers 409 BlobAlreadyExists,
 * which means delivered. The SAS is a secret: only the URL without its query appears anywhere. */
#include <stddef.h>
#include <string.h>

#include "http.h"
#include "platform/sys.h"
#include "meaning.h"
#include "config.h"
#include "plugin.h"

struct azblob_ctx {
  char *sas_url, *ca_file, *proxy, *api_version;
  int64_t timeout_ms;
  /* prepared by init */
  char *base;      /* container URL without the query */
  char *query;     /* the SAS query (secret) */
  char expiry[32]; /* se= as sent, for messages */
  char perms[16];  /* sp= */
  char what[300];  /* "Azure Blob container https://host/container" */
  CURL *curl;
};

static const struct cg_config_map azblob_map[] = {
    {CG_CFG_STRING, "sas_url", "null",
     "Container SAS URL (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=...&sig=...); needs create or write",
     offsetof(struct azblob_ctx, sas_url), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "ca_file", "null", "Extra trusted roots (PEM), on top of the platform store",
     offsetof(struct azblob_ctx, ca_file), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "proxy", "null", "Proxy URL (null: none, or the https_proxy environment variable)",
     offsetof(struct azblob_ctx, proxy), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "api_version", "\"2021-08-06\"", "x-ms-version sent with every request",
     offsetof(struct azblob_ctx, api_version), 0, 0, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "30000", "Longest time one upload may take", offsetof(struct azblob_ctx, timeout_ms),
     1000, 600000, NULL, NULL},
    CG_CFG_END,
};

/* Copies the value of query parameter `name` (undecoded) into dst. */
static void query_param(const char *q, const char *name, char *dst, size_t dstlen) {
  size_t nl = strlen(name);
  dst[0] = '\0';
  for (const char *p = q; p && *p; p = strchr(p, '&'), p = p ? p + 1 : NULL)
    if (!strncmp(p, name, nl) && p[nl] == '=') {
      size_t vl = strcspn(p + nl + 1, "&#");
      if (vl >= dstlen) vl = dstlen - 1;
      memcpy(dst, p + nl + 1, vl);
      dst[vl] = '\0';
      return;
    }
}

static int azblob_init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  struct azblob_ctx *c = vctx;
  if (!c->sas_url || !*c->sas_url) {
    cg_snprintf(err, errlen, "sas_url is not set: give the container SAS URL");
    return CG_ERR_CONFIG;
  }
  /* a trust root from a file a user could change would let them intercept the upload and its SAS */
  if (cg_config_file_trusted(env ? env->config : NULL, "ca_file", c->ca_file, err, errlen) != CG_OK)
    return CG_ERR_CONFIG;
  const char *q = strchr(c->sas_url, '?');
  if (!q || !strstr(q, "sig=")) {
    cg_snprintf(err, errlen,
                "sas_url holds no SAS token (no sig= parameter): create a container SAS with "
                "create and write permission and paste the whole URL");
    return CG_ERR_CONFIG;
  }
  c->base = cg_strndup(c->sas_url, (size_t)(q - c->sas_url));
  c->query = cg_strdup(q + 1);
  c->curl = curl_easy_init();
  if (!c->base || !c->query || !c->curl) return CG_ERR_NOMEM;
  size_t bl = strlen(c->base);
  while (bl && c->base[bl - 1] == '/')
    c->base[--bl] = '\0';
  query_param(c->query, "se", c->expiry, sizeof(c->expiry));
  query_param(c->query, "sp", c->perms, sizeof(c->perms));
  /* %3A in a date as sent; show it readably */
  for (char *p; (p = strstr(c->expiry, "%3A")) || (p = strstr(c->expiry, "%3a"));) {
    *p = ':';
    memmove(p + 1, p + 3, strlen(p + 3) + 1);
  }
  cg_snprintf(c->what, sizeof(c->what), "the Azure Blob container %s", c->base);
  if (!cg_str_startswith_ci(c->base, "https://") && !cg_url_is_loopback(c->base)) {
    cg_snprintf(err, errlen, "sas_url must start with https:// (a SAS over plain http would travel in clear)");
    return CG_ERR_CONFIG;
  }
  if (c->perms[0] && !strpbrk(c->perms, "cw")) {
    cg_snprintf(err, errlen,
                "the SAS only grants '%s': it needs create (c) or write (w) permission to upload "
                "bundles",
                c->perms);
    return CG_ERR_CONFIG;
  }
  return CG_OK;
}

/* The SAS expiry (se=, ISO 8601) as ms since the epoch, or -1. */
static int64_t expiry_ms(const char *se) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (sscanf(se, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) < 3) return -1;
  return ((cg_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000;
}

static void azblob_emit(void *vctx, const struct cg_env *env, const struct cg_emit_req *req,
                        struct cg_emit_result *res) {
  struct azblob_ctx *c = vctx;
  (void)env;
  char *url = cg_asprintf("%s/%s?%s", c->base, req->name, c->query);
  char *ver = cg_asprintf("x-ms-version: %s", c->api_version);
  char *reqid = cg_asprintf("x-ms-client-request-id: %s", req->bundle_id);
  struct curl_slist *h = NULL;
  const char *fixed[] = {"x-ms-blob-type: BlockBlob",
                         "If-None-Match: *",
                         "Content-Type: application/json",
                         "Content-Encoding: gzip",
                         "x-ms-blob-content-type: application/json",
                         "x-ms-blob-content-encoding: gzip",
                         "Expect:"};
  for (size_t i = 0; i < CG_ARRAY_LEN(fixed); i++)
    h = curl_slist_append(h, fixed[i]);
  if (ver) h = curl_slist_append(h, ver);
  if (reqid) h = curl_slist_append(h, reqid);
  struct cg_http_resp r;
  memset(&r, 0, sizeof(r));
  int rc = CG_ERR_NOMEM;
  if (url && ver && reqid && h) {
    struct cg_http_req rq = {.method = "PUT",
                             .url = url,
                             .headers = h,
                             .body = req->gz,
                             .body_len = req->gz_len,
                             .timeout_ms = (long)c->timeout_ms,
                             .proxy = c->proxy,
                             .ca_file = c->ca_file,
                             .allow_loopback_http = true,
                             .max_response = 16384};
    rc = cg_http_request(c->curl, &rq, &r);
  } else {
    cg_strlcpy(r.error, "out of memory", sizeof(r.error));
  }
  cg_emit_classify_http(rc, &r, c->what, res);
  const char *code = r.ms_error_code;
  if (rc == CG_OK && r.status == 409 && !strcmp(code, "BlobAlreadyExists")) {
    res->outcome = CG_EMIT_ALREADY;
    res->error[0] = '\0';
  } else if (rc == CG_OK && r.status == 404 && !strcmp(code, "ContainerNotFound")) {
    cg_snprintf(res->error, sizeof(res->error),
                "%s does not exist (HTTP 404 ContainerNotFound): create the container or fix sas_url", c->what);
  } else if (rc == CG_OK && r.status == 403) {
    int64_t se = expiry_ms(c->expiry), now = cg_time_utc_ms();
    if (!strcmp(code, "AuthorizationPermissionMismatch"))
      cg_snprintf(res->error, sizeof(res->error),
                  "%s refused the upload (HTTP 403 AuthorizationPermissionMismatch): the SAS (permissions '%s') "
                  "does not allow writing blobs; issue a SAS with create and write permission",
                  c->what, c->perms);
    else if (se >= 0 && se <= now)
      cg_snprintf(res->error, sizeof(res->error),
                  "%s refused the upload (HTTP 403 %s): the SAS expired on %s by this device's clock; issue a new "
                  "SAS and update sas_url",
                  c->what, code[0] ? code : "AuthenticationFailed", c->expiry);
    else
      cg_snprintf(res->error, sizeof(res->error),
                  "%s refused the SAS (HTTP 403 %s): it was revoked or its account key rotated, its start time is "
                  "still ahead, or this device's clock is wrong; check the SAS (expiry %s) and the clock",
                  c->what, code[0] ? code : "AuthenticationFailed", c->expiry[0] ? c->expiry : "unknown");
  } else if (rc == CG_OK && code[0] && res->outcome != CG_EMIT_DELIVERED) {
    size_t l = strlen(res->error);
    cg_snprintf(res->error + l, sizeof(res->error) - l, " [%s]", code);
  }
  curl_slist_free_all(h);
  cg_free(url);
  cg_free(ver);
  cg_free(reqid);
  cg_free(r.body);
}

static void azblob_fini(void *vctx) {
  struct azblob_ctx *c = vctx;
  if (c->curl) curl_easy_cleanup(c->curl);
  if (c->query) memset(c->query, 0, strlen(c->query));
  cg_free(c->base);
  cg_free(c->query);
}

/* Group Policy SasUrl and `setup --sas-url-file`: this one output with this SAS URL */
static const struct cg_policy_value azblob_policy[] = {{"SasUrl", "sas_url"}, {NULL, NULL}};

static const struct cg_setting_meaning azblob_meanings[] = {{"sas_url", cg_meaning_upload_sas}, {NULL, NULL}};

const struct cg_output_plugin cg_output_azblob = {
    .meanings = azblob_meanings,
    .name = "azblob",
    .unprivileged = true, /* the network and its own settings: the answers are parsed without privilege */
    .description = "Azure Blob Storage container through a SAS URL (Block Blob PUT, idempotent)",
    .platforms = CG_PLATFORM_ANY,
    .config_map = azblob_map,
    .ctx_size = sizeof(struct azblob_ctx),
    .target_key = "sas_url",
    .policy_values = azblob_policy,
    .init = azblob_init,
    .emit = azblob_emit,
    .fini = azblob_fini,
};
