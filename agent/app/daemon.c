/* The periodic agent: a cycle every interval_s plus random jitter, a random start delay, an extra
 * debounced cycle when the network changes, each check under a deadline, failing checks backed
 * off, the spool drained every cycle, reload without restart, stop within seconds. */
#include "daemon.h"
#include "supervisor.h"

#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "config.h"
#include "discovery.h"
#include "log.h"
#include "platform/child.h"
#include "platform/runtime.h"
#include "platform/fs.h"
#include "platform/service.h"
#include "platform/sys.h"
#include "plugin.h"
#include "cycle.h"
#include "runner.h"
#include "ship.h"
#include "spool.h"

#define MAX_CHECKS 32

struct daemon {
  const struct cg_daemon_opts *o;
  struct cg_config *cfg;
  struct cg_log log;                /* its own (once, worker) */
  struct cg_log *logp;              /* the one it writes to: &log, or the supervisor's */
  struct cg_backoff bo[MAX_CHECKS]; /* one per registry check */
  int64_t cycles;
};

static int load(struct daemon *d, struct cg_config *cfg, char *err, size_t errlen) {
  memset(cfg, 0, sizeof(*cfg));
  return cg_config_load(cfg, d->o->config_path, NULL, err, errlen);
}

static void open_log(struct daemon *d) {
  enum cg_log_level level = CG_LOG_INFO;
  cg_log_level_parse(d->cfg->log.level, &level);
  if (d->o->verbose) level = CG_LOG_DEBUG;
  if (d->log.lock) { /* a reload: threads of a hung check may still be logging */
    cg_log_reopen(&d->log, d->cfg->log.file, d->cfg->log.max_bytes, level);
    return;
  }
  cg_log_open(&d->log, d->cfg->log.file, d->cfg->log.max_bytes, level);
  d->log.echo_stderr = d->o->verbose;
  cg_log_threaded(&d->log);
}

/* Runs the enabled checks, each under check_timeout_s; a check that keeps ending in `error` is
 * skipped for 1, 2, 4 ... 16 cycles and its repeated error is logged once, not every cycle. */
static size_t registry_size(void) {
  size_t n = 0;
  while (cg_registry_checks()[n])
    n++;
  return n;
}

/* One cycle: checks, bundle, spool, drain (cycle.h). Returns the verdict's exit code (0/1/2) or 3. */
static int cycle(struct daemon *d, const char *why) {
  int64_t t0 = cg_time_mono_ms();
  d->cycles++;
  bool quiet = d->o->worker; /* the supervisor logs the cycle's start and end */
  if (!quiet) cg_log_info(d->logp, "daemon", "cycle %lld starts (%s)", (long long)d->cycles, why);
  cJSON *disc = cJSON_CreateObject();
  struct cg_env env = {.config = d->cfg,
                       .log = d->logp,
                       .interactive = false,
                       .discovery = disc,
                       .trigger = !strcmp(why, "network change") ? "network_change"
                                  : !strcmp(why, "--once")       ? "once"
                                                                 : "schedule"};
  struct cg_cycle_opts o = {.trigger = "schedule",
                            .deadline_ms = d->cfg->check_timeout_s * 1000,
                            .backoff = registry_size() <= MAX_CHECKS ? d->bo : NULL,
                            .spool = true,
                            .drain_budget_ms = d->cfg->delivery.drain_budget_s * 1000};
  struct cg_cycle c;
  char err[512] = "";
  int ec = 3;
  if (cg_cycle_run(&env, &o, &c, err, sizeof(err)) == CG_OK && c.bundle)
    ec = cg_verdict_exit_code(cg_results_overall(c.rs, c.n));
  if (!quiet)
    cg_log_info(d->logp, "daemon", "cycle %lld ended in %lld ms: %s", (long long)d->cycles,
                (long long)(cg_time_mono_ms() - t0),
                ec == 3   ? "could not run"
                : ec == 2 ? "fail"
                : ec == 1 ? "warn"
                          : "pass");
  cg_cycle_free(&c);
  cJSON_Delete(disc);
  return ec;
}

#define BACKOFF_FILE "backoff-state.json"
#define CRASH_FILE "worker-crash.json" /* read by the agent check (AGENT_WORKER_CRASHED) */

/* A worker keeps the checks' back-off across cycles in the state folder (the supervisor holds none). */
static void load_backoff(struct daemon *d) {
  char *path = cg_path_join(d->cfg->state_dir, BACKOFF_FILE), *text = NULL;
  size_t len = 0;
  if (path && cg_file_read(path, 64 * 1024, &text, &len) == CG_OK) {
    cJSON *j = cJSON_ParseWithLength(text, len);
    const struct cg_check_plugin *const *all = cg_registry_checks();
    for (size_t i = 0; all[i] && i < MAX_CHECKS; i++) {
      const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, all[i]->name);
      const cJSON *er = cJSON_GetObjectItemCaseSensitive(e, "errors"),
                  *sk = cJSON_GetObjectItemCaseSensitive(e, "skip");
      const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "last_code"));
      if (!cJSON_IsNumber(er) || !cJSON_IsNumber(sk) || !code) continue;
      d->bo[i].errors = (int)er->valuedouble;
      d->bo[i].skip = (int)sk->valuedouble;
      cg_strlcpy(d->bo[i].last_code, code, sizeof(d->bo[i].last_code));
    }
    cJSON_Delete(j);
  }
  cg_free(text);
  cg_free(path);
}

static void save_backoff(struct daemon *d) {
  cJSON *j = cJSON_CreateObject();
  const struct cg_check_plugin *const *all = cg_registry_checks();
  for (size_t i = 0; all[i] && i < MAX_CHECKS; i++) {
    if (!d->bo[i].errors) continue;
    cJSON *e = cJSON_AddObjectToObject(j, all[i]->name);
    cJSON_AddNumberToObject(e, "errors", d->bo[i].errors);
    cJSON_AddNumberToObject(e, "skip", d->bo[i].skip);
    cJSON_AddStringToObject(e, "last_code", d->bo[i].last_code);
  }
  char *text = cJSON_PrintUnformatted(j), *path = cg_path_join(d->cfg->state_dir, BACKOFF_FILE), err[256];
  if (text && path && cg_file_write_atomic(path, text, strlen(text), err, sizeof(err)) != CG_OK)
    cg_log_warn(d->logp, "daemon", "cannot save the checks' back-off: %s", err);
  cJSON_free(text);
  cg_free(path);
  cJSON_Delete(j);
}

/* The supervisor's settings from the full, validated configuration. */
static int full_load(const char *path, const char *worker_exe, struct cg_sup_settings *s, char *err, size_t errlen) {
  (void)worker_exe;
  struct cg_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  int rc = cg_config_load(&cfg, path, NULL, err, errlen);
  if (rc == CG_OK) {
    s->config_path = cg_strdup(cfg.path);
    s->state_dir = cg_strdup(cfg.state_dir);
    s->log_file = cg_strdup(cfg.log.file);
    s->log_level = cg_strdup(cfg.log.level ? cfg.log.level : "info");
    s->log_max_bytes = cfg.log.max_bytes;
    s->interval_s = cfg.interval_s;
    s->jitter_s = cfg.jitter_s;
    s->start_delay_s = cfg.start_delay_s;
    s->network_debounce_s = cfg.network_debounce_s;
    s->network_min_gap_s = cfg.network_min_gap_s;
    s->cycle_timeout_s = cfg.cycle_timeout_s;
    s->selftest_enabled = cfg.service_selftest.enabled;
    s->selftest_min_gap_s = cfg.service_selftest.min_gap_s;
    s->selftest_user_min_gap_s = cfg.service_selftest.user_min_gap_s;
    cg_strlcpy(s->unprivileged_user, cfg.unprivileged_user ? cfg.unprivileged_user : "", sizeof(s->unprivileged_user));
    if (!s->config_path || !s->state_dir || !s->log_file || !s->log_level) rc = CG_ERR_NOMEM;
  }
  cg_config_free(&cfg);
  return rc;
}

/* Linux: when cmgdiag-agent is installed next to this program, the configuration is checked here and
 * the supervisor runs as that small program (no TLS library resident between cycles). Returns
 * only when it is not there or cannot be started; then this process is the supervisor. */
static void hand_over(const struct cg_daemon_opts *o, const char *self) {
  char *dir = self ? cg_path_dirname(self) : NULL, *agent = dir ? cg_path_join(dir, "cmgdiag-agent") : NULL;
  char err[1024] = "";
  struct cg_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  if (agent && cg_file_exists(agent) && !o->service &&
      cg_config_load(&cfg, o->config_path, NULL, err, sizeof(err)) == CG_OK) {
    const char *argv[] = {agent, "-c", cfg.path, o->verbose ? "-v" : "run", o->verbose ? "run" : NULL, NULL};
    fflush(NULL);
    cg_child_exec_admin_only(argv, err, sizeof(err)); /* returns only on failure */
    fprintf(stderr, "cmgdiag: %s; the supervisor runs in this process\n", err);
  }
  cg_config_free(&cfg);
  cg_free(dir);
  cg_free(agent);
}

int cg_daemon_run(const struct cg_daemon_opts *o) {
  if (!o->once && !o->worker) { /* the supervisor: it starts this program as the worker of each cycle */
    char *self = cg_self_exe();
    hand_over(o, self);
    struct cg_sup_opts so = {.config_path = o->config_path,
                             .worker_exe = self,
                             .verbose = o->verbose,
                             .service = o->service,
                             .load = full_load};
    int ec = self ? cg_supervisor_run(&so) : 3;
    cg_free(self);
    return ec;
  }
  struct daemon d = {.o = o};
  d.logp = &d.log;
  char err[1024] = "";
  d.cfg = cg_calloc(1, sizeof(*d.cfg));
  if (!d.cfg) return 3;
  if (load(&d, d.cfg, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: configuration error: %s\n", err);
    cg_eventlog(2, err);
    cg_config_free(d.cfg);
    cg_free(d.cfg);
    return 3;
  }
  open_log(&d);
  if (o->worker) { /* one cycle for the supervisor, which holds the lock */
    cg_events_init();
    load_backoff(&d);
    int ec = cycle(&d, o->trigger && !strcmp(o->trigger, "network_change") ? "network change" : "timer");
    save_backoff(&d);
    return ec;
  }
  if (cg_agent_lock(d.cfg->state_dir, &d.log) != CG_OK) return 3; /* run --once */
  cg_events_init();
  cg_log_info(&d.log, "daemon", "agent %s started (process %lu, one cycle), config %s", CMGDIAG_VERSION,
              cg_process_id(), d.cfg->path);
  int ec = cycle(&d, "--once");
  cg_log_info(&d.log, "daemon", "agent stopped after one cycle");
  return ec;
}
