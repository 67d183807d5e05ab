/* What a setting must mean, beyond its JSON type (plugin.h, cg_config_map.meaning): the checks a
 * configuration meets before `config check` or `setup` calls it good. Each returns false with a
 * sentence that names the fix. */
#ifndef CG_MEANING_H
#define CG_MEANING_H

#include <cjson/cJSON.h>

#include "cg.h"

/* https://HOST[:PORT][/...]: a name, no user information, no spaces. */
bool cg_meaning_https_url(const cJSON *v, char *why, size_t len);
/* The same, or http:// to a loopback address (a local emulator or relay). */
bool cg_meaning_https_or_loopback(const cJSON *v, char *why, size_t len);
/* Every string of a list is an https URL. */
bool cg_meaning_https_urls(const cJSON *v, char *why, size_t len);
/* An Azure Blob container SAS URL that can upload: https (or loopback http), a signature, create or
 * write permission (when it says its permissions), not expired. */
bool cg_meaning_upload_sas(const cJSON *v, char *why, size_t len);
/* A list whose first element is the full path of a program (exec's argv): commands run without a
 * shell or a PATH search. Whether it exists is the check's to say (it may be deployed later);
 * `config check` and `setup` ask it (the check's init with trigger "config"). */
bool cg_meaning_absolute_program(const cJSON *v, char *why, size_t len);
/* A GUID (an Entra tenant ID), xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx. */
bool cg_meaning_guid(const cJSON *v, char *why, size_t len);
/* curl --resolve entries: HOST:PORT:ADDRESS[,ADDRESS], a port from 1 to 65535, IP addresses. */
bool cg_meaning_resolve_entries(const cJSON *v, char *why, size_t len);
/* A CMG URL that names a management point (/CCM_Proxy_MutualAuth/<id> or /CCM_Proxy_ServerAuth/<id>). */
bool cg_cmg_url_has_mp_id(const char *url);
/* The warning for a CMG URL without one (config check, setup), a sentence without a final period. */
void cg_cmg_url_warning(const char *url, char *out, size_t len);
/* An absolute path (a file that may not exist yet is fine). */
bool cg_meaning_absolute_path(const cJSON *v, char *why, size_t len);

#endif
