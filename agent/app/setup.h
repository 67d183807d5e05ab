/* `cmgdiag setup [--sas-url-file FILE|-] [--cmg-url URL]` / `setup --purge` (see setup.c). */
#ifndef CG_SETUP_H
#define CG_SETUP_H

#include <stdbool.h>

struct cg_setup_opts {
  const char *config_path;  /* NULL: the platform default */
  const char *sas_url_arg;  /* --sas-url (kept for old scripts; warns: command lines are logged) */
  const char *sas_url_file; /* --sas-url-file: a file holding the SAS URL, "-" for standard input */
  const char *cmg_url;
  bool purge;
};

int cg_cmd_setup(const struct cg_setup_opts *o);

#include <stddef.h>
/* A SAS URL from a file or standard input ("-"): a UTF-8 BOM and surrounding blanks dropped, the
 * buffer it was read into wiped. NULL with a sentence in err (never the SAS). Caller frees (and
 * wipes) it. Used by setup and by report's --container-sas-file. */
char *cg_read_sas_file(const char *file, char *err, size_t errlen);

#endif
