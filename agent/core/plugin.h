/* Plugin descriptors. A plugin exports exactly one const descriptor; the registry (registry.c,
 * from the CMake-generated cg_plugins.h) lists them. Config keys are declared in a table that the
 * core uses to validate the JSON config and fill the plugin's context struct. */
#ifndef CG_PLUGIN_H
#define CG_PLUGIN_H

#include <cjson/cJSON.h>

#include "cg.h"
#include "result.h"

enum cg_cfg_type {
  CG_CFG_BOOL,    /* bool */
  CG_CFG_INT,     /* int64_t, within [min, max] */
  CG_CFG_STRING,  /* char *, NULL when the JSON value is null; owned by the core */
  CG_CFG_STRLIST, /* struct cg_strlist; owned by the core */
  CG_CFG_SECTION, /* nested object described by `sub`, filled at the same offset base */
  CG_CFG_OBJLIST, /* list of objects, each described by `sub` (offsets into one element; `max`
                     holds the element's size): struct cg_objlist, owned by the core */
};

struct cg_objlist {
  void *items; /* count elements of elem_size bytes */
  size_t count;
};

struct cg_strlist {
  char **items;
  size_t count;
};

struct cg_config_map {
  enum cg_cfg_type type;
  const char *key;
  const char *def; /* default as JSON text ("true", "15000", "null", "\"x\"", "[]") */
  const char *description;
  size_t offset;                   /* into the context struct */
  int64_t min, max;                /* CG_CFG_INT only; both 0 means any value */
  const struct cg_config_map *sub; /* CG_CFG_SECTION only */
  const char *choices;             /* CG_CFG_STRING only: allowed values, "a|b|c" (case-insensitive) */
};

/* What a setting must mean, beyond its JSON type (net/meaning.h has the common ones: an https URL,
 * a SAS that can upload, a program's full path). The core calls it for a non-null value when the
 * configuration loads; false refuses the configuration with `why`, which names the fix. */
struct cg_setting_meaning {
  const char *key; /* "url"; "commands.argv": the key of each element of a list of objects */
  bool (*check)(const cJSON *value, char *why, size_t whylen);
};
#define CG_CFG_END                                                                                                     \
  { .key = NULL }

#define CG_PLATFORM_POSIX 1u
#define CG_PLATFORM_WINDOWS 2u
#define CG_PLATFORM_ANY (CG_PLATFORM_POSIX | CG_PLATFORM_WINDOWS)

struct cg_config;
struct cg_log;

/* What the agent answers a judging half's request (cg_ask_agent): its own words on how the request
 * went (facts: never the network's bytes parsed), and the answer's bytes unparsed, size-capped. */
struct cg_agent_answer {
  cJSON *facts; /* owned */
  char *bytes;  /* owned, NUL-terminated after len; NULL when none */
  size_t len;
};
#define CG_AGENT_ANSWER_MAX (4u << 20) /* the bytes of one answer */
#define CG_AGENT_ASK_MAX 16384         /* a request's line, from the worker */
/* A request the agent makes for a check (plugin.h, cg_collect_allow): `prepared` is what the collect
 * half fixed (it never leaves the agent's process), `asked` what the judging half chose, which the
 * function bounds; it takes at most left_ms. CG_OK with *out filled, or a status. */
typedef int (*cg_agent_request_fn)(const cJSON *prepared, const cJSON *asked, int64_t left_ms,
                                   struct cg_agent_answer *out);

/* What a check can see of the agent while it runs (borrowed, valid during run). */
struct cg_env {
  const struct cg_config *config;
  struct cg_log *log;
  bool interactive; /* a person ran `check` or `selftest` */
  cJSON *discovery; /* per-run hand-over between checks (discovery.h); may be NULL */
  /* Why this run: "schedule", "network_change", "once", "selftest", "validate", "check"; NULL is
   * "check". Checks that put load on the site do less on "schedule" (cmgprobe). */
  const char *trigger;
  /* The capture the core is reading for this check instead of the device (`--input`, the check's
   * `input` key), or NULL when the check reads the device itself (its live reader). */
  const char *input;
  /* A capture that stands for the whole device (`check NAME --input PATH`): every check of the run
   * that declares a source reads it, so a check's providers judge the same capture it does, and a
   * provider without a source is not run (it would read this machine instead). NULL: none. */
  const char *snapshot;
  /* `cmgdiag collect` (docs/checks/captures.md, "Snapshots"): set by the runner for a check with a
   * source that reads the device; the check hands it what it read, as a file its own source reads
   * back ("dsreg.txt": the dsregcmd output), under its own name (`check`) and a plain file name.
   * NULL when nothing is collected. CG_OK, or why the file was not written (logged already). */
  int (*capture_put)(const struct cg_env *env, const char *check, const char *name, const void *data, size_t len);
  const char *collect_dir; /* the snapshot's folder (capture_put's) */
  /* A check's `collect` (below): hands what it read to its own `run`, in the formats its source reads
   * (the runner keeps it in memory: env->collected). capture_put is then the snapshot's writer alone,
   * or NULL when no snapshot is collected. CG_OK, or CG_ERR_TOOBIG past what a collection holds. */
  int (*judge_put)(const struct cg_env *env, const char *name, const void *data, size_t len);
  void *capture_user; /* judge_put's own state (the runner's) */
  /* What the agent read from this device for this run with its privilege (the check's `collect`,
   * below), for `run` to judge in place of reading the device: set by the runner, in the worker
   * without privilege where there is one. NULL: the check reads nothing collected. */
  const struct cg_collected *collected;
  /* Requests the agent makes for a check's judging half, with its privilege (docs/security.md,
   * "Requests to the agent"): the collect half allows each one (cg_collect_allow, through `allow`,
   * whose state is capture_user), the judging half asks for it (cg_ask_agent, through `ask`, whose
   * state is ask_user), in the worker over its pipes. Set by the runner; NULL: none in this run. */
  int (*allow)(const struct cg_env *env, const char *name, cg_agent_request_fn fn, const cJSON *prepared);
  int (*ask)(const struct cg_env *env, const char *name, const cJSON *asked, int64_t left_ms,
             struct cg_agent_answer *out);
  void *ask_user;
  /* The network checks' process without privilege in this run (pipeline/worker.h): the account it
   * runs as, or NULL and why not in worker_off ("no local account named cmgdiag", "not on Windows
   * yet", ...). Set by the runner; the agent check reports it. */
  const char *worker_account;
  const char *worker_off;
  /* When that capture was taken (RFC 3339, from captured-at.txt beside it; docs/checks/captures.md), or
   * NULL: a check that judges ages or dates judges them as of this time, not now, and says so in
   * facts.judged_as_of. */
  const char *captured_at;
  /* Progress for a person watching (selftest on a console), or NULL: called by the runner before a
   * check starts (res NULL) and when it has its result. */
  void (*progress)(void *user, const char *check, const struct cg_result *res);
  void *progress_user;
};

/* ---- captures (the core-owned source) ----------------------------------------------------------
 * A check that can judge a capture taken on another device declares a source. The core then owns
 * the check's `input` key and `--input`: it tells a file from a folder, reads the files (regular
 * files only, sorted by name, at most `max_files`, each at most `max_bytes`), hands each one to
 * `parse`, lists what it read in facts.input, sets facts.source to "input", and makes the error
 * results every check shares (docs/checks/captures.md):
 *   <PREFIX>_INPUT_UNREADABLE  the path does not exist, cannot be read, or is of the wrong kind
 *   <PREFIX>_INPUT_TOO_LARGE   a single file given is larger than `max_bytes`
 *   <PREFIX>_UNPARSEABLE       no file is a capture this check reads (the first file's reason)
 * When at least one file was parsed, `run` is called with env->input set; it judges what `parse`
 * kept in ctx (working state in C structures) and writes its facts once. */
#define CG_SOURCE_FILE 1u
#define CG_SOURCE_FOLDER 2u

struct cg_capture_file {
  const char *path; /* as the core opened it */
  const char *name; /* the file name alone */
  const char *data; /* its bytes, NUL-terminated after len; NULL when max_bytes is 0 */
  size_t len;
};

/* Captures a check's `collect` read on this device for this run (plugin.h, cg_env.collected). */
struct cg_collected {
  const struct cg_capture_file *files; /* path is the name; data NUL-terminated after len */
  size_t count;
  bool as_system; /* read by SYSTEM (Windows) or root: the agent's service, not a person */
};

/* The collected capture named `name`, or NULL. */
const struct cg_capture_file *cg_collected_file(const struct cg_env *env, const char *name);

struct cg_source;
struct cg_result;
/* For a check's `collect`: hands a capture to its own judging half (env->judge_put) and, when a
 * snapshot is collected, writes it there too (env->capture_put, in the check's folder). The
 * judge_put's status. */
int cg_collect_put(const struct cg_env *env, const char *check, const char *name, const void *data, size_t len);
/* The same for registry values read live (regfile.h's shape: key -> value -> data), as the export
 * `registry.reg`; nothing when there are none. CG_OK, CG_ERR_NOMEM, or the judge_put's status. */
int cg_collect_put_registry(const struct cg_env *env, const char *check, const cJSON *keys);
/* For a check's judging half: every collected capture through the check's own capture parser (its
 * source's `parse`), as a capture folder's files are, but those named in `other` (NULL-terminated,
 * may be NULL: what collect handed over that is no capture, which the check reads itself). CG_OK with res->code NULL
 * when all were read; CG_OK with res set to an `error` <PREFIX>_UNPARSEABLE naming the file when one cannot be read
 * back
 * (`what`: "this device's network settings"; a fault of cmgdiag's, which wrote it); CG_ERR_INTERNAL
 * when nothing was collected (the runner always collects first); CG_ERR_NOMEM. */
int cg_judge_collected(void *ctx, const struct cg_env *env, const struct cg_source *src, const char *const *other,
                       const char *what, struct cg_result *res);
/* For a check's `collect`: allows its judging half to ask the agent, once in this run, for the request
 * named `name` (at most 1,200 bytes), which the agent makes with `fn` on `prepared` (copied) and its
 * own privilege (the machine's key). CG_OK; CG_ERR_UNSUPPORTED when the run takes no requests (a
 * snapshot is judged); CG_ERR_TOOBIG past 8 in a run. */
int cg_collect_allow(const struct cg_env *env, const char *name, cg_agent_request_fn fn, const cJSON *prepared);
/* For a check's judging half: asks the agent for the request its collect half allowed under `name`,
 * with what it chose (`asked`, may be NULL), within left_ms. CG_OK with *out filled (free it with
 * cg_agent_answer_free); CG_ERR_UNSUPPORTED when this run takes no requests; CG_ERR_ACCESS when it was
 * not allowed or was asked already; the request's own status otherwise. */
int cg_ask_agent(const struct cg_env *env, const char *name, const cJSON *asked, int64_t left_ms,
                 struct cg_agent_answer *out);
void cg_agent_answer_free(struct cg_agent_answer *a);

struct cg_source {
  unsigned accepts;            /* CG_SOURCE_FILE and/or CG_SOURCE_FOLDER */
  const char *const *suffixes; /* in a folder, the file name endings read (case-insensitive); NULL: all */
  size_t max_bytes;            /* per file; 0: the core does not read, `parse` gets the path (a log) */
  size_t max_files;            /* in a folder; 0 means 64 */
  const char *code_prefix;     /* "AAD" gives AAD_INPUT_UNREADABLE, ... */
  const char *what;            /* what the capture is, for summaries: "a dsregcmd /status output" */
  const char *how;             /* remediation: how to take the capture on the device */
  /* One file. CG_OK: used; CG_ERR_PARSE: not a capture this check reads (err says what was seen);
   * any other status: this file cannot be used (listed with err, or the status); only CG_ERR_NOMEM
   * stops the check. */
  int (*parse)(void *ctx, const struct cg_env *env, const struct cg_capture_file *f, char *err, size_t errlen);
  /* Read only as this check's own capture (`check NAME --input`, its folder of a snapshot): on
   * another check's capture folder it is not run as a provider (cmgprobe's transcript). */
  bool snapshot_only;
};

/* A value of the bundle's `device` object that a check's facts carry (bundle.c lifts it). */
struct cg_device_fact {
  const char *device_key; /* "tenant_id" */
  const char *fact;       /* a top-level key of the check's facts */
};

/* A setting an admin gives outside the configuration file: a Group Policy value (REG_SZ) under
 * HKLM\\SOFTWARE\\Policies\\cmgdiag, which `cmgdiag setup` also writes (--cmg-url is CmgUrl,
 * --sas-url-file is SasUrl). For a check it sets checks.NAME.KEY; for an output it makes the
 * outputs list this one output with KEY set. */
struct cg_policy_value {
  const char *policy; /* the registry value: "CmgUrl" */
  const char *key;    /* the config key it sets: "url" */
};

struct cg_check_plugin {
  const char *name;                          /* lower-case, [a-z0-9_] */
  const char *description;                   /* one line for `version` and --help */
  unsigned platforms;                        /* CG_PLATFORM_*: where the live source exists */
  const struct cg_config_map *config_map;    /* keys besides "enabled"; may be NULL */
  const struct cg_setting_meaning *meanings; /* optional, {NULL}-terminated */
  /* Hand-over keys (discovery.h) this check reads and publishes, NULL-terminated (or NULL). The
   * runner runs a provider before the checks that need its key, adds it when --only left it out,
   * and says in the facts (`handover_missing`) when a need cannot be met. */
  const char *const *needs;
  const char *const *provides;
  /* It needs nothing but the network and its own settings (the files they name are read for it):
   * where the platform has one, it runs in the unprivileged worker, a process of its own without the
   * agent's privilege (pipeline/worker.h, docs/security.md "Privilege separation"). */
  /* Optional, {NULL}-terminated: settings of other checks its judging reads, as "CHECK.KEY" (aadjoin:
   * "clientauth.mode"). A worker gets exactly those besides its own (pipeline/worker.h), never the
   * rest of the configuration. */
  const char *const *other_settings;
  bool unprivileged;
  size_t ctx_size;                             /* the context struct the map fills */
  const struct cg_source *source;              /* optional: captures this check can read (above) */
  const struct cg_device_fact *device_facts;   /* optional, {NULL}-terminated */
  const struct cg_policy_value *policy_values; /* optional, {NULL}-terminated */
  /* Optional: prepare ctx after it was filled. CG_OK or a status; err holds a sentence. */
  int (*init)(void *ctx, const struct cg_env *env, char *err, size_t errlen);
  /* Optional: the half of run that reads the device (docs/security.md, "Privilege separation"). It
   * runs with the agent's privilege, parses nothing, and hands what it read to env->judge_put (and,
   * collecting a snapshot, to env->capture_put); its facts say how it read (the program, its exit
   * code). CG_OK
   * with *decided false: `run` then judges those captures (env->collected), in the worker without
   * privilege where there is one; *decided true: res holds the verdict already (the device could
   * not be read: no dsregcmd, a timeout). A check with `collect` never reads the device in `run`. */
  int (*collect)(void *ctx, const struct cg_env *env, struct cg_result *res, bool *decided);
  /* Run once, fill res (verdict, code, summary, remediation, facts). Must not fail for
   * "data source missing": that is a skip verdict. A non-CG_OK return becomes an `error` verdict. */
  int (*run)(void *ctx, const struct cg_env *env, struct cg_result *res);
  /* Optional: free what init, parse and run allocated (not the filled keys). Called once init was
   * called, also when init failed, so it frees what is there. */
  void (*fini)(void *ctx);
};

/* One bundle handed to an output. All borrowed for the duration of emit. */
struct cg_emit_req {
  const char *name;       /* object name (docs/shipping.md "Outputs"): yyyy/mm/dd/hostname/bundle_id.json.gz */
  const char *bundle_id;  /* also the idempotency key */
  const char *hostname;   /* path-safe */
  const char *created_at; /* RFC 3339 UTC */
  const void *gz;
  size_t gz_len;
};

/* What happened, decided by the output; the delivery loop acts on it (ship.c). */
enum cg_emit_outcome {
  CG_EMIT_DELIVERED = 0, /* stored now */
  CG_EMIT_ALREADY,       /* the collection point already had it (an earlier attempt got through) */
  CG_EMIT_RETRY,         /* transient: network, timeout, 408, 429, 5xx; retry with backoff */
  CG_EMIT_DOWN,          /* this output cannot work now (auth, permission, missing container, TLS
                            trust): no retry this cycle, the bundles wait in the spool */
  CG_EMIT_REJECTED,      /* this bundle will never be accepted (400, 413, ...): give it up for
                            this output */
};

struct cg_emit_result {
  enum cg_emit_outcome outcome;
  long http_status;       /* 0 when there was no HTTP answer */
  int64_t retry_after_ms; /* from Retry-After, -1 when none */
  char error[768];        /* a sentence for the log and the admin; never a secret */
};

struct cg_output_plugin {
  const char *name;
  const char *description;
  unsigned platforms;
  const struct cg_config_map *config_map;    /* keys besides "type" */
  const struct cg_setting_meaning *meanings; /* optional, {NULL}-terminated */
  size_t ctx_size;
  /* The config key naming where bundles go ("sas_url", "url", "dir"): with its query string cut
   * off it identifies the output in the spool's delivery marks, so rotating a SAS keeps them. */
  const char *target_key;
  const struct cg_policy_value *policy_values; /* optional, {NULL}-terminated */
  /* It needs nothing but the network and its own settings (the files they name, the secrets of its
   * `*_env` keys, handed over): where the platform has a worker, its uploads, and so its parsing of the
   * collection point's answers, run in a process without privilege (pipeline/emit_worker.h). */
  bool unprivileged;
  int (*init)(void *ctx, const struct cg_env *env, char *err, size_t errlen);
  /* Deliver one gzip-compressed bundle; always fills res. Keep connections in ctx for reuse. */
  void (*emit)(void *ctx, const struct cg_env *env, const struct cg_emit_req *req, struct cg_emit_result *res);
  void (*fini)(void *ctx);
};

/* Registry (registry.c). Lists are NULL-terminated and static. */
const struct cg_check_plugin *const *cg_registry_checks(void);
const struct cg_output_plugin *const *cg_registry_outputs(void);
const struct cg_check_plugin *cg_registry_find_check(const char *name);
const struct cg_output_plugin *cg_registry_find_output(const char *name);
/* The compiled-in plugins as a JSON list: check names, then "output:NAME" (caller deletes). */
cJSON *cg_registry_plugins_json(void);
/* Closest known check name to `name` (for "did you mean"), or NULL. */
const char *cg_registry_suggest_check(const char *name);

#endif
