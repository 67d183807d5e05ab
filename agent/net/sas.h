/* What a SAS URL grants, read from its query (sp=, se=): the agent needs to create or write blobs,
 * nothing else, and the SAS sits on every device (readable by users when it comes from Group
 * Policy). See docs/security.md. */
#ifndef CG_SAS_H
#define CG_SAS_H

#include <cjson/cJSON.h>

#include "cg.h"

/* CG_OK when the SAS grants only create/write/add and expires in more than 30 days; otherwise
 * CG_ERR_CONFIG and one sentence (several findings joined) in warn. Never prints the signature. */
int cg_sas_check(const char *url, int64_t now_ms, char *warn, size_t warnlen);

/* The value of the query parameter `name` of a URL (false when absent). */
bool cg_sas_param(const char *url, const char *name, char *out, size_t outlen);
/* A SAS expiry (se=, ISO 8601, URL-encoded or not) as ms since the epoch; false when unreadable. */
bool cg_sas_expiry(const char *se, int64_t *ms);
/* The soonest expiry of the configuration's Azure Blob outputs' SAS URLs (ms), or 0 when none says
 * one. Never the signature: only the se= time leaves this function. */
int64_t cg_sas_soonest_expiry(const cJSON *outputs);

#endif
