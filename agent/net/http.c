/* Shared libcurl TLS setup. */
#include "http.h"
#include "platform/sys.h"
#include "plugin.h"

#include <string.h>
#include <time.h>

#include "platform/runtime.h"
#include "platform/fs.h"
#include "platform/tls.h"
#include "redact.h"

int cg_http_global_init(void) { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? CG_OK : CG_ERR_INTERNAL; }

int cg_http_tls_setup(CURL *h, const char *ca_file, char *err, size_t errlen) {
  if (ca_file && *ca_file) {
    char *data = NULL;
    size_t len = 0;
    int rc = cg_file_read(ca_file, 4 * 1024 * 1024, &data, &len);
    bool pem = rc == CG_OK && strstr(data, "-----BEGIN CERTIFICATE-----") != NULL;
    cg_free(data);
    if (!pem) {
      cg_snprintf(err, errlen, "the CA file %s %s", ca_file,
                  rc != CG_OK ? cg_strerror(rc) : "holds no PEM certificate");
      return CG_ERR_CONFIG;
    }
  }
  long opts = cg_platform_curl_ssl_options();
  if (curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
      (opts && curl_easy_setopt(h, CURLOPT_SSL_OPTIONS, opts) != CURLE_OK) ||
      (ca_file && *ca_file && curl_easy_setopt(h, CURLOPT_CAINFO, ca_file) != CURLE_OK)) {
    cg_snprintf(err, errlen, "libcurl refused the TLS settings");
    return CG_ERR_INTERNAL;
  }
  return CG_OK;
}

static int hexval(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* A dotted quad's four numbers; false when it is not one. */
static bool ipv4_parts(const char *h, int q[4]) {
  int parts = 0;
  for (const char *p = h;;) {
    int v = 0, digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 4)
      v = v * 10 + (*p++ - '0'), digits++;
    if (!digits || v > 255 || parts == 4) return false;
    q[parts++] = v;
    if (*p == '\0') return parts == 4;
    if (*p++ != '.') return false;
  }
}

/* A dotted quad of four decimal numbers 0-255 whose first is 127. */
static bool ipv4_loopback(const char *h) {
  int q[4];
  return ipv4_parts(h, q) && q[0] == 127;
}

static bool ipv4_local_q(const int q[4]) {
  return q[0] == 127 || (q[0] == 169 && q[1] == 254) || (q[0] | q[1] | q[2] | q[3]) == 0;
}

/* An IPv6 address in text (RFC 4291 section 2.2: groups, one "::", a dotted IPv4 tail) to its 16
 * bytes; false when it is not one. */
static bool ipv6_bytes(const char *s, unsigned char out[16]) {
  unsigned int g[2][8];
  int n[2] = {0, 0}, side = 0;
  const char *p = s;
  if (p[0] == ':') {
    if (p[1] != ':') return false;
    side = 1;
    p += 2;
  }
  while (*p) {
    const char *e = p;
    while (*e && *e != ':' && *e != '.')
      e++;
    if (*e == '.') { /* the dotted tail: two groups, and the end */
      int q[4];
      if (!ipv4_parts(p, q) || n[0] + n[1] + 2 > 8) return false;
      g[side][n[side]++] = (unsigned)(q[0] << 8 | q[1]);
      g[side][n[side]++] = (unsigned)(q[2] << 8 | q[3]);
      break;
    }
    unsigned int v = 0;
    int d = 0;
    while (hexval(*p) >= 0) {
      if (++d > 4) return false;
      v = v * 16 + (unsigned)hexval(*p++);
    }
    if (!d || n[0] + n[1] >= 8) return false;
    g[side][n[side]++] = v;
    if (*p == ':') {
      p++;
      if (*p == ':') {
        if (side) return false; /* a second "::" */
        side = 1;
        p++;
      } else if (!*p)
        return false; /* a trailing single ':' */
    } else if (*p)
      return false;
  }
  int total = n[0] + n[1];
  if (side ? total > 7 : total != 8) return false;
  memset(out, 0, 16);
  for (int i = 0; i < n[0]; i++)
    out[2 * i] = (unsigned char)(g[0][i] >> 8), out[2 * i + 1] = (unsigned char)g[0][i];
  for (int i = 0; i < n[1]; i++) {
    int at = 8 - n[1] + i;
    out[2 * at] = (unsigned char)(g[1][i] >> 8), out[2 * at + 1] = (unsigned char)g[1][i];
  }
  return true;
}

bool cg_addr_is_local(const char *ip) {
  if (!ip || !*ip) return false;
  char a[64];
  size_t n = strlen(ip);
  if (ip[0] == '[' && n >= 2 && ip[n - 1] == ']') { /* a URL's spelling */
    ip++;
    n -= 2;
  }
  if (n >= sizeof(a)) return false;
  memcpy(a, ip, n);
  a[n] = '\0';
  char *zone = strchr(a, '%');
  if (zone) *zone = '\0';
  int q[4];
  if (!strchr(a, ':')) return ipv4_parts(a, q) && ipv4_local_q(q);
  unsigned char b[16];
  if (!ipv6_bytes(a, b)) return false;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true; /* fe80::/10 */
  bool zero10 = true;
  for (int i = 0; i < 10; i++)
    zero10 &= b[i] == 0;
  if (!zero10) return false;
  bool mapped = b[10] == 0xff && b[11] == 0xff, compat = b[10] == 0 && b[11] == 0;
  if (compat && !b[12] && !b[13] && !b[14] && b[15] <= 1) return true; /* :: and ::1 */
  if (!mapped && !compat) return false;
  int v4[4] = {b[12], b[13], b[14], b[15]};
  return ipv4_local_q(v4);
}

/* Decided on the host as libcurl parses it: "127.0.0.1.example.com" or "localhost.evil" is not. */
bool cg_url_is_loopback(const char *url) {
  CURLU *u = curl_url();
  char *host = NULL;
  bool loop = false;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
    loop = cg_strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 || ipv4_loopback(host);
  curl_free(host);
  curl_url_cleanup(u);
  return loop;
}

bool cg_url_host_is_local(const char *url) {
  CURLU *u = curl_url();
  char *host = NULL;
  bool local = false;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host)
    local = cg_strcasecmp(host, "localhost") == 0 || cg_str_endswith_ci(host, ".localhost") || cg_addr_is_local(host);
  curl_free(host);
  curl_url_cleanup(u);
  return local;
}

bool cg_url_origin(const char *url, char *out, size_t n) {
  CURLU *u = curl_url();
  char *sch = NULL, *host = NULL, *port = NULL;
  bool ok = u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK;
  if (ok && curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) port = NULL;
  if (ok)
    cg_snprintf(out, n, "%s://%.150s%s%s", sch, host, port ? ":" : "", port ? port : "");
  else if (n)
    out[0] = '\0';
  curl_free(sch);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(u);
  return ok;
}

struct resp_sink {
  struct cg_http_resp *r;
  struct cg_buf body;
  bool abort_over_cap;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  struct resp_sink *s = ud;
  size_t len = size * n;
  if (s->abort_over_cap && s->body.len + len > s->body.cap) {
    s->r->too_large = true;
    return 0; /* ends the transfer: CURLE_WRITE_ERROR */
  }
  if (s->body.len < s->body.cap) {
    size_t room = s->body.cap - s->body.len;
    cg_buf_append(&s->body, data, len < room ? len : room); /* the rest is read and discarded */
  }
  return len;
}

bool cg_http_header_value(const char *line, size_t len, const char *name, char *dst, size_t dstlen) {
  size_t nl = strlen(name);
  if (len <= nl || line[nl] != ':' || !cg_str_startswith_ci(line, name)) return false;
  const char *v = line + nl + 1;
  size_t vl = len - nl - 1;
  while (vl && (*v == ' ' || *v == '\t'))
    v++, vl--;
  while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
    vl--;
  if (vl >= dstlen) vl = dstlen - 1;
  memcpy(dst, v, vl);
  dst[vl] = '\0';
  return true;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud) {
  struct cg_http_resp *r = ((struct resp_sink *)ud)->r;
  size_t len = size * n;
  if (len > 9 && !memcmp(data, "HTTP/", 5)) { /* a new status line (also after 100 Continue) */
    const char *sp = memchr(data, ' ', len);
    const char *sp2 = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - data)) : NULL;
    r->reason[0] = r->retry_after[0] = r->ms_error_code[0] = r->date[0] = r->content_type[0] = '\0';
    r->last_modified[0] = '\0';
    if (sp2) {
      size_t rl = len - (size_t)(sp2 + 1 - data);
      while (rl && (sp2[rl] == '\r' || sp2[rl] == '\n'))
        rl--;
      char tmp[sizeof(r->reason)];
      cg_escape_bytes(sp2 + 1, rl, sizeof(tmp) - 1, tmp, sizeof(tmp));
      cg_strlcpy(r->reason, cg_str_trim(tmp), sizeof(r->reason));
    }
    return len;
  }
  if (!cg_http_header_value(data, len, "Retry-After", r->retry_after, sizeof(r->retry_after)) &&
      !cg_http_header_value(data, len, "Date", r->date, sizeof(r->date)) &&
      !cg_http_header_value(data, len, "Last-Modified", r->last_modified, sizeof(r->last_modified)) &&
      !cg_http_header_value(data, len, "Content-Type", r->content_type, sizeof(r->content_type)))
    cg_http_header_value(data, len, "x-ms-error-code", r->ms_error_code, sizeof(r->ms_error_code));
  /* header values reach the log, the console and bundles: no control characters from a server */
  cg_strip_controls(r->ms_error_code);
  cg_strip_controls(r->content_type);
  cg_strip_controls(r->date);
  cg_strip_controls(r->last_modified);
  cg_strip_controls(r->retry_after);
  return len;
}

/* Ends a transfer when the agent is asked to stop (service stop, SIGTERM): stop within seconds
 * even in the middle of a probe or an upload. */
static int on_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln) {
  (void)ud;
  (void)dlt;
  (void)dln;
  (void)ult;
  (void)uln;
  return cg_stop_requested() ? 1 : 0;
}

void cg_http_stop_on_request(CURL *h) {
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
}

int cg_http_request(CURL *h, const struct cg_http_req *rq, struct cg_http_resp *resp) {
  struct resp_sink sink = {.r = resp, .abort_over_cap = rq->abort_over_cap};
  char curl_err[CURL_ERROR_SIZE] = "";
  memset(resp, 0, sizeof(*resp));
  bool https = cg_str_startswith_ci(rq->url, "https://");
  /* plain http: a loopback emulator, or a TCP connection only (nothing is sent; intranet MP reachability) */
  bool plain_ok = cg_str_startswith_ci(rq->url, "http://") &&
                  (rq->connect_only || (rq->allow_loopback_http && cg_url_is_loopback(rq->url)));
  if (!https && !plain_ok) {
    cg_snprintf(resp->error, sizeof(resp->error),
                "the URL must start with https:// (plain http is accepted only for a loopback emulator)");
    return CG_ERR_CONFIG;
  }
  cg_buf_init(&sink.body, rq->max_response ? rq->max_response : 65536);
  curl_easy_reset(h); /* keeps the connection cache: the next request to the same host reuses it */
  int rc = cg_http_tls_setup(h, rq->ca_file, resp->error, sizeof(resp->error));
  if (rc != CG_OK) goto out;
  long t = rq->timeout_ms > 0 ? rq->timeout_ms : 30000;
  curl_easy_setopt(h, CURLOPT_URL, rq->url);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, https ? "https" : "http");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t);
  long ct = rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : 10000L;
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, t < ct ? t : ct);
  if (rq->resolve) curl_easy_setopt(h, CURLOPT_RESOLVE, rq->resolve);
  /* TLS 1.2 at least, for every request: uploads carry the bundle and the SAS, and a CMG that
   * enforces TLS 1.2 refuses less anyway. */
  curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if (rq->ssl_ctx_fn) {
    curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, rq->ssl_ctx_fn);
    curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, rq->ssl_ctx_data);
  }
  if (rq->fresh_connection) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  if (rq->connect_only) {
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L); /* nothing can be sent on it afterwards */
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, rq->headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "cmgdiag/" CMGDIAG_VERSION);
  cg_http_stop_on_request(h);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  if (rq->proxy) curl_easy_setopt(h, CURLOPT_PROXY, rq->proxy);
  if (rq->client_cert) curl_easy_setopt(h, CURLOPT_SSLCERT, rq->client_cert);
  if (rq->client_key) curl_easy_setopt(h, CURLOPT_SSLKEY, rq->client_key);
  if (!strcmp(rq->method, "GET")) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    if (strcmp(rq->method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
  }
  CURLcode cc = curl_easy_perform(h);
  resp->curl_rc = (int)cc;
  {
    static const CURLINFO infos[] = {CURLINFO_NAMELOOKUP_TIME_T, CURLINFO_CONNECT_TIME_T, CURLINFO_APPCONNECT_TIME_T,
                                     CURLINFO_STARTTRANSFER_TIME_T, CURLINFO_TOTAL_TIME_T};
    double *outs[] = {&resp->dns_ms, &resp->connect_ms, &resp->tls_ms, &resp->ttfb_ms, &resp->total_ms};
    for (size_t i = 0; i < CG_ARRAY_LEN(infos); i++) {
      curl_off_t us = 0;
      *outs[i] = curl_easy_getinfo(h, infos[i], &us) == CURLE_OK && us > 0 ? (double)us / 1000.0 : -1;
    }
    char *ip = NULL;
    if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
      cg_strlcpy(resp->primary_ip, ip, sizeof(resp->primary_ip));
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &resp->os_errno);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
  if (cc != CURLE_OK) {
    /* curl's sentence names the host, never the query; redact anyway in case a proxy echoes it. */
    char *red = cg_redact_text(curl_err[0] ? curl_err : curl_easy_strerror(cc));
    cg_snprintf(resp->error, sizeof(resp->error), "%s (curl error %d)", red ? red : "transfer failed", (int)cc);
    cg_free(red);
    rc = cc == CURLE_OPERATION_TIMEDOUT ? CG_ERR_TIMEOUT : CG_ERR_IO;
    goto out;
  }
out:
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(h, CURLOPT_RESOLVE, NULL);
  resp->body = cg_buf_take(&sink.body, &resp->body_len);
  return rc;
}

int64_t cg_http_retry_after_ms(const char *value, int64_t now_ms) {
  int64_t secs;
  if (!value || !*value) return -1;
  if (cg_parse_i64(value, &secs)) return secs < 0 ? -1 : (secs > 86400 * 7 ? 86400 * 7 : secs) * 1000;
  time_t t = curl_getdate(value, NULL);
  if (t == (time_t)-1) return -1;
  int64_t d = (int64_t)t * 1000 - now_ms;
  return d < 0 ? 0 : d;
}

void cg_emit_classify_http(int rc, const struct cg_http_resp *r, const char *what, struct cg_emit_result *res) {
  res->http_status = r->status;
  res->retry_after_ms = -1;
  if (rc == CG_ERR_CONFIG) {
    res->outcome = CG_EMIT_DOWN;
    cg_snprintf(res->error, sizeof(res->error), "%s: %s", what, r->error);
    return;
  }
  if (rc != CG_OK) {
    /* TLS trust and certificate problems do not heal by retrying within seconds (a wrong CA file,
     * or a hotel captive portal answering in the collector's place); the network ones may. */
    switch (r->curl_rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_UNSUPPORTED_PROTOCOL: res->outcome = CG_EMIT_DOWN; break;
    default: res->outcome = CG_EMIT_RETRY;
    }
    cg_snprintf(res->error, sizeof(res->error), "%s could not be reached: %s", what, r->error);
    return;
  }
  long s = r->status;
  char *reason = cg_redact_text(r->reason);
  if (s >= 200 && s < 300)
    res->outcome = CG_EMIT_DELIVERED;
  else if (s == 408 || s == 429 || s >= 500)
    res->outcome = CG_EMIT_RETRY;
  /* Refusals of this very bundle. A plain 400 is not among them: endpoints answer it for their own
   * configuration too (nginx without the client certificate), and giving up bundles on that would
   * lose them; they wait in the bounded spool instead. */
  else if (s == 413 || s == 414 || s == 415 || s == 422)
    res->outcome = CG_EMIT_REJECTED;
  else
    res->outcome = CG_EMIT_DOWN; /* 3xx (redirects are not followed), 400, 401, 403, 404, 405, ... */
  if (res->outcome == CG_EMIT_RETRY) {
    int64_t ra = cg_http_retry_after_ms(r->retry_after, cg_time_utc_ms());
    res->retry_after_ms = ra;
  }
  if (res->outcome != CG_EMIT_DELIVERED)
    cg_snprintf(res->error, sizeof(res->error), "%s answered HTTP %ld%s%s%s", what, s, reason && *reason ? " (" : "",
                reason ? reason : "", reason && *reason ? ")" : "");
  else
    res->error[0] = '\0';
  cg_free(reason);
}
