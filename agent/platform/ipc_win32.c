/* The service's self-test channel on Windows (see ipc.h): a named pipe that rejects remote clients,
 * an instance per client (at most CG_IPC_INSTANCES), the first created with
 * FILE_FLAG_FIRST_PIPE_INSTANCE (a pipe of that name made earlier by someone else stops the service
 * from serving, it never joins it); one instance always waits, so the name never lapses.
 * Synchronous handles, so that a worker can write its output to the pipe like to any file; reads
 * wait with PeekNamedPipe. */
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <string.h>

#include "ipc.h"
#include "sys.h"
#include "utf_win32.h"

#define DEFAULT_ENDPOINT "\\\\.\\pipe\\cmgdiag-selftest"
/* owner Administrators; full control for SYSTEM and Administrators; read and write for the users
 * logged on interactively (console, Remote Desktop); no one else, and never from the network */
#define PIPE_SDDL L"O:BAG:SYD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;IU)"

struct cg_ipc_server {
  HANDLE pipe; /* the instance waiting for the next client; INVALID_HANDLE_VALUE: none yet */
  wchar_t *name;
};

struct cg_ipc_conn {
  HANDLE h;
  bool server_side; /* the server's pipe handle: disconnected, not closed, at hang-up */
  unsigned long pid;
};

char *cg_ipc_endpoint(void) {
  char *e = cg_getenv("CMGDIAG_SELFTEST_ENDPOINT");
  if (e && *e) return e;
  cg_free(e);
  return cg_strdup(DEFAULT_ENDPOINT);
}

static void say(char *err, size_t errlen, const char *what, const char *endpoint, DWORD code) {
  char t[200];
  cg_win32_error_text(code, t, sizeof(t));
  cg_snprintf(err, errlen, "%s %s: %s", what, endpoint, t);
}

static HANDLE instance(const wchar_t *name, bool first, DWORD *e) {
  PSECURITY_DESCRIPTOR sd = NULL;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(PIPE_SDDL, SDDL_REVISION_1, &sd, NULL)) {
    *e = GetLastError();
    return INVALID_HANDLE_VALUE;
  }
  SECURITY_ATTRIBUTES sa = {sizeof(sa), sd, FALSE};
  HANDLE h = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
                              PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                              CG_IPC_INSTANCES, 65536, 4096, 0, &sa);
  *e = GetLastError();
  LocalFree(sd);
  return h;
}

int cg_ipc_listen(const char *endpoint, struct cg_ipc_server **out, char *err, size_t errlen) {
  wchar_t *name = cg_utf8_to_wide(endpoint);
  DWORD e = 0;
  HANDLE h = name ? instance(name, true, &e) : INVALID_HANDLE_VALUE;
  if (!name) {
    cg_snprintf(err, errlen, "cannot make the self-test channel's name");
    return CG_ERR_NOMEM;
  }
  if (h == INVALID_HANDLE_VALUE) {
    cg_free(name);
    say(err, errlen, "cannot open the self-test channel", endpoint, e);
    if (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY)
      cg_snprintf(err, errlen,
                  "the pipe %s already exists (another agent, or a process that should not have it); "
                  "self-tests are not served",
                  endpoint);
    return e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY ? CG_ERR_BUSY : CG_ERR_IO;
  }
  struct cg_ipc_server *s = cg_calloc(1, sizeof(*s));
  if (!s) {
    CloseHandle(h);
    cg_free(name);
    return CG_ERR_NOMEM;
  }
  s->pipe = h;
  s->name = name;
  *out = s;
  return CG_OK;
}

int cg_ipc_accept(struct cg_ipc_server *s, int64_t ms, struct cg_ipc_conn **out, char *err, size_t errlen) {
  DWORD e = 0;
  if (s->pipe == INVALID_HANDLE_VALUE && (s->pipe = instance(s->name, false, &e)) == INVALID_HANDLE_VALUE) {
    /* every instance is in use: the clients being served end within their deadlines */
    Sleep((DWORD)(ms > 0 && ms < 1000 ? ms : 500));
    return CG_ERR_TIMEOUT;
  }
  /* a synchronous pipe waits until a client comes */
  if (!ConnectNamedPipe(s->pipe, NULL) && GetLastError() != ERROR_PIPE_CONNECTED) {
    say(err, errlen, "self-test channel", "", GetLastError());
    DisconnectNamedPipe(s->pipe);
    return CG_ERR_IO;
  }
  struct cg_ipc_conn *c = cg_calloc(1, sizeof(*c));
  if (!c) {
    DisconnectNamedPipe(s->pipe);
    return CG_ERR_NOMEM;
  }
  c->h = s->pipe;
  c->server_side = true;
  ULONG pid = 0;
  if (GetNamedPipeClientProcessId(c->h, &pid)) c->pid = pid;
  s->pipe = instance(s->name, false, &e); /* the next client's, before this one is served */
  *out = c;
  return CG_OK;
}

void cg_ipc_hangup(struct cg_ipc_server *s, struct cg_ipc_conn *c) {
  (void)s;
  if (!c) return;
  /* closed, not disconnected: DisconnectNamedPipe would discard what the client has not read yet
   * (a refusal sent at once); each instance is this connection's alone */
  CloseHandle(c->h);
  cg_free(c);
}

void cg_ipc_server_close(struct cg_ipc_server *s) {
  if (!s) return;
  if (s->pipe != INVALID_HANDLE_VALUE) CloseHandle(s->pipe);
  cg_free(s->name);
  cg_free(s);
}

/* The pipe's owner must be SYSTEM or Administrators: only the service can have made it so. */
static bool owned_by_admins(HANDLE h) {
  PSID owner = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  if (GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION, &owner, NULL, NULL, NULL, &sd) != ERROR_SUCCESS)
    return false;
  bool ok = owner && (IsWellKnownSid(owner, WinLocalSystemSid) || IsWellKnownSid(owner, WinBuiltinAdministratorsSid));
  LocalFree(sd);
  return ok;
}

int cg_ipc_connect(const char *endpoint, struct cg_ipc_conn **out, char *err, size_t errlen) {
  wchar_t *name = cg_utf8_to_wide(endpoint);
  if (!name) return CG_ERR_NOMEM;
  HANDLE h = INVALID_HANDLE_VALUE;
  DWORD e = 0;
  int64_t end = cg_time_mono_ms() + CG_IPC_CONNECT_MS;
  for (;;) {
    /* identification only: the other end cannot act as this user */
    h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                    SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    e = h == INVALID_HANDLE_VALUE ? GetLastError() : 0;
    int64_t left = end - cg_time_mono_ms();
    if (e != ERROR_PIPE_BUSY || left <= 0) break;
    WaitNamedPipeW(name, (DWORD)(left < 1000 ? left : 1000)); /* every instance busy: at most 10 s in all */
  }
  cg_free(name);
  if (h == INVALID_HANDLE_VALUE) {
    say(err, errlen, "cannot reach", endpoint, e);
    return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? CG_ERR_NOTFOUND
           : e == ERROR_PIPE_BUSY                                 ? CG_ERR_BUSY
           : e == ERROR_ACCESS_DENIED                             ? CG_ERR_ACCESS
                                                                  : CG_ERR_IO;
  }
  if (!owned_by_admins(h)) {
    CloseHandle(h);
    cg_snprintf(err, errlen, "%s is not owned by SYSTEM or Administrators, so it is not the service's; it was not used",
                endpoint);
    return CG_ERR_ACCESS;
  }
  struct cg_ipc_conn *c = cg_calloc(1, sizeof(*c));
  if (!c) {
    CloseHandle(h);
    return CG_ERR_NOMEM;
  }
  c->h = h;
  ULONG pid = 0;
  if (GetNamedPipeServerProcessId(h, &pid)) c->pid = pid;
  *out = c;
  return CG_OK;
}

long cg_ipc_read(struct cg_ipc_conn *c, void *buf, size_t len, int64_t ms) {
  int64_t end = cg_time_mono_ms() + (ms > 0 ? ms : 0);
  for (;;) {
    DWORD avail = 0;
    if (!PeekNamedPipe(c->h, NULL, 0, NULL, &avail, NULL)) {
      DWORD e = GetLastError();
      return e == ERROR_BROKEN_PIPE || e == ERROR_PIPE_NOT_CONNECTED ? 0 : -2;
    }
    if (avail) {
      DWORD want = avail < len ? avail : (DWORD)(len > 0x10000000 ? 0x10000000 : len), got = 0;
      if (!ReadFile(c->h, buf, want, &got, NULL)) return GetLastError() == ERROR_BROKEN_PIPE ? 0 : -2;
      return (long)got;
    }
    if (cg_time_mono_ms() >= end) return -1;
    Sleep(20);
  }
}

int cg_ipc_write(struct cg_ipc_conn *c, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    DWORD w = 0, chunk = len > 65536 ? 65536 : (DWORD)len;
    if (!WriteFile(c->h, p, chunk, &w, NULL) || !w) return CG_ERR_IO;
    p += w;
    len -= w;
  }
  return CG_OK;
}

/* The pipe in nonblocking mode for the write: a write that does not fit returns at once with what
 * went (Windows: part of it; wine: nothing until the whole chunk fits), so a client that stops
 * reading is noticed after stall_ms instead of holding the writer. */
int cg_ipc_write_within(struct cg_ipc_conn *c, const void *buf, size_t len, int64_t stall_ms) {
  DWORD mode = PIPE_READMODE_BYTE | PIPE_NOWAIT;
  SetNamedPipeHandleState(c->h, &mode, NULL, NULL);
  const char *p = buf;
  int rc = CG_OK;
  int64_t end = cg_time_mono_ms() + stall_ms;
  while (len) {
    DWORD w = 0, chunk = len > 4096 ? 4096 : (DWORD)len;
    if (!WriteFile(c->h, p, chunk, &w, NULL)) {
      rc = CG_ERR_IO;
      break;
    }
    if (w) {
      p += w;
      len -= w;
      end = cg_time_mono_ms() + stall_ms; /* progress: the reader reads */
    } else if (cg_time_mono_ms() >= end) {
      rc = CG_ERR_TIMEOUT;
      break;
    } else {
      Sleep(20);
    }
  }
  mode = PIPE_READMODE_BYTE | PIPE_WAIT;
  SetNamedPipeHandleState(c->h, &mode, NULL, NULL);
  return rc;
}

void cg_ipc_peer(const struct cg_ipc_conn *c, char *out, size_t len) { cg_snprintf(out, len, "process %lu", c->pid); }

void cg_ipc_peer_user(const struct cg_ipc_conn *c, char *out, size_t len) {
  cg_snprintf(out, len, "%s", "");
  HANDLE p = c->pid ? OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, c->pid) : NULL, t = NULL;
  unsigned char buf[256];
  DWORD got = 0;
  char *sid = NULL;
  if (p && OpenProcessToken(p, TOKEN_QUERY, &t) && GetTokenInformation(t, TokenUser, buf, sizeof(buf), &got) &&
      ConvertSidToStringSidA(((TOKEN_USER *)buf)->User.Sid, &sid))
    cg_snprintf(out, len, "%s", sid);
  if (sid) LocalFree(sid);
  if (t) CloseHandle(t);
  if (p) CloseHandle(p);
}

intptr_t cg_ipc_native(const struct cg_ipc_conn *c) { return (intptr_t)c->h; }

void cg_ipc_close(struct cg_ipc_conn *c) {
  if (!c) return;
  if (!c->server_side) CloseHandle(c->h);
  cg_free(c);
}
