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

/* What the agent writes of the store it read (clientauth_certs_write) reads back to the same
 * certificates, with the chain Windows built, which no PowerShell capture has. */
TEST(the_agents_own_writing_reads_back) {
  struct cg_cert_info in[3];
  memset(in, 0, sizeof(in));
  for (int i = 0; i < 3; i++) {
    cg_snprintf(in[i].subject, sizeof(in[i].subject), "CN=pc%d.contoso.com, OU=Computers, DC=contoso", i);
    cg_strlcpy(in[i].issuer, "CN=Contoso Issuing CA \"2\", DC=contoso", sizeof(in[i].issuer));
    cg_snprintf(in[i].thumbprint, sizeof(in[i].thumbprint), "%040d", i);
    in[i].not_before_ms = 1700000000000LL + i * 1000;
    in[i].not_after_ms = 1800000000000LL;
    in[i].has_private_key = i - 1; /* -1, 0, 1 */
    in[i].chain = i - 1;           /* not built, trusted, not trusted */
  }
  cg_strlcpy(in[1].sans, "pc1.contoso.com, pc1", sizeof(in[1].sans));
  cg_strlcpy(in[1].ekus[0], "1.3.6.1.5.5.7.3.2", sizeof(in[1].ekus[0]));
  cg_strlcpy(in[1].ekus[1], "1.3.6.1.5.5.7.3.1", sizeof(in[1].ekus[1]));
  in[1].n_ekus = 2;
  cg_strlcpy(in[1].root, "CN=Contoso Root", sizeof(in[1].root));
  cg_strlcpy(in[2].chain_error, "A certificate chain could not be built to a trusted root authority.",
             sizeof(in[2].chain_error));
  char *text = clientauth_certs_write(in, 3), err[256] = "";
  CHECK(text != NULL);
  struct cg_cert_info *out = NULL;
  size_t n = 0;
  CHECK(clientauth_certs_parse(text ? text : "", &out, &n, err, sizeof(err)) == CG_OK);
  CHECK(n == 3);
  for (size_t i = 0; i < n && i < 3; i++) {
    CHECK_STR(out[i].subject, in[i].subject);
    CHECK_STR(out[i].issuer, in[i].issuer);
    CHECK_STR(out[i].thumbprint, in[i].thumbprint);
    CHECK_STR(out[i].sans, in[i].sans);
    CHECK(out[i].not_before_ms == in[i].not_before_ms && out[i].not_after_ms == in[i].not_after_ms);
    CHECK(out[i].has_private_key == in[i].has_private_key);
    CHECK(out[i].chain == in[i].chain);
    CHECK_STR(out[i].chain_error, in[i].chain_error);
    CHECK_STR(out[i].root, in[i].root);
    CHECK(out[i].n_ekus == in[i].n_ekus);
  }
  if (n >= 2) CHECK_STR(out[1].ekus[1], "1.3.6.1.5.5.7.3.1");
  cg_free(out);
  cg_free(text);
  /* an empty store is an empty list, read back as one */
  text = clientauth_certs_write(NULL, 0);
  CHECK(text && clientauth_certs_parse(text, &out, &n, err, sizeof(err)) == CG_OK && n == 0);
  cg_free(out);
  cg_free(text);
}

int main(void) {
  cg_json_init_hooks();
  RUN(dates_of_both_powershells);
  RUN(shapes);
  RUN(the_agents_own_writing_reads_back);
  RUN(not_that_json);
  return test_finish("certjson");
}
