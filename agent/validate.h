/* `validate --profile NAME`: a go/no-go gate over one bundle. A profile is a list of requirements
 * on check results, their facts and the bundle; "pre-upgrade" is built in, more (or a replacement)
 * come from the configuration's "profiles". */
#ifndef CG_VALIDATE_H
#define CG_VALIDATE_H

#include <cjson/cJSON.h>

#include "cg.h"

#define CG_VALIDATE_LINE_MAX 2048 /* the Intune Remediations output limit */

/* The profile's definition (borrowed from the config or the built-in one; caller deletes *owned),
 * or NULL when there is none of that name. */
const cJSON *cg_profile_find(const cJSON *config_root, const char *name, cJSON **owned);
/* Names of every profile, comma-separated, into buf. */
void cg_profile_names(const cJSON *config_root, char *buf, size_t len);

/* Evaluates `profile` against `bundle`. *ready tells the verdict; `line` (CG_VALIDATE_LINE_MAX + 1
 * bytes) gets the one summary line naming the blocking reasons, at most CG_VALIDATE_LINE_MAX
 * characters. */
void cg_validate_eval(const cJSON *profile, const char *name, const cJSON *bundle, bool *ready, char *line,
                      size_t len);

#endif
