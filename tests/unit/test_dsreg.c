/* dsregcmd parser and capture decoding, case by case. */
#include <stdlib.h>

#include "aadjoin.h"
#include "dsreg.h"
#include "test.h"
#include "text.h"

static const char *get(struct dsreg_doc *d, const char *text, const char *section, const char *key) {
  dsreg_free(d);
  CHECK(dsreg_parse(text, d) == CG_OK);
  return dsreg_get(d, section, key);
}

#define BAN "+----------------------------------------------------------------------+\n"
#define HDR(t) BAN "| " t "                                                         |\n" BAN

TEST(sections_and_separators) {
  struct dsreg_doc d = {0};
  const char *t = HDR("Device State") "\n             AzureAdJoined : YES\n  Auto-Configuration URL :\n"
                                      "   Empty With Space : \n  JoinSrvUrl : https://x.example:443/adfs : more\n";
  CHECK_STR(get(&d, t, "device state", "azureadjoined"), "YES");
  CHECK_STR(dsreg_get(&d, NULL, "Auto-Configuration URL"), "");
  CHECK_STR(dsreg_get(&d, NULL, "Empty With Space"), "");
  CHECK_STR(dsreg_get(&d, NULL, "JoinSrvUrl"), "https://x.example:443/adfs : more");
  CHECK(d.count == 1 && d.kv_lines == 4);
  CHECK(dsreg_get(&d, "Tenant Details", "AzureAdJoined") == NULL);
  dsreg_free(&d);
}

TEST(wrapped_values_join_only_after_long_lines) {
  struct dsreg_doc d = {0};
  const char *t = HDR("URL Specific Proxy Config") "    Auto Detect PAC Status : Failed to auto detect the Proxy "
                                                   "Auto-Configuration (PAC) script u\n"
                                                   "sing WPAD. code: 0x80072f94\n"
                                                   "    Executing Account Name : X\n"
                                                   "garbage fragment after a short line\n";
  CHECK_STR(get(&d, t, NULL, "Auto Detect PAC Status"),
            "Failed to auto detect the Proxy Auto-Configuration (PAC) script using WPAD. code: 0x80072f94");
  CHECK_STR(dsreg_get(&d, NULL, "Executing Account Name"), "X");
  CHECK(d.continuations == 1 && d.free_lines == 1);
  dsreg_free(&d);
}

TEST(progress_prompts_and_footer_are_free_lines) {
  struct dsreg_doc d = {0};
  const char *t = "PS C:\\Users\\megan> dsregcmd /status\r\n"
                  "Waiting for Diagnostics Task to complete. This could take a few minutes...\r      \r\n" HDR(
                      "SSO State") "   AzureAdPrt : NO\r\r\n"
                                   "For more information, please visit https://www.microsoft.com/aadjerrors\r\n"
                                   "C:\\Windows\\system32>\r\n";
  CHECK_STR(get(&d, t, "SSO State", "AzureAdPrt"), "NO");
  CHECK(d.free_lines == 3);
  CHECK(d.continuations == 0);
  dsreg_free(&d);
}

TEST(doc_anomaly_and_frameless_paste) {
  struct dsreg_doc d = {0};
  CHECK_STR(get(&d, "AadRecoveryEnabled: NO\nsing WPAD. code: 0x1\n", NULL, "AadRecoveryEnabled"), "NO");
  CHECK(dsreg_get(&d, NULL, "sing WPAD. code") == NULL); /* not an identifier: not a key */
  CHECK(d.count == 1 && *d.sections[0].title == '\0');
  CHECK_STR(get(&d, "| Device State |\nAzureAdJoined : NO\n", "Device State", "AzureAdJoined"), "NO");
  dsreg_free(&d);
}

TEST(garbage_never_crashes) {
  struct dsreg_doc d = {0};
  const char *junk[] = {"",
                        "\n\n\n",
                        " : ",
                        ":::",
                        "+--+",
                        "+----------+\n|\n|",
                        "| |",
                        " : value only",
                        "key :",
                        "\r\r\r",
                        "PS C:\\>",
                        "A:\\>",
                        "+----------------------+\n| x |\n+---+"};
  for (size_t i = 0; i < CG_ARRAY_LEN(junk); i++) {
    dsreg_free(&d);
    CHECK(dsreg_parse(junk[i], &d) == CG_OK);
  }
  dsreg_free(&d);
  /* more sections than any real output: refused, not unbounded */
  struct cg_buf b;
  cg_buf_init(&b, 1 << 20);
  for (int i = 0; i < 5000; i++)
    cg_buf_puts(&b, "| S |\n");
  CHECK(dsreg_parse(b.data, &d) == CG_ERR_TOOBIG);
  dsreg_free(&d);
  cg_buf_free(&b);
}

TEST(times_and_model) {
  int64_t ms;
  char rfc[40];
  CHECK(aad_parse_time("2019-01-24 19:15:26.000 UTC", &ms, rfc, sizeof(rfc)));
  CHECK_STR(rfc, "2019-01-24T19:15:26.000Z");
  CHECK(ms == INT64_C(1548357326000));
  CHECK(aad_parse_time("2026-11-25T00:00:00Z", &ms, rfc, sizeof(rfc)));
  CHECK(ms == INT64_C(1795564800000));
  CHECK(aad_parse_time("2026-11-24 08:03:11.7 UTC", &ms, rfc, sizeof(rfc)));
  CHECK_STR(rfc, "2026-11-24T08:03:11.700Z");
  CHECK(!aad_parse_time("yesterday", &ms, rfc, sizeof(rfc)));
  CHECK(!aad_parse_time("2026-13-01 00:00:00", &ms, rfc, sizeof(rfc)));
  struct dsreg_doc d = {0};
  struct aad_state st;
  get(&d,
      HDR("Device State") "AzureAdJoined : YES\nDomainJoined : NO\n" HDR(
          "Device Details") "DeviceId : {1B1E5E3C-7D2A-4C52-9A07-3C0B7D4F1E2A}\n"
                            "DeviceCertificateValidity : [ 2024-03-01 09:12:44.000 UTC - 2034-03-01 09:42:44.000 UTC "
                            "]\n",
      NULL, "x");
  aad_model(&d, &st);
  CHECK_STR(st.join_type, "entra_joined");
  CHECK_STR(st.device_id, "1b1e5e3c-7d2a-4c52-9a07-3c0b7d4f1e2a");
  CHECK_STR(st.cert_not_after, "2034-03-01T09:42:44.000Z"); /* single "-" separator of a hand-typed sample */
  CHECK(st.prt == TRI_NULL);                                /* no SSO State */
  get(&d, HDR("Device Details") "DeviceId : [REDACTED]\n", NULL, "x");
  aad_model(&d, &st);
  CHECK_STR(st.device_id, "");
  CHECK_STR(st.join_type, "unknown");
  dsreg_free(&d);
}

TEST(capture_decoding) {
  char *out;
  size_t n;
  enum cg_text_encoding e;
  int cp;
  /* UTF-16LE without BOM (redirected by some tools) */
  const char u16[] = "A\0z\0u\0r\0e\0 \0:\0 \0Y\0E\0S\0";
  CHECK(cg_text_decode_capture(u16, sizeof(u16) - 1, 850, &out, &n, &e, &cp) == CG_OK);
  CHECK(e == CG_ENC_UTF16LE_NOBOM);
  CHECK_STR(out, "Azure : YES");
  cg_free(out);
  /* cp850 and cp437 bytes for e-acute differ from cp1252's */
  CHECK(cg_text_decode_capture("R\x82pertoire", 10, 850, &out, &n, &e, &cp) == CG_OK);
  CHECK(e == CG_ENC_CODEPAGE && cp == 850);
  CHECK_STR(out, "R\xC3\xA9pertoire");
  cg_free(out);
  CHECK(cg_text_decode_capture("R\xE9pertoire", 10, 1252, &out, &n, &e, &cp) == CG_OK);
  CHECK_STR(out, "R\xC3\xA9pertoire");
  cg_free(out);
  CHECK(cg_text_decode_capture("R\x82", 2, 9999, &out, &n, &e, &cp) == CG_OK && cp == 850); /* unknown -> 850 */
  cg_free(out);
  /* valid UTF-8 stays as it is; NUL becomes U+FFFD */
  CHECK(cg_text_decode_capture("h\xC3\xA9\0x", 5, 850, &out, &n, &e, &cp) == CG_OK);
  CHECK(e == CG_ENC_UTF8);
  CHECK_STR(out, "h\xC3\xA9\xEF\xBF\xBDx");
  cg_free(out);
  CHECK(cg_utf8_valid("\xF0\x9F\x98\x80", 4));
  CHECK(!cg_utf8_valid("\xC0\xAF", 2));     /* overlong */
  CHECK(!cg_utf8_valid("\xED\xA0\x80", 3)); /* surrogate */
  CHECK(!cg_utf8_valid("\xE2\x82", 2));     /* truncated */
}

int main(void) {
  cg_json_init_hooks();
  RUN(sections_and_separators);
  RUN(wrapped_values_join_only_after_long_lines);
  RUN(progress_prompts_and_footer_are_free_lines);
  RUN(doc_anomaly_and_frameless_paste);
  RUN(garbage_never_crashes);
  RUN(times_and_model);
  RUN(capture_decoding);
  return test_finish("dsreg");
}
