/* The command line of cmgdiag (docs/commands.md): one table of options says which command
 * takes which option; options are --opt value or --opt=value, the global ones (-c, -v, -h) go
 * anywhere, /? is help on Windows, and every usage error exits 3. */
#ifndef CG_CLI_H
#define CG_CLI_H

#include <stdio.h>

#include "cg.h"
#include "report.h"

struct cli {
  const char *command; /* "selftest", "config check", ... */
  const char *config_path;
  bool verbose, version;
  bool json, no_upload, once, quiet, worker, service;
  const char *served; /* selftest run by the service for a user: "plain" or "color" (served.h) */
  const char *trigger;
  const char *profile, *service_verb, *sas_url, *sas_url_file, *cmg_url;
  bool purge, list;
  const char *ticket, *only, *input, *out, *check_name, *show_file;
  const char *sets[64];
  size_t nsets;
  struct cg_report_args report;
  const char *report_inputs[256];
  const char *since, *jobs; /* report's numbers as given; checked by cli_parse */
};

/* Fills cli from argv. Returns -1 to go on with cli->command, or an exit code: 0 after printing the
 * help, 3 after a usage error (a sentence and a pointer to --help on stderr). */
int cli_parse(struct cli *cli, int argc, char **argv);
/* Prints "cmgdiag: " fmt (with arg) and the pointer to --help on stderr; returns 3. */
int cli_usage_error(const char *fmt, const char *arg);
void cli_print_usage(FILE *f);

#endif
