/* Daemon support on Windows: SRW locks and condition variables, an exclusively opened lock file,
 * console control events, and NotifyAddrChange for network changes. */
#include "runtime.h"

#include <winsock2.h>
#include <windows.h>
#include <iphlpapi.h>
#include <process.h>
#include <stdio.h>

#include "sys.h"
#include "utf_win32.h"

struct cg_mutex {
  SRWLOCK l;
  CONDITION_VARIABLE c;
};

struct cg_mutex *cg_mutex_new(void) {
  struct cg_mutex *m = cg_calloc(1, sizeof(*m));
  if (!m) return NULL;
  InitializeSRWLock(&m->l);
  InitializeConditionVariable(&m->c);
  return m;
}

void cg_mutex_free(struct cg_mutex *m) { cg_free(m); }
void cg_mutex_lock(struct cg_mutex *m) { AcquireSRWLockExclusive(&m->l); }
void cg_mutex_unlock(struct cg_mutex *m) { ReleaseSRWLockExclusive(&m->l); }
void cg_mutex_broadcast(struct cg_mutex *m) { WakeAllConditionVariable(&m->c); }
void cg_mutex_wait(struct cg_mutex *m, int64_t ms) {
  SleepConditionVariableSRW(&m->c, &m->l, ms > 0 ? (DWORD)ms : 0, 0);
}

struct trampoline {
  void (*fn)(void *);
  void *arg;
};

static unsigned __stdcall thread_main(void *p) {
  struct trampoline t = *(struct trampoline *)p;
  cg_free(p);
  t.fn(t.arg);
  return 0;
}

int cg_thread_start(void (*fn)(void *), void *arg) {
  struct trampoline *t = cg_malloc(sizeof(*t));
  if (!t) return CG_ERR_NOMEM;
  t->fn = fn;
  t->arg = arg;
  uintptr_t h = _beginthreadex(NULL, 0, thread_main, t, 0, NULL);
  if (!h) {
    cg_free(t);
    return CG_ERR_INTERNAL;
  }
  CloseHandle((HANDLE)h); /* detached */
  return CG_OK;
}

int cg_instance_lock(const char *path, char *err, size_t errlen) {
  wchar_t *w = cg_utf8_to_wide(path);
  if (!w) return CG_ERR_NOMEM;
  /* no sharing: a second open fails until this process ends (the handle dies with it) */
  HANDLE h =
      CreateFileW(w, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  DWORD e = GetLastError();
  cg_free(w);
  if (h == INVALID_HANDLE_VALUE) {
    if (e == ERROR_SHARING_VIOLATION) {
      cg_snprintf(err, errlen, "another cmgdiag agent is running (it holds %s)", path);
      return CG_ERR_BUSY;
    }
    char msg[256];
    cg_win32_error_text(e, msg, sizeof(msg));
    cg_snprintf(err, errlen, "cannot open the lock file %s: %s", path, msg);
    return CG_ERR_IO;
  }
  char buf[32];
  DWORD n = 0;
  int l = snprintf(buf, sizeof(buf), "%lu\r\n", cg_process_id());
  SetEndOfFile(h);
  WriteFile(h, buf, (DWORD)l, &n, NULL);
  return CG_OK; /* the handle stays open for the life of the process */
}

static HANDLE ev_stop, ev_reload, ev_net;
static volatile LONG stop_flag;
static OVERLAPPED net_ov;
static HANDLE net_handle;

static BOOL WINAPI on_console(DWORD type) {
  (void)type;
  cg_events_raise(CG_WAKE_STOP);
  return TRUE;
}

static void watch_network(void) {
  memset(&net_ov, 0, sizeof(net_ov));
  net_ov.hEvent = ev_net;
  net_handle = NULL;
  NotifyAddrChange(&net_handle, &net_ov); /* ERROR_IO_PENDING: armed */
}

int cg_events_init(void) {
  if (!ev_stop) {
    ev_stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    ev_reload = CreateEventW(NULL, FALSE, FALSE, NULL);
    ev_net = CreateEventW(NULL, FALSE, FALSE, NULL);
    if (!ev_stop || !ev_reload || !ev_net) return CG_ERR_INTERNAL;
    watch_network();
  }
  SetConsoleCtrlHandler(on_console, TRUE);
  return CG_OK;
}

void cg_events_raise(enum cg_wake w) {
  if (w == CG_WAKE_STOP) {
    InterlockedExchange(&stop_flag, 1);
    if (ev_stop) SetEvent(ev_stop);
  } else if (w == CG_WAKE_RELOAD && ev_reload) {
    SetEvent(ev_reload);
  } else if (w == CG_WAKE_NETWORK && ev_net) {
    SetEvent(ev_net);
  }
}

bool cg_stop_requested(void) { return InterlockedCompareExchange(&stop_flag, 0, 0) != 0; }

enum cg_wake cg_events_wait(int64_t ms) {
  HANDLE hs[3] = {ev_stop, ev_reload, ev_net};
  if (cg_stop_requested()) return CG_WAKE_STOP;
  DWORD r = WaitForMultipleObjects(3, hs, FALSE, ms > 0 ? (DWORD)(ms > 0x7ffffffe ? 0x7ffffffe : ms) : 0);
  if (r == WAIT_OBJECT_0) return CG_WAKE_STOP;
  if (r == WAIT_OBJECT_0 + 1) return CG_WAKE_RELOAD;
  if (r == WAIT_OBJECT_0 + 2) {
    watch_network(); /* re-arm for the next change */
    return CG_WAKE_NETWORK;
  }
  return CG_WAKE_TIMEOUT;
}
