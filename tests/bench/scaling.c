/* Parser scaling: a fuzz target's entry point (LLVMFuzzerTestOneInput, linked in from
 * tests/fuzz/fuzz_NAME.c) on hostile inputs of 1 MiB and 4 MiB built by repeating a pattern. A
 * parser in linear time takes about 4 times as long on the larger input.
 *   scale_NAME                 one line per pattern; "SLOW: pattern N" when the time ratio is over 5
 *   scale_NAME --once N MIB    one call on pattern N of MIB MiB (tests/bench/scaling.sh counts its
 *                              instructions with valgrind to judge a SLOW line: caches and page
 *                              faults make wall time grow a little faster than the work itself)
 * The patterns are the shapes that made parsers quadratic before (wrapped dsregcmd lines, runs of
 * CMTrace openers, a gzip bomb of empty checks) and the generic ones (one endless line, runs of
 * separators, quotes, escapes, brackets, CRs, wrapped hex of a registry export, UTF-16). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "gz.h"
#include "platform/sys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct pattern {
  const char *name, *head, *unit, *tail;
  bool utf16, gzip;
};

static const struct pattern patterns[] = {
    {"dsregcmd wrapped lines",
     "+----------------------------------------------------------------------+\n"
     "| Device State                                                         "
     "|\n+----------------------------------------------------------------------+\n"
     "            DeviceCertificateValidity : ",
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "", false, false},
    {"dsregcmd fields", "", "        AzureAdJoined : YES\n", "", false, false},
    {"CMTrace openers", "", "<![LOG[", "]LOG]!><time=\"08:48:00.831+240\" date=\"11-24-2026\">", false, false},
    {"CMTrace entries", "",
     "<![LOG[x]LOG]!><time=\"08:48:00.831+240\" date=\"11-24-2026\" component=\"c\" type=\"1\">\r\n", "", false, false},
    {"SMS trace marks", "", "$$<", "\n", false, false},
    {"one endless line", "", "a", "", false, false},
    {"CRs", "", "x\r", "\n", false, false},
    {"newlines", "", "\n", "", false, false},
    {"colons and equals", "", ":=, ", "", false, false},
    {"quotes and escapes", "\"", "\\\"", "\"", false, false},
    {"open brackets", "", "[", "", false, false},
    {"unclosed parentheses", "", "(", "", false, false},
    {"technical groups", "", " (0x87d00231)", "", false, false},
    {"distinct technical groups", "", " (error 7 x)", "", false, false},
    {"empty objects", "[", "{},", "{}]", false, false},
    {"XML openers", "<MPList>", "<MP Name=\"", "</MPList>", false, false},
    {"XML elements", "<MPList>", "<MP Name=\"a\" FQDN=\"b\"><Version>1</Version></MP>", "</MPList>", false, false},
    {"registry wrapped hex", "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\x]\r\n\"v\"=hex:",
     "00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,17,\\\r\n  ", "00\r\n", false, false},
    {"registry keys", "Windows Registry Editor Version 5.00\r\n\r\n", "[HKEY_LOCAL_MACHINE\\x]\r\n\"v\"=\"1\"\r\n", "",
     false, false},
    {"netsh lines", "", "    Proxy Server(s) :  http://p:8080\r\n", "", false, false},
    {"JSON config keys", "{\"checks\":{", "\"a\":1,", "\"b\":2}}", false, false},
    {"UTF-16 text", "", "Device State : x\r\n", "", true, false},
    {"gzip of empty checks", "{\"schema\":\"cmgdiag.bundle/1\",\"checks\":[", "{},", "{}]}", false, true},
    {"bundle of failing findings",
     "{\"schema\":\"cmgdiag.bundle/1\",\"created_at\":\"2026-11-30T08:00:00Z\",\"overall\":\"fail\","
     "\"device\":{\"hostname\":\"h\"},\"checks\":[{\"check\":\"clientlogs\",\"status\":\"fail\",\"code\":"
     "\"LOG_TLS_REVOCATION_FAILED\",\"facts\":{\"findings\":[",
     "{\"code\":\"LOG_CMG_MPLIST_FAILED\",\"severity\":\"fail\",\"state\":\"active\"},", "{}]}}]}", false, true},
    {"blob list names", "<EnumerationResults><Blobs>", "<Blob><Name>a&amp;b/c.json.gz</Name></Blob>",
     "</Blobs><NextMarker>m</NextMarker></EnumerationResults>", false, false},
};

static double now_ms(void) { return (double)cg_time_mono_ms(); }

/* ms per call: calls repeated until 40 ms have passed, best of 3 rounds. */
static double time_call(const char *data, size_t len) {
  double best = 1e30;
  for (int round = 0; round < 3; round++) {
    double t0 = now_ms(), t;
    int calls = 0;
    do {
      LLVMFuzzerTestOneInput((const uint8_t *)data, len);
      calls++;
      t = now_ms() - t0;
    } while (t < 40 && calls < 1000);
    if (t / calls < best) best = t / calls;
    if (t > 3000) break; /* slow enough already: one round tells */
  }
  return best;
}

static char *build(const struct pattern *p, size_t size, size_t *len) {
  struct cg_buf b;
  cg_buf_init(&b, size + 4096);
  cg_buf_puts(&b, p->head);
  size_t ul = strlen(p->unit), tl = strlen(p->tail);
  while (b.len + ul + tl <= size)
    cg_buf_append(&b, p->unit, ul);
  cg_buf_puts(&b, p->tail);
  char *text = cg_buf_take(&b, len);
  if (p->utf16) {
    char *w = malloc(*len * 2 + 2);
    w[0] = (char)0xFF;
    w[1] = (char)0xFE;
    for (size_t i = 0; i < *len; i++)
      w[2 + 2 * i] = text[i], w[3 + 2 * i] = 0;
    cg_free(text);
    *len = *len * 2 + 2;
    text = cg_strndup(w, *len);
    free(w);
  } else if (p->gzip) {
    char *gz = NULL;
    size_t gl = 0;
    cg_gzip(text, *len, 6, &gz, &gl);
    cg_free(text);
    text = gz;
    *len = gl;
  }
  return text;
}

int main(int argc, char **argv) {
  int bad = 0;
  if (argc == 4 && !strcmp(argv[1], "--once")) { /* one call, for an instruction count under valgrind */
    int64_t idx = 0, mib = 0;
    if (!cg_parse_i64(argv[2], &idx) || idx < 0 || idx >= (int64_t)CG_ARRAY_LEN(patterns) ||
        !cg_parse_i64(argv[3], &mib))
      return 2;
    size_t len = 0;
    char *d = build(&patterns[idx], (size_t)mib << 20, &len);
    LLVMFuzzerTestOneInput((const uint8_t *)d, len);
    cg_free(d);
    return 0;
  }
  /* SCALE_BASE_MIB=4 compares 4 and 16 MiB instead (to tell a constant cost from a growing one) */
  const char *base_env = getenv("SCALE_BASE_MIB");
  int64_t base = 1;
  if (base_env && (!cg_parse_i64(base_env, &base) || base < 1 || base > 64)) base = 1;
  printf("%-10s %-26s %10s %10s %6s\n", "parser", "input", "1 MiB ms", "4 MiB ms", "ratio");
  for (size_t i = 0; i < CG_ARRAY_LEN(patterns); i++) {
    const struct pattern *p = &patterns[i];
    size_t l1 = 0, l4 = 0;
    char *d1 = build(p, (size_t)base << 20, &l1), *d4 = NULL;
    double t1 = time_call(d1, l1), t4 = -1, ratio = 0;
    if (t1 > 5000) {
      bad++;
      printf("%-10s %-26s %10.2f %10s %6s  FAIL: over 5 s for 1 MiB\n", SCALE_NAME, p->name, t1, "-", "-");
    } else {
      d4 = build(p, (size_t)base << 22, &l4);
      t4 = time_call(d4, l4);
      /* Below 2 ms a call, page faults of fresh buffers and cache misses weigh more than the parser
       * (measured: 1.1 ms -> 6.7 ms for a plain linear scan); the quadratic parsers this guards
       * against took seconds at 1 MiB. */
      ratio = t4 / (t1 > 2.0 ? t1 : 2.0);
      bool ok = ratio <= 5.0;
      bad += !ok;
      if (ok)
        printf("%-10s %-26s %10.2f %10.2f %6.2f\n", SCALE_NAME, p->name, t1, t4, ratio);
      else
        printf("%-10s %-26s %10.2f %10.2f %6.2f  SLOW: pattern %zu\n", SCALE_NAME, p->name, t1, t4, ratio, i);
    }
    cg_free(d1);
    cg_free(d4);
  }
  return bad ? 1 : 0; /* 1: some line says SLOW (or over 5 s): scaling.sh decides */
}
