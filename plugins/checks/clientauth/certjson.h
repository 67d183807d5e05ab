/* The capture form of LocalMachine\My: what
 *   Get-ChildItem Cert:\LocalMachine\My | Select-Object Subject,Issuer,Thumbprint,NotBefore,NotAfter,
 *     HasPrivateKey,@{n='EnhancedKeyUsageList';e={$_.EnhancedKeyUsageList.ObjectId}} | ConvertTo-Json
 * writes, in Windows PowerShell 5.1 ("\/Date(ms)\/" dates, UTF-16LE when redirected with >) and in
 * PowerShell 7 (ISO 8601 dates with their offset, UTF-8). One certificate is written as an object,
 * several as an array, none as nothing at all. EnhancedKeyUsageList may also be the objects
 * PowerShell shows without the calculated property ({FriendlyName, ObjectId}). */
#ifndef CLIENTAUTH_CERTJSON_H
#define CLIENTAUTH_CERTJSON_H

#include "platform/certstore.h"

/* text: decoded UTF-8. *certs (caller frees with cg_free) has every certificate read, chains not
 * built (chain = -1). An empty text is an empty store. CG_ERR_PARSE with a sentence in err when it
 * is not that JSON; CG_ERR_TOOBIG past CG_CERT_MAX certificates. */
int clientauth_certs_parse(const char *text, struct cg_cert_info **certs, size_t *count, char *err, size_t errlen);

/* The certificates as that JSON (an array, the dates in RFC 3339), with what no PowerShell capture
 * has: the chain Windows built on the device (CmgdiagChain: Trusted, Error, Root), which
 * clientauth_certs_parse reads back. What the agent writes for its judging half and a snapshot.
 * NULL when memory runs out; caller frees with cg_free. */
char *clientauth_certs_write(const struct cg_cert_info *certs, size_t count);

/* "\/Date(1706688000000)\/", "/Date(1706688000000+0100)/", "2024-01-31T08:00:00+01:00",
 * "2024-01-31T08:00:00.1234567Z", "2024-01-31 08:00:00" (taken as UTC) -> ms since the epoch. */
bool clientauth_parse_date(const char *s, int64_t *ms);

#endif
