/* No Service Control Manager on POSIX: the Debian package runs `cmgdiag run` from a systemd unit. */
#include "service.h"

static int windows_only(char *msg, size_t len) {
  cg_snprintf(msg, len,
              "the Windows service exists on Windows only; here run 'cmgdiag run' from systemd "
              "(or another supervisor)");
  return CG_ERR_UNSUPPORTED;
}

int cg_service_install(const char *exe, const char *config, char *msg, size_t len) {
  (void)exe;
  (void)config;
  return windows_only(msg, len);
}
int cg_service_uninstall(char *msg, size_t len) { return windows_only(msg, len); }
int cg_service_configure(char *msg, size_t len) { return windows_only(msg, len); }
int cg_service_start(char *msg, size_t len) { return windows_only(msg, len); }
int cg_service_stop(char *msg, size_t len) { return windows_only(msg, len); }
int cg_service_dispatch(int (*body)(void *), void *arg, char *msg, size_t len) {
  (void)body;
  (void)arg;
  return windows_only(msg, len);
}
void cg_eventlog(int type, const char *msg) {
  (void)type;
  (void)msg;
}
void cg_event_report(unsigned id, int type, const char *const *strings, size_t n) {
  (void)id;
  (void)type;
  (void)strings;
  (void)n;
}
