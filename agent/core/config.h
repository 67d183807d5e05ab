/* The JSON configuration (docs/config-file.md): loaded, validated against the declarative
 * maps of the core and of every compiled-in plugin, completed with defaults, and kept as an
 * "effective" JSON tree that `config check` prints with secrets redacted. */
#ifndef CG_CONFIG_H
#define CG_CONFIG_H

#include <cjson/cJSON.h>

#include "cg.h"
#include "plugin.h"

struct cg_config {
  char *path;      /* the file read (or that would have been read); owned */
  bool file_found; /* false: no file at the default path, built-in defaults in use */
  /* The file (or a folder above it) can be changed by someone other than administrators: its
   * admin-defined commands are not run (docs/security.md). */
  bool insecure;
  /* The unprivileged worker's own configuration: the files its settings name are copies of files the
   * agent vetted (admin-only) before it sent their bytes, so they are not vetted again. */
  bool files_vetted;
  char insecure_why[512];
  int64_t interval_s, jitter_s, start_delay_s, check_timeout_s, cycle_timeout_s, network_debounce_s, network_min_gap_s;
  int64_t heartbeat_s; /* a scheduled cycle whose state did not change ships at most this often */
  struct {
    char *dir;
    int64_t max_bytes, max_files;
  } spool;
  struct {
    char *file;
    char *level;
    int64_t max_bytes;
  } log;
  struct {
    int64_t gzip_level, retry_base_ms, retry_cap_ms, max_attempts, drain_budget_s, interactive_budget_s, max_bundles;
  } delivery;
  struct {
    bool enabled;
    int64_t min_gap_s, user_min_gap_s;
  } service_selftest;
  char *state_dir;         /* where checks keep state between cycles (e.g. log read positions) */
  char *unprivileged_user; /* the account of the unprivileged worker (docs/security.md); NULL: none */
  char policy[160];        /* the Group Policy values that were applied, "IntervalSeconds, SasUrl"; "" when none */
  cJSON *root;             /* the effective configuration, defaults filled in; owned */
  /* The keys of check `cli_check` that the person running the command set (`--set`, `--input`):
   * their files are the caller's own, not the configuration's (cg_config_check_files_trusted). */
  char *cli_check;
  cJSON *cli_keys; /* array of key names; owned */
};

/* Group Policy: values here override the configuration file (Windows). */
#define CG_POLICY_KEY "SOFTWARE\\Policies\\cmgdiag"

struct cg_config_override {
  const char *check;       /* the check that `--set` applies to */
  const char *const *sets; /* "KEY=VALUE" strings */
  size_t count;
};

/* Loads `path` (NULL: the platform default, which may be absent). An explicit path that does not
 * exist is an error. Errors (CG_ERR_CONFIG, CG_ERR_NOTFOUND, CG_ERR_IO) leave a sentence in err that
 * names the file and the key, with a "did you mean" where one is close. Free with cg_config_free,
 * also after an error. */
int cg_config_load(struct cg_config *cfg, const char *path, const struct cg_config_override *ov, char *err,
                   size_t errlen);
/* Same from a JSON text (tests, fuzzing); `origin` names it in errors. */
int cg_config_load_text(struct cg_config *cfg, const char *text, size_t len, const char *origin,
                        const struct cg_config_override *ov, char *err, size_t errlen);
/* A secret or trust file the configuration names (a token, a key, a CA bundle): read only when the
 * configuration is admin-only and so is the file (and every folder above it). CG_OK, or
 * CG_ERR_ACCESS with a sentence naming `key` and the path. NULL path: CG_OK. */
int cg_config_file_trusted(const struct cg_config *cfg, const char *key, const char *path, char *err, size_t errlen);
/* A check's own referenced files (ca_file, client_cert, client_key, signatures_file and the capture
 * its `input` names), as cg_config_file_trusted judges them; the keys the command line set are the
 * caller's and are not judged. CG_OK, or CG_ERR_ACCESS with a sentence naming each file refused. */
int cg_config_check_files_trusted(const struct cg_config *cfg, const char *check, char *err, size_t errlen);
/* The files the configuration names (ca_file, client_cert, client_key, bearer_token_file,
 * hmac_key_file, signatures_file, dsregcmd_path, wherever they stand) that exist and that someone
 * other than an administrator could change: how many, and "outputs[0].ca_file = PATH (why); ..." in
 * out (cut at n). */
size_t cg_config_files_not_admin_only(const struct cg_config *cfg, char *out, size_t n);
void cg_config_free(struct cg_config *cfg);

/* The effective settings object of a check (borrowed), or NULL. */
const cJSON *cg_config_check(const struct cg_config *cfg, const char *name);
bool cg_config_check_enabled(const struct cg_config *cfg, const char *name);

/* Effective configuration as indented JSON with secrets redacted; caller frees. */
char *cg_config_render_redacted(const struct cg_config *cfg);

/* Parses one "KEY=VALUE" of `--set` against a map (plus "enabled"): *value is the typed JSON value
 * (caller deletes), key receives KEY. For a list key the value is a one-element list. `owner`
 * names the check in errors. */
/* What the settings must mean (plugin.h, cg_setting_meaning): `config check` and `setup` refuse a
 * configuration that cannot work; the agent itself runs on, and the check concerned says it in
 * its result. CG_ERR_CONFIG with "FILE: key 'checks.x.y': why". */
int cg_config_check_meanings(const struct cg_config *cfg, char *err, size_t errlen);
/* The agent's own keys (top level; sections via .sub), for the reference page (config_ref.c). */
const struct cg_config_map *cg_config_core_map(void);
/* The configuration reference, Markdown, made from the config maps of the core and of every
 * compiled-in plugin (`cmgdiag config reference`; docs/configuration.md is its output). Caller frees. */
char *cg_config_reference(void);
/* The keys every check has (enabled, and input for a check with a source). */
const struct cg_config_map *cg_config_check_common(const struct cg_check_plugin *p);
/* A check's settings that come from elsewhere (a snapshot's manifest): validated exactly as the
 * configuration file's `checks.NAME` is (known keys, types, ranges, choices), and the defaults of
 * missing keys added. CG_ERR_CONFIG with a sentence beginning with `origin`. */
int cg_config_check_section(const struct cg_check_plugin *p, cJSON *section, const char *origin, char *err,
                            size_t errlen);
int cg_config_parse_set(const struct cg_config_map *map, const char *owner, const char *kv, char *key, size_t keylen,
                        cJSON **value, char *err, size_t errlen);

/* Fills a plugin context from a validated settings object using its map (strings and lists are
 * allocated; release them with cg_config_map_release). */
int cg_config_map_fill(const struct cg_config_map *map, const cJSON *obj, void *ctx);
void cg_config_map_release(const struct cg_config_map *map, void *ctx);

#endif
