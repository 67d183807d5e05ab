/* Check runner. */
#include "runner.h"
#include "snapshot.h"

#include <string.h>

#include "log.h"
#include "redact.h"
#include "source.h"
#include "worker.h"
#include "platform/fs.h"
#include "platform/runtime.h"
#include "platform/sys.h"

/* Secrets out of what a check says, where the result is made, so that no edge (human output, --json,
 * the served stream, the log, events, LastResult, bundles) can miss one: URL user information, sig=,
 * Bearer tokens, password= values (cg_redact_text). Values only: a fact's name never changes it. */
static void redact_string(char **s) {
  char *r = *s ? cg_redact_text(*s) : NULL;
  if (r && strcmp(r, *s)) {
    cg_free(*s);
    *s = r;
  } else
    cg_free(r);
}

static void redact_values(cJSON *j, int depth) {
  for (cJSON *c = j && depth < 64 ? j->child : NULL; c; c = c->next) {
    if (cJSON_IsString(c) && c->valuestring) {
      char *r = cg_redact_text(c->valuestring);
      if (r && strcmp(r, c->valuestring)) cJSON_SetValuestring(c, r);
      cg_free(r);
    } else
      redact_values(c, depth + 1);
  }
}

void cg_run_redact(struct cg_result *res) {
  redact_string(&res->summary);
  redact_string(&res->remediation);
  if (res->detail) redact_string(&res->detail);
  redact_values(res->facts, 0);
}

static void run_check(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res, bool vet);

void cg_run_code(const struct cg_check_plugin *p, const char *suffix, char *code, size_t len) {
  char upper[48];
  size_t i = 0;
  for (; p->name[i] && i < sizeof(upper) - 1; i++)
    upper[i] = (p->name[i] >= 'a' && p->name[i] <= 'z') ? (char)(p->name[i] - 32) : p->name[i];
  upper[i] = '\0';
  cg_snprintf(code, len, "%s_%s", upper, suffix);
}

void cg_run_log_verdict(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_result *res) {
  /* CMTrace highlights what needs an eye: type 2 (yellow) for a warning, 3 (red) for a failure */
  enum cg_log_level lv = res->status == CG_FAIL || res->status == CG_ERROR ? CG_LOG_ERROR
                         : res->status == CG_WARN                          ? CG_LOG_WARNING
                                                                           : CG_LOG_INFO;
  cg_log_write(env->log, lv, "runner", CG_SRC, "check %s: %s %s", p->name, cg_verdict_name(res->status),
               res->code ? res->code : "");
}

void cg_run_check(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res) {
  run_check(p, env, res, true);
}

void cg_run_check_vetted(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res) {
  run_check(p, env, res, false);
}

static void run_check(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res, bool vet) {
  bool reads_capture =
      env->snapshot ||
      cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg_config_check(env->config, p->name), "input"));
  if (p->collect && !env->collected && !reads_capture) {
    cg_run_check_collected(p, env, NULL, 0, res); /* reads the device, then comes back here to judge */
    return;
  }
  int64_t start = cg_time_mono_ms();
  char err[512] = "";
  int rc = cg_result_init(res, p->name);
  void *ctx = rc == CG_OK ? cg_calloc(1, p->ctx_size ? p->ctx_size : 1) : NULL;
  bool inited = false;
  if (!ctx) rc = CG_ERR_NOMEM;
  if (rc == CG_OK) rc = cg_config_map_fill(p->config_map, cg_config_check(env->config, p->name), ctx);
  /* a trust root, key or capture that a non-administrator could change is not read (docs/security.md) */
  if (rc == CG_OK && vet && cg_config_check_files_trusted(env->config, p->name, err, sizeof(err)) != CG_OK)
    rc = CG_ERR_CONFIG;
  /* a check with a source reads the capture its `input` names (source.h) instead of the device */
  struct cg_env e = *env;
  e.input =
      !p->source ? NULL
      : env->snapshot
          ? env->snapshot
          : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cg_config_check(env->config, p->name), "input"));
  /* collecting a snapshot: a check that reads the device writes down what it read (snapshot.h) */
  if (!p->source || e.input) e.capture_put = NULL;
  char captured[40] = "";
  if (e.input) cg_capture_time(e.input, captured, sizeof(captured));
  e.captured_at = captured[0] ? captured : NULL;
  if (rc == CG_OK) {
    inited = true; /* fini runs after init also when init failed (plugin.h) */
    if (p->init) rc = p->init(ctx, &e, err, sizeof(err));
  }
  bool decided = false;
  if (rc == CG_OK && e.input) rc = cg_source_read(p, ctx, &e, res, &decided);
  if (rc == CG_OK && !decided) {
    cg_log_debug(env->log, "runner", "check %s starting%s%s", p->name, e.input ? " on the capture " : "",
                 e.input ? e.input : "");
    rc = p->run(ctx, &e, res);
    if (rc != CG_OK && !err[0]) cg_snprintf(err, sizeof(err), "%s", cg_strerror(rc));
  }
  if (rc == CG_OK && !res->code) {
    rc = CG_ERR_INTERNAL;
    cg_snprintf(err, sizeof(err), "the check ended without a verdict");
  }
  if (rc != CG_OK) {
    char code[80];
    /* A setting the check refused is the admin's to fix, not ours. */
    bool config = rc == CG_ERR_CONFIG;
    cg_run_code(p, config ? "CONFIG" : "INTERNAL_ERROR", code, sizeof(code));
    cg_result_set(res, CG_ERROR, code,
                  config
                      ? "Fix the setting in the configuration file or policy ('cmgdiag config check' shows the "
                        "effective values), then run the check again."
                      : "Run the check again with -v and send the agent log (cmgdiag.log) to the cmgdiag maintainers.",
                  "The %s check could not run: %s.", p->name, err);
    cg_log_error(env->log, "runner", "check %s could not run: %s", p->name, err);
  } else {
    cg_run_log_verdict(p, env, res);
    /* a capture judged as of another time says so, in the sentence a person reads */
    const char *asof = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res->facts, "judged_as_of"));
    char *said = asof && res->summary
                     ? cg_asprintf("%s Judged as of %s, when the capture was taken, not now.", res->summary, asof)
                     : NULL;
    if (said) {
      cg_free(res->summary);
      res->summary = said;
    }
  }
  if (ctx && inited && p->fini) p->fini(ctx);
  if (ctx) cg_config_map_release(p->config_map, ctx);
  cg_free(ctx);
  res->duration_ms = cg_time_mono_ms() - start;
  if (!res->facts) res->facts = cJSON_CreateObject();
  cg_run_redact(res);
}

struct job {
  const struct cg_check_plugin *p;
  struct cg_env env; /* borrowed config and log; its own copy of the discovery store */
  /* its own copy of what collect read and allowed: a check left behind past its deadline outlives
   * the caller's (cg_run_check_collected frees it when this returns) */
  struct cg_collection col;
  struct cg_result res;
  struct cg_mutex *m;
  bool done, abandoned;
};

static struct cg_mutex *abandoned_lock;
static int abandoned_count;

int cg_runner_abandoned(void) {
  if (!abandoned_lock) return 0;
  cg_mutex_lock(abandoned_lock);
  int n = abandoned_count;
  cg_mutex_unlock(abandoned_lock);
  return n;
}

static void job_free(struct job *j) {
  cg_collection_free(&j->col);
  cg_result_free(&j->res);
  cJSON_Delete(j->env.discovery);
  cg_mutex_free(j->m);
  cg_free(j);
}

static int job_take_collection(struct job *j, const struct cg_env *env) {
  const struct cg_collected *c = env->collected;
  for (size_t i = 0; i < c->count; i++) {
    int rc = cg_collection_add(&j->col, c->files[i].name, c->files[i].data, c->files[i].len);
    if (rc != CG_OK) return rc;
  }
  j->col.view.as_system = c->as_system;
  j->env.collected = &j->col.view;
  if (env->ask == cg_collection_ask) { /* the requests collect allowed, and which were made */
    const struct cg_collection *from = env->ask_user;
    for (size_t i = 0; i < from->npermits; i++) {
      int rc = cg_collection_permit(&j->col, from->permits[i].name, from->permits[i].fn, from->permits[i].prepared);
      if (rc != CG_OK) return rc;
      j->col.permits[j->col.npermits - 1].used = from->permits[i].used;
    }
    j->env.ask_user = &j->col;
  }
  return CG_OK;
}

static void job_main(void *arg) {
  struct job *j = arg;
  cg_run_check(j->p, &j->env, &j->res);
  cg_mutex_lock(j->m);
  j->done = true;
  bool abandoned = j->abandoned;
  cg_mutex_broadcast(j->m);
  cg_mutex_unlock(j->m);
  if (abandoned) {
    cg_log_info(j->env.log, "runner", "check %s ended after its deadline (%lld ms); its result was not used",
                j->p->name, (long long)j->res.duration_ms);
    job_free(j);
    cg_mutex_lock(abandoned_lock);
    abandoned_count--;
    cg_mutex_unlock(abandoned_lock);
  }
}

void cg_run_deadline_result(const struct cg_check_plugin *p, struct cg_result *res, int64_t deadline_ms,
                            const char *why) {
  char code[80];
  cg_run_code(p, "DEADLINE", code, sizeof(code));
  cg_result_init(res, p->name);
  cg_result_set(res, CG_ERROR, code,
                "A data source of this check hangs (a WMI query, a command, the network); the agent carries on "
                "and tries again next cycle. Raise check_timeout_s if the device is just slow.",
                "The %s check %s.", p->name, why);
  res->duration_ms = deadline_ms;
}

void cg_run_check_deadline(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_result *res,
                           int64_t deadline_ms) {
  if (!abandoned_lock) abandoned_lock = cg_mutex_new();
  struct job *j = cg_calloc(1, sizeof(*j));
  if (j) j->m = cg_mutex_new();
  if (!j || !j->m || !abandoned_lock) {
    if (j) cg_mutex_free(j->m);
    cg_free(j);
    cg_run_check(p, env, res); /* no thread to spare: run it here */
    return;
  }
  j->p = p;
  j->env = *env;
  j->env.discovery = env->discovery ? cJSON_Duplicate(env->discovery, true) : NULL;
  if (env->collected && job_take_collection(j, env) != CG_OK) {
    job_free(j);
    cg_run_check(p, env, res);
    return;
  }
  if (cg_thread_start(job_main, j) != CG_OK) {
    job_free(j);
    cg_run_check(p, env, res);
    return;
  }
  int64_t end = cg_time_mono_ms() + deadline_ms;
  cg_mutex_lock(j->m);
  while (!j->done && cg_time_mono_ms() < end && !cg_stop_requested()) {
    int64_t left = end - cg_time_mono_ms();
    cg_mutex_wait(j->m, left < 200 ? left : 200); /* wakes for a stop request too */
  }
  bool done = j->done;
  if (!done) j->abandoned = true;
  cg_mutex_unlock(j->m);
  if (done) {
    *res = j->res;
    memset(&j->res, 0, sizeof(j->res));
    if (env->discovery && j->env.discovery) { /* what the check published, for the checks after it */
      for (cJSON *c = j->env.discovery->child; c; c = c->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(env->discovery, c->string);
        cJSON_AddItemToObject(env->discovery, c->string, cJSON_Duplicate(c, true));
      }
    }
    job_free(j);
    return;
  }
  cg_mutex_lock(abandoned_lock);
  abandoned_count++;
  cg_mutex_unlock(abandoned_lock);
  cg_log_error(env->log, "runner", "check %s did not finish within its deadline of %lld s; left behind", p->name,
               (long long)(deadline_ms / 1000));
  cg_run_deadline_result(p, res, deadline_ms,
                         cg_stop_requested() ? "was interrupted by the agent stopping"
                                             : "did not finish within its deadline");
}

static bool listed(const char *only, const char *name) {
  size_t n = strlen(name);
  for (const char *p = only; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, name, n) == 0) return true;
    p += len + (p[len] == ',');
  }
  return false;
}

static bool has_key(const char *const *keys, const char *key) {
  for (size_t i = 0; keys && keys[i]; i++)
    if (!strcmp(keys[i], key)) return true;
  return false;
}

/* Which checks run and in what order: the selected ones, plus (with --only) the providers of what
 * they need among the checks that may provide (`enabled`: turned on, and on a snapshot, reading it),
 * each provider before the checks that need its key; registry order otherwise.
 * CG_ERR_CONFIG when the hand-overs form a cycle (tests/unit keeps the built-in ones acyclic). */
int cg_runner_plan(const struct cg_check_plugin *const *all, size_t n, const bool *selected, const bool *enabled,
                   size_t *order, size_t *norder, char *err, size_t errlen) {
  bool *run = cg_calloc(n ? n : 1, sizeof(bool)), *done = cg_calloc(n ? n : 1, sizeof(bool));
  int rc = run && done ? CG_OK : CG_ERR_NOMEM;
  for (size_t i = 0; rc == CG_OK && i < n; i++)
    run[i] = selected[i];
  for (bool grew = true; rc == CG_OK && grew;) { /* add providers until nothing changes */
    grew = false;
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; run[i] && all[i]->needs && all[i]->needs[k]; k++)
        for (size_t j = 0; j < n; j++)
          if (!run[j] && enabled[j] && has_key(all[j]->provides, all[i]->needs[k])) run[j] = grew = true;
  }
  *norder = 0;
  size_t want = 0;
  for (size_t i = 0; rc == CG_OK && i < n; i++)
    want += run[i];
  while (rc == CG_OK && *norder < want) { /* Kahn: the first check, in registry order, whose providers ran */
    size_t pick = SIZE_MAX;
    for (size_t i = 0; i < n && pick == SIZE_MAX; i++) {
      if (!run[i] || done[i]) continue;
      bool ready = true;
      for (size_t k = 0; ready && all[i]->needs && all[i]->needs[k]; k++)
        for (size_t j = 0; ready && j < n; j++)
          ready = !(j != i && run[j] && !done[j] && has_key(all[j]->provides, all[i]->needs[k]));
      if (ready) pick = i;
    }
    if (pick == SIZE_MAX) {
      cg_snprintf(err, errlen, "the checks' hand-overs form a cycle (needs and provides of the remaining checks)");
      rc = CG_ERR_CONFIG;
      break;
    }
    done[pick] = true;
    order[(*norder)++] = pick;
  }
  cg_free(run);
  cg_free(done);
  return rc;
}

/* A need no check of this run provides: said in the facts, with the reason. */
static void note_missing(const struct cg_check_plugin *const *all, size_t n, const bool *ran, const bool *enabled,
                         size_t i, struct cg_result *res) {
  cJSON *miss = NULL;
  for (size_t k = 0; all[i]->needs && all[i]->needs[k]; k++) {
    const char *key = all[i]->needs[k], *provider = NULL;
    bool met = false;
    for (size_t j = 0; j < n; j++)
      if (has_key(all[j]->provides, key)) {
        provider = all[j]->name;
        met |= ran[j];
        if (ran[j]) break;
      }
    if (met || !provider) continue;
    if (!miss) miss = cJSON_AddArrayToObject(res->facts, "handover_missing");
    char why[200];
    size_t j = 0;
    while (j < n && strcmp(all[j]->name, provider))
      j++;
    cg_snprintf(why, sizeof(why), "%s: %s is %s", key, provider, j < n && !enabled[j] ? "disabled" : "not in this run");
    cJSON_AddItemToArray(miss, cJSON_CreateString(why));
  }
}

/* A check that errs twice in a row rests; one that recovers is said so. False: it rests this cycle
 * (res is its `error` result then). */
static bool backoff_before(const struct cg_check_plugin *p, struct cg_backoff *b, struct cg_result *res) {
  if (!b || b->skip <= 0) return true;
  b->skip--;
  char code[80];
  cg_snprintf(code, sizeof(code), "%s", b->last_code);
  cg_result_init(res, p->name);
  cg_result_set(res, CG_ERROR, code, "See the agent log for the first occurrence of this error.",
                "The %s check failed %d cycle(s) in a row (%s); it rests for %d more cycle(s) before the next try.",
                p->name, b->errors, b->last_code, b->skip);
  cJSON_AddBoolToObject(res->facts, "backed_off", true);
  return false;
}

static void backoff_after(const struct cg_check_plugin *p, struct cg_backoff *b, const struct cg_result *res,
                          struct cg_log *log) {
  if (!b) return;
  if (res->status == CG_ERROR && !cg_stop_requested()) {
    bool same = !strcmp(b->last_code, res->code);
    b->errors++;
    int rest = 1 << (b->errors - 1 < 4 ? b->errors - 1 : 4);
    b->skip = b->errors >= 2 ? rest : 0;
    cg_strlcpy(b->last_code, res->code, sizeof(b->last_code));
    if (!same)
      cg_log_warn(log, "runner", "check %s: %s (%s%s%s)", p->name, res->code, res->summary, res->detail ? " " : "",
                  res->detail ? res->detail : "");
    else
      cg_log_debug(log, "runner", "check %s: still %s (%d cycles)", p->name, res->code, b->errors);
  } else if (res->status != CG_ERROR) {
    if (b->errors) cg_log_info(log, "runner", "check %s recovered after %d failed cycle(s)", p->name, b->errors);
    b->errors = b->skip = 0;
    b->last_code[0] = '\0';
  }
}

/* One check of a snapshot: judged on its folder, or its record as the device gave it (snapshot.h). */
static void run_snapshot(const struct cg_check_plugin *p, const struct cg_env *env, const cJSON *manifest,
                         const struct cg_worker_user *wu, int64_t deadline_ms, struct cg_result *res) {
  if (!strcmp(cg_snapshot_judged_from(manifest, p->name), "recorded") || !p->source) {
    if (cg_snapshot_recorded(manifest, p->name, res) != CG_OK && cg_result_init(res, p->name) == CG_OK) {
      char code[80];
      cg_run_code(p, "NOT_IN_SNAPSHOT", code, sizeof(code));
      cg_result_set(res, CG_ERROR, code, "Collect the snapshot again ('cmgdiag collect --out NEW-FOLDER').",
                    "The snapshot's manifest has no usable record of the %s check.", p->name);
    }
    return;
  }
  struct cg_env ce = *env;
  char *dir = cg_snapshot_check_dir(env->snapshot, p->name);
  ce.snapshot = dir ? dir : env->snapshot;
  /* judged with the device's settings, not this machine's (a helpdesk PC has none) */
  struct cg_config cc;
  char why[400] = "";
  cJSON *root = cg_snapshot_settings(manifest, env->config, p, why, sizeof(why));
  if (root) {
    cc = *env->config;
    cc.root = root;
    ce.config = &cc;
  }
  /* another device's captures are parsed without privilege where there is a worker (its copy of the
   * check's files; the device's settings name no file read here). Else in this thread: a check left
   * behind at a deadline would outlive `dir`; a capture is files, parsed in linear time, with no
   * network step (captures.md) */
  char untrusted[300];
  if (wu && dir && cg_path_is_plain_dir(dir) &&
      cg_config_check_files_trusted(ce.config, p->name, untrusted, sizeof(untrusted)) == CG_OK)
    cg_run_check_worker(p, &ce, wu, deadline_ms, res);
  else if (p->source->snapshot_only && root)
    cg_run_check_vetted(p, &ce, res); /* its transcript answers for the files its settings name */
  else
    cg_run_check(p, &ce, res);
  cJSON_DeleteItemFromObjectCaseSensitive(res->facts, "snapshot");
  cJSON *sf = cJSON_AddObjectToObject(res->facts, "snapshot");
  cJSON_AddStringToObject(sf, "path", env->snapshot);
  cJSON_AddStringToObject(sf, "settings", root ? "the device's, from the snapshot" : "this machine's");
  if (why[0]) cJSON_AddStringToObject(sf, "settings_why", why);
  cJSON_Delete(root);
  cg_free(dir);
}

int cg_run_checks(const struct cg_env *env, const char *only, int64_t deadline_ms, struct cg_backoff *backoff,
                  struct cg_result **results, size_t *count, char *err, size_t errlen) {
  const struct cg_check_plugin *const *all = cg_registry_checks();
  size_t n = 0;
  while (all[n])
    n++;
  if (only) {
    for (const char *p = only; *p;) {
      size_t len = strcspn(p, ",");
      char name[64];
      cg_snprintf(name, sizeof(name), "%.*s", (int)len, p);
      if (len && !cg_registry_find_check(name)) {
        const char *hint = cg_registry_suggest_check(name);
        cg_snprintf(err, errlen, "--only: unknown check '%s'%s%s%s", name, hint ? "; did you mean '" : "",
                    hint ? hint : "", hint ? "'?" : "");
        return CG_ERR_USAGE;
      }
      p += len + (p[len] == ',');
    }
  }
  struct cg_result *rs = cg_calloc(n ? n : 1, sizeof(*rs));
  bool *selected = cg_calloc(n ? n : 1, sizeof(bool)), *enabled = cg_calloc(n ? n : 1, sizeof(bool)),
       *ran = cg_calloc(n ? n : 1, sizeof(bool));
  size_t *order = cg_calloc(n ? n : 1, sizeof(size_t)), norder = 0;
  int rc = rs && selected && enabled && ran && order ? CG_OK : CG_ERR_NOMEM;
  bool *may_provide = cg_calloc(n ? n : 1, sizeof(bool));
  if (!may_provide) rc = CG_ERR_NOMEM;
  /* a snapshot of `cmgdiag collect` says per check how it is judged (snapshot.h) */
  cJSON *manifest = NULL;
  if (rc == CG_OK && env->snapshot) {
    int mrc = cg_snapshot_load(env->snapshot, &manifest, err, errlen);
    if (mrc != CG_OK && mrc != CG_ERR_NOTFOUND) rc = CG_ERR_USAGE;
  }
  for (size_t i = 0; rc == CG_OK && i < n; i++) {
    /* on a snapshot (another device's capture) this device's configuration does not turn a check off */
    bool reads = all[i]->source && !all[i]->source->snapshot_only; /* another check's capture folder */
    enabled[i] = manifest ? cg_snapshot_judged_from(manifest, all[i]->name) != NULL
                          : cg_config_check_enabled(env->config, all[i]->name) || (env->snapshot && reads);
    selected[i] = only ? listed(only, all[i]->name) : enabled[i];
    /* on a snapshot, a provider that cannot read it would hand over this machine's state instead */
    may_provide[i] = enabled[i] && (!env->snapshot || reads || manifest);
  }
  if (rc == CG_OK) rc = cg_runner_plan(all, n, selected, may_provide, order, &norder, err, errlen);
  cg_free(may_provide);
  /* the network checks run without privilege where an account for it exists (worker.h) */
  struct cg_worker_user wu;
  char why[300];
  bool can_drop = cg_worker_account(env->config, &wu, why, sizeof(why)) == CG_OK;
  bool worker = !env->snapshot && can_drop;
  if (rc == CG_OK && !can_drop)
    cg_log_info(env->log, "runner", "the %s run in this process, with its privilege: %s",
                env->snapshot ? "checks judging the capture" : "network checks", why);
  /* what every check of this run is told; kept for the process's life, since a check left behind at
   * its deadline still holds the environment (one run at a time per process) */
  static char account[64], off[300];
  cg_strlcpy(account, worker ? wu.name : "", sizeof(account));
  cg_strlcpy(off, worker ? "" : env->snapshot ? "a capture is judged" : why, sizeof(off));
  struct cg_env run_env = *env;
  run_env.worker_account = account[0] ? account : NULL;
  run_env.worker_off = off[0] ? off : NULL;
  env = &run_env;
  size_t k = 0;
  for (size_t o = 0; rc == CG_OK && o < norder && !cg_stop_requested(); o++) {
    size_t i = order[o];
    struct cg_backoff *b = backoff ? &backoff[i] : NULL;
    if (env->progress) env->progress(env->progress_user, all[i]->name, NULL);
    if (manifest && enabled[i]) {
      run_snapshot(all[i], env, manifest, manifest && can_drop ? &wu : NULL, deadline_ms, &rs[k]);
    } else if (!enabled[i]) {
      /* --only (a person, or a standard user through the service) narrows what runs among the checks
       * the administrator enabled; it never runs one the configuration turned off */
      char code[80], rem[160];
      cg_run_code(all[i], manifest ? "NOT_IN_SNAPSHOT" : "DISABLED", code, sizeof(code));
      cg_snprintf(rem, sizeof(rem), "checks.%s.enabled turns it on.", all[i]->name); /* "For your administrator:" */
      if (manifest && cg_result_init(&rs[k], all[i]->name) == CG_OK)
        cg_result_set(&rs[k], CG_SKIP, code, "Collect the snapshot again with this check turned on.",
                      "The %s check did not run when the snapshot was collected, so there is nothing to judge.",
                      all[i]->name);
      else if (cg_result_init(&rs[k], all[i]->name) == CG_OK)
        cg_result_set(&rs[k], CG_SKIP, code, rem,
                      "The %s check is turned off in this device's configuration, so it was not run.", all[i]->name);
    } else if (backoff_before(all[i], b, &rs[k])) {
      bool capture = cJSON_GetStringValue(
                         cJSON_GetObjectItemCaseSensitive(cg_config_check(env->config, all[i]->name), "input")) != NULL;
      if (worker && all[i]->collect && !capture) /* reads the device here, judges in the worker */
        cg_run_check_collected(all[i], env, &wu, deadline_ms, &rs[k]);
      else if (env->snapshot && can_drop && all[i]->source &&
               (cg_path_is_plain_file(env->snapshot) || cg_path_is_plain_dir(env->snapshot)))
        cg_run_check_worker(all[i], env, &wu, deadline_ms, &rs[k]); /* another device's capture (it vets the files) */
      else if (worker && all[i]->unprivileged)
        cg_run_check_worker(all[i], env, &wu, deadline_ms, &rs[k]);
      else if (deadline_ms > 0)
        cg_run_check_deadline(all[i], env, &rs[k], deadline_ms);
      else
        cg_run_check(all[i], env, &rs[k]);
      backoff_after(all[i], b, &rs[k], env->log);
    }
    note_missing(all, n, ran, enabled, i, &rs[k]);
    if (!selected[i]) cJSON_AddStringToObject(rs[k].facts, "ran_for", "the hand-over to a check of --only");
    if (env->progress) env->progress(env->progress_user, all[i]->name, &rs[k]);
    ran[i] = true;
    k++;
  }
  cJSON_Delete(manifest);
  cg_free(selected);
  cg_free(enabled);
  cg_free(ran);
  cg_free(order);
  if (rc != CG_OK) {
    cg_results_free(rs, k);
    return rc;
  }
  *results = rs;
  *count = k;
  return CG_OK;
}

void cg_results_free(struct cg_result *rs, size_t n) {
  for (size_t i = 0; rs && i < n; i++)
    cg_result_free(&rs[i]);
  cg_free(rs);
}

/* One plugin's init on its section, then fini: what `config check` and `setup` ask of it. */
static int try_init(const struct cg_config_map *map, const cJSON *sec, size_t ctx_size,
                    int (*init)(void *, const struct cg_env *, char *, size_t), void (*fini)(void *),
                    const struct cg_env *env, char *err, size_t errlen) {
  void *ctx = cg_calloc(1, ctx_size ? ctx_size : 1);
  if (!ctx) return CG_ERR_NOMEM;
  int rc = cg_config_map_fill(map, sec, ctx);
  if (rc == CG_OK && init) {
    rc = init(ctx, env, err, errlen);
    if (fini) fini(ctx);
  }
  cg_config_map_release(map, ctx);
  cg_free(ctx);
  return rc;
}

int cg_runner_try_settings(const struct cg_config *cfg, char *err, size_t errlen) {
  struct cg_env env = {.config = cfg, .trigger = "config"};
  char why[512];
  int mrc = cg_config_check_meanings(cfg, err, errlen);
  if (mrc != CG_OK) return mrc;
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++) {
    if (!cg_config_check_enabled(cfg, (*p)->name) || !(*p)->init) continue;
    why[0] = '\0';
    int rc = try_init((*p)->config_map, cg_config_check(cfg, (*p)->name), (*p)->ctx_size, (*p)->init, (*p)->fini, &env,
                      why, sizeof(why));
    if (rc != CG_OK) {
      cg_snprintf(err, errlen, "check %s: %s", (*p)->name, why[0] ? why : cg_strerror(rc));
      return rc;
    }
  }
  int i = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(cfg->root, "outputs")) {
    const struct cg_output_plugin *p =
        cg_registry_find_output(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type")));
    why[0] = '\0';
    int rc = p ? try_init(p->config_map, o, p->ctx_size, p->init, p->fini, &env, why, sizeof(why)) : CG_OK;
    if (rc != CG_OK) {
      cg_snprintf(err, errlen, "outputs[%d] (%s): %s", i, p->name, why[0] ? why : cg_strerror(rc));
      return rc;
    }
    i++;
  }
  return CG_OK;
}
