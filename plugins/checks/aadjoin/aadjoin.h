/* The aadjoin check's model of a parsed dsregcmd output (shared by its facts and rules files). */
#ifndef CG_AADJOIN_H
#define CG_AADJOIN_H

#include <cjson/cJSON.h>

#include "dsreg.h"

enum tri { TRI_NULL = -1, TRI_NO = 0, TRI_YES = 1 };

struct aad_state {
  enum tri azure_ad_joined, domain_joined, enterprise_joined, workplace_joined, tpm_protected, prt;
  enum tri aad_recovery;
  const char *join_type; /* static string */
  const char *device_auth_status, *tenant_name, *executing_account, *user_context, *key_sign_test;
  char device_id[40], tenant_id[40]; /* lower-case GUIDs, "" when absent or not a GUID */
  int64_t cert_not_after_ms;         /* 0 when unknown */
  char cert_not_after[40];           /* RFC 3339, "" when unknown */
  int64_t prt_update_ms;
  char prt_update[40];
  bool system_context; /* output produced as SYSTEM: the user PRT is not visible */
  bool sso_section;    /* SSO State present */
  size_t work_accounts;
  /* hybrid-join diagnostics */
  const char *error_phase, *client_error, *server_error, *server_message, *first_failed_test;
  char first_failed_value[128];
  /* user PRT attempt */
  const char *prt_attempt_status, *prt_server_error_desc, *prt_server_error_code, *prt_http_error;
};

/* Parses "2019-01-24 19:15:26.000 UTC", "2019-01-24T19:15:26Z" and the like into ms since the
 * epoch and RFC 3339 (buffer >= 32). */
bool aad_parse_time(const char *s, int64_t *ms, char *rfc, size_t rfclen);
/* Reads the model from the document. */
void aad_model(const struct dsreg_doc *doc, struct aad_state *st);
/* Adds the documented facts (docs/checks/aadjoin.md) and the raw sections to `facts`. */
int aad_facts(const struct dsreg_doc *doc, const struct aad_state *st, cJSON *facts);

#endif
