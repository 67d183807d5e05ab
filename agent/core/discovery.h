/* What one check hands to later checks of the same run, through the core rather than one plugin
 * reaching into another: typed values, one struct per key. A check declares the keys it provides
 * and needs (plugin.h); the runner runs providers first and copies what they handed over into the
 * run (runner.c). In the run's store the values are JSON (a test reads them as facts._discovery),
 * but no check sees that: it puts and gets the structs below. */
#ifndef CG_DISCOVERY_H
#define CG_DISCOVERY_H

#include "plugin.h"

/* The keys, as checks list them in needs / provides. */
#define CG_DISCOVERY_CMG_URLS "cmg_urls"   /* mpcandidates: struct cg_handover_cmg_urls */
#define CG_DISCOVERY_CMG_PROXY "cmg_proxy" /* cmgprobe: struct cg_handover_proxy */
#define CG_DISCOVERY_CMG_DATE "cmg_date"   /* cmgprobe: the CMG's Date header */
#define CG_DISCOVERY_AAD_STATE "aad_state" /* aadjoin: struct cg_handover_aad */
#define CG_DISCOVERY_AUTH_MODE "auth_mode" /* clientauth: struct cg_handover_auth */
#define CG_DISCOVERY_METERED "metered"     /* device: whether the connection is metered */

/* aadjoin: whether the client could use an Entra device token, and if not, why. */
struct cg_handover_aad {
  char join_type[32]; /* "azure_ad_joined", "hybrid_joined", "workplace_joined", "not_joined", ... */
  int entra_usable;   /* 1: yes; 0: no; -1: not known (the capture lacks what a token needs) */
  char tenant_id[64];
  char code[64];     /* the worst finding's code, or AAD_OK */
  char reason[1024]; /* its sentence, "" when there is none */
};

/* clientauth: how the client authenticates to the CMG. */
struct cg_handover_auth {
  char mode[8];        /* "pki", "entra", "token", "unknown" */
  bool usable;         /* that mode works (or, for an inferred PKI client, another one would) */
  bool recorded;       /* the client recorded it (false: inferred) */
  char thumbprint[48]; /* pki: the certificate the client would present; "" otherwise */
};

/* mpcandidates: the CMGs of the client's MP list, https://HOST/CCM_Proxy_* base URLs. */
#define CG_HANDOVER_MAX_URLS 16
struct cg_handover_cmg_urls {
  size_t count;
  char url[CG_HANDOVER_MAX_URLS][512];
};

/* cmgprobe: the proxy its requests took (cg_proxy_resolve's choice). */
struct cg_handover_proxy {
  char proxy[512]; /* as shown (credentials masked); "" when direct */
  char source[64];
  char detail[512];
};

/* Put: what this check hands over (replaces an earlier value). CG_OK, or CG_ERR_NOMEM. No-op when the
 * run keeps no store. Get: true and *out filled when a check of this run handed it over; false and
 * *out emptied (entra_usable -1) otherwise. */
int cg_handover_put_aad(const struct cg_env *env, const struct cg_handover_aad *v);
bool cg_handover_get_aad(const struct cg_env *env, struct cg_handover_aad *out);
int cg_handover_put_auth(const struct cg_env *env, const struct cg_handover_auth *v);
bool cg_handover_get_auth(const struct cg_env *env, struct cg_handover_auth *out);
int cg_handover_put_cmg_urls(const struct cg_env *env, const struct cg_handover_cmg_urls *v);
bool cg_handover_get_cmg_urls(const struct cg_env *env, struct cg_handover_cmg_urls *out);
int cg_handover_put_proxy(const struct cg_env *env, const struct cg_handover_proxy *v);
bool cg_handover_get_proxy(const struct cg_env *env, struct cg_handover_proxy *out);
int cg_handover_put_cmg_date(const struct cg_env *env, const char *date); /* get: only the shape of an HTTP date */
bool cg_handover_get_cmg_date(const struct cg_env *env, char *out, size_t outlen);
int cg_handover_put_metered(const struct cg_env *env, bool metered);
bool cg_handover_get_metered(const struct cg_env *env, bool *out);

#endif
