/* What a Group Policy value under HKLM\\SOFTWARE\\Policies\\cmgdiag means for the configuration:
 * the core's own values (ConfigJson, IntervalSeconds, JitterSeconds, LogLevel) and those the
 * plugins declare (plugin.h, cg_policy_value: CmgUrl, SasUrl). */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include <cjson/cJSON.h>

#include "cg.h"

/* Reads the policy values and applies them over `root` (the merged configuration): ConfigJson is
 * merged first, then the single values win. `applied` gets the names that were applied, comma-
 * separated. CG_ERR_CONFIG with a sentence naming the value in err. No-op off Windows. */
int cg_policy_apply(cJSON *root, char *applied, size_t applied_len, char *err, size_t errlen);
/* Sets what the value `policy` means (a plugin declares it) to the string `value`; `setup` uses
 * it for --cmg-url (CmgUrl) and --sas-url-file (SasUrl). CG_ERR_NOTFOUND when no plugin does. */
int cg_policy_set(cJSON *root, const char *policy, const char *value);

#endif
