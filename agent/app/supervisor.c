/* The supervisor (see supervisor.h). */
#include "supervisor.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cg.h"
#include "log.h"
#include "platform/child.h"
#include "platform/fs.h"
#include "platform/runtime.h"
#include "platform/service.h"
#include "platform/sys.h"
#include "served.h"

#define CRASH_FILE "worker-crash.json" /* read by the agent check (AGENT_WORKER_CRASHED) */

struct sup {
  const struct cg_sup_opts *o;
  struct cg_sup_settings s;
  struct cg_log log;
  uint64_t rng;
  int64_t cycles;
  struct cg_served *served; /* self-tests for standard users (served.h) */
};

static struct cg_served_settings served_settings(const struct sup *d) {
  struct cg_served_settings s = {.enabled = d->s.selftest_enabled,
                                 .min_gap_s = d->s.selftest_min_gap_s,
                                 .user_min_gap_s = d->s.selftest_user_min_gap_s,
                                 .timeout_s = d->s.cycle_timeout_s,
                                 .config_path = d->s.config_path};
  cg_strlcpy(s.unprivileged_user, d->s.unprivileged_user, sizeof(s.unprivileged_user));
  return s;
}

void cg_sup_settings_free(struct cg_sup_settings *s) {
  cg_free(s->config_path);
  cg_free(s->state_dir);
  cg_free(s->log_file);
  cg_free(s->log_level);
  memset(s, 0, sizeof(*s));
}

static int64_t rand_below(struct sup *d, int64_t n) {
  d->rng ^= d->rng << 13;
  d->rng ^= d->rng >> 7;
  d->rng ^= d->rng << 17;
  return n > 0 ? (int64_t)(d->rng % (uint64_t)n) : 0;
}

static void open_log(struct sup *d, bool reopen) {
  enum cg_log_level level = CG_LOG_INFO;
  cg_log_level_parse(d->s.log_level, &level);
  if (d->o->verbose) level = CG_LOG_DEBUG;
  if (reopen) {
    cg_log_reopen(&d->log, d->s.log_file, d->s.log_max_bytes, level);
    return;
  }
  cg_log_open(&d->log, d->s.log_file, d->s.log_max_bytes, level);
  d->log.echo_stderr = d->o->verbose;
  cg_log_threaded(&d->log);
}

/* What became of the last worker, for the next bundle: written when it crashed or hung, removed
 * when a worker ended normally (its bundle carried the report). */
static void record_worker(struct sup *d, const struct cg_child_status *st, bool killed, int64_t ms) {
  char *path = cg_path_join(d->s.state_dir, CRASH_FILE), err[256];
  if (!path) return;
  bool normal = !killed && st->exited && st->exit_code >= 0 && st->exit_code <= 3;
  if (normal) {
    if (cg_file_exists(path)) cg_file_remove(path);
  } else {
    char when[40];
    cg_time_rfc3339(cg_time_utc_ms(), when, sizeof(when));
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "time", when);
    cJSON_AddStringToObject(j, "how", killed ? "hung" : "crashed");
    cJSON_AddStringToObject(j, "status", st->text);
    if (st->signal) cJSON_AddNumberToObject(j, "signal", st->signal);
    if (st->exception) cJSON_AddNumberToObject(j, "exception", (double)st->exception);
    if (st->exited) cJSON_AddNumberToObject(j, "exit_code", st->exit_code);
    cJSON_AddNumberToObject(j, "after_ms", (double)ms);
    cJSON_AddNumberToObject(j, "cycle_timeout_s", (double)d->s.cycle_timeout_s);
    char *text = cJSON_PrintUnformatted(j);
    if (text && cg_file_write_atomic(path, text, strlen(text), err, sizeof(err)) != CG_OK)
      cg_log_warn(&d->log, "daemon", "cannot record the worker's end: %s", err);
    cJSON_free(text);
    cJSON_Delete(j);
  }
  cg_free(path);
}

/* Waits for the worker within the cycle's deadline; a stop asks it to stop and kills it after 3 s.
 * Network changes and reloads that arrive meanwhile are kept for the main loop. */
static bool wait_worker(struct sup *d, struct cg_child *c, struct cg_child_status *st, bool *stop, bool *reload,
                        bool *net) {
  int64_t start = cg_time_mono_ms(), deadline = start + d->s.cycle_timeout_s * 1000, stop_at = -1;
  while (!cg_child_ended(c, st)) {
    int64_t now = cg_time_mono_ms();
    if ((stop_at >= 0 && now >= stop_at) || (stop_at < 0 && now >= deadline)) {
      cg_child_kill(c);
      for (int i = 0; i < 300 && !cg_child_ended(c, st); i++)
        cg_events_wait(10);
      return stop_at < 0; /* killed at the deadline: it hung */
    }
    enum cg_wake w = cg_events_wait(100);
    if (w == CG_WAKE_STOP && stop_at < 0) {
      *stop = true;
      cg_child_stop(c);
      stop_at = cg_time_mono_ms() + 3000;
    } else if (w == CG_WAKE_RELOAD) {
      *reload = true;
    } else if (w == CG_WAKE_NETWORK) {
      *net = true;
    }
  }
  return false;
}

/* One cycle in a worker process of its own: a crash or a hang of a check or a parser ends that
 * process, not the agent. */
static int supervise(struct sup *d, const char *why, bool *stop, bool *reload, bool *net) {
  int64_t t0 = cg_time_mono_ms();
  d->cycles++;
  char *self = cg_strdup(d->o->worker_exe), err[512] = "";
  const char *trigger = !strcmp(why, "network change") ? "network_change" : "schedule";
  const char *argv[10];
  size_t k = 0;
  argv[k++] = self;
  argv[k++] = "-c";
  argv[k++] = d->s.config_path;
  if (d->o->verbose) argv[k++] = "-v";
  argv[k++] = "run";
  argv[k++] = "--worker";
  argv[k++] = "--trigger";
  argv[k++] = trigger;
  argv[k] = NULL;
  struct cg_child *c = NULL;
  if (!self || cg_child_start(argv, &c, err, sizeof(err)) != CG_OK) {
    cg_log_error(&d->log, "daemon", "cycle %lld: %s", (long long)d->cycles, err[0] ? err : "no executable path");
    cg_free(self);
    return 3;
  }
  cg_log_info(&d->log, "daemon", "cycle %lld starts (%s)", (long long)d->cycles, why);
  cg_log_debug(&d->log, "daemon", "cycle %lld runs in worker process %lu", (long long)d->cycles, cg_child_pid(c));
  struct cg_child_status st;
  bool hung = wait_worker(d, c, &st, stop, reload, net);
  int64_t ms = cg_time_mono_ms() - t0;
  if (!*stop) record_worker(d, &st, hung, ms);
  if (hung)
    cg_log_error(&d->log, "daemon", "cycle %lld: the worker did not finish within %llds and was killed",
                 (long long)d->cycles, (long long)d->s.cycle_timeout_s);
  else if (!st.exited && !*stop)
    cg_log_error(&d->log, "daemon", "cycle %lld: the worker crashed (%s)", (long long)d->cycles, st.text);
  int ec = st.exited ? st.exit_code : 3;
  cg_log_write(&d->log,
               ec >= 2   ? CG_LOG_ERROR
               : ec == 1 ? CG_LOG_WARNING
                         : CG_LOG_INFO,
               "daemon", CG_SRC, "cycle %lld ended in %lld ms: %s (worker: %s, peak %lld KB)", (long long)d->cycles,
               (long long)ms,
               ec == 3   ? "could not run"
               : ec == 2 ? "fail"
               : ec == 1 ? "warn"
                         : "pass",
               st.text, (long long)st.max_rss_kb);
  cg_child_free(c);
  cg_free(self);
  return ec;
}

static void reload(struct sup *d) {
  struct cg_sup_settings n;
  char err[1024] = "";
  memset(&n, 0, sizeof(n));
  if (d->o->load(d->s.config_path, d->o->worker_exe, &n, err, sizeof(err)) != CG_OK) {
    cg_log_error(&d->log, "daemon", "reload refused, the running configuration stays: %s", err);
    cg_sup_settings_free(&n);
    return;
  }
  cg_sup_settings_free(&d->s);
  d->s = n;
  open_log(d, true);
  struct cg_served_settings ss = served_settings(d);
  if (d->served)
    cg_served_update(d->served, &ss);
  else
    d->served = cg_served_start(d->o->worker_exe, &d->log, &ss);
  cg_log_info(&d->log, "daemon", "configuration reloaded from %s: interval %llds, jitter %llds", d->s.config_path,
              (long long)d->s.interval_s, (long long)d->s.jitter_s);
}

/* The scheduling loop: timer, network changes (debounced, with a least gap), reload, stop. */
static void loop(struct sup *d) {
  int64_t next = cg_time_mono_ms() + rand_below(d, d->s.start_delay_s * 1000 + 1);
  int64_t net_due = -1, last_net_cycle = -1000000000;
  cg_log_info(&d->log, "daemon", "first cycle in %lld s (random start delay up to %llds)",
              (long long)((next - cg_time_mono_ms()) / 1000), (long long)d->s.start_delay_s);
  for (;;) {
    int64_t now = cg_time_mono_ms(), due = next;
    if (net_due >= 0 && net_due < due) due = net_due;
    enum cg_wake w = due > now ? cg_events_wait(due - now) : CG_WAKE_TIMEOUT;
    if (w == CG_WAKE_STOP) break;
    if (w == CG_WAKE_RELOAD) {
      reload(d);
      next = cg_time_mono_ms() + d->s.interval_s * 1000 + rand_below(d, d->s.jitter_s * 1000 + 1);
      continue;
    }
    bool net = w == CG_WAKE_NETWORK;
    if (!net) {
      now = cg_time_mono_ms();
      const char *why = "timer";
      if (net_due >= 0 && now >= net_due) {
        net_due = -1;
        if (now - last_net_cycle < d->s.network_min_gap_s * 1000) {
          cg_log_info(&d->log, "daemon", "network change: the last extra cycle was %lld s ago, skipped",
                      (long long)((now - last_net_cycle) / 1000));
          continue;
        }
        last_net_cycle = now;
        why = "network change";
      } else if (now < next) {
        continue;
      }
      bool stop = false, reloaded = false;
      supervise(d, why, &stop, &reloaded, &net);
      if (stop || cg_stop_requested()) break;
      if (reloaded) reload(d);
      if (!strcmp(why, "timer"))
        next = cg_time_mono_ms() + d->s.interval_s * 1000 + rand_below(d, d->s.jitter_s * 1000 + 1);
      cg_log_debug(&d->log, "daemon", "next cycle in %lld ms", (long long)(next - cg_time_mono_ms()));
    }
    if (net && d->s.network_debounce_s > 0) { /* more changes push it back */
      net_due = cg_time_mono_ms() + d->s.network_debounce_s * 1000;
      cg_log_info(&d->log, "daemon", "network change; an extra cycle in %llds unless it changes again",
                  (long long)d->s.network_debounce_s);
    }
  }
}

int cg_agent_lock(const char *state_dir, struct cg_log *log) {
  char err[1024] = "";
  int rc = cg_dir_ensure_private(state_dir, err, sizeof(err));
  char *lock = cg_path_join(state_dir, "cmgdiag.lock");
  if (rc == CG_OK) rc = lock ? cg_instance_lock(lock, err, sizeof(err)) : CG_ERR_NOMEM;
  cg_free(lock);
  if (rc != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    cg_log_error(log, "daemon", "not started: %s", err);
    cg_eventlog(2, err);
  }
  return rc;
}

int cg_supervisor_run(const struct cg_sup_opts *o) {
  struct sup d = {.o = o};
  char err[1024] = "";
  if (o->load(o->config_path, o->worker_exe, &d.s, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: configuration error: %s\n", err);
    cg_eventlog(2, err);
    cg_sup_settings_free(&d.s);
    return 3;
  }
  open_log(&d, false);
  d.rng = (uint64_t)cg_time_utc_ms() ^ ((uint64_t)cg_process_id() << 32) ^ 0x9E3779B97F4A7C15ull;
  if (cg_agent_lock(d.s.state_dir, &d.log) != CG_OK) {
    cg_sup_settings_free(&d.s);
    return 3;
  }
  cg_events_init();
  cg_log_info(&d.log, "daemon",
              "agent %s started (process %lu, %s): interval %llds, jitter %llds, config %s; each cycle runs in a "
              "worker process",
              CMGDIAG_VERSION, cg_process_id(), o->service ? "Windows service" : "console", (long long)d.s.interval_s,
              (long long)d.s.jitter_s, d.s.config_path);
  struct cg_served_settings ss = served_settings(&d);
  d.served = cg_served_start(o->worker_exe, &d.log, &ss);
  loop(&d);
  cg_served_stop(d.served);
  cg_log_info(&d.log, "daemon", "agent stopped (%lld cycle(s))", (long long)d.cycles);
  cg_sup_settings_free(&d.s);
  return 0;
}
