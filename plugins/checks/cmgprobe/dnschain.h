/* The CNAME chain of a name: a CMG with a custom service name (cmg.contoso.com) must be a public
 * CNAME to its Azure deployment name (docs/checks/cmgprobe.md); the chain shows where the name leads. */
#ifndef CG_DNSCHAIN_H
#define CG_DNSCHAIN_H

#include <stddef.h>

#define PROBE_DNS_MAX_CHAIN 8

/* Follows CNAME records from `host`, filling chain[0..n) with the targets in order. `server` is
 * "ADDRESS:PORT" to ask one server (the lab), or NULL for the system's resolver. Returns the number
 * of CNAMEs (0: the name has none), or -1 with `err` when the lookup itself failed. */
int probe_dns_cname_chain(const char *host, const char *server, char chain[][256], int max, char *err, size_t errlen);

#endif
