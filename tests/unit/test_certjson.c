/* The LocalMachine\My capture parser of clientauth: both PowerShell forms, the shapes ConvertTo-Json
 * gives for zero, one and many certificates, dates, and what is not that JSON. */
#include <stdlib.h>

#include "certjson.h"
#include "test.h"

TEST(dates_of_both_powershells) {
  int64_t ms = 0;
  CHECK(clientauth_parse_date("\\/Date(1768464000000)\\/", &ms) && ms == 1768464000000LL);
  CHECK(clientauth_parse_date("/Date(1768464000000)/", &ms) && ms == 1768464000000LL);
  CHECK(clientauth_parse_date("/Date(1768464000000+0100)/", &ms) && ms == 1768464000000LL);
  CHECK(clientauth_parse_date("2026-01-15T09:00:00+01:00", &ms) && ms == 1768464000000LL);
  CHECK(clientauth_parse_date("2026-01-15T09:00:00.1234567+01:00", &ms) && ms == 1768464000123LL);
  CHECK(clientauth_parse_date("2026-01-15T08:00:00Z", &ms) && ms == 1768464000000LL);
  CHECK(clientauth_parse_date("2026-01-15 08:00:00", &ms) && ms == 1768464000000LL);
  CHECK(clientauth_parse_date("2026-01-15T03:00:00-05:00", &ms) && ms == 1768464000000LL);
  CHECK(!clientauth_parse_date("15.01.2026 09:00:00", &ms));
  CHECK(!clientauth_parse_date("/Date(abc)/", &ms));
  CHECK(!clientauth_parse_date("2026-13-01", &ms));
  CHECK(!clientauth_parse_date(NULL, &ms));
}

static const char one[] = "{\"Subject\": \"CN=pc1\", \"Issuer\": \"CN=CA\", \"Thumbprint\": \"ab12\", "
                          "\"NotBefore\": \"\\/Date(1768464000000)\\/\", \"NotAfter\": \"2027-01-15T08:00:00Z\", "
                          "\"HasPrivateKey\": true, \"EnhancedKeyUsageList\": \"1.3.6.1.5.5.7.3.2\"}";

TEST(shapes) {
  struct cg_cert_info *c = NULL;
  size_t n = 9;
  char err[256];
  CHECK(clientauth_certs_parse("", &c, &n, err, sizeof(err)) == CG_OK && n == 0 && !c); /* empty store */
  CHECK(clientauth_certs_parse(" \r\n", &c, &n, err, sizeof(err)) == CG_OK && n == 0);
  CHECK(clientauth_certs_parse("[]", &c, &n, err, sizeof(err)) == CG_OK && n == 0);
  CHECK(clientauth_certs_parse(one, &c, &n, err, sizeof(err)) == CG_OK && n == 1);
  if (n == 1) {
    CHECK_STR(c[0].thumbprint, "AB12"); /* upper-case, as CryptoAPI gives it */
    CHECK(c[0].has_private_key == 1 && c[0].n_ekus == 1 && c[0].chain == -1);
    CHECK_STR(c[0].ekus[0], "1.3.6.1.5.5.7.3.2");
  }
  cg_free(c);
  char *arr = cg_asprintf("[%s, {\"Subject\": \"CN=x\", \"Thumbprint\": \"CD\", \"NotBefore\": \"2026-01-01\", "
                          "\"NotAfter\": \"2027-01-01\", \"EnhancedKeyUsageList\": [{\"FriendlyName\": \"Client "
                          "Authentication\", \"ObjectId\": \"1.3.6.1.5.5.7.3.2\"}, \"1.3.6.1.5.5.7.3.1\"]}]",
                          one);
  CHECK(clientauth_certs_parse(arr, &c, &n, err, sizeof(err)) == CG_OK && n == 2);
  if (n == 2) CHECK(c[1].n_ekus == 2 && c[1].has_private_key == -1);
  cg_free(c);
  cg_free(arr);
}

TEST(not_that_json) {
  struct cg_cert_info *c = NULL;
  size_t n = 0;
  char err[256] = "";
  CHECK(clientauth_certs_parse("Subject : CN=pc1", &c, &n, err, sizeof(err)) == CG_ERR_PARSE);
  CHECK_CONTAINS(err, "not JSON");
  CHECK(clientauth_certs_parse("{\"Subject\": \"CN=pc1\"}", &c, &n, err, sizeof(err)) == CG_ERR_PARSE);
  CHECK_CONTAINS(err, "Thumbprint");
  CHECK(clientauth_certs_parse("[{\"Thumbprint\": \"a\", \"NotBefore\": \"x\", \"NotAfter\": \"y\"}]", &c, &n, err,
                               sizeof(err)) == CG_ERR_PARSE);
  CHECK(clientauth_certs_parse("42", &c, &n, err, sizeof(err)) == CG_ERR_PARSE);
  /* every truncation of a real capture is refused or read, never a crash */
  size_t len = strlen(one);
  for (size_t i = 0; i < len; i++) {
    char *cut = cg_strndup(one, i);
    int rc = clientauth_certs_parse(cut, &c, &n, err, sizeof(err));
    CHECK(rc == CG_OK || rc == CG_ERR_PARSE);
    if (rc == CG_OK) cg_free(c);
    cg_free(cut);
  }
  /* more certificates than a store holds */
  struct cg_buf b;
  cg_buf_init(&b, 8 << 20);
  cg_buf_puts(&b, "[");
  for (int i = 0; i < CG_CERT_MAX + 1; i++)
    cg_buf_printf(&b, "%s%s", i ? "," : "", one);
  cg_buf_puts(&b, "]");
  CHECK(clientauth_certs_parse(b.data, &c, &n, err, sizeof(err)) == CG_ERR_TOOBIG);
  cg_buf_free(&b);
}

int main(void) {
  cg_json_init_hooks();
  RUN(dates_of_both_powershells);
  RUN(shapes);
  RUN(not_that_json);
  return test_finish("certjson");
}
