/* Go/no-go profiles (see validate.h). A requirement:
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

static const char builtin_pre_upgrade[] =
    "{\"description\": \"Before a Windows in-place upgrade of a device on the road: it must stay manageable "
    "through the CMG\", \"require\": ["
    "{\"check\": \"aadjoin\", \"fact\": \"join_type\", \"in\": [\"entra_joined\", \"hybrid_joined\"],"
    " \"why\": \"the device is not Entra joined or hybrid joined\"},"
    "{\"check\": \"aadjoin\", \"status\": [\"pass\", \"warn\"],"
    " \"why\": \"the device's Entra registration or device certificate is not valid\"},"
    "{\"check\": \"mpcandidates\", \"fact\": \"cmg_present\", \"equals\": true,"
    " \"why\": \"the client has no CMG in its management point list\"},"
    "{\"check\": \"cmgprobe\", \"status\": [\"pass\", \"warn\"], \"why\": \"the CMG cannot be used from here\"},"
    "{\"check\": \"cmgprobe\", \"fact\": \"mplist_total\", \"min\": 1,"
    " \"why\": \"the CMG answers no management point\"},"
    "{\"check\": \"cmgprobe\", \"fact\": \"tls.days_to_expiry\", \"min\": 31,"
    " \"why\": \"the CMG certificate expires within 30 days\"},"
    "{\"check\": \"cmgprobe\", \"fact\": \"clock_skew_s\", \"abs_max\": 299,"
    " \"why\": \"this device's clock is 5 minutes or more off\"},"
    "{\"bundle\": \"spool.pending\", \"max\": 10,"
    " \"why\": \"more than 10 status bundles wait in the spool (the device has not reported for a long time)\"}"
    "]}";

const cJSON *cg_profile_find(const cJSON *config_root, const char *name, cJSON **owned) {
  *owned = NULL;
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(config_root, "profiles"), name);
  if (p) return p;
  if (!strcmp(name, "pre-upgrade")) return *owned = cJSON_Parse(builtin_pre_upgrade);
  return NULL;
}

void cg_profile_names(const cJSON *config_root, char *buf, size_t len) {
  cg_snprintf(buf, len, "pre-upgrade");
  const cJSON *p;
  cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(config_root, "profiles")) {
    if (!strcmp(p->string, "pre-upgrade")) continue;
    size_t l = strlen(buf);
    cg_snprintf(buf + l, len - l, ", %s", p->string);
  }
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

/* Met, not met (`why` gets the reason), or unknown: the fact is missing because the check did not
 * get that far (`why` says so). */
static enum req_state requirement_met(const cJSON *r, const cJSON *bundle, char *why, size_t len) {
  const char *check = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "check"));
  const char *bpath = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "bundle"));
  const char *fact = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "fact"));
  const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "why"));
  const cJSON *res = check ? find_check(bundle, check) : NULL;
  const char *code = res ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "code")) : NULL;
  const char *status = res ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "status")) : NULL;
  char what[160], detail[200] = "";
  if (check) cg_snprintf(what, sizeof(what), "%s%s%s", check, fact ? " " : "", fact ? fact : "");
  else cg_snprintf(what, sizeof(what), "%s", bpath ? bpath : "?");
  if (check && !res) {
    cg_snprintf(why, len, "%s (the %s check did not run: it is disabled)", text ? text : what, check);
    return REQ_UNMET;
  }
  bool ok = true;
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
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
      cg_snprintf(why, len, "%s could not be checked (%s%s%s)", what, status ? status : "", code ? " " : "",
                  code ? code : "");
      return REQ_UNKNOWN;
    } else {
      if (eq && !cJSON_Compare(v, eq, true)) ok = false;
      if (in) {
        bool found = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, in) found |= cJSON_Compare(v, x, true);
        if (!found) ok = false;
      }
      if ((mn || mx || am) && !cJSON_IsNumber(v)) ok = false;
      else if (mn && v->valuedouble < mn->valuedouble) ok = false;
      else if (mx && v->valuedouble > mx->valuedouble) ok = false;
      else if (am && fabs(v->valuedouble) > am->valuedouble) ok = false;
      if (!ok) cg_snprintf(detail, sizeof(detail), "%s %s", what, vt);
    }
  }
  if (!ok) cg_snprintf(why, len, "%s (%s)", text ? text : what, detail);
  return ok ? REQ_MET : REQ_UNMET;
}

void cg_validate_eval(const cJSON *profile, const char *name, const cJSON *bundle, bool *ready, char *line,
                      size_t len) {
  const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(profile, "require");
  int total = cJSON_GetArraySize(reqs), unmet = 0;
  char reasons[CG_VALIDATE_LINE_MAX * 2] = "";
  const cJSON *r;
  /* A fact that is unknown because its check already failed adds nothing to the line. */
  char failed[512] = ",";
  cJSON_ArrayForEach(r, reqs) {
    char why[400];
    enum req_state st = requirement_met(r, bundle, why, sizeof(why));
    if (st == REQ_MET) continue;
    unmet++;
    const char *check = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "check"));
    char key[80];
    cg_snprintf(key, sizeof(key), ",%s,", check ? check : "");
    if (st == REQ_UNMET && check && cJSON_GetObjectItemCaseSensitive(r, "status") && !strstr(failed, key)) {
      size_t fl = strlen(failed);
      cg_snprintf(failed + fl, sizeof(failed) - fl, "%s,", check);
    }
    if (st == REQ_UNKNOWN && check && strstr(failed, key)) continue;
    size_t l = strlen(reasons);
    cg_snprintf(reasons + l, sizeof(reasons) - l, "%s%s", l ? "; " : "", why);
  }
  *ready = unmet == 0;
  bool fit;
  if (*ready) {
    const cJSON *probe = find_check(bundle, "cmgprobe");
    const char *host = probe ? cJSON_GetStringValue(path_get(probe, "facts.host")) : NULL;
    fit = cg_snprintf(line, len, "READY (%s): all %d requirement(s) met%s%s.", name, total, host ? "; CMG " : "",
                host ? host : "");
  } else {
    fit = cg_snprintf(line, len, "NOT READY (%s): %d of %d requirement(s) not met: %s.", name, unmet, total, reasons);
  }
  size_t cap = len - 1 < CG_VALIDATE_LINE_MAX ? len - 1 : CG_VALIDATE_LINE_MAX; /* characters */
  if (!fit || strlen(line) > cap) { /* one line, at most 2048 characters, cut at a character boundary */
    size_t cut = cap - 4;
    while (cut && ((unsigned char)line[cut] & 0xC0) == 0x80) cut--;
    memcpy(line + cut, " ...", 5);
  }
  for (char *c = line; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
}
