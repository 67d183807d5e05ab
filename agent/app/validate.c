/* Go/no-go profiles (see validate.h). A requirement ("id" names it for extensions; "severity":
 * "block" (default) or "warn"):
 *   {"check": NAME, "status": [..]}                        the check's verdict is one of these
 *   {"check": NAME, "fact": "a.b", "equals": V}            a fact (dotted path) equals V
 *   {"check": NAME, "fact": "a.b", "in": [..]}             ... is one of these
 *   {"check": NAME, "fact": "a.b", "min": N, "max": N}     ... is a number within [min, max]
 *   {"check": NAME, "fact": "a.b", "abs_max": N}           ... |value| <= N
 *   {"bundle": "spool.pending", "max": N}                  the same on a path of the bundle
 * and an optional "why": the sentence shown when it is not met. */
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static cJSON *builtin(const char *name) {
  for (const struct cg_builtin_profile *b = cg_builtin_profiles; b->name; b++)
    if (!strcmp(b->name, name)) return cJSON_Parse(b->json);
  return NULL;
}

/* name: from the configuration first (it replaces or extends), else built in; depth bounds a chain
 * of extensions (a cycle is refused). */
static cJSON *resolve(const cJSON *root, const char *name, int depth, char *err, size_t errlen) {
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "profiles"), name);
  if (!cfg) {
    cJSON *b = builtin(name);
    if (!b) {
      char names[512];
      cg_profile_names(root, names, sizeof(names));
      cg_snprintf(err, errlen, "no such profile '%s'; known: %s", name, names);
    }
    return b;
  }
  const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "extends"));
  if (!base) return cJSON_Duplicate(cfg, true);
  if (depth >= 4) {
    cg_snprintf(err, errlen, "profile '%s' extends a chain of more than 4 profiles (or a cycle)", name);
    return NULL;
  }
  /* a profile that extends its own name extends the built-in one it replaces */
  cJSON *out = !strcmp(base, name) ? builtin(base) : resolve(root, base, depth + 1, err, errlen);
  if (!out) {
    if (!err[0]) cg_snprintf(err, errlen, "profile '%s' extends '%s', which does not exist", name, base);
    return NULL;
  }
  cJSON *req = cJSON_GetObjectItemCaseSensitive(out, "require");
  const cJSON *drop = cJSON_GetObjectItemCaseSensitive(cfg, "drop"), *d;
  cJSON_ArrayForEach(d, drop) {
    for (int i = cJSON_GetArraySize(req) - 1; i >= 0; i--) {
      const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(req, i), "id"));
      if (id && cJSON_IsString(d) && !strcmp(id, d->valuestring)) cJSON_DeleteItemFromArray(req, i);
    }
  }
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(cfg, "require")) {
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "id"));
    bool replaced = false;
    for (int i = 0; id && i < cJSON_GetArraySize(req) && !replaced; i++) {
      const char *have = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(req, i), "id"));
      if (have && !strcmp(have, id)) {
        cJSON_ReplaceItemInArray(req, i, cJSON_Duplicate(r, true));
        replaced = true;
      }
    }
    if (!replaced) cJSON_AddItemToArray(req, cJSON_Duplicate(r, true));
  }
  const cJSON *desc = cJSON_GetObjectItemCaseSensitive(cfg, "description");
  if (cJSON_IsString(desc)) {
    cJSON_DeleteItemFromObjectCaseSensitive(out, "description");
    cJSON_AddStringToObject(out, "description", desc->valuestring);
  }
  return out;
}

cJSON *cg_profile_resolve(const cJSON *config_root, const char *name, char *err, size_t errlen) {
  if (errlen) err[0] = '\0';
  return resolve(config_root, name, 0, err, errlen);
}

void cg_profile_names(const cJSON *config_root, char *buf, size_t len) {
  buf[0] = '\0';
  for (const struct cg_builtin_profile *b = cg_builtin_profiles; b->name; b++) {
    size_t l = strlen(buf);
    cg_snprintf(buf + l, len - l, "%s%s", l ? ", " : "", b->name);
  }
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(config_root, "profiles")) {
    if (cg_profile_is_builtin(p->string)) continue;
    size_t l = strlen(buf);
    cg_snprintf(buf + l, len - l, "%s%s", l ? ", " : "", p->string);
  }
}

static bool blocking(const cJSON *r) {
  const char *sev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "severity"));
  return !sev || strcmp(sev, "warn") != 0;
}

static void catalogue_add(cJSON *list, const cJSON *root, const char *name) {
  char err[256];
  cJSON *p = cg_profile_resolve(root, name, err, sizeof(err));
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "profiles"), name);
  const char *base = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "extends"));
  cJSON *o = cJSON_CreateObject();
  char origin[160];
  if (!cfg)
    cg_snprintf(origin, sizeof(origin), "built in");
  else if (base)
    cg_snprintf(origin, sizeof(origin), "configuration, extends %s%s", base, !strcmp(base, name) ? " (built in)" : "");
  else
    cg_snprintf(origin, sizeof(origin), "configuration%s",
                cg_profile_is_builtin(name) ? ", replaces the built-in one" : "");
  cJSON_AddStringToObject(o, "name", name);
  cJSON_AddStringToObject(o, "origin", origin);
  const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "description"));
  cJSON_AddStringToObject(o, "description", p ? (d ? d : "") : err);
  int nb = 0, nw = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "require")) blocking(r) ? nb++ : nw++;
  cJSON_AddNumberToObject(o, "blocking", nb);
  cJSON_AddNumberToObject(o, "warning", nw);
  cJSON_AddItemToArray(list, o);
  cJSON_Delete(p);
}

cJSON *cg_profile_catalogue(const cJSON *config_root) {
  cJSON *list = cJSON_CreateArray();
  for (const struct cg_builtin_profile *b = cg_builtin_profiles; list && b->name; b++)
    catalogue_add(list, config_root, b->name);
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(config_root, "profiles")) {
    if (!cg_profile_is_builtin(p->string)) catalogue_add(list, config_root, p->string);
  }
  return list;
}

static const cJSON *path_get(const cJSON *o, const char *path) {
  char part[64];
  while (o && *path) {
    size_t n = strcspn(path, ".");
    cg_snprintf(part, sizeof(part), "%.*s", (int)(n < 63 ? n : 63), path);
    o = cJSON_GetObjectItemCaseSensitive(o, part);
    path += n + (path[n] == '.');
  }
  return o;
}

static const cJSON *find_check(const cJSON *bundle, const char *name) {
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(bundle, "checks")) {
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "check"));
    if (n && !strcmp(n, name)) return c;
  }
  return NULL;
}

static void value_text(const cJSON *v, char *buf, size_t len) {
  char *t = v ? cJSON_PrintUnformatted(v) : NULL;
  cg_snprintf(buf, len, "%s", t ? t : "unknown");
  cJSON_free(t);
}

enum req_state { REQ_MET, REQ_UNMET, REQ_UNKNOWN };

/* The requirement's sentence with "{path}" replaced by that fact of its check ("{reason}"), so a
 * profile can name the very certificate or host at fault. NULL stays NULL. */
static const char *expand(const char *why, const cJSON *facts, char *out, size_t outlen) {
  if (!why || !strchr(why, '{')) return why;
  size_t w = 0;
  out[0] = '\0';
  for (const char *p = why; *p && w + 1 < outlen;) {
    const char *close = *p == '{' ? strchr(p, '}') : NULL;
    if (!close || close - p > 64) {
      out[w++] = *p++;
      out[w] = '\0';
      continue;
    }
    char path[72], val[400];
    cg_snprintf(path, sizeof(path), "%.*s", (int)(close - p - 1), p + 1);
    const cJSON *v = path_get(facts, path);
    if (cJSON_IsString(v))
      cg_strlcpy(val, v->valuestring, sizeof(val));
    else
      value_text(v, val, sizeof(val));
    cg_snprintf(out + w, outlen - w, "%s", val);
    w = strlen(out);
    p = close + 1;
  }
  return out;
}

/* Met, not met (`why` gets the reason), or unknown: the fact is missing because the check did not
 * get that far (`why` says so). */
static enum req_state requirement_met(const cJSON *r, const cJSON *bundle, char *why, size_t len) {
  const char *check = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "check"));
  const char *bpath = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "bundle"));
  const char *fact = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "fact"));
  const cJSON *res = check ? find_check(bundle, check) : NULL;
  char expanded[600];
  const char *text = expand(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "why")),
                            cJSON_GetObjectItemCaseSensitive(res, "facts"), expanded, sizeof(expanded));
  const char *code = res ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "code")) : NULL;
  const char *status = res ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "status")) : NULL;
  char what[160], detail[200] = "";
  if (check)
    cg_snprintf(what, sizeof(what), "%s%s%s", check, fact ? " " : "", fact ? fact : "");
  else
    cg_snprintf(what, sizeof(what), "%s", bpath ? bpath : "?");
  const char *unk0 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "unknown"));
  /* what a requirement that cannot be judged says: "could not tell whether a restart is pending: ..." */
  const char *uw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "unknown_why"));
  char uwhy[300];
  if (uw)
    cg_strlcpy(uwhy, uw, sizeof(uwhy));
  else
    cg_snprintf(uwhy, sizeof(uwhy), "%s could not be checked", text ? text : what);
  if (check && !res) {
    cg_snprintf(why, len, "%s: the %s check did not run (it is disabled)", uwhy, check);
    return unk0 && !strcmp(unk0, "warn") ? REQ_UNKNOWN : REQ_UNMET;
  }
  bool ok = true;
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
  /* "unknown": "warn" — a check that could not judge here (skip: not configured, not applicable) is
   * said, as a warning, rather than blocking or passing silently */
  const char *unk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "unknown"));
  if (unk && !strcmp(unk, "warn") && status && !strcmp(status, "skip")) {
    const char *sum = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "summary"));
    char s2[400];
    cg_snprintf(s2, sizeof(s2), "%s", sum ? sum : "");
    size_t l = strlen(s2);
    if (l && s2[l - 1] == '.') s2[l - 1] = '\0';
    cg_snprintf(why, len, "%s: %s", uw ? uwhy : text ? text : what, s2[0] ? s2 : "the check was skipped");
    if (!uw) cg_snprintf(why, len, "%s: not checked (%s)", text ? text : what, s2[0] ? s2 : "skip");
    return REQ_UNKNOWN;
  }
  if (st) {
    bool in = false;
    const cJSON *s;
    cJSON_ArrayForEach(s, st) in |= cJSON_IsString(s) && status && !strcmp(s->valuestring, status);
    if (!in) {
      ok = false;
      cg_snprintf(detail, sizeof(detail), "%s %s", status ? status : "?", code ? code : "");
    }
  }
  if (ok && (fact || bpath)) {
    const cJSON *v = fact ? path_get(cJSON_GetObjectItemCaseSensitive(res, "facts"), fact) : path_get(bundle, bpath);
    char vt[96];
    value_text(v, vt, sizeof(vt));
    const cJSON *eq = cJSON_GetObjectItemCaseSensitive(r, "equals"), *in = cJSON_GetObjectItemCaseSensitive(r, "in");
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(r, "min"), *mx = cJSON_GetObjectItemCaseSensitive(r, "max");
    const cJSON *am = cJSON_GetObjectItemCaseSensitive(r, "abs_max");
    if (!v || cJSON_IsNull(v)) {
      if (uw)
        cg_snprintf(why, len, "%s: the %s check did not report it (it ended %s%s%s)", uwhy, check ? check : "bundle",
                    status ? status : "without a verdict", code ? " " : "", code ? code : "");
      else
        cg_snprintf(why, len, "%s could not be checked: %s gave no %s (it ended %s%s%s)", text ? text : what,
                    check ? check : "the bundle",
                    fact    ? fact
                    : bpath ? bpath
                            : "value",
                    status ? status : "without a verdict", code ? " " : "", code ? code : "");
      return REQ_UNKNOWN;
    } else {
      if (eq && !cJSON_Compare(v, eq, true)) ok = false;
      if (in) {
        bool found = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, in) found |= cJSON_Compare(v, x, true);
        if (!found) ok = false;
      }
      if ((mn || mx || am) && !cJSON_IsNumber(v))
        ok = false;
      else if (mn && v->valuedouble < mn->valuedouble)
        ok = false;
      else if (mx && v->valuedouble > mx->valuedouble)
        ok = false;
      else if (am && fabs(v->valuedouble) > am->valuedouble)
        ok = false;
      if (!ok) cg_snprintf(detail, sizeof(detail), "%s %s", what, vt);
    }
  }
  if (!ok) cg_snprintf(why, len, "%s (%s)", text ? text : what, detail);
  return ok ? REQ_MET : REQ_UNMET;
}

/* Appends "; item" items to buf while they fit within `room`; returns how many did not fit. */
struct reasons {
  char *items[64];
  size_t n;
};

static void reasons_add(struct reasons *r, const char *text) {
  if (r->n < CG_ARRAY_LEN(r->items)) r->items[r->n++] = cg_strdup(text);
}

static void reasons_free(struct reasons *r) {
  for (size_t i = 0; i < r->n; i++)
    cg_free(r->items[i]);
  r->n = 0;
}

/* "a; b; c" of as many items as fit in `room` bytes, then " and N more" for the rest. */
static void join_fitting(const struct reasons *r, char *out, size_t room) {
  out[0] = '\0';
  size_t i = 0;
  for (; i < r->n; i++) {
    size_t l = strlen(out), need = strlen(r->items[i]) + (l ? 2 : 0);
    size_t reserve = i + 1 < r->n ? 24 : 0; /* " and NN more" must still fit */
    if (l + need + reserve >= room) break;
    cg_snprintf(out + l, room - l, "%s%s", l ? "; " : "", r->items[i]);
  }
  if (i < r->n) {
    size_t l = strlen(out);
    cg_snprintf(out + l, room - l, "%sand %zu more", l ? " " : "", r->n - i);
  }
}

#define WHY_MAX 400

/* " Why: ..." when a rule names the root cause (diagnosis.h); a failure no rule explains is already
 * in the line in its check's words, so it is not said twice. */
static void why_of(const cJSON *bundle, bool ready, char *out, size_t len) {
  const cJSON *top = cJSON_GetArrayItem(path_get(bundle, "diagnosis.root_causes"), 0);
  const char *w = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(top, "say"));
  const char *basis = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(top, "basis"));
  out[0] = '\0';
  if (ready || !w || !*w || !basis || !strcmp(basis, "check")) return;
  cg_snprintf(out, len, " Why: %s", w);
  if (strlen(out) > WHY_MAX) { /* cut at a character boundary */
    size_t cut = WHY_MAX - 4;
    while (cut && ((unsigned char)out[cut] & 0xC0) == 0x80)
      cut--;
    memcpy(out + cut, " ...", 5);
  }
}

static void gate_add(cJSON *list, const cJSON *r, const char *sentence) {
  cJSON *o = cJSON_CreateObject();
  const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "id"));
  cJSON_AddStringToObject(o, "id", id ? id : "");
  cJSON_AddStringToObject(o, "sentence", sentence);
  cJSON_AddItemToArray(list, o);
}

cJSON *cg_validate_gate(const cJSON *profile, const char *name, const cJSON *bundle, bool *ready, char *line,
                        size_t len) {
  const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(profile, "require");
  struct reasons block = {.n = 0}, warn = {.n = 0};
  int total_block = 0;
  cJSON *gate = cJSON_CreateObject();
  cJSON_AddStringToObject(gate, "profile", name);
  cJSON *gb = cJSON_AddArrayToObject(gate, "blocking"), *gw = cJSON_AddArrayToObject(gate, "warnings"),
        *gn = cJSON_AddArrayToObject(gate, "not_checked");
  const cJSON *r;
  /* A fact that is unknown because its check already failed adds nothing to the line. */
  char failed[512] = ",";
  cJSON_ArrayForEach(r, reqs) {
    bool b = blocking(r);
    total_block += b;
    char why[400];
    enum req_state st = requirement_met(r, bundle, why, sizeof(why));
    if (st == REQ_MET) continue;
    const char *check = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "check"));
    char key[80];
    cg_snprintf(key, sizeof(key), ",%s,", check ? check : "");
    if (b && st == REQ_UNMET && check && cJSON_GetObjectItemCaseSensitive(r, "status") && !strstr(failed, key)) {
      size_t fl = strlen(failed);
      cg_snprintf(failed + fl, sizeof(failed) - fl, "%s,", check);
    }
    const char *unk = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "unknown"));
    bool unknown_warns = unk && !strcmp(unk, "warn");
    if (st == REQ_UNKNOWN && unknown_warns && !(check && strstr(failed, key))) {
      reasons_add(&warn, why);
      gate_add(gn, r, why);
      continue;
    }
    if (st == REQ_UNKNOWN && (!b || (check && strstr(failed, key)))) { /* nothing to say, or said */
      gate_add(gn, r, why);
      continue;
    }
    reasons_add(b ? &block : &warn, why);
    gate_add(b ? gb : gw, r, why);
  }
  *ready = block.n == 0;
  cJSON_AddStringToObject(gate, "verdict", *ready ? "ready" : "not ready");
  size_t cap = len - 1 < CG_VALIDATE_LINE_MAX ? len - 1 : CG_VALIDATE_LINE_MAX;
  char head[256], list[CG_VALIDATE_LINE_MAX + 1], wl[CG_VALIDATE_LINE_MAX + 1], why[WHY_MAX + 8];
  why_of(bundle, *ready, why, sizeof(why));
  if (*ready) {
    const char *host = cJSON_GetStringValue(path_get(bundle, "device.cmg_host"));
    cg_snprintf(head, sizeof(head), "READY (%s): all %d blocking requirement(s) met%s%s.", name, total_block,
                host ? "; CMG " : "", host ? host : "");
    list[0] = '\0';
  } else {
    cg_snprintf(head, sizeof(head), "NOT READY (%s): %zu of %d blocking requirement(s) not met: ", name, block.n,
                total_block);
    /* the blocking reasons first, warnings in what is left */
    size_t room = cap > strlen(head) + strlen(why) + 2 ? cap - strlen(head) - strlen(why) - 1 : 1;
    if (warn.n && room > 200) room -= 120;
    join_fitting(&block, list, room < sizeof(list) ? room : sizeof(list));
    size_t l = strlen(list);
    cg_snprintf(list + l, sizeof(list) - l, ".");
  }
  size_t used = strlen(head) + strlen(list) + strlen(why);
  wl[0] = '\0';
  if (warn.n && used + 40 < cap) {
    char tmp[CG_VALIDATE_LINE_MAX + 1];
    join_fitting(&warn, tmp, cap - used - 12 < sizeof(tmp) ? cap - used - 12 : sizeof(tmp));
    cg_snprintf(wl, sizeof(wl), " Warnings: %s.", tmp);
  }
  cg_snprintf(line, len, "%s%s%s%s", head, list, why, wl);
  if (strlen(line) > cap) { /* a very long head: cut at a character boundary */
    size_t cut = cap - 4;
    while (cut && ((unsigned char)line[cut] & 0xC0) == 0x80)
      cut--;
    memcpy(line + cut, " ...", 5);
  }
  for (char *c = line; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
  cJSON_AddStringToObject(gate, "line", line);
  reasons_free(&block);
  reasons_free(&warn);
  return gate;
}

void cg_validate_eval(const cJSON *profile, const char *name, const cJSON *bundle, bool *ready, char *line,
                      size_t len) {
  cJSON_Delete(cg_validate_gate(profile, name, bundle, ready, line, len));
}
