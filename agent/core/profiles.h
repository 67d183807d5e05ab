/* The built-in `validate` profiles as the core knows them: names and JSON text, embedded at build
 * time from agent/profiles/NAME.json (CMakeLists.txt). The configuration's loader needs the names (a
 * profile may extend a built-in one); what a profile means is the app's (app/validate.h). */
#ifndef CG_PROFILES_H
#define CG_PROFILES_H

#include "cg.h"

struct cg_builtin_profile {
  const char *name, *json;
};
/* Generated from the files in agent/profiles (CMakeLists.txt); ends with {NULL, NULL}. */
extern const struct cg_builtin_profile cg_builtin_profiles[];

/* Whether `name` is a built-in profile. */
bool cg_profile_is_builtin(const char *name);

#endif
