/* The MP list reader: real answers, garbage, truncation, huge input, wrong encodings, entities
 * (never expanded), depth and count caps. */
#include <stdlib.h>

#include "mplist.h"
#include "test.h"

static struct mplist m;

static int parse(const char *s) { return mplist_parse(s, strlen(s), &m); }

TEST(observed_answers) {
  CHECK(parse("<MPList><MP Name=\"CMC.CORP.LOCAL\" FQDN=\"CMC.corp.local\"><Version>9128</Version>"
              "<Capabilities SchemaVersion=\"1.0\"><Property Name=\"SSLState\" Value=\"0\"/></Capabilities></MP>"
              "</MPList>") == CG_OK);
  CHECK(m.count == 1 && m.total == 1);
  CHECK_STR(m.mp[0].name, "CMC.CORP.LOCAL");
  CHECK_STR(m.mp[0].fqdn, "CMC.corp.local");
  CHECK_STR(m.mp[0].version, "9128");
  CHECK_STR(m.mp[0].ssl_state, "0");
  /* MPLIST1&<site> adds SiteCode; older builds write an empty Capabilities; two MPs; whitespace */
  CHECK(parse("<?xml version=\"1.0\"?>\r\n<MPList>\r\n <MP Name='A' FQDN='a.x' SiteCode='PS1'>\r\n"
              "  <Version> 9040 </Version><Capabilities SchemaVersion=\"1.0\"/></MP>\r\n"
              " <MP Name=\"B\" FQDN=\"b.x\"/></MPList>\r\n") == CG_OK);
  CHECK(m.count == 2);
  CHECK_STR(m.mp[0].site_code, "PS1");
  CHECK_STR(m.mp[0].version, "9040");
  CHECK_STR(m.mp[1].fqdn, "b.x");
  CHECK(parse("<MPList></MPList>") == CG_OK && m.count == 0);
  CHECK(parse("<MPList/>") == CG_OK && m.count == 0);
  CHECK(parse("\xEF\xBB\xBF<MPLIST><MP NAME=\"x\" fqdn=\"y\"/></MPLIST>") == CG_OK && m.count == 1);
  CHECK_STR(m.mp[0].fqdn, "y");
}

TEST(entities_are_never_expanded) {
  CHECK(parse("<MPList><MP Name=\"a&amp;b&#65;&#x42;&custom;\" FQDN=\"f\"/></MPList>") == CG_OK);
  CHECK_STR(m.mp[0].name, "a&bAB&custom;");
  CHECK(parse("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><MPList/>") == CG_ERR_PARSE);
  CHECK_CONTAINS(m.error, "DOCTYPE");
  CHECK(parse("<MPList><!ENTITY x SYSTEM \"file:///etc/passwd\"></MPList>") == CG_ERR_PARSE);
  CHECK(parse("<MPList><MP Name=\"&#0;&#10;x\" FQDN=\"y\"/></MPList>") == CG_OK); /* control refs dropped */
  CHECK(strchr(m.mp[0].name, '\n') == NULL);
}

TEST(garbage_and_truncation) {
  static const char *const bad[] = {"",
                                    "   ",
                                    "not xml",
                                    "<html><body>Sign in</body></html>",
                                    "<MPList>",
                                    "<MPList><MP Name=\"x",
                                    "<MPList><MP Name=x/></MPList>",
                                    "<MPList></MP>",
                                    "<MPList></MPList><MPList/>",
                                    "<MPList/>trailing",
                                    "<MPList><!-- unterminated",
                                    "<MPList><![CDATA[x",
                                    "<",
                                    "<>",
                                    "<MPList><MP Name=\"<\"/></MPList>",
                                    "<MPList><MP Name\"x\"/></MPList>"};
  for (size_t i = 0; i < CG_ARRAY_LEN(bad); i++) {
    CHECK(parse(bad[i]) == CG_ERR_PARSE);
    CHECK(m.error[0] != '\0');
  }
  CHECK(parse("<html><body>Sign in</body></html>") == CG_ERR_PARSE);
  CHECK_CONTAINS(m.error, "not <MPList>");
  CHECK(parse("<MPList><MP Name=\"x\" FQDN=\"y\">") == CG_ERR_PARSE);
  CHECK_CONTAINS(m.error, "truncated");
  const char u16[] = "\xFF\xFE<\0M\0P\0";
  CHECK(mplist_parse(u16, sizeof(u16) - 1, &m) == CG_ERR_PARSE);
  CHECK_CONTAINS(m.error, "UTF-16");
  /* every prefix of a real answer is refused cleanly or parsed */
  const char *real = "<MPList><MP Name=\"A\" FQDN=\"a\"><Version>1</Version></MP></MPList>";
  for (size_t l = 0; l < strlen(real); l++)
    CHECK(mplist_parse(real, l, &m) == CG_ERR_PARSE);
}

TEST(caps) {
  /* depth */
  char deep[2000] = "<MPList>";
  size_t dl = strlen(deep);
  for (int i = 0; i < 40; i++, dl += 3)
    memcpy(deep + dl, "<a>", 4);
  CHECK(parse(deep) == CG_ERR_PARSE);
  CHECK_CONTAINS(m.error, "nested too deeply");
  /* count: more MPs than stored are counted */
  struct cg_buf b;
  cg_buf_init(&b, 1u << 20);
  cg_buf_puts(&b, "<MPList>");
  for (int i = 0; i < 200; i++)
    cg_buf_printf(&b, "<MP Name=\"MP%d\" FQDN=\"mp%d.x\"/>", i, i);
  cg_buf_puts(&b, "</MPList>");
  CHECK(mplist_parse(b.data, b.len, &m) == CG_OK);
  CHECK(m.count == CG_MPLIST_MAX && m.total == 200);
  cg_buf_free(&b);
  /* huge: a 5 MB answer is refused without reading it */
  size_t n = 5u << 20;
  char *big = malloc(n);
  memset(big, ' ', n);
  CHECK(mplist_parse(big, n, &m) == CG_ERR_PARSE);
  CHECK_CONTAINS(m.error, "more than an MP list");
  /* long attribute values are cut, not overflowed */
  memcpy(big, "<MPList><MP Name=\"", 18);
  memset(big + 18, 'x', 100000);
  memcpy(big + 18 + 100000, "\" FQDN=\"f\"/></MPList>", 21);
  CHECK(mplist_parse(big, 18 + 100000 + 21, &m) == CG_OK);
  CHECK(strlen(m.mp[0].name) == sizeof(m.mp[0].name) - 1);
  free(big);
}

int main(void) {
  RUN(observed_answers);
  RUN(entities_are_never_expanded);
  RUN(garbage_and_truncation);
  RUN(caps);
  return test_finish("mplist");
}
