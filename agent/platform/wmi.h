/* WMI queries (Windows, through COM) and registry reads. On other platforms every call answers
 * CG_ERR_UNSUPPORTED, which checks turn into a `skip`. */
#ifndef CG_PLATFORM_WMI_H
#define CG_PLATFORM_WMI_H

#include <cjson/cJSON.h>

#include "cg.h"

struct cg_wmi_error {
  unsigned long hresult; /* the COM/WMI HRESULT, 0 when none */
  char message[256];     /* one sentence naming the namespace or class */
};

/* Well-known WMI HRESULTs (wbemcli.h) for the cases seen in the field. */
#define CG_WBEM_E_INVALID_NAMESPACE 0x8004100EUL /* namespace missing: ConfigMgr client not installed */
#define CG_WBEM_E_INVALID_CLASS 0x80041010UL
#define CG_WBEM_E_ACCESS_DENIED 0x80041003UL
#define CG_E_ACCESSDENIED 0x80070005UL

/* Runs `wql` in `ns` (e.g. "root\\ccm\\LocationServices"). *rows is a JSON array of objects,
 * property name -> string/number/bool/null (arrays as text). Non-system properties only.
 * CG_ERR_NOTFOUND: namespace or class missing; CG_ERR_ACCESS; CG_ERR_TIMEOUT; CG_ERR_IO: anything
 * else (repository broken); CG_ERR_UNSUPPORTED off Windows. Caller deletes *rows. */
int cg_wmi_query(const char *ns, const char *wql, int64_t timeout_ms, cJSON **rows, struct cg_wmi_error *err);

/* HKLM values. *value: a string (REG_SZ/REG_EXPAND_SZ) or number (REG_DWORD) as JSON.
 * CG_ERR_NOTFOUND when the key or value does not exist. */
int cg_registry_read_hklm(const char *key, const char *value, cJSON **out);

/* A value under a full key name with its hive ("HKEY_LOCAL_MACHINE\\...", "HKEY_USERS\\S-1-5-18\\...",
 * "HKEY_CURRENT_USER\\...", or HKLM/HKU/HKCU), 64-bit view. *out has the shape a `reg export` file
 * gives (regfile.h): a string (REG_SZ, REG_EXPAND_SZ unexpanded), a number (REG_DWORD), or the
 * export's text for other types ("hex:46,00,...", "hex(b):..."). Values over 64 KiB: CG_ERR_TOOBIG.
 * CG_ERR_NOTFOUND, CG_ERR_ACCESS, CG_ERR_UNSUPPORTED off Windows. Caller deletes *out. */
int cg_registry_read(const char *key, const char *value, cJSON **out);

/* Replaces HKLM\\key with these string values (a JSON object of name -> string; other types are
 * skipped): the key is emptied first, so a value that is no longer reported does not linger.
 * CG_ERR_ACCESS without administrator rights; CG_ERR_UNSUPPORTED off Windows. */
int cg_registry_replace_hklm(const char *key, const cJSON *values);

/* Names of the subkeys of a full key name (as above), at most 1,024. Free with cg_dir_list_free. */
int cg_registry_subkeys(const char *key, char ***names, size_t *count);

#endif
