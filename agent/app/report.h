/* `cmgdiag report`: the fleet from its bundles, as an HTML page, a CSV file and a text summary
 * (docs/report.md). */
#ifndef CG_REPORT_H
#define CG_REPORT_H

#include "cg.h"
#include "fleet.h"

struct cg_report_args {
  const char *const *inputs; /* folders or files of bundles */
  size_t ninputs;
  const char *container_sas_file; /* a file (or "-") holding an Azure container SAS URL (list, read) */
  const char *container_url;      /* the same given on the command line (a warning: it is a secret) */
  const char *html, *csv;
  const char *ca_file, *proxy; /* for the container */
  int since_days;              /* 0: all */
  int jobs;                    /* worker threads, 1..16 */
};

/* Exit code: 0 when a report was made (bad bundles are counted and listed in it), 3 when nothing
 * could be read or written (a sentence on stderr). */
int cg_report_run(const struct cg_report_args *a);

/* The pieces (report.c, report_html.c, report_azure.c). */
int report_write_html(const struct fleet *f, const char *path, const char *title, char *err, size_t errlen);
int report_write_csv(const struct fleet *f, const char *path, char *err, size_t errlen);
/* Lists the container and feeds every .json.gz / .json blob to the fleet; CG_OK or a sentence
 * (never the SAS) in err when the container cannot be listed at all. */
int report_from_container(const char *sas_url, const char *ca_file, const char *proxy, int jobs, int since_days,
                          struct fleet *f, size_t *blobs, char *err, size_t errlen);

/* Hands the indexes 0..n-1 to `jobs` threads, each calling item(arg, i, its state) with the state
 * init made for it (NULL: none; fini frees it); returns when all are done. */
void report_parallel(size_t n, int jobs, void (*item)(void *arg, size_t i, void *thread_state), void *arg,
                     void *(*init)(void), void (*fini)(void *));

/* One page of List Blobs (XML): the .json.gz / .json names are added to ns (caller frees each and
 * ns->v), the next marker is put in marker ("" at the end). For the fuzz target too. */
struct report_names {
  char **v;
  size_t n, a;
};
int report_list_page(const char *xml, struct report_names *ns, char *marker, size_t mlen);

#endif
