/* Secret redaction: SAS tokens, bearer tokens, URL user information and passwords never reach a
 * log, a bundle, an error message or `config check` output; text from a server or a bundle never
 * reaches a terminal with its escape sequences. One routine for all of them (docs/security.md). */
#ifndef CG_REDACT_H
#define CG_REDACT_H

#include <cjson/cJSON.h>

#include "cg.h"

#define CG_REDACTED "<redacted>"

/* A config key whose value is a secret: *sas_url, *token*, *secret*, *password*, *api_key* and
 * *api-key* (any case). */
bool cg_is_secret_key(const char *key);
/* Copy of `text` with these replaced by <redacted>:
 *   - the user information of a URL ("http://user:pass@proxy" -> "http://<redacted>@proxy");
 *   - the value of password, passwd, pwd, secret, token, api-key and of any name ending in
 *     password, secret, token, -key or _key, after "=" (query parameter, "--api-key=", "name=");
 *   - the value of the query parameters sig, code and key (after ?, & or ;);
 *   - a "Bearer <token>".
 * Caller frees; NULL on out of memory. */
char *cg_redact_text(const char *text);
/* Only every occurrence of one of `secrets` (literal values of at least 4 bytes; NULL-terminated) in
 * the `len` bytes of data, which may hold anything (NUL bytes too): no other pattern, no parsing.
 * What a child process printed, before anyone else reads it. *outlen: the result's length (it is
 * NUL-terminated too). Caller frees; NULL on out of memory. */
char *cg_redact_literals(const char *data, size_t len, const char *const *secrets, size_t *outlen);
/* The same as cg_redact_text, and every occurrence of one of `secrets` (NULL-terminated list of
 * literal values of at least 4 bytes, e.g. the secret-looking environment a child process was given). */
char *cg_redact_text_with(const char *text, const char *const *secrets);
/* In place: secret keys' string values become <redacted>, other strings get cg_redact_text. */
int cg_redact_json(cJSON *item);
int cg_redact_json_with(cJSON *item, const char *const *secrets);

/* Removes, in place, C0 controls but tab and newline, DEL, C1 controls and whole CSI escape
 * sequences, so that text a server or a bundle provided cannot drive the terminal or forge log
 * lines. Returns how many were removed. */
size_t cg_strip_controls(char *s);
/* Redacted and stripped copy for a human reader (console, log). Caller frees; NULL on OOM. */
char *cg_display_text(const char *text);
/* cg_strip_controls on every string of a JSON tree (before printing it for a human). */
void cg_display_json(cJSON *item);

#endif
