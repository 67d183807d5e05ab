/* `validate --profile NAME`: a go/no-go gate over one bundle. A profile is data: a description and a
 * list of requirements on check results, their facts and the bundle, each blocking or only warning.
 * Built-in profiles are agent/profiles/NAME.json, embedded at build; the configuration's "profiles"
 * replace one of the same name, or extend one ("extends": NAME; a requirement with the id of an
 * inherited one replaces it, "drop" removes inherited ids). See docs/validate.md. */
#ifndef CG_VALIDATE_H
#define CG_VALIDATE_H

#include <cjson/cJSON.h>

#include "cg.h"
#include "profiles.h" /* the built-in profiles and cg_profile_is_builtin */

#define CG_VALIDATE_LINE_MAX 2048 /* the Intune Remediations output limit */

/* The profile `name` with what it extends merged in (caller deletes), or NULL with a sentence in err
 * ("no such profile; known: ..." or why it cannot be built). */
cJSON *cg_profile_resolve(const cJSON *config_root, const char *name, char *err, size_t errlen);
/* Names of every profile, built in and configured, comma-separated, into buf. */
void cg_profile_names(const cJSON *config_root, char *buf, size_t len);
/* Every profile: [{"name", "origin": "built in"|"configuration"|"configuration, extends X",
 * "description", "blocking": N, "warning": N}] (caller deletes). */
cJSON *cg_profile_catalogue(const cJSON *config_root);

/* Evaluates `profile` against `bundle`. *ready tells the verdict; `line` (CG_VALIDATE_LINE_MAX + 1
 * bytes) gets the one summary line: every unmet blocking requirement (or "and N more"), its count
 * matching what it lists, then the warnings; at most CG_VALIDATE_LINE_MAX characters. */
/* The gate as data, for --json and the bundle: {profile, verdict ("ready" | "not ready"), blocking[],
 * warnings[], not_checked[] (each {id, sentence}), line}; the line as cg_validate_eval writes it.
 * Caller deletes. */
cJSON *cg_validate_gate(const cJSON *profile, const char *name, const cJSON *bundle, bool *ready, char *line,
                        size_t len);
void cg_validate_eval(const cJSON *profile, const char *name, const cJSON *bundle, bool *ready, char *line, size_t len);

#endif
