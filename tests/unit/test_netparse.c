/* netenv's parsers and the proxy helpers: netsh text, reg export continuation lines and blobs,
 * proxy lists and bypass lists as Windows writes them, and what garbage and truncation give. */
#include <string.h>

#include "http.h"
#include "netparse.h"
#include "proxy.h"
#include "regfile.h"
#include "test.h"

TEST(netsh_forms) {
  struct ne_proxy p;
  CHECK(ne_parse_netsh("\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n", &p) ==
        CG_OK);
  CHECK(p.present && !p.proxy[0]);
  CHECK(ne_parse_netsh("Current WinHTTP proxy settings:\n\n    Proxy Server(s) :  proxy.contoso.com:8080\n"
                       "    Bypass List     :  <local>;*.contoso.com\n",
                       &p) == CG_OK);
  CHECK_STR(p.proxy, "proxy.contoso.com:8080");
  CHECK_STR(p.bypass, "<local>;*.contoso.com");
  CHECK(ne_parse_netsh("Current WinHTTP proxy settings:\n    Proxy Server(s) :  http=a:80;https=b:443\n"
                       "    Bypass List     :  (none)\n",
                       &p) == CG_OK);
  CHECK_STR(p.proxy, "http=a:80;https=b:443");
  CHECK_STR(p.bypass, "");
  /* another language, by the structure: German direct access, French with " :" and "(aucun)" */
  CHECK(ne_parse_netsh("Aktuelle WinHTTP-Proxyeinstellungen:\n    Direkter Zugriff (kein Proxyserver).\n", &p) ==
        CG_OK);
  CHECK(p.present && !p.proxy[0]);
  CHECK(ne_parse_netsh("Param\xc3\xa8tres actuels du proxy WinHTTP :\n\n    Serveur(s) proxy :  p.contoso.com:3128\n"
                       "    Liste de contournement :  (aucun)\n",
                       &p) == CG_OK);
  CHECK_STR(p.proxy, "p.contoso.com:3128");
  CHECK_STR(p.bypass, "");
  /* a full-width colon after the label */
  CHECK(ne_parse_netsh("WinHTTP:\n    X\xef\xbc\x9a proxy:1\n    Y\xef\xbc\x9a <local>\n", &p) == CG_OK);
  CHECK_STR(p.proxy, "proxy:1");
  CHECK_STR(p.bypass, "<local>");
  /* a header alone, text that is not netsh's, nothing */
  CHECK(ne_parse_netsh("Current WinHTTP proxy settings:\n", &p) == CG_ERR_PARSE);
  CHECK(ne_parse_netsh("Hello\nCurrent WinHTTP proxy settings:\n    Direct access (no proxy server).\n", &p) ==
        CG_ERR_PARSE);
  CHECK(ne_parse_netsh("Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\X]\n", &p) == CG_ERR_PARSE);
  CHECK(ne_parse_netsh("", &p) == CG_ERR_PARSE);
}

TEST(reg_continuations_and_blobs) {
  const char *text =
      "Windows Registry Editor Version 5.00\r\n\r\n"
      "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\r\n"
      "\"WinHttpSettings\"=hex:18,00,00,00,00,00,00,00,03,00,00,00,0c,00,00,00,70,72,\\\r\n"
      "  6f,78,79,3a,33,31,32,38,2e,78,07,00,00,00,3c,6c,6f,63,61,6c,3e\r\n"
      "\"Q\"=hex(b):01,00,00,00,00,00,00,00\r\n";
  cJSON *keys = NULL;
  CHECK(cg_regfile_parse(text, &keys) == CG_OK);
  struct ne_proxy p;
  ne_winhttp_from_reg(keys, &p);
  CHECK(p.present);
  CHECK_STR(p.proxy, "proxy:3128.x");
  CHECK_STR(p.bypass, "<local>");
  /* abbreviations and case do not matter for look-ups */
  CHECK(
      cg_regfile_get(keys, "hklm\\software\\microsoft\\windows\\currentversion\\internet settings\\connections", "q"));
  cJSON_Delete(keys);
  /* a blob whose length runs past its end is refused, not read past */
  unsigned char bad[] = {0x18, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0, 0, 'a'};
  CHECK(ne_parse_winhttp_blob(bad, sizeof(bad), &p) == CG_ERR_PARSE);
  CHECK(ne_parse_winhttp_blob(bad, 5, &p) == CG_ERR_PARSE);
  unsigned char b[4];
  CHECK(cg_regfile_hex("hex:zz", b, sizeof(b)) == -1);
  CHECK(cg_regfile_hex("hex:01,02,03,04,05", b, sizeof(b)) == 4);
  CHECK(cg_regfile_parse("garbage\n[no end\n\"x\"=\"y\"\n", &keys) == CG_ERR_PARSE);
}

TEST(wininet_flags) {
  const char *text =
      "[HKEY_USERS\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]\n"
      "\"ProxyEnable\"=dword:00000000\n\"ProxyServer\"=\"old:80\"\n\"AutoConfigURL\"=\"http://wpad/x.pac\"\n"
      "[HKEY_USERS\\S-1-5-18\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\n"
      "\"DefaultConnectionSettings\"=hex:46,00,00,00,02,00,00,00,09,00,00,00\n";
  cJSON *keys = NULL;
  CHECK(cg_regfile_parse(text, &keys) == CG_OK);
  struct ne_proxy p;
  ne_wininet_from_reg(keys, "HKEY_USERS\\S-1-5-18", &p);
  CHECK(p.present && p.auto_detect);
  CHECK_STR(p.proxy, ""); /* ProxyEnable 0: the old server is not used */
  CHECK_STR(p.pac, "");   /* flag 0x4 off: "Use setup script" unticked */
  ne_wininet_from_reg(keys, "HKEY_USERS\\S-1-5-21-1-2-3-1001", &p);
  CHECK(!p.present);
  cJSON_Delete(keys);
  CHECK(ne_is_user_sid("S-1-5-21-1-2-3-1001"));
  CHECK(!ne_is_user_sid("S-1-5-21-1-2-3-1001_Classes"));
  CHECK(!ne_is_user_sid(".DEFAULT"));
}

TEST(proxy_lists) {
  char out[256], host[128], scheme[16];
  CHECK(cg_proxy_pick("proxy:8080", "https", out, sizeof(out)));
  CHECK_STR(out, "http://proxy:8080");
  CHECK(cg_proxy_pick("http=a:80;https=b:443", "https", out, sizeof(out)));
  CHECK_STR(out, "http://b:443");
  CHECK(!cg_proxy_pick("ftp=a:21", "https", out, sizeof(out)));
  CHECK(!cg_proxy_pick("", "https", out, sizeof(out)));
  CHECK(cg_proxy_pick("PROXY", "https", out, sizeof(out)));
  CHECK(cg_proxy_bypassed("<local>;*.contoso.com", "intranet"));
  CHECK(cg_proxy_bypassed("<local>;*.contoso.com", "cmg.CONTOSO.com"));
  CHECK(!cg_proxy_bypassed("<local>;*.contoso.com", "login.microsoftonline.com"));
  CHECK(cg_proxy_bypassed("10.*", "10.1.2.3"));
  CHECK(!cg_proxy_bypassed("", "x"));
  cg_url_host("https://user:pw@[::1]:8443/path", host, sizeof(host), scheme, sizeof(scheme));
  CHECK_STR(host, "::1");
  CHECK_STR(scheme, "https");
  cg_url_host("HTTPS://Login.MicrosoftOnline.com/x?y", host, sizeof(host), scheme, sizeof(scheme));
  CHECK_STR(host, "login.microsoftonline.com");
  cg_proxy_redact("http://user:secret@proxy:8080/", out, sizeof(out));
  CHECK_STR(out, "http://proxy:8080/");
  cg_proxy_redact("proxy:8080", out, sizeof(out));
  CHECK_STR(out, "proxy:8080");
}

TEST(configured_proxy_wins) {
  struct cg_proxy_choice c;
  CHECK(cg_proxy_resolve("direct", "https://login.microsoftonline.com/", 1000, &c) == CG_OK);
  CHECK_STR(c.proxy, "");
  CHECK_STR(c.source, "config");
  CHECK(!c.curl_default);
  CHECK(cg_proxy_resolve("http://u:p@proxy:3128", "https://x/", 1000, &c) == CG_OK);
  CHECK_STR(c.shown, "http://proxy:3128");
}

/* Where a certificate-chosen URL (AIA) may never lead: loopback, link-local, unspecified, in any
 * spelling, and nothing else. */
TEST(local_addresses) {
  const char *local[] = {"127.0.0.1",
                         "127.255.0.9",
                         "169.254.169.254",
                         "0.0.0.0",
                         "::1",
                         "[::1]",
                         "0:0:0:0:0:0:0:1",
                         "::",
                         "fe80::1",
                         "FE80::1%eth0",
                         "febf::1",
                         "::ffff:127.0.0.1",
                         "::ffff:169.254.169.254",
                         "[::FFFF:127.0.0.2]",
                         "0:0:0:0:0:ffff:7f00:1" /* hex tail: not a dotted one */};
  for (size_t i = 0; i < sizeof(local) / sizeof(*local) - 1; i++) {
    if (!cg_addr_is_local(local[i])) fprintf(stderr, "  not local: %s\n", local[i]);
    CHECK(cg_addr_is_local(local[i]));
  }
  const char *remote[] = {"10.0.0.1",    "169.253.1.1", "128.0.0.1",      "8.8.8.8",    "fec0::1", "fe7f::1",
                          "2001:db8::1", "::2",         "::ffff:8.8.8.8", "1::1",       "",        "127.0.0",
                          "127.0.0.1.5", "fe80",        "localhost",      "garbage:::", "12345::1"};
  for (size_t i = 0; i < sizeof(remote) / sizeof(*remote); i++) {
    if (cg_addr_is_local(remote[i])) fprintf(stderr, "  local: %s\n", remote[i]);
    CHECK(!cg_addr_is_local(remote[i]));
  }
  CHECK(!cg_addr_is_local(NULL));
  CHECK(cg_url_host_is_local("http://127.0.0.1:9/intermediate.cer"));
  CHECK(cg_url_host_is_local("http://[::1]/x"));
  CHECK(cg_url_host_is_local("http://169.254.169.254/latest/meta-data/"));
  CHECK(cg_url_host_is_local("http://LOCALHOST/x"));
  CHECK(cg_url_host_is_local("http://a.localhost/x"));
  CHECK(!cg_url_host_is_local("http://127.0.0.1.nip.example/x"));
  CHECK(!cg_url_host_is_local("http://pki.contoso.com/aia/ca.crt"));
  CHECK(!cg_url_host_is_local("not a url"));
}

/* `collect` writes what it read as a reg export: it reads back to the same keys and text values */
TEST(reg_write_reads_back) {
  cJSON *keys = cJSON_Parse("{\"HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\A\": {\"S\": \"a \\\"q\\\" \\\\ b\", "
                            "\"D\": 258, \"M\": \"hex(7):41,00,00,00\", \"H\": \"hex:01,02\", \"@\": \"def\", "
                            "\"Big\": 8589934592, \"Fake\": \"hex: not hex\"},"
                            "\"HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Empty\": {}}");
  CHECK(keys != NULL);
  size_t len = 0;
  char *text = cg_regfile_write(keys, &len);
  CHECK(text && len == strlen(text) && cg_regfile_is_export(text));
  cJSON *back = NULL;
  CHECK(cg_regfile_parse(text, &back) == CG_OK);
  const char *key = "HKLM\\SOFTWARE\\A";
  CHECK_STR(cJSON_GetStringValue(cg_regfile_get(back, key, "S")), "a \"q\" \\ b");
  CHECK(cJSON_GetNumberValue(cg_regfile_get(back, key, "D")) == 258);
  CHECK_STR(cJSON_GetStringValue(cg_regfile_get(back, key, "M")), "hex(7):41,00,00,00");
  CHECK_STR(cJSON_GetStringValue(cg_regfile_get(back, key, "H")), "hex:01,02");
  CHECK_STR(cJSON_GetStringValue(cg_regfile_get(back, key, "@")), "def");
  CHECK_STR(cJSON_GetStringValue(cg_regfile_get(back, key, "Big")), "8589934592");
  CHECK_STR(cJSON_GetStringValue(cg_regfile_get(back, key, "Fake")), "hex: not hex"); /* a string stays one */
  cJSON_Delete(back);
  cg_free(text);
  cJSON_Delete(keys);
  /* nothing read: a header alone, which is no capture */
  text = cg_regfile_write(NULL, &len);
  CHECK(text && cg_regfile_parse(text, &back) == CG_ERR_PARSE);
  cg_free(text);
}

int main(void) {
  RUN(reg_write_reads_back);
  RUN(netsh_forms);
  RUN(local_addresses);
  RUN(reg_continuations_and_blobs);
  RUN(wininet_flags);
  RUN(proxy_lists);
  RUN(configured_proxy_wins);
  return test_finish("netparse");
}
