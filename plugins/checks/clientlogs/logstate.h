/* The clientlogs check's view of the logs as a state, not a history: which server a log line is
 * about (its target), whether that server is the CMG or an intranet one, and what is kept from
 * one cycle to the next (failures still open, the last success per log and server, when CMG
 * traffic was last seen). See docs/checks/clientlogs.md, "State, not history". */
#ifndef CG_CLIENTLOGS_LOGSTATE_H
#define CG_CLIENTLOGS_LOGSTATE_H

#include <cjson/cJSON.h>

#include "cg.h"

#define LS_HOST 256
/* Servers and successes kept per cycle: a bound that keeps each line's work constant. */
#define LS_MAX_SERVERS 256

/* What a line's URL path says it is about: the two CMG proxy paths, content (the CMG's
 * /downloadrestservice.svc/, a DP's SMS_DP_ share, CMG storage), another path, or no path seen. */
enum ls_kind { LS_KIND_NONE = 0, LS_KIND_MUTUALAUTH, LS_KIND_SERVERAUTH, LS_KIND_CONTENT, LS_KIND_OTHER };
const char *ls_kind_name(enum ls_kind k);

/* The server a message names: a URL (https://HOST/...), "Host=HOST," (CCMHTTP) or a bare
 * "HOST/CCM_Proxy_..." (LocationServices, CcmMessaging), and what its path is about. False when
 * the message names none. Linear in len. */
bool ls_target_kind(const char *msg, size_t len, char host[LS_HOST], enum ls_kind *kind);
/* The same; cmg is true for a path only a CMG serves (CCM_Proxy_, /downloadrestservice.svc/). */
bool ls_target(const char *msg, size_t len, char host[LS_HOST], bool *cmg);

/* Whether a host is an internet service of the CMG: named with a CCM_Proxy_ or CMG content path in
 * the logs, in the client's MP list or CMGFQDNs (`cmg_hosts`, lower case), or an Azure name
 * (cloudapp, blob storage for CMG content). Case-insensitive. */
bool ls_is_cmg_host(const char *host, const cJSON *cmg_hosts);

/* Room for one more element of a growing array (doubles its capacity when full); false on OOM. */
bool ls_grow(void **items, size_t *alloc, size_t count, size_t first, size_t size);

/* ---- what a success resolves (docs/checks/clientlogs.md, "What a success resolves") ----------------
 * A success is kept by the log it is in, the server it names and its operation key: the
 * signature's "op" or the path kind of its URL ("mutualauth", "serverauth", "content", "other";
 * "" when the line names a server but no path). A failure is resolved by a later success
 *   - with the same server, in any log, when the failure is a connectivity failure;
 *   - with the same server and the same operation key, in any log;
 *   - with the same server in the same log, when the failure's line named no path.
 * A success that names no server is never kept: it resolves nothing. */
struct ls_success {
  char log[128], host[LS_HOST], op[16];
  int64_t ms;
};
struct ls_seen {
  char host[LS_HOST];
  int64_t ms;
};
struct ls_model {
  struct ls_success *ok;
  size_t nok, aok;
  struct ls_seen *seen; /* every server a line named, with the newest time: CMG traffic is decided at the end */
  size_t nseen, aseen;
  int64_t kept_cmg_ms; /* the last CMG traffic an earlier cycle saw */
};

void ls_add_success(struct ls_model *m, const char *log, const char *host, const char *op, int64_t ms);
void ls_saw(struct ls_model *m, const char *host, int64_t ms);
/* The newest line about a CMG host, over every log whatever their order (0: none). */
int64_t ls_last_cmg(const struct ls_model *m, const cJSON *cmg_hosts);
/* When a later success resolved the failure (its time), or 0. */
int64_t ls_resolved_at(const struct ls_model *m, const char *log, const char *host, const char *op, bool connectivity,
                       int64_t last_ms);
/* Kept between cycles: successes and servers seen at or after min_ms. */
void ls_model_load(struct ls_model *m, const cJSON *kept, int64_t min_ms);
void ls_model_save(const struct ls_model *m, const cJSON *cmg_hosts, cJSON *kept);
void ls_model_free(struct ls_model *m);

#endif
