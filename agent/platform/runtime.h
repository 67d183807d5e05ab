/* What the periodic agent needs from the platform: threads for per-check deadlines, one instance
 * at a time, and the events that wake it (stop, reload, network change). */
#ifndef CG_PLATFORM_RUNTIME_H
#define CG_PLATFORM_RUNTIME_H

#include "cg.h"

/* ---- threads ---------------------------------------------------------------------------------- */
struct cg_mutex;
struct cg_mutex *cg_mutex_new(void);
void cg_mutex_free(struct cg_mutex *m);
void cg_mutex_lock(struct cg_mutex *m);
void cg_mutex_unlock(struct cg_mutex *m);
/* Waits on the mutex's condition until signalled or `ms` passed; the mutex is held on entry and exit. */
void cg_mutex_wait(struct cg_mutex *m, int64_t ms);
void cg_mutex_broadcast(struct cg_mutex *m);
/* Starts a detached thread. */
int cg_thread_start(void (*fn)(void *), void *arg);

/* ---- single instance ---------------------------------------------------------------------------- */
/* Takes an exclusive lock on `path` for the life of the process. The operating system releases it
 * when the process ends, also by a crash or kill -9, so nothing needs cleaning up by hand.
 * CG_ERR_BUSY when another process holds it (err names it). */
int cg_instance_lock(const char *path, char *err, size_t errlen);

/* ---- events ------------------------------------------------------------------------------------- */
enum cg_wake { CG_WAKE_TIMEOUT = 0, CG_WAKE_STOP, CG_WAKE_RELOAD, CG_WAKE_NETWORK };
/* Installs the handlers: SIGTERM/SIGINT stop, SIGHUP reload (POSIX); Ctrl+C/close stop (Windows
 * console); and starts watching the network (Windows: NotifyAddrChange; POSIX: the interface
 * addresses, compared every few seconds while waiting). */
int cg_events_init(void);
/* Waits up to `ms` for an event. STOP stays pending once it happened (every later wait returns it). */
enum cg_wake cg_events_wait(int64_t ms);
/* Raises an event from this process (the Windows service control handler). */
void cg_events_raise(enum cg_wake w);
/* Cheap check for long operations (curl progress callbacks): has a stop been asked for? */
bool cg_stop_requested(void);

#endif
