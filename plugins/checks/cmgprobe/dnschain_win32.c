/* CNAME chain with DnsQuery_A (the Windows DNS client, as the ConfigMgr client resolves). */
#include "dnschain.h"

#include <windows.h>
#include <windns.h>

#include "cg.h"

int probe_dns_cname_chain(const char *host, const char *server, char chain[][256], int max, char *err, size_t errlen) {
  (void)err;
  (void)errlen;
  (void)server; /* DnsQuery asks only port 53 servers: the lab's server setting is for POSIX tests */
  int n = 0;
  char name[256];
  cg_strlcpy(name, host, sizeof(name));
  while (n < max) {
    PDNS_RECORDA rec = NULL;
    if (DnsQuery_A(name, DNS_TYPE_CNAME, DNS_QUERY_STANDARD, NULL, (PDNS_RECORD *)&rec, NULL) != 0 || !rec) break;
    bool next = false;
    for (PDNS_RECORDA r = rec; r; r = r->pNext)
      if (r->wType == DNS_TYPE_CNAME && r->Data.CNAME.pNameHost && !cg_strcasecmp(r->pName, name)) {
        cg_strlcpy(chain[n++], r->Data.CNAME.pNameHost, 256);
        cg_strlcpy(name, r->Data.CNAME.pNameHost, sizeof(name));
        next = true;
        break;
      }
    DnsRecordListFree((PDNS_RECORD)rec, DnsFreeRecordList);
    if (!next) break;
  }
  return n;
}
