/* `cmgdiag collect` (collect.h). */
#include "collect.h"

#include <stdio.h>
#include <string.h>

#include "redact.h"
#include "snapshot.h"
#include "snapzip.h"
#include "platform/fs.h"
#include "text.h"

#define EXIT_CANNOT_RUN 3

static const char *str(const cJSON *o, const char *k) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void print_summary(const cJSON *m, const char *out) {
  char host[128];
  cg_strlcpy(host, str(m, "host") ? str(m, "host") : "?", sizeof(host));
  cg_strip_controls(host);
  printf("Snapshot of %s taken at %s, in %s:\n\n", host, str(m, "taken_at"), out);
  const cJSON *c;
  int captured = 0, recorded = 0;
  cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "checks")) {
    bool cap = !strcmp(str(c, "judged_from") ? str(c, "judged_from") : "", "capture");
    captured += cap;
    recorded += !cap;
    int files = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "files"));
    char code[80];
    cg_snprintf(code, sizeof(code), "%s", str(c, "code") ? str(c, "code") : "");
    printf("  %-13s %-5s %-30s ", c->string, str(c, "status"), code);
    if (cap)
      printf("judged from its capture (%d file%s)\n", files, files == 1 ? "" : "s");
    else
      printf("recorded: %s\n", str(c, "why") ? str(c, "why") : "");
  }
  printf("\n%d check(s) judged from their captures, %d kept as recorded.\n", captured, recorded);
  if (cg_str_endswith_ci(out, ".zip"))
    printf("Attach %s to the ticket. To judge it on any machine, extract it (Extract All, or Expand-Archive),\n"
           "then: cmgdiag selftest --input FOLDER\n",
           out);
  else
    printf("Judge it on any machine: cmgdiag selftest --input %s\n", out);
}

int cg_cmd_collect(const struct cli *cli, const struct cg_config *cfg, struct cg_log *log) {
  cJSON *disc = cJSON_CreateObject();
  /* the checks run as a person's selftest does; only what they read is also written down */
  struct cg_env env = {.config = cfg, .log = log, .interactive = true, .discovery = disc, .trigger = "selftest"};
  /* `--trigger schedule` (not in the help): collected as a scheduled cycle would run, so that cmgprobe's
   * light cycle can be recorded for the data set (tests/data/cmgprobe, docs/checks/cmgprobe.md) */
  cJSON *m = NULL;
  char err[700] = "";
  int rc = CG_OK;
  if (cli->trigger && strcmp(cli->trigger, "schedule") != 0) {
    cg_snprintf(err, sizeof(err), "--trigger takes only 'schedule'");
    rc = CG_ERR_USAGE;
  } else if (cli->trigger) {
    env.trigger = "schedule";
  }
  /* FILE.zip: collected into FILE.zip.partial (made for it), zipped, and that folder removed */
  bool zip = cg_str_endswith_ci(cli->out, ".zip");
  char *staging = zip ? cg_asprintf("%s.partial", cli->out) : NULL;
  if (rc == CG_OK && zip && !staging) rc = CG_ERR_NOMEM;
  if (rc == CG_OK && zip && cg_path_kind(cli->out) != CG_PATH_MISSING) {
    cg_snprintf(err, sizeof(err), "--out %s exists; give a new file name (collect never writes over a file)", cli->out);
    rc = CG_ERR_USAGE;
  }
  if (rc == CG_OK)
    rc = cg_snapshot_collect(&env, cli->only, cfg->check_timeout_s * 1000, zip ? staging : cli->out, &m, err,
                             sizeof(err));
  if (rc == CG_OK && zip) rc = cg_snapshot_zip(staging, cli->out, err, sizeof(err));
  if (zip && m) cg_snapshot_remove_staging(staging); /* only a folder collect made and wrote */
  cg_free(staging);
  int ec = 0;
  if (rc != CG_OK) {
    fprintf(stderr, "cmgdiag: %s\n", err[0] ? err : cg_strerror(rc));
    cg_log_error(log, "collect", "no snapshot written: %s", err[0] ? err : cg_strerror(rc));
    ec = EXIT_CANNOT_RUN;
  } else if (cli->json) {
    char *text = cJSON_Print(m);
    if (text) puts(text);
    cJSON_free(text);
  } else {
    print_summary(m, cli->out);
  }
  if (rc == CG_OK) cg_log_info(log, "collect", "snapshot written to %s", cli->out);
  cJSON_Delete(m);
  cJSON_Delete(disc);
  return ec;
}

cJSON *cg_snapshot_for_cli(const char *path) {
  cJSON *m = NULL;
  char err[700] = "";
  int rc = cg_snapshot_load(path, &m, err, sizeof(err));
  if (rc == CG_ERR_NOTFOUND && cg_str_endswith_ci(path, ".zip") && cg_path_kind(path) == CG_PATH_FILE)
    fprintf(stderr,
            "cmgdiag: --input %s is a zipped snapshot; extract it first (Explorer's Extract All, or Expand-Archive "
            "-Path %s -DestinationPath FOLDER), then give the folder: cmgdiag selftest --input FOLDER\n",
            path, path);
  else if (rc == CG_ERR_NOTFOUND)
    fprintf(stderr,
            "cmgdiag: --input %s is not a snapshot (no %s in it); make one with 'cmgdiag collect --out FOLDER', or "
            "judge a capture of one check with 'cmgdiag check NAME --input %s'\n",
            path, CG_SNAPSHOT_MANIFEST, path);
  else if (rc != CG_OK)
    fprintf(stderr, "cmgdiag: --input: %s\n", err[0] ? err : cg_strerror(rc));
  return m;
}

void cg_snapshot_mark_bundle(cJSON *bundle, const cJSON *manifest, const char *path) {
  cJSON *dev = cJSON_GetObjectItemCaseSensitive(bundle, "device");
  const char *host = str(manifest, "host");
  if (dev && host) {
    cJSON_DeleteItemFromObjectCaseSensitive(dev, "hostname");
    cJSON_AddStringToObject(dev, "hostname", host);
  }
  cJSON *s = cJSON_AddObjectToObject(bundle, "snapshot");
  cJSON_AddStringToObject(s, "path", path);
  cJSON_AddStringToObject(s, "host", host ? host : "");
  cJSON_AddStringToObject(s, "taken_at", str(manifest, "taken_at") ? str(manifest, "taken_at") : "");
  const char *v = str(cJSON_GetObjectItemCaseSensitive(manifest, "agent"), "version");
  cJSON_AddStringToObject(s, "agent_version", v ? v : "");
}
