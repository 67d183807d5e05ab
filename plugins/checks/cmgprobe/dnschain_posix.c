/* CNAME chain with the resolver library (res_nquery), so one server can be asked (the lab). */
#include "dnschain.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"

int probe_dns_cname_chain(const char *host, const char *server, char chain[][256], int max, char *err, size_t errlen) {
  struct __res_state st;
  memset(&st, 0, sizeof(st));
  if (res_ninit(&st) != 0) {
    cg_snprintf(err, errlen, "the resolver could not be initialised");
    return -1;
  }
  if (server) {
    char addr[64];
    cg_strlcpy(addr, server, sizeof(addr));
    char *colon = strrchr(addr, ':');
    int64_t port = 53;
    if (colon) {
      *colon = '\0';
      if (!cg_parse_i64(colon + 1, &port) || port < 1 || port > 65535) {
        cg_snprintf(err, errlen, "dns_server '%s' is not IPv4-ADDRESS:PORT", server);
        res_nclose(&st);
        return -1;
      }
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
      cg_snprintf(err, errlen, "dns_server '%s' is not IPv4-ADDRESS:PORT", server);
      res_nclose(&st);
      return -1;
    }
    st.nsaddr_list[0] = sa;
    st.nscount = 1;
  }
  st.retrans = 2;
  st.retry = 1;
  int n = 0;
  char name[256];
  cg_strlcpy(name, host, sizeof(name));
  while (n < max) {
    unsigned char ans[4096];
    int len = res_nquery(&st, name, ns_c_in, ns_t_cname, ans, sizeof(ans));
    if (len < 0) break; /* no CNAME (NODATA) or no such name: the chain ends here */
    ns_msg msg;
    if (ns_initparse(ans, len, &msg) != 0) break;
    bool next = false;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
      ns_rr rr;
      if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_cname) continue;
      char target[256];
      if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr), target, sizeof(target)) < 0) continue;
      cg_strlcpy(chain[n++], target, 256);
      cg_strlcpy(name, target, sizeof(name));
      next = true;
      break;
    }
    if (!next) break;
  }
  res_nclose(&st);
  return n;
}
