/* Name resolution through the system's resolver (getaddrinfo), as the client's own connections
 * resolve: the addresses of a host and its canonical name. */
#ifndef CG_PLATFORM_RESOLVE_H
#define CG_PLATFORM_RESOLVE_H

#include <stddef.h>

#define CG_RESOLVE_MAX 16

/* Fills addrs[0..*n) with the distinct addresses of `host` (IPv4 and IPv6 text) and `canon` with
 * its canonical name ("" when none). CG_OK, or CG_ERR_IO with the resolver's sentence in `err`. */
int cg_resolve(const char *host, char addrs[][64], int max, int *n, char *canon, size_t canonlen, char *err,
               size_t errlen);

#endif
