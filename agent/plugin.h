/* Plugin descriptors. A plugin exports exactly one const descriptor; the registry (registry.c,
 * from the CMake-generated cg_plugins.h) lists them. Config keys are declared in a table that the
 * core uses to validate the JSON config and fill the plugin's context struct. */
#ifndef CG_PLUGIN_H
#define CG_PLUGIN_H

#include <cjson/cJSON.h>

#include "cg.h"
#include "result.h"

enum cg_cfg_type {
  CG_CFG_BOOL,     /* bool */
  CG_CFG_INT,      /* int64_t, within [min, max] */
  CG_CFG_STRING,   /* char *, NULL when the JSON value is null; owned by the core */
  CG_CFG_STRLIST,  /* struct cg_strlist; owned by the core */
  CG_CFG_SECTION,  /* nested object described by `sub`, filled at the same offset base */
};

struct cg_strlist {
  char **items;
  size_t count;
};

struct cg_config_map {
  enum cg_cfg_type type;
  const char *key;
  const char *def;  /* default as JSON text ("true", "15000", "null", "\"x\"", "[]") */
  const char *description;
  size_t offset;    /* into the context struct */
  int64_t min, max; /* CG_CFG_INT only; both 0 means any value */
  const struct cg_config_map *sub; /* CG_CFG_SECTION only */
  const char *choices; /* CG_CFG_STRING only: allowed values, "a|b|c" (case-insensitive) */
};
#define CG_CFG_END {.key = NULL}

#define CG_PLATFORM_POSIX 1u
#define CG_PLATFORM_WINDOWS 2u
#define CG_PLATFORM_ANY (CG_PLATFORM_POSIX | CG_PLATFORM_WINDOWS)

struct cg_config;
struct cg_log;

/* What a check can see of the agent while it runs (borrowed, valid during run). */
struct cg_env {
  const struct cg_config *config;
  struct cg_log *log;
  bool interactive;  /* a person ran `check` or `selftest` */
  cJSON *discovery;  /* per-run hand-over between checks (discovery.h); may be NULL */
};

struct cg_check_plugin {
  const char *name;        /* lower-case, [a-z0-9_] */
  const char *description; /* one line for `version` and --help */
  unsigned platforms;      /* CG_PLATFORM_*: where the live source exists */
  const struct cg_config_map *config_map; /* keys besides "enabled"; may be NULL */
  size_t ctx_size;         /* the context struct the map fills */
  /* Optional: prepare ctx after it was filled. CG_OK or a status; err holds a sentence. */
  int (*init)(void *ctx, const struct cg_env *env, char *err, size_t errlen);
  /* Run once, fill res (verdict, code, summary, remediation, facts). Must not fail for
   * "data source missing": that is a skip verdict. A non-CG_OK return becomes an `error` verdict. */
  int (*run)(void *ctx, const struct cg_env *env, struct cg_result *res);
  void (*fini)(void *ctx); /* optional: free what init/run allocated (not the filled keys) */
};

struct cg_output_plugin {
  const char *name;
  const char *description;
  unsigned platforms;
  const struct cg_config_map *config_map; /* keys besides "type" */
  size_t ctx_size;
  int (*init)(void *ctx, const struct cg_env *env, char *err, size_t errlen);
  /* Deliver one gzip-compressed bundle. `name` is the object name of CONTRACT.md. */
  int (*emit)(void *ctx, const struct cg_env *env, const char *name, const void *gz, size_t gz_len,
              char *err, size_t errlen);
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
