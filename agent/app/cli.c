/* The command line (cli.h): the option table and its parser. */
#include "cli.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "platform/fs.h"
#include "platform/sys.h"
#include "plugin.h"

#define EXIT_CANNOT_RUN 3

static const char usage_text[] =
    "cmgdiag " CMGDIAG_VERSION " - can this device be managed through the Cloud Management Gateway?\n"
    "\n"
    "Usage: cmgdiag [-c FILE] [-v] <command> [options]\n"
    "\n"
    "Commands:\n"
    "  selftest [--json] [--no-upload] [--ticket ID] [--only NAME[,NAME]] [--service]\n"
    "                 Run every enabled check now, print a report, spool the bundle and ship it to\n"
    "                 the outputs (--no-upload: neither; --json: print the whole bundle). With\n"
    "                 --ticket the bundle carries the ticket and the report ends with a reference.\n"
    "                 --only: these checks, and the checks they need a hand-over from.\n"
    "                 A user who may not read the configuration (not elevated) is served by the\n"
    "                 running service, as SYSTEM sees the device; --service asks it in any case.\n"
    "  selftest --input SNAPSHOT [--json] [--only NAME[,NAME]]\n"
    "                 Judge a snapshot of another device (or of this one, earlier) instead of this\n"
    "                 device: the verdicts it had when it was collected, judged as of that time.\n"
    "                 Nothing is shipped. validate and check take --input SNAPSHOT too.\n"
    "  collect --out FOLDER [--only NAME[,NAME]] [--json]\n"
    "                 Run the checks and keep what they read in a new FOLDER: the device snapshot\n"
    "                 (manifest.json, captured-at.txt, one folder per check) to attach to a ticket\n"
    "                 and judge anywhere with selftest --input FOLDER. --out FILE.zip: one zip file.\n"
    "  check NAME [--input PATH] [--set KEY=VALUE]... [--json]\n"
    "                 Run one check. --input replaces the live data source with a captured file or\n"
    "                 folder; --set overrides one setting of that check (repeatable).\n"
    "  config check   Validate the configuration and print it, secrets redacted.\n"
    "  config reference\n"
    "                 Every setting with its type, default and meaning, as Markdown.\n"
    "  show FILE [--json]\n"
    "                 Print a bundle (.json.gz or .json) readably; --json prints the raw JSON.\n"
    "  report INPUT... [--html FILE] [--csv FILE] [--since DAYS] [--container-sas-file FILE|-]\n"
    "                 The fleet from its bundles: folders (searched recursively) or files of bundles,\n"
    "                 and/or an Azure Blob container (a SAS URL with list and read permission, read\n"
    "                 from FILE or standard input). The latest bundle of each device decides; --html\n"
    "                 writes one self-contained page, --csv one row per device; --since keeps the\n"
    "                 last DAYS days. Unreadable bundles are counted and listed, never fatal.\n"
    "                 Also: --jobs N (threads, default 4), --ca-file FILE, --proxy URL.\n"
    "  version        Version, compiled-in plugins and library versions.\n"
    "  flush          Ship what waits in the spool now, to every configured output.\n"
    "  validate --profile NAME [--json] [--input SNAPSHOT] | validate --list\n"
    "                 Go/no-go gate: one line READY / NOT READY with the blocking reasons (<= 2048\n"
    "                 characters); exit 0 ready, 1 not ready, 3 could not run. Built in: pre-upgrade.\n"
    "  run [--once]   The periodic agent: a cycle every interval_s (+ jitter_s), the spool drained\n"
    "                 each cycle, an extra cycle after a network change; SIGHUP reloads, SIGTERM\n"
    "                 stops. Each cycle runs in a worker process, killed at cycle_timeout_s.\n"
    "                 --once: one cycle now, in this process, exit with its verdict.\n"
    "  service install|uninstall|start|stop\n"
    "                 The Windows service (LocalSystem, delayed automatic start, restarts on failure).\n"
    "  setup [--sas-url-file FILE|-] [--cmg-url URL] | setup --purge\n"
    "                 Prepare a device (what the MSI runs): the configuration folder owned by and\n"
    "                 restricted to SYSTEM and Administrators, the configuration file with these values\n"
    "                 merged in (a file it did not write is set aside), the service's recovery\n"
    "                 settings. The SAS URL is read from FILE or standard input (-), never from the\n"
    "                 command line. --purge removes what the agent wrote: its configuration, spool,\n"
    "                 logs and state files, and their folders when they are then empty.\n"
    "\n"
    "Options (anywhere on the line; --opt VALUE or --opt=VALUE):\n"
    "  -c, --config FILE  Configuration file (default: %s)\n"
    "  -v, --verbose      Verbose: debug logging, log lines also on stderr\n"
    "  -h, --help         This help (also /? on Windows)\n"
    "\n"
    "Exit codes: 0 healthy / ready / done, 1 warnings only (selftest, check) or not ready (validate),\n"
    "2 at least one failure (flush: bundles still wait), 3 could not run (usage, configuration or\n"
    "internal error). Colour only on a terminal; NO_COLOR turns it off.\n"
    "Group Policy (HKLM\\SOFTWARE\\Policies\\cmgdiag) overrides the configuration file on Windows.\n"
    "The agent logs in CMTrace format (open it with CMTrace or OneTrace) at log.file.\n";

void cli_print_usage(FILE *f) {
  char *def = cg_default_config_path();
  fprintf(f, usage_text, def ? def : "");
  cg_free(def);
  fprintf(f, "\nChecks in this build (cmgdiag check NAME):\n");
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++)
    fprintf(f, "  %-14s %s\n", (*p)->name, (*p)->description);
}

int cli_usage_error(const char *fmt, const char *arg) {
  fputs("cmgdiag: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\nRun 'cmgdiag --help' for usage.\n", stderr);
  return EXIT_CANNOT_RUN;
}

enum opt_kind { OPT_FLAG, OPT_VALUE, OPT_SET };

/* An option: its names, the commands that take it ("*": every command), where it goes. */
struct opt {
  const char *name, *alias;
  const char *commands; /* " selftest validate " or "*" */
  enum opt_kind kind;
  size_t off; /* into struct cli */
};

#define AT(f) offsetof(struct cli, f)
static const struct opt opts[] = {
    {"-c", "--config", "*", OPT_VALUE, AT(config_path)},
    {"-v", "--verbose", "*", OPT_FLAG, AT(verbose)},
    {"--version", NULL, "*", OPT_FLAG, AT(version)},
    {"--json", NULL, " selftest check show validate collect ", OPT_FLAG, AT(json)},
    {"--no-upload", NULL, " selftest ", OPT_FLAG, AT(no_upload)},
    {"--ticket", NULL, " selftest ", OPT_VALUE, AT(ticket)},
    {"--only", NULL, " selftest collect ", OPT_VALUE, AT(only)},
    {"--out", NULL, " collect ", OPT_VALUE, AT(out)},
    {"--service", NULL, " selftest ", OPT_FLAG, AT(service)},
    {"--served", NULL, " selftest ", OPT_VALUE, AT(served)}, /* started by the service (served.h) */
    {"--input", NULL, " check selftest validate ", OPT_VALUE, AT(input)},
    {"--set", NULL, " check ", OPT_SET, 0},
    {"--profile", NULL, " validate ", OPT_VALUE, AT(profile)},
    {"--list", NULL, " validate ", OPT_FLAG, AT(list)},
    {"--once", NULL, " run ", OPT_FLAG, AT(once)},
    {"--worker", NULL, " run ", OPT_FLAG, AT(worker)},            /* started by the supervisor (run) */
    {"--trigger", NULL, " run collect ", OPT_VALUE, AT(trigger)}, /* collect: the cmgprobe data set's */
    {"--sas-url", NULL, " setup ", OPT_VALUE, AT(sas_url)},
    {"--sas-url-file", NULL, " setup ", OPT_VALUE, AT(sas_url_file)},
    {"--cmg-url", NULL, " setup ", OPT_VALUE, AT(cmg_url)},
    {"--purge", NULL, " setup ", OPT_FLAG, AT(purge)},
    {"--html", NULL, " report ", OPT_VALUE, AT(report.html)},
    {"--csv", NULL, " report ", OPT_VALUE, AT(report.csv)},
    {"--since", NULL, " report ", OPT_VALUE, AT(since)},
    {"--jobs", NULL, " report ", OPT_VALUE, AT(jobs)},
    {"--container-sas-file", NULL, " report ", OPT_VALUE, AT(report.container_sas_file)},
    {"--ca-file", NULL, " report ", OPT_VALUE, AT(report.ca_file)},
    {"--proxy", NULL, " report ", OPT_VALUE, AT(report.proxy)},
};

static const char *const commands[] = {"version",  "check",   "selftest", "config", "show", "flush",  "run",
                                       "validate", "service", "setup",    "report", "help", "collect"};

static bool takes(const struct opt *o, const char *cmd) {
  if (!strcmp(o->commands, "*")) return true;
  char key[40];
  cg_snprintf(key, sizeof(key), " %s ", cmd ? cmd : "");
  return strstr(o->commands, key) != NULL;
}

static const struct opt *find(const char *name, size_t len) {
  for (size_t i = 0; i < CG_ARRAY_LEN(opts); i++)
    if ((strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len)) ||
        (opts[i].alias && strlen(opts[i].alias) == len && !strncmp(opts[i].alias, name, len)))
      return &opts[i];
  return NULL;
}

static bool is_help(const char *a) {
  return !strcmp(a, "-h") || !strcmp(a, "--help") || (!strcmp(a, "/?") && !strcmp(cg_platform_name(), "windows"));
}

/* A word that is not an option: the command, its subcommand, or the command's positional. */
static int positional(struct cli *cli, const char *a) {
  const char *cmd = cli->command;
  if (!cmd) {
    for (size_t i = 0; i < CG_ARRAY_LEN(commands); i++)
      if (!strcmp(a, commands[i])) {
        cli->command = commands[i];
        return -1;
      }
    return cli_usage_error("unknown command '%s'", a);
  }
  if (!strcmp(cmd, "config") && (!strcmp(a, "check") || !strcmp(a, "reference"))) {
    cli->command = !strcmp(a, "check") ? "config check" : "config reference";
    return -1;
  }
  const char **slot = !strcmp(cmd, "check")     ? &cli->check_name
                      : !strcmp(cmd, "show")    ? &cli->show_file
                      : !strcmp(cmd, "service") ? &cli->service_verb
                                                : NULL;
  if (slot && !*slot) {
    *slot = a;
    return -1;
  }
  if (!strcmp(cmd, "report")) {
    struct cg_report_args *r = &cli->report;
    if (cg_str_startswith_ci(a, "https://") || cg_str_startswith_ci(a, "http://")) {
      fprintf(stderr, "cmgdiag: warning: a container SAS URL on the command line is in the process list and the "
                      "shell history; use --container-sas-file FILE or --container-sas-file - (standard input)\n");
      r->container_url = a;
      return -1;
    }
    if (r->ninputs >= CG_ARRAY_LEN(cli->report_inputs))
      return cli_usage_error("too many inputs (at most 256; give their folder instead)%s", "");
    cli->report_inputs[r->ninputs++] = a;
    r->inputs = cli->report_inputs;
    return -1;
  }
  if (!strcmp(cmd, "config")) return cli_usage_error("usage: cmgdiag config check | config reference%s", "");
  fprintf(stderr, "cmgdiag: '%s' is not an option of '%s'\nRun 'cmgdiag --help' for usage.\n", a, cmd);
  return EXIT_CANNOT_RUN;
}

/* One option (with its value inline after '=' or as the next word). */
static int option(struct cli *cli, int argc, char **argv, int *i) {
  const char *a = argv[*i], *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
  const struct opt *o = find(a, eq ? (size_t)(eq - a) : strlen(a));
  if (!o || !takes(o, cli->command)) {
    fprintf(stderr, "cmgdiag: '%.*s' is not an option of '%s'\nRun 'cmgdiag --help' for usage.\n",
            (int)(eq ? eq - a : (long)strlen(a)), a, cli->command ? cli->command : "cmgdiag");
    return EXIT_CANNOT_RUN;
  }
  if (o->kind == OPT_FLAG) {
    if (eq) return cli_usage_error("option %s takes no value", o->name);
    *(bool *)((char *)cli + o->off) = true;
    return -1;
  }
  const char *v = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
  if (!v) return cli_usage_error("option %s needs a value", a);
  if (o->kind == OPT_SET) {
    if (cli->nsets >= CG_ARRAY_LEN(cli->sets)) return cli_usage_error("too many --set options%s", "");
    cli->sets[cli->nsets++] = v;
  } else {
    *(const char **)((char *)cli + o->off) = v;
  }
  return -1;
}

static int number(const char *v, const char *opt, long lo, long hi, int *out) {
  char *end;
  long n = v ? strtol(v, &end, 10) : 0;
  if (!v) return -1;
  if (*end || end == v || n < lo || n > hi) {
    fprintf(stderr, "cmgdiag: %s takes a number from %ld to %ld, not '%s'\nRun 'cmgdiag --help' for usage.\n", opt, lo,
            hi, v);
    return EXIT_CANNOT_RUN;
  }
  *out = (int)n;
  return -1;
}

/* The command word's position (and its subcommand's: config check), wherever the options are. */
static void find_command(struct cli *cli, int argc, char **argv, int *at, int *sub) {
  *at = *sub = -1;
  bool options_end = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!options_end && !strcmp(a, "--")) {
      options_end = true;
    } else if (!options_end && a[0] == '-' && a[1]) {
      const struct opt *o = strchr(a, '=') ? NULL : find(a, strlen(a));
      if (o && o->kind != OPT_FLAG) i++; /* its value is not the command */
    } else if (*at < 0) {
      for (size_t k = 0; k < CG_ARRAY_LEN(commands) && *at < 0; k++)
        if (!strcmp(a, commands[k])) {
          cli->command = commands[k];
          *at = i;
        }
      if (*at < 0) return; /* the first word is not a command: said by positional() */
    } else {
      if (!strcmp(cli->command, "config") && (!strcmp(a, "check") || !strcmp(a, "reference"))) {
        cli->command = !strcmp(a, "check") ? "config check" : "config reference";
        *sub = i;
      }
      return;
    }
  }
}

int cli_parse(struct cli *cli, int argc, char **argv) {
  memset(cli, 0, sizeof(*cli));
  int rc = -1, at, sub;
  bool help = false, options_end = false;
  find_command(cli, argc, argv, &at, &sub);
  for (int i = 1; i < argc && rc < 0; i++) {
    const char *a = argv[i];
    if (i == at || i == sub) {
      continue;
    } else if (!options_end && !strcmp(a, "--")) {
      options_end = true;
    } else if (!options_end && is_help(a)) {
      help = true;
    } else if (!options_end && a[0] == '-' && a[1]) {
      rc = option(cli, argc, argv, &i);
    } else {
      rc = positional(cli, a);
    }
  }
  if (rc >= 0) return rc;
  if (help || (cli->command && !strcmp(cli->command, "help"))) {
    cli_print_usage(stdout);
    return 0;
  }
  if (cli->version) return -1;
  if (!cli->command) {
    cli_print_usage(stderr);
    return EXIT_CANNOT_RUN;
  }
  if (!strcmp(cli->command, "config")) return cli_usage_error("usage: cmgdiag config check | config reference%s", "");
  cli->report.jobs = 4;
  if ((rc = number(cli->since, "--since", 1, 3650, &cli->report.since_days)) >= 0) return rc;
  if ((rc = number(cli->jobs, "--jobs", 1, 16, &cli->report.jobs)) >= 0) return rc;
  return -1;
}
