/* The `clientlogs` check: reads the ConfigMgr client logs incrementally (only what was written
 * since the previous cycle, following rotation to .lo_) and matches every new entry against a
 * catalogue of known CMG failure signatures. The logs are read as a state, not a history: a
 * failure is tied to the server it is about, a later success of the same log and server resolves
 * it, a failure towards an intranet server is never blamed on the CMG, and what is still open is
 * kept from one cycle to the next (logstate.h, docs/checks/clientlogs.md). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "clientlogs.h"
#include "cmtrace.h"
#include "config.h"
#include "discovery.h"
#include "logcopy.h"
#include "logio.h"
#include "logstate.h"
#include "log.h"
#include "platform/fs.h"
#include "platform/sys.h"
#include "plugin.h"
#include "redact.h"
#include "sigmatch.h"
#include "text.h"

static const struct cg_config_map cl_map[] = {
    {CG_CFG_STRLIST, "logs",
     "[\"LocationServices.log\", \"CcmMessaging.log\", \"ClientIDManagerStartup.log\", \"CcmAad.log\", "
     "\"ADALOperationProvider.log\", \"ccmsetup.log\", \"DataTransferService.log\", \"CAS.log\", "
     "\"ClientLocation.log\"]",
     "The client logs to read", offsetof(struct cl_ctx, logs), 0, 0, NULL, NULL},
    {CG_CFG_STRLIST, "log_dirs", "[]", "Folders holding them ([]: %WINDIR%\\CCM\\Logs and %WINDIR%\\ccmsetup\\Logs)",
     offsetof(struct cl_ctx, log_dirs), 0, 0, NULL, NULL},
    {CG_CFG_INT, "max_bytes_per_file", "4194304", "Most bytes read from one log per cycle (the newest are kept)",
     offsetof(struct cl_ctx, max_bytes_per_file), 4096, 268435456, NULL, NULL},
    {CG_CFG_INT, "max_age_hours", "168", "Ignore entries older than this on the device (0: no limit)",
     offsetof(struct cl_ctx, max_age_hours), 0, 87600, NULL, NULL},
    {CG_CFG_STRING, "signatures_file", "null",
     "A signature catalogue (JSON) that adds to the built-in one; same code replaces",
     offsetof(struct cl_ctx, signatures_file), 0, 0, NULL, NULL},
    CG_CFG_END,
};

static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
  return h;
}

static void http_status(const char *msg, size_t len, cJSON *codes) {
  const char *p = cg_memmem(msg, len, "StatusCode", 10);
  if (!p) return;
  const char *end = msg + len;
  p += 10;
  while (p < end && (*p == '=' || *p == ' ' || *p == ':'))
    p++;
  char num[8];
  size_t n = 0;
  while (p < end && *p >= '0' && *p <= '9' && n < 3)
    num[n++] = *p++;
  if (n != 3) return;
  num[n] = '\0';
  cJSON *c = cJSON_GetObjectItemCaseSensitive(codes, num);
  if (c)
    cJSON_SetNumberValue(c, c->valuedouble + 1);
  else
    cJSON_AddNumberToObject(codes, num, 1);
}

struct match_ctx {
  struct scan *s;
  const struct cmt_entry *e;
};

/* A new, empty finding for `sig` at the end of the list; NULL on OOM. */
static struct finding *new_finding(struct scan *s, const struct signature *sig) {
  if (!ls_grow((void **)&s->f, &s->af, s->nf, 16, sizeof(*s->f))) return NULL;
  struct finding *f = &s->f[s->nf++];
  memset(f, 0, sizeof(*f));
  f->sig = sig;
  f->status_codes = cJSON_CreateObject();
  return f;
}

static void on_match(const struct signature *sig, void *user) {
  struct match_ctx *m = user;
  struct scan *s = m->s;
  const struct cmt_entry *e = m->e;
  const char *host = s->target ? s->target : "";
  const char *op = sig->op ? sig->op : ls_kind_name(s->kind);
  if (sig->severity == SIG_OK) {
    /* a success counts only for the server its own line names */
    if (s->own_target) ls_add_success(&s->m, s->log, host, op, e->utc_ms);
    return;
  }
  struct finding *f = NULL;
  for (size_t i = 0; i < s->nf && !f; i++)
    if (s->f[i].sig == sig && !strcmp(s->f[i].host, host) && !strcmp(s->f[i].log, s->log) && !strcmp(s->f[i].op, op))
      f = &s->f[i];
  if (!f) {
    if (!(f = new_finding(s, sig))) {
      s->rc = CG_ERR_NOMEM;
      return;
    }
    cg_strlcpy(f->host, host, sizeof(f->host));
    cg_strlcpy(f->op, op, sizeof(f->op));
    cg_strlcpy(f->log, s->log, sizeof(f->log));
    cg_snprintf(f->component, sizeof(f->component), "%.*s", (int)(e->component_len < 63 ? e->component_len : 63),
                e->component ? e->component : "");
    size_t n = e->msg_len < SAMPLE_MAX ? e->msg_len : SAMPLE_MAX;
    for (size_t i = 0; i < n; i++) {
      char c = e->msg[i];
      f->sample[i] = (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
    }
    f->sample[n] = '\0';
    f->first_ms = e->utc_ms;
    f->exact = e->utc_exact;
  }
  f->count++;
  if (e->utc_ms && (!f->first_ms || e->utc_ms < f->first_ms)) f->first_ms = e->utc_ms;
  if (e->utc_ms > f->last_ms) f->last_ms = e->utc_ms;
  if (f->status_codes) http_status(e->msg, e->msg_len, f->status_codes);
}

static int on_entry(const struct cmt_entry *e, void *user) {
  struct scan *s = user;
  s->entries++;
  if (s->min_ms && e->utc_ms && e->utc_ms < s->min_ms) {
    s->old_entries++;
    return 0;
  }
  /* the server this line is about: its own, or the one the line just before it named (CCMHTTP
   * writes "ERROR: URL=..." and then "ERROR INFO: StatusCode=..."; a failure follows its request) */
  char host[LS_HOST];
  bool cmg = false;
  s->target = NULL;
  s->kind = LS_KIND_NONE;
  s->own_target = false;
  if (ls_target(e->msg, e->msg_len, host, &cmg)) {
    cg_strlcpy(s->ctx_host, host, sizeof(s->ctx_host));
    ls_target_kind(e->msg, e->msg_len, host, &s->ctx_kind);
    s->ctx_log = s->log;
    s->ctx_ms = e->utc_ms;
    if (cmg && !ls_is_cmg_host(host, s->cmg_hosts) && cJSON_GetArraySize(s->cmg_hosts) < LS_MAX_SERVERS)
      cJSON_AddItemToArray(s->cmg_hosts, cJSON_CreateString(host));
    s->target = s->ctx_host;
    s->kind = s->ctx_kind;
    s->own_target = true;
  } else if (s->ctx_host[0] && s->ctx_log == s->log && e->utc_ms - s->ctx_ms <= 5000 && s->ctx_ms - e->utc_ms <= 5000) {
    /* (either way: lines written by two threads can be a few milliseconds out of order) */
    s->target = s->ctx_host;
    s->kind = s->ctx_kind;
  }
  /* which servers are the CMG's is known only after every log (a later log may name a host with a
   * CCM_Proxy_ path): the time of each server's newest line is kept, and decided at the end */
  if (s->target) ls_saw(&s->m, s->target, e->utc_ms);
  struct match_ctx m = {s, e};
  sig_match(s->sigs, s->log, e->component, e->component_len, e->msg, e->msg_len, on_match, &m);
  return s->rc != CG_OK;
}

/* Reads [start, start+max) of a log, scans complete entries, returns the raw bytes consumed. */
static int read_part(struct scan *s, const char *path, enum enc enc, int64_t start, size_t max, bool final,
                     size_t *consumed, size_t *bytes) {
  char *raw = NULL, *text = NULL;
  size_t len = 0, tlen = 0, entries = 0;
  bool cp1252;
  *consumed = 0;
  int rc = cl_io_read(s->io, path, start, max, &raw, &len);
  if (rc != CG_OK) return rc;
  *bytes = len;
  if (enc == ENC_UTF16) len &= ~(size_t)1;
  if (s->collect) {
    *consumed = len; /* kept for the judging half, which scans it */
  } else if ((rc = cl_decode(raw, len, enc, &text, &tlen, &cp1252)) == CG_OK) {
    size_t used = cmt_scan(text, tlen, final, on_entry, s, &entries);
    *consumed = cl_raw_length(text, used, enc, cp1252);
  }
  cg_free(raw);
  cg_free(text);
  return rc != CG_OK ? rc : s->rc;
}

static enum enc sniff(struct cl_io *io, const char *path, int64_t *skip) {
  char *head = NULL;
  size_t n = 0;
  enum enc e = ENC_UTF8;
  *skip = 0;
  if (cl_io_read(io, path, 0, 4, &head, &n) == CG_OK) {
    const unsigned char *u = (const unsigned char *)head;
    if (n >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
      e = ENC_UTF16;
      *skip = 2;
    } else if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
      e = ENC_UTF8_BOM;
      *skip = 3;
    }
  }
  cg_free(head);
  return e;
}

static uint64_t identity(struct cl_io *io, const char *path, size_t id_len) {
  char *head = NULL;
  size_t n = 0;
  uint64_t h = 0;
  if (cl_io_read(io, path, 0, id_len, &head, &n) == CG_OK && n == id_len) h = fnv1a(head, n);
  cg_free(head);
  return h;
}

/* One log: from its saved position (or its tail the first time), following a rotation to .lo_.
 * Updates `st` (the file's state object) and adds an entry to `logs_out`. */
int cl_read_log(struct scan *s, const struct cl_ctx *ctx, const char *path, const char *name, cJSON *st,
                cJSON *logs_out, bool from_scratch) {
  int64_t size = cl_io_size(s->io, path), skip;
  if (size < 0) return CG_OK;
  enum enc enc = sniff(s->io, path, &skip);
  size_t max = (size_t)ctx->max_bytes_per_file;
  cJSON *lo = cJSON_CreateObject();
  cJSON_AddStringToObject(lo, "name", name);
  cJSON_AddStringToObject(lo, "path", path);
  cJSON_AddStringToObject(lo, "encoding", enc == ENC_UTF16 ? "UTF-16LE" : enc == ENC_UTF8_BOM ? "UTF-8 BOM" : "UTF-8");
  cJSON_AddItemToArray(logs_out, lo);
  size_t before = s->entries, bytes_total = 0, bytes = 0, consumed = 0;
  int64_t start = skip, skipped = 0;
  bool rotated = false;
  int rc = CG_OK;
  const cJSON *off = cJSON_GetObjectItemCaseSensitive(st, "offset");
  const cJSON *idl = cJSON_GetObjectItemCaseSensitive(st, "id_len");
  const cJSON *idh = cJSON_GetObjectItemCaseSensitive(st, "id_hash");
  if (!from_scratch && cJSON_IsNumber(off) && cJSON_IsNumber(idl) && cJSON_IsString(idh)) {
    size_t id_len = (size_t)idl->valuedouble;
    char want[24], now[24];
    cg_snprintf(want, sizeof(want), "%s", idh->valuestring);
    cg_snprintf(now, sizeof(now), "%016llx", (unsigned long long)identity(s->io, path, id_len));
    if ((int64_t)off->valuedouble > size || strcmp(want, now) != 0) {
      /* Rotated (X.log -> X.lo_) or truncated since the last cycle: finish the old file first. */
      rotated = true;
      size_t n = strlen(path);
      char *old = cg_strdup(path);
      if (old && n > 4 && cg_str_endswith_ci(old, ".log")) {
        old[n - 1] = '_';
        char oldid[24];
        cg_snprintf(oldid, sizeof(oldid), "%016llx", (unsigned long long)identity(s->io, old, id_len));
        int64_t osize = cl_io_size(s->io, old), ostart = (int64_t)off->valuedouble;
        if (osize > ostart && strcmp(oldid, want) == 0) {
          if (osize - ostart > (int64_t)max) {
            skipped += osize - (int64_t)max - ostart;
            ostart = osize - (int64_t)max;
          }
          rc = read_part(s, old, enc, ostart, (size_t)(osize - ostart), true, &consumed, &bytes);
          bytes_total += bytes;
        }
      }
      cg_free(old);
    } else {
      start = (int64_t)off->valuedouble;
    }
  } else if (!from_scratch && size - skip > (int64_t)max) {
    skipped += size - (int64_t)max - skip; /* first sight: only the newest part */
    start = size - (int64_t)max;
  }
  if (rc == CG_OK && size - start > (int64_t)max) {
    skipped += size - (int64_t)max - start;
    start = size - (int64_t)max;
  }
  if (enc == ENC_UTF16 && (start & 1)) start++;
  if (rc == CG_OK && size > start) {
    rc = read_part(s, path, enc, start, (size_t)(size - start), from_scratch, &consumed, &bytes);
    bytes_total += bytes;
    start += (int64_t)consumed;
  }
  cJSON_AddNumberToObject(lo, "bytes_read", (double)bytes_total);
  cJSON_AddNumberToObject(lo, "entries_new", (double)(s->entries - before));
  cJSON_AddBoolToObject(lo, "rotated", rotated);
  cJSON_AddNumberToObject(lo, "skipped_bytes", (double)skipped);
  cJSON_AddNumberToObject(lo, "pending_bytes", (double)(size > start ? size - start : 0));
  /* Next cycle resumes at the first incomplete entry. */
  size_t id_len = size < ID_LEN ? (size_t)size : ID_LEN;
  char idhex[24];
  cg_snprintf(idhex, sizeof(idhex), "%016llx", (unsigned long long)identity(s->io, path, id_len));
  cJSON_DeleteItemFromObjectCaseSensitive(st, "offset");
  cJSON_DeleteItemFromObjectCaseSensitive(st, "id_len");
  cJSON_DeleteItemFromObjectCaseSensitive(st, "id_hash");
  cJSON_AddNumberToObject(st, "offset", (double)start);
  cJSON_AddNumberToObject(st, "id_len", (double)id_len);
  cJSON_AddStringToObject(st, "id_hash", idhex);
  return rc;
}

static void time_text(int64_t ms, bool exact, char *buf, size_t len) {
  if (!ms) {
    cg_strlcpy(buf, "", len);
    return;
  }
  cg_time_rfc3339(ms, buf, len);
  if (!exact && strlen(buf) > 0) buf[strlen(buf) - 1] = '\0'; /* local time: no Z */
}

/* Where a finding stands: still failing, resolved by a later success (logstate.h: the same server
 * and operation, or any success with the server after a connectivity failure), or about an
 * intranet server (not the CMG's business). */
enum fstate { F_ACTIVE, F_RESOLVED, F_NOT_CMG };

static enum fstate state_of(const struct scan *s, const struct finding *f, int64_t *resolved_ms) {
  *resolved_ms = ls_resolved_at(&s->m, f->log, f->host, f->op, f->sig->connectivity, f->last_ms);
  if (*resolved_ms) return F_RESOLVED;
  if (f->host[0] && !ls_is_cmg_host(f->host, s->cmg_hosts)) return F_NOT_CMG;
  return F_ACTIVE;
}

/* Every other failure still open is said after the worst, once per kind, none only counted (a
 * lesser one says what it is): " Also (a warning): ..." */
static void also_open(const struct scan *s, const struct finding *worst, struct cg_buf *out) {
  for (size_t i = 0; i < s->nf; i++) {
    const struct finding *f = &s->f[i];
    int64_t x;
    if (f == worst || f->sig->severity <= SIG_INFO || state_of(s, f, &x) != F_ACTIVE) continue;
    bool said = f->sig == worst->sig;
    for (size_t k = 0; k < i && !said; k++)
      said = s->f[k].sig == f->sig && state_of(s, &s->f[k], &x) == F_ACTIVE;
    if (said) continue;
    cg_buf_printf(out, " Also%s: %s", f->sig->severity < worst->sig->severity ? " (a warning)" : "", f->sig->summary);
  }
}

int cl_finish(struct scan *s, struct sigset *set, struct cg_result *res, size_t nlogs) {
  cJSON *list = cJSON_AddArrayToObject(res->facts, "findings");
  size_t worst = SIZE_MAX, resolved = 0, not_cmg = 0;
  int worst_item = -1;
  for (size_t i = 0; i < s->nf; i++) {
    struct finding *f = &s->f[i];
    char first[40], last[40], fixed[40] = "";
    int64_t fixed_ms;
    enum fstate st = state_of(s, f, &fixed_ms);
    time_text(f->first_ms, f->exact, first, sizeof(first));
    time_text(f->last_ms, f->exact, last, sizeof(last));
    if (fixed_ms) time_text(fixed_ms, f->exact, fixed, sizeof(fixed));
    char *sample = cg_redact_text(f->sample);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", f->sig->code);
    cJSON_AddStringToObject(o, "severity",
                            f->sig->severity == SIG_FAIL   ? "fail"
                            : f->sig->severity == SIG_WARN ? "warn"
                                                           : "info");
    cJSON_AddStringToObject(o, "state",
                            f->sig->severity <= SIG_INFO ? "info"
                            : st == F_ACTIVE             ? "active"
                            : st == F_RESOLVED           ? "resolved"
                                                         : "not_cmg");
    cJSON_AddNumberToObject(o, "count", (double)f->count);
    cJSON_AddStringToObject(o, "first_seen", first);
    cJSON_AddStringToObject(o, "last_seen", last);
    if (fixed[0]) cJSON_AddStringToObject(o, "resolved_at", fixed);
    cJSON_AddStringToObject(o, "log", f->log);
    cJSON_AddStringToObject(o, "component", f->component);
    cJSON_AddStringToObject(o, "target", f->host);
    cJSON_AddStringToObject(o, "operation", f->op);
    cJSON_AddStringToObject(o, "target_kind",
                            !f->host[0]                             ? "unknown"
                            : ls_is_cmg_host(f->host, s->cmg_hosts) ? "cmg"
                                                                    : "intranet");
    cJSON_AddStringToObject(o, "sample", sample ? sample : "");
    if (f->status_codes && f->status_codes->child)
      cJSON_AddItemToObject(o, "http_status", f->status_codes);
    else
      cJSON_Delete(f->status_codes);
    f->status_codes = NULL;
    cJSON_AddStringToObject(o, "summary", f->sig->summary);
    cJSON_AddStringToObject(o, "remediation", f->sig->remediation);
    if (f->sig->source) cJSON_AddStringToObject(o, "source", f->sig->source);
    if (f->sig->basis) cJSON_AddStringToObject(o, "basis", f->sig->basis);
    cJSON_AddItemToArray(list, o);
    cg_free(sample);
    if (f->sig->severity <= SIG_INFO) continue;
    if (st == F_RESOLVED) {
      resolved++;
      continue;
    }
    if (st == F_NOT_CMG) {
      not_cmg++;
      continue;
    }
    /* the verdict: most severe, then specific before generic, then most frequent */
    const struct finding *w = worst == SIZE_MAX ? NULL : &s->f[worst];
    if (!w || f->sig->severity > w->sig->severity ||
        (f->sig->severity == w->sig->severity &&
         (w->sig->generic > f->sig->generic || (w->sig->generic == f->sig->generic && f->count > w->count)))) {
      worst = i;
      worst_item = cJSON_GetArraySize(list) - 1;
    }
  }
  cJSON_AddNumberToObject(res->facts, "entries_new", (double)s->entries);
  cJSON_AddNumberToObject(res->facts, "entries_too_old", (double)s->old_entries);
  cJSON_AddNumberToObject(res->facts, "catalogue_size", (double)set->count);
  cJSON_AddItemToObject(res->facts, "cmg_hosts", cJSON_Duplicate(s->cmg_hosts, true));
  char cmg_last[40] = "";
  int64_t last_cmg_ms = ls_last_cmg(&s->m, s->cmg_hosts);
  if (last_cmg_ms) time_text(last_cmg_ms, true, cmg_last, sizeof(cmg_last));
  if (last_cmg_ms)
    cJSON_AddStringToObject(res->facts, "last_cmg_traffic", cmg_last);
  else
    cJSON_AddNullToObject(res->facts, "last_cmg_traffic");
  char tail[200] = "";
  if (resolved && not_cmg)
    cg_snprintf(tail, sizeof(tail), " (%zu earlier failure(s) since resolved; %zu about intranet servers, not the CMG)",
                resolved, not_cmg);
  else if (resolved)
    cg_snprintf(tail, sizeof(tail), " (%zu earlier failure(s) since resolved)", resolved);
  else if (not_cmg)
    cg_snprintf(tail, sizeof(tail), " (%zu failure(s) about intranet servers, not the CMG)", not_cmg);
  if (worst == SIZE_MAX && !last_cmg_ms)
    return cg_result_set(
        res, CG_SKIP, "LOG_NO_CMG_TRAFFIC",
        "Nothing to fix from the logs; run 'cmgdiag check cmgprobe' to test the CMG directly, or look "
        "again once the device has been on the internet.",
        "Read %zu new entries from %zu client log%s: the client logged no traffic to a CMG in them, so "
        "they cannot tell whether the CMG works%s.",
        s->entries, nlogs, nlogs == 1 ? "" : "s", tail);
  if (worst == SIZE_MAX)
    return cg_result_set(res, CG_PASS, "LOG_OK", NULL,
                         "Read %zu new entries from %zu client log%s; CMG traffic was last logged at %s and no known "
                         "CMG failure is open%s.",
                         s->entries, nlogs, nlogs == 1 ? "" : "s", cmg_last, tail);
  const struct finding *f = &s->f[worst];
  char last[40], codes[64] = "";
  time_text(f->last_ms, f->exact, last, sizeof(last));
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, worst_item), "http_status");
  if (st && st->child) {
    cg_snprintf(codes, sizeof(codes), " (HTTP %s)", st->child->string);
    if (strstr(f->sig->summary, st->child->string)) codes[0] = '\0'; /* the summary already says it */
  }
  struct cg_buf more;
  cg_buf_init(&more, 16384);
  also_open(s, f, &more);
  if (f->sig->source) cJSON_AddStringToObject(res->facts, "reference", f->sig->source);
  int rc = cg_result_set(res, f->sig->severity == SIG_FAIL ? CG_FAIL : CG_WARN, f->sig->code, f->sig->remediation,
                         "%s Seen %zu time%s%s in %s%s%s%s%s.%s", f->sig->summary, f->count, f->count == 1 ? "" : "s",
                         codes, f->log, f->host[0] ? " for " : "", f->host, *last ? ", last at " : "", last,
                         more.data ? more.data : "");
  cg_buf_free(&more);
  return rc;
}

/* ---- what is kept between cycles ------------------------------------------------------------------ */

/* Failures still open, the last success per log and server, and the last CMG traffic: loaded
 * before the new entries are read (entries older than max_age_hours are dropped), saved after. */
void cl_load_kept(struct scan *s, const cJSON *kept, int64_t min_ms) {
  const cJSON *x;
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
                            kept, "hosts")) if (cJSON_IsString(x) && !ls_is_cmg_host(x->valuestring, s->cmg_hosts))
      cJSON_AddItemToArray(s->cmg_hosts, cJSON_CreateString(x->valuestring));
  ls_model_load(&s->m, kept, min_ms);
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(kept, "open")) {
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "code"));
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(x, "last_ms");
    const struct signature *sig = NULL;
    for (size_t i = 0; code && i < s->sigs->count && !sig; i++)
      if (!strcmp(s->sigs->sigs[i].code, code)) sig = &s->sigs->sigs[i];
    if (!sig || sig->severity <= SIG_INFO || !cJSON_IsNumber(last) || (int64_t)last->valuedouble < min_ms) continue;
    struct finding *f = new_finding(s, sig);
    if (!f) return;
    const char *v;
    if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "host"))))
      cg_strlcpy(f->host, v, sizeof(f->host));
    if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "log")))) cg_strlcpy(f->log, v, sizeof(f->log));
    if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "op")))) cg_strlcpy(f->op, v, sizeof(f->op));
    if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "component"))))
      cg_strlcpy(f->component, v, sizeof(f->component));
    if ((v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "sample"))))
      cg_strlcpy(f->sample, v, sizeof(f->sample));
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(x, "count"),
                *first = cJSON_GetObjectItemCaseSensitive(x, "first_ms");
    f->count = cJSON_IsNumber(n) && n->valuedouble >= 1 ? (size_t)n->valuedouble : 1;
    f->first_ms = cJSON_IsNumber(first) ? (int64_t)first->valuedouble : 0;
    f->last_ms = (int64_t)last->valuedouble;
    f->exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "exact"));
  }
}

cJSON *cl_save_kept(const struct scan *s) {
  cJSON *k = cJSON_CreateObject();
  cJSON_AddItemToObject(k, "hosts", cJSON_Duplicate(s->cmg_hosts, true));
  ls_model_save(&s->m, s->cmg_hosts, k);
  cJSON *open = cJSON_AddArrayToObject(k, "open");
  for (size_t i = 0; i < s->nf; i++) {
    const struct finding *f = &s->f[i];
    int64_t x;
    if (f->sig->severity <= SIG_INFO || state_of(s, f, &x) == F_RESOLVED) continue;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "code", f->sig->code);
    cJSON_AddStringToObject(o, "log", f->log);
    cJSON_AddStringToObject(o, "host", f->host);
    cJSON_AddStringToObject(o, "op", f->op);
    cJSON_AddStringToObject(o, "component", f->component);
    cJSON_AddStringToObject(o, "sample", f->sample);
    cJSON_AddNumberToObject(o, "count", (double)f->count);
    cJSON_AddNumberToObject(o, "first_ms", (double)f->first_ms);
    cJSON_AddNumberToObject(o, "last_ms", (double)f->last_ms);
    cJSON_AddBoolToObject(o, "exact", f->exact);
    cJSON_AddItemToArray(open, o);
  }
  return k;
}

static int cl_init(void *vctx, const struct cg_env *env, char *err, size_t errlen) {
  (void)err;
  (void)errlen;
  struct cl_ctx *ctx = vctx;
  struct cl_work *w = ctx->w = cg_calloc(1, sizeof(*ctx->w));
  if (!w || !(w->s.cmg_hosts = cJSON_CreateArray()) || !(w->logs = cJSON_CreateArray())) return CG_ERR_NOMEM;
  w->s.sigs = &w->set;
  cl_io_init(&w->io, CL_IO_DISK);
  w->s.io = &w->io;
  w->sig_rc = sig_load_catalogue(&w->set, ctx->signatures_file, w->sig_err, sizeof(w->sig_err));
  /* entries older than max_age_hours before now, or before the capture was taken */
  int64_t asof = cg_time_utc_ms();
  if (ctx->max_age_hours > 0 && (!env->input || (env->captured_at && cg_time_parse(env->captured_at, &asof))))
    w->s.min_ms = asof - ctx->max_age_hours * 3600 * 1000;
  /* the CMGs the client's MP list names (mpcandidates) are CMG hosts even before a log line says so */
  struct cg_handover_cmg_urls *urls = cg_calloc(1, sizeof(*urls));
  if (urls) cg_handover_get_cmg_urls(env, urls);
  for (size_t i = 0; urls && i < urls->count; i++) {
    char h[LS_HOST];
    bool c;
    if (ls_target(urls->url[i], strlen(urls->url[i]), h, &c) && !ls_is_cmg_host(h, w->s.cmg_hosts) &&
        cJSON_GetArraySize(w->s.cmg_hosts) < LS_MAX_SERVERS)
      cJSON_AddItemToArray(w->s.cmg_hosts, cJSON_CreateString(h));
  }
  cg_free(urls);
  return CG_OK;
}

static void cl_fini(void *vctx) {
  struct cl_work *w = ((struct cl_ctx *)vctx)->w;
  if (!w) return;
  for (size_t i = 0; i < w->s.nf; i++)
    cJSON_Delete(w->s.f[i].status_codes);
  cg_free(w->s.f);
  ls_model_free(&w->s.m);
  cJSON_Delete(w->s.cmg_hosts);
  cJSON_Delete(w->logs);
  cl_io_free(&w->io);
  sig_free(&w->set);
  cg_free(w);
}

/* One log of a copied log folder (the core's source: every *.log and *.lo_), read from scratch. */
static int parse_capture(void *vctx, const struct cg_env *env, const struct cg_capture_file *f, char *err,
                         size_t errlen) {
  (void)env;
  (void)err;
  (void)errlen;
  struct cl_ctx *ctx = vctx;
  struct cl_work *w = ctx->w;
  if (w->sig_rc != CG_OK) return CG_OK; /* the run says why nothing was matched */
  char logname[256];
  /* X.lo_ is X.log's history: signatures keyed on the log name apply to both */
  cg_strlcpy(logname, f->name, sizeof(logname));
  size_t ln = strlen(logname);
  if (cg_str_endswith_ci(logname, ".lo_")) logname[ln - 1] = 'g';
  w->s.log = logname;
  w->s.ctx_host[0] = '\0';
  cJSON *st = cJSON_CreateObject();
  int rc = st ? cl_read_log(&w->s, ctx, f->path, f->name, st, w->logs, true) : CG_ERR_NOMEM;
  cJSON_Delete(st);
  w->s.log = NULL;
  w->read++;
  return rc;
}

static int cl_run(void *vctx, const struct cg_env *env, struct cg_result *res) {
  struct cl_ctx *ctx = vctx;
  struct cl_work *w = ctx->w;
  if (w->sig_rc != CG_OK)
    return cg_result_set(res, CG_ERROR, "LOG_BAD_SIGNATURES", "Fix the signature catalogue named in the summary.",
                         "The signature catalogue cannot be used: %s.",
                         w->sig_err[0] ? w->sig_err : cg_strerror(w->sig_rc));
  int rc;
  if (!env->input)
    rc = env->collected ? cl_judge_collected(ctx, env, res) : CG_ERR_INTERNAL; /* the runner collects first */
  else if (w->s.entries == 0)
    rc = cg_result_set(res, CG_ERROR, "LOG_NO_ENTRIES",
                       "Give --input a copy of the client's log folder (%WINDIR%\\CCM\\Logs) with its .log files.",
                       "No client log entries were found in %s (%zu log file%s read).", env->input, w->read,
                       w->read == 1 ? "" : "s");
  else
    rc = cl_finish(&w->s, &w->set, res, w->read);
  cJSON_AddItemToObject(res->facts, "logs", w->logs);
  w->logs = NULL;
  return rc;
}

static const char *const log_suffixes[] = {".log", ".lo_", NULL};

static const struct cg_source cl_source = {
    .accepts = CG_SOURCE_FOLDER,
    .suffixes = log_suffixes,
    .max_bytes = 0, /* the logs are read in pieces by read_log, not whole */
    .max_files = 256,
    .code_prefix = "LOG",
    .what = "ConfigMgr client logs (*.log, *.lo_)",
    .how = "Give --input a copy of the client's log folder (%WINDIR%\\CCM\\Logs).",
    .parse = parse_capture,
};

static const char *const clientlogs_needs[] = {CG_DISCOVERY_CMG_URLS, NULL};

const struct cg_check_plugin cg_check_clientlogs = {
    .needs = clientlogs_needs,
    .name = "clientlogs",
    .description = "ConfigMgr client logs read incrementally and matched against known CMG failure signatures",
    .platforms = CG_PLATFORM_WINDOWS,
    .config_map = cl_map,
    .ctx_size = sizeof(struct cl_ctx),
    .source = &cl_source,
    .init = cl_init,
    .collect = cl_collect,
    .run = cl_run,
    .fini = cl_fini,
};
