/* Shared libcurl setup for every HTTPS request cmgdiag makes (CMG probe, outputs, netenv).
 * TLS verification is always on: peer and host name are verified against the platform store
 * plus an optional CA file. There is no switch to turn it off. */
#ifndef CG_HTTP_H
#define CG_HTTP_H

#include <curl/curl.h>

#include "cg.h"

/* Applies verification settings to `h`. ca_file (PEM, may be NULL) is trusted in addition to the
 * platform store; a ca_file that cannot be read is an error here, because curl would otherwise
 * carry on with the platform store alone and hide the misconfiguration. */
int cg_http_tls_setup(CURL *h, const char *ca_file, char *err, size_t errlen);

/* One-time libcurl initialisation; call before any thread starts. */
int cg_http_global_init(void);

/* One request on a reused handle (keep the handle between requests so the connection is reused).
 * Redirects are never followed; only https is allowed, plus http to a loopback address when
 * `allow_loopback_http` (local emulators). */
struct cg_http_req {
  const char *method; /* "PUT", "POST", "GET" */
  const char *url;    /* may hold a secret (SAS): never copied into errors */
  const struct curl_slist *headers;
  const void *body;
  size_t body_len;
  long timeout_ms;                      /* whole request */
  const char *proxy;                    /* NULL: libcurl's default (https_proxy environment) */
  const char *ca_file;                  /* extra trusted roots, PEM; NULL: platform store only */
  const char *client_cert, *client_key; /* PEM, for mTLS; NULL: none */
  bool allow_loopback_http;
  size_t max_response; /* cap on the response body kept; the rest is discarded */
  /* For the CMG probe (all optional): */
  bool abort_over_cap;              /* a body past max_response ends the transfer (resp.too_large) */
  long connect_timeout_ms;          /* 0: min(timeout, 10 s) */
  const struct curl_slist *resolve; /* CURLOPT_RESOLVE entries "host:port:address" */
  CURLcode (*ssl_ctx_fn)(CURL *, void *ssl_ctx, void *data); /* CURLOPT_SSL_CTX_FUNCTION */
  void *ssl_ctx_data;
  bool fresh_connection; /* do not reuse a cached connection (a full TLS handshake) */
  bool connect_only;     /* TCP and TLS only, no HTTP request (CG_OK with status 0) */
};

struct cg_http_resp {
  long status;            /* 0: no HTTP answer (see curl_rc) */
  char reason[160];       /* status text of HTTP/1.x ("The specified blob already exists.") */
  char retry_after[64];   /* Retry-After header, as sent */
  char ms_error_code[96]; /* x-ms-error-code header (Azure Storage) */
  int curl_rc;            /* CURLcode */
  char error[512];        /* a sentence when curl_rc != 0, secrets redacted */
  char *body;             /* response body up to max_response, NUL-terminated; caller frees */
  size_t body_len;
  char date[64];          /* Date header */
  char last_modified[64]; /* Last-Modified header */
  char content_type[128];
  bool too_large; /* abort_over_cap and the body was larger */
  long os_errno;  /* CURLINFO_OS_ERRNO of a failed connect */
  char primary_ip[64];
  /* Phases in ms from the start (CURLINFO_*_TIME_T), -1 when not reached. */
  double dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms;
};

/* CG_OK when an HTTP answer (any status) arrived; CG_ERR_IO / CG_ERR_TIMEOUT / CG_ERR_CONFIG
 * otherwise, with resp->error set. Free resp->body with cg_free. */
int cg_http_request(CURL *h, const struct cg_http_req *rq, struct cg_http_resp *resp);

/* Makes the handle's transfers end when the agent is asked to stop (cg_stop_requested). */
void cg_http_stop_on_request(CURL *h);

/* Copies a header value (trimmed) into dst when `line` (len bytes) is "name: value". */
bool cg_http_header_value(const char *line, size_t len, const char *name, char *dst, size_t dstlen);

/* Retry-After (delay seconds or an HTTP-date) as milliseconds from now_ms; -1 when absent or
 * unreadable. Never negative for a date in the past (0). */
int64_t cg_http_retry_after_ms(const char *value, int64_t now_ms);

/* For the HTTP outputs: what a cg_http_request outcome means for delivery (delivered, retry,
 * output down, rejected), in an emit result. `what` names the collection point in the sentence
 * ("the ingestion endpoint collector.example"). */
struct cg_emit_result;
void cg_emit_classify_http(int rc, const struct cg_http_resp *r, const char *what, struct cg_emit_result *res);

/* True when the URL's host is a loopback address or "localhost". */
bool cg_url_is_loopback(const char *url);
/* True for an address no certificate-chosen fetch may reach: loopback (127.0.0.0/8, ::1), link-local
 * (169.254.0.0/16, fe80::/10, where cloud metadata services live), unspecified (0.0.0.0, ::), also as
 * an IPv4-mapped IPv6 address; "[...]" and a "%zone" are accepted. */
bool cg_addr_is_local(const char *ip);
/* "scheme://host[:port]" of a URL: what a person may read of it (no user information, path, query
 * or fragment, where tokens and signatures live). False ("") when it is not a URL. */
bool cg_url_origin(const char *url, char *out, size_t n);
/* The same for a URL's host, and "localhost" (or a name under .localhost). */
bool cg_url_host_is_local(const char *url);

#endif
