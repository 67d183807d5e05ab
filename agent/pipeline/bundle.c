/* Bundle construction and reading. */
#include "bundle.h"

#include <openssl/rand.h>
#include <string.h>

#include "config.h"
#include "diagnosis.h"
#include "plugin.h"
#include "gz.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "redact.h"
#include "sas.h"
#include "text.h"

int cg_uuid_v4(char *buf, size_t len) {
  unsigned char u[16];
  if (len < 37 || RAND_bytes(u, sizeof(u)) != 1) return CG_ERR_INTERNAL;
  u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);
  u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);
  cg_snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
              u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return CG_OK;
}

/* A fact of a check, as a string, or NULL (used to lift device identity into "device"). */
static const char *fact_string(const struct cg_result *rs, size_t n, const char *check, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(rs[i].check, check) == 0) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(rs[i].facts, key);
      return cJSON_IsString(v) ? v->valuestring : NULL;
    }
  return NULL;
}

static void add_string_or_null(cJSON *o, const char *key, const char *value) {
  if (value)
    cJSON_AddStringToObject(o, key, value);
  else
    cJSON_AddNullToObject(o, key);
}

cJSON *cg_bundle_build(const struct cg_env *env, const char *trigger, const char *ticket, const struct cg_result *rs,
                       size_t n, int64_t spool_pending, int64_t dropped_total) {
  char id[40], created[40];
  char *hostname = cg_hostname(), *os = cg_os_description();
  cJSON *b = cJSON_CreateObject();
  bool ok = b && hostname && os && cg_uuid_v4(id, sizeof(id)) == CG_OK;
  if (ok) {
    cg_time_rfc3339(cg_time_utc_ms(), created, sizeof(created));
    cJSON_AddStringToObject(b, "schema", CG_BUNDLE_SCHEMA);
    cJSON_AddStringToObject(b, "bundle_id", id);
    cJSON_AddStringToObject(b, "created_at", created);
    cJSON_AddStringToObject(b, "trigger", trigger);
    add_string_or_null(b, "ticket", ticket);
    cJSON *agent = cJSON_AddObjectToObject(b, "agent");
    cJSON_AddStringToObject(agent, "version", CMGDIAG_VERSION);
    cJSON_AddStringToObject(agent, "platform", cg_platform_name());
    cJSON_AddItemToObject(agent, "plugins", cg_registry_plugins_json());
    cJSON *dev = cJSON_AddObjectToObject(b, "device");
    cJSON_AddStringToObject(dev, "hostname", hostname);
    /* what the checks declare as the device's identity (device_facts); null when theirs did not run */
    for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++)
      for (const struct cg_device_fact *d = (*p)->device_facts; d && d->device_key; d++) {
        const char *v = fact_string(rs, n, (*p)->name, d->fact);
        const cJSON *have = cJSON_GetObjectItemCaseSensitive(dev, d->device_key);
        if (!have) /* two checks may know it: the first that ran and says it wins */
          add_string_or_null(dev, d->device_key, v);
        else if (v && cJSON_IsNull(have))
          cJSON_ReplaceItemInObjectCaseSensitive(dev, d->device_key, cJSON_CreateString(v));
      }
    cJSON_AddStringToObject(dev, "os", os);
    cJSON_AddStringToObject(b, "overall", cg_verdict_name(cg_results_overall(rs, n)));
    /* the second axis: can it take an in-place upgrade now (a check's facts.readiness.verdict) */
    const char *ready = NULL;
    for (size_t i = 0; i < n && !ready; i++)
      ready = cJSON_GetStringValue(
          cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rs[i].facts, "readiness"), "verdict"));
    add_string_or_null(b, "readiness", ready);
    cJSON *checks = cJSON_AddArrayToObject(b, "checks");
    for (size_t i = 0; checks && i < n; i++) {
      cJSON *r = cg_result_to_json(&rs[i]);
      ok = ok && r;
      if (r) cJSON_AddItemToArray(checks, r);
    }
    /* why, in one sentence: the root causes the check results show (diagnosis.h) */
    cJSON *rules = cg_diagnosis_rules(
        env && env->config ? cJSON_GetObjectItemCaseSensitive(env->config->root, "diagnosis_rules") : NULL);
    cJSON *diag = rules ? cg_diagnose(checks, rules) : NULL;
    cJSON_Delete(rules);
    ok = ok && diag;
    if (diag) cJSON_AddItemToObject(b, "diagnosis", diag);
    /* where the bundles go, and until when the SAS lets them in (never the SAS itself) */
    cJSON *outs = cJSON_AddArrayToObject(b, "outputs");
    const cJSON *o;
    const cJSON *configured =
        env && env->config ? cJSON_GetObjectItemCaseSensitive(env->config->root, "outputs") : (const cJSON *)NULL;
    cJSON_ArrayForEach(o, configured) {
      cJSON *x = cJSON_CreateObject();
      const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type"));
      cJSON_AddStringToObject(x, "type", type ? type : "");
      cJSON *one = cJSON_CreateArray();
      cJSON_AddItemReferenceToArray(one, (cJSON *)o);
      int64_t exp = cg_sas_soonest_expiry(one);
      cJSON_Delete(one);
      if (exp) {
        char at[40];
        cg_time_rfc3339(exp, at, sizeof(at));
        cJSON_AddStringToObject(x, "sas_expires_at", at);
      }
      cJSON_AddItemToArray(outs, x);
    }
    cJSON *spool = cJSON_AddObjectToObject(b, "spool");
    cJSON_AddNumberToObject(spool, "pending", (double)spool_pending);
    cJSON_AddNumberToObject(spool, "dropped_total", (double)dropped_total);
    /* Nothing secret may leave the machine, whatever a check put in its facts. */
    ok = ok && spool && cg_redact_json(b) == CG_OK;
  }
  (void)env;
  cg_free(hostname);
  cg_free(os);
  if (!ok) {
    cJSON_Delete(b);
    return NULL;
  }
  return b;
}

/* JSON values in `text` (commas and openers outside strings), counted in one pass before parsing:
 * a few KB of gzip can hold millions of empty objects, each a cJSON node. */
static size_t json_values(const char *text, size_t len) {
  size_t n = 1;
  bool in_str = false;
  for (size_t i = 0; i < len; i++) {
    if (in_str) /* to the next quote or backslash at once (a NUL inside stops it: then one byte on) */
      i += strcspn(text + i, "\"\\");
    if (i >= len) break;
    char c = text[i];
    if (in_str) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == ',' || c == '[' || c == '{') {
      n++;
    }
  }
  return n;
}

/* Scans the top level of a bundle's text for the member "checks", resuming where it stopped. */
struct head_scan {
  size_t pos, key_start, checks_at;
  int depth;
  bool in_str, esc, key_next, in_key;
};

static bool head_found(const char *t, size_t len, void *user) {
  struct head_scan *h = user;
  for (size_t i = h->pos; i < len; i++) {
    char c = t[i];
    if (h->in_str) {
      if (h->esc)
        h->esc = false;
      else if (c == '\\')
        h->esc = true;
      else if (c == '"') {
        h->in_str = false;
        if (h->in_key && i - h->key_start == 7 && !memcmp(t + h->key_start, "\"checks", 7)) {
          h->checks_at = h->key_start;
          h->pos = i + 1;
          return true;
        }
        h->in_key = false;
      }
    } else if (c == '"') {
      h->in_str = true;
      h->in_key = h->depth == 1 && h->key_next;
      h->key_start = i;
      h->key_next = false;
    } else if (c == '{' || c == '[') {
      h->depth++;
      h->key_next = h->depth == 1;
    } else if (c == '}' || c == ']') {
      h->depth--;
    } else if (c == ',') {
      h->key_next = h->depth == 1;
    } else if (c == ':') {
      h->key_next = false;
    }
  }
  h->pos = len;
  return len > 65536; /* no "checks" in the first 64 KB: not a bundle of this agent; the whole is read */
}

int cg_bundle_head(const char *raw, size_t raw_len, cJSON **head) {
  *head = NULL;
  if (!cg_is_gzip(raw, raw_len)) return CG_ERR_PARSE;
  struct head_scan h = {.checks_at = SIZE_MAX};
  char *text = NULL;
  size_t len = 0;
  int rc = cg_gunzip_until(raw, raw_len, CG_BUNDLE_MAX_BYTES, head_found, &h, &text, &len, NULL);
  if (rc == CG_OK && h.checks_at == SIZE_MAX) head_found(text, len, &h); /* the last step's bytes */
  if (rc == CG_OK && h.checks_at == SIZE_MAX) rc = CG_ERR_PARSE;
  if (rc == CG_OK) {
    /* the members before "checks", closed: {"schema": ..., "partial": false, } becomes {... false} */
    size_t end = h.checks_at;
    while (end > 0 && (text[end - 1] == ',' || text[end - 1] == ' ' || text[end - 1] == '\n' || text[end - 1] == '\r' ||
                       text[end - 1] == '\t'))
      end--;
    text[end] = '}';
    *head = cJSON_ParseWithLength(text, end + 1);
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(*head, "schema");
    /* this agent writes "partial" before "checks", and every small member with it; a head without
     * what a report takes from it (or a gate's bundle without its gate) is read whole instead */
    const char *trigger = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*head, "trigger"));
    if (!*head || !cJSON_IsString(schema) || strncmp(schema->valuestring, "cmgdiag.bundle/", 15) != 0 ||
        !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(*head, "partial")) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(*head, "overall")) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(*head, "created_at")) ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*head, "device")) ||
        (trigger && !strcmp(trigger, "validate") && !cJSON_GetObjectItemCaseSensitive(*head, "gate"))) {
      cJSON_Delete(*head);
      *head = NULL;
      rc = CG_ERR_PARSE;
    }
  }
  cg_free(text);
  return rc;
}

void cg_bundle_heavy_last(cJSON *bundle) {
  static const char *const heavy[] = {"checks", "diagnosis"};
  for (size_t i = 0; i < 2; i++) {
    cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(bundle, heavy[i]);
    if (item) cJSON_AddItemToObject(bundle, heavy[i], item);
  }
}

int cg_bundle_parse(const char *raw, size_t raw_len, const char *origin, cJSON **bundle, char *err, size_t errlen) {
  char *json = NULL, *text = NULL;
  size_t json_len = 0, text_len = 0;
  int rc = CG_OK;
  *bundle = NULL;
  if (cg_is_gzip(raw, raw_len)) {
    rc = cg_gunzip(raw, raw_len, CG_BUNDLE_MAX_BYTES, &json, &json_len);
    if (rc != CG_OK) {
      cg_snprintf(err, errlen, "%s: the gzip data is %s", origin,
                  rc == CG_ERR_TOOBIG ? "larger than 16 MiB once decompressed" : "corrupt or truncated");
      goto out;
    }
    const unsigned char *u = (const unsigned char *)json;
    bool marked = json_len >= 2 && (u[0] == 0xEF || u[0] == 0xFF || u[0] == 0xFE);
    if (marked)
      rc = cg_text_decode(json, json_len, &text, &text_len, NULL);
    else { /* plain UTF-8, as the agent writes it: parsed where it was inflated */
      text = json;
      text_len = json_len;
      json = NULL;
    }
  } else {
    rc = cg_text_decode(raw, raw_len, &text, &text_len, NULL);
  }
  if (rc != CG_OK) goto out;
  if (json_values(text, text_len) > CG_BUNDLE_MAX_VALUES) {
    cg_snprintf(err, errlen, "%s: more than %d JSON values, not a cmgdiag bundle", origin, CG_BUNDLE_MAX_VALUES);
    rc = CG_ERR_TOOBIG;
    goto out;
  }
  *bundle = cJSON_ParseWithLength(text, text_len);
  const cJSON *schema = cJSON_GetObjectItemCaseSensitive(*bundle, "schema");
  if (!*bundle || !cJSON_IsString(schema) || strncmp(schema->valuestring, "cmgdiag.bundle/", 15) != 0 ||
      !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*bundle, "checks"))) {
    cg_snprintf(err, errlen, "%s: not a cmgdiag bundle (expected JSON with \"schema\": \"%s\" and \"checks\")", origin,
                CG_BUNDLE_SCHEMA);
    cJSON_Delete(*bundle);
    *bundle = NULL;
    rc = CG_ERR_PARSE;
  }
out:
  cg_free(json);
  cg_free(text);
  return rc;
}

int cg_bundle_load(const char *path, cJSON **bundle, char *err, size_t errlen) {
  char *raw = NULL;
  size_t raw_len = 0;
  int rc = cg_file_read(path, CG_BUNDLE_MAX_BYTES, &raw, &raw_len);
  *bundle = NULL;
  if (rc != CG_OK) {
    cg_snprintf(err, errlen, "%s: %s", path,
                rc == CG_ERR_TOOBIG ? "larger than 16 MiB, not a bundle" : cg_strerror(rc));
    return rc;
  }
  rc = cg_bundle_parse(raw, raw_len, path, bundle, err, errlen);
  cg_free(raw);
  return rc;
}

static enum cg_verdict verdict_from(const char *s) {
  static const char *const names[] = {"pass", "warn", "fail", "skip", "error"};
  for (int i = 0; s && i < 5; i++)
    if (strcmp(s, names[i]) == 0) return (enum cg_verdict)i;
  return CG_ERROR;
}

static const char *str_of(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : "";
}

int cg_bundle_results(const cJSON *bundle, struct cg_result **rs, size_t *n) {
  const cJSON *checks = cJSON_GetObjectItemCaseSensitive(bundle, "checks");
  int count = cJSON_GetArraySize(checks);
  if (count > CG_BUNDLE_MAX_CHECKS) count = CG_BUNDLE_MAX_CHECKS;
  struct cg_result *out = cg_calloc(count ? (size_t)count : 1, sizeof(*out));
  if (!out) return CG_ERR_NOMEM;
  size_t k = 0;
  for (const cJSON *c = checks ? checks->child : NULL; c && k < (size_t)count; c = c->next) {
    if (cg_result_init(&out[k], str_of(c, "check")) != CG_OK ||
        cg_result_set(&out[k], verdict_from(str_of(c, "status")), str_of(c, "code"), str_of(c, "remediation"), "%s",
                      str_of(c, "summary")) != CG_OK ||
        (*str_of(c, "detail") && cg_result_detail(&out[k], "%s", str_of(c, "detail")) != CG_OK)) {
      for (size_t i = 0; i <= k; i++)
        cg_result_free(&out[i]);
      cg_free(out);
      return CG_ERR_NOMEM;
    }
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "duration_ms");
    out[k].duration_ms = cJSON_IsNumber(d) ? (int64_t)d->valuedouble : 0;
    k++;
  }
  *rs = out;
  *n = k;
  return CG_OK;
}

int cg_bundle_gzip(const cJSON *bundle, int level, char **gz, size_t *len) {
  char *text = cJSON_PrintUnformatted(bundle);
  if (!text) return CG_ERR_NOMEM;
  int rc = cg_gzip(text, strlen(text), level, gz, len);
  cJSON_free(text);
  return rc;
}
