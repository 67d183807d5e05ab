/* Configuration: parse, validate against declarative maps, fill defaults, fill structs. */
#include "config.h"
#include "diagnosis.h"
#include "policy.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "platform/fs.h"
#include "profiles.h"
#include "redact.h"
#include "text.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

struct vctx {
  const char *origin;
  char *err;
  size_t errlen;
};

static const char *json_kind(const cJSON *v) {
  if (cJSON_IsBool(v)) return "true/false";
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsNumber(v)) return "a number";
  if (cJSON_IsString(v)) return "a string";
  if (cJSON_IsArray(v)) return "a list";
  if (cJSON_IsObject(v)) return "an object";
  return "an invalid value";
}

static const char *type_want(enum cg_cfg_type t) {
  switch (t) {
  case CG_CFG_BOOL: return "true or false";
  case CG_CFG_INT: return "a whole number";
  case CG_CFG_STRING: return "a string or null";
  case CG_CFG_STRLIST: return "a list of strings";
  case CG_CFG_OBJLIST: return "a list of objects";
  default: return "an object";
  }
}

static const struct cg_config_map *map_find(const struct cg_config_map *map, const char *key) {
  for (; map && map->key; map++)
    if (strcmp(map->key, key) == 0) return map;
  return NULL;
}

/* The closest of the map keys (of up to two maps) to `key`, or NULL when none is close. */
static const char *suggest(const char *key, const struct cg_config_map *a, const struct cg_config_map *b) {
  const char *best = NULL;
  int best_d = (int)strlen(key) / 3 + 2;
  const struct cg_config_map *maps[2] = {a, b};
  for (int i = 0; i < 2; i++)
    for (const struct cg_config_map *m = maps[i]; m && m->key; m++) {
      int d = cg_edit_distance(key, m->key, best_d);
      if (d < best_d) {
        best_d = d;
        best = m->key;
      }
    }
  return best;
}

static int fail_unknown(struct vctx *v, const char *where, const char *key, const char *hint) {
  cg_snprintf(v->err, v->errlen, "%s: unknown key '%s%s%s'%s%s%s", v->origin, where, *where ? "." : "", key,
              hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
  return CG_ERR_CONFIG;
}

static int check_value(struct vctx *v, const char *where, const struct cg_config_map *m, const cJSON *val);

static bool choice_ok(const char *choices, const char *s) {
  size_t sl = strlen(s);
  for (const char *c = choices; *c;) {
    size_t n = strcspn(c, "|");
    if (n == sl) {
      char a[64];
      if (n < sizeof(a)) {
        memcpy(a, c, n);
        a[n] = '\0';
        if (cg_strcasecmp(a, s) == 0) return true;
      }
    }
    c += n;
    if (*c == '|') c++;
  }
  return false;
}

/* Validates obj against map (and `extra`, keys handled by the caller's layer), then adds the
 * defaults of missing keys. */
static int validate_obj(struct vctx *v, cJSON *obj, const char *where, const struct cg_config_map *map,
                        const struct cg_config_map *extra) {
  for (cJSON *c = obj->child; c; c = c->next) {
    for (cJSON *d = obj->child; d != c; d = d->next)
      if (strcmp(d->string, c->string) == 0) {
        cg_snprintf(v->err, v->errlen, "%s: key '%s%s%s' appears twice; keep one", v->origin, where, *where ? "." : "",
                    c->string);
        return CG_ERR_CONFIG;
      }
    const struct cg_config_map *m = map_find(map, c->string);
    if (!m) m = map_find(extra, c->string);
    if (!m) return fail_unknown(v, where, c->string, suggest(c->string, map, extra));
    int rc = check_value(v, where, m, c);
    if (rc != CG_OK) return rc;
  }
  const struct cg_config_map *maps[2] = {extra, map};
  for (int i = 0; i < 2; i++)
    for (const struct cg_config_map *m = maps[i]; m && m->key; m++) {
      if (cJSON_GetObjectItemCaseSensitive(obj, m->key)) continue;
      cJSON *def = m->type == CG_CFG_SECTION ? cJSON_CreateObject() : cJSON_Parse(m->def);
      if (!def) return CG_ERR_NOMEM;
      cJSON_AddItemToObject(obj, m->key, def);
      if (m->type == CG_CFG_SECTION) {
        char *sub = cg_asprintf("%s%s%s", where, *where ? "." : "", m->key);
        int rc = sub ? validate_obj(v, def, sub, m->sub, NULL) : CG_ERR_NOMEM;
        cg_free(sub);
        if (rc != CG_OK) return rc;
      }
    }
  return CG_OK;
}

static int check_value(struct vctx *v, const char *where, const struct cg_config_map *m, const cJSON *val) {
  const char *dot = *where ? "." : "";
  bool ok;
  switch (m->type) {
  case CG_CFG_BOOL: ok = cJSON_IsBool(val); break;
  case CG_CFG_INT:
    ok = cJSON_IsNumber(val) && val->valuedouble == floor(val->valuedouble) && fabs(val->valuedouble) < 9.0e15;
    break;
  case CG_CFG_STRING: ok = cJSON_IsString(val) || cJSON_IsNull(val); break;
  case CG_CFG_STRLIST:
    ok = cJSON_IsArray(val);
    for (const cJSON *e = ok ? val->child : NULL; e; e = e->next)
      ok = ok && cJSON_IsString(e);
    break;
  case CG_CFG_OBJLIST:
    ok = cJSON_IsArray(val);
    for (const cJSON *e = ok ? val->child : NULL; e; e = e->next)
      ok = ok && cJSON_IsObject(e);
    break;
  default: ok = cJSON_IsObject(val); break;
  }
  if (!ok) {
    cg_snprintf(v->err, v->errlen, "%s: key '%s%s%s' must be %s, not %s", v->origin, where, dot, m->key,
                type_want(m->type), json_kind(val));
    return CG_ERR_CONFIG;
  }
  if (m->type == CG_CFG_INT && (m->min || m->max) &&
      (val->valuedouble < (double)m->min || val->valuedouble > (double)m->max)) {
    cg_snprintf(v->err, v->errlen, "%s: key '%s%s%s' must be between %lld and %lld, not %.0f", v->origin, where, dot,
                m->key, (long long)m->min, (long long)m->max, val->valuedouble);
    return CG_ERR_CONFIG;
  }
  if (m->type == CG_CFG_STRING && m->choices && cJSON_IsString(val) && !choice_ok(m->choices, val->valuestring)) {
    cg_snprintf(v->err, v->errlen, "%s: key '%s%s%s' must be one of %s, not \"%.40s%s\"", v->origin, where, dot, m->key,
                m->choices, val->valuestring, strlen(val->valuestring) > 40 ? "..." : "");
    return CG_ERR_CONFIG;
  }
  if (m->type == CG_CFG_SECTION) {
    char *sub = cg_asprintf("%s%s%s", where, dot, m->key);
    int rc = sub ? validate_obj(v, (cJSON *)val, sub, m->sub, NULL) : CG_ERR_NOMEM;
    cg_free(sub);
    return rc;
  }
  if (m->type == CG_CFG_OBJLIST) {
    int i = 0, rc = CG_OK;
    for (cJSON *e = val->child; e && rc == CG_OK; e = e->next, i++) {
      char *sub = cg_asprintf("%s%s%s[%d]", where, dot, m->key, i);
      rc = sub ? validate_obj(v, e, sub, m->sub, NULL) : CG_ERR_NOMEM;
      cg_free(sub);
    }
    return rc;
  }
  return CG_OK;
}

static char *compiled_checks(void) {
  struct cg_buf b;
  cg_buf_init(&b, 4096);
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++)
    cg_buf_printf(&b, "%s%s", b.len ? ", " : "", (*p)->name);
  return cg_buf_take(&b, NULL);
}

/* The meanings a plugin declares (plugin.h), on its section `sec` named `where`. */
static int check_meanings(struct vctx *v, const cJSON *sec, const char *where, const struct cg_setting_meaning *ms) {
  char why[600];
  for (; ms && ms->key; ms++) {
    const char *dot = strchr(ms->key, '.');
    if (!dot) {
      const cJSON *val = cJSON_GetObjectItemCaseSensitive(sec, ms->key);
      if (val && !cJSON_IsNull(val) && !ms->check(val, why, sizeof(why))) {
        cg_snprintf(v->err, v->errlen, "%s: key '%s.%s': %s", v->origin, where, ms->key, why);
        return CG_ERR_CONFIG;
      }
      continue;
    }
    char list[64];
    cg_snprintf(list, sizeof(list), "%.*s", (int)(dot - ms->key), ms->key);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sec, list)) {
      const cJSON *val = cJSON_GetObjectItemCaseSensitive(e, dot + 1);
      if (val && !cJSON_IsNull(val) && !ms->check(val, why, sizeof(why))) {
        cg_snprintf(v->err, v->errlen, "%s: key '%s.%s[%d].%s': %s", v->origin, where, list, i, dot + 1, why);
        return CG_ERR_CONFIG;
      }
      i++;
    }
  }
  return CG_OK;
}

int cg_config_check_meanings(const struct cg_config *cfg, char *err, size_t errlen) {
  struct vctx v = {.origin = cfg->path, .err = err, .errlen = errlen};
  const cJSON *checks = cJSON_GetObjectItemCaseSensitive(cfg->root, "checks");
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++) {
    char where[80];
    cg_snprintf(where, sizeof(where), "checks.%s", (*p)->name);
    int rc = check_meanings(&v, cJSON_GetObjectItemCaseSensitive(checks, (*p)->name), where, (*p)->meanings);
    if (rc != CG_OK) return rc;
  }
  int i = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(cfg->root, "outputs")) {
    const struct cg_output_plugin *p =
        cg_registry_find_output(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type")));
    char where[48];
    cg_snprintf(where, sizeof(where), "outputs[%d]", i++);
    int rc = p ? check_meanings(&v, o, where, p->meanings) : CG_OK;
    if (rc != CG_OK) return rc;
  }
  return CG_OK;
}

static int validate_checks(struct vctx *v, cJSON *root) {
  cJSON *checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
  if (!checks) checks = cJSON_AddObjectToObject(root, "checks");
  if (!checks) return CG_ERR_NOMEM;
  if (!cJSON_IsObject(checks)) {
    cg_snprintf(v->err, v->errlen, "%s: key 'checks' must be an object, not %s", v->origin, json_kind(checks));
    return CG_ERR_CONFIG;
  }
  for (cJSON *c = checks->child; c; c = c->next) {
    const struct cg_check_plugin *p = cg_registry_find_check(c->string);
    if (!p) {
      const char *hint = cg_registry_suggest_check(c->string);
      char *list = compiled_checks();
      cg_snprintf(v->err, v->errlen, "%s: unknown check 'checks.%s'%s%s%s (compiled into this build: %s)", v->origin,
                  c->string, hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "", list ? list : "");
      cg_free(list);
      return CG_ERR_CONFIG;
    }
    if (!cJSON_IsObject(c)) {
      cg_snprintf(v->err, v->errlen, "%s: key 'checks.%s' must be an object, not %s", v->origin, c->string,
                  json_kind(c));
      return CG_ERR_CONFIG;
    }
  }
  for (const struct cg_check_plugin *const *p = cg_registry_checks(); *p; p++) {
    cJSON *c = cJSON_GetObjectItemCaseSensitive(checks, (*p)->name);
    if (!c && !(c = cJSON_AddObjectToObject(checks, (*p)->name))) return CG_ERR_NOMEM;
    char where[80];
    cg_snprintf(where, sizeof(where), "checks.%s", (*p)->name);
    int rc = validate_obj(v, c, where, (*p)->config_map, cg_config_check_common(*p));
    if (rc != CG_OK) return rc;
  }
  return CG_OK;
}

int cg_config_check_section(const struct cg_check_plugin *p, cJSON *section, const char *origin, char *err,
                            size_t errlen) {
  struct vctx v = {.origin = origin, .err = err, .errlen = errlen};
  if (!cJSON_IsObject(section)) {
    cg_snprintf(err, errlen, "%s: the settings of check %s are not an object", origin, p->name);
    return CG_ERR_CONFIG;
  }
  char where[80];
  cg_snprintf(where, sizeof(where), "checks.%s", p->name);
  return validate_obj(&v, section, where, p->config_map, cg_config_check_common(p));
}

static const struct cg_config_map output_common[] = {
    {CG_CFG_STRING, "type", "null", "Which output plugin", 0, 0, 0, NULL, NULL},
    CG_CFG_END,
};

static int validate_outputs(struct vctx *v, cJSON *root) {
  cJSON *outs = cJSON_GetObjectItemCaseSensitive(root, "outputs");
  if (!outs) outs = cJSON_AddArrayToObject(root, "outputs");
  if (!outs) return CG_ERR_NOMEM;
  if (!cJSON_IsArray(outs)) {
    cg_snprintf(v->err, v->errlen, "%s: key 'outputs' must be a list, not %s", v->origin, json_kind(outs));
    return CG_ERR_CONFIG;
  }
  int i = 0;
  for (cJSON *o = outs->child; o; o = o->next, i++) {
    char where[48];
    cg_snprintf(where, sizeof(where), "outputs[%d]", i);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsObject(o) || !cJSON_IsString(type)) {
      cg_snprintf(v->err, v->errlen, "%s: '%s' must be an object with a \"type\" string", v->origin, where);
      return CG_ERR_CONFIG;
    }
    const struct cg_output_plugin *p = cg_registry_find_output(type->valuestring);
    if (!p) {
      struct cg_buf b;
      cg_buf_init(&b, 4096);
      for (const struct cg_output_plugin *const *q = cg_registry_outputs(); *q; q++)
        cg_buf_printf(&b, "%s%s", b.len ? ", " : "", (*q)->name);
      cg_snprintf(v->err, v->errlen, "%s: key '%s.type': unknown output \"%s\" (compiled into this build: %s)",
                  v->origin, where, type->valuestring, b.len ? b.data : "none yet");
      cg_buf_free(&b);
      return CG_ERR_CONFIG;
    }
    int rc = validate_obj(v, o, where, p->config_map, output_common);
    if (rc != CG_OK) return rc;
  }
  return CG_OK;
}

/* "profiles": { "NAME": { "description": "...", "require": [ {requirement}, ... ] } } (validate.c) */
static int validate_profiles(struct vctx *v, cJSON *root) {
  cJSON *profs = cJSON_GetObjectItemCaseSensitive(root, "profiles");
  if (!profs) profs = cJSON_AddObjectToObject(root, "profiles");
  if (!profs) return CG_ERR_NOMEM;
  if (!cJSON_IsObject(profs)) {
    cg_snprintf(v->err, v->errlen, "%s: key 'profiles' must be an object of named profiles, not %s", v->origin,
                json_kind(profs));
    return CG_ERR_CONFIG;
  }
  static const char *const pkeys[] = {"description", "require", "extends", "drop"};
  static const char *const rkeys[] = {"id",     "severity", "unknown", "check", "bundle",  "status", "fact",
                                      "equals", "in",       "min",     "max",   "abs_max", "why",    "unknown_why"};
  for (cJSON *p = profs->child; p; p = p->next) {
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(p, "extends"),
                *req = cJSON_GetObjectItemCaseSensitive(p, "require");
    if (!cJSON_IsObject(p) || (!cJSON_IsArray(req) && !(ext && !req))) {
      cg_snprintf(v->err, v->errlen,
                  "%s: profile 'profiles.%s' must be an object with a \"require\" list (or "
                  "\"extends\" another profile)",
                  v->origin, p->string);
      return CG_ERR_CONFIG;
    }
    if (ext && (!cJSON_IsString(ext) || (!cg_profile_is_builtin(ext->valuestring) &&
                                         !cJSON_GetObjectItemCaseSensitive(profs, ext->valuestring)))) {
      cg_snprintf(v->err, v->errlen, "%s: 'profiles.%s.extends' must name a profile (built in: pre-upgrade)", v->origin,
                  p->string);
      return CG_ERR_CONFIG;
    }
    for (cJSON *k = p->child; k; k = k->next) {
      bool ok = false;
      for (size_t i = 0; i < CG_ARRAY_LEN(pkeys); i++)
        ok |= !strcmp(k->string, pkeys[i]);
      if (!ok) {
        cg_snprintf(v->err, v->errlen, "%s: unknown key 'profiles.%s.%s' (known: description, require, extends, drop)",
                    v->origin, p->string, k->string);
        return CG_ERR_CONFIG;
      }
    }
    int i = 0;
    for (cJSON *r = req ? req->child : NULL; r; r = r->next, i++) {
      const cJSON *sev = cJSON_GetObjectItemCaseSensitive(r, "severity");
      if (sev && !(cJSON_IsString(sev) && (!strcmp(sev->valuestring, "block") || !strcmp(sev->valuestring, "warn")))) {
        cg_snprintf(v->err, v->errlen, "%s: 'profiles.%s.require[%d].severity' must be \"block\" or \"warn\"",
                    v->origin, p->string, i);
        return CG_ERR_CONFIG;
      }
      const cJSON *chk = cJSON_GetObjectItemCaseSensitive(r, "check"),
                  *bun = cJSON_GetObjectItemCaseSensitive(r, "bundle");
      if (!cJSON_IsObject(r) || (!cJSON_IsString(chk) && !cJSON_IsString(bun))) {
        cg_snprintf(v->err, v->errlen,
                    "%s: 'profiles.%s.require[%d]' must be an object with \"check\" (a check "
                    "name) or \"bundle\" (a path in the bundle, e.g. spool.pending)",
                    v->origin, p->string, i);
        return CG_ERR_CONFIG;
      }
      if (cJSON_IsString(chk) && !cg_registry_find_check(chk->valuestring)) {
        cg_snprintf(v->err, v->errlen, "%s: 'profiles.%s.require[%d].check' names the unknown check '%s'", v->origin,
                    p->string, i, chk->valuestring);
        return CG_ERR_CONFIG;
      }
      for (cJSON *k = r->child; k; k = k->next) {
        bool ok = false;
        for (size_t n = 0; n < CG_ARRAY_LEN(rkeys); n++)
          ok |= !strcmp(k->string, rkeys[n]);
        if (!ok) {
          cg_snprintf(v->err, v->errlen,
                      "%s: unknown key 'profiles.%s.require[%d].%s' (known: id, severity, unknown, "
                      "check, bundle, status, fact, equals, in, min, max, abs_max, why, unknown_why)",
                      v->origin, p->string, i, k->string);
          return CG_ERR_CONFIG;
        }
      }
    }
  }
  return CG_OK;
}

int cg_config_parse_set(const struct cg_config_map *map, const char *owner, const char *kv, char *key, size_t keylen,
                        cJSON **value, char *err, size_t errlen) {
  const char *eq = strchr(kv, '=');
  *value = NULL;
  if (!eq || eq == kv) {
    cg_snprintf(err, errlen, "--set %s: expected KEY=VALUE", kv);
    return CG_ERR_USAGE;
  }
  if ((size_t)(eq - kv) >= keylen) {
    cg_snprintf(err, errlen, "--set: key too long");
    return CG_ERR_USAGE;
  }
  memcpy(key, kv, (size_t)(eq - kv));
  key[eq - kv] = '\0';
  const char *val = eq + 1;
  const struct cg_config_map *common = cg_config_check_common(cg_registry_find_check(owner));
  const struct cg_config_map *m = map_find(map, key);
  if (!m) m = map_find(common, key);
  if (!m) {
    const char *hint = suggest(key, map, common);
    cg_snprintf(err, errlen, "--set: '%s' is not a setting of check '%s'%s%s%s", key, owner,
                hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
    return CG_ERR_CONFIG;
  }
  cJSON *nv = NULL;
  int64_t n;
  switch (m->type) {
  case CG_CFG_BOOL:
    if (!cg_strcasecmp(val, "true") || !cg_strcasecmp(val, "yes") || !cg_strcasecmp(val, "on") || !strcmp(val, "1"))
      nv = cJSON_CreateTrue();
    else if (!cg_strcasecmp(val, "false") || !cg_strcasecmp(val, "no") || !cg_strcasecmp(val, "off") ||
             !strcmp(val, "0"))
      nv = cJSON_CreateFalse();
    else {
      cg_snprintf(err, errlen, "--set %s: must be true or false", key);
      return CG_ERR_CONFIG;
    }
    break;
  case CG_CFG_INT:
    if (!cg_parse_i64(val, &n)) {
      cg_snprintf(err, errlen, "--set %s: must be a whole number, not \"%s\"", key, val);
      return CG_ERR_CONFIG;
    }
    nv = cJSON_CreateNumber((double)n);
    break;
  case CG_CFG_STRING: nv = strcmp(val, "null") ? cJSON_CreateString(val) : cJSON_CreateNull(); break;
  case CG_CFG_STRLIST:
    /* The list is replaced by this one element; an empty value empties it. */
    nv = cJSON_CreateArray();
    if (nv && *val) {
      cJSON *s = cJSON_CreateString(val);
      if (!s) {
        cJSON_Delete(nv);
        nv = NULL;
      } else {
        cJSON_AddItemToArray(nv, s);
      }
    }
    break;
  default:
    cg_snprintf(err, errlen, "--set %s: a section cannot be set from the command line", key);
    return CG_ERR_CONFIG;
  }
  if (!nv) return CG_ERR_NOMEM;
  *value = nv;
  return CG_OK;
}

/* Remembers that the command line set KEY of ov->check (cg_config_check_files_trusted). */
static int note_cli_key(struct cg_config *cfg, const struct cg_config_override *ov, size_t i) {
  const char *eq = strchr(ov->sets[i], '=');
  size_t klen = eq ? (size_t)(eq - ov->sets[i]) : strlen(ov->sets[i]);
  char key[96];
  if (!ov->check || klen >= sizeof(key)) return CG_OK;
  memcpy(key, ov->sets[i], klen);
  key[klen] = '\0';
  if (!cfg->cli_check && !(cfg->cli_check = cg_strdup(ov->check))) return CG_ERR_NOMEM;
  if (!cfg->cli_keys && !(cfg->cli_keys = cJSON_CreateArray())) return CG_ERR_NOMEM;
  cJSON *k = cJSON_CreateString(key);
  return k && cJSON_AddItemToArray(cfg->cli_keys, k) ? CG_OK : (cJSON_Delete(k), CG_ERR_NOMEM);
}

/* --set KEY=VALUE for one check: typed by the check's map, applied before validation. */
static int apply_set(struct vctx *v, cJSON *root, const char *check, const char *kv) {
  const struct cg_check_plugin *p = cg_registry_find_check(check);
  char key[64];
  cJSON *nv = NULL;
  if (!p) return CG_ERR_CONFIG;
  int rc = cg_config_parse_set(p->config_map, check, kv, key, sizeof(key), &nv, v->err, v->errlen);
  if (rc != CG_OK) return rc;
  cJSON *checks = cJSON_GetObjectItemCaseSensitive(root, "checks");
  if (!checks) checks = cJSON_AddObjectToObject(root, "checks");
  cJSON *c = cJSON_IsObject(checks) ? cJSON_GetObjectItemCaseSensitive(checks, check) : NULL;
  if (cJSON_IsObject(checks) && !c) c = cJSON_AddObjectToObject(checks, check);
  if (!cJSON_IsObject(c)) {
    /* "checks" or "checks.NAME" is not an object: validation reports that with the file name. */
    cJSON_Delete(nv);
    return CG_OK;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(c, key);
  cJSON_AddItemToObject(c, key, nv);
  return CG_OK;
}

static void error_position(const char *text, const char *at, int *line, int *col) {
  *line = 1;
  *col = 1;
  for (const char *p = text; at && p < at && *p; p++) {
    if (*p == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

int cg_config_load_text(struct cg_config *cfg, const char *text, size_t len, const char *origin,
                        const struct cg_config_override *ov, char *err, size_t errlen) {
  int rc;
  char *utf8 = NULL;
  size_t ulen = 0;
  struct vctx v = {.origin = origin, .err = err, .errlen = errlen};
  if (!cfg->path && !(cfg->path = cg_strdup(origin))) return CG_ERR_NOMEM;
  /* Notepad writes a UTF-8 BOM and PowerShell 5.1's Out-File writes UTF-16LE: accept both. */
  if ((rc = cg_text_decode(text, len, &utf8, &ulen, NULL)) != CG_OK) goto out;
  if (strlen(utf8) != ulen) {
    cg_snprintf(err, errlen, "%s: the file contains NUL bytes; save it as UTF-8 or UTF-16 with a BOM", origin);
    rc = CG_ERR_CONFIG;
    goto out;
  }
  const char *end = NULL;
  cfg->root = cJSON_ParseWithOpts(utf8, &end, true); /* no NUL inside: checked above */
  if (!cfg->root) {
    int line, col;
    error_position(utf8, end ? end : cJSON_GetErrorPtr(), &line, &col);
    cg_snprintf(err, errlen, "%s: not valid JSON near line %d, column %d", origin, line, col);
    rc = CG_ERR_CONFIG;
    goto out;
  }
  if (!cJSON_IsObject(cfg->root)) {
    cg_snprintf(err, errlen, "%s: the configuration must be a JSON object ({ ... }), not %s", origin,
                json_kind(cfg->root));
    rc = CG_ERR_CONFIG;
    goto out;
  }
  if ((rc = cg_policy_apply(cfg->root, cfg->policy, sizeof(cfg->policy), v.err, v.errlen)) != CG_OK) goto out;
  for (size_t i = 0; ov && i < ov->count; i++)
    if ((rc = apply_set(&v, cfg->root, ov->check, ov->sets[i])) != CG_OK || (rc = note_cli_key(cfg, ov, i)) != CG_OK)
      goto out;
  static const struct cg_config_map lists[] = {
      {CG_CFG_SECTION, "checks", NULL, NULL, 0, 0, 0, NULL, NULL},
      {CG_CFG_SECTION, "outputs", NULL, NULL, 0, 0, 0, NULL, NULL},
      {CG_CFG_SECTION, "profiles", NULL, NULL, 0, 0, 0, NULL, NULL},
      {CG_CFG_SECTION, "diagnosis_rules", NULL, NULL, 0, 0, 0, NULL, NULL},
      CG_CFG_END,
  };
  /* "checks" and "outputs" depend on the registry: check their names here, their bodies below. */
  for (cJSON *c = cfg->root->child; c; c = c->next)
    if (!map_find(cg_config_core_map(), c->string) && !map_find(lists, c->string)) {
      rc = fail_unknown(&v, "", c->string, suggest(c->string, cg_config_core_map(), lists));
      goto out;
    }
  if ((rc = validate_checks(&v, cfg->root)) != CG_OK || (rc = validate_outputs(&v, cfg->root)) != CG_OK ||
      (rc = validate_profiles(&v, cfg->root)) != CG_OK)
    goto out;
  cJSON *rules = cJSON_GetObjectItemCaseSensitive(cfg->root, "diagnosis_rules");
  if (rules) {
    char where[300];
    cg_snprintf(where, sizeof(where), "%s: diagnosis_rules", origin);
    if ((rc = cg_diagnosis_rules_check(rules, where, err, errlen)) != CG_OK) goto out;
  }
  rules = cJSON_DetachItemFromObjectCaseSensitive(cfg->root, "diagnosis_rules");
  cJSON *checks = cJSON_DetachItemFromObjectCaseSensitive(cfg->root, "checks");
  cJSON *outputs = cJSON_DetachItemFromObjectCaseSensitive(cfg->root, "outputs");
  cJSON *profiles = cJSON_DetachItemFromObjectCaseSensitive(cfg->root, "profiles");
  rc = validate_obj(&v, cfg->root, "", cg_config_core_map(), NULL);
  cJSON_AddItemToObject(cfg->root, "checks", checks);
  cJSON_AddItemToObject(cfg->root, "outputs", outputs);
  cJSON_AddItemToObject(cfg->root, "profiles", profiles);
  if (rules) cJSON_AddItemToObject(cfg->root, "diagnosis_rules", rules);
  if (rc != CG_OK || (rc = cg_config_map_fill(cg_config_core_map(), cfg->root, cfg)) != CG_OK) goto out;
  /* Platform defaults, written back so `config check` shows what is really used. */
  if (!cfg->spool.dir) cfg->spool.dir = cg_default_spool_dir();
  if (!cfg->log.file) cfg->log.file = cg_default_log_file();
  if (!cfg->state_dir) cfg->state_dir = cg_default_state_dir();
  if (!cfg->spool.dir || !cfg->log.file || !cfg->state_dir) {
    rc = CG_ERR_NOMEM;
    goto out;
  }
  cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg->root, "spool"), "dir",
                                         cJSON_CreateString(cfg->spool.dir));
  cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg->root, "log"), "file",
                                         cJSON_CreateString(cfg->log.file));
  cJSON_ReplaceItemInObjectCaseSensitive(cfg->root, "state_dir", cJSON_CreateString(cfg->state_dir));
out:
  if (rc == CG_ERR_NOMEM) cg_snprintf(err, errlen, "%s: out of memory reading the configuration", origin);
  cg_free(utf8);
  return rc;
}

int cg_config_load(struct cg_config *cfg, const char *path, const struct cg_config_override *ov, char *err,
                   size_t errlen) {
  char *data = NULL;
  size_t len = 0;
  int rc;
  memset(cfg, 0, sizeof(*cfg));
  cfg->path = path ? cg_strdup(path) : cg_default_config_path();
  if (!cfg->path) return CG_ERR_NOMEM;
  rc = cg_file_read(cfg->path, CONFIG_MAX_BYTES, &data, &len);
  if (rc == CG_ERR_NOTFOUND && !path) {
    /* No file at the default location: built-in defaults (the agent check reports it). */
    rc = cg_config_load_text(cfg, "{}", 2, cfg->path, ov, err, errlen);
    cfg->file_found = false;
    return rc;
  }
  if (rc != CG_OK) {
    cg_snprintf(err, errlen, "%s: %s", cfg->path,
                rc == CG_ERR_TOOBIG ? "larger than 1 MiB, not a configuration file" : cg_strerror(rc));
    return rc == CG_ERR_TOOBIG ? CG_ERR_CONFIG : rc;
  }
  cfg->file_found = true;
  rc = cg_config_load_text(cfg, data, len, cfg->path, ov, err, errlen);
  cg_free(data);
  if (rc == CG_OK) {
    char why[sizeof(cfg->insecure_why)] = "";
    cfg->insecure = cg_path_admin_only(cfg->path, why, sizeof(why)) != CG_OK;
    cg_strlcpy(cfg->insecure_why, why, sizeof(cfg->insecure_why));
  }
  return rc;
}

void cg_config_free(struct cg_config *cfg) {
  cg_config_map_release(cg_config_core_map(), cfg);
  cg_free(cfg->path);
  cg_free(cfg->cli_check);
  cJSON_Delete(cfg->cli_keys);
  cJSON_Delete(cfg->root);
  memset(cfg, 0, sizeof(*cfg));
}

const cJSON *cg_config_check(const struct cg_config *cfg, const char *name) {
  return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cfg->root, "checks"), name);
}

bool cg_config_check_enabled(const struct cg_config *cfg, const char *name) {
  return !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cg_config_check(cfg, name), "enabled"));
}

char *cg_config_render_redacted(const struct cg_config *cfg) {
  cJSON *copy = cJSON_Duplicate(cfg->root, true);
  char *text = NULL;
  if (copy && cg_redact_json(copy) == CG_OK) {
    char *printed = cJSON_Print(copy);
    text = cg_strdup(printed);
    cJSON_free(printed);
  }
  cJSON_Delete(copy);
  return text;
}

int cg_config_map_fill(const struct cg_config_map *map, const cJSON *obj, void *ctx) {
  for (const struct cg_config_map *m = map; m && m->key; m++) {
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(obj, m->key);
    char *base = (char *)ctx + m->offset;
    switch (m->type) {
    case CG_CFG_BOOL: *(bool *)base = cJSON_IsTrue(val); break;
    case CG_CFG_INT: *(int64_t *)base = cJSON_IsNumber(val) ? (int64_t)val->valuedouble : 0; break;
    case CG_CFG_STRING:
      *(char **)base = cJSON_IsString(val) ? cg_strdup(val->valuestring) : NULL;
      if (cJSON_IsString(val) && !*(char **)base) return CG_ERR_NOMEM;
      break;
    case CG_CFG_STRLIST: {
      struct cg_strlist *l = (struct cg_strlist *)base;
      int n = cJSON_GetArraySize(val);
      l->count = 0;
      l->items = n ? cg_calloc((size_t)n, sizeof(char *)) : NULL;
      if (n && !l->items) return CG_ERR_NOMEM;
      for (const cJSON *e = val ? val->child : NULL; e; e = e->next) {
        if (!(l->items[l->count] = cg_strdup(e->valuestring))) return CG_ERR_NOMEM;
        l->count++;
      }
      break;
    }
    case CG_CFG_OBJLIST: {
      struct cg_objlist *l = (struct cg_objlist *)base;
      int n = cJSON_GetArraySize(val);
      l->count = 0;
      l->items = n ? cg_calloc((size_t)n, (size_t)m->max) : NULL;
      if (n && !l->items) return CG_ERR_NOMEM;
      for (const cJSON *e = val ? val->child : NULL; e; e = e->next) {
        l->count++; /* counted first: a half-filled element is released too */
        int rc = cg_config_map_fill(m->sub, e, (char *)l->items + (l->count - 1) * (size_t)m->max);
        if (rc != CG_OK) return rc;
      }
      break;
    }
    case CG_CFG_SECTION: {
      /* Section keys carry offsets from the same base as their parent's. */
      int rc = cg_config_map_fill(m->sub, val, ctx);
      if (rc != CG_OK) return rc;
      break;
    }
    }
  }
  return CG_OK;
}

void cg_config_map_release(const struct cg_config_map *map, void *ctx) {
  for (const struct cg_config_map *m = map; m && m->key; m++) {
    char *base = (char *)ctx + m->offset;
    if (m->type == CG_CFG_STRING) {
      cg_free(*(char **)base);
      *(char **)base = NULL;
    } else if (m->type == CG_CFG_STRLIST) {
      struct cg_strlist *l = (struct cg_strlist *)base;
      for (size_t i = 0; i < l->count; i++)
        cg_free(l->items[i]);
      cg_free(l->items);
      l->items = NULL;
      l->count = 0;
    } else if (m->type == CG_CFG_SECTION) {
      cg_config_map_release(m->sub, ctx);
    } else if (m->type == CG_CFG_OBJLIST) {
      struct cg_objlist *l = (struct cg_objlist *)base;
      for (size_t i = 0; i < l->count; i++)
        cg_config_map_release(m->sub, (char *)l->items + i * (size_t)m->max);
      cg_free(l->items);
      l->items = NULL;
      l->count = 0;
    }
  }
}
