/* `cmgdiag setup [--sas-url URL] [--cmg-url URL]` / `setup --purge` (see setup.c). */
#ifndef CG_SETUP_H
#define CG_SETUP_H

#include <stdbool.h>

int cg_cmd_setup(const char *config_path, const char *sas_url, const char *cmg_url, bool purge);

#endif
