/* Parser benchmarks: median time of decode + parse (+ model) of a ~10 KB dsregcmd output.
 *   bench_parsers DATA_DIR [ITERATIONS]
 * Prints one line per parser; the goal for dsregcmd is under 100 us per 10 KB output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aadjoin.h"
#include "cmtrace.h"
#include "mplist.h"
#include "mpparse.h"
#include "sigmatch.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "text.h"

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Wall clock with sub-millisecond resolution is not in the platform layer: time a batch. */
static double run_batch(const char *data, size_t len, int iterations) {
  int64_t start = cg_time_mono_ms();
  for (int i = 0; i < iterations; i++) {
    char *text = NULL;
    size_t n;
    enum cg_text_encoding e;
    int cp;
    struct dsreg_doc doc;
    struct aad_state st;
    cg_text_decode_capture(data, len, 850, &text, &n, &e, &cp);
    dsreg_parse(text, &doc);
    aad_model(&doc, &st);
    dsreg_free(&doc);
    cg_free(text);
  }
  return (double)(cg_time_mono_ms() - start) * 1000.0 / iterations; /* us per parse */
}

static struct sigset sigs;

static void on_sig(const struct signature *sg, void *user) {
  (void)sg;
  ++*(size_t *)user;
}

static int on_entry(const struct cmt_entry *e, void *user) {
  sig_match(&sigs, "CcmMessaging.log", e->component, e->component_len, e->msg, e->msg_len, on_sig, user);
  return 0;
}

/* Client-log scanning: parse + match every entry of a 32 MB CMTrace log against the built-in
 * catalogue. One entry in 50 is a failure, the rest the ordinary chatter of CcmMessaging.log. */
static void bench_clientlogs(void) {
  char err[256];
  if (sig_load(&sigs, clientlogs_builtin_signatures, "built-in", err, sizeof(err)) != CG_OK ||
      sig_compile(&sigs) != CG_OK)
    return;
  struct cg_buf b;
  cg_buf_init(&b, 64 << 20);
  for (int i = 0; b.len < 32 * 1024 * 1024; i++)
    cg_buf_printf(&b,
                  "<![LOG[%s]LOG]!><time=\"08:48:%02d.%03d+240\" date=\"11-24-2026\" component=\"CcmMessaging\" "
                  "context=\"\" type=\"%d\" thread=\"4412\" file=\"ccmmessagingsend.cpp:%d\">\r\n",
                  i % 50 ? "Sending async message '{6D8B2F36-3D1E-4C5B-9A0B-2E7C1F4A5B6C}' to outgoing queue "
                           "'mp_[http]mp_policymanager' via https://CMG.CONTOSO.COM/CCM_Proxy_MutualAuth/7205759403792"
                         : "[CCMHTTP] ERROR INFO: StatusCode=403 StatusText=CMGConnector_Forbidden",
                  i % 60, i % 1000, i % 50 ? 1 : 3, i % 900);
  double runs[5];
  size_t matches = 0, entries = 0;
  for (int r = 0; r < 5; r++) {
    int64_t t0 = cg_time_mono_ms();
    matches = 0;
    cmt_scan(b.data, b.len, true, on_entry, &matches, &entries);
    int64_t dt = cg_time_mono_ms() - t0;
    runs[r] = (double)b.len / (double)(dt ? dt : 1) / 1000.0; /* MB/s */
  }
  qsort(runs, 5, sizeof(double), cmp);
  printf("client logs       %6.1f MB  median %8.1f MB/s scan+match  (%zu entries, %zu matches, %zu signatures, "
         "goal > 200 MB/s)\n",
         (double)b.len / 1e6, runs[2], entries, matches, sigs.count);
  cg_buf_free(&b);
  sig_free(&sigs);
}

/* MB/s of `fn` over `data`, median of 7 batches. */
static double throughput(void (*fn)(const char *, size_t), const char *data, size_t len, int iterations) {
  double runs[7];
  for (int r = 0; r < 7; r++) {
    int64_t t0 = cg_time_mono_ms();
    for (int i = 0; i < iterations; i++)
      fn(data, len);
    int64_t dt = cg_time_mono_ms() - t0;
    runs[r] = (double)len * iterations / (double)(dt ? dt : 1) / 1000.0;
  }
  qsort(runs, 7, sizeof(double), cmp);
  return runs[3];
}

static void parse_candidates(const char *data, size_t len) {
  (void)len;
  cJSON *rows = NULL;
  mp_parse_rows(data, MP_FMT_JSON, &rows);
  cJSON_Delete(rows);
}

static struct mplist mpl;
static void parse_mplist(const char *data, size_t len) { mplist_parse(data, len, &mpl); }

/* The candidate list as Get-CimInstance | ConvertTo-Json writes it (20 candidates, ~10 KB), and a
 * CMG's MP list answer (20 MPs, ~4 KB). */
static void bench_mp(int iterations) {
  struct cg_buf b;
  cg_buf_init(&b, 1 << 20);
  cg_buf_puts(&b, "[\r\n");
  for (int i = 0; i < 20; i++)
    cg_buf_printf(
        &b,
        "    {\r\n        \"Capabilities\":  \"<Capabilities SchemaVersion=\\\"1.0\\\"><Property Name=\\\"SSLState\\\" "
        "Value=\\\"0\\\"/></Capabilities>\",\r\n        \"Index\":  %d,\r\n        \"Locality\":  0,\r\n"
        "        \"MP\":  \"https://CMG.CONTOSO.COM/CCM_Proxy_MutualAuth/7205759403792%04d\",\r\n"
        "        \"State\":  0,\r\n        \"Type\":  \"Internet\",\r\n        \"Version\":  9128,\r\n"
        "        \"PSComputerName\":  null\r\n    }%s\r\n",
        i + 1, i, i < 19 ? "," : "");
  cg_buf_puts(&b, "]\r\n");
  double mbs = throughput(parse_candidates, b.data, b.len, iterations);
  printf("MP candidates     %6zu bytes  median %8.1f MB/s  (ConvertTo-Json, 20 candidates)\n", b.len, mbs);
  b.len = 0;
  cg_buf_puts(&b, "<MPList>");
  for (int i = 0; i < 20; i++)
    cg_buf_printf(&b,
                  "<MP Name=\"MP%02d.CORP.CONTOSO.COM\" FQDN=\"mp%02d.corp.contoso.com\" SiteCode=\"PS1\">"
                  "<Version>9128</Version><Capabilities SchemaVersion=\"1.0\"><Property Name=\"SSLState\" "
                  "Value=\"0\"/></Capabilities></MP>",
                  i, i);
  cg_buf_puts(&b, "</MPList>");
  mbs = throughput(parse_mplist, b.data, b.len, iterations * 4);
  printf("MP list XML       %6zu bytes  median %8.1f MB/s  (20 MPs)\n", b.len, mbs);
  cg_buf_free(&b);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int64_t iterations_arg = 2000;
  if (argc > 2 && (!cg_parse_i64(argv[2], &iterations_arg) || iterations_arg < 1)) return 2;
  int iterations = (int)iterations_arg;
  char *path = cg_path_join(argv[1], "01-entra-joined-win11.txt");
  char *base = NULL;
  size_t base_len = 0;
  if (cg_file_read(path, 1 << 20, &base, &base_len) != CG_OK) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  /* Grow to 10 KB with work-account sections, as on a device with several registered accounts. */
  struct cg_buf b;
  cg_buf_init(&b, 1 << 20);
  cg_buf_append(&b, base, base_len);
  for (int n = 1; b.len < 10240; n++)
    cg_buf_printf(&b,
                  "+----------------------------------------------------------------------+\r\n"
                  "| Work Account %d                                                       |\r\n"
                  "+----------------------------------------------------------------------+\r\n\r\n"
                  "         WorkplaceDeviceId : 0d4e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b\r\n"
                  "       WorkplaceThumbprint : AB12CD34EF56AB12CD34EF56AB12CD34EF56AB12\r\n"
                  " DeviceCertificateValidity : [ 2025-06-01 10:00:00.000 UTC -- 2035-06-01 10:30:00.000 UTC ]\r\n"
                  "         WorkplaceTenantId : 72f988bf-86f1-41af-91ab-2d7cd011db47\r\n\r\n",
                  n);
  double runs[7];
  for (int r = 0; r < 7; r++)
    runs[r] = run_batch(b.data, b.len, iterations);
  qsort(runs, 7, sizeof(double), cmp);
  double us = runs[3];
  printf("dsregcmd /status  %6zu bytes  median %8.1f us/parse  %7.1f MB/s  (7 runs x %d, goal < 100 us)\n", b.len, us,
         (double)b.len / us, iterations);
  cg_buf_free(&b);
  cg_free(base);
  cg_free(path);
  bench_clientlogs();
  bench_mp(iterations);
  return 0;
}
