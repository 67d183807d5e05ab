/* The fleet aggregate (fleet.h). */
#include "fleet.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "diagnosis.h"
#include "platform/runtime.h"
#include "platform/sys.h"
#include "redact.h"

#include "fleet_internal.h"

#define DAY_MS (86400LL * 1000)

/* ---- time --------------------------------------------------------------------------------------- */

static bool digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool fleet_parse_time(const char *s, int64_t *ms) {
  int y, mo, d, h, mi, se;
  if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
      !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
      s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  const char *p = s + 19;
  int frac = 0, scale = 1000;
  if (*p == '.')
    for (p++; isdigit((unsigned char)*p); p++)
      if (scale > 1) frac += (*p - '0') * (scale /= 10);
  int64_t off = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om)) return false;
    off = (oh * 60 + om) * 60000LL * (*p == '+' ? 1 : -1);
    p += 6;
  } else {
    return false;
  }
  if (*p) return false;
  *ms = (cg_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000LL + frac - off;
  return true;
}

/* ---- one bundle --------------------------------------------------------------------------------- */

struct rec {
  bool partial;
  struct fleet_device d;
  struct fleet_cause c[FLEET_CAUSES]; /* what each root cause says */
};

static const char *jstr(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void copy(char *dst, size_t n, const char *src) {
  cg_strlcpy(dst, src ? src : "", n);
  for (char *c = dst; *c; c++) /* one line, no control characters: it goes into CSV and HTML */
    if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = ' ';
  cg_strip_controls(dst); /* and C1 (U+0080..U+009F: CSI, OSC), for the terminal that prints it */
}

static const cJSON *find_check(const cJSON *b, const char *name) {
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(b, "checks")) {
    const char *c = jstr(r, "check");
    if (c && !strcmp(c, name)) return r;
  }
  return NULL;
}

/* The CMG as the device saw it: its host, how long the first request took, the certificate's days. */
static void cmg_facts(const cJSON *b, struct fleet_device *d, int64_t now_ms) {
  const cJSON *probe = find_check(b, "cmgprobe"), *facts = cJSON_GetObjectItemCaseSensitive(probe, "facts");
  const char *host = jstr(cJSON_GetObjectItemCaseSensitive(b, "device"), "cmg_host");
  copy(d->cmg, sizeof(d->cmg), host ? host : jstr(facts, "host"));
  const cJSON *req0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(facts, "requests"), 0);
  const cJSON *total = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(req0, "timings"), "total_ms");
  /* answer times of answers only: a refusal (0 ms) or a connect timeout would bend the percentiles */
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(req0, "status");
  bool answered = cJSON_IsNumber(st) && st->valuedouble >= 200 && st->valuedouble < 300;
  d->cmg_ms = answered && cJSON_IsNumber(total) && total->valuedouble >= 0 && total->valuedouble < 1e9
                  ? total->valuedouble
                  : -1;
  const cJSON *days =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(facts, "tls"), "days_to_expiry");
  /* a number from a bundle is checked before it is cast: NaN or 1e300 to int is undefined */
  d->cert_days =
      cJSON_IsNumber(days) && days->valuedouble > -1e6 && days->valuedouble < 1e6 ? (int)days->valuedouble : INT32_MIN;
  /* counted from the report's now, when the certificate's date is known: one certificate is then one
   * value, whichever day each device bundled */
  int64_t na;
  if (fleet_parse_time(jstr(facts, "cert_not_after"), &na)) {
    int64_t left = na - now_ms;
    int64_t dd = left >= 0 ? left / 86400000 : -((-left + 86399999) / 86400000);
    if (dd > -1000000 && dd < 1000000) d->cert_days = (int)dd;
  }
}

/* The checks as the page opens them: verdict, check, code and, when it did not pass, its sentence. */
static void checks_text(const cJSON *b, struct fleet_device *d) {
  size_t len = 0;
  const cJSON *r;
  d->checks[0] = '\0';
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(b, "checks")) {
    char st[8], name[32], code[48], say[FLEET_SAY_MAX + 1], line[sizeof(say) + 96];
    copy(st, sizeof(st), jstr(r, "status"));
    copy(name, sizeof(name), jstr(r, "check"));
    copy(code, sizeof(code), jstr(r, "code"));
    bool passed = !strcmp(st, "pass");
    copy(say, sizeof(say), passed ? "" : jstr(r, "summary"));
    const char *detail = passed ? NULL : jstr(r, "detail");
    if (detail && *detail) { /* the administrator's part too, as far as the line holds it */
      char both[sizeof(say)];
      cg_snprintf(both, sizeof(both), "%s Detail: %s", say, detail);
      copy(say, sizeof(say), both);
    }
    for (char *c = say; *c; c++) /* the fields are tab-separated */
      if (*c == '\t') *c = ' ';
    if (!cg_snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\n", st, name, code, say)) continue;
    size_t n = strlen(line);
    if (len + n >= sizeof(d->checks)) continue; /* a whole line or none */
    memcpy(d->checks + len, line, n + 1);
    len += n;
  }
}

/* A short sentence for a device without a root cause. */
static void plain_summary(const cJSON *b, struct fleet_device *d) {
  if (!strcmp(d->overall, "pass")) {
    copy(d->summary, sizeof(d->summary), "Every check passes.");
    return;
  }
  const cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(b, "checks")) {
    const char *st = jstr(r, "status");
    if (st && (!strcmp(st, "fail") || !strcmp(st, "warn") || !strcmp(st, "error"))) {
      char buf[400];
      cg_snprintf(buf, sizeof(buf), "%s: %s", jstr(r, "check") ? jstr(r, "check") : "?",
                  jstr(r, "summary") ? jstr(r, "summary") : "");
      copy(d->summary, sizeof(d->summary), buf);
      return;
    }
  }
}

/* A count from a bundle: checked before the cast (NaN, a negative or 1e300 to int64 is undefined). */
static int64_t count_of(const cJSON *v) {
  return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15 ? (int64_t)v->valuedouble : 0;
}

/* `older`: the device already has a newer complete bundle, so this one cannot decide it: only what
 * every bundle contributes (its day's verdict, a helpdesk run, a gate) is taken, not the device's
 * facts, checks and root causes (a report reads the newest days first: most bundles are such). */
/* What identifies the bundle's device: its Entra device ID when it has one, else its hostname. */
static const char *device_key(const cJSON *b) {
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(b, "device");
  const char *aad = jstr(dev, "aad_device_id");
  return aad && strlen(aad) >= 32 ? aad : jstr(dev, "hostname");
}

static bool summarise(const struct fleet *f, const cJSON *b, bool older, struct rec *r, char *why, size_t whylen) {
  memset(r, 0, sizeof(*r));
  const cJSON *dev = cJSON_GetObjectItemCaseSensitive(b, "device"),
              *agent = cJSON_GetObjectItemCaseSensitive(b, "agent");
  const char *host = jstr(dev, "hostname"), *created = jstr(b, "created_at"), *overall = jstr(b, "overall");
  if (!jstr(b, "schema") || strncmp(jstr(b, "schema"), "cmgdiag.bundle/", 15)) {
    cg_snprintf(why, whylen, "not a cmgdiag bundle (no \"schema\": \"cmgdiag.bundle/...\")");
    return false;
  }
  if (!host || !*host || !created || !fleet_parse_time(created, &r->d.last_ms) || !overall ||
      (strcmp(overall, "pass") && strcmp(overall, "warn") && strcmp(overall, "fail"))) {
    cg_snprintf(why, whylen, "a bundle without a device hostname, a created_at time or an overall verdict");
    return false;
  }
  copy(r->d.host, sizeof(r->d.host), host);
  copy(r->d.key, sizeof(r->d.key), device_key(b));
  copy(r->d.last_seen, sizeof(r->d.last_seen), created);
  copy(r->d.overall, sizeof(r->d.overall), overall);
  r->partial = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "partial"));
  r->d.sas_days = INT32_MIN;
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(b, "outputs")) {
    int64_t exp;
    if (fleet_parse_time(jstr(o, "sas_expires_at"), &exp)) {
      int64_t days = (exp - (f->now_ms ? f->now_ms : cg_time_utc_ms())) / 86400000;
      if (days > -100000 && days < 100000 && (r->d.sas_days == INT32_MIN || days < r->d.sas_days))
        r->d.sas_days = (int)days;
    }
  }
  const char *ready = jstr(b, "readiness");
  if (ready && (!strcmp(ready, "pass") || !strcmp(ready, "warn") || !strcmp(ready, "fail")))
    copy(r->d.readiness, sizeof(r->d.readiness), ready);
  copy(r->d.version, sizeof(r->d.version), jstr(agent, "version"));
  const cJSON *spool = cJSON_GetObjectItemCaseSensitive(b, "spool");
  r->d.spool_pending = count_of(cJSON_GetObjectItemCaseSensitive(spool, "pending"));
  r->d.dropped_total = count_of(cJSON_GetObjectItemCaseSensitive(spool, "dropped_total"));
  const cJSON *gate = cJSON_GetObjectItemCaseSensitive(b, "gate");
  const char *gv = jstr(gate, "verdict");
  if (gv && (!strcmp(gv, "ready") || !strcmp(gv, "not ready"))) {
    copy(r->d.gate, sizeof(r->d.gate), gv);
    copy(r->d.gate_profile, sizeof(r->d.gate_profile), jstr(gate, "profile"));
    copy(r->d.gate_at, sizeof(r->d.gate_at), created);
  }
  if (older && !r->partial) return true;
  cmg_facts(b, &r->d, f->now_ms ? f->now_ms : cg_time_utc_ms());
  checks_text(b, &r->d);
  const cJSON *diag = cJSON_GetObjectItemCaseSensitive(b, "diagnosis");
  cJSON *made = NULL;
  if (!cJSON_IsObject(diag) && f->rules) { /* an agent before 0.2: computed from its results */
    diag = made = cg_diagnose(cJSON_GetObjectItemCaseSensitive(b, "checks"), f->rules);
    r->d.diag_made = true;
  }
  int i = 0;
  const cJSON *rc;
  cJSON_ArrayForEach(rc, cJSON_GetObjectItemCaseSensitive(diag, "root_causes")) {
    if (i == FLEET_CAUSES) break;
    if (!jstr(rc, "code")) continue;
    copy(r->d.cause[i], sizeof(r->d.cause[i]), jstr(rc, "code"));
    copy(r->c[i].code, sizeof(r->c[i].code), jstr(rc, "code"));
    copy(r->c[i].say, sizeof(r->c[i].say), jstr(rc, "say"));
    copy(r->c[i].first_step, sizeof(r->c[i].first_step), jstr(rc, "first_step"));
    copy(r->c[i].source, sizeof(r->c[i].source), jstr(rc, "source"));
    i++;
  }
  if (i)
    copy(r->d.summary, sizeof(r->d.summary), r->c[0].say);
  else
    plain_summary(b, &r->d);
  cJSON_Delete(made);
  return true;
}

/* ---- merging ------------------------------------------------------------------------------------ */

static uint64_t hash_host(const char *h) {
  uint64_t x = 1469598103934665603ULL;
  for (; *h; h++)
    x = (x ^ (unsigned char)tolower((unsigned char)*h)) * 1099511628211ULL;
  return x;
}

static bool grow_index(struct fleet *f) {
  size_t n = f->nindex ? f->nindex * 2 : 1024;
  uint32_t *ix = cg_calloc(n, sizeof(*ix));
  if (!ix) return false;
  for (size_t i = 0; i < f->ndev; i++) {
    size_t s = hash_host(f->dev[i].key) & (n - 1);
    while (ix[s])
      s = (s + 1) & (n - 1);
    ix[s] = (uint32_t)(i + 1);
  }
  cg_free(f->index);
  f->index = ix;
  f->nindex = n;
  return true;
}

/* True when the device of `key` already has a complete bundle newer than ms (call with f->mu held). */
static bool has_newer(const struct fleet *f, const char *key, int64_t ms) {
  if (!f->nindex) return false;
  for (size_t s = hash_host(key) & (f->nindex - 1); f->index[s]; s = (s + 1) & (f->nindex - 1)) {
    const struct fleet_device *d = &f->dev[f->index[s] - 1];
    if (!cg_strcasecmp(d->key, key)) return d->full && d->last_ms > ms;
  }
  return false;
}

/* The device's slot, made when new; NULL on out of memory. */
static struct fleet_device *device_slot(struct fleet *f, const char *host, size_t *at) {
  if ((f->ndev + 1) * 2 > f->nindex && !grow_index(f)) return NULL;
  size_t s = hash_host(host) & (f->nindex - 1);
  for (; f->index[s]; s = (s + 1) & (f->nindex - 1))
    if (!cg_strcasecmp(f->dev[f->index[s] - 1].key, host)) {
      *at = f->index[s] - 1;
      return &f->dev[*at];
    }
  if (f->ndev == f->adev) {
    size_t na = f->adev ? f->adev * 2 : 1024;
    struct fleet_device *nd = cg_realloc(f->dev, na * sizeof(*nd));
    if (!nd) return NULL;
    f->dev = nd;
    f->adev = na;
  }
  memset(&f->dev[f->ndev], 0, sizeof(f->dev[0]));
  f->dev[f->ndev].last_ms = INT64_MIN;
  f->index[s] = (uint32_t)(f->ndev + 1);
  *at = f->ndev++;
  return &f->dev[*at];
}

static void note_day(struct fleet *f, size_t dev, int64_t ms, const char *overall) {
  if (f->ndays_used * 2 >= f->ndays_cap) {
    size_t n = f->ndays_cap ? f->ndays_cap * 2 : 4096;
    struct dayent *nd = cg_calloc(n, sizeof(*nd));
    if (!nd) return;
    for (size_t i = 0; i < f->ndays_cap; i++)
      if (f->days[i].key) {
        size_t s = (size_t)((f->days[i].key * 11400714819323198485ULL) >> 20) & (n - 1);
        while (nd[s].key)
          s = (s + 1) & (n - 1);
        nd[s] = f->days[i];
      }
    cg_free(f->days);
    f->days = nd;
    f->ndays_cap = n;
  }
  int64_t day = ms >= 0 ? ms / DAY_MS : (ms - DAY_MS + 1) / DAY_MS;
  uint64_t key = ((uint64_t)(dev + 1) << 24) | ((uint64_t)day & 0xFFFFFF);
  size_t s = (size_t)((key * 11400714819323198485ULL) >> 20) & (f->ndays_cap - 1);
  while (f->days[s].key && f->days[s].key != key)
    s = (s + 1) & (f->ndays_cap - 1);
  if (!f->days[s].key) {
    f->days[s].key = key;
    f->days[s].ms = INT64_MIN;
    f->ndays_used++;
  }
  if (ms >= f->days[s].ms) {
    f->days[s].ms = ms;
    f->days[s].overall = overall[0];
  }
}

size_t fleet_cause_find(const struct fleet *f, const char *code) {
  if (!f->ncindex) return SIZE_MAX;
  for (size_t s = hash_host(code) & (f->ncindex - 1); f->cindex[s]; s = (s + 1) & (f->ncindex - 1))
    if (!strcmp(f->causes[f->cindex[s] - 1].code, code)) return f->cindex[s] - 1;
  return SIZE_MAX;
}

static bool grow_cause_index(struct fleet *f) {
  size_t n = f->ncindex ? f->ncindex * 2 : 256;
  uint32_t *ix = cg_calloc(n, sizeof(*ix));
  if (!ix) return false;
  for (size_t i = 0; i < f->ncauses; i++) {
    size_t s = hash_host(f->causes[i].code) & (n - 1);
    while (ix[s])
      s = (s + 1) & (n - 1);
    ix[s] = (uint32_t)(i + 1);
  }
  cg_free(f->cindex);
  f->cindex = ix;
  f->ncindex = n;
  return true;
}

static void note_cause(struct fleet *f, const struct fleet_cause *c, int64_t ms) {
  size_t i = fleet_cause_find(f, c->code);
  if (i != SIZE_MAX) {
    struct fleet_cause *have = &f->causes[i];
    if (ms > have->said_ms || (ms == have->said_ms && strcmp(c->say, have->say) < 0)) {
      memcpy(have->say, c->say, sizeof(have->say));
      memcpy(have->first_step, c->first_step, sizeof(have->first_step));
      memcpy(have->source, c->source, sizeof(have->source));
      have->said_ms = ms;
    }
    return;
  }
  if ((f->ncauses + 1) * 2 > f->ncindex && !grow_cause_index(f)) return;
  if (f->ncauses == f->acauses) {
    size_t na = f->acauses ? f->acauses * 2 : 32;
    struct fleet_cause *n = cg_realloc(f->causes, na * sizeof(*n));
    if (!n) return;
    f->causes = n;
    f->acauses = na;
  }
  size_t slot = hash_host(c->code) & (f->ncindex - 1);
  while (f->cindex[slot])
    slot = (slot + 1) & (f->ncindex - 1);
  f->cindex[slot] = (uint32_t)(f->ncauses + 1);
  f->causes[f->ncauses] = *c;
  f->causes[f->ncauses].said_ms = ms;
  f->causes[f->ncauses].devices = 0;
  f->causes[f->ncauses].secondary = 0;
  memset(f->causes[f->ncauses].examples, 0, sizeof(f->causes[0].examples));
  f->ncauses++;
}

static void merge(struct fleet *f, const struct rec *r) {
  size_t at;
  struct fleet_device *d = device_slot(f, r->d.key, &at);
  if (!d) return;
  if (r->partial) { /* a helpdesk run: listed under the device, never its state */
    if (!d->host[0]) {
      copy(d->host, sizeof(d->host), r->d.host);
      copy(d->key, sizeof(d->key), r->d.key);
      d->cmg_ms = -1;
      d->cert_days = INT32_MIN;
      d->sas_days = INT32_MIN;
    }
    d->helpdesk_runs++;
    if (strcmp(r->d.last_seen, d->helpdesk_last) > 0) copy(d->helpdesk_last, sizeof(d->helpdesk_last), r->d.last_seen);
    return;
  }
  /* the newest gate, whichever bundle decides the device (a scheduled bundle after it carries none) */
  char gate[sizeof(d->gate)], gprof[sizeof(d->gate_profile)], gat[sizeof(d->gate_at)];
  bool theirs = r->d.gate[0] && (!d->gate[0] || strcmp(r->d.gate_at, d->gate_at) >= 0);
  copy(gate, sizeof(gate), theirs ? r->d.gate : d->gate);
  copy(gprof, sizeof(gprof), theirs ? r->d.gate_profile : d->gate_profile);
  copy(gat, sizeof(gat), theirs ? r->d.gate_at : d->gate_at);
  if (!d->full || r->d.last_ms >= d->last_ms) {
    size_t runs = d->helpdesk_runs;
    char last[32];
    copy(last, sizeof(last), d->helpdesk_last);
    *d = r->d;
    d->full = true;
    d->helpdesk_runs = runs;
    copy(d->helpdesk_last, sizeof(d->helpdesk_last), last);
  }
  copy(d->gate, sizeof(d->gate), gate);
  copy(d->gate_profile, sizeof(d->gate_profile), gprof);
  copy(d->gate_at, sizeof(d->gate_at), gat);
  note_day(f, at, r->d.last_ms, r->d.overall);
  for (int i = 0; i < FLEET_CAUSES && r->c[i].code[0]; i++)
    note_cause(f, &r->c[i], r->d.last_ms);
}

/* The device of bundle `b` already has a newer complete bundle; what is read of it stays so (a
 * device's newer complete bundle only ever gets newer). */
static bool older_than_known(struct fleet *f, const cJSON *b) {
  const char *key = device_key(b);
  int64_t ms = 0;
  bool older = false;
  if (key && fleet_parse_time(jstr(b, "created_at"), &ms)) {
    cg_mutex_lock(f->mu);
    older = has_newer(f, key, ms);
    cg_mutex_unlock(f->mu);
  }
  return older;
}

void fleet_add(struct fleet *f, const char *origin, const char *raw, size_t len, int64_t stored_ms) {
  cJSON *b = NULL;
  char err[512], why[300];
  /* the bundle's tree lives in this thread's arena until summarise has copied what it needs */
  cg_json_arena_begin();
  /* most bundles cannot decide their device (it has a newer complete one): of those this agent
   * wrote, the head is enough (bundle.h), and the checks are neither inflated nor parsed */
  bool older = false;
  if (cg_bundle_head(raw, len, &b) == CG_OK) {
    older = older_than_known(f, b);
    if (!older || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(b, "partial"))) {
      cJSON_Delete(b);
      b = NULL;
    }
  }
  struct rec *r = cg_malloc(sizeof(*r));
  bool ok = false;
  if (b) { /* a head that does not summarise is read whole: it never decides what the whole would not */
    ok = r && summarise(f, b, true, r, why, sizeof(why));
    if (!ok) {
      cJSON_Delete(b);
      b = NULL;
    }
  }
  int prc = b ? CG_OK : cg_bundle_parse(raw, len, origin, &b, err, sizeof(err));
  if (prc != CG_OK) {
    cg_json_arena_end();
    cg_free(r);
    size_t ol = strlen(origin); /* the list names the input already */
    fleet_bad(f, origin, !strncmp(err, origin, ol) && !strncmp(err + ol, ": ", 2) ? err + ol + 2 : err);
    return;
  }
  if (!ok) {
    older = older_than_known(f, b);
    ok = r && summarise(f, b, older, r, why, sizeof(why));
  }
  cJSON_Delete(b); /* the arena's nodes cost nothing; the heap's (and all, without hooks: a fuzzer) are freed */
  cg_json_arena_end();
  if (!ok) {
    fleet_bad(f, origin, r ? why : "out of memory");
    cg_free(r);
    return;
  }
  /* a bundle's own date is the device's word: one from the future would decide its device for good */
  const int64_t day = 86400000;
  int64_t now = f->now_ms ? f->now_ms : cg_time_utc_ms();
  if ((stored_ms > 0 && r->d.last_ms > stored_ms + day) || r->d.last_ms > now + day) {
    char s[40];
    cg_time_rfc3339(stored_ms > 0 ? stored_ms : now, s, sizeof(s));
    cg_snprintf(why, sizeof(why),
                "suspect: dated %s, more than a day after it was %s (%s); it does not decide its device",
                r->d.last_seen, stored_ms > 0 ? "stored" : "read", s);
    fleet_bad(f, origin, why);
    cg_free(r);
    return;
  }
  bool old = f->since_days > 0 && r->d.last_ms < f->now_ms - f->since_days * DAY_MS;
  cg_mutex_lock(f->mu);
  f->t.bundles++;
  if (old)
    f->t.older++;
  else
    merge(f, r);
  cg_mutex_unlock(f->mu);
  cg_free(r);
}

void fleet_bad(struct fleet *f, const char *origin, const char *why) {
  cg_mutex_lock(f->mu);
  f->t.bad++;
  if (f->nbad_listed < MAX_BAD_LISTED) {
    copy(f->bad[f->nbad_listed].origin, sizeof(f->bad[0].origin), origin);
    copy(f->bad[f->nbad_listed].why, sizeof(f->bad[0].why), why);
    f->nbad_listed++;
  }
  cg_mutex_unlock(f->mu);
}

struct fleet *fleet_new(int64_t now_ms, int since_days, const cJSON *rules) {
  struct fleet *f = cg_calloc(1, sizeof(*f));
  if (!f || !(f->mu = cg_mutex_new())) {
    cg_free(f);
    return NULL;
  }
  f->now_ms = now_ms;
  f->since_days = since_days;
  f->rules = rules;
  return f;
}

void fleet_free(struct fleet *f) {
  if (!f) return;
  cg_mutex_free(f->mu);
  cg_free(f->dev);
  cg_free(f->index);
  cg_free(f->days);
  cg_free(f->causes);
  cg_free(f->cindex);
  cg_free(f->byday);
  cg_free(f->lat);
  cg_free(f->cmgs);
  cg_free(f->versions);
  cg_free(f);
}
