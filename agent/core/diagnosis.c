/* Root causes from check results (diagnosis.h). Bounded work: at most MAX_ITEMS findings per
 * bundle and MAX_RULES rules, each pattern compared once per finding. */
#include "diagnosis.h"

#include <string.h>

#define MAX_ITEMS 256
#define MAX_RULES 256
#define FALLBACK_RANK 1000

struct item {
  const char *check, *code, *status; /* borrowed from the bundle */
  const cJSON *result;               /* the check result it came from */
  const cJSON *finding;              /* the finding, when it is one (NULL: the result's own code) */
  bool is_result;                    /* the result's own code (not one of its findings) */
  int covered_by;                    /* index of the fired rule that explains it, -1 */
};

/* What the conditions of the rules read from the bundle (docs/diagnosis.md, "Conditions"). */
struct dctx {
  bool has_skew, has_margin;
  double skew_s;                    /* this device's clock minus the true time (the CMG's Date, or netenv's) */
  double expired_for_s, valid_in_s; /* how far the device's clock is outside the CMG chain's validity */
  const char *auth_mode, *cmg_host; /* clientauth's mode, the probed CMG */
};

static bool failing(const char *status) { return status && !strcmp(status, "fail"); }

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* "check:CODE", "*:CODE", "check:PREFIX*" */
static bool matches(const char *pattern, const struct item *it) {
  const char *colon = strchr(pattern, ':');
  if (!colon) return false;
  size_t cl = (size_t)(colon - pattern);
  if (!(cl == 1 && pattern[0] == '*') && (strlen(it->check) != cl || strncmp(pattern, it->check, cl))) return false;
  const char *code = colon + 1;
  size_t n = strlen(code);
  if (n && code[n - 1] == '*') return !strncmp(code, it->code, n - 1);
  return !strcmp(code, it->code);
}

static bool any_match(const cJSON *patterns, const struct item *it) {
  const cJSON *p;
  cJSON_ArrayForEach(p, patterns) if (cJSON_IsString(p) && matches(p->valuestring, it)) return true;
  return false;
}

/* What the bundle shows: each failing or warning result's code, and the findings behind it
 * (core findings carry status; clientlogs' carry severity and state, and only active ones count). */
static size_t collect(const cJSON *checks, struct item *items, cJSON *not_checked) {
  size_t n = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, checks) {
    const char *check = str(r, "check"), *status = str(r, "status"), *code = str(r, "code");
    if (!check || !status || !code) continue;
    if (!strcmp(status, "error")) cJSON_AddItemToArray(not_checked, cJSON_CreateString(check));
    if (strcmp(status, "fail") && strcmp(status, "warn")) continue;
    struct item *own = n < MAX_ITEMS ? &items[n] : NULL;
    if (own) items[n++] = (struct item){check, code, status, r, NULL, true, -1};
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "facts"), "findings")) {
      const char *fc = str(f, "code"), *fs = str(f, "status");
      if (!fs && str(f, "severity"))
        fs = str(f, "state") && !strcmp(str(f, "state"), "active") ? str(f, "severity") : NULL;
      if (own && !own->finding && fc && !strcmp(fc, code)) own->finding = f; /* what the result's code is about */
      if (!fc || !fs || (strcmp(fs, "fail") && strcmp(fs, "warn")) || !strcmp(fc, code)) continue;
      if (n < MAX_ITEMS) items[n++] = (struct item){check, fc, fs, r, f, false, -1};
    }
  }
  return n;
}

static const cJSON *fact(const cJSON *r, const char *a, const char *b) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "facts"), a);
  return b ? cJSON_GetObjectItemCaseSensitive(f, b) : f;
}

static void read_context(const cJSON *checks, struct dctx *c) {
  memset(c, 0, sizeof(*c));
  const cJSON *r, *v;
  cJSON_ArrayForEach(r, checks) {
    const char *check = str(r, "check");
    if (!check) continue;
    if (!strcmp(check, "cmgprobe")) {
      c->cmg_host = cJSON_GetStringValue(fact(r, "host", NULL));
      if (cJSON_IsNumber(v = fact(r, "clock_skew_s", NULL))) {
        c->has_skew = true;
        c->skew_s = v->valuedouble;
      }
      const cJSON *e = fact(r, "tls", "expired_for_s"), *b = fact(r, "tls", "valid_in_s");
      if (cJSON_IsNumber(e) && cJSON_IsNumber(b)) {
        c->has_margin = true;
        c->expired_for_s = e->valuedouble;
        c->valid_in_s = b->valuedouble;
      }
    } else if (!strcmp(check, "netenv") && !c->has_skew && cJSON_IsNumber(v = fact(r, "clock", "skew_s"))) {
      c->has_skew = true;
      c->skew_s = v->valuedouble;
    } else if (!strcmp(check, "clientauth")) {
      c->auth_mode = cJSON_GetStringValue(fact(r, "mode", NULL));
    }
  }
}

/* The server an item is about: a log finding's target, content's hosts, the probed CMG. */
static bool item_on_host(const struct item *it, const char *host) {
  if (!host || !*host) return false;
  const char *t = it->finding ? str(it->finding, "target") : NULL;
  if (t) return !cg_strcasecmp(t, host);
  if (!strcmp(it->check, "cmgprobe")) return true;
  const cJSON *u;
  cJSON_ArrayForEach(u, fact(it->result, "urls", NULL)) if (str(u, "host") &&
                                                            !cg_strcasecmp(str(u, "host"), host)) return true;
  return false;
}

static const char *const conditions[] = {"clock_reaches_validity", "clock_off_5_min", "token_client", "same_cmg_host"};

/* A named condition (rules.json "when" / "explains_when"); `it` NULL for a rule's own. */
static bool condition(const char *name, const struct dctx *c, const struct item *it) {
  if (!strcmp(name, "clock_reaches_validity")) /* a clock ahead makes a valid certificate look expired */
    return c->has_skew && c->has_margin &&
           ((c->expired_for_s > 0 && c->skew_s >= c->expired_for_s) ||
            (c->valid_in_s > 0 && -c->skew_s >= c->valid_in_s));
  if (!strcmp(name, "clock_off_5_min")) return c->has_skew && (c->skew_s >= 300 || c->skew_s <= -300);
  if (!strcmp(name, "token_client")) return c->auth_mode && !strcmp(c->auth_mode, "token");
  if (!strcmp(name, "same_cmg_host")) return it && item_on_host(it, c->cmg_host);
  return false;
}

/* Whether the rule may explain this item: an explains_when pattern it matches names a condition
 * that must hold. */
static bool may_explain(const cJSON *rule, const struct item *it, const struct dctx *c) {
  const cJSON *w;
  cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(rule, "explains_when")) {
    if (cJSON_IsString(w) && matches(w->string, it) && !condition(w->valuestring, c, it)) return false;
  }
  return true;
}

static cJSON *item_ref(const struct item *it) {
  char buf[160];
  cg_snprintf(buf, sizeof(buf), "%s:%s", it->check, it->code);
  return cJSON_CreateString(buf);
}

/* A rule fires when a cause is seen that no more fundamental rule explains, and a failure is among
 * its cause or what it explains. */
static cJSON *fire(const cJSON *rule, struct item *items, size_t n, int index, const struct dctx *c) {
  const cJSON *cause = cJSON_GetObjectItemCaseSensitive(rule, "cause");
  const cJSON *expl = cJSON_GetObjectItemCaseSensitive(rule, "explains");
  const char *when = str(rule, "when");
  if (when && !condition(when, c, NULL)) return NULL;
  bool seen = false, fails = false;
  for (size_t i = 0; i < n; i++)
    if (items[i].covered_by < 0 && any_match(cause, &items[i])) {
      seen = true;
      fails |= failing(items[i].status);
    } else if (items[i].covered_by < 0 && any_match(expl, &items[i]) && may_explain(rule, &items[i], c)) {
      fails |= failing(items[i].status);
    }
  if (!seen || !fails) return NULL;
  cJSON *rc = cJSON_CreateObject();
  cJSON_AddStringToObject(rc, "code", str(rule, "id"));
  cJSON_AddNumberToObject(rc, "rank", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rule, "rank")));
  cJSON_AddStringToObject(rc, "say", str(rule, "say"));
  cJSON_AddStringToObject(rc, "first_step", str(rule, "first_step"));
  cJSON_AddStringToObject(rc, "source", str(rule, "source"));
  cJSON_AddStringToObject(rc, "basis", str(rule, "basis") ? str(rule, "basis") : "inferred");
  cJSON *ev = cJSON_AddArrayToObject(rc, "evidence"), *ex = cJSON_AddArrayToObject(rc, "explains");
  for (size_t i = 0; i < n; i++) {
    if (items[i].covered_by >= 0) continue;
    if (any_match(cause, &items[i])) {
      cJSON_AddItemToArray(ev, item_ref(&items[i]));
      items[i].covered_by = index;
    } else if (any_match(expl, &items[i]) && may_explain(rule, &items[i], c)) {
      cJSON_AddItemToArray(ex, item_ref(&items[i]));
      items[i].covered_by = index;
    }
  }
  /* a cause that explains nothing here is no deeper than any other failure (rank_alone) */
  const cJSON *alone = cJSON_GetObjectItemCaseSensitive(rule, "rank_alone");
  if (cJSON_IsNumber(alone) && cJSON_GetArraySize(ex) == 0)
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(rc, "rank"), alone->valuedouble);
  return rc;
}

/* A failure no rule explains: its own root cause, in its check's words (one per check). */
static cJSON *fallback(const struct item *it) {
  const cJSON *r = it->result, *facts = cJSON_GetObjectItemCaseSensitive(r, "facts");
  const char *say = str(r, "summary"), *step = str(r, "remediation"), *ref = str(facts, "reference");
  cJSON *rc = cJSON_CreateObject();
  cJSON_AddStringToObject(rc, "code", it->code);
  cJSON_AddNumberToObject(rc, "rank", FALLBACK_RANK);
  cJSON_AddStringToObject(rc, "say", say ? say : it->code);
  cJSON_AddStringToObject(rc, "first_step", step ? step : "");
  cJSON_AddStringToObject(rc, "source", ref ? ref : "docs/diagnosis.md#unexplained-failures");
  cJSON_AddStringToObject(rc, "basis", "check");
  cJSON_AddItemToArray(cJSON_AddArrayToObject(rc, "evidence"), item_ref(it));
  cJSON_AddArrayToObject(rc, "explains");
  return rc;
}

static int by_rank(const cJSON *a, const cJSON *b) {
  double ra = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "rank"));
  double rb = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "rank"));
  if (ra != rb) return ra < rb ? -1 : 1;
  int ea = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "explains"));
  int eb = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b, "explains"));
  return ea > eb ? -1 : ea < eb;
}

cJSON *cg_diagnose(const cJSON *checks, const cJSON *rules) {
  struct item *items = cg_calloc(MAX_ITEMS, sizeof(*items));
  cJSON *d = cJSON_CreateObject(), *roots = d ? cJSON_AddArrayToObject(d, "root_causes") : NULL;
  cJSON *not_checked = d ? cJSON_AddArrayToObject(d, "not_checked") : NULL;
  if (!items || !roots || !not_checked) {
    cg_free(items);
    cJSON_Delete(d);
    return NULL;
  }
  size_t n = collect(checks, items, not_checked);
  struct dctx ctx;
  read_context(checks, &ctx);
  /* the rules from the most fundamental on (stable for equal ranks) */
  const cJSON *order[MAX_RULES];
  size_t nr = 0;
  const cJSON *rule;
  cJSON_ArrayForEach(rule, rules) if (nr < MAX_RULES) order[nr++] = rule;
  for (size_t i = 1; i < nr; i++)
    for (size_t j = i; j > 0; j--) {
      double a = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(order[j - 1], "rank"));
      double b = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(order[j], "rank"));
      if (a <= b) break;
      const cJSON *t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  cJSON *fired[MAX_RULES + MAX_ITEMS];
  size_t nf = 0;
  for (size_t i = 0; i < nr; i++) {
    cJSON *rc = fire(order[i], items, n, (int)nf, &ctx);
    if (rc) fired[nf++] = rc;
  }
  for (size_t i = 0; i < n; i++) {
    if (items[i].covered_by >= 0 || !failing(items[i].status)) continue;
    bool said = false; /* one per check */
    char prefix[64];
    cg_snprintf(prefix, sizeof(prefix), "%s:", items[i].check);
    for (size_t k = 0; k < nf && !said; k++)
      said = !strcmp(str(fired[k], "basis"), "check") &&
             !strncmp(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(fired[k], "evidence"), 0)->valuestring,
                      prefix, strlen(prefix));
    if (!said) fired[nf++] = fallback(&items[i]);
  }
  for (size_t i = 1; i < nf; i++) /* stable insertion sort: rank, then what a cause explains */
    for (size_t j = i; j > 0 && by_rank(fired[j - 1], fired[j]) > 0; j--) {
      cJSON *t = fired[j];
      fired[j] = fired[j - 1];
      fired[j - 1] = t;
    }
  for (size_t i = 0; i < nf; i++)
    cJSON_AddItemToArray(roots, fired[i]);
  const cJSON *top = cJSON_GetArrayItem(roots, 0);
  if (top) {
    cJSON_AddStringToObject(d, "why", str(top, "say"));
    cJSON_AddStringToObject(d, "first_step", str(top, "first_step"));
  } else {
    cJSON_AddNullToObject(d, "why");
    cJSON_AddNullToObject(d, "first_step");
  }
  cg_free(items);
  return d;
}

int cg_diagnosis_rules_check(const cJSON *rules, const char *where, char *err, size_t errlen) {
  static const char *const strings[] = {"id", "say", "first_step", "source"};
  if (!cJSON_IsArray(rules)) {
    cg_snprintf(err, errlen, "%s must be a list of rules", where);
    return CG_ERR_CONFIG;
  }
  int i = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, rules) {
    if (!cJSON_IsObject(r)) {
      cg_snprintf(err, errlen, "%s[%d] must be an object", where, i);
      return CG_ERR_CONFIG;
    }
    for (size_t k = 0; k < CG_ARRAY_LEN(strings); k++)
      if (!str(r, strings[k]) || !*str(r, strings[k])) {
        cg_snprintf(err, errlen, "%s[%d] needs \"%s\" (a non-empty string)", where, i, strings[k]);
        return CG_ERR_CONFIG;
      }
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "rank"))) {
      cg_snprintf(err, errlen, "%s[%d] (%s) needs \"rank\" (a number; lower is more fundamental)", where, i,
                  str(r, "id"));
      return CG_ERR_CONFIG;
    }
    const char *basis = str(r, "basis");
    if (basis && strcmp(basis, "documented") && strcmp(basis, "inferred")) {
      cg_snprintf(err, errlen, "%s[%d] (%s): \"basis\" is documented or inferred", where, i, str(r, "id"));
      return CG_ERR_CONFIG;
    }
    static const char *const lists[] = {"cause", "explains"};
    for (size_t k = 0; k < 2; k++) {
      const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, lists[k]), *p;
      bool ok = cJSON_IsArray(l) && (k == 1 || cJSON_GetArraySize(l) > 0);
      cJSON_ArrayForEach(p, l) ok = ok && cJSON_IsString(p) && strchr(p->valuestring, ':') && p->valuestring[0] != ':';
      if (!ok) {
        cg_snprintf(err, errlen, "%s[%d] (%s): \"%s\" is a list of \"check:CODE\"%s", where, i, str(r, "id"), lists[k],
                    k == 0 ? " (at least one)" : "");
        return CG_ERR_CONFIG;
      }
    }
    for (const cJSON *k = r->child; k; k = k->next) {
      static const char *const known[] = {"id",     "rank",  "cause", "explains", "say",           "first_step",
                                          "source", "basis", "quote", "when",     "explains_when", "rank_alone"};
      bool ok = false;
      for (size_t x = 0; x < CG_ARRAY_LEN(known); x++)
        ok |= !strcmp(k->string, known[x]);
      if (!ok) {
        cg_snprintf(err, errlen, "%s[%d] (%s): unknown key '%s'", where, i, str(r, "id"), k->string);
        return CG_ERR_CONFIG;
      }
    }
    const char *when = str(r, "when");
    const cJSON *ew = cJSON_GetObjectItemCaseSensitive(r, "explains_when"), *w;
    if (cJSON_GetObjectItemCaseSensitive(r, "when") && !when) when = "";
    if (ew && !cJSON_IsObject(ew)) {
      cg_snprintf(err, errlen, "%s[%d] (%s): \"explains_when\" maps \"check:CODE\" to a condition", where, i,
                  str(r, "id"));
      return CG_ERR_CONFIG;
    }
    for (w = ew ? ew->child : NULL;; w = w->next) {
      const char *name = w ? cJSON_GetStringValue(w) : when;
      if (!w && !when) break;
      bool ok = false;
      for (size_t x = 0; name && x < CG_ARRAY_LEN(conditions); x++)
        ok |= !strcmp(name, conditions[x]);
      if (!ok) {
        cg_snprintf(err, errlen,
                    "%s[%d] (%s): unknown condition '%s' (clock_reaches_validity, clock_off_5_min, token_client, "
                    "same_cmg_host)",
                    where, i, str(r, "id"), name ? name : "?");
        return CG_ERR_CONFIG;
      }
      if (!w) break;
    }
    i++;
  }
  return CG_OK;
}

cJSON *cg_diagnosis_rules(const cJSON *extra) {
  cJSON *doc = cJSON_Parse(cg_builtin_diagnosis_rules);
  cJSON *rules = doc ? cJSON_DetachItemFromObjectCaseSensitive(doc, "rules") : NULL;
  cJSON_Delete(doc);
  if (!rules) return NULL;
  const cJSON *x;
  cJSON_ArrayForEach(x, extra) {
    int i = 0;
    const cJSON *have;
    bool replaced = false;
    cJSON_ArrayForEach(have, rules) {
      if (str(have, "id") && str(x, "id") && !strcmp(str(have, "id"), str(x, "id"))) {
        cJSON_ReplaceItemInArray(rules, i, cJSON_Duplicate(x, true));
        replaced = true;
        break;
      }
      i++;
    }
    if (!replaced) cJSON_AddItemToArray(rules, cJSON_Duplicate(x, true));
  }
  return rules;
}
