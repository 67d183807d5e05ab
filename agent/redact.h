/* Secret redaction: SAS tokens, bearer tokens and passwords never reach a log, a bundle, an error
 * message or `config check` output. */
#ifndef CG_REDACT_H
#define CG_REDACT_H

#include <cjson/cJSON.h>

#include "cg.h"

#define CG_REDACTED "<redacted>"

/* A config key whose value is a secret: *sas_url, *token*, *secret*, *password* (any case). */
bool cg_is_secret_key(const char *key);
/* Copy of `text` with the value of every `sig=` URL query parameter and every
 * "Bearer <token>" replaced by <redacted>. Caller frees; NULL on out of memory. */
char *cg_redact_text(const char *text);
/* In place: secret keys' string values become <redacted>, other strings get cg_redact_text. */
int cg_redact_json(cJSON *item);

#endif
