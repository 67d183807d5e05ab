/* The Windows service: Service Control Manager registration and entry point, and the Windows
 * Event Log. On POSIX these say "Windows only" (the Debian package has a systemd unit instead). */
#ifndef CG_PLATFORM_SERVICE_H
#define CG_PLATFORM_SERVICE_H

#include "cg.h"

#define CG_SERVICE_NAME "cmgdiag"

/* install: registers `exe service run [-c config]` as LocalSystem, delayed automatic start, restart
 * on failure, with a description. Each prints nothing; `msg` gets the sentence for the person. */
int cg_service_install(const char *exe, const char *config, char *msg, size_t len);
int cg_service_uninstall(char *msg, size_t len);
/* Delayed start, failure actions, description and Event Log source for an installed service (the
 * MSI installs it through its ServiceInstall table, which has no room for those). */
int cg_service_configure(char *msg, size_t len);
int cg_service_start(char *msg, size_t len);
int cg_service_stop(char *msg, size_t len);
/* Runs body(arg) as the service (StartServiceCtrlDispatcher): stop and shutdown raise the STOP
 * event, param-change the RELOAD event. CG_ERR_UNSUPPORTED when not started by the SCM. */
int cg_service_dispatch(int (*body)(void *), void *arg, char *msg, size_t len);
/* Windows Event Log (source "cmgdiag", Application log): 0 information, 1 warning, 2 error.
 * Event ID 1, 2 or 3 with msg as its text. No-op elsewhere. */
void cg_eventlog(int type, const char *msg);
/* An event whose text is message `id` of cmgdiag.exe's message file (packaging/windows/
 * cmgdiag-events.mc; docs/operations.md, "Events"), type 0 information, 1 warning, 2 error, with
 * `strings` as its insertions %1..%n. No-op elsewhere. */
void cg_event_report(unsigned id, int type, const char *const *strings, size_t n);

#endif
