/* The `content` check: can this device download content through the CMG's content path, and fast
 * enough for an in-place upgrade? It downloads a test object (a small file the admin distributed
 * to the content-enabled CMG or cloud distribution point, or any HTTPS URL the upgrade content
 * comes from) through the proxy SYSTEM would use, within a byte budget and the check's deadline,
 * measures the time to the first byte and the steady throughput after it, and estimates how long
 * the upgrade content (upgrade_size_mb) would take against the window it must fit in. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "budget.h"
#include "discovery.h"
#include "http.h"
#include "platform/runtime.h"
#include "platform/sys.h"
#include "meaning.h"
#include "plugin.h"
#include "proxy.h"

struct content_ctx {
  struct cg_strlist urls, resolve;
  char *ca_file, *proxy, *metered;
  int64_t max_bytes, timeout_ms, upgrade_size_mb, window_minutes;
  int64_t interval_s, budget_mb_month, max_age_s;
};

static const struct cg_config_map content_map[] = {
    {CG_CFG_STRLIST, "urls", "[]",
     "HTTPS URLs of a test object on the content path (a file distributed to the content-enabled CMG or cloud DP)",
     offsetof(struct content_ctx, urls), 0, 0, NULL, NULL},
    {CG_CFG_INT, "max_bytes", "8388608", "Most bytes downloaded from each URL (the byte budget)",
     offsetof(struct content_ctx, max_bytes), 65536, 1073741824, NULL, NULL},
    {CG_CFG_INT, "content_interval_s", "604800",
     "Scheduled cycles download the test object at most this often (a failed one is tried again after a day)",
     offsetof(struct content_ctx, interval_s), 3600, 31536000, NULL, NULL},
    {CG_CFG_INT, "content_budget_mb_month", "64",
     "Most MB this device downloads from the content path in a calendar month, whatever asks",
     offsetof(struct content_ctx, budget_mb_month), 1, 102400, NULL, NULL},
    {CG_CFG_INT, "content_max_age_s", "21600", "validate reuses a measurement younger than this",
     offsetof(struct content_ctx, max_age_s), 0, 31536000, NULL, NULL},
    {CG_CFG_INT, "timeout_ms", "60000", "Longest time one download may take", offsetof(struct content_ctx, timeout_ms),
     1000, 600000, NULL, NULL},
    {CG_CFG_INT, "upgrade_size_mb", "4096", "Size of the upgrade content the estimate is for (MB)",
     offsetof(struct content_ctx, upgrade_size_mb), 1, 1048576, NULL, NULL},
    {CG_CFG_INT, "window_minutes", "120",
     "Time the download must fit in: fail when the estimate is longer, warn above half of it",
     offsetof(struct content_ctx, window_minutes), 1, 100000, NULL, NULL},
    {CG_CFG_STRING, "metered", "\"warn\"", "A metered connection (the device check tells): warn, fail or ignore",
     offsetof(struct content_ctx, metered), 0, 0, NULL, "warn|fail|ignore"},
    {CG_CFG_STRLIST, "resolve", "[]", "curl --resolve entries HOST:PORT:ADDRESS, as in cmgprobe",
     offsetof(struct content_ctx, resolve), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "ca_file", "null", "Extra trusted roots (PEM), on top of the platform store",
     offsetof(struct content_ctx, ca_file), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "proxy", "null", "Proxy URL or \"direct\" (null: the proxy SYSTEM would use, as cmgprobe)",
     offsetof(struct content_ctx, proxy), 0, 0, NULL, NULL},
    CG_CFG_END,
};

struct measure {
  long status;
  char reason[160], path[512], error[512], host[256];
  double mbit_s, seconds, ttfb_s, estimate_min;
  size_t bytes;
  bool ok, budget_reached;
};

/* The path part of a URL, without the query (a SAS or token never reaches a result). */
static void url_path(const char *url, char *out, size_t outlen) {
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  size_t n = p ? strcspn(p, "?#") : 0;
  cg_snprintf(out, outlen, "%.*s", (int)n, p ? p : "/");
}

/* The host of a URL, lower case (DNS names are case-insensitive): the diagnosis ties content failures
 * to the CMG host the probe could not reach. */
static void url_host(const char *url, char *out, size_t outlen) {
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  size_t auth = strcspn(p, "/?#");
  for (size_t i = auth; i > 0; i--)
    if (p[i - 1] == '@') { /* user information is never the host (and never shown) */
      p += i;
      auth -= i;
      break;
    }
  size_t n = strcspn(p, ":/?#");
  cg_snprintf(out, outlen, "%.*s", (int)(n < auth ? n : auth), p);
  for (char *c = out; *c; c++)
    if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
}

static void download(const struct content_ctx *c, CURL *h, const char *url, const char *proxy,
                     const struct curl_slist *resolve, struct measure *m) {
  /* a range request: the server sends the budget and no more (a cut transfer still has bytes in flight) */
  char range[64];
  cg_snprintf(range, sizeof(range), "Range: bytes=0-%lld", (long long)c->max_bytes - 1);
  struct curl_slist *hdr = curl_slist_append(NULL, range);
  struct cg_http_req rq = {.headers = hdr,
                           .method = "GET",
                           .url = url,
                           .timeout_ms = (long)c->timeout_ms,
                           .ca_file = c->ca_file,
                           .proxy = proxy,
                           .max_response = (size_t)c->max_bytes,
                           .abort_over_cap = true,
                           .resolve = resolve,
                           .fresh_connection = true};
  struct cg_http_resp r;
  memset(m, 0, sizeof(*m));
  url_path(url, m->path, sizeof(m->path));
  url_host(url, m->host, sizeof(m->host));
  int rc = cg_http_request(h, &rq, &r);
  curl_slist_free_all(hdr);
  m->status = r.status;
  cg_strlcpy(m->reason, r.reason, sizeof(m->reason));
  m->bytes = r.body_len;
  /* the budget reached: the range was served whole (206 with the budget's bytes), or a server that
   * ignores ranges was cut at the budget */
  m->budget_reached = r.too_large || (r.status == 206 && (int64_t)r.body_len >= c->max_bytes);
  /* After the first byte: what the link carries once TCP, TLS and the server's latency are paid. */
  double steady_ms = r.total_ms > 0 && r.ttfb_ms > 0 ? r.total_ms - r.ttfb_ms : -1;
  m->seconds = r.total_ms > 0 ? r.total_ms / 1000.0 : 0;
  m->ttfb_s = r.ttfb_ms > 0 ? r.ttfb_ms / 1000.0 : 0;
  if (rc != CG_OK && !r.too_large) {
    cg_strlcpy(m->error, r.error, sizeof(m->error));
  } else if (r.status >= 200 && r.status < 300 && steady_ms > 0 && m->bytes > 0) {
    double bps = (double)m->bytes / (steady_ms / 1000.0);
    m->mbit_s = bps * 8 / 1e6;
    m->estimate_min = (double)c->upgrade_size_mb * 1048576.0 / bps / 60.0;
    m->ok = true;
  } else if (r.status >= 200 && r.status < 300) {
    cg_snprintf(m->error, sizeof(m->error), "the answer was too short to measure (%zu bytes)", m->bytes);
  }
  cg_free(r.body);
}

static const char *status_meaning(long status) {
  /* Microsoft Learn, "Troubleshoot content download from a CMG" / cloud DP: a 404 is content that is
   * not on this content location; a 403 is a request the CMG's storage refuses. */
  switch (status) {
  case 404: return "not found: the content is not distributed to this content-enabled CMG or cloud distribution point";
  case 403:
    return "refused: the CMG or its storage does not allow this request (content access, or an expired download URL)";
  case 401: return "the content location asks for authentication the client did not give";
  default: return status >= 500 ? "the content location fails (server error)" : "an unexpected answer";
  }
}

static cJSON *measure_json(const struct measure *m, const char *proxy_shown) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "host", m->host);
  cJSON_AddStringToObject(o, "path", m->path);
  if (m->status)
    cJSON_AddNumberToObject(o, "status", (double)m->status);
  else
    cJSON_AddNullToObject(o, "status");
  cJSON_AddNumberToObject(o, "bytes", (double)m->bytes);
  cJSON_AddBoolToObject(o, "budget_reached", m->budget_reached);
  cJSON_AddNumberToObject(o, "seconds", (double)((int64_t)(m->seconds * 1000)) / 1000);
  cJSON_AddNumberToObject(o, "ttfb_s", (double)((int64_t)(m->ttfb_s * 1000)) / 1000);
  if (m->ok) {
    cJSON_AddNumberToObject(o, "mbit_per_s", (double)((int64_t)(m->mbit_s * 100)) / 100);
    cJSON_AddNumberToObject(o, "estimate_minutes", (double)((int64_t)(m->estimate_min * 10)) / 10);
  } else {
    cJSON_AddNullToObject(o, "mbit_per_s");
    cJSON_AddNullToObject(o, "estimate_minutes");
  }
  cJSON_AddStringToObject(o, "proxy", proxy_shown[0] ? proxy_shown : "direct");
  if (m->status && (m->status < 200 || m->status >= 300))
    cJSON_AddStringToObject(o, "meaning", status_meaning(m->status));
  if (m->error[0]) cJSON_AddStringToObject(o, "error", m->error);
  return o;
}

static int measure_and_judge(struct content_ctx *c, const struct cg_env *env, struct cg_result *res, int64_t *spent);

static int content_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct content_ctx *c = vctx;
  if (c->urls.count == 0)
    return cg_result_set(res, CG_SKIP, "CONTENT_NOT_CONFIGURED",
                         "Distribute a small test file (a few MB) to the content-enabled CMG or cloud distribution "
                         "point and set checks.content.urls to its HTTPS URL.",
                         "The content path was not checked: no test object is configured (checks.content.urls).");
  struct content_budget b = {
      .interval_s = c->interval_s, .max_age_s = c->max_age_s, .budget_mb_month = c->budget_mb_month};
  content_budget_load(&b, env);
  /* a failed measurement is tried again after a day, not a week */
  const char *last = cJSON_GetStringValue(
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b.state, "result"), "status"));
  if (last && strcmp(last, "pass") != 0 && b.interval_s > 86400) b.interval_s = 86400;
  char why[200];
  int64_t need = c->max_bytes * (int64_t)c->urls.count + 4096 * (int64_t)c->urls.count; /* bodies and headers */
  int rc;
  if (content_budget_may_measure(&b, env, need, why, sizeof(why))) {
    int64_t spent = 0;
    rc = measure_and_judge(c, env, res, &spent);
    if (rc == CG_OK) content_budget_spent(&b, env, spent, res);
  } else if (content_budget_reuse(&b, why, res)) {
    rc = CG_OK;
  } else {
    rc = cg_result_set(res, CG_SKIP, "CONTENT_NOT_MEASURED",
                       "Run 'cmgdiag selftest' to measure now, or raise checks.content.content_budget_mb_month.",
                       "The content path was not measured now: %s, and there is no earlier measurement.", why);
  }
  content_budget_facts(&b, res->facts);
  content_budget_free(&b);
  return rc;
}

/* Downloads the test object from each URL and judges the slowest; *spent: the bytes received. */
static int measure_and_judge(struct content_ctx *c, const struct cg_env *env, struct cg_result *res, int64_t *spent) {
  struct curl_slist *resolve = NULL;
  for (size_t i = 0; i < c->resolve.count; i++)
    resolve = curl_slist_append(resolve, c->resolve.items[i]);
  CURL *h = curl_easy_init();
  cJSON *list = cJSON_AddArrayToObject(res->facts, "urls");
  struct measure worst;
  memset(&worst, 0, sizeof(worst));
  bool have_worst = false;
  int rc = h && list ? CG_OK : CG_ERR_NOMEM;
  char proxy_shown[512] = "";
  for (size_t i = 0; rc == CG_OK && i < c->urls.count && !cg_stop_requested(); i++) {
    struct cg_proxy_choice pc;
    cg_proxy_resolve(c->proxy, c->urls.items[i], c->timeout_ms / 3, &pc);
    if (i == 0) cg_proxy_facts(res->facts, &pc);
    cg_strlcpy(proxy_shown, pc.shown, sizeof(proxy_shown));
    struct measure m;
    download(c, h, c->urls.items[i], pc.curl_default ? NULL : pc.proxy, resolve, &m);
    *spent += (int64_t)m.bytes + 1024; /* the body and the headers */
    cJSON_AddItemToArray(list, measure_json(&m, pc.shown));
    /* the slowest (or a failed) URL decides: the client may be sent to any of them */
    if (!have_worst || (!m.ok && worst.ok) || (m.ok && worst.ok && m.estimate_min > worst.estimate_min)) {
      worst = m;
      have_worst = true;
    }
  }
  curl_easy_cleanup(h);
  curl_slist_free_all(resolve);
  if (rc != CG_OK) return rc;
  const struct measure *m = &worst;
  cJSON_AddNumberToObject(res->facts, "upgrade_size_mb", (double)c->upgrade_size_mb);
  cJSON_AddNumberToObject(res->facts, "window_minutes", (double)c->window_minutes);
  /* what the gate quotes: the estimate and the rate it comes from */
  char est[200];
  if (m->ok)
    cg_snprintf(est, sizeof(est), "%.0f minutes for %.1f GB at the measured %.1f Mbit/s; the window is %lld minutes",
                m->estimate_min, (double)c->upgrade_size_mb / 1024, m->mbit_s, (long long)c->window_minutes);
  else
    cg_snprintf(est, sizeof(est), "no rate could be measured: the test download failed");
  cJSON_AddStringToObject(res->facts, "estimate_text", est);
  if (m->ok) {
    cJSON_AddNumberToObject(res->facts, "estimate_minutes", (double)((int64_t)(m->estimate_min * 10)) / 10);
    cJSON_AddNumberToObject(res->facts, "mbit_per_s", (double)((int64_t)(m->mbit_s * 100)) / 100);
  }
  if (!m->ok && m->status)
    return cg_result_set(res, CG_FAIL, "CONTENT_HTTP_ERROR",
                         "Distribute the content to the content-enabled CMG or cloud distribution point (and check "
                         "'Allow access to cloud distribution point' in the client settings), then test again.",
                         "The content path %s answered HTTP %ld%s%s: %s.", m->path, m->status, m->reason[0] ? " " : "",
                         m->reason, status_meaning(m->status));
  if (!m->ok)
    return cg_result_set(res, CG_FAIL, "CONTENT_UNREACHABLE",
                         "Check SYSTEM's proxy and that the content location is reachable from the internet (the "
                         "netenv and cmgprobe checks).",
                         "The content path %s could not be downloaded (%s).", m->path, m->error);
  double window = (double)c->window_minutes;
  /* A metered link (the device check's hand-over): the client may hold back downloads on it. */
  bool metered = false;
  cg_handover_get_metered(env, &metered);
  cJSON_AddBoolToObject(res->facts, "metered", metered);
  if (metered && c->metered && cg_strcasecmp(c->metered, "ignore") != 0) {
    bool fail = !cg_strcasecmp(c->metered, "fail");
    return cg_result_set(res, fail ? CG_FAIL : CG_WARN, "CONTENT_METERED",
                         "Move the device to an unmetered network for the upgrade, or allow downloads on metered "
                         "connections in the client settings.",
                         "The connection is metered: content would download at %.1f Mbit/s (%.1f GB in about %.0f "
                         "minutes), but the client may hold back downloads on a metered network.",
                         m->mbit_s, (double)c->upgrade_size_mb / 1024.0, m->estimate_min);
  }
  const char *how = m->budget_reached ? "the first" : "all";
  if (m->estimate_min > window)
    return cg_result_set(
        res, CG_FAIL, "CONTENT_TOO_SLOW",
        "Give the device a faster link for the upgrade (the office, a wired network), pre-cache the "
        "content, or widen the window if the upgrade can wait that long.",
        "Downloading %.1f GB of upgrade content would take about %.0f minutes at the %.1f Mbit/s measured "
        "on %s (%s %zu bytes), longer than the %lld-minute window.",
        (double)c->upgrade_size_mb / 1024.0, m->estimate_min, m->mbit_s, m->path, how, m->bytes,
        (long long)c->window_minutes);
  if (m->estimate_min > window / 2)
    return cg_result_set(
        res, CG_WARN, "CONTENT_SLOW", "The download fits, with little margin: a slower moment of the link would not.",
        "Downloading %.1f GB of upgrade content would take about %.0f minutes at %.1f Mbit/s (%s), more "
        "than half of the %lld-minute window.",
        (double)c->upgrade_size_mb / 1024.0, m->estimate_min, m->mbit_s, m->path, (long long)c->window_minutes);
  return cg_result_set(res, CG_PASS, "CONTENT_OK", NULL,
                       "Content downloads through the CMG's content path at %.1f Mbit/s (%s, first byte after %.2f s): "
                       "%.1f GB would take about %.0f minutes, within the %lld-minute window.",
                       m->mbit_s, m->path, m->ttfb_s, (double)c->upgrade_size_mb / 1024.0, m->estimate_min,
                       (long long)c->window_minutes);
}

static const char *const content_needs[] = {CG_DISCOVERY_METERED, NULL};

static const struct cg_setting_meaning content_meanings[] = {{"urls", cg_meaning_https_urls}, {NULL, NULL}};

const struct cg_check_plugin cg_check_content = {
    .unprivileged = true, /* the network and its own settings: its parsers run without privilege */
    .meanings = content_meanings,
    .needs = content_needs,
    .name = "content",
    .description = "can content be downloaded through the CMG's content path, and fast enough for an upgrade",
    .platforms = CG_PLATFORM_ANY,
    .config_map = content_map,
    .ctx_size = sizeof(struct content_ctx),
    .run = content_run,
};
