/* The settings of the configuration file as data (config.h): the core's keys, its sections and the
 * keys every check has. `config check` validates against them, `config reference` prints them
 * (docs/configuration.md). */
#include <stddef.h>

#include "config.h"

static const struct cg_config_map spool_map[] = {
    {CG_CFG_STRING, "dir", "null", "Folder for bundles waiting to be shipped (null: platform default)",
     offsetof(struct cg_config, spool.dir), 0, 0, NULL, NULL},
    {CG_CFG_INT, "max_bytes", "20971520", "Most bytes the spool may hold; the oldest bundles are dropped past it",
     offsetof(struct cg_config, spool.max_bytes), 65536, INT64_C(10737418240), NULL, NULL},
    {CG_CFG_INT, "max_files", "1000", "Most bundles the spool may hold", offsetof(struct cg_config, spool.max_files), 1,
     1000000, NULL, NULL},
    CG_CFG_END,
};

static const struct cg_config_map log_map[] = {
    {CG_CFG_STRING, "file", "null", "The agent's CMTrace-format log (null: platform default)",
     offsetof(struct cg_config, log.file), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "level", "\"info\"", "error, warning, info or debug", offsetof(struct cg_config, log.level), 0, 0,
     NULL, "error|warning|info|debug"},
    {CG_CFG_INT, "max_bytes", "250000", "Size at which the log rotates to .lo_ (like the ConfigMgr client)",
     offsetof(struct cg_config, log.max_bytes), 10000, INT64_C(1073741824), NULL, NULL},
    CG_CFG_END,
};

static const struct cg_config_map delivery_map[] = {
    {CG_CFG_INT, "gzip_level", "6", "zlib compression level of bundles (1 fastest .. 9 smallest)",
     offsetof(struct cg_config, delivery.gzip_level), 1, 9, NULL, NULL},
    {CG_CFG_INT, "retry_base_ms", "2000", "First retry waits up to this long; doubles per attempt (full jitter)",
     offsetof(struct cg_config, delivery.retry_base_ms), 1, 3600000, NULL, NULL},
    {CG_CFG_INT, "retry_cap_ms", "300000", "Longest wait between two attempts, also for Retry-After",
     offsetof(struct cg_config, delivery.retry_cap_ms), 1, 86400000, NULL, NULL},
    {CG_CFG_INT, "max_attempts", "4",
     "Attempts per bundle and output in one cycle before the output waits "
     "for the next cycle",
     offsetof(struct cg_config, delivery.max_attempts), 1, 100, NULL, NULL},
    {CG_CFG_INT, "drain_budget_s", "300", "Longest time one cycle (run, flush) spends shipping",
     offsetof(struct cg_config, delivery.drain_budget_s), 1, 86400, NULL, NULL},
    {CG_CFG_INT, "interactive_budget_s", "30", "Longest time selftest spends shipping",
     offsetof(struct cg_config, delivery.interactive_budget_s), 1, 3600, NULL, NULL},
    {CG_CFG_INT, "max_bundles", "1000", "Most bundles shipped in one cycle",
     offsetof(struct cg_config, delivery.max_bundles), 1, 1000000, NULL, NULL},
    CG_CFG_END,
};

static const struct cg_config_map served_map[] = {
    {CG_CFG_BOOL, "enabled", "true",
     "Let users who may not read this file run `cmgdiag selftest` through the running service (a local named pipe "
     "or Unix socket, never the network)",
     offsetof(struct cg_config, service_selftest.enabled), 0, 0, NULL, NULL},
    {CG_CFG_INT, "min_gap_s", "60", "Least time between two self-tests the service runs for users",
     offsetof(struct cg_config, service_selftest.min_gap_s), 0, 86400, NULL, NULL},
    {CG_CFG_INT, "user_min_gap_s", "120",
     "Least time between two self-tests the service runs for the same user (one user cannot take every turn)",
     offsetof(struct cg_config, service_selftest.user_min_gap_s), 0, 86400, NULL, NULL},
    CG_CFG_END,
};

static const struct cg_config_map core_map[] = {
    {CG_CFG_INT, "interval_s", "3600", "Seconds between two cycles of `run`", offsetof(struct cg_config, interval_s), 1,
     604800, NULL, NULL},
    {CG_CFG_INT, "heartbeat_s", "21600",
     "A scheduled cycle ships its bundle when the device's state changed, else at most this often (0: every cycle); "
     "self-tests and the gate always ship",
     offsetof(struct cg_config, heartbeat_s), 0, 604800, NULL, NULL},
    {CG_CFG_INT, "jitter_s", "600", "Random extra delay per cycle, so a fleet does not report at once",
     offsetof(struct cg_config, jitter_s), 0, 86400, NULL, NULL},
    {CG_CFG_INT, "start_delay_s", "120", "Longest random wait before the first cycle of `run` after a start",
     offsetof(struct cg_config, start_delay_s), 0, 86400, NULL, NULL},
    {CG_CFG_INT, "check_timeout_s", "120", "Deadline of one check in `run`: a check that hangs is left behind",
     offsetof(struct cg_config, check_timeout_s), 1, 3600, NULL, NULL},
    {CG_CFG_INT, "cycle_timeout_s", "900",
     "Deadline of one cycle's worker process in `run`: a worker that hangs or crashes is killed and the next bundle "
     "says so (AGENT_WORKER_CRASHED)",
     offsetof(struct cg_config, cycle_timeout_s), 10, 86400, NULL, NULL},
    {CG_CFG_INT, "network_debounce_s", "30",
     "After a network change, wait this long for it to settle, then run an extra cycle (0: no extra cycle)",
     offsetof(struct cg_config, network_debounce_s), 0, 3600, NULL, NULL},
    {CG_CFG_INT, "network_min_gap_s", "300", "Least time between two extra cycles for network changes",
     offsetof(struct cg_config, network_min_gap_s), 0, 86400, NULL, NULL},
    {CG_CFG_SECTION, "spool", NULL, "Where bundles wait while offline", 0, 0, 0, spool_map, NULL},
    {CG_CFG_SECTION, "log", NULL, "The agent's own log", 0, 0, 0, log_map, NULL},
    {CG_CFG_SECTION, "delivery", NULL, "How bundles are compressed and shipped", 0, 0, 0, delivery_map, NULL},
    {CG_CFG_SECTION, "service_selftest", NULL, "Self-tests for standard users, run by the service", 0, 0, 0, served_map,
     NULL},
    {CG_CFG_STRING, "state_dir", "null", "Where checks keep state between cycles (null: platform default)",
     offsetof(struct cg_config, state_dir), 0, 0, NULL, NULL},
    {CG_CFG_STRING, "unprivileged_user", "\"cmgdiag\"",
     "Linux: the account that parses what the network and a standard user send (the network checks, "
     "dsregcmd's output, the client logs, the uploads of the azblob and http outputs, a self-test "
     "request), in processes "
     "of their own without root's privilege (null: in the agent's process, as root); when it does not "
     "exist that runs in the agent's process. Windows: any name turns on the same workers with a "
     "restricted token of the service's own (no account is used), null turns them off",
     offsetof(struct cg_config, unprivileged_user), 0, 0, NULL, NULL},
    CG_CFG_END,
};

static const struct cg_config_map check_common[] = {
    {CG_CFG_BOOL, "enabled", "true", "Run this check in selftest and run", 0, 0, 0, NULL, NULL},
    CG_CFG_END,
};

/* A check with a source (plugin.h, captures): the core owns its `input` key. */
static const struct cg_config_map check_source_common[] = {
    {CG_CFG_BOOL, "enabled", "true", "Run this check in selftest and run", 0, 0, 0, NULL, NULL},
    {CG_CFG_STRING, "input", "null",
     "A capture (file or folder) taken on a device, read instead of this device (the check's page says which)", 0, 0, 0,
     NULL, NULL},
    CG_CFG_END,
};

const struct cg_config_map *cg_config_core_map(void) { return core_map; }

const struct cg_config_map *cg_config_check_common(const struct cg_check_plugin *p) {
  return p && p->source ? check_source_common : check_common;
}
