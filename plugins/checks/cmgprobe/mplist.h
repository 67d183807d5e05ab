/* The management point list a CMG (or an MP) answers to SMS_MP/.sms_aut?mplist (docs/domain.md, "CMG answers"):
 *   <MPList><MP Name="MP01" FQDN="mp01.corp" SiteCode="PS1"><Version>9128</Version>
 *     <Capabilities SchemaVersion="1.0"><Property Name="SSLState" Value="0"/></Capabilities></MP></MPList>
 * A small XML reader for exactly this: it never expands entities (a DOCTYPE is refused, so no
 * entity bomb or external entity can do anything), caps depth, size and MP count, and says what
 * is wrong with a body that is not an MP list. */
#ifndef CG_MPLIST_H
#define CG_MPLIST_H

#include <stddef.h>

#include "cg.h"

#define CG_MPLIST_MAX 64

struct mplist_mp {
  char name[256], fqdn[256], site_code[16], version[32], ssl_state[16];
};

struct mplist {
  struct mplist_mp mp[CG_MPLIST_MAX];
  size_t count;    /* stored */
  size_t total;    /* seen (more than CG_MPLIST_MAX are counted, not stored) */
  char error[160]; /* set when the body is not an MP list */
};

/* CG_OK with the list (count may be 0: an empty <MPList/>), or CG_ERR_PARSE with mpl->error. */
int mplist_parse(const char *body, size_t len, struct mplist *mpl);

#endif
