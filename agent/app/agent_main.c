/* cmgdiag-agent: the supervisor of `cmgdiag run` as a program of its own (Linux), so that the process
 * that stays resident between cycles carries no TLS library and no check: `cmgdiag run` checks the
 * configuration and hands over to it when it is installed next to cmgdiag; every cycle still runs
 * in a cmgdiag worker process. Its settings are the few the supervisor needs; the whole file is
 * validated by `cmgdiag config check` (a worker of its own) before it is used, also on reload.
 *   cmgdiag-agent -c CONFIG [-v] run */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cg.h"
#include "platform/child.h"
#include "platform/fs.h"
#include "platform/runtime.h"
#include "platform/sys.h"
#include "supervisor.h"

/* `cmgdiag -c CONFIG config check`: the full validation, by the program that will use the file. */
static int validate(const char *path, const char *worker_exe, char *err, size_t errlen) {
  const char *argv[] = {worker_exe, "-c", path, "config", "check", NULL};
  struct cg_child *c = NULL;
  struct cg_child_status st;
  int rc = cg_child_start(argv, &c, err, errlen);
  if (rc != CG_OK) return rc;
  int64_t end = cg_time_mono_ms() + 60000;
  while (!cg_child_ended(c, &st) && cg_time_mono_ms() < end)
    cg_events_wait(20);
  if (!cg_child_ended(c, &st)) cg_child_kill(c);
  rc = cg_child_ended(c, &st) && st.exited && st.exit_code == 0 ? CG_OK : CG_ERR_CONFIG;
  if (rc != CG_OK) cg_snprintf(err, errlen, "%s does not pass 'cmgdiag config check' (%s)", path, st.text);
  cg_child_free(c);
  return rc;
}

static int64_t num(const cJSON *o, const char *k, int64_t def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

static char *str(const cJSON *o, const char *k, char *(*def)(void), const char *literal) {
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
  return v ? cg_strdup(v) : def ? def() : cg_strdup(literal);
}

/* The defaults are those of the configuration reference (cmgdiag's config map). */
static int lean_load(const char *path, const char *worker_exe, struct cg_sup_settings *s, char *err, size_t errlen) {
  char *file = path ? cg_strdup(path) : cg_default_config_path(), *text = NULL;
  size_t len = 0;
  int rc = file ? validate(file, worker_exe, err, errlen) : CG_ERR_NOMEM;
  if (rc == CG_OK && cg_file_exists(file) && (rc = cg_file_read(file, 4 * 1024 * 1024, &text, &len)) != CG_OK)
    cg_snprintf(err, errlen, "%s cannot be read: %s", file, cg_strerror(rc));
  cJSON *j = text ? cJSON_ParseWithLength(text, len) : cJSON_CreateObject();
  if (rc == CG_OK) {
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(j, "log");
    s->config_path = file;
    file = NULL;
    s->state_dir = str(j, "state_dir", cg_default_state_dir, NULL);
    s->log_file = str(log, "file", cg_default_log_file, NULL);
    s->log_level = str(log, "level", NULL, "info");
    s->log_max_bytes = num(log, "max_bytes", 250000);
    s->interval_s = num(j, "interval_s", 3600);
    s->jitter_s = num(j, "jitter_s", 600);
    s->start_delay_s = num(j, "start_delay_s", 120);
    s->network_debounce_s = num(j, "network_debounce_s", 30);
    s->network_min_gap_s = num(j, "network_min_gap_s", 300);
    s->cycle_timeout_s = num(j, "cycle_timeout_s", 900);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "service_selftest");
    s->selftest_enabled = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "enabled"));
    s->selftest_min_gap_s = num(st, "min_gap_s", 60);
    s->selftest_user_min_gap_s = num(st, "user_min_gap_s", 120);
    const cJSON *uu = cJSON_GetObjectItemCaseSensitive(j, "unprivileged_user"); /* null: none */
    cg_strlcpy(s->unprivileged_user,
               !uu                  ? "cmgdiag"
               : cJSON_IsString(uu) ? uu->valuestring
                                    : "",
               sizeof(s->unprivileged_user));
    if (!s->state_dir || !s->log_file || !s->log_level) rc = CG_ERR_NOMEM;
  }
  cJSON_Delete(j);
  cg_free(text);
  cg_free(file);
  return rc;
}

int main(int argc, char **argv) {
  const char *config = NULL;
  bool verbose = false, run = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-c") && i + 1 < argc)
      config = argv[++i];
    else if (!strcmp(argv[i], "-v"))
      verbose = true;
    else if (!strcmp(argv[i], "run"))
      run = true;
    else {
      fprintf(stderr, "cmgdiag-agent: started by 'cmgdiag run'; usage: cmgdiag-agent -c CONFIG [-v] run\n");
      return 3;
    }
  }
  char *self = cg_self_exe(), *dir = self ? cg_path_dirname(self) : NULL;
  char *worker = dir ? cg_path_join(dir, "cmgdiag") : NULL;
  if (!run || !worker || !cg_file_exists(worker)) {
    fprintf(stderr, "cmgdiag-agent: %s\n", run ? "cmgdiag is not installed next to cmgdiag-agent" : "nothing to do");
    return 3;
  }
  /* the program every cycle runs: only administrators may change it, or it is not started */
  intptr_t h = -1;
  char why[512];
  if (cg_file_open_admin_only(worker, &h, NULL, why, sizeof(why)) != CG_OK) {
    fprintf(stderr, "cmgdiag-agent: %s\n", why);
    return 3;
  }
  cg_file_close_handle(h);
  struct cg_sup_opts o = {.config_path = config, .worker_exe = worker, .verbose = verbose, .load = lean_load};
  int ec = cg_supervisor_run(&o);
  cg_free(self);
  cg_free(dir);
  cg_free(worker);
  return ec;
}
