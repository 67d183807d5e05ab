/* `cmgdiag report` (report.h): walk the inputs, summarise every bundle on `jobs` threads, write. */
#include "report.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "diagnosis.h"
#include "gz.h"
#include "platform/fs.h"
#include "platform/runtime.h"
#include "platform/sys.h"
#include "setup.h"

#define MAX_BUNDLE_BYTES (16 * 1024 * 1024) /* a spooled bundle is a few KB; this is a hostile one */
#define MAX_DEPTH 16

/* The files and folders found and not yet read: read in batches while the walk goes on, so that a
 * million bundles never hold a million paths in memory. A folder with many subfolders (a day's
 * YYYY/MM/DD/ with a folder per device) hands each subfolder to the readers, who list it themselves:
 * listing is then as parallel as reading. */
#define PATH_BATCH 8192
#define WIDE_FOLDER 32

struct paths {
  char **p;
  unsigned char *lvl; /* 0: a file; k > 0: a folder at depth k - 1, walked by a reader */
  size_t n, a;
  struct fleet *f;
  int jobs;
};

static void run_files(struct paths *ps);

static int push_item(struct paths *ps, char *p, unsigned char lvl) {
  if (!p) return CG_ERR_NOMEM;
  if (ps->n >= PATH_BATCH) run_files(ps);
  if (ps->n == ps->a) {
    size_t na = ps->a ? ps->a * 2 : 1024;
    char **np = cg_realloc(ps->p, na * sizeof(*np));
    unsigned char *nl = np ? cg_realloc(ps->lvl, na) : NULL;
    if (np) ps->p = np;
    if (!nl) {
      cg_free(p);
      return CG_ERR_NOMEM;
    }
    ps->lvl = nl;
    ps->a = na;
  }
  ps->lvl[ps->n] = lvl;
  ps->p[ps->n++] = p;
  return CG_OK;
}

static int push(struct paths *ps, char *p) { return push_item(ps, p, 0); }

static bool bundle_name(const char *n) { return cg_str_endswith_ci(n, ".json.gz") || cg_str_endswith_ci(n, ".json"); }

/* `dir` ends in YYYY/MM/DD (either slash) */
static bool day_folder(const char *dir) {
  size_t n = strlen(dir), want[] = {2, 2, 4}, k = 0;
  while (n && (dir[n - 1] == '/' || dir[n - 1] == '\\'))
    n--;
  for (; k < 3; k++) {
    size_t digits = 0;
    while (n && dir[n - 1] >= '0' && dir[n - 1] <= '9') {
      n--;
      digits++;
    }
    if (digits != want[k] || (k < 2 && (!n || (dir[n - 1] != '/' && dir[n - 1] != '\\')))) return false;
    if (k < 2) n--;
  }
  return !n || dir[n - 1] == '/' || dir[n - 1] == '\\';
}

/* Every bundle file below `dir` (links to folders are not followed: a walk cannot loop). */
static int walk(const char *dir, int depth, struct paths *ps) {
  char **names = NULL, **dirs = NULL;
  size_t n = 0, nd = 0;
  int rc = cg_dir_list_split(dir, &names, &n, &dirs, &nd);
  for (size_t i = 0; rc == CG_OK && i < n; i++)
    if (bundle_name(names[i])) rc = push(ps, cg_path_join(dir, names[i]));
  cg_dir_list_free(names, n);
  /* last name first: in a YYYY/MM/DD layout the newest day is read first, and the older bundles of a
   * device that has a newer one cost less (fleet_add) */
  for (size_t k = nd; rc == CG_OK && depth < MAX_DEPTH && k-- > 0;) {
    char *sub = cg_path_join(dir, dirs[k]);
    if (nd >= WIDE_FOLDER)
      rc = push_item(ps, sub, (unsigned char)(depth + 2));
    else {
      rc = sub ? walk(sub, depth + 1, ps) : CG_ERR_NOMEM;
      cg_free(sub);
    }
  }
  cg_dir_list_free(dirs, nd);
  /* a day is read whole before the day before it: a device's newer bundle is known, whatever the
   * threads' timing, when its older ones are read (fleet_add reads only their head) */
  if (rc == CG_OK && ps->n && day_folder(dir)) run_files(ps);
  return rc;
}

struct pool {
  struct cg_mutex *mu;
  size_t next, n;
  int running;
  void (*item)(void *arg, size_t i, void *thread_state);
  void *arg;
  void *(*init)(void);
  void (*fini)(void *);
};

static void pool_thread(void *p) {
  struct pool *pl = p;
  void *st = pl->init ? pl->init() : NULL;
  for (;;) {
    cg_mutex_lock(pl->mu);
    size_t i = pl->next < pl->n ? pl->next++ : SIZE_MAX;
    cg_mutex_unlock(pl->mu);
    if (i == SIZE_MAX) break;
    pl->item(pl->arg, i, st);
  }
  if (pl->fini) pl->fini(st);
  cg_mutex_lock(pl->mu);
  pl->running--;
  cg_mutex_broadcast(pl->mu);
  cg_mutex_unlock(pl->mu);
}

void report_parallel(size_t n, int jobs, void (*item)(void *, size_t, void *), void *arg, void *(*init)(void),
                     void (*fini)(void *)) {
  struct pool pl = {.mu = cg_mutex_new(), .n = n, .item = item, .arg = arg, .init = init, .fini = fini};
  if (!pl.mu) return;
  for (int i = 0; i < jobs; i++) {
    cg_mutex_lock(pl.mu);
    pl.running++;
    cg_mutex_unlock(pl.mu);
    if (cg_thread_start(pool_thread, &pl) != CG_OK) {
      cg_mutex_lock(pl.mu);
      pl.running--;
      cg_mutex_unlock(pl.mu);
      if (i == 0) { /* no thread at all: this one does the work */
        pl.running++;
        pool_thread(&pl);
      }
      break;
    }
  }
  cg_mutex_lock(pl.mu);
  while (pl.running > 0)
    cg_mutex_wait(pl.mu, 1000);
  cg_mutex_unlock(pl.mu);
  cg_mutex_free(pl.mu);
}

struct files {
  const struct paths *ps;
  struct fleet *f;
};

static void add_read(void *user, const char *path, int rc, const char *data, size_t len, int64_t mtime) {
  struct fleet *f = user;
  if (rc == CG_OK)
    fleet_add(f, path, data, len, mtime);
  else
    fleet_bad(f, path, rc == CG_ERR_TOOBIG ? "larger than 16 MB, which no bundle is" : cg_strerror(rc));
}

static void read_one(struct fleet *f, const char *path) {
  char *data = NULL;
  size_t len = 0;
  int64_t mtime = -1;
  int rc = cg_file_read_mtime(path, MAX_BUNDLE_BYTES, &data, &len, &mtime);
  add_read(f, path, rc, data, len, mtime);
  cg_free(data);
}

/* A folder handed to a reader: its bundles and its subfolders', read here. */
static void read_folder(struct fleet *f, const char *dir, int depth) {
  char **dirs = NULL;
  size_t nd = 0;
  int rc = cg_dir_read_files(dir, bundle_name, MAX_BUNDLE_BYTES, add_read, f, &dirs, &nd);
  if (rc != CG_OK) fleet_bad(f, dir, cg_strerror(rc));
  for (size_t k = nd; depth < MAX_DEPTH && k-- > 0;) { /* newest first, as walk */
    char *sub = cg_path_join(dir, dirs[k]);
    if (sub) read_folder(f, sub, depth + 1);
    cg_free(sub);
  }
  cg_dir_list_free(dirs, nd);
}

static void one_file(void *arg, size_t i, void *unused) {
  (void)unused;
  struct files *w = arg;
  if (w->ps->lvl[i])
    read_folder(w->f, w->ps->p[i], w->ps->lvl[i] - 1);
  else
    read_one(w->f, w->ps->p[i]);
}

/* A reader thread keeps one inflate state and one JSON arena for all its bundles. */
static void *bulk_start(void) {
  cg_gz_bulk(true);
  return NULL;
}

static void release_arena(void *unused) {
  (void)unused;
  cg_json_arena_release();
  cg_gz_bulk(false);
}

/* Reads the batch on `jobs` threads, then forgets it. */
static void run_files(struct paths *ps) {
  struct files w = {.ps = ps, .f = ps->f};
  report_parallel(ps->n, ps->jobs, one_file, &w, bulk_start, release_arena);
  for (size_t i = 0; i < ps->n; i++)
    cg_free(ps->p[i]);
  ps->n = 0;
}

static void print_summary(const struct fleet *f) {
  struct fleet_totals t;
  fleet_totals(f, &t);
  size_t nc, nb, total;
  const struct fleet_cause *c = fleet_causes(f, &nc);
  fleet_bads(f, &nb, &total);
  printf("%zu bundle(s) read, %zu device(s): %zu fail, %zu warn, %zu pass", t.bundles, t.devices, t.fail, t.warn,
         t.pass);
  if (t.not_reporting) printf("; %zu not reporting (no bundle for more than %d hours)", t.not_reporting, FLEET_STALE_H);
  if (t.sas_expiring) printf("; %zu whose collection point SAS expires within 30 days", t.sas_expiring);
  if (t.helpdesk_only) printf("; %zu with helpdesk runs only (partial: not judged)", t.helpdesk_only);
  if (t.older) printf("; %zu older than %d days left out", t.older, t.since_days);
  printf(".\n");
  if (total) printf("%zu input(s) could not be read (listed in the HTML report).\n", total);
  if (nc)
    printf("\nRoot causes (devices whose first cause it is, most first; +N: devices that have it after another):\n");
  for (size_t i = 0; i < nc && i < 15; i++) {
    char also[32] = "";
    if (c[i].secondary) cg_snprintf(also, sizeof(also), " +%zu", c[i].secondary);
    printf("  %5zu%-6s %-28s %s\n", c[i].devices, also, c[i].code, c[i].say);
  }
}

/* A folder laid out as the file output writes (YYYY/MM/DD/host/...): --since N walks only the day
 * folders of those days, as a container lists only their prefixes. */
static bool has_day_folders(const char *dir) {
  char **names = NULL;
  size_t n = 0;
  bool yes = false;
  if (cg_dir_list_dirs(dir, &names, &n) == CG_OK)
    for (size_t i = 0; i < n && !yes; i++)
      yes = strlen(names[i]) == 4 && strspn(names[i], "0123456789") == 4;
  cg_dir_list_free(names, n);
  return yes;
}

static int walk_days(const char *dir, int since_days, struct paths *ps) {
  int64_t now = cg_time_utc_ms();
  int rc = CG_OK;
  for (int d = 0; rc == CG_OK && d <= since_days; d++) {
    char day[40], rel[16];
    cg_time_rfc3339(now - (int64_t)d * 86400000, day, sizeof(day));
    cg_snprintf(rel, sizeof(rel), "%.4s/%.2s/%.2s", day, day + 5, day + 8);
    char *sub = cg_path_join(dir, rel);
    if (!sub) return CG_ERR_NOMEM;
    if (cg_path_kind(sub) == CG_PATH_DIR) rc = walk(sub, 0, ps);
    cg_free(sub);
  }
  return rc;
}

static int gather(const struct cg_report_args *a, struct fleet *f, char *err, size_t errlen) {
  struct paths ps = {.f = f, .jobs = a->jobs};
  int rc = CG_OK;
  for (size_t i = 0; rc == CG_OK && i < a->ninputs; i++) {
    enum cg_path_kind k = cg_path_kind(a->inputs[i]);
    if (k == CG_PATH_DIR && a->since_days > 0 && has_day_folders(a->inputs[i]))
      rc = walk_days(a->inputs[i], a->since_days, &ps);
    else if (k == CG_PATH_DIR)
      rc = walk(a->inputs[i], 0, &ps);
    else if (k == CG_PATH_FILE)
      rc = push(&ps, cg_strdup(a->inputs[i]));
    else
      fleet_bad(f, a->inputs[i], "does not exist or is not a file or folder");
  }
  if (rc == CG_OK) run_files(&ps);
  for (size_t i = 0; i < ps.n; i++)
    cg_free(ps.p[i]);
  cg_free(ps.p);
  cg_free(ps.lvl);
  if (rc != CG_OK) {
    cg_snprintf(err, errlen, "cannot walk the inputs: %s", cg_strerror(rc));
    return rc;
  }
  const char *url = a->container_url;
  char *secret = NULL;
  if (a->container_sas_file && !(url = secret = cg_read_sas_file(a->container_sas_file, err, errlen))) return CG_ERR_IO;
  size_t blobs = 0;
  if (url) rc = report_from_container(url, a->ca_file, a->proxy, a->jobs, a->since_days, f, &blobs, err, errlen);
  if (secret) memset(secret, 0, strlen(secret));
  cg_free(secret);
  return rc;
}

int cg_report_run(const struct cg_report_args *a) {
  char err[1024] = "";
  cJSON *rules = cg_diagnosis_rules(NULL);
  struct fleet *f = rules ? fleet_new(cg_time_utc_ms(), a->since_days, rules) : NULL;
  if (!f) {
    fprintf(stderr, "cmgdiag: out of memory\n");
    cJSON_Delete(rules);
    return 3;
  }
  int ec = 0;
  if (gather(a, f, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    ec = 3;
  }
  fleet_finish(f);
  struct fleet_totals t;
  fleet_totals(f, &t);
  if (ec == 0 && t.bundles == 0) {
    size_t nb, total;
    const struct fleet_bad *b = fleet_bads(f, &nb, &total);
    if (a->since_days > 0 && !nb)
      fprintf(stderr,
              "cmgdiag: no bundle of the last %d day(s) was found (day folders YYYY/MM/DD and container prefixes are "
              "read for those days only)\n",
              a->since_days);
    else
      fprintf(stderr, "cmgdiag: no bundle could be read%s%s%s%s\n", nb ? " (" : "", nb ? b[0].origin : "",
              nb ? ": " : "", nb ? b[0].why : "");
    if (nb) fprintf(stderr, "cmgdiag: %zu input(s) could not be read\n", total);
    ec = 3;
  }
  char title[200];
  cg_snprintf(title, sizeof(title), "cmgdiag fleet report");
  if (ec == 0 && a->html && report_write_html(f, a->html, title, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    ec = 3;
  }
  if (ec == 0 && a->csv && report_write_csv(f, a->csv, err, sizeof(err)) != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err);
    ec = 3;
  }
  if (ec == 0) print_summary(f);
  fleet_free(f);
  cJSON_Delete(rules);
  return ec;
}

/* ---- CSV ------------------------------------------------------------------------------------------ */

/* RFC 4180 quoting; a cell that a spreadsheet would run as a formula gets a leading apostrophe. */
/* A number is written as a number (no quotes, no formula guard: "-10" stays -10 in Excel and Power
 * BI); "" when unknown. */
static void num_cell(struct cg_buf *b, const char *s, bool last) {
  bool ok = *s != '\0';
  for (const char *c = s; *c && ok; c++)
    ok = (*c >= '0' && *c <= '9') || (c == s && *c == '-') || *c == '.';
  if (ok) cg_buf_puts(b, s);
  cg_buf_puts(b, last ? "\r\n" : ",");
}

static void cell(struct cg_buf *b, const char *s, bool last) {
  bool formula = s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@';
  cg_buf_puts(b, "\"");
  if (formula) cg_buf_puts(b, "'");
  for (const char *c = s; *c;) {
    size_t run = strcspn(c, "\"");
    cg_buf_append(b, c, run);
    c += run;
    if (*c == '"') {
      cg_buf_puts(b, "\"\"");
      c++;
    }
  }
  cg_buf_puts(b, last ? "\"\r\n" : "\",");
}

int report_write_csv(const struct fleet *f, const char *path, char *err, size_t errlen) {
  struct cg_buf b;
  cg_buf_init(&b, (size_t)1 << 31);
  size_t n;
  const struct fleet_device *d = fleet_devices(f, &n);
  struct fleet_totals t;
  fleet_totals(f, &t);
  int64_t now_ms = t.now_ms;
  cg_buf_puts(&b, "\xEF\xBB\xBF"); /* Excel reads UTF-8 only with its BOM */
  cg_buf_puts(&b, "device,last_seen,overall,root_cause,summary,other_root_causes,agent_version,cmg_host,"
                  "cmg_response_ms,cmg_cert_days_left,spool_pending,readiness,helpdesk_runs,age_hours,sas_days_left,"
                  "gate,gate_profile,gate_at\r\n");
  for (size_t i = 0; i < n; i++) {
    char other[120] = "", ms[32] = "", days[32] = "", pend[32];
    cg_snprintf(other, sizeof(other), "%s%s%s", d[i].cause[1], d[i].cause[2][0] ? " " : "", d[i].cause[2]);
    if (d[i].cmg_ms >= 0) cg_snprintf(ms, sizeof(ms), "%.0f", d[i].cmg_ms);
    if (d[i].cert_days != INT32_MIN) cg_snprintf(days, sizeof(days), "%d", d[i].cert_days);
    cg_snprintf(pend, sizeof(pend), "%lld", (long long)d[i].spool_pending);
    cell(&b, d[i].host, false);
    cell(&b, d[i].last_seen, false);
    cell(&b, d[i].overall, false);
    cell(&b, d[i].cause[0], false);
    cell(&b, d[i].summary, false);
    cell(&b, other, false);
    cell(&b, d[i].version, false);
    cell(&b, d[i].cmg, false);
    num_cell(&b, ms, false);
    num_cell(&b, days, false);
    num_cell(&b, pend, false);
    cell(&b, d[i].readiness, false);
    char runs[24];
    cg_snprintf(runs, sizeof(runs), "%zu", d[i].helpdesk_runs);
    num_cell(&b, runs, false);
    char age[24] = "";
    if (d[i].full) cg_snprintf(age, sizeof(age), "%lld", (long long)((now_ms - d[i].last_ms) / 3600000));
    num_cell(&b, age, false);
    char sas[24] = "";
    if (d[i].sas_days != INT32_MIN) cg_snprintf(sas, sizeof(sas), "%d", d[i].sas_days);
    num_cell(&b, sas, false);
    cell(&b, d[i].gate, false);
    cell(&b, d[i].gate_profile, false);
    cell(&b, d[i].gate_at, true);
  }
  int rc = b.data ? cg_file_write_atomic(path, b.data, b.len, err, errlen) : CG_ERR_NOMEM;
  if (rc == CG_ERR_NOMEM) cg_snprintf(err, errlen, "out of memory writing %s", path);
  cg_buf_free(&b);
  return rc;
}
