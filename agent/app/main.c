/* cmgdiag command line (docs/commands.md, `cmgdiag --help`). */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "bundle.h"
#include "daemon.h"
#include "meaning.h"
#include "platform/service.h"
#include "validate.h"
#include "config.h"
#include "http.h"
#include "report.h"
#include "diagnosis.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/tls.h"
#include "platform/sys.h"
#include "plugin.h"
#include "redact.h"
#include "runner.h"
#include "sas.h"
#include "served.h"
#include "worker.h"
#include "emit_worker.h"
#include "setup.h"
#include "cycle.h"
#include "ship.h"
#include "spool.h"

#define EXIT_CANNOT_RUN 3
#include "cli.h"
#include "collect.h"

static bool use_color(void) {
  char *nc = cg_getenv("NO_COLOR");
  bool color = !(nc && *nc) && cg_stdout_is_tty();
  cg_free(nc);
  return color;
}

static int print_json(const cJSON *j) {
  char *s = cJSON_Print(j);
  if (!s) return EXIT_CANNOT_RUN;
  puts(s);
  cJSON_free(s);
  return 0;
}

static int cmd_version(void) {
  curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
  printf("cmgdiag %s (%s)\n", CMGDIAG_VERSION, cg_platform_name());
  printf("checks:  ");
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++)
    printf("%s%s", p == cg_registry_checks() ? "" : ", ", (*p)->name);
  printf("\noutputs: ");
  const struct cg_output_plugin *const *o = cg_registry_outputs();
  if (!*o) printf("(none yet)");
  for (; *o; o++)
    printf("%s%s", o == cg_registry_outputs() ? "" : ", ", (*o)->name);
  printf("\ncurl %s, %s, zlib %s, cJSON %s\n", cv->version, OpenSSL_version(OPENSSL_VERSION), zlibVersion(),
         cJSON_Version());
  printf("TLS trust: %s, plus a configured CA file\n", cg_platform_trust_name());
  return 0;
}

/* Loads the configuration and opens the log; the error said on stderr, except "access denied" when
 * quiet_access (selftest then asks the service). *why: the cg_config_load code, when asked for. */
static int load_config_why(const struct cli *cli, const struct cg_config_override *ov, struct cg_config *cfg,
                           struct cg_log *log, bool quiet_access, int *why) {
  char err[1024] = "";
  int rc = cg_config_load(cfg, cli->config_path, ov, err, sizeof(err));
  if (rc == CG_ERR_ACCESS && cli->input && !cli->config_path &&
      (!strcmp(cli->command, "selftest") || !strcmp(cli->command, "validate"))) {
    /* judging a snapshot needs none of this machine's configuration (its settings are the device's):
     * a standard user judges it with the built-in defaults, and logs nowhere */
    cg_config_free(cfg);
    rc = cg_config_load_text(cfg, "{}", 2, "built-in defaults", ov, err, sizeof(err));
    if (rc == CG_OK) {
      cg_free(cfg->log.file);
      cfg->log.file = NULL;
    }
  }
  if (why) *why = rc;
  if (rc == CG_ERR_ACCESS && quiet_access) return EXIT_CANNOT_RUN;
  if (rc == CG_ERR_ACCESS) {
    /* nothing is wrong with the configuration: this account may not read it (a standard user) */
    char *path = cli->config_path ? cg_strdup(cli->config_path) : cg_default_config_path();
    char said[700];
    cg_snprintf(said, sizeof(said),
                "this account may not read the configuration (%s); run it elevated (as an administrator%s), or run "
                "'cmgdiag selftest', which the service runs for you",
                path ? path : "", strcmp(cg_platform_name(), "windows") ? " or root" : "");
    cg_free(path);
    fprintf(stderr, "cmgdiag: %s\n", said);
    if (cli->profile) printf("COULD NOT RUN (%s): %s.\n", cli->profile, said);
    return EXIT_CANNOT_RUN;
  }
  if (rc != CG_OK) {
    fprintf(stderr, "cmgdiag: configuration error: %s\n", err[0] ? err : cg_strerror(rc));
    /* Intune Remediations and Run Script keep only stdout: the gate's one line says why too */
    if (cli->profile)
      printf("COULD NOT RUN (%s): configuration error: %s. Fix the configuration (cmgdiag config check).\n",
             cli->profile, err[0] ? err : cg_strerror(rc));
    return EXIT_CANNOT_RUN;
  }
  enum cg_log_level level = CG_LOG_INFO;
  cg_log_level_parse(cfg->log.level, &level);
  if (cli->verbose) level = CG_LOG_DEBUG;
  cg_log_open(log, cfg->log.file, cfg->log.max_bytes, level);
  log->echo_stderr = cli->verbose;
  return 0;
}

/* validate: the gate is judged on the built bundle and carried in it (bundle "gate"), so the bundle
 * that ships says what the gate said. */
struct gate_hook {
  const cJSON *profile, *snapshot; /* snapshot: the manifest of --input, or NULL */
  const char *snapshot_path;
  const char *name;
  bool ready;
  char line[CG_VALIDATE_LINE_MAX + 1];
};

static void add_gate(cJSON *bundle, void *user) {
  struct gate_hook *g = user;
  if (g->snapshot) cg_snapshot_mark_bundle(bundle, g->snapshot, g->snapshot_path);
  if (!g->profile) return;
  cJSON *gate = cg_validate_gate(g->profile, g->name, bundle, &g->ready, g->line, sizeof(g->line));
  cg_strip_controls(g->line);
  if (gate) cJSON_AddItemToObject(bundle, "gate", gate);
}

static int load_config(const struct cli *cli, const struct cg_config_override *ov, struct cg_config *cfg,
                       struct cg_log *log) {
  return load_config_why(cli, ov, cfg, log, false, NULL);
}

static int cmd_check(const struct cli *cli) {
  const struct cg_check_plugin *p = cg_registry_find_check(cli->check_name);
  if (!p) {
    const char *hint = cg_registry_suggest_check(cli->check_name);
    fprintf(stderr, "cmgdiag: unknown check '%s'%s%s%s\n", cli->check_name, hint ? "; did you mean '" : "",
            hint ? hint : "", hint ? "'?" : "");
    return EXIT_CANNOT_RUN;
  }
  const char *sets[66];
  size_t n = 0;
  char *input_set = NULL;
  if (cli->input) {
    if (!p->source) { /* only a check that declares a source reads captures (plugin.h) */
      fprintf(stderr, "cmgdiag: check '%s' has no data source that --input could replace\n", p->name);
      return EXIT_CANNOT_RUN;
    }
    enum cg_path_kind k = cg_path_kind(cli->input);
    if (k == CG_PATH_MISSING || k == CG_PATH_OTHER) {
      fprintf(stderr, "cmgdiag: --input %s %s\n", cli->input,
              k == CG_PATH_MISSING ? "does not exist" : "is not a regular file or a folder");
      return EXIT_CANNOT_RUN;
    }
    input_set = cg_asprintf("input=%s", cli->input);
    if (!input_set) return EXIT_CANNOT_RUN;
    sets[n++] = input_set;
  }
  for (size_t i = 0; i < cli->nsets; i++)
    sets[n++] = cli->sets[i];
  struct cg_config_override ov = {.check = p->name, .sets = sets, .count = n};
  struct cg_config cfg;
  struct cg_log log = {0};
  int ec = load_config(cli, &ov, &cfg, &log);
  if (ec == 0) {
    cJSON *disc = cJSON_CreateObject();
    /* planned like `selftest --only NAME`: the checks it needs a hand-over from run first; on a
     * capture, the capture is the device: those providers judge it too, and one that cannot read it
     * is not run, so nothing of this machine is handed over (plugin.h, `snapshot`) */
    struct cg_env env = {.config = &cfg,
                         .log = &log,
                         .interactive = true,
                         .discovery = disc,
                         .trigger = "check",
                         .snapshot = cli->input};
    struct cg_result *rs = NULL;
    size_t nrs = 0;
    char err[256] = "";
    if (cg_run_checks(&env, p->name, 0, NULL, &rs, &nrs, err, sizeof(err)) != CG_OK || nrs == 0) {
      fprintf(stderr, "cmgdiag: %s\n", err[0] ? err : "the check could not be planned");
      ec = EXIT_CANNOT_RUN;
    }
    struct cg_result *res = nrs ? &rs[nrs - 1] : NULL;
    for (size_t i = 0; res && i + 1 < nrs; i++)
      if (!strcmp(rs[i].check, p->name)) res = &rs[i];
    if (res && cli->json) {
      cJSON *j = cg_result_to_json(res);
      ec = j ? print_json(j) : EXIT_CANNOT_RUN;
      cJSON_Delete(j);
    } else if (res) {
      struct cg_report_opts o = {.color = use_color(), .title = NULL};
      cg_report_print(stdout, res, 1, &o);
    }
    if (res && ec == 0) ec = res->status == CG_SKIP ? 0 : cg_verdict_exit_code(cg_results_overall(res, 1));
    cg_results_free(rs, nrs);
    cJSON_Delete(disc);
  }
  cg_free(input_set);
  cg_config_free(&cfg);
  cg_log_close(&log);
  return ec;
}

static int cmd_collect(const struct cli *cli) {
  if (!cli->out) return cli_usage_error("usage: cmgdiag collect --out FOLDER [--only NAME[,NAME]] [--json]%s", "");
  struct cg_config cfg;
  struct cg_log log = {0};
  int ec = load_config(cli, NULL, &cfg, &log);
  if (ec == 0) ec = cg_cmd_collect(cli, &cfg, &log);
  cg_config_free(&cfg);
  cg_log_close(&log);
  return ec;
}

static int outputs_count(const struct cg_config *cfg) {
  return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cfg->root, "outputs"));
}

/* What one drain did, for a person (stdout or, with --json, stderr). */
static void print_drain(FILE *f, const struct cg_shipper *sh, const struct cg_spool *sp,
                        const struct cg_drain_stats *st) {
  for (size_t i = 0; i < cg_shipper_outputs(sh); i++)
    if (cg_shipper_last_error(sh, i)[0])
      fprintf(f, "  %s: %s\n", cg_shipper_label(sh, i), cg_shipper_last_error(sh, i));
  if (st->set_aside)
    fprintf(f, "%lld bundle(s) were refused for good and set aside in %s (see the log).\n", (long long)st->set_aside,
            sp->quarantine);
  if (st->remaining)
    fprintf(f, "%lld bundle(s) wait in the spool (%s) and are shipped on the next cycle or `cmgdiag flush`.\n",
            (long long)st->remaining, sp->dir);
}

/* What became of the cycle's bundle, for a person. Returns 0 when it left the spool, 1 when it waits
 * there, 3 when it could not even be spooled. */
static int report_shipping(const struct cli *cli, const struct cg_cycle *c) {
  FILE *out = cli->quiet ? NULL : cli->json ? stderr : stdout;
  const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->bundle, "bundle_id"));
  if (!c->spooled) {
    fprintf(stderr, "cmgdiag: bundle %s could not be spooled: %s\n", id, c->error);
    return 3;
  }
  if (!c->drained) {
    if (out) fprintf(out, "Bundle %s waits in the spool (%s): %s\n", id, c->sp.dir, c->error);
    return 1;
  }
  int ec = 1;
  if (c->drain.first_shipped) {
    char object[256] = ""; /* as the spool named it (its entry left with the bundle) */
    cg_bundle_object_name(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->bundle, "created_at")),
                          cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(c->bundle, "device"), "hostname")),
                          id, object, sizeof(object));
    if (out) {
      fprintf(out, "Bundle %s shipped as %s to:\n", id, object);
      for (size_t i = 0; i < cg_shipper_outputs(c->sh); i++)
        fprintf(out, "  %s\n", cg_shipper_label(c->sh, i));
      if (c->drain.shipped > 1)
        fprintf(out, "Also shipped %lld older bundle(s) from the spool.\n", (long long)c->drain.shipped - 1);
      if (cli->ticket) /* what the user reads to the helpdesk */
        fprintf(out, "Reference for the helpdesk: %.8s (ticket %s), sent to %s.\n", id, cli->ticket,
                cg_shipper_label(c->sh, 0));
    }
    ec = 0;
  } else {
    if (out) fprintf(out, "Bundle %s was not shipped yet:\n", id);
    if (out && cli->ticket)
      fprintf(out,
              "Reference for the helpdesk: %.8s (ticket %s), not sent yet: it waits in %s and is sent when "
              "the device is online (cmgdiag flush sends it now).\n",
              id, cli->ticket, c->sp.dir);
  }
  if (out) print_drain(out, c->sh, &c->sp, &c->drain);
  return ec;
}

/* selftest, and validate when `profile` is set (then one summary line, exit 0 ready / 1 not): the
 * same cycle as the agent's (cycle.h), shown to a person. */
static void selftest_title(const struct cli *cli, const cJSON *snap, char *title, size_t len) {
  char *host = cg_hostname();
  const char *was = cJSON_GetStringValue(cJSON_GetObjectItem(snap, "host")),
             *at = cJSON_GetStringValue(cJSON_GetObjectItem(snap, "taken_at"));
  cg_snprintf(title, len, "cmgdiag %s selftest %s %s%s%s%s%s", CMGDIAG_VERSION, snap ? "of the snapshot of" : "on",
              snap   ? (was ? was : "?")
              : host ? host
                     : "?",
              snap ? " taken at " : "", snap && at ? at : "", cli->ticket ? " for ticket " : "",
              cli->ticket ? cli->ticket : "");
  cg_strip_controls(title);
  cg_free(host);
}

/* selftest run by the service for a user (served.h): a record when a check starts, through the channel
 * that is this worker's output; the lines come when every check is done, after "Why:" */
static void served_progress(void *user, const char *check, const struct cg_result *res) {
  (void)user;
  char name[48];
  cg_strlcpy(name, check, sizeof(name));
  cg_strip_controls(name);
  if (!res) printf("%crunning %s\n", CG_SERVED_RECORD, name);
  fflush(stdout);
}

/* A user who may not read the configuration (or --service): the running service runs it. */
static int selftest_through_service(const struct cli *cli) {
  struct cg_served_request rq = {.json = cli->json, .no_upload = cli->no_upload, .color = !cli->json && use_color()};
  bool long_ticket = cli->ticket && strlen(cli->ticket) >= sizeof(rq.ticket);
  if (long_ticket || (cli->only && strlen(cli->only) >= sizeof(rq.only))) {
    fprintf(stderr, "cmgdiag: through the service, %s takes at most %zu characters\n",
            long_ticket ? "--ticket" : "--only", long_ticket ? sizeof(rq.ticket) - 1 : sizeof(rq.only) - 1);
    return EXIT_CANNOT_RUN;
  }
  cg_strlcpy(rq.ticket, cli->ticket ? cli->ticket : "", sizeof(rq.ticket));
  cg_strlcpy(rq.only, cli->only ? cli->only : "", sizeof(rq.only));
  return cg_served_selftest(&rq, !cli->json && cg_stdout_is_tty());
}

/* selftest on a console: "running X..." while a check runs and a count of those done; the lines wait
 * for the root cause, which a helpdesk reads first ("Why:", docs/commands.md) */
static void live_progress(void *user, const char *check, const struct cg_result *res) {
  int *done = user;
  char name[48];
  cg_strlcpy(name, check, sizeof(name));
  cg_strip_controls(name);
  if (res)
    (*done)++;
  else
    printf("\r\033[K      running %s... (%d done)", name, *done);
  fflush(stdout);
}

static int cmd_selftest(const struct cli *cli) {
  cJSON *disc = NULL, *profile = NULL, *snap = NULL;
  struct cg_config cfg;
  struct cg_log log = {0};
  struct cg_cycle c;
  memset(&c, 0, sizeof(c));
  char err[512];
  if (cli->service && !cli->profile && !cli->input) return selftest_through_service(cli);
  int why = CG_OK;
  bool ask_service = !cli->profile && !cli->served && !cli->input; /* a snapshot is judged here */
  int ec = load_config_why(cli, NULL, &cfg, &log, ask_service, &why);
  if (ec && why == CG_ERR_ACCESS && ask_service) {
    cg_config_free(&cfg);
    return selftest_through_service(cli);
  }
  if (ec) goto out;
  if (cli->profile && !(profile = cg_profile_resolve(cfg.root, cli->profile, err, sizeof(err)))) {
    printf("COULD NOT RUN (%s): %s.\n", cli->profile, err);
    ec = EXIT_CANNOT_RUN;
    goto out;
  }
  if (cli->input && !(snap = cg_snapshot_for_cli(cli->input))) {
    ec = EXIT_CANNOT_RUN;
    goto out;
  }
  bool ship = !cli->no_upload && !snap && outputs_count(&cfg) > 0; /* a snapshot is not this device's bundle */
  disc = cJSON_CreateObject();
  /* on a console, each check's lines as soon as it finishes, and what runs now; never redirected */
  bool live = !cli->json && !profile && !cli->served && cg_stdout_is_tty();
  bool served = !cli->json && !profile && cli->served; /* its lines as they come, through the channel */
  bool color = cli->served ? !strcmp(cli->served, "color") : use_color();
  int checks_done = 0;
  char title[256];
  selftest_title(cli, snap, title, sizeof(title));
  if (live || served) printf("%s\n\n", title);
  if (served) fflush(stdout);
  struct cg_env env = {.config = &cfg,
                       .log = &log,
                       .interactive = true,
                       .discovery = disc,
                       .trigger = cli->profile ? "validate" : "selftest",
                       .progress = live     ? live_progress
                                   : served ? served_progress
                                            : NULL,
                       .progress_user = &checks_done,
                       .snapshot = cli->input};
  struct gate_hook gh = {.profile = profile, .name = cli->profile, .snapshot = snap, .snapshot_path = cli->input};
  struct cg_cycle_opts o = {.bundle_hook = profile || snap ? add_gate : NULL,
                            .hook_user = &gh,
                            .trigger = profile ? "validate" : "selftest",
                            /* a snapshot of some checks is judged as the partial run it was */
                            .only = cli->only ? cli->only : cJSON_GetStringValue(cJSON_GetObjectItem(snap, "only")),
                            .ticket = cli->ticket,
                            .deadline_ms = cfg.check_timeout_s * 1000,
                            .spool = ship,
                            .drain_budget_ms = ship ? cfg.delivery.interactive_budget_s * 1000 : 0,
                            .this_bundle_first = true};
  int rc = cg_cycle_run(&env, &o, &c, err, sizeof(err));
  /* served, the client reads standard output only (stderr is the service's): a person's run gets the
   * sentence in its stream, a --json run stays pure JSON and the sentence goes to the log */
  FILE *ef = cli->served && !cli->json ? stdout : stderr;
  if (rc != CG_OK || !c.bundle) {
    if (live) printf("\r\033[K\n");
    const char *why = rc == CG_ERR_USAGE ? err : rc != CG_OK ? cg_strerror(rc) : c.error;
    fprintf(ef, "cmgdiag: %s\n", why);
    if (cli->served) cg_log_warn(&log, "selftest", "the served self-test could not run: %s", why);
    ec = EXIT_CANNOT_RUN;
    goto out;
  }
  if (ship && !c.spool_ok) fprintf(ef, "cmgdiag: %s\n", c.error);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(c.bundle, "bundle_id");
  cg_log_info(&log, "selftest", "selftest bundle %s: %s", id->valuestring,
              cJSON_GetObjectItemCaseSensitive(c.bundle, "overall")->valuestring);
  if (profile) {
    cg_log_info(&log, "validate", "%s", gh.line);
    if (cli->json)
      print_json(c.bundle); /* one JSON object, its gate section included; nothing on stderr */
    else
      printf("%s\n", gh.line);
    ec = gh.ready ? 0 : 1; /* shipped like any bundle (quietly); shipping never changes the gate's answer */
    goto out;
  }
  if (cli->json) {
    print_json(c.bundle);
  } else {
    const cJSON *diag = cJSON_GetObjectItemCaseSensitive(c.bundle, "diagnosis");
    if (live) printf("\r\033[K"); /* the progress line gives way to the report */
    struct cg_report_opts ro = {.color = color,
                                .title = live || served ? NULL : title,
                                .why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(diag, "why")),
                                .first_step =
                                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(diag, "first_step"))};
    cg_report_print(stdout, c.rs, c.n, &ro);
  }
  ec = cg_verdict_exit_code(cg_results_overall(c.rs, c.n));
  int sec = 0;
  if (ship && c.spool_ok)
    sec = report_shipping(cli, &c);
  else if (ship)
    sec = 1;
  else if (!cli->no_upload && !snap)
    fprintf(cli->json ? stderr : stdout,
            "Bundle %s was not shipped: no collection point is configured (\"outputs\" is empty).\n", id->valuestring);
  /* A bundle that did not leave is a warning at least; the checks' verdict stays when worse. */
  if (sec && ec < 1) ec = sec == 3 ? EXIT_CANNOT_RUN : 1;
out:
  cg_cycle_free(&c);
  cJSON_Delete(snap);
  cJSON_Delete(profile);
  cJSON_Delete(disc);
  cg_config_free(&cfg);
  cg_log_close(&log);
  return ec;
}

static int cmd_flush(const struct cli *cli) {
  struct cg_config cfg;
  struct cg_log log = {0};
  struct cg_spool sp = {0};
  struct cg_shipper *sh = NULL;
  bool spool_ok = false;
  char err[768];
  int ec = load_config(cli, NULL, &cfg, &log);
  if (ec) goto out;
  ec = EXIT_CANNOT_RUN;
  if (outputs_count(&cfg) == 0) {
    fprintf(stderr, "cmgdiag: nothing to ship to: no collection point is configured (\"outputs\" is empty)\n");
    goto out;
  }
  if (cg_spool_open(&sp, cfg.spool.dir, cfg.spool.max_bytes, cfg.spool.max_files, &log, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    goto out;
  }
  spool_ok = true;
  struct cg_env env = {.config = &cfg, .log = &log, .interactive = true};
  if (cg_shipper_open(&sh, &env, &sp, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: cannot ship: %s\n", err);
    goto out;
  }
  struct cg_drain_stats st;
  if (cg_shipper_drain(sh, NULL, cfg.delivery.drain_budget_s * 1000, cfg.delivery.max_bundles, &st) != CG_OK) {
    fprintf(stderr, "cmgdiag: cannot read the spool %s\n", sp.dir);
    goto out;
  }
  printf("Shipped %lld bundle(s) in %.1f s", (long long)st.shipped, (double)st.elapsed_ms / 1000.0);
  if (st.already) printf(" (%lld had already arrived)", (long long)st.already);
  if (st.retries) printf(", %lld retries", (long long)st.retries);
  printf(".\n");
  print_drain(stdout, sh, &sp, &st);
  if (!st.remaining) printf("The spool is empty.\n");
  ec = st.remaining ? 2 : 0;
out:
  cg_shipper_close(sh);
  if (spool_ok) cg_spool_close(&sp);
  cg_config_free(&cfg);
  cg_log_close(&log);
  return ec;
}

/* Every "*sas_url" value of the configuration, judged as a credential that sits on every device. */
static void print_sas_warnings(const cJSON *node, const char *where) {
  int i = 0;
  for (const cJSON *c = node ? node->child : NULL; c; c = c->next, i++) {
    char here[256];
    if (c->string)
      cg_snprintf(here, sizeof(here), "%s%s%s", where, *where ? "." : "", c->string);
    else
      cg_snprintf(here, sizeof(here), "%s[%d]", where, i);
    if (cJSON_IsString(c) && c->string && cg_str_endswith_ci(c->string, "sas_url")) {
      char warn[1024];
      if (cg_sas_check(c->valuestring, cg_time_utc_ms(), warn, sizeof(warn)) != CG_OK)
        printf("Warning: %s: %s\n", here, warn);
    } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
      print_sas_warnings(c, here);
    }
  }
}

/* validate --list: the profiles, built in and configured, with where each comes from. */
static int cmd_validate_list(const struct cli *cli) {
  struct cg_config cfg;
  struct cg_log log = {0};
  int ec = load_config(cli, NULL, &cfg, &log);
  if (ec == 0) {
    cJSON *cat = cg_profile_catalogue(cfg.root);
    if (cli->json) {
      print_json(cat);
    } else {
      const cJSON *p;
      cJSON_ArrayForEach(p, cat) {
        printf("%s (%s): %d blocking, %d warning requirement(s)\n    %s\n",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "name")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "origin")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "blocking")),
               (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "warning")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "description")));
      }
    }
    cJSON_Delete(cat);
  }
  cg_config_free(&cfg);
  cg_log_close(&log);
  return ec;
}

static int cmd_config_check(const struct cli *cli) {
  struct cg_config cfg;
  struct cg_log log = {0};
  int ec = load_config(cli, NULL, &cfg, &log);
  char err[1024];
  if (ec == 0 && cg_runner_try_settings(&cfg, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: configuration error in %s: %s\n", cfg.path, err);
    ec = EXIT_CANNOT_RUN;
  }
  if (ec == 0) {
    char *text = cg_config_render_redacted(&cfg);
    if (cfg.file_found)
      printf("Configuration OK: %s\n", cfg.path);
    else
      printf("No configuration file at %s; these built-in defaults are in effect:\n", cfg.path);
    if (cfg.policy[0]) printf("Group Policy (HKLM\\%s) overrides: %s\n", CG_POLICY_KEY, cfg.policy);
    if (cfg.file_found && cfg.insecure)
      printf("Warning: users other than administrators can change this configuration (%s): the agent runs no "
             "command it names and reads no secret or trust file it names. 'cmgdiag setup' restores its "
             "permissions.\n",
             cfg.insecure_why);
    char files[1200];
    if (cg_config_files_not_admin_only(&cfg, files, sizeof(files)))
      printf("Warning: files it names can be changed by users other than administrators (an output does not "
             "read them, dsregcmd_path is not run; fix each): %s\n",
             files);
    print_sas_warnings(cfg.root, "");
    const char *cmg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg.root, "checks"), "cmgprobe"), "url"));
    if (cmg && !cg_cmg_url_has_mp_id(cmg)) {
      char w[700];
      cg_cmg_url_warning(cmg, w, sizeof(w));
      printf("Warning: checks.cmgprobe.url: %s.\n", w);
    }
    printf("%s\n", text ? text : "");
    cg_free(text);
  }
  cg_config_free(&cfg);
  cg_log_close(&log);
  return ec;
}

static const char *str_or(const cJSON *o, const char *key, const char *def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : def;
}

static int cmd_show(const struct cli *cli) {
  cJSON *b = NULL;
  char err[1024];
  if (cg_bundle_load(cli->show_file, &b, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    return EXIT_CANNOT_RUN;
  }
  int ec = 0;
  if (cli->json) {
    ec = print_json(b);
  } else {
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(b, "agent");
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(b, "device");
    char title[1024];
    cg_snprintf(title, sizeof(title),
                "Bundle %s\n  created %s by cmgdiag %s (%s), trigger %s, ticket %s\n  device %s, %s",
                str_or(b, "bundle_id", "?"), str_or(b, "created_at", "?"), str_or(agent, "version", "?"),
                str_or(agent, "platform", "?"), str_or(b, "trigger", "?"), str_or(b, "ticket", "none"),
                str_or(dev, "hostname", "?"), str_or(dev, "os", "?"));
    cg_strip_controls(title); /* a crafted bundle must not drive the terminal */
    struct cg_result *rs = NULL;
    size_t n = 0;
    if (cg_bundle_results(b, &rs, &n) != CG_OK) {
      ec = EXIT_CANNOT_RUN;
    } else {
      /* a bundle of an agent before 0.2 has no diagnosis: made from its results */
      cJSON *made = NULL, *rules = NULL;
      const cJSON *diag = cJSON_GetObjectItemCaseSensitive(b, "diagnosis");
      if (!cJSON_IsObject(diag) && (rules = cg_diagnosis_rules(NULL)))
        diag = made = cg_diagnose(cJSON_GetObjectItemCaseSensitive(b, "checks"), rules);
      struct cg_report_opts o = {.color = use_color(),
                                 .title = title,
                                 .why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(diag, "why")),
                                 .first_step =
                                     cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(diag, "first_step"))};
      cg_report_print(stdout, rs, n, &o);
      cJSON_Delete(made);
      cJSON_Delete(rules);
      cg_results_free(rs, n);
    }
  }
  cJSON_Delete(b);
  return ec;
}

static struct cg_daemon_opts service_opts;
static int service_body(void *arg) { return cg_daemon_run(arg) == 0 ? 0 : 1; }

static int cmd_service(const struct cli *cli) {
  const char *v = cli->service_verb;
  char msg[512] = "";
  int rc;
  if (!v) return cli_usage_error("usage: cmgdiag service install|uninstall|start|stop%s", "");
  if (!strcmp(v, "install")) {
    char *exe = cg_executable_path();
    rc = exe ? cg_service_install(exe, cli->config_path, msg, sizeof(msg)) : CG_ERR_NOMEM;
    cg_free(exe);
  } else if (!strcmp(v, "uninstall")) {
    rc = cg_service_uninstall(msg, sizeof(msg));
  } else if (!strcmp(v, "start")) {
    rc = cg_service_start(msg, sizeof(msg));
  } else if (!strcmp(v, "stop")) {
    rc = cg_service_stop(msg, sizeof(msg));
  } else if (!strcmp(v, "run")) {
    service_opts = (struct cg_daemon_opts){.config_path = cli->config_path, .service = true};
    rc = cg_service_dispatch(service_body, &service_opts, msg, sizeof(msg));
  } else {
    return cli_usage_error("unknown service command '%s' (install, uninstall, start, stop)", v);
  }
  if (msg[0]) fprintf(rc == CG_OK ? stdout : stderr, "%s%s\n", rc == CG_OK ? "" : "cmgdiag: ", msg);
  return rc == CG_OK ? 0 : EXIT_CANNOT_RUN;
}

int main(int argc, char **argv) {
  struct cli cli;
  cg_platform_args(&argc, &argv);
  cg_json_init_hooks();
  /* the agent's own workers without privilege (docs/security.md), never a person's command */
  if (argc == 3 && !strcmp(argv[1], "__worker"))
    return !strcmp(argv[2], "check")     ? cg_worker_check_main()
           : !strcmp(argv[2], "request") ? cg_served_request_main()
           : !strcmp(argv[2], "emit")    ? cg_worker_emit_main()
                                         : 2;
  int ec = cli_parse(&cli, argc, argv);
  if (ec >= 0) return ec;
  const char *cmd = cli.command;
  if (cli.version) return cmd_version();
  if (!strcmp(cmd, "version")) return cmd_version();
  if (!strcmp(cmd, "check")) {
    if (!cli.check_name)
      return cli_usage_error("usage: cmgdiag check NAME [--input PATH] [--set KEY=VALUE]... [--json]%s", "");
    return cmd_check(&cli);
  }
  if (!strcmp(cmd, "show")) {
    if (!cli.show_file) return cli_usage_error("usage: cmgdiag show FILE [--json]%s", "");
    return cmd_show(&cli);
  }
  if (!strcmp(cmd, "selftest")) return cmd_selftest(&cli);
  if (!strcmp(cmd, "flush")) return cmd_flush(&cli);
  if (!strcmp(cmd, "collect")) return cmd_collect(&cli);
  if (!strcmp(cmd, "report")) {
    if (!cli.report.ninputs && !cli.report.container_sas_file && !cli.report.container_url)
      return cli_usage_error("usage: cmgdiag report INPUT... [--html FILE] [--csv FILE] [--since DAYS] "
                             "[--container-sas-file FILE|-]%s",
                             "");
    cg_http_global_init(); /* before any thread */
    return cg_report_run(&cli.report);
  }
  if (!strcmp(cmd, "validate")) {
    if (cli.list) return cmd_validate_list(&cli);
    if (!cli.profile) return cli_usage_error("usage: cmgdiag validate --profile NAME [--json] | validate --list%s", "");
    return cmd_selftest(&cli);
  }
  if (!strcmp(cmd, "run")) {
    struct cg_daemon_opts o = {.config_path = cli.config_path,
                               .once = cli.once,
                               .verbose = cli.verbose,
                               .worker = cli.worker,
                               .trigger = cli.trigger};
    return cg_daemon_run(&o);
  }
  if (!strcmp(cmd, "service")) return cmd_service(&cli);
  if (!strcmp(cmd, "setup"))
    return cg_cmd_setup(&(struct cg_setup_opts){.config_path = cli.config_path,
                                                .sas_url_arg = cli.sas_url,
                                                .sas_url_file = cli.sas_url_file,
                                                .cmg_url = cli.cmg_url,
                                                .purge = cli.purge});
  if (!strcmp(cmd, "config reference")) {
    char *page = cg_config_reference();
    if (page) fputs(page, stdout);
    cg_free(page);
    return page ? 0 : EXIT_CANNOT_RUN;
  }
  return cmd_config_check(&cli);
}
