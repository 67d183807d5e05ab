/* Win32 process spawn: CreateProcessW with pipes, inside a job object so a timeout kills the child
 * and everything it started. One reader thread per pipe, so a chatty stderr cannot block stdout. */
#include <windows.h>

#include <string.h>

#include "fs.h"
#include "proc.h"
#include "sys.h"
#include "utf_win32.h"

#define DEFAULT_MAX_OUTPUT (1024 * 1024)

struct reader {
  HANDLE pipe;
  struct cg_buf buf;
  bool truncated;
  HANDLE thread;
};

static DWORD WINAPI reader_main(void *arg) {
  struct reader *r = arg;
  char chunk[16384];
  DWORD n;
  while (ReadFile(r->pipe, chunk, sizeof(chunk), &n, NULL) && n > 0) {
    size_t room = r->buf.cap - r->buf.len, take = n;
    if (take > room) {
      take = room;
      r->truncated = true;
    }
    if (take) cg_buf_append(&r->buf, chunk, take);
  }
  return 0;
}

/* Quotes one argument the way the Microsoft C runtime (CommandLineToArgvW) splits it again. */
static int quote_arg(struct cg_buf *b, const char *a) {
  if (*a && !strpbrk(a, " \t\n\v\"")) return cg_buf_puts(b, a);
  int rc = cg_buf_puts(b, "\"");
  for (const char *p = a; rc == CG_OK; p++) {
    size_t slashes = 0;
    while (*p == '\\') {
      p++;
      slashes++;
    }
    if (!*p) {
      for (size_t i = 0; rc == CG_OK && i < slashes * 2; i++)
        rc = cg_buf_puts(b, "\\");
      break;
    }
    size_t emit = *p == '"' ? slashes * 2 + 1 : slashes;
    for (size_t i = 0; rc == CG_OK && i < emit; i++)
      rc = cg_buf_puts(b, "\\");
    if (rc == CG_OK) rc = cg_buf_append(b, p, 1);
  }
  return rc == CG_OK ? cg_buf_puts(b, "\"") : rc;
}

char **cg_proc_minimal_env(void) {
  static const char *const pass[] = {"SystemRoot",
                                     "windir",
                                     "SystemDrive",
                                     "ComSpec",
                                     "PATHEXT",
                                     "Path",
                                     "TEMP",
                                     "TMP",
                                     "ProgramData",
                                     "ProgramFiles",
                                     "ProgramFiles(x86)",
                                     "ProgramW6432",
                                     "CommonProgramFiles",
                                     "CommonProgramFiles(x86)",
                                     "CommonProgramW6432",
                                     "ALLUSERSPROFILE",
                                     "PUBLIC",
                                     "COMPUTERNAME",
                                     "USERNAME",
                                     "USERDOMAIN",
                                     "USERPROFILE",
                                     "APPDATA",
                                     "LOCALAPPDATA",
                                     "OS",
                                     "PROCESSOR_ARCHITECTURE",
                                     "PROCESSOR_IDENTIFIER",
                                     "NUMBER_OF_PROCESSORS",
                                     "PSModulePath",
                                     "HTTP_PROXY",
                                     "HTTPS_PROXY",
                                     "NO_PROXY"};
  char **env = cg_calloc(CG_ARRAY_LEN(pass) + 1, sizeof(char *));
  size_t n = 0;
  for (size_t i = 0; env && i < CG_ARRAY_LEN(pass); i++) {
    char *v = cg_getenv(pass[i]);
    if (v && !(env[n++] = cg_asprintf("%s=%s", pass[i], v))) {
      cg_free(v);
      cg_proc_env_free(env);
      return NULL;
    }
    cg_free(v);
  }
  return env;
}

void cg_proc_env_free(char **envp) {
  for (size_t i = 0; envp && envp[i]; i++)
    cg_free(envp[i]);
  cg_free(envp);
}

/* "A=1\0B=2\0\0" in UTF-16 for CreateProcessW; caller frees. */
static wchar_t *env_block(const char *const *envp) {
  struct cg_buf b;
  cg_buf_init(&b, 1 << 20);
  for (size_t i = 0; envp[i]; i++)
    cg_buf_append(&b, envp[i], strlen(envp[i]) + 1);
  cg_buf_append(&b, "", 1);
  size_t len = 0;
  char *u = cg_buf_take(&b, &len);
  wchar_t *w = NULL;
  if (u) {
    int n = MultiByteToWideChar(CP_UTF8, 0, u, (int)len, NULL, 0);
    w = n > 0 ? cg_calloc((size_t)n + 1, sizeof(wchar_t)) : NULL;
    if (w) MultiByteToWideChar(CP_UTF8, 0, u, (int)len, w, n);
  }
  cg_free(u);
  cg_buf_free(&b);
  return w;
}

void cg_proc_result_free(struct cg_proc_result *res) {
  cg_free(res->out);
  cg_free(res->err);
  res->out = res->err = NULL;
  res->out_len = res->err_len = 0;
}

/* A job object that kills what it holds when its last handle closes: nothing of a child outlives
 * the agent. NULL when it cannot be made. */
static HANDLE kill_on_close_job(void) {
  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (job) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
    memset(&li, 0, sizeof(li));
    li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li, sizeof(li));
  }
  return job;
}

/* Startup information whose three standard handles are the only ones the child inherits
 * (PROC_THREAD_ATTRIBUTE_HANDLE_LIST). `inherit` is the caller's: the list points into it until it
 * is deleted. Returns the attribute list to free (NULL if unsupported). */
static LPPROC_THREAD_ATTRIBUTE_LIST std_handles_only(STARTUPINFOEXW *sip, HANDLE inherit[3], HANDLE nul, HANDLE out_w,
                                                     HANDLE err_w, DWORD *flagsp) {
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
  memset(sip, 0, sizeof(*sip));
  sip->StartupInfo.cb = sizeof(sip->StartupInfo);
  sip->StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  sip->StartupInfo.hStdInput = nul;
  sip->StartupInfo.hStdOutput = out_w;
  sip->StartupInfo.hStdError = err_w;
  /* The child inherits its three standard handles and nothing else the agent holds. */
  inherit[0] = out_w;
  inherit[1] = err_w;
  inherit[2] = nul;
  SIZE_T ninherit = nul != INVALID_HANDLE_VALUE ? 3 : 2;
  SIZE_T asz = 0;
  InitializeProcThreadAttributeList(NULL, 1, 0, &asz);
  attrs = asz ? cg_malloc(asz) : NULL;
  if (attrs && InitializeProcThreadAttributeList(attrs, 1, 0, &asz) &&
      UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit, ninherit * sizeof(HANDLE), NULL,
                                NULL)) {
    sip->StartupInfo.cb = sizeof(*sip);
    sip->lpAttributeList = attrs;
    *flagsp |= EXTENDED_STARTUPINFO_PRESENT;
  }
  return attrs;
}

/* Waits for the child and both readers within the deadline (a grandchild may hold the pipes);
 * at the deadline the job, and so the whole tree, is terminated. */
static void wait_child(HANDLE proc, HANDLE job, struct reader rd[2], int64_t start, int64_t timeout,
                       struct cg_proc_result *res) {
  DWORD wait_ms = timeout > 0 ? (DWORD)timeout : INFINITE;
  if (WaitForSingleObject(proc, wait_ms) == WAIT_TIMEOUT) {
    res->timed_out = true;
    if (job) TerminateJobObject(job, 1);
    TerminateProcess(proc, 1);
    WaitForSingleObject(proc, 5000);
  }
  /* A grandchild may still hold the pipes: honour the deadline for the readers too. */
  for (int i = 0; i < 2; i++) {
    if (!rd[i].thread) continue;
    int64_t left = timeout > 0 ? start + timeout - cg_time_mono_ms() : -1;
    DWORD w = left < 0 && timeout <= 0 ? INFINITE : (DWORD)(left > 0 ? left : 0);
    if (WaitForSingleObject(rd[i].thread, w) == WAIT_TIMEOUT) {
      res->timed_out = true;
      if (job) TerminateJobObject(job, 1);
      WaitForSingleObject(rd[i].thread, 5000);
    }
  }
}

static void close_readers(struct reader rd[2]) {
  for (int i = 0; i < 2; i++) {
    if (rd[i].thread) {
      /* If a reader is still blocked (it should not be), closing its pipe releases it. */
      if (WaitForSingleObject(rd[i].thread, 0) == WAIT_TIMEOUT) CancelSynchronousIo(rd[i].thread);
      WaitForSingleObject(rd[i].thread, 2000);
      CloseHandle(rd[i].thread);
    }
    if (rd[i].pipe) CloseHandle(rd[i].pipe);
  }
}

/* The argument vector as one command line, each argument quoted as CommandLineToArgvW reads it. */
int cg_win32_command_line(const char *const *argv, struct cg_buf *cmd, wchar_t **wcmd, char *err, size_t errlen) {
  for (size_t i = 0; argv[i]; i++)
    if ((i && cg_buf_puts(cmd, " ") != CG_OK) || quote_arg(cmd, argv[i]) != CG_OK) {
      cg_snprintf(err, errlen, "the command line for %s is too long", argv[0]);
      return CG_ERR_TOOBIG;
    }
  if (!(*wcmd = cg_utf8_to_wide(cmd->data))) {
    cg_snprintf(err, errlen, "the command line for %s is not valid UTF-8", argv[0]);
    return CG_ERR_USAGE;
  }
  return CG_OK;
}

int cg_proc_run(const char *const *argv, const struct cg_proc_opts *opts, struct cg_proc_result *res, char *err,
                size_t errlen) {
  int rc = CG_ERR_IO;
  size_t cap = opts && opts->max_output ? opts->max_output : DEFAULT_MAX_OUTPUT;
  int64_t timeout = opts ? opts->timeout_ms : 0;
  int64_t start = cg_time_mono_ms();
  struct reader rd[2];
  HANDLE out_w = NULL, err_w = NULL, nul = INVALID_HANDLE_VALUE, job = NULL;
  PROCESS_INFORMATION pi = {0};
  intptr_t prog = (intptr_t)INVALID_HANDLE_VALUE;
  char *prog_path = NULL;
  wchar_t *wapp = NULL, *wenv = NULL;
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
  struct cg_buf cmd;
  wchar_t *wcmd = NULL;
  char etext[256];

  memset(res, 0, sizeof(*res));
  memset(rd, 0, sizeof(rd));
  cg_buf_init(&rd[0].buf, cap);
  cg_buf_init(&rd[1].buf, cap);
  cg_buf_init(&cmd, 32768 * 3);
  if (!argv || !argv[0] || !argv[0][0]) {
    cg_snprintf(err, errlen, "no program to run");
    rc = CG_ERR_USAGE;
    goto out;
  }
  if (opts && opts->admin_only_program) {
    /* Held, denying writes and deletes, until the process has started from that very file. */
    rc = cg_file_open_admin_only(argv[0], &prog, &prog_path, err, errlen);
    if (rc != CG_OK) goto out;
    rc = CG_ERR_IO;
    if (!(wapp = cg_utf8_to_wide(prog_path))) goto out;
  }
  if (opts && opts->envp && !(wenv = env_block(opts->envp))) {
    cg_snprintf(err, errlen, "cannot build the environment for %s", argv[0]);
    goto out;
  }
  if ((rc = cg_win32_command_line(argv, &cmd, &wcmd, err, errlen)) != CG_OK) goto out;
  rc = CG_ERR_IO;
  SECURITY_ATTRIBUTES sa = {.nLength = sizeof(sa), .bInheritHandle = TRUE};
  if (!CreatePipe(&rd[0].pipe, &out_w, &sa, 0) || !CreatePipe(&rd[1].pipe, &err_w, &sa, 0) ||
      !SetHandleInformation(rd[0].pipe, HANDLE_FLAG_INHERIT, 0) ||
      !SetHandleInformation(rd[1].pipe, HANDLE_FLAG_INHERIT, 0)) {
    cg_win32_error_text(GetLastError(), etext, sizeof(etext));
    cg_snprintf(err, errlen, "cannot create pipes to run %s: %s", argv[0], etext);
    goto out;
  }
  nul = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0, NULL);
  job = kill_on_close_job();
  STARTUPINFOEXW si;
  DWORD flags = CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT;
  HANDLE inherit[3];
  attrs = std_handles_only(&si, inherit, nul, out_w, err_w, &flags);
  wchar_t *wcwd = opts && opts->cwd ? cg_utf8_to_wide(opts->cwd) : NULL;
  BOOL started = CreateProcessW(wapp, wcmd, NULL, NULL, TRUE, flags, wenv, wcwd, &si.StartupInfo, &pi);
  cg_free(wcwd);
  cg_file_close_handle(prog);
  prog = (intptr_t)INVALID_HANDLE_VALUE;
  if (!started) {
    DWORD e = GetLastError();
    rc = (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) ? CG_ERR_NOTFOUND
         : e == ERROR_ACCESS_DENIED                               ? CG_ERR_ACCESS
                                                                  : CG_ERR_IO;
    cg_win32_error_text(e, etext, sizeof(etext));
    cg_snprintf(err, errlen, "cannot run %s: %s", argv[0], etext);
    memset(&pi, 0, sizeof(pi));
    goto out;
  }
  if (job) AssignProcessToJobObject(job, pi.hProcess);
  ResumeThread(pi.hThread);
  /* Our copies of the write ends must go, or the readers never see end-of-file. */
  CloseHandle(out_w);
  out_w = NULL;
  CloseHandle(err_w);
  err_w = NULL;
  for (int i = 0; i < 2; i++)
    rd[i].thread = CreateThread(NULL, 0, reader_main, &rd[i], 0, NULL);

  wait_child(pi.hProcess, job, rd, start, timeout, res);
  if (!res->timed_out) {
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    res->exited = true;
    res->exit_code = (int)code;
  }
  rc = CG_OK;
out:
  cg_file_close_handle(prog);
  cg_free(prog_path);
  cg_free(wapp);
  cg_free(wenv);
  if (attrs) {
    DeleteProcThreadAttributeList(attrs);
    cg_free(attrs);
  }
  close_readers(rd);
  if (out_w) CloseHandle(out_w);
  if (err_w) CloseHandle(err_w);
  if (nul != INVALID_HANDLE_VALUE) CloseHandle(nul);
  if (pi.hThread) CloseHandle(pi.hThread);
  if (pi.hProcess) CloseHandle(pi.hProcess);
  if (job) CloseHandle(job); /* KILL_ON_JOB_CLOSE: nothing of the child outlives us */
  res->duration_ms = cg_time_mono_ms() - start;
  res->out_truncated = rd[0].truncated;
  res->err_truncated = rd[1].truncated;
  if (rc == CG_OK) {
    res->out = cg_buf_take(&rd[0].buf, &res->out_len);
    res->err = cg_buf_take(&rd[1].buf, &res->err_len);
    if (!res->out || !res->err) {
      cg_proc_result_free(res);
      rc = CG_ERR_NOMEM;
    }
  }
  cg_buf_free(&rd[0].buf);
  cg_buf_free(&rd[1].buf);
  cg_buf_free(&cmd);
  cg_free(wcmd);
  return rc;
}
