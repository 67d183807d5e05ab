/* `reg export` files (REGEDIT4 / "Windows Registry Editor Version 5.00"), the form admins capture
 * registry keys in, and the same shape for live reads (platform/wmi.h): one parser for every check
 * whose --input takes registry captures. Input is clean UTF-8 (decode UTF-16 first, text.h). */
#ifndef CG_REGFILE_H
#define CG_REGFILE_H

#include <cjson/cJSON.h>

#include "cg.h"

/* Parses into *keys: {"HKEY_LOCAL_MACHINE\\KEY": {"Value": ...}} with key names as written (look
 * them up with cg_regfile_get, which ignores case and hive abbreviations). REG_SZ values become
 * strings (unescaped), dword:... numbers, and everything else (hex:..., hex(2):..., hex(b):...)
 * the text after '=', joined over '\' continuation lines without blanks ("hex:46,00,00,00").
 * Deletion entries ([-KEY], "Value"=-) are ignored. At most 4,096 keys and 256 values per key.
 * CG_ERR_PARSE when no key with a value is in the text. Caller deletes *keys. */
int cg_regfile_parse(const char *text, cJSON **keys);

/* Whether text (after leading white space) starts like a `reg export` file. */
bool cg_regfile_is_export(const char *text);
/* Parses text and adds its keys to *into (created when NULL): the captures of several exports read
 * as one registry. A text that is no export adds nothing. CG_OK, or CG_ERR_NOMEM. */
int cg_regfile_merge(cJSON **into, const char *text);

/* The value `value` of `key` (e.g. "HKLM\\SOFTWARE\\X" or "HKEY_USERS\\S-1-5-18\\..."), both
 * matched case-insensitively; "@" is the default value. Borrowed; NULL when absent. */
const cJSON *cg_regfile_get(const cJSON *keys, const char *key, const char *value);

/* The HKLM value `value` of `key` (written without the hive) as text: from `capture` (the keys of
 * cg_regfile_parse/merge; NULL when nothing was captured) when `offline`, else from the live
 * registry (platform/wmi.h). Strings as they are (other types arrive as the export's text), numbers
 * in decimal. Returns whether the value exists; out is "" when it does not. */
bool cg_regfile_hklm_text(bool offline, const cJSON *capture, const char *key, const char *value, char *out,
                          size_t outlen);

/* Notes in `keys` (that shape, for cg_regfile_write) that HKLM\key exists and, when `value` is not
 * NULL, that its value reads `text` (kept as text: the export's own form for a value other than
 * REG_SZ, as cg_regfile_hklm_text gives it). What was noted first stays. */
void cg_regfile_keep(cJSON *keys, const char *key, const char *value, const char *text);

/* The bytes of a "hex:..." value into buf; returns how many (at most buflen), -1 when not hex. */
long cg_regfile_hex(const char *text, unsigned char *buf, size_t buflen);

/* Canonical spelling of a key name with the hive written out in full (HKLM -> HKEY_LOCAL_MACHINE,
 * HKU -> HKEY_USERS, HKCU -> HKEY_CURRENT_USER), into out. */
void cg_regfile_canonical(const char *key, char *out, size_t outlen);

/* The keys (the shape cg_regfile_parse gives, or a live read made in that shape) as a `reg export`
 * file that cg_regfile_parse reads back to the same keys and text values: what `cmgdiag collect`
 * writes for a check that read the registry. A key without values is written as its header alone; a
 * line break inside a live REG_SZ is dropped (an export's line ends there; no parsed value has one).
 * NULL when memory runs out; caller frees. */
char *cg_regfile_write(const cJSON *keys, size_t *len);

#endif
