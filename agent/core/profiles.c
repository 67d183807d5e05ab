/* The built-in profiles' names (profiles.h). */
#include "profiles.h"

#include <string.h>

bool cg_profile_is_builtin(const char *name) {
  for (const struct cg_builtin_profile *b = cg_builtin_profiles; name && b->name; b++)
    if (!strcmp(b->name, name)) return true;
  return false;
}
