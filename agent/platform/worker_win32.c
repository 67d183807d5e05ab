/* The unprivileged worker on Windows (child.h; docs/security.md, "Privilege separation"): this program
 * started again with a restricted token made from the service's own (LocalSystem), as the Windows
 * sandboxes of browsers do, rather than as an account of its own (a service needs no password for it):
 *  - every privilege removed (DISABLE_MAX_PRIVILEGE keeps only SeChangeNotifyPrivilege), so nothing
 *    bypasses an access check (SeBackup, SeRestore, SeDebug, SeTakeOwnership, SeImpersonate, SeTcb);
 *  - Administrators deny-only: it never grants access, it can still deny it;
 *  - restricting SIDs Everyone, Users, Authenticated Users and RESTRICTED: an access is granted only
 *    when the token's own SIDs and these grant it, so the worker reaches what a standard user may,
 *    not what SYSTEM may (the configuration, the spool, the state, the machine's private keys);
 *  - Low integrity: it cannot write an object labelled above Low (almost everything), even where an
 *    access list lets Users write (ProgramData);
 *  - a job object: killed with the agent (kill on close), no second process in the job (it cannot
 *    start a program), no unhandled-exception dialog, no access to the desktop's clipboard and atoms.
 * Its folder is labelled Low and lets RESTRICTED change it; nothing else of the agent's does. */
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <string.h>

#include "child.h"
#include "fs.h"
#include "sys.h"
#include "utf_win32.h"

struct cg_child; /* child_win32.c */
int cg_child_wrap_win32(HANDLE process, HANDLE thread, DWORD pid, HANDLE job, struct cg_child **out);

static bool token_is_admin(void) {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD len = sizeof(sid);
  BOOL member = FALSE;
  if (!CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, sid, &len)) return false;
  if (!CheckTokenMembership(NULL, sid, &member)) return false;
  return member != FALSE;
}

int cg_worker_user_find(const char *name, struct cg_worker_user *u, char *err, size_t errlen) {
  memset(u, 0, sizeof(*u));
  if (!name || !*name) {
    cg_snprintf(err, errlen, "unprivileged_user is null");
    return CG_ERR_UNSUPPORTED;
  }
  if (!token_is_admin()) {
    cg_snprintf(err, errlen, "this process is not an administrator's or SYSTEM's: it has no privilege to give up");
    return CG_ERR_UNSUPPORTED;
  }
  /* no account: the name stays the configuration's switch; the worker is the service's token, restricted */
  cg_strlcpy(u->name, "restricted token", sizeof(u->name));
  return CG_OK;
}

bool cg_worker_reads_connections(void) { return false; }

/* SYSTEM and Administrators in full; RESTRICTED may read, write and delete (not change the access
 * list or the owner); inherited by what the worker creates; labelled Low, so the Low worker may write. */
static const wchar_t folder_sddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;RC)S:(ML;OICI;NW;;;LW)";

int cg_worker_folder(const char *path, const struct cg_worker_user *u, char *err, size_t errlen) {
  (void)u;
  if (cg_mkdirs(path) != CG_OK || !cg_path_is_plain_dir(path)) {
    cg_snprintf(err, errlen, "cannot make the worker's folder %s", path);
    return CG_ERR_IO;
  }
  wchar_t *w = cg_utf8_to_wide(path);
  PSECURITY_DESCRIPTOR sd = NULL;
  BOOL ok = w && ConvertStringSecurityDescriptorToSecurityDescriptorW(folder_sddl, SDDL_REVISION_1, &sd, NULL);
  DWORD code = ok ? 0 : GetLastError();
  if (ok) {
    PACL dacl = NULL, sacl = NULL;
    BOOL has = FALSE, dflt = FALSE;
    GetSecurityDescriptorDacl(sd, &has, &dacl, &dflt);
    GetSecurityDescriptorSacl(sd, &has, &sacl, &dflt);
    /* a real folder below the agent's own state folder (a link or junction is refused above) */
    code = SetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                 NULL, NULL, dacl, NULL);
    if (code == ERROR_SUCCESS) /* the label: not fatal where the platform has none (wine accepts it) */
      SetNamedSecurityInfoW(w, SE_FILE_OBJECT, LABEL_SECURITY_INFORMATION, NULL, NULL, NULL, sacl);
  }
  if (sd) LocalFree(sd);
  cg_free(w);
  if (code != 0) {
    char e[200];
    cg_win32_error_text(code, e, sizeof(e));
    cg_snprintf(err, errlen, "cannot set the access list of the worker's folder %s: %s", path, e);
    return CG_ERR_IO;
  }
  return CG_OK;
}

/* The restricted token (above), with a default access list that lets the worker open what it creates. */
static HANDLE restricted_token(char *err, size_t errlen) {
  HANDLE me = NULL, tok = NULL;
  BYTE admins[SECURITY_MAX_SID_SIZE], rs[4][SECURITY_MAX_SID_SIZE];
  static const WELL_KNOWN_SID_TYPE restrict_to[4] = {WinWorldSid, WinBuiltinUsersSid, WinAuthenticatedUserSid,
                                                     WinRestrictedCodeSid};
  SID_AND_ATTRIBUTES deny[1], rsids[4];
  DWORD len = sizeof(admins);
  bool ok = OpenProcessToken(GetCurrentProcess(),
                             TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY | TOKEN_ADJUST_DEFAULT, &me) &&
            CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins, &len);
  for (int i = 0; ok && i < 4; i++) {
    len = sizeof(rs[i]);
    ok = CreateWellKnownSid(restrict_to[i], NULL, rs[i], &len);
    rsids[i].Sid = rs[i];
    rsids[i].Attributes = 0;
  }
  deny[0].Sid = admins;
  deny[0].Attributes = 0;
  if (ok) ok = CreateRestrictedToken(me, DISABLE_MAX_PRIVILEGE, 1, deny, 0, NULL, 4, rsids, &tok);
  DWORD code = ok ? 0 : GetLastError();
  if (me) CloseHandle(me);
  if (!ok) {
    char e[200];
    cg_win32_error_text(code, e, sizeof(e));
    cg_snprintf(err, errlen, "cannot make a restricted token: %s", e);
    return NULL;
  }
  PSECURITY_DESCRIPTOR sd = NULL;
  if (ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;RC)", SDDL_REVISION_1,
                                                           &sd, NULL)) {
    PACL dacl = NULL;
    BOOL has = FALSE, dflt = FALSE;
    if (GetSecurityDescriptorDacl(sd, &has, &dacl, &dflt) && dacl) {
      TOKEN_DEFAULT_DACL dd = {dacl};
      SetTokenInformation(tok, TokenDefaultDacl, &dd, sizeof(dd));
    }
    LocalFree(sd);
  }
  PSID low = NULL;
  if (ConvertStringSidToSidW(L"S-1-16-4096", &low)) {
    TOKEN_MANDATORY_LABEL ml = {{low, SE_GROUP_INTEGRITY}};
    SetTokenInformation(tok, TokenIntegrityLevel, &ml, sizeof(ml) + GetLengthSid(low));
    LocalFree(low);
  }
  return tok;
}

static HANDLE worker_job(void) {
  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (!job) return NULL;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
  memset(&li, 0, sizeof(li));
  li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_ACTIVE_PROCESS |
                                        JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
  li.BasicLimitInformation.ActiveProcessLimit = 1;
  JOBOBJECT_BASIC_UI_RESTRICTIONS ui = {JOB_OBJECT_UILIMIT_DESKTOP | JOB_OBJECT_UILIMIT_DISPLAYSETTINGS |
                                        JOB_OBJECT_UILIMIT_EXITWINDOWS | JOB_OBJECT_UILIMIT_GLOBALATOMS |
                                        JOB_OBJECT_UILIMIT_HANDLES | JOB_OBJECT_UILIMIT_READCLIPBOARD |
                                        JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS | JOB_OBJECT_UILIMIT_WRITECLIPBOARD};
  if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li, sizeof(li))) {
    CloseHandle(job);
    return NULL;
  }
  SetInformationJobObject(job, JobObjectBasicUIRestrictions, &ui, sizeof(ui));
  return job;
}

/* envp as a UTF-16 environment block, with SystemRoot (Winsock does not start without it). */
static wchar_t *env_block(const char *const *envp) {
  struct cg_buf b;
  cg_buf_init(&b, 1u << 20);
  char root[MAX_PATH + 16];
  DWORD n = GetEnvironmentVariableA("SystemRoot", root, MAX_PATH);
  bool ok = true;
  if (n > 0 && n < MAX_PATH)
    ok = cg_buf_puts(&b, "SystemRoot=") == CG_OK && cg_buf_puts(&b, root) == CG_OK &&
         cg_buf_append(&b, "\n", 1) == CG_OK;
  for (size_t i = 0; ok && envp && envp[i]; i++)
    ok = !strchr(envp[i], '\n') && cg_buf_puts(&b, envp[i]) == CG_OK && cg_buf_append(&b, "\n", 1) == CG_OK;
  if (ok) ok = cg_buf_append(&b, "\n", 2) == CG_OK; /* a last newline and a NUL */
  wchar_t *w = ok ? cg_utf8_to_wide(b.data) : NULL;
  cg_buf_free(&b);
  for (wchar_t *p = w; p && *p; p++) /* one string per line, a double NUL at the end */
    if (*p == L'\n') *p = L'\0';
  return w;
}

int cg_worker_start(const struct cg_worker_user *u, const char *folder, const char *const *argv,
                    const char *const *envp, intptr_t in, intptr_t *rd, struct cg_child **out, char *err,
                    size_t errlen) {
  (void)u;
  *out = NULL;
  HANDLE tok = restricted_token(err, errlen), job = tok ? worker_job() : NULL, r = NULL, w = NULL, nul, inh = NULL;
  if (tok && !job) cg_snprintf(err, errlen, "cannot make the worker's job object (error %lu)", GetLastError());
  SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
  nul = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa, OPEN_EXISTING, 0,
                    NULL);
  bool ok = job && nul != INVALID_HANDLE_VALUE && CreatePipe(&r, &w, NULL, 65536) &&
            SetHandleInformation(w, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT) &&
            (in == -1 || DuplicateHandle(GetCurrentProcess(), (HANDLE)in, GetCurrentProcess(), &inh, 0, TRUE,
                                         DUPLICATE_SAME_ACCESS));
  wchar_t *cmd = NULL, *app = cg_utf8_to_wide(argv[0]), *dir = cg_utf8_to_wide(folder), *envw = env_block(envp);
  struct cg_buf b;
  cg_buf_init(&b, 32768 * 3);
  if (ok) ok = app && dir && envw && cg_win32_command_line(argv, &b, &cmd, err, errlen) == CG_OK;
  cg_buf_free(&b);
  PROCESS_INFORMATION pi;
  memset(&pi, 0, sizeof(pi));
  DWORD code = 0;
  if (ok) {
    /* exactly these handles are inherited: its input, its output, the null device */
    HANDLE list[3] = {inh ? inh : nul, w, nul};
    char attrs[128];
    SIZE_T attrs_len = sizeof(attrs);
    STARTUPINFOEXW si;
    memset(&si, 0, sizeof(si));
    si.StartupInfo.cb = sizeof(si);
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = list[0];
    si.StartupInfo.hStdOutput = w;
    si.StartupInfo.hStdError = nul;
    si.lpAttributeList = (LPPROC_THREAD_ATTRIBUTE_LIST)attrs;
    ok = InitializeProcThreadAttributeList(si.lpAttributeList, 1, 0, &attrs_len) &&
         UpdateProcThreadAttribute(si.lpAttributeList, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, list,
                                   (inh ? 3 : 2) * sizeof(HANDLE), NULL, NULL);
    /* CreateProcessAsUserW needs no SeAssignPrimaryTokenPrivilege for a restricted version of the
     * caller's own primary token */
    if (ok)
      ok = CreateProcessAsUserW(tok, app, cmd, NULL, NULL, TRUE,
                                CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT |
                                    EXTENDED_STARTUPINFO_PRESENT,
                                envw, dir, &si.StartupInfo, &pi);
    code = ok ? 0 : GetLastError();
    DeleteProcThreadAttributeList(si.lpAttributeList);
    if (ok && !AssignProcessToJobObject(job, pi.hProcess)) { /* never a worker outside its job */
      code = GetLastError();
      TerminateProcess(pi.hProcess, 1);
      CloseHandle(pi.hThread);
      CloseHandle(pi.hProcess);
      ok = false;
    }
    if (!ok && !err[0]) {
      char e[200];
      cg_win32_error_text(code, e, sizeof(e));
      cg_snprintf(err, errlen, "cannot start the worker with a restricted token: %s", e);
    }
  }
  if (ok) ok = cg_child_wrap_win32(pi.hProcess, pi.hThread, pi.dwProcessId, job, out) == CG_OK;
  if (ok) {
    ResumeThread(pi.hThread);
    *rd = (intptr_t)r;
  } else {
    if (!err[0]) cg_snprintf(err, errlen, "cannot start the worker (error %lu)", (unsigned long)code);
    if (r) CloseHandle(r);
    if (job) CloseHandle(job); /* kills what was started */
  }
  if (w) CloseHandle(w);
  if (inh) CloseHandle(inh);
  if (nul != INVALID_HANDLE_VALUE) CloseHandle(nul);
  if (tok) CloseHandle(tok);
  cg_free(cmd);
  cg_free(app);
  cg_free(dir);
  cg_free(envw);
  return ok ? CG_OK : CG_ERR_IO;
}

int cg_worker_confine(char *err, size_t errlen) {
  (void)err;
  (void)errlen;
  /* what confines it was set by the agent before it ran a line (the token, the job); here only no
   * error dialog that would keep a crashed worker waiting for a click nobody gives */
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  return CG_OK;
}

int cg_worker_token_facts(char *buf, size_t len) {
  /* the pseudo-handle of its own token (GetCurrentProcessToken): a restricted token may not open
   * itself, its object's access list being the one it was made with */
  HANDLE t = (HANDLE)(LONG_PTR)-4;
  DWORD need = 0, rid = 0;
  BYTE il[256];
  if (!GetTokenInformation(t, TokenIntegrityLevel, il, sizeof(il), &need)) {
    cg_snprintf(buf, len, "its token cannot be read (error %lu)", (unsigned long)GetLastError());
    return CG_OK;
  } else {
    PSID s = ((TOKEN_MANDATORY_LABEL *)il)->Label.Sid;
    rid = *GetSidSubAuthority(s, *GetSidSubAuthorityCount(s) - 1);
  }
  BOOL restricted = IsTokenRestricted(t);
  cg_snprintf(buf, len, "%s, integrity %s", restricted ? "restricted" : "not restricted",
              rid == 0x1000   ? "Low"
              : rid == 0x2000 ? "Medium"
              : rid == 0x3000 ? "High"
              : rid == 0x4000 ? "System"
                              : "unknown");
  return CG_OK;
}
