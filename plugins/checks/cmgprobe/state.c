/* cmgprobe: the state kept between cycles (docs/checks/cmgprobe.md, "Load and cost"): when the
 * management point was last asked through each CMG, so that scheduled cycles ask it at most once per
 * mp_probe_interval_s and only do the TLS handshake otherwise; and what a probe cost the CMG. */
#include <string.h>

#include "config.h"
#include "discovery.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "probe.h"
#include "proxy.h"

#define STATE_FILE "cmgprobe-state.json"

/* ---- load: how often the management point is asked ----------------------------------------------- */

static char *state_path(const struct cg_env *env) { return cg_path_join(env->config->state_dir, STATE_FILE); }

static cJSON *load_live(void *arg) {
  const struct cg_env *env = arg;
  char *path = state_path(env), *data = NULL;
  size_t len = 0;
  cJSON *s = NULL;
  if (path && cg_file_read(path, 256 * 1024, &data, &len) == CG_OK) s = cJSON_ParseWithLength(data, len);
  cg_free(data);
  cg_free(path);
  if (!cJSON_IsObject(s)) {
    cJSON_Delete(s);
    s = cJSON_CreateObject();
  }
  return s;
}

cJSON *probe_load_state(const struct cg_env *env) {
  cJSON *s = probe_io_json("state", load_live, (void *)env); /* a transcript brings the device's */
  if (!cJSON_IsObject(s)) {
    cJSON_Delete(s);
    s = cJSON_CreateObject();
  }
  return s;
}

void probe_save_state(const struct cg_env *env, cJSON *s) {
  if (probe_tape_replaying()) return; /* a transcript judged here changes nothing of this machine */
  char *path = state_path(env), *text = cJSON_PrintUnformatted(s);
  char err[300];
  if (path && text && cg_mkdirs(env->config->state_dir) == CG_OK &&
      cg_file_write_atomic(path, text, strlen(text), err, sizeof(err)) != CG_OK)
    cg_log_warn(env->log, "cmgprobe", "cannot save %s: %s", STATE_FILE, err);
  cJSON_free(text);
  cg_free(path);
}

/* Whether this cycle may leave the management point alone: a scheduled cycle, the last full probe of
 * this CMG passed less than mp_probe_interval_s ago. */
bool probe_handshake_only(const struct probe *p, const cJSON *state, char *why, size_t whylen) {
  const char *t = p->trigger ? p->trigger : "check";
  /* `run --once` from a scheduled task is a scheduled cycle too */
  if ((strcmp(t, "schedule") != 0 && strcmp(t, "once") != 0) || p->c->mp_probe_interval_s <= 0) return false;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(state, p->base);
  const cJSON *last = cJSON_GetObjectItemCaseSensitive(e, "last_mp_probe_ms");
  const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "last_status"));
  if (!cJSON_IsNumber(last) || !st || !strcmp(st, "fail") || !strcmp(st, "error")) return false;
  int64_t age = probe_tape_now_ms() - (int64_t)last->valuedouble;
  if (age < 0 || age >= p->c->mp_probe_interval_s * 1000) return false;
  cg_snprintf(why, whylen, "the MP list was fetched %lld min ago (every %lld s in scheduled cycles)",
              (long long)(age / 60000), (long long)p->c->mp_probe_interval_s);
  return true;
}

/* A light cycle reuses the last MP request's outcome (handshake_only: it passed or warned). */
bool probe_last_passed(const cJSON *state, const char *base) {
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(state, base);
  return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "mp_list_answered"));
}

/* ---- cost ---------------------------------------------------------------------------------------- */

/* What this probe cost the CMG (both connections), and what the gate's cmg-usable needs: a
 * management point request that returned an MP list. */
void probe_traffic_facts(struct probe *p, const struct probe_tls_capture *cap, const struct req_out *outs,
                         const cJSON *state) {
  cJSON *traffic = cJSON_AddObjectToObject(p->facts, "traffic");
  cJSON_AddNumberToObject(traffic, "bytes_sent", (double)(cap->bytes_out + p->auth_cap.bytes_out));
  cJSON_AddNumberToObject(traffic, "bytes_received", (double)(cap->bytes_in + p->auth_cap.bytes_in));
  cJSON_AddBoolToObject(traffic, "reached_management_point", !p->handshake_only && outs && outs[0].r.status > 0);
  /* WinHTTP does not count its bytes: the request it made is named (docs: about as many as OpenSSL's) */
  cJSON *w = cJSON_GetObjectItemCaseSensitive(p->facts, "winhttp");
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "available")) &&
      !cJSON_GetObjectItemCaseSensitive(w, "not_made"))
    cJSON_AddNumberToObject(traffic, "winhttp_requests", 1);
  cJSON_AddBoolToObject(p->facts, "mp_list_answered",
                        p->handshake_only ? probe_last_passed(state, p->base) : p->mplist_answered);
}

void probe_proxy_facts(struct probe *p, const struct cg_proxy_choice *pc) {
  cg_proxy_facts(p->facts, pc);
  struct cg_handover_proxy hp;
  memset(&hp, 0, sizeof(hp));
  cg_strlcpy(hp.proxy, pc->shown, sizeof(hp.proxy));
  cg_strlcpy(hp.source, pc->source, sizeof(hp.source));
  cg_strlcpy(hp.detail, pc->detail, sizeof(hp.detail));
  cg_handover_put_proxy(p->env, &hp);
}
