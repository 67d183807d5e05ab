/* Files and text: atomic replace, bounded reads, folders, disk space, BOM/UTF-16 decoding, gzip,
 * secret redaction of free text and JSON. */
#include <stdlib.h>

#include "bundle.h"
#include "gz.h"
#include "platform/fs.h"
#include "redact.h"
#include "test.h"
#include "text.h"

static const char *dir;

TEST(atomic_write_replaces) {
  char *p = cg_path_join(dir, "atomic.txt");
  char err[512] = "";
  char *data = NULL;
  size_t len = 0;
  CHECK(cg_file_write_atomic(p, "first", 5, err, sizeof(err)) == CG_OK);
  CHECK(cg_file_write_atomic(p, "second!", 7, err, sizeof(err)) == CG_OK);
  CHECK(cg_file_read(p, 100, &data, &len) == CG_OK);
  CHECK(len == 7);
  CHECK_STR(data, "second!");
  cg_free(data);
  /* too big for the cap: refused, not truncated */
  CHECK(cg_file_read(p, 3, &data, &len) == CG_ERR_TOOBIG);
  CHECK(cg_file_read(dir, 3, &data, &len) != CG_OK || len == 0);
  cg_file_remove(p);
  cg_free(p);
}

TEST(atomic_write_into_missing_folder_fails_cleanly) {
  char *sub = cg_path_join(dir, "missing-folder");
  char *p = cg_path_join(sub, "x.txt");
  char err[512] = "";
  CHECK(cg_file_write_atomic(p, "x", 1, err, sizeof(err)) != CG_OK);
  CHECK_CONTAINS(err, "missing-folder");
  CHECK(!cg_file_exists(p));
  cg_free(p);
  cg_free(sub);
}

TEST(mkdirs_and_writable) {
  char *a = cg_path_join(dir, "m1");
  char *b = cg_path_join(a, "m2");
  char *c = cg_path_join(b, "m3");
  char err[512] = "";
  CHECK(cg_mkdirs(c) == CG_OK);
  CHECK(cg_mkdirs(c) == CG_OK); /* again: fine */
  CHECK(cg_dir_writable(c, err, sizeof(err)) == CG_OK);
  char *f = cg_path_join(c, "file");
  CHECK(cg_file_write_atomic(f, "x", 1, err, sizeof(err)) == CG_OK);
  char *under_file = cg_path_join(f, "sub");
  CHECK(cg_mkdirs(under_file) != CG_OK);
  CHECK(cg_dir_writable(under_file, err, sizeof(err)) != CG_OK);
  CHECK_CONTAINS(err, "not writable");
  uint64_t fr = 0, tot = 0;
  CHECK(cg_disk_space(c, &fr, &tot) == CG_OK);
  CHECK(tot > 0 && fr <= tot);
  char *dn = cg_path_dirname(f);
  CHECK_STR(dn, c);
  cg_free(dn);
  cg_free(under_file);
  cg_free(f);
  cg_free(a);
  cg_free(b);
  cg_free(c);
}

TEST(text_decoding) {
  char *out = NULL;
  size_t n = 0;
  enum cg_text_encoding e;
  /* UTF-16LE with BOM, a non-BMP character (U+1F600) and an accented letter */
  const char le[] = "\xFF\xFE"
                    "A\0\xE9\0\x3D\xD8\x00\xDE"
                    "\n\0";
  CHECK(cg_text_decode(le, sizeof(le) - 1, &out, &n, &e) == CG_OK);
  CHECK(e == CG_ENC_UTF16LE);
  CHECK_STR(out, "A\xC3\xA9\xF0\x9F\x98\x80\n");
  cg_free(out);
  const char be[] = "\xFE\xFF\0B\0C";
  CHECK(cg_text_decode(be, sizeof(be) - 1, &out, &n, &e) == CG_OK);
  CHECK(e == CG_ENC_UTF16BE);
  CHECK_STR(out, "BC");
  cg_free(out);
  const char lone[] = "\xFF\xFE\x00\xD8Z\0"; /* lone high surrogate then Z */
  CHECK(cg_text_decode(lone, sizeof(lone) - 1, &out, &n, &e) == CG_OK);
  CHECK_STR(out, "\xEF\xBF\xBDZ");
  cg_free(out);
  CHECK(cg_text_decode("\xEF\xBB\xBFhi", 5, &out, &n, &e) == CG_OK);
  CHECK(e == CG_ENC_UTF8_BOM && n == 2);
  CHECK_STR(out, "hi");
  cg_free(out);
  CHECK(cg_text_decode("", 0, &out, &n, &e) == CG_OK && n == 0);
  cg_free(out);
}

TEST(gzip_round_trip_and_garbage) {
  const char *text = "{\"schema\":\"cmgdiag.bundle/1\"} repeated repeated repeated repeated";
  char *gz = NULL, *back = NULL;
  size_t gz_len = 0, back_len = 0;
  CHECK(cg_gzip(text, strlen(text), 6, &gz, &gz_len) == CG_OK);
  CHECK(cg_is_gzip(gz, gz_len));
  CHECK(cg_gunzip(gz, gz_len, 1 << 20, &back, &back_len) == CG_OK);
  CHECK_STR(back, text);
  cg_free(back);
  CHECK(cg_gunzip(gz, gz_len / 2, 1 << 20, &back, &back_len) == CG_ERR_PARSE); /* truncated */
  CHECK(cg_gunzip(gz, gz_len, 10, &back, &back_len) == CG_ERR_TOOBIG);         /* over the cap */
  CHECK(cg_gunzip("not gzip at all", 15, 1 << 20, &back, &back_len) == CG_ERR_PARSE);
  cg_free(gz);
}

static bool at_4k(const char *text, size_t len, void *user) {
  (void)text;
  ++*(int *)user;
  return len >= 4096;
}

static bool never(const char *text, size_t len, void *user) {
  (void)text;
  (void)len;
  ++*(int *)user;
  return false;
}

TEST(gunzip_until_stops_when_told) {
  size_t n = 100000;
  char *text = malloc(n);
  for (size_t i = 0; i < n; i++)
    text[i] = (char)('a' + (i * 7919 % 26));
  char *gz = NULL, *out = NULL;
  size_t gz_len = 0, out_len = 0;
  bool whole = true;
  int asked = 0;
  CHECK(cg_gzip(text, n, 6, &gz, &gz_len) == CG_OK);
  CHECK(cg_gunzip_until(gz, gz_len, 1 << 20, at_4k, &asked, &out, &out_len, &whole) == CG_OK);
  CHECK(!whole && out_len >= 4096 && out_len < 4096 + 2048 && !memcmp(out, text, out_len) && asked == 2);
  cg_free(out);
  asked = 0;
  CHECK(cg_gunzip_until(gz, gz_len, 1 << 20, never, &asked, &out, &out_len, &whole) == CG_OK);
  CHECK(whole && out_len == n && !memcmp(out, text, n) && asked >= 40);
  cg_free(out);
  /* stopped early, a truncated stream is not noticed; read whole, it is */
  CHECK(cg_gunzip_until(gz, gz_len / 2, 1 << 20, at_4k, &asked, &out, &out_len, &whole) == CG_OK && !whole);
  cg_free(out);
  CHECK(cg_gunzip_until(gz, gz_len / 2, 1 << 20, never, &asked, &out, &out_len, &whole) == CG_ERR_PARSE && !whole);
  cg_free(gz);
  free(text);
}

/* gzip of `b` printed as the agent writes it (heavy_last: the small members first) or as it is */
static char *gz_of(cJSON *b, bool heavy_last, size_t *len) {
  if (heavy_last) cg_bundle_heavy_last(b);
  char *text = cJSON_PrintUnformatted(b), *gz = NULL;
  cg_gzip(text, strlen(text), 6, &gz, len);
  cJSON_free(text);
  return gz;
}

TEST(bundle_head_is_what_comes_before_the_checks) {
  const char *src = "{\"schema\":\"cmgdiag.bundle/1\",\"created_at\":\"2026-11-30T08:00:00Z\","
                    "\"ticket\":\"\\\"checks\\\"\",\"agent\":{\"checks\":1},\"device\":{\"hostname\":\"PC1\"},"
                    "\"overall\":\"fail\",\"checks\":[],\"diagnosis\":{\"root_causes\":[]},\"partial\":false,"
                    "\"gate\":{\"verdict\":\"ready\"}}";
  cJSON *b = cJSON_Parse(src), *head = NULL;
  cJSON *checks = cJSON_GetObjectItem(b, "checks");
  for (int i = 0; i < 400; i++) /* 40 KB of checks: more than the head's first steps */
    cJSON_AddItemToArray(checks, cJSON_CreateString("a check result that takes its room in the bundle........"));
  size_t len = 0;
  char *old = gz_of(b, false, &len);
  CHECK(cg_bundle_head(old, len, &head) == CG_ERR_PARSE && !head); /* "partial" after "checks": read it whole */
  cg_free(old);
  char *gz = gz_of(b, true, &len);
  CHECK(cg_bundle_head(gz, len, &head) == CG_OK);
  CHECK(head && !cJSON_GetObjectItem(head, "checks") && !cJSON_GetObjectItem(head, "diagnosis"));
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(head, "ticket")), "\"checks\"");
  CHECK(cJSON_IsFalse(cJSON_GetObjectItem(head, "partial")));
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(head, "gate"), "verdict")), "ready");
  cJSON_Delete(head);
  /* the head of a bundle cut in its checks is still read; the whole bundle is refused */
  CHECK(cg_bundle_head(gz, len * 3 / 4, &head) == CG_OK);
  cJSON_Delete(head);
  cJSON *whole = NULL;
  char err[256];
  CHECK(cg_bundle_parse(gz, len * 3 / 4, "cut", &whole, err, sizeof(err)) != CG_OK && !whole);
  CHECK(cg_bundle_parse(gz, len, "whole", &whole, err, sizeof(err)) == CG_OK);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(whole, "checks")) == 400);
  cJSON_Delete(whole);
  CHECK(cg_bundle_head("{\"schema\":\"cmgdiag.bundle/1\"}", 29, &head) == CG_ERR_PARSE); /* plain JSON */
  /* a small bundle: "checks" is found after the stream ends, not at a 2 KB step */
  const char *small[][2] = {
      {"{\"schema\":\"cmgdiag.bundle/1\",\"created_at\":\"t\",\"device\":{},\"overall\":\"pass\",\"partial\":true,"
       "\"checks\":[]}",
       "ok"},
      /* what a report takes from a head must be in it, else the whole is read */
      {"{\"schema\":\"cmgdiag.bundle/1\",\"created_at\":\"t\",\"device\":{},\"partial\":true,\"checks\":[],"
       "\"overall\":\"pass\"}",
       "whole"},
      {"{\"schema\":\"cmgdiag.bundle/1\",\"trigger\":\"validate\",\"created_at\":\"t\",\"device\":{},"
       "\"overall\":\"pass\",\"partial\":false,\"checks\":[],\"gate\":{}}",
       "whole"},
      {"{\"schema\":\"cmgdiag.bundle/1\",\"created_at\":\"t\",\"device\":{},\"overall\":\"pass\",\"partial\":true,"
       "\"\\u0063hecks\":[]}",
       "whole"},
  };
  for (size_t i = 0; i < 4; i++) {
    char *sgz = NULL;
    size_t sl = 0;
    CHECK(cg_gzip(small[i][0], strlen(small[i][0]), 6, &sgz, &sl) == CG_OK);
    int hrc = cg_bundle_head(sgz, sl, &head);
    CHECK(!strcmp(small[i][1], "ok") ? hrc == CG_OK && head : hrc == CG_ERR_PARSE && !head);
    cJSON_Delete(head);
    head = NULL;
    cg_free(sgz);
  }
  CHECK(cg_bundle_head(gz, 10, &head) != CG_OK && !head);
  cg_free(gz);
  cJSON_Delete(b);
}

TEST(redaction) {
  CHECK(cg_is_secret_key("sas_url"));
  CHECK(cg_is_secret_key("archive_SAS_URL"));
  CHECK(cg_is_secret_key("bearer_token"));
  CHECK(cg_is_secret_key("tokenFile"));
  CHECK(cg_is_secret_key("client_secret"));
  CHECK(cg_is_secret_key("Password"));
  CHECK(!cg_is_secret_key("url"));
  CHECK(!cg_is_secret_key("sas"));
  char *r =
      cg_redact_text("GET https://x/c?sv=2022-11-02&sig=abc%2Bdef&se=2026 -> 403; Authorization: Bearer eyJ0.x.y end");
  CHECK_STR(r, "GET https://x/c?sv=2022-11-02&sig=<redacted>&se=2026 -> 403; Authorization: Bearer <redacted> end");
  cg_free(r);
  r = cg_redact_text("design=1 signature sig= ?sig=A");
  CHECK_STR(r, "design=1 signature sig= ?sig=<redacted>");
  cg_free(r);
  /* user information with sub-delims (RFC 3986): all of it goes, up to the '@' */
  char *r2 = cg_redact_text("proxy http://svc-proxy:Spring;2026&x,y'z@proxy.contoso.com:8080 done");
  CHECK(r2 && !strstr(r2, "Spring") && !strstr(r2, "2026") && strstr(r2, "@proxy.contoso.com:8080 done"));
  cg_free(r2);
  r = cg_redact_text("proxy http://svc:P4ss@10.0.0.1:8080 and socks5://u@h:1080/ and https://host/p?a=1");
  CHECK_STR(r, "proxy http://<redacted>@10.0.0.1:8080 and socks5://<redacted>@h:1080/ and https://host/p?a=1");
  cg_free(r);
  r = cg_redact_text("x --api-key=K1 -password=P2 client_secret=S3 https://f/api?code=C4&Key=K5;token=T6 exit code=3");
  CHECK_STR(r, "x --api-key=<redacted> -password=<redacted> client_secret=<redacted> "
               "https://f/api?code=<redacted>&Key=<redacted>;token=<redacted> exit code=3");
  cg_free(r);
  const char *const lits[] = {"hunter22", "ab", NULL};
  r = cg_redact_text_with("pw hunter22 and ab stays", lits);
  CHECK_STR(r, "pw <redacted> and ab stays");
  cg_free(r);
  /* literal values only, in bytes that may hold NULs (a child's output): no pattern is applied */
  size_t n = 0;
  static const char out[] = "hunter22\0hunter22hunter2 ab sig=x hunter22";
  r = cg_redact_literals(out, sizeof(out) - 1, lits, &n);
  CHECK(r && n == 48 && !memcmp(r, "<redacted>\0<redacted>hunter2 ab sig=x <redacted>", n) && r[n] == '\0');
  cg_free(r);
  r = cg_redact_literals("", 0, lits, &n);
  CHECK(r && n == 0);
  cg_free(r);
  char esc[] = "a\x1b[2Jb\x1b]0;t\x07"
               "c\xc2\x9b"
               "31md\te\r\n";
  CHECK(cg_strip_controls(esc) == 5);
  CHECK_STR(esc, "ab]0;tc31md\te\n");
  cJSON *j = cJSON_Parse("{\"a\":{\"sas_url\":\"https://x?sig=1\",\"list\":[\"https://y?sv=1&sig=2\"],"
                         "\"api_token\":[\"t1\"],\"ok\":\"plain\"}}");
  CHECK(cg_redact_json(j) == CG_OK);
  char *s = cJSON_PrintUnformatted(j);
  CHECK_STR(s, "{\"a\":{\"sas_url\":\"<redacted>\",\"list\":[\"https://y?sv=1&sig=<redacted>\"],"
               "\"api_token\":\"<redacted>\",\"ok\":\"plain\"}}");
  cJSON_free(s);
  cJSON_Delete(j);
}

TEST(alloc_failure_is_reported) {
  struct cg_buf b;
  cg_buf_init(&b, 100);
  cg_alloc_fail_after(1);
  CHECK(cg_buf_puts(&b, "x") == CG_ERR_NOMEM);
  CHECK(cg_buf_puts(&b, "x") == CG_OK);
  CHECK(cg_buf_append(&b,
                      "0123456789012345678901234567890123456789012345678901234567890123456789"
                      "0123456789012345678901234567890123456789",
                      110) == CG_ERR_TOOBIG);
  CHECK(b.len == 1);
  cg_buf_free(&b);
  CHECK(cg_edit_distance("agnet", "agent", 5) == 2);
  CHECK(cg_edit_distance("kitten", "sitting", 10) == 3);
  int64_t v;
  CHECK(cg_parse_i64("-42", &v) && v == -42);
  CHECK(!cg_parse_i64("42x", &v));
  CHECK(!cg_parse_i64("99999999999999999999", &v));
}

int main(int argc, char **argv) {
  cg_json_init_hooks();
  dir = argc > 1 ? argv[1] : ".";
  cg_mkdirs(dir);
  RUN(atomic_write_replaces);
  RUN(atomic_write_into_missing_folder_fails_cleanly);
  RUN(mkdirs_and_writable);
  RUN(text_decoding);
  RUN(gzip_round_trip_and_garbage);
  RUN(gunzip_until_stops_when_told);
  RUN(bundle_head_is_what_comes_before_the_checks);
  RUN(redaction);
  RUN(alloc_failure_is_reported);
  return test_finish("fs");
}
