/* Parsers for what admins capture of the ConfigMgr client's management point candidates
 * (docs/checks/mpcandidates.md): Get-CimInstance/Get-WmiObject | ConvertTo-Json, Format-List, Format-Table,
 * and `reg export` files for the client-state keys. Input is clean UTF-8. */
#ifndef CG_MPPARSE_H
#define CG_MPPARSE_H

#include <cjson/cJSON.h>

#include "cg.h"

/* One candidate row, as written: property name -> value (strings or numbers), in a cJSON object. */
enum mp_format { MP_FMT_UNKNOWN = 0, MP_FMT_JSON, MP_FMT_LIST, MP_FMT_TABLE, MP_FMT_REG };
const char *mp_format_name(enum mp_format f);

/* Detects the format of one captured file. */
enum mp_format mp_detect(const char *text);

/* Parses candidate rows (JSON, Format-List or Format-Table) into *rows, a cJSON array of objects
 * with the properties found (MP, Type, Index, Version, Capabilities, ...). CG_ERR_PARSE when the
 * text holds no row with an MP property. Caller deletes *rows. */
int mp_parse_rows(const char *text, enum mp_format fmt, cJSON **rows);

/* Parses a `reg export` text into an object {"HKEY_LOCAL_MACHINE\\KEY": {"Value": string|number}}.
 * Strings are unescaped, dword becomes a number, other types are kept as their text. */
int mp_parse_reg(const char *text, cJSON **keys);

/* "HOST/CCM_Proxy_MutualAuth/7205..." (any case, with or without https://) */
struct mp_string {
  char host[256];
  char proxy_kind[16]; /* "MutualAuth", "ServerAuth" or "" */
  char mp_id[32];      /* digits, "" when absent */
  bool is_cmg;
  bool truncated; /* Format-Table cut it ("..." or U+2026) */
};
void mp_parse_string(const char *mp, struct mp_string *out);

/* Capabilities XML: <Capabilities><Property Name="SSLState" Value="63"/>...</Capabilities>.
 * Never expands entities; input over 64 KiB is ignored. -1 when absent. */
void mp_parse_capabilities(const char *xml, int64_t *ssl_state, int64_t *auth_method);

#endif
