/* Collect, then judge (runner.h, plugin.h `collect`): the half of a check that reads the device runs
 * here with the agent's privilege and parses nothing; the half that parses and decides judges what it
 * read, in the worker without privilege where there is one (docs/security.md, "Privilege
 * separation"). The same path runs without a worker, so a live run and a worker's run judge the
 * same bytes the same way. */
#include <string.h>

#include "log.h"
#include "platform/sys.h"
#include "runner.h"
#include "worker.h"

int cg_collection_add(struct cg_collection *c, const char *name, const void *data, size_t len) {
  if (c->view.count == CG_COLLECTED_MAX || len > CG_COLLECTED_BYTES - c->bytes) return CG_ERR_TOOBIG;
  char *copy = cg_malloc(len + 1), *nm = cg_strdup(name);
  if (!copy || !nm) {
    cg_free(copy);
    cg_free(nm);
    return CG_ERR_NOMEM;
  }
  if (len) memcpy(copy, data, len);
  copy[len] = '\0';
  struct cg_capture_file *f = &c->files[c->view.count++];
  f->name = f->path = nm;
  f->data = copy;
  f->len = len;
  c->bytes += len;
  c->view.files = c->files;
  return CG_OK;
}

void cg_collection_free(struct cg_collection *c) {
  for (size_t i = 0; i < c->view.count; i++) {
    cg_free((char *)c->files[i].name);
    cg_free((char *)c->files[i].data);
  }
  for (size_t i = 0; i < c->npermits; i++) {
    cg_free(c->permits[i].name);
    cJSON_Delete(c->permits[i].prepared);
  }
  memset(c, 0, sizeof(*c));
}

int cg_collection_permit(struct cg_collection *c, const char *name, cg_agent_request_fn fn, const cJSON *prepared) {
  if (c->npermits == CG_PERMITS_MAX || strlen(name) > 1200) return CG_ERR_TOOBIG;
  for (size_t i = 0; i < c->npermits; i++)
    if (!strcmp(c->permits[i].name, name)) return CG_OK; /* allowed already: still once */
  struct cg_permit *pm = &c->permits[c->npermits];
  pm->name = cg_strdup(name);
  pm->prepared = prepared ? cJSON_Duplicate(prepared, true) : cJSON_CreateObject();
  pm->fn = fn;
  pm->used = false;
  if (!pm->name || !pm->prepared) {
    cg_free(pm->name);
    cJSON_Delete(pm->prepared);
    return CG_ERR_NOMEM;
  }
  c->npermits++;
  return CG_OK;
}

/* allow while a check collects: the request is kept for its run, with what collect prepared. */
static int collection_allow(const struct cg_env *env, const char *name, cg_agent_request_fn fn, const cJSON *prepared) {
  return cg_collection_permit(env->capture_user, name, fn, prepared);
}

int cg_collection_ask(const struct cg_env *env, const char *name, const cJSON *asked, int64_t left_ms,
                      struct cg_agent_answer *out) {
  struct cg_collection *c = env->ask_user;
  memset(out, 0, sizeof(*out));
  struct cg_permit *pm = NULL;
  for (size_t i = 0; c && name && i < c->npermits && !pm; i++)
    if (!strcmp(c->permits[i].name, name)) pm = &c->permits[i];
  if (!pm || pm->used) {
    cg_log_warn(env->log, "runner", "a check asked the agent for '%.80s', %s: refused", name ? name : "",
                pm ? "which it had made already in this run" : "which its collect half did not allow");
    return CG_ERR_ACCESS;
  }
  pm->used = true; /* once, whatever comes of it */
  cg_log_debug(env->log, "runner", "the agent makes '%.80s' for the check, with its privilege", name);
  int rc = pm->fn(pm->prepared, asked, left_ms > 0 ? left_ms : 1, out);
  if (rc == CG_OK && out->len > CG_AGENT_ANSWER_MAX) rc = CG_ERR_TOOBIG;
  if (rc != CG_OK) cg_agent_answer_free(out);
  return rc;
}

/* judge_put while a check collects: kept for its run. */
static int collection_put(const struct cg_env *env, const char *name, const void *data, size_t len) {
  struct cg_collection *c = env->capture_user;
  int rc = cg_collection_add(c, name, data, len);
  if (rc != CG_OK)
    cg_log_warn(env->log, "runner", "a check's capture %s (%zu bytes) is not kept: %s", name, len,
                rc == CG_ERR_TOOBIG ? "more than a check's captures may hold" : cg_strerror(rc));
  return rc;
}

/* The collect half: res is initialised and holds its facts, or its verdict (*decided). */
static void collect(const struct cg_check_plugin *p, const struct cg_env *env, struct cg_collection *c,
                    struct cg_result *res, bool *decided) {
  char err[512] = "";
  *decided = true;
  int rc = cg_result_init(res, p->name);
  void *ctx = rc == CG_OK ? cg_calloc(1, p->ctx_size ? p->ctx_size : 1) : NULL;
  bool inited = false;
  if (rc == CG_OK && !ctx) rc = CG_ERR_NOMEM;
  if (rc == CG_OK) rc = cg_config_map_fill(p->config_map, cg_config_check(env->config, p->name), ctx);
  if (rc == CG_OK && cg_config_check_files_trusted(env->config, p->name, err, sizeof(err)) != CG_OK) rc = CG_ERR_CONFIG;
  struct cg_env e = *env; /* capture_put stays the snapshot's writer, or NULL */
  e.judge_put = collection_put;
  e.capture_user = c;
  e.allow = collection_allow;
  if (rc == CG_OK) {
    inited = true;
    if (p->init) rc = p->init(ctx, &e, err, sizeof(err));
  }
  if (rc == CG_OK) {
    cg_log_debug(env->log, "runner", "check %s reading the device", p->name);
    rc = p->collect(ctx, &e, res, decided);
  }
  if (rc == CG_OK && *decided && !res->code) rc = CG_ERR_INTERNAL;
  if (rc != CG_OK) {
    char code[80];
    cg_run_code(p, rc == CG_ERR_CONFIG ? "CONFIG" : "INTERNAL_ERROR", code, sizeof(code));
    cg_result_set(res, CG_ERROR, code,
                  rc == CG_ERR_CONFIG ? "Fix the setting in the configuration file or policy ('cmgdiag config check' "
                                        "shows the effective values), then run the check again."
                                      : "Run the check again with -v and send the agent log (cmgdiag.log) to the "
                                        "cmgdiag maintainers.",
                  "The %s check could not read the device: %s.", p->name, err[0] ? err : cg_strerror(rc));
    *decided = true;
  }
  if (ctx && inited && p->fini) p->fini(ctx);
  if (ctx) cg_config_map_release(p->config_map, ctx);
  cg_free(ctx);
  c->view.as_system = cg_running_as_system();
  c->view.files = c->files;
}

void cg_run_check_collected(const struct cg_check_plugin *p, const struct cg_env *env, const struct cg_worker_user *u,
                            int64_t deadline_ms, struct cg_result *res) {
  int64_t start = cg_time_mono_ms();
  struct cg_collection c;
  memset(&c, 0, sizeof(c));
  struct cg_result got;
  bool decided = true;
  collect(p, env, &c, &got, &decided);
  if (decided) {
    *res = got;
    if (!res->facts) res->facts = cJSON_CreateObject();
    cg_run_redact(res);
    cg_run_log_verdict(p, env, res);
  } else {
    struct cg_env e = *env;
    e.collected = &c.view;
    if (c.npermits) { /* what collect allowed, the agent makes when the judging half asks */
      e.ask = cg_collection_ask;
      e.ask_user = &c;
    }
    /* capture_put stays: a check whose judging half learns more writes it then (cmgprobe's transcript) */
    if (u)
      cg_run_check_worker(p, &e, u, deadline_ms, res);
    else if (deadline_ms > 0)
      cg_run_check_deadline(p, &e, res, deadline_ms);
    else
      cg_run_check(p, &e, res);
    /* how the device was read (the program, its exit code) beside how it was judged */
    cJSON *f = got.facts ? got.facts->child : NULL;
    for (; f && res->facts; f = f->next)
      if (f->string && !cJSON_GetObjectItemCaseSensitive(res->facts, f->string))
        cJSON_AddItemToObject(res->facts, f->string, cJSON_Duplicate(f, true));
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < c.view.count; i++) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "name", c.files[i].name);
      cJSON_AddNumberToObject(o, "bytes", (double)c.files[i].len);
      cJSON_AddItemToArray(list, o);
    }
    if (res->facts && list) {
      while (cJSON_GetObjectItemCaseSensitive(res->facts, "collected")) /* the agent's to say */
        cJSON_DeleteItemFromObjectCaseSensitive(res->facts, "collected");
      cJSON_AddItemToObject(res->facts, "collected", list);
    } else {
      cJSON_Delete(list);
    }
    cg_result_free(&got);
  }
  cg_collection_free(&c);
  res->duration_ms = cg_time_mono_ms() - start;
}
