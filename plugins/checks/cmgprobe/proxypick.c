/* cmgprobe's half that reads the device (see probe.h, probe_collect): the proxy SYSTEM takes to each
 * CMG the probe will try, and, on a MutualAuth URL on Windows, the client's own request with the
 * machine's key, allowed for the agent to make (clientstack.c). On Windows a PAC script or WPAD is
 * run by WinHTTP for the account that asks, and SYSTEM's Internet Options are SYSTEM's hive: a worker
 * with a restricted token would choose for itself, go direct, and report a CMG it cannot reach where
 * the client can. So the agent's process chooses, for exactly the URL the probe will ask about, and
 * contacts nothing itself. */
#include <string.h>

#include "discovery.h"
#include "probe.h"
#include "proxy.h"

int probe_collect(void *vctx, const struct cg_env *env, struct cg_result *res, bool *decided) {
  (void)res;
  struct probe_ctx *c = vctx;
  *decided = false;
  struct cg_handover_cmg_urls *urls = c->url ? NULL : cg_calloc(1, sizeof(*urls));
  const char *targets[4];
  size_t nt = 0;
  if (c->url)
    targets[nt++] = c->url;
  else if (urls && cg_handover_get_cmg_urls(env, urls))
    for (size_t i = 0; i < urls->count && nt < 4 && nt < (size_t)c->max_candidates; i++)
      targets[nt++] = urls->url[i];
  /* the client's own request presents the machine's key: the agent makes it (clientstack.c) */
  struct cg_handover_auth auth;
  const char *thumb = probe_winhttp_available() && cg_strcasecmp(c->winhttp ? c->winhttp : "", "off")
                          ? probe_machine_thumbprint(c, env, &auth)
                          : NULL;
  cJSON *choices = cJSON_CreateObject(), *scratch = cJSON_CreateObject(); /* the facts parse_url adds: not ours */
  cJSON *seen = cJSON_CreateObject();
  struct probe *p = cg_calloc(1, sizeof(*p));
  int rc = choices && scratch && seen && p ? CG_OK : CG_ERR_NOMEM;
  for (size_t i = 0; rc == CG_OK && i < nt; i++) {
    char why[300];
    memset(p, 0, sizeof(*p));
    p->c = c;
    p->env = env;
    p->facts = scratch;
    if (!probe_parse_url(p, targets[i], why, sizeof(why)) || cJSON_GetObjectItemCaseSensitive(seen, p->base))
      continue; /* the probe says why; once per CMG */
    cJSON_AddTrueToObject(seen, p->base);
    struct cg_proxy_choice pc;
    /* the administrator's proxy (or "direct") is taken as it is; else SYSTEM's, chosen here */
    cg_proxy_resolve(c->proxy && *c->proxy ? c->proxy : NULL, p->base, c->timeout_ms / 3, &pc);
    if (!(c->proxy && *c->proxy)) cJSON_AddItemToObject(choices, p->base, cg_proxy_choice_to_json(&pc));
    p->proxy = pc.curl_default ? NULL : pc.proxy;
    if (thumb && p->has_mp_id && cg_str_contains_ci(p->base, "/CCM_Proxy_MutualAuth/")) {
      int arc = probe_allow_winhttp(p, thumb);
      if (arc != CG_OK && arc != CG_ERR_UNSUPPORTED) rc = arc;
    }
  }
  char *text = rc == CG_OK && cJSON_GetArraySize(choices) ? cJSON_PrintUnformatted(choices) : NULL;
  if (text) rc = env->judge_put(env, "proxy-choices.json", text, strlen(text));
  cJSON_free(text);
  cJSON_Delete(choices);
  cJSON_Delete(scratch);
  cJSON_Delete(seen);
  cg_free(p);
  cg_free(urls);
  return rc;
}

bool probe_proxy_collected(const struct cg_env *env, const char *url, struct cg_proxy_choice *out) {
  const struct cg_capture_file *f = cg_collected_file(env, "proxy-choices.json");
  cJSON *all = f ? cJSON_ParseWithLength(f->data, f->len) : NULL;
  bool got = cg_proxy_choice_from_json(cJSON_GetObjectItemCaseSensitive(all, url), out);
  cJSON_Delete(all);
  return got;
}
