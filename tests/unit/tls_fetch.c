/* tls_fetch URL CA_FILE|- [ROOT_DER_TO_ADD_TO_STORE]
 * One GET through cg_http_tls_setup; prints "curl=N" and exits with curl's result code (0 ok,
 * 60 untrusted / name mismatch). With a third argument (Windows only), first adds that root
 * certificate to the current user's ROOT store, to prove the store is trusted. */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "platform/fs.h"
#include "platform/sys.h"

/* store_add_win32.c / store_add_posix.c */
int add_root_to_store(const void *der, size_t len);

static size_t sink(char *p, size_t s, size_t n, void *u) {
  (void)p;
  (void)u;
  return s * n;
}

int main(int argc, char **argv) {
  cg_platform_args(&argc, &argv);
  if (argc < 3) return 2;
  if (argc > 3) {
    char *der = NULL;
    size_t len = 0;
    if (cg_file_read(argv[3], 65536, &der, &len) != CG_OK || add_root_to_store(der, len) != 0) {
      fprintf(stderr, "cannot add %s to the certificate store\n", argv[3]);
      return 3;
    }
    cg_free(der);
  }
  cg_http_global_init();
  CURL *h = curl_easy_init();
  char err[512] = "", cerr[CURL_ERROR_SIZE] = "";
  if (!h || cg_http_tls_setup(h, strcmp(argv[2], "-") ? argv[2] : NULL, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "setup: %s\n", err);
    return 4;
  }
  curl_easy_setopt(h, CURLOPT_URL, argv[1]);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
  CURLcode c = curl_easy_perform(h);
  printf("curl=%d %s\n", (int)c, cerr);
  curl_easy_cleanup(h);
  return (int)c;
}
