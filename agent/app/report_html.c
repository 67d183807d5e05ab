/* The fleet report as one self-contained HTML page (report.h, docs/report.md): inline CSS and SVG,
 * nothing fetched from anywhere, readable offline and printed; one small inline script filters the
 * device table. Every text from a bundle is escaped: a bundle is data from a device, not markup. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "platform/fs.h"
#include "platform/sys.h"
#include "report.h"

#define DAY_MS (86400LL * 1000)

static void esc(struct cg_buf *b, const char *s) {
  while (s && *s) {
    size_t run = strcspn(s, "&<>\"'"); /* plain text is copied a run at a time */
    if (run) cg_buf_append(b, s, run);
    s += run;
    if (!*s) break;
    switch (*s++) {
    case '&': cg_buf_puts(b, "&amp;"); break;
    case '<': cg_buf_puts(b, "&lt;"); break;
    case '>': cg_buf_puts(b, "&gt;"); break;
    case '"': cg_buf_puts(b, "&quot;"); break;
    case '\'': cg_buf_puts(b, "&#39;"); break;
    default: break;
    }
  }
}

static const char CSS[] =
    "body{font:14px/1.45 'Segoe UI',system-ui,sans-serif;margin:24px;color:#1b1b1b;max-width:1200px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}"
    ".muted{color:#555}.k{display:inline-block;margin-right:18px}.n{font-size:26px;font-weight:600}"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;"
    "vertical-align:top;overflow-wrap:anywhere}th{background:#f4f4f4}td.num{text-align:right}"
    "#devices th{cursor:pointer;white-space:nowrap}#devices th[aria-sort=ascending]::after{content:' \\25B2'}"
    "#devices th[aria-sort=descending]::after{content:' \\25BC'}ul.checks{margin:4px 0;padding-left:18px}"
    "details summary{cursor:pointer;color:#555}"
    ".pass{color:#107c10}.warn{color:#8a5d00}.fail{color:#c50f1f}"
    "input{font:inherit;padding:4px 8px;width:320px}code{font-size:12px}"
    "@media print{input,.noprint{display:none}details "
    "ul.checks{display:block}body{margin:0}h2{break-after:avoid}tr{break-inside:avoid}}";

static void totals_section(struct cg_buf *b, const struct fleet *f) {
  struct fleet_totals t;
  fleet_totals(f, &t);
  char now[40];
  cg_time_rfc3339(t.now_ms, now, sizeof(now));
  size_t nb, total;
  fleet_bads(f, &nb, &total);
  cg_buf_printf(b, "<p class=\"muted\">Made %s from %zu bundle(s)", now, t.bundles);
  if (t.since_days) cg_buf_printf(b, " of the last %d day(s) (%zu older left out)", t.since_days, t.older);
  cg_buf_printf(b,
                "; %zu input(s) could not be read; %zu device(s) had bundles of an agent before 0.2, their root "
                "causes were worked out here.</p>\n",
                total, t.diag_made);
  cg_buf_printf(b,
                "<h2>Devices by verdict</h2>\n<p><span class=\"k\"><span class=\"n\" id=\"n-devices\">%zu</span> "
                "devices</span><span class=\"k fail\"><span class=\"n\" id=\"n-fail\">%zu</span> fail</span>"
                "<span class=\"k warn\"><span class=\"n\" id=\"n-warn\">%zu</span> warn</span><span class=\"k "
                "pass\"><span class=\"n\" id=\"n-pass\">%zu</span> pass</span><span class=\"k\"><span class=\"n\" "
                "id=\"n-stale\">%zu</span> not reporting (no bundle for more than %d hours)</span><span class=\"k\">"
                "<span class=\"n\" id=\"n-sas\">%zu</span> with a collection point SAS expiring within 30 "
                "days</span></p>\n",
                t.devices, t.fail, t.warn, t.pass, t.not_reporting, FLEET_STALE_H, t.sas_expiring);
  double w = 900, x = 0;
  cg_buf_printf(b, "<svg width=\"900\" height=\"24\" role=\"img\" aria-label=\"devices by verdict\">");
  size_t parts[3] = {t.fail, t.warn, t.pass};
  const char *col[3] = {"#c50f1f", "#f2c811", "#107c10"};
  for (int i = 0; i < 3 && t.devices; i++) {
    double pw = w * (double)parts[i] / (double)t.devices;
    cg_buf_printf(b, "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"24\" fill=\"%s\"/>", x, pw, col[i]);
    x += pw;
  }
  cg_buf_printf(b, "</svg>\n");
}

static void causes_section(struct cg_buf *b, const struct fleet *f) {
  size_t n;
  const struct fleet_cause *c = fleet_causes(f, &n);
  cg_buf_puts(b, "<h2>Root causes</h2>\n");
  if (!n) {
    cg_buf_puts(b, "<p>No device's latest bundle has a root cause.</p>\n");
    return;
  }
  cg_buf_puts(b, "<p class=\"muted\">From each device's latest bundle. A device counts once, under its first root "
                 "cause (Devices); a cause it has after another is counted apart (Also on).</p>\n<table id=\"causes\">"
                 "<tr><th>Root cause</th><th>Devices</th><th>Also on</th><th>Read aloud</th>"
                 "<th>First step</th><th>Examples</th><th>Source</th></tr>\n");
  for (size_t i = 0; i < n; i++) {
    cg_buf_puts(b, "<tr class=\"cause\"><td><code>");
    esc(b, c[i].code);
    cg_buf_printf(b, "</code></td><td class=\"num devices\">%zu</td><td class=\"num secondary\">%zu</td><td>",
                  c[i].devices, c[i].secondary);
    esc(b, c[i].say);
    cg_buf_puts(b, "</td><td>");
    esc(b, c[i].first_step);
    cg_buf_puts(b, "</td><td>");
    for (size_t k = 0; k < 3 && k < c[i].devices; k++) {
      if (k) cg_buf_puts(b, ", ");
      esc(b, c[i].examples[k]);
    }
    cg_buf_puts(b, "</td><td><code>"); /* the source as text: this page links nowhere */
    esc(b, c[i].source);
    cg_buf_puts(b, "</code></td></tr>\n");
  }
  cg_buf_puts(b, "</table>\n");
}

static void trend_section(struct cg_buf *b, const struct fleet *f) {
  size_t n;
  const struct fleet_day *d = fleet_days(f, &n);
  cg_buf_puts(b, "<h2>Trend per day</h2>\n<p class=\"muted\">Devices by the verdict of their last bundle of each day "
                 "(UTC).</p>\n");
  if (!n) return;
  size_t first = n > 60 ? n - 60 : 0, max = 1;
  for (size_t i = first; i < n; i++)
    if (d[i].pass + d[i].warn + d[i].fail > max) max = d[i].pass + d[i].warn + d[i].fail;
  double bw = 900.0 / (double)(n - first), h = 160;
  cg_buf_printf(b, "<svg width=\"900\" height=\"190\" role=\"img\" aria-label=\"trend per day\">");
  for (size_t i = first; i < n; i++) {
    double x = (double)(i - first) * bw, y = h;
    size_t v[3] = {d[i].pass, d[i].warn, d[i].fail};
    const char *col[3] = {"#107c10", "#f2c811", "#c50f1f"};
    for (int k = 0; k < 3; k++) {
      double ph = h * (double)v[k] / (double)max;
      y -= ph;
      if (v[k])
        cg_buf_printf(
            b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%zu</title></rect>",
            x + 1, y, bw > 3 ? bw - 2 : bw, ph, col[k], v[k]);
    }
    if (i == first || i == n - 1 || (n - first) <= 14) {
      char day[40];
      cg_time_rfc3339((int64_t)d[i].day * DAY_MS, day, sizeof(day));
      day[10] = '\0';
      cg_buf_printf(b, "<text x=\"%.1f\" y=\"182\" font-size=\"10\">%s</text>", x + 1, day + 5);
    }
  }
  cg_buf_puts(b, "</svg>\n");
}

static double pct(const double *v, size_t n, double p) {
  if (!n) return -1;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

static void cmg_section(struct cg_buf *b, const struct fleet *f) {
  size_t n, nc;
  const double *lat = fleet_latencies(f, &n);
  cg_buf_puts(b, "<h2>The CMG</h2>\n");
  if (n)
    cg_buf_printf(b,
                  "<p id=\"latency\">Answer time of the CMG's first request (each device's latest probe, %zu "
                  "devices): median %.0f ms, 90th percentile %.0f ms, 99th percentile %.0f ms, slowest %.0f ms.</p>\n",
                  n, pct(lat, n, 0.5), pct(lat, n, 0.9), pct(lat, n, 0.99), lat[n - 1]);
  else
    cg_buf_puts(b, "<p>No device measured the CMG's answer time.</p>\n");
  const struct fleet_cmg *c = fleet_cmgs(f, &nc);
  if (!nc) return;
  cg_buf_puts(b, "<table id=\"certs\"><tr><th>CMG</th><th>Devices</th><th>Certificate expires in</th></tr>\n");
  for (size_t i = 0; i < nc; i++) {
    cg_buf_puts(b, "<tr><td>");
    esc(b, c[i].host);
    cg_buf_printf(b, "</td><td class=\"num\">%zu</td>", c[i].devices);
    if (!c[i].ndist && !c[i].other) { /* no device saw its certificate */
      cg_buf_puts(b, "<td class=\"muted\">not seen</td></tr>\n");
      continue;
    }
    /* what the devices saw, the most seen first: "364 days: 17 devices; expired: 1 device" */
    cg_buf_puts(b, "<td class=\"dist\">");
    for (size_t k = 0; k < c[i].ndist; k++) {
      int dd = c[i].dist[k].days;
      size_t n = c[i].dist[k].n;
      cg_buf_printf(b, "%s<span class=\"%s\">", k ? "; " : "", dd < 0 ? "fail" : dd < 30 ? "warn" : "pass");
      if (dd < 0)
        cg_buf_printf(b, "expired %d day(s) ago", -dd);
      else
        cg_buf_printf(b, "%d day(s)%s", dd, dd < 30 ? " (renew it now)" : "");
      cg_buf_printf(b, "</span>: %zu device%s", n, n == 1 ? "" : "s");
    }
    if (c[i].other) cg_buf_printf(b, "; other values: %zu device(s)", c[i].other);
    cg_buf_puts(b, "</td></tr>\n");
  }
  cg_buf_puts(b, "</table>\n");
}

static void agents_section(struct cg_buf *b, const struct fleet *f) {
  size_t nv, nd;
  const struct fleet_count *v = fleet_versions(f, &nv);
  const struct fleet_device *d = fleet_devices(f, &nd);
  size_t bucket[4] = {0};
  int64_t dropped = 0;
  for (size_t i = 0; i < nd; i++) {
    int64_t p = d[i].spool_pending;
    bucket[p == 0 ? 0 : p <= 10 ? 1 : p <= 100 ? 2 : 3]++;
    dropped += d[i].dropped_total;
  }
  cg_buf_puts(b, "<h2>Agents</h2>\n<table id=\"versions\"><tr><th>Agent version</th><th>Devices</th></tr>\n");
  for (size_t i = 0; i < nv; i++) {
    cg_buf_puts(b, "<tr><td>");
    esc(b, v[i].key);
    cg_buf_printf(b, "</td><td class=\"num\">%zu</td></tr>\n", v[i].n);
  }
  cg_buf_printf(b,
                "</table>\n<p id=\"spool\">Spool backlog (bundles waiting on the device when it last reported): "
                "none on %zu, 1 to 10 on %zu, 11 to 100 on %zu, more on %zu; %lld bundle(s) dropped by full spools "
                "in all.</p>\n",
                bucket[0], bucket[1], bucket[2], bucket[3], (long long)dropped);
}

/* The page's one script, allowed by its hash in the Content-Security-Policy (no 'unsafe-inline': a
 * script a bundle's text managed to smuggle in would not run). */
static const char FILTER_JS[] =
    "(function(){var t=document.getElementById('devices'),tb=t.tBodies[0],r=tb.rows,h=t.tHead.rows[0].cells,"
    "i=document.getElementById('filter'),s=document.getElementById('shown');"
    "function f(){var q=i.value.toLowerCase(),n=0;for(var k=0;k<r.length;k++){var v=!q||r[k].textContent."
    "toLowerCase().indexOf(q)>=0;r[k].style.display=v?'':'none';if(v)n++;}s.textContent=n+' of '+r.length+"
    "' shown';}"
    "function key(e){var v=e.getAttribute('data-s');if(v===null)return e.textContent.toLowerCase();"
    "var x=parseFloat(v);return isNaN(x)?v:x;}"
    "function sort(c){var a=h[c].getAttribute('aria-sort')==='ascending'?-1:1;for(var j=0;j<h.length;j++)"
    "h[j].removeAttribute('aria-sort');h[c].setAttribute('aria-sort',a>0?'ascending':'descending');"
    "var l=Array.prototype.slice.call(r);l.sort(function(x,y){var p=key(x.cells[c]),q=key(y.cells[c]);"
    "return (p<q?-1:p>q?1:0)*a;});for(var j=0;j<l.length;j++)tb.appendChild(l[j]);}"
    "for(var c=0;c<h.length;c++)(function(c){h[c].title='sort by this column';h[c].tabIndex=0;"
    "h[c].addEventListener('click',function(){sort(c);});h[c].addEventListener('keydown',function(e){"
    "if(e.key==='Enter'||e.key===' '){e.preventDefault();sort(c);}});})(c);"
    "i.addEventListener('input',f);f();})();";

/* 'sha256-BASE64' of the script, as CSP wants it. */
static void script_hash(char *out, size_t outlen) {
  unsigned char md[32];
  unsigned int n = 0;
  unsigned char b64[64];
  out[0] = '\0';
  if (!EVP_Digest(FILTER_JS, strlen(FILTER_JS), md, &n, EVP_sha256(), NULL) || n != 32) return;
  EVP_EncodeBlock(b64, md, 32);
  cg_snprintf(out, outlen, "'sha256-%s'", (const char *)b64);
}

static int verdict_rank(const char *v) {
  return !strcmp(v, "fail") ? 0 : !strcmp(v, "warn") ? 1 : !strcmp(v, "pass") ? 2 : 3;
}

/* A device's checks from its deciding bundle, opened inline (no script needed). */
static void checks_cell(struct cg_buf *b, const struct fleet_device *d) {
  size_t total = 0, bad = 0;
  for (const char *p = d->checks; *p;) { /* one line per check */
    total++;
    if (strncmp(p, "pass\t", 5)) bad++;
    const char *e = strchr(p, '\n');
    p = e ? e + 1 : p + strlen(p);
  }
  cg_buf_printf(b, "<td data-s=\"%zu\">", bad);
  if (!total) {
    cg_buf_puts(b, "</td>");
    return;
  }
  cg_buf_printf(b, "<details><summary>%zu check(s), %zu not passing</summary><ul class=\"checks\">", total, bad);
  for (const char *p = d->checks; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char line[sizeof(d->checks)];
    memcpy(line, p, len);
    line[len] = '\0';
    char *f[4] = {line, "", "", ""};
    for (int k = 1; k < 4; k++) {
      char *tab = strchr(f[k - 1], '\t');
      if (!tab) break;
      *tab = '\0';
      f[k] = tab + 1;
    }
    const char *cls = verdict_rank(f[0]) < 3 ? f[0] : "muted";
    cg_buf_printf(b, "<li><span class=\"%s\">", cls);
    esc(b, f[0]);
    cg_buf_puts(b, "</span> ");
    esc(b, f[1]);
    cg_buf_puts(b, " <code>");
    esc(b, f[2]);
    cg_buf_puts(b, "</code>");
    if (f[3][0]) {
      cg_buf_puts(b, ": ");
      esc(b, f[3]);
    }
    cg_buf_puts(b, "</li>");
    p += len + (e ? 1 : 0);
  }
  cg_buf_puts(b, "</ul></details></td>");
}

static void devices_section(struct cg_buf *b, const struct fleet *f) {
  size_t n;
  const struct fleet_device *d = fleet_devices(f, &n);
  struct fleet_totals t;
  fleet_totals(f, &t);
  cg_buf_puts(b,
              "<h2>Devices</h2>\n<p class=\"noprint\"><input id=\"filter\" type=\"search\" placeholder=\"Filter: "
              "device, verdict, root cause, words\" aria-label=\"filter the devices\"> <span id=\"shown\"></span> "
              "<span class=\"muted\">(a column's heading sorts by it)</span></p>\n"
              "<table id=\"devices\"><thead><tr><th>Device</th><th>Last seen</th><th>Age</th><th>Verdict</th>"
              "<th>Upgrade</th><th>Gate</th><th>Root cause</th><th>Summary</th><th>Checks</th></tr></thead><tbody>\n");
  for (size_t i = 0; i < n; i++) {
    cg_buf_printf(b, "<tr><td>");
    esc(b, d[i].host);
    cg_buf_puts(b, "</td><td>");
    esc(b, d[i].full ? d[i].last_seen : d[i].helpdesk_last);
    cg_buf_puts(b, "</td>");
    if (d[i].full) {
      long long h = (long long)((t.now_ms - d[i].last_ms) / 3600000);
      cg_buf_printf(b, "<td class=\"num%s\" data-s=\"%lld\">", h > FLEET_STALE_H ? " warn" : "", h);
      if (h < 48)
        cg_buf_printf(b, "%lld h", h);
      else
        cg_buf_printf(b, "%lld d", h / 24);
      cg_buf_puts(b, "</td>");
    } else
      cg_buf_puts(b, "<td data-s=\"-1\"></td>");
    cg_buf_printf(b, "<td class=\"%s\" data-s=\"%d\">%s</td>", d[i].overall, d[i].full ? verdict_rank(d[i].overall) : 3,
                  d[i].full ? d[i].overall : "not judged");
    /* readiness for an in-place upgrade, its own axis: "not ready" never makes the verdict red */
    const char *r = d[i].readiness;
    cg_buf_printf(b, "<td class=\"%s\">%s</td>",
                  !strcmp(r, "fail") ? "warn"
                  : r[0]             ? "pass"
                                     : "",
                  !strcmp(r, "fail")   ? "not ready"
                  : !strcmp(r, "warn") ? "ready (warnings)"
                  : r[0]               ? "ready"
                                       : "");
    /* the newest gate the device ran (validate --profile), with when */
    if (d[i].gate[0]) {
      cg_buf_printf(b, "<td class=\"%s\" data-s=\"%d\">%s <span class=\"muted\">(",
                    strcmp(d[i].gate, "ready") ? "warn" : "pass", strcmp(d[i].gate, "ready") ? 0 : 1, d[i].gate);
      esc(b, d[i].gate_profile);
      cg_buf_puts(b, ", ");
      esc(b, d[i].gate_at);
      cg_buf_puts(b, ")</span></td>");
    } else
      cg_buf_puts(b, "<td data-s=\"2\"></td>");
    cg_buf_puts(b, "<td><code>");
    esc(b, d[i].cause[0]);
    cg_buf_puts(b, "</code></td><td>");
    if (d[i].full)
      esc(b, d[i].summary);
    else
      cg_buf_puts(b, "only helpdesk runs (selftest --only): they never decide a device's state");
    if (d[i].helpdesk_runs) {
      cg_buf_printf(b, " <span class=\"muted\">(%zu helpdesk run(s), the last at ", d[i].helpdesk_runs);
      esc(b, d[i].helpdesk_last);
      cg_buf_puts(b, ")</span>");
    }
    cg_buf_puts(b, "</td>");
    checks_cell(b, &d[i]);
    cg_buf_puts(b, "</tr>\n");
  }
  cg_buf_printf(b, "</tbody></table>\n<script>%s</script>\n", FILTER_JS);
}

static void bad_section(struct cg_buf *b, const struct fleet *f) {
  size_t n, total;
  const struct fleet_bad *x = fleet_bads(f, &n, &total);
  cg_buf_printf(b, "<h2>Inputs that could not be read</h2>\n<p id=\"bad\">%zu input(s)%s</p>\n", total,
                total ? ":" : ".");
  if (!n) return;
  cg_buf_puts(b, "<table id=\"bad-list\"><tr><th>Input</th><th>Why</th></tr>\n");
  for (size_t i = 0; i < n; i++) {
    cg_buf_puts(b, "<tr><td><code>");
    esc(b, x[i].origin);
    cg_buf_puts(b, "</code></td><td>");
    esc(b, x[i].why);
    cg_buf_puts(b, "</td></tr>\n");
  }
  cg_buf_puts(b, "</table>\n");
  if (total > n) cg_buf_printf(b, "<p>and %zu more.</p>\n", total - n);
}

int report_write_html(const struct fleet *f, const char *path, const char *title, char *err, size_t errlen) {
  struct cg_buf b;
  cg_buf_init(&b, (size_t)1 << 31);
  char hash[80];
  script_hash(hash, sizeof(hash));
  cg_buf_printf(&b,
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
                "'unsafe-inline'; script-src %s; img-src data:\"><title>",
                hash[0] ? hash : "'none'");
  esc(&b, title);
  cg_buf_printf(&b, "</title><style>%s</style></head><body>\n<h1>", CSS);
  esc(&b, title);
  cg_buf_puts(&b, "</h1>\n");
  totals_section(&b, f);
  causes_section(&b, f);
  trend_section(&b, f);
  cmg_section(&b, f);
  agents_section(&b, f);
  devices_section(&b, f);
  bad_section(&b, f);
  cg_buf_puts(&b, "</body></html>\n");
  int rc = b.data ? cg_file_write_atomic(path, b.data, b.len, err, errlen) : CG_ERR_NOMEM;
  if (rc == CG_ERR_NOMEM) cg_snprintf(err, errlen, "out of memory writing %s", path);
  cg_buf_free(&b);
  return rc;
}
