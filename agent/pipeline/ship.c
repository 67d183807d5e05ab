/* Delivery of spooled bundles to the configured outputs. */
#include "ship.h"

#include <openssl/rand.h>
#include <string.h>

#include "bundle.h"
#include "config.h"
#include "emit_worker.h"
#include "http.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "redact.h"
#include "worker.h"

struct output_inst {
  const struct cg_output_plugin *p;
  void *ctx;
  bool started;
  char key[17]; /* identifies the output in the spool's delivery marks */
  char label[256];
  bool down; /* given up for the rest of this drain */
  char last_error[768];
  const cJSON *settings;    /* its object in the configuration (the worker gets a copy) */
  bool unprivileged;        /* it uploads from a worker without privilege (emit_worker.h) */
  struct cg_emit_worker *w; /* that worker, for one drain */
};

struct cg_shipper {
  const struct cg_env *env;
  struct cg_spool *sp;
  struct output_inst *outs;
  size_t n;
  const char **keys;
  uint64_t rng;
  struct cg_worker_user wu; /* the worker's account, when outputs upload without privilege */
};

int64_t cg_backoff_ms(int64_t base_ms, int64_t cap_ms, int attempt, uint64_t *rng) {
  int64_t ceil = base_ms;
  for (int i = 0; i < attempt && ceil < cap_ms; i++)
    ceil *= 2;
  if (ceil > cap_ms) ceil = cap_ms;
  /* xorshift64: the jitter only has to spread a fleet, not be unpredictable */
  uint64_t x = *rng ? *rng : 0x9E3779B97F4A7C15ull;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *rng = x;
  return ceil > 0 ? (int64_t)(x % (uint64_t)(ceil + 1)) : 0;
}

/* "YYYY-MM-DD..." with digits and a real month and day: it becomes folders of the object name. */
static bool valid_date(const char *s) {
  if (!s || strlen(s) < 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* An RFC 4122 text form: 8-4-4-4-12 hex digits. */
static bool valid_uuid(const char *s) {
  if (!s || strlen(s) != 36) return false;
  for (int i = 0; i < 36; i++) {
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if ((i == 8 || i == 13 || i == 18 || i == 23) ? c != '-' : !hex) return false;
  }
  return true;
}

int cg_bundle_object_name(const char *created_at, const char *hostname, const char *bundle_id, char *buf, size_t len) {
  if (!valid_date(created_at) || !valid_uuid(bundle_id)) return CG_ERR_PARSE;
  char host[128];
  size_t k = 0;
  for (const char *h = hostname && *hostname ? hostname : "unknown"; *h && k < sizeof(host) - 1; h++) {
    char c = *h;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              (c == '.' && k > 0);
    host[k++] = ok ? c : '_';
  }
  host[k] = '\0';
  return cg_snprintf(buf, len, "%.4s/%.2s/%.2s/%s/%s.json.gz", created_at, created_at + 5, created_at + 8, host,
                     bundle_id)
             ? CG_OK
             : CG_ERR_TOOBIG;
}

/* What an output is called where a person reads it (the console, the served self-test, the log):
 * its type and, for a URL, scheme, host and port only — user information, a path token and a SAS
 * never show; a folder target (a file share) as it is, without a query or fragment. */
static void output_label(char *dst, size_t n, const char *type, const char *target, size_t tl) {
  if (!strstr(target, "://")) {
    cg_snprintf(dst, n, "%s %.*s", type, (int)(tl < 200 ? tl : 200), target);
    return;
  }
  char origin[200];
  if (cg_url_origin(target, origin, sizeof(origin)))
    cg_snprintf(dst, n, "%s %s", type, origin);
  else
    cg_snprintf(dst, n, "%s (a URL that cannot be read)", type);
}

/* The output's identity for delivery marks: type + target without its query string (FNV-1a). */
static void output_identity(struct output_inst *o, const cJSON *obj) {
  const cJSON *t = o->p->target_key ? cJSON_GetObjectItemCaseSensitive(obj, o->p->target_key) : NULL;
  const char *target = cJSON_IsString(t) ? t->valuestring : "";
  size_t tl = strcspn(target, "?#");
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char *c = o->p->name; *c; c++)
    h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
  h = (h ^ ':') * 0x100000001b3ull;
  for (size_t i = 0; i < tl; i++)
    h = (h ^ (unsigned char)target[i]) * 0x100000001b3ull;
  cg_snprintf(o->key, sizeof(o->key), "%016llx", (unsigned long long)h);
  output_label(o->label, sizeof(o->label), o->p->name, target, tl);
}

int cg_shipper_open(struct cg_shipper **out, const struct cg_env *env, struct cg_spool *sp, char *err, size_t errlen) {
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(env->config->root, "outputs");
  struct cg_shipper *sh = cg_calloc(1, sizeof(*sh));
  int rc = CG_OK;
  *out = NULL;
  if (!sh) return CG_ERR_NOMEM;
  sh->env = env;
  sh->sp = sp;
  size_t n = (size_t)cJSON_GetArraySize(list);
  sh->outs = n ? cg_calloc(n, sizeof(*sh->outs)) : NULL;
  sh->keys = n ? cg_calloc(n, sizeof(*sh->keys)) : NULL;
  if (n && (!sh->outs || !sh->keys)) {
    rc = CG_ERR_NOMEM;
    goto out;
  }
  if (RAND_bytes((unsigned char *)&sh->rng, sizeof(sh->rng)) != 1) sh->rng = (uint64_t)cg_time_utc_ms();
  char wwhy[300] = "";
  bool worker = cg_worker_account(env->config, &sh->wu, wwhy, sizeof(wwhy)) == CG_OK;
  const cJSON *obj;
  cJSON_ArrayForEach(obj, list) {
    struct output_inst *o = &sh->outs[sh->n];
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    o->p = cJSON_IsString(type) ? cg_registry_find_output(type->valuestring) : NULL;
    if (!o->p) { /* config validation already refused this */
      rc = CG_ERR_CONFIG;
      cg_snprintf(err, errlen, "outputs[%zu]: unknown output", sh->n);
      goto out;
    }
    o->ctx = cg_calloc(1, o->p->ctx_size ? o->p->ctx_size : 1);
    if (!o->ctx) {
      rc = CG_ERR_NOMEM;
      goto out;
    }
    sh->n++;
    if ((rc = cg_config_map_fill(o->p->config_map, obj, o->ctx)) != CG_OK) goto out;
    output_identity(o, obj);
    sh->keys[sh->n - 1] = o->key;
    o->settings = obj;
    o->unprivileged = worker && o->p->unprivileged;
    if (o->p->unprivileged)
      cg_log_debug(env->log, "ship", "%s: uploads %s%s", o->label,
                   worker ? "from a process without privilege, as " : "from this process, with its privilege: ",
                   worker ? sh->wu.name : wwhy);
    char why[512] = "";
    o->started = true; /* fini also undoes a half-done init */
    if (o->p->init && (rc = o->p->init(o->ctx, env, why, sizeof(why))) != CG_OK) {
      cg_snprintf(err, errlen, "outputs[%zu] (%s): %s", sh->n - 1, o->label, why[0] ? why : cg_strerror(rc));
      goto out;
    }
  }
out:
  if (rc != CG_OK)
    cg_shipper_close(sh);
  else
    *out = sh;
  return rc;
}

void cg_shipper_close(struct cg_shipper *sh) {
  if (!sh) return;
  for (size_t i = 0; i < sh->n; i++) {
    struct output_inst *o = &sh->outs[i];
    cg_emit_worker_end(o->w);
    if (o->started && o->p->fini) o->p->fini(o->ctx);
    cg_config_map_release(o->p->config_map, o->ctx);
    cg_free(o->ctx);
  }
  cg_free(sh->outs);
  cg_free(sh->keys);
  cg_free(sh);
}

size_t cg_shipper_outputs(const struct cg_shipper *sh) { return sh ? sh->n : 0; }
const char *cg_shipper_label(const struct cg_shipper *sh, size_t i) { return sh->outs[i].label; }
const char *cg_shipper_last_error(const struct cg_shipper *sh, size_t i) { return sh->outs[i].last_error; }

/* One upload: from the output's worker without privilege when it has one (started for the drain,
 * ended when it goes wrong; one that cannot start leaves the output to this process, as before
 * workers, and the log says why), else here. */
static void emit(struct cg_shipper *sh, struct output_inst *o, const struct cg_emit_req *req, int64_t deadline,
                 struct cg_emit_result *res) {
  if (o->unprivileged && !o->w) {
    char why[400] = "";
    if (cg_emit_worker_start(o->p, o->settings, sh->env, &sh->wu, &o->w, why, sizeof(why)) != CG_OK) {
      o->unprivileged = false;
      cg_log_warn(sh->env->log, "ship",
                  "%s: its upload process without privilege could not be started (%s); it "
                  "uploads from this process, with its privilege",
                  o->label, why);
    }
  }
  if (!o->w) {
    o->p->emit(o->ctx, sh->env, req, res);
    return;
  }
  int64_t left = deadline - cg_time_mono_ms();
  /* the output's own timeout bounds an upload; the worker gets that and a margin, within the drain */
  if (!cg_emit_worker_emit(o->w, sh->env, req, left > 0 ? left + 5000 : 5000, res)) {
    cg_emit_worker_end(o->w);
    o->w = NULL;
  }
}

/* One bundle to one output, with retries inside the drain's deadline. */
static enum cg_emit_outcome deliver(struct cg_shipper *sh, struct output_inst *o, const struct cg_emit_req *req,
                                    int64_t deadline, struct cg_drain_stats *st) {
  const struct cg_config *cfg = sh->env->config;
  struct cg_log *log = sh->env->log;
  struct cg_emit_result res;
  for (int attempt = 0;; attempt++) {
    memset(&res, 0, sizeof(res));
    res.retry_after_ms = -1;
    emit(sh, o, req, deadline, &res);
    if (res.outcome != CG_EMIT_RETRY) break;
    if (attempt + 1 >= cfg->delivery.max_attempts) {
      cg_log_warn(log, "ship", "%s: %s; %d attempts failed, trying again next cycle", o->label, res.error, attempt + 1);
      break;
    }
    int64_t wait = cg_backoff_ms(cfg->delivery.retry_base_ms, cfg->delivery.retry_cap_ms, attempt, &sh->rng);
    if (res.retry_after_ms >= 0) {
      if (res.retry_after_ms > cfg->delivery.retry_cap_ms) {
        cg_log_warn(log, "ship", "%s: %s; asked to wait %lld s (Retry-After), trying again next cycle", o->label,
                    res.error, (long long)(res.retry_after_ms / 1000));
        break;
      }
      wait = res.retry_after_ms;
    }
    if (cg_time_mono_ms() + wait > deadline) {
      cg_log_warn(log, "ship", "%s: %s; the shipping budget of this cycle is spent", o->label, res.error);
      break;
    }
    cg_log_info(log, "ship", "%s: %s; retry %d in %lld ms%s", o->label, res.error, attempt + 1, (long long)wait,
                res.retry_after_ms >= 0 ? " (Retry-After)" : "");
    st->retries++;
    cg_sleep_ms(wait);
  }
  switch (res.outcome) {
  case CG_EMIT_DELIVERED:
    st->delivered++;
    cg_log_debug(log, "ship", "%s: stored %s", o->label, req->name);
    o->last_error[0] = '\0';
    break;
  case CG_EMIT_ALREADY:
    st->already++;
    cg_log_info(log, "ship", "%s: %s was already there (an earlier attempt got through)", o->label, req->name);
    o->last_error[0] = '\0';
    break;
  case CG_EMIT_REJECTED:
    st->rejected++;
    cg_log_error(log, "ship", "%s: %s; bundle %s given up for this output", o->label, res.error, req->bundle_id);
    cg_strlcpy(o->last_error, res.error, sizeof(o->last_error));
    break;
  case CG_EMIT_DOWN:
    cg_log_error(log, "ship", "%s: %s; bundles wait in the spool", o->label, res.error);
    /* fall through */
  case CG_EMIT_RETRY:
    o->down = true;
    st->outputs_down++;
    cg_strlcpy(o->last_error, res.error, sizeof(o->last_error));
    break;
  }
  return res.outcome;
}

/* Ships one spooled bundle to every output that does not have it yet: its bytes and the entry
 * recorded when it was spooled, no gunzip, no parse. True when it left the spool. */
static bool ship_one(struct cg_shipper *sh, const char *name, int64_t deadline, struct cg_drain_stats *st) {
  char *gz = NULL;
  size_t len = 0;
  bool done = false;
  struct cg_spool_entry e;
  if (cg_spool_entry(sh->sp, name, &e) != CG_OK || cg_spool_read(sh->sp, name, &gz, &len) != CG_OK)
    goto out; /* vanished or damaged since the spool was opened: the next open checks it */
  struct cg_emit_req req = {.name = e.object,
                            .bundle_id = e.bundle_id,
                            .hostname = e.host,
                            .created_at = e.created_at,
                            .gz = gz,
                            .gz_len = len};
  bool all = true, refused = false;
  for (size_t i = 0; i < sh->n; i++) {
    struct output_inst *o = &sh->outs[i];
    if (cg_spool_is_sent(sh->sp, name, o->key)) continue;
    if (o->down || cg_time_mono_ms() >= deadline) {
      all = false;
      continue;
    }
    enum cg_emit_outcome oc = deliver(sh, o, &req, deadline, st);
    if (oc == CG_EMIT_DELIVERED || oc == CG_EMIT_ALREADY || oc == CG_EMIT_REJECTED) {
      refused |= oc == CG_EMIT_REJECTED;
      if (sh->n > 1 && cg_spool_mark_sent(sh->sp, name, o->key) != CG_OK) all = false;
    } else {
      all = false;
    }
  }
  /* Refused by an output for good: nothing a retry can change, so it leaves the queue, but into the
   * quarantine folder where a person can still pick it up (the other outputs have it already). */
  if (all && refused) {
    if (cg_spool_set_aside(sh->sp, name, sh->keys, sh->n, "refused by a collection point") == CG_OK) st->set_aside++;
  } else if (all && cg_spool_done(sh->sp, name, sh->keys, sh->n) == CG_OK) {
    st->shipped++;
    done = true;
  }
out:
  cg_free(gz);
  return done;
}

int cg_shipper_drain(struct cg_shipper *sh, const char *first, int64_t budget_ms, int64_t max_bundles,
                     struct cg_drain_stats *st) {
  memset(st, 0, sizeof(*st));
  int64_t start = cg_time_mono_ms(), deadline = start + budget_ms;
  char **names = NULL;
  size_t n = 0;
  for (size_t i = 0; i < sh->n; i++) {
    sh->outs[i].down = false;
    sh->outs[i].last_error[0] = '\0';
  }
  int rc = cg_spool_list(sh->sp, &names, &n);
  if (rc != CG_OK) return rc;
  if (first) /* the bundle a person is waiting for goes first */
    for (size_t i = 0; i < n; i++)
      if (!strcmp(names[i], first)) {
        char *f = names[i];
        memmove(names + 1, names, i * sizeof(*names));
        names[0] = f;
        break;
      }
  size_t i = 0;
  for (; i < n && sh->n && (int64_t)i < max_bundles && cg_time_mono_ms() < deadline; i++) {
    bool any_up = false;
    for (size_t k = 0; k < sh->n; k++)
      any_up |= !sh->outs[k].down;
    if (!any_up) break;
    if (ship_one(sh, names[i], deadline, st) && first && !strcmp(names[i], first)) st->first_shipped = true;
  }
  for (size_t k = 0; k < sh->n; k++) { /* a worker lives for one drain */
    cg_emit_worker_end(sh->outs[k].w);
    sh->outs[k].w = NULL;
  }
  st->remaining = (int64_t)n - st->shipped - st->set_aside;
  st->elapsed_ms = cg_time_mono_ms() - start;
  if (n)
    cg_log_info(sh->env->log, "ship", "shipped %lld bundle(s) in %lld ms (%lld retries); %lld waiting in the spool",
                (long long)st->shipped, (long long)st->elapsed_ms, (long long)st->retries, (long long)st->remaining);
  cg_dir_list_free(names, n);
  return CG_OK;
}
