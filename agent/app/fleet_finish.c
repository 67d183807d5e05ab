/* The fleet aggregate after the last bundle (fleet.h): sorted, counted. Split from fleet.c, which
 * takes the bundles in. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_internal.h"

static int by_host(const void *a, const void *b) {
  return cg_strcasecmp(((const struct fleet_device *)a)->host, ((const struct fleet_device *)b)->host);
}
static int by_day(const void *a, const void *b) {
  int32_t x = ((const struct fleet_day *)a)->day, y = ((const struct fleet_day *)b)->day;
  return x < y ? -1 : x > y;
}
static int by_devices(const void *a, const void *b) {
  const struct fleet_cause *x = a, *y = b;
  if (x->devices != y->devices) return x->devices > y->devices ? -1 : 1;
  if (x->secondary != y->secondary) return x->secondary > y->secondary ? -1 : 1;
  return strcmp(x->code, y->code);
}
static int by_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static int by_count(const void *a, const void *b) {
  const struct fleet_count *x = a, *y = b;
  if (x->n != y->n) return x->n > y->n ? -1 : 1;
  return strcmp(x->key, y->key);
}

static void days(struct fleet *f) {
  size_t cap = 64;
  f->byday = cg_calloc(cap, sizeof(*f->byday));
  for (size_t i = 0; f->byday && i < f->ndays_cap; i++) {
    if (!f->days[i].key) continue;
    int32_t day = (int32_t)(f->days[i].key & 0xFFFFFF);
    if (day & 0x800000) day -= 0x1000000; /* before 1970: sign back */
    size_t k = 0;
    while (k < f->nbyday && f->byday[k].day != day)
      k++;
    if (k == f->nbyday) {
      if (f->nbyday == cap) {
        struct fleet_day *n = cg_realloc(f->byday, cap * 2 * sizeof(*n));
        if (!n) break;
        f->byday = n;
        cap *= 2;
      }
      memset(&f->byday[k], 0, sizeof(f->byday[k]));
      f->byday[k].day = day;
      f->nbyday++;
    }
    char o = f->days[i].overall;
    if (o == 'p')
      f->byday[k].pass++;
    else if (o == 'w')
      f->byday[k].warn++;
    else
      f->byday[k].fail++;
  }
  if (f->byday) qsort(f->byday, f->nbyday, sizeof(*f->byday), by_day);
}

static void causes(struct fleet *f) {
  for (size_t i = 0; i < f->ndev; i++)
    for (int c = 0; c < FLEET_CAUSES && f->dev[i].cause[c][0]; c++) {
      size_t k = fleet_cause_find(f, f->dev[i].cause[c]);
      if (k == SIZE_MAX) continue;
      /* a device counts once, under its primary cause; the others it has are counted apart */
      struct fleet_cause *fc = &f->causes[k];
      if (c > 0) {
        fc->secondary++;
        continue;
      }
      if (fc->devices < 3) cg_strlcpy(fc->examples[fc->devices], f->dev[i].host, sizeof(fc->examples[0]));
      fc->devices++;
    }
  cg_free(f->cindex); /* the causes are compacted and sorted below: the index is gone with their order */
  f->cindex = NULL;
  f->ncindex = 0;
  size_t k = 0; /* a cause no device's latest bundle has any more is history, not the fleet */
  for (size_t i = 0; i < f->ncauses; i++)
    if (f->causes[i].devices || f->causes[i].secondary) f->causes[k++] = f->causes[i];
  f->ncauses = k;
  if (f->ncauses > 1) qsort(f->causes, f->ncauses, sizeof(*f->causes), by_devices); /* never qsort(NULL, 0) */
}

static void per_cmg_and_version(struct fleet *f) {
  f->cmgs = cg_calloc(f->ndev ? f->ndev : 1, sizeof(*f->cmgs));
  f->versions = cg_calloc(f->ndev ? f->ndev : 1, sizeof(*f->versions));
  f->lat = cg_calloc(f->ndev ? f->ndev : 1, sizeof(*f->lat));
  if (!f->cmgs || !f->versions || !f->lat) return;
  for (size_t i = 0; i < f->ndev; i++) {
    const struct fleet_device *d = &f->dev[i];
    if (!d->full) continue; /* helpdesk runs only: they say nothing of the device's state */
    if (d->cmg_ms >= 0) f->lat[f->nlat++] = d->cmg_ms;
    size_t k = 0;
    while (k < f->nversions && strcmp(f->versions[k].key, d->version[0] ? d->version : "unknown"))
      k++;
    if (k == f->nversions) cg_strlcpy(f->versions[f->nversions++].key, d->version[0] ? d->version : "unknown", 48);
    f->versions[k].n++;
    if (!d->cmg[0]) continue;
    for (k = 0; k < f->ncmgs && cg_strcasecmp(f->cmgs[k].host, d->cmg); k++)
      ;
    if (k == f->ncmgs) {
      cg_strlcpy(f->cmgs[k].host, d->cmg, sizeof(f->cmgs[k].host));
      f->ncmgs++;
    }
    f->cmgs[k].devices++;
    if (d->cert_days != INT32_MIN) { /* the distribution: a device that saw an old certificate is not the fleet */
      struct fleet_cmg *m = &f->cmgs[k];
      size_t j = 0;
      while (j < m->ndist && m->dist[j].days != d->cert_days)
        j++;
      if (j < m->ndist)
        m->dist[j].n++;
      else if (m->ndist < FLEET_CMG_DIST) {
        m->dist[m->ndist].days = d->cert_days;
        m->dist[m->ndist].n = 1;
        m->ndist++;
      } else
        m->other++;
    }
  }
  for (size_t k = 0; k < f->ncmgs; k++) /* the most seen first */
    for (size_t a = 1; a < f->cmgs[k].ndist; a++)
      for (size_t j = a; j > 0 && f->cmgs[k].dist[j].n > f->cmgs[k].dist[j - 1].n; j--) {
        int td = f->cmgs[k].dist[j].days;
        size_t tn = f->cmgs[k].dist[j].n;
        f->cmgs[k].dist[j] = f->cmgs[k].dist[j - 1];
        f->cmgs[k].dist[j - 1].days = td;
        f->cmgs[k].dist[j - 1].n = tn;
      }
  if (f->nlat > 1) qsort(f->lat, f->nlat, sizeof(*f->lat), by_double);
  if (f->nversions > 1) qsort(f->versions, f->nversions, sizeof(*f->versions), by_count);
}

void fleet_finish(struct fleet *f) {
  days(f); /* before the devices are sorted: the day map holds their indexes */
  causes(f);
  per_cmg_and_version(f);
  if (f->ndev > 1) qsort(f->dev, f->ndev, sizeof(*f->dev), by_host);
  cg_free(f->index); /* the order changed: the index is gone with it */
  f->index = NULL;
  f->nindex = 0;
  f->t.devices = f->ndev;
  f->t.pass = f->t.warn = f->t.fail = f->t.diag_made = f->t.helpdesk_only = 0;
  for (size_t i = 0; i < f->ndev; i++) {
    const char *o = f->dev[i].overall;
    if (!f->dev[i].full)
      f->t.helpdesk_only++;
    else if (!strcmp(o, "pass"))
      f->t.pass++;
    else if (!strcmp(o, "warn"))
      f->t.warn++;
    else
      f->t.fail++;
    f->t.diag_made += f->dev[i].diag_made;
    if (f->dev[i].full && f->now_ms - f->dev[i].last_ms > (int64_t)FLEET_STALE_H * 3600000) f->t.not_reporting++;
    if (f->dev[i].full && f->dev[i].sas_days != INT32_MIN && f->dev[i].sas_days < 30) f->t.sas_expiring++;
  }
  f->t.now_ms = f->now_ms;
  f->t.since_days = f->since_days;
}

const struct fleet_device *fleet_devices(const struct fleet *f, size_t *n) {
  *n = f->ndev;
  return f->dev;
}
const struct fleet_cause *fleet_causes(const struct fleet *f, size_t *n) {
  *n = f->ncauses;
  return f->causes;
}
const struct fleet_day *fleet_days(const struct fleet *f, size_t *n) {
  *n = f->nbyday;
  return f->byday;
}
const struct fleet_bad *fleet_bads(const struct fleet *f, size_t *n, size_t *total) {
  *n = f->nbad_listed;
  *total = f->t.bad;
  return f->bad;
}
void fleet_totals(const struct fleet *f, struct fleet_totals *t) { *t = f->t; }
const double *fleet_latencies(const struct fleet *f, size_t *n) {
  *n = f->nlat;
  return f->lat;
}
const struct fleet_cmg *fleet_cmgs(const struct fleet *f, size_t *n) {
  *n = f->ncmgs;
  return f->cmgs;
}
const struct fleet_count *fleet_versions(const struct fleet *f, size_t *n) {
  *n = f->nversions;
  return f->versions;
}
