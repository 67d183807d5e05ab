/* Worker processes on Windows (see child.h): CreateProcessW inside a job object that kills the
 * whole tree when terminated or closed; an exception code (>= 0xC0000000) is a crash. */
#include <windows.h>
#include <psapi.h>

#include <string.h>

#include "child.h"
#include "sys.h"
#include "utf_win32.h"

struct cg_child {
  PROCESS_INFORMATION pi;
  HANDLE job;
  bool ended;
  struct cg_child_status st;
};

char *cg_self_exe(void) {
  wchar_t buf[32768];
  DWORD n = GetModuleFileNameW(NULL, buf, 32768);
  if (n == 0 || n >= 32768) return NULL;
  return cg_wide_to_utf8(buf);
}

int cg_child_start_output(const char *const *argv, intptr_t output, struct cg_child **out, char *err, size_t errlen) {
  struct cg_child *c = cg_calloc(1, sizeof(*c));
  wchar_t *cmd = NULL, *app = cg_utf8_to_wide(argv[0]);
  struct cg_buf b;
  cg_buf_init(&b, 32768 * 3);
  int rc = c && app ? cg_win32_command_line(argv, &b, &cmd, err, errlen) : CG_ERR_NOMEM;
  cg_buf_free(&b);
  if (rc == CG_OK) {
    c->job = CreateJobObjectW(NULL, NULL); /* without one (none can be made), the process alone is killed */
    if (c->job) {
      JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
      memset(&li, 0, sizeof(li));
      li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
      SetInformationJobObject(c->job, JobObjectExtendedLimitInformation, &li, sizeof(li));
    }
    STARTUPINFOEXW si;
    memset(&si, 0, sizeof(si));
    si.StartupInfo.cb = sizeof(si.StartupInfo); /* STARTUPINFOEXW only with its attribute list */
    /* the output handle, inheritable for this start only, and the null device as input: exactly these
     * two are inherited (the handle list), nothing else the supervisor holds */
    HANDLE outh = NULL, nul = INVALID_HANDLE_VALUE, list[2];
    char attrs[128];
    SIZE_T attrs_len = sizeof(attrs);
    DWORD flags = CREATE_SUSPENDED | CREATE_NO_WINDOW;
    if (output != -1) {
      SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
      nul = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0,
                        NULL);
      if (!DuplicateHandle(GetCurrentProcess(), (HANDLE)output, GetCurrentProcess(), &outh, 0, TRUE,
                           DUPLICATE_SAME_ACCESS))
        outh = NULL;
      si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
      si.StartupInfo.hStdInput = nul;
      si.StartupInfo.hStdOutput = outh;
      /* standard error never reaches the client: its stream is the worker's output only (a --json
       * answer stays pure JSON, a diagnostic line cannot carry what only the log may hold) */
      si.StartupInfo.hStdError = nul;
      list[0] = outh;
      list[1] = nul;
      si.lpAttributeList = (LPPROC_THREAD_ATTRIBUTE_LIST)attrs;
      if (InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &attrs_len) &&
          UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, list,
                                    (nul != INVALID_HANDLE_VALUE ? 2 : 1) * sizeof(HANDLE), NULL, NULL))
        flags |= EXTENDED_STARTUPINFO_PRESENT, si.StartupInfo.cb = sizeof(si);
      else
        outh = outh ? (CloseHandle(outh), NULL) : NULL; /* not without the list */
    }
    BOOL started = outh || output == -1
                       ? CreateProcessW(app, cmd, NULL, NULL, outh != NULL, flags, NULL, NULL, &si.StartupInfo, &c->pi)
                       : FALSE;
    DWORD code = started ? 0 : GetLastError();
    if (flags & EXTENDED_STARTUPINFO_PRESENT) DeleteProcThreadAttributeList(si.lpAttributeList);
    if (outh) CloseHandle(outh);
    if (nul != INVALID_HANDLE_VALUE) CloseHandle(nul);
    if (!started) {
      char e[200];
      cg_win32_error_text(code, e, sizeof(e));
      cg_snprintf(err, errlen, "cannot start a worker: %s", e);
      rc = CG_ERR_IO;
    } else {
      if (c->job) AssignProcessToJobObject(c->job, c->pi.hProcess);
      ResumeThread(c->pi.hThread);
    }
  }
  cg_free(cmd);
  cg_free(app);
  if (rc != CG_OK) {
    if (c && c->job) CloseHandle(c->job);
    cg_free(c);
    return rc;
  }
  *out = c;
  return CG_OK;
}

/* A worker that worker_win32.c started (its handles become the child's). */
int cg_child_wrap_win32(HANDLE process, HANDLE thread, DWORD pid, HANDLE job, struct cg_child **out) {
  struct cg_child *c = cg_calloc(1, sizeof(*c));
  if (!c) return CG_ERR_NOMEM;
  c->pi.hProcess = process;
  c->pi.hThread = thread;
  c->pi.dwProcessId = pid;
  c->job = job;
  *out = c;
  return CG_OK;
}

int cg_child_start(const char *const *argv, struct cg_child **out, char *err, size_t errlen) {
  return cg_child_start_output(argv, -1, out, err, errlen);
}

/* 0 and 1 are this process's standard input and output (a worker's request and answer); no HANDLE
 * has either value. */
static HANDLE std_handle(intptr_t h) {
  return h == 0 ? GetStdHandle(STD_INPUT_HANDLE) : h == 1 ? GetStdHandle(STD_OUTPUT_HANDLE) : (HANDLE)h;
}

int cg_pipe_open(intptr_t *rd, intptr_t *wr, char *err, size_t errlen) {
  HANDLE r = NULL, w = NULL;
  if (!CreatePipe(&r, &w, NULL, 65536)) { /* not inheritable: start_output duplicates what it passes */
    cg_snprintf(err, errlen, "cannot make a pipe for the worker (error %lu)", (unsigned long)GetLastError());
    return CG_ERR_IO;
  }
  *rd = (intptr_t)r;
  *wr = (intptr_t)w;
  return CG_OK;
}

long cg_pipe_read(intptr_t rd, void *buf, size_t len, int64_t ms) {
  HANDLE h = std_handle(rd);
  int64_t end = cg_time_mono_ms() + (ms > 0 ? ms : 0);
  for (;;) {
    DWORD avail = 0;
    if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL)) return GetLastError() == ERROR_BROKEN_PIPE ? 0 : -2;
    if (avail) {
      DWORD got = 0, want = avail < len ? avail : (DWORD)(len > 65536 ? 65536 : len);
      if (!ReadFile(h, buf, want, &got, NULL)) return GetLastError() == ERROR_BROKEN_PIPE ? 0 : -2;
      return (long)got;
    }
    if (cg_time_mono_ms() >= end) return -1;
    Sleep(10);
  }
}

void cg_pipe_close(intptr_t h) {
  if (h && h != -1) CloseHandle((HANDLE)h);
}

unsigned long cg_child_pid(const struct cg_child *c) { return (unsigned long)c->pi.dwProcessId; }

bool cg_child_ended(struct cg_child *c, struct cg_child_status *st) {
  if (!c->ended) {
    if (WaitForSingleObject(c->pi.hProcess, 0) != WAIT_OBJECT_0) return false;
    c->ended = true;
    DWORD code = 0;
    GetExitCodeProcess(c->pi.hProcess, &code);
    PROCESS_MEMORY_COUNTERS pmc;
    c->st.max_rss_kb =
        GetProcessMemoryInfo(c->pi.hProcess, &pmc, sizeof(pmc)) ? (int64_t)(pmc.PeakWorkingSetSize / 1024) : -1;
    if (code >= 0xC0000000UL) {
      c->st.exception = code;
      cg_snprintf(c->st.text, sizeof(c->st.text), "exception 0x%08lX", (unsigned long)code);
    } else {
      c->st.exited = true;
      c->st.exit_code = (int)code;
      cg_snprintf(c->st.text, sizeof(c->st.text), "exit code %d", c->st.exit_code);
    }
    if (c->job) TerminateJobObject(c->job, 1); /* what it started goes with it */
  }
  *st = c->st;
  return true;
}

void cg_child_stop(struct cg_child *c) { cg_child_kill(c); }

void cg_child_kill(struct cg_child *c) {
  if (c->ended) return;
  if (c->job) TerminateJobObject(c->job, 1);
  TerminateProcess(c->pi.hProcess, 1);
}

void cg_child_free(struct cg_child *c) {
  if (!c) return;
  if (!c->ended) {
    cg_child_kill(c);
    WaitForSingleObject(c->pi.hProcess, 5000);
  }
  if (c->pi.hThread) CloseHandle(c->pi.hThread);
  if (c->pi.hProcess) CloseHandle(c->pi.hProcess);
  if (c->job) CloseHandle(c->job);
  cg_free(c);
}

int cg_child_exec_admin_only(const char *const *argv, char *err, size_t errlen) {
  (void)argv;
  cg_snprintf(err, errlen, "not on Windows: the service is the supervisor");
  return CG_ERR_UNSUPPORTED;
}

int cg_pipe_write(intptr_t wr, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    DWORD n = 0, want = len > 65536 ? 65536 : (DWORD)len;
    if (!WriteFile(std_handle(wr), p, want, &n, NULL) || n == 0) return CG_ERR_IO;
    p += n;
    len -= n;
  }
  return CG_OK;
}

/* Within ms: the write end is switched to PIPE_NOWAIT, so that a write takes what fits in the pipe and
 * returns; a reader that stops reading is waited for only until the deadline. */
int cg_pipe_write_within(intptr_t wr, const void *buf, size_t len, int64_t ms) {
  HANDLE h = std_handle(wr);
  DWORD mode = PIPE_READMODE_BYTE | PIPE_NOWAIT;
  if (!SetNamedPipeHandleState(h, &mode, NULL, NULL)) return cg_pipe_write(wr, buf, len);
  int64_t end = cg_time_mono_ms() + (ms > 0 ? ms : 0);
  const char *p = buf;
  while (len) {
    DWORD n = 0, want = len > 65536 ? 65536 : (DWORD)len;
    if (!WriteFile(h, p, want, &n, NULL)) return CG_ERR_IO;
    p += n;
    len -= n;
    if (n) continue;
    if (cg_time_mono_ms() >= end) return CG_ERR_TIMEOUT;
    Sleep(5);
  }
  return CG_OK;
}
