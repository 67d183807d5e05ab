/* Device state on Linux: power from sysfs; no Windows services, no network cost. */
#include "device.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool read_line(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return false;
  bool ok = fgets(buf, (int)len, f) != NULL;
  fclose(f);
  if (ok) buf[strcspn(buf, "\r\n")] = '\0';
  return ok;
}

int cg_power_status(int *on_ac, int *battery_percent) {
  *on_ac = -1;
  *battery_percent = -1;
  const char *root = getenv("CMGDIAG_POWER_SUPPLY_DIR"); /* tests: a copy of /sys/class/power_supply */
  if (!root) root = "/sys/class/power_supply";
  DIR *d = opendir(root);
  if (!d) return CG_OK;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    char p[512], type[32], v[32];
    cg_snprintf(p, sizeof(p), "%s/%s/type", root, e->d_name);
    if (!read_line(p, type, sizeof(type))) continue;
    if (!strcmp(type, "Mains")) {
      cg_snprintf(p, sizeof(p), "%s/%s/online", root, e->d_name);
      if (read_line(p, v, sizeof(v))) *on_ac = (*on_ac == 1 || !strcmp(v, "1")) ? 1 : 0;
    } else if (!strcmp(type, "Battery")) {
      int64_t cap;
      cg_snprintf(p, sizeof(p), "%s/%s/capacity", root, e->d_name);
      if (read_line(p, v, sizeof(v)) && cg_parse_i64(v, &cap) && cap >= 0 && cap <= 100) *battery_percent = (int)cap;
    }
  }
  closedir(d);
  return CG_OK;
}

int cg_network_metered(int *roaming) {
  if (roaming) *roaming = -1;
  return -1;
}

int cg_service_running(const char *name, bool *running) {
  (void)name;
  *running = false;
  return CG_ERR_UNSUPPORTED;
}

char *cg_system_volume(void) { return cg_strdup("/"); }
