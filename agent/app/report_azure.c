/* `cmgdiag report` from an Azure Blob container (report.h): List Blobs page by page, then Get Blob
 * on `jobs` threads with retries. The SAS URL is a secret: it goes into requests only, never into
 * a message (the container is named by its host and path). */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "platform/runtime.h"
#include "platform/sys.h"
#include "report.h"

#define PAGE 5000
#define MAX_BLOB_BYTES (16 * 1024 * 1024)
#define MAX_LIST_BYTES (8 * 1024 * 1024)
#define ATTEMPTS 4

struct container {
  char base[1024];  /* https://host/container */
  char query[2048]; /* the SAS, without '?' */
  char shown[1100]; /* host/container, for messages */
  const char *ca_file, *proxy;
};

static bool split(const char *url, struct container *c) {
  const char *q = strchr(url, '?');
  if (!cg_str_startswith_ci(url, "https://") && !(cg_str_startswith_ci(url, "http://") && cg_url_is_loopback(url)))
    return false;
  size_t bl = q ? (size_t)(q - url) : strlen(url);
  if (!q || bl >= sizeof(c->base) || strlen(q + 1) >= sizeof(c->query)) return false;
  memcpy(c->base, url, bl);
  c->base[bl] = '\0';
  while (bl > 8 && c->base[bl - 1] == '/')
    c->base[--bl] = '\0';
  cg_strlcpy(c->query, q + 1, sizeof(c->query));
  const char *host = strstr(c->base, "://") + 3;
  cg_strlcpy(c->shown, host, sizeof(c->shown));
  return strchr(host, '/') != NULL; /* a container, not the account */
}

/* Percent-encoding of a blob name, '/' kept. */
static void escape_name(const char *n, char *out, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)n; *p && o + 4 < len; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
}

static bool transient(int rc, long status) { return rc != CG_OK || status == 408 || status == 429 || status >= 500; }

/* GET with retries (network, 408, 429, 5xx): CG_OK with the answer in r (any final status). */
static int get(CURL *h, const struct container *c, const char *url, size_t max, struct cg_http_resp *r) {
  int rc = CG_ERR_IO;
  for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt) cg_sleep_ms(200 << attempt);
    struct cg_http_req rq = {.method = "GET",
                             .url = url,
                             .timeout_ms = 60000,
                             .proxy = c->proxy,
                             .ca_file = c->ca_file,
                             .allow_loopback_http = true,
                             .max_response = max,
                             .abort_over_cap = true};
    rc = cg_http_request(h, &rq, r);
    if (!transient(rc, r->status) || attempt == ATTEMPTS - 1) break;
    cg_free(r->body);
    r->body = NULL;
  }
  return rc;
}

/* <Name>a&amp;b</Name> -> "a&b" */
static void xml_text(const char *s, size_t n, char *out, size_t len) {
  static const struct {
    const char *e;
    char c;
  } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < len;) {
    size_t k = 0;
    while (k < 5 && strncmp(s + i, ents[k].e, strlen(ents[k].e)))
      k++;
    if (k < 5 && i + strlen(ents[k].e) <= n) {
      out[o++] = ents[k].c;
      i += strlen(ents[k].e);
    } else {
      out[o++] = s[i++];
    }
  }
  out[o] = '\0';
}

int report_list_page(const char *xml, struct report_names *ns, char *marker, size_t mlen) {
  for (const char *p = xml; (p = strstr(p, "<Name>")) != NULL;) {
    p += 6;
    const char *e = strstr(p, "</Name>");
    if (!e) break;
    char name[1100];
    xml_text(p, (size_t)(e - p), name, sizeof(name));
    p = e + 7;
    if (!cg_str_endswith_ci(name, ".json.gz") && !cg_str_endswith_ci(name, ".json")) continue;
    if (ns->n == ns->a) {
      size_t na = ns->a ? ns->a * 2 : 1024;
      char **nv = cg_realloc(ns->v, na * sizeof(*nv));
      if (!nv) return CG_ERR_NOMEM;
      ns->v = nv;
      ns->a = na;
    }
    if (!(ns->v[ns->n] = cg_strdup(name))) return CG_ERR_NOMEM;
    ns->n++;
  }
  marker[0] = '\0';
  const char *m = strstr(xml, "<NextMarker>");
  const char *me = m ? strstr(m, "</NextMarker>") : NULL;
  if (m && me) xml_text(m + 12, (size_t)(me - m - 12), marker, mlen);
  return CG_OK;
}

/* Bounds on a listing, whatever the service answers: a hostile or broken endpoint that repeats its
 * marker, or never ends, cannot keep the report fetching. */
#define MAX_PAGES 20000
#define MAX_NAMES 5000000

static int list_all(CURL *h, const struct container *c, const char *prefix, struct report_names *ns, char *err,
                    size_t errlen) {
  char marker[1100] = "", last[1100] = "";
  int pages = 0;
  do {
    char url[4096], em[1200];
    escape_name(marker, em, sizeof(em));
    cg_snprintf(url, sizeof(url), "%s?restype=container&comp=list&maxresults=%d%s%s%s%s&%s", c->base, PAGE,
                prefix ? "&prefix=" : "", prefix ? prefix : "", marker[0] ? "&marker=" : "", marker[0] ? em : "",
                c->query);
    if (++pages > MAX_PAGES || ns->n > MAX_NAMES) {
      cg_snprintf(err, errlen, "the container %s lists more than %d pages or %d names: narrow it with --since",
                  c->shown, MAX_PAGES, MAX_NAMES);
      return CG_ERR_TOOBIG;
    }
    struct cg_http_resp r = {0};
    int rc = get(h, c, url, MAX_LIST_BYTES, &r);
    if (rc != CG_OK || r.status != 200) {
      if (rc != CG_OK)
        cg_snprintf(err, errlen, "cannot list the container %s: %s", c->shown, r.error);
      else if (r.status == 403)
        cg_snprintf(err, errlen,
                    "cannot list the container %s: 403, the SAS does not allow list and read, or has "
                    "expired",
                    c->shown);
      else if (r.status == 404)
        cg_snprintf(err, errlen, "cannot list the container %s: 404, there is no such container", c->shown);
      else
        cg_snprintf(err, errlen, "cannot list the container %s: HTTP %ld %s", c->shown, r.status, r.ms_error_code);
      cg_free(r.body);
      return CG_ERR_IO;
    }
    cg_strlcpy(last, marker, sizeof(last));
    rc = report_list_page(r.body ? r.body : "", ns, marker, sizeof(marker));
    cg_free(r.body);
    if (rc != CG_OK) return rc;
    if (marker[0] && !strcmp(marker, last)) {
      cg_snprintf(err, errlen, "the container %s answered the same continuation marker twice: stopped", c->shown);
      return CG_ERR_PARSE;
    }
  } while (marker[0]);
  return CG_OK;
}

struct dl {
  const struct container *c;
  const struct report_names *ns;
  struct fleet *f;
  size_t base; /* the first name of the day being read */
};

static void *curl_new(void) { return curl_easy_init(); }
static void curl_free_handle(void *h) {
  if (h) curl_easy_cleanup(h);
  cg_json_arena_release(); /* fleet_add parsed this thread's bundles in its arena */
}

static void download(void *arg, size_t k, void *handle) {
  struct dl *w = arg;
  CURL *h = handle;
  size_t i = w->base + k;
  char origin[1300], url[4096], en[1200];
  cg_snprintf(origin, sizeof(origin), "%s/%s", w->c->shown, w->ns->v[i]);
  escape_name(w->ns->v[i], en, sizeof(en));
  cg_snprintf(url, sizeof(url), "%s/%s?%s", w->c->base, en, w->c->query);
  struct cg_http_resp r = {0};
  int rc = h ? get(h, w->c, url, MAX_BLOB_BYTES, &r) : CG_ERR_NOMEM;
  if (rc == CG_OK && r.status == 200 && !r.too_large) {
    time_t lm = r.last_modified[0] ? curl_getdate(r.last_modified, NULL) : (time_t)-1;
    fleet_add(w->f, origin, r.body ? r.body : "", r.body_len, lm == (time_t)-1 ? -1 : (int64_t)lm * 1000);
  } else {
    char why[600];
    if (rc != CG_OK)
      cg_snprintf(why, sizeof(why), "not downloaded: %s", h ? r.error : "out of memory");
    else if (r.too_large)
      cg_snprintf(why, sizeof(why), "larger than 16 MB, which no bundle is");
    else
      cg_snprintf(why, sizeof(why), "not downloaded: HTTP %ld", r.status);
    fleet_bad(w->f, origin, why);
  }
  cg_free(r.body);
}

/* two blob names under the same YYYY/MM/DD/ prefix, or both without one */
static bool same_day(const char *a, const char *b) {
  static const char shape[] = "0000/00/00/";
  bool da = true, db = true;
  for (size_t i = 0; i < 11; i++) {
    bool digit = shape[i] == '0';
    da = da && (digit ? a[i] >= '0' && a[i] <= '9' : a[i] == '/');
    db = db && (digit ? b[i] >= '0' && b[i] <= '9' : b[i] == '/');
  }
  return da == db && (!da || !strncmp(a, b, 11));
}

int report_from_container(const char *sas_url, const char *ca_file, const char *proxy, int jobs, int since_days,
                          struct fleet *f, size_t *blobs, char *err, size_t errlen) {
  struct container c = {.ca_file = ca_file, .proxy = proxy};
  if (!split(sas_url, &c)) {
    cg_snprintf(err, errlen,
                "the container URL is not https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS (a SAS with list and "
                "read permission)");
    return CG_ERR_CONFIG;
  }
  cg_http_global_init();
  CURL *h = curl_easy_init();
  struct report_names ns = {0};
  int rc = h ? CG_OK : CG_ERR_NOMEM;
  if (rc == CG_OK && since_days > 0) {
    /* bundles are named YYYY/MM/DD/...: only the days asked for are listed (and read) */
    int64_t now = cg_time_utc_ms();
    for (int d = 0; rc == CG_OK && d <= since_days; d++) {
      char day[40], prefix[16];
      cg_time_rfc3339(now - (int64_t)d * 86400000, day, sizeof(day));
      cg_snprintf(prefix, sizeof(prefix), "%.4s/%.2s/%.2s/", day, day + 5, day + 8);
      rc = list_all(h, &c, prefix, &ns, err, errlen);
    }
  } else if (rc == CG_OK) {
    rc = list_all(h, &c, NULL, &ns, err, errlen);
  }
  if (h) curl_easy_cleanup(h);
  *blobs = ns.n;
  if (rc == CG_OK) {
    /* the names come oldest first (YYYY/MM/DD/...): the newest day is read whole first, then the day
     * before, so that a device's newer bundle is known when its older ones are read (their head
     * only, fleet_add); names without a day form groups of their own */
    struct dl w = {.c = &c, .ns = &ns, .f = f};
    size_t end = ns.n;
    while (end > 0) {
      size_t start = end - 1;
      while (start > 0 && same_day(ns.v[start - 1], ns.v[end - 1]))
        start--;
      w.base = start;
      report_parallel(end - start, jobs, download, &w, curl_new, curl_free_handle);
      end = start;
    }
  }
  for (size_t i = 0; i < ns.n; i++)
    cg_free(ns.v[i]);
  cg_free(ns.v);
  memset(c.query, 0, sizeof(c.query));
  return rc;
}
