/* getaddrinfo on every platform (see resolve.h); the socket headers differ, nothing else. */
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#define gai_text gai_strerrorA /* WSAStartup: done by curl_global_init */
#else
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#define gai_text gai_strerror
#endif
#include <string.h>

#include "cg.h"
#include "resolve.h"

int cg_resolve(const char *host, char addrs[][64], int max, int *n, char *canon, size_t canonlen, char *err,
               size_t errlen) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_CANONNAME;
  *n = 0;
  canon[0] = '\0';
  int rc = getaddrinfo(host, NULL, &hints, &res);
  if (rc != 0) {
    cg_snprintf(err, errlen, "%s", gai_text(rc));
    return CG_ERR_IO;
  }
  for (struct addrinfo *ai = res; ai && *n < max; ai = ai->ai_next) {
    char buf[64] = "";
    const void *src = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                               : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
    if (!inet_ntop(ai->ai_family, src, buf, sizeof(buf))) continue;
    bool dup = false;
    for (int i = 0; i < *n; i++)
      dup |= !strcmp(addrs[i], buf);
    if (!dup) cg_strlcpy(addrs[(*n)++], buf, 64);
  }
  if (res && res->ai_canonname) cg_strlcpy(canon, res->ai_canonname, canonlen);
  freeaddrinfo(res);
  return CG_OK;
}
