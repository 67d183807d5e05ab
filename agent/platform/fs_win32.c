/* Win32 file system operations; UTF-8 paths converted to UTF-16 here. */
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "fs_common.h"
#include "sys.h"
#include "utf_win32.h"

const char cg_path_sep = '\\';

static int win_status(DWORD e) {
  switch (e) {
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND: return CG_ERR_NOTFOUND;
  case ERROR_ACCESS_DENIED:
  case ERROR_WRITE_PROTECT:
  case ERROR_SHARING_VIOLATION: return CG_ERR_ACCESS;
  default: return CG_ERR_IO;
  }
}

static HANDLE open_w(const char *path, DWORD access, DWORD disposition, DWORD flags) {
  wchar_t *w = cg_utf8_to_wide(path);
  if (!w) {
    SetLastError(ERROR_INVALID_NAME);
    return INVALID_HANDLE_VALUE;
  }
  HANDLE h =
      CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, disposition, flags, NULL);
  DWORD e = GetLastError();
  cg_free(w);
  SetLastError(e);
  return h;
}

static int write_all(HANDLE h, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    DWORD chunk = len > 0x40000000 ? 0x40000000 : (DWORD)len, w = 0;
    if (!WriteFile(h, p, chunk, &w, NULL)) return -1;
    p += w;
    len -= w;
  }
  return 0;
}

int cg_file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen) {
  static unsigned counter;
  int rc = CG_ERR_IO;
  char etext[256];
  HANDLE h = INVALID_HANDLE_VALUE;
  char *tmp = cg_asprintf("%s.tmp.%lu.%u", path, cg_process_id(), counter++);
  wchar_t *wtmp = cg_utf8_to_wide(tmp), *wpath = cg_utf8_to_wide(path);
  if (!tmp || !wtmp || !wpath) {
    rc = CG_ERR_NOMEM;
    cg_snprintf(err, errlen, "cannot convert the path %s", path);
    goto out;
  }
  h = CreateFileW(wtmp, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    rc = win_status(e);
    cg_win32_error_text(e, etext, sizeof(etext));
    cg_snprintf(err, errlen, "cannot create %s: %s", tmp, etext);
    goto out;
  }
  if (write_all(h, data, len) || !FlushFileBuffers(h)) {
    DWORD e = GetLastError();
    rc = win_status(e);
    cg_win32_error_text(e, etext, sizeof(etext));
    cg_snprintf(err, errlen, "cannot write %s: %s", tmp, etext);
    goto out;
  }
  CloseHandle(h);
  h = INVALID_HANDLE_VALUE;
  if (!MoveFileExW(wtmp, wpath, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    DWORD e = GetLastError();
    rc = win_status(e);
    cg_win32_error_text(e, etext, sizeof(etext));
    cg_snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, etext);
    goto out;
  }
  rc = CG_OK;
out:
  if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
  if (rc != CG_OK && wtmp) DeleteFileW(wtmp);
  cg_free(tmp);
  cg_free(wtmp);
  cg_free(wpath);
  return rc;
}

int cg_file_read(const char *path, size_t cap, char **data, size_t *len) {
  return cg_file_read_mtime(path, cap, data, len, NULL);
}

int cg_file_read_mtime(const char *path, size_t cap, char **data, size_t *len, int64_t *mtime_ms) {
  int rc = CG_OK;
  struct cg_buf b;
  char chunk[65536];
  HANDLE h = open_w(path, GENERIC_READ, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL);
  if (h == INVALID_HANDLE_VALUE) return win_status(GetLastError());
  if (GetFileType(h) != FILE_TYPE_DISK) { /* a pipe or device named as a file */
    CloseHandle(h);
    return CG_ERR_ACCESS;
  }
  FILETIME ft;
  if (mtime_ms && GetFileTime(h, NULL, NULL, &ft)) {
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    *mtime_ms = (int64_t)(t / 10000) - 11644473600000LL; /* 100 ns since 1601 */
  } else if (mtime_ms)
    *mtime_ms = -1;
  cg_buf_init(&b, cap);
  for (;;) {
    DWORD n = 0;
    if (!ReadFile(h, chunk, sizeof(chunk), &n, NULL)) {
      rc = CG_ERR_IO;
      break;
    }
    if (!n) break;
    if ((rc = cg_buf_append(&b, chunk, n)) != CG_OK) break;
  }
  CloseHandle(h);
  if (rc == CG_OK) {
    *data = cg_buf_take(&b, len);
    if (!*data) rc = CG_ERR_NOMEM;
  }
  cg_buf_free(&b);
  return rc;
}

int cg_file_append(const char *path, const void *data, size_t len) {
  /* the link itself is opened, never followed: a reparse point is then refused below */
  HANDLE h = open_w(path, FILE_APPEND_DATA | FILE_READ_ATTRIBUTES, OPEN_ALWAYS,
                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT);
  if (h == INVALID_HANDLE_VALUE) return win_status(GetLastError());
  BY_HANDLE_FILE_INFORMATION fi;
  if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &fi) ||
      (fi.dwFileAttributes & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY)) || fi.nNumberOfLinks > 1) {
    CloseHandle(h);
    return CG_ERR_ACCESS;
  }
  int rc = write_all(h, data, len) ? CG_ERR_IO : CG_OK;
  CloseHandle(h);
  return rc;
}

static bool file_attrs(const char *path, WIN32_FILE_ATTRIBUTE_DATA *fa) {
  wchar_t *w = cg_utf8_to_wide(path);
  BOOL ok = w && GetFileAttributesExW(w, GetFileExInfoStandard, fa);
  cg_free(w);
  return ok != 0;
}

int64_t cg_file_size(const char *path) {
  WIN32_FILE_ATTRIBUTE_DATA fa;
  if (!file_attrs(path, &fa)) return -1;
  return (int64_t)(((uint64_t)fa.nFileSizeHigh << 32) | fa.nFileSizeLow);
}

int64_t cg_file_mtime_ms(const char *path) {
  WIN32_FILE_ATTRIBUTE_DATA fa;
  if (!file_attrs(path, &fa)) return -1;
  uint64_t t = ((uint64_t)fa.ftLastWriteTime.dwHighDateTime << 32) | fa.ftLastWriteTime.dwLowDateTime;
  return (int64_t)(t / 10000) - 11644473600000LL; /* 100 ns since 1601 */
}

bool cg_file_exists(const char *path) {
  wchar_t *w = cg_utf8_to_wide(path);
  DWORD a = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
  cg_free(w);
  return a != INVALID_FILE_ATTRIBUTES;
}

int cg_file_rename(const char *from, const char *to) {
  wchar_t *wf = cg_utf8_to_wide(from), *wt = cg_utf8_to_wide(to);
  int rc = (wf && wt && MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
               ? CG_OK
               : win_status(GetLastError());
  cg_free(wf);
  cg_free(wt);
  return rc;
}

int cg_file_remove(const char *path) {
  wchar_t *w = cg_utf8_to_wide(path);
  int rc = (w && DeleteFileW(w)) ? CG_OK : win_status(GetLastError());
  cg_free(w);
  return rc;
}

int cg_mkdirs(const char *path) {
  char *p = cg_strdup(path);
  if (!p) return CG_ERR_NOMEM;
  int rc = CG_OK;
  /* Skip a drive ("C:\") or UNC prefix ("\\server\share\"), which cannot be created. */
  char *s = p;
  if (s[0] && s[1] == ':')
    s += 2;
  else if ((s[0] == '\\' || s[0] == '/') && (s[1] == '\\' || s[1] == '/')) {
    int seps = 0;
    for (s += 2; *s && seps < 2; s++)
      if (*s == '\\' || *s == '/') seps++;
  }
  for (s++;; s++) {
    if (*s == '\\' || *s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      wchar_t *w = cg_utf8_to_wide(p);
      if (!w || (!CreateDirectoryW(w, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)) rc = win_status(GetLastError());
      cg_free(w);
      *s = c;
      if (rc != CG_OK || !c) break;
    }
  }
  cg_free(p);
  return rc;
}

int cg_dir_writable(const char *dir, char *err, size_t errlen) {
  char *probe = cg_asprintf("%s\\cmgdiag-probe.tmp.%lu", dir, cg_process_id());
  if (!probe) return CG_ERR_NOMEM;
  int rc = CG_OK;
  const DWORD flags = FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE | FILE_FLAG_OPEN_REPARSE_POINT;
  HANDLE h = open_w(probe, GENERIC_WRITE | DELETE, CREATE_NEW, flags);
  if (h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_FILE_EXISTS) { /* one a kill left: ours by name */
    cg_file_remove(probe);
    h = open_w(probe, GENERIC_WRITE | DELETE, CREATE_NEW, flags);
  }
  if (h == INVALID_HANDLE_VALUE) {
    char etext[256];
    DWORD e = GetLastError();
    rc = win_status(e);
    cg_win32_error_text(e, etext, sizeof(etext));
    cg_snprintf(err, errlen, "%s is not writable: %s", dir, etext);
  } else {
    CloseHandle(h);
  }
  cg_free(probe);
  return rc;
}

int cg_disk_space(const char *path, uint64_t *free_bytes, uint64_t *total_bytes) {
  wchar_t *w = cg_utf8_to_wide(path);
  ULARGE_INTEGER avail, total;
  BOOL ok = w && GetDiskFreeSpaceExW(w, &avail, &total, NULL);
  cg_free(w);
  if (!ok) return win_status(GetLastError());
  *free_bytes = avail.QuadPart;
  *total_bytes = total.QuadPart;
  return CG_OK;
}

char *cg_path_dirname(const char *path) {
  const char *a = strrchr(path, '\\'), *b = strrchr(path, '/');
  const char *slash = a > b ? a : b;
  if (!slash) return cg_strdup(".");
  if (slash == path || (slash == path + 2 && path[1] == ':')) return cg_strndup(path, (size_t)(slash - path) + 1);
  return cg_strndup(path, (size_t)(slash - path));
}

char *cg_path_join(const char *dir, const char *name) {
  size_t n = strlen(dir);
  bool sep = n && (dir[n - 1] == '\\' || dir[n - 1] == '/');
  return cg_asprintf("%s%s%s", dir, sep ? "" : "\\", name);
}

static char *program_data(const char *suffix) {
  char *pd = cg_getenv("ProgramData");
  char *res = cg_asprintf("%s\\cmgdiag%s", pd ? pd : "C:\\ProgramData", suffix);
  cg_free(pd);
  return res;
}

char *cg_default_config_path(void) { return program_data("\\cmgdiag.json"); }
char *cg_default_spool_dir(void) { return program_data("\\spool"); }
char *cg_default_log_file(void) { return program_data("\\logs\\cmgdiag.log"); }

/* The names in `dir` of files or of folders (never a junction or a link to one). */
static int list_entries(const char *dir, bool dirs, char ***names, size_t *count) {
  char *pattern = cg_path_join(dir, "*");
  wchar_t *w = pattern ? cg_utf8_to_wide(pattern) : NULL;
  size_t alloc = 0;
  int rc = CG_OK;
  WIN32_FIND_DATAW fd;
  *names = NULL;
  *count = 0;
  wchar_t *wdir = cg_utf8_to_wide(dir);
  DWORD da = wdir ? GetFileAttributesW(wdir) : INVALID_FILE_ATTRIBUTES;
  cg_free(wdir);
  if (da == INVALID_FILE_ATTRIBUTES || !(da & FILE_ATTRIBUTE_DIRECTORY)) {
    cg_free(pattern);
    cg_free(w);
    return CG_ERR_NOTFOUND;
  }
  HANDLE h = w ? FindFirstFileW(w, &fd) : INVALID_HANDLE_VALUE;
  if (h != INVALID_HANDLE_VALUE) {
    do {
      bool is_dir = fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY;
      if (fd.cFileName[0] == L'.' || is_dir != dirs || (dirs && (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)))
        continue;
      char *name = cg_wide_to_utf8(fd.cFileName);
      rc = name ? cg_fs_push_name(names, count, &alloc, name) : CG_ERR_NOMEM;
      cg_free(name);
    } while (rc == CG_OK && FindNextFileW(h, &fd));
    FindClose(h);
  }
  cg_free(pattern);
  cg_free(w);
  return cg_fs_finish_list(names, count, rc);
}

int cg_dir_list(const char *dir, char ***names, size_t *count) { return list_entries(dir, false, names, count); }

int cg_dir_read_files(const char *dir, bool (*want)(const char *name), size_t cap, cg_dir_file_fn fn, void *user,
                      char ***dirs, size_t *ndirs) {
  char **names = NULL;
  size_t n = 0;
  int rc = cg_dir_list_split(dir, &names, &n, dirs, ndirs);
  for (size_t i = 0; rc == CG_OK && i < n; i++) {
    if (!want(names[i])) continue;
    char *path = cg_path_join(dir, names[i]), *data = NULL;
    size_t len = 0;
    int64_t mtime = -1;
    int r = path ? cg_file_read_mtime(path, cap, &data, &len, &mtime) : CG_ERR_NOMEM;
    if (path) fn(user, path, r, data, len, mtime);
    cg_free(data);
    cg_free(path);
  }
  cg_dir_list_free(names, n);
  return rc;
}

int cg_dir_list_split(const char *dir, char ***files, size_t *nfiles, char ***dirs, size_t *ndirs) {
  int rc = list_entries(dir, false, files, nfiles);
  if (rc == CG_OK && (rc = list_entries(dir, true, dirs, ndirs)) != CG_OK) {
    cg_dir_list_free(*files, *nfiles);
    *files = NULL;
    *nfiles = 0;
  }
  return rc;
}

int cg_dir_list_dirs(const char *dir, char ***names, size_t *count) { return list_entries(dir, true, names, count); }

int cg_file_read_range(const char *path, int64_t offset, size_t max, char **data, size_t *len) {
  HANDLE h = open_w(path, GENERIC_READ, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL);
  if (h == INVALID_HANDLE_VALUE) return win_status(GetLastError());
  char *buf = cg_malloc(max + 1);
  size_t got = 0;
  int rc = buf ? CG_OK : CG_ERR_NOMEM;
  LARGE_INTEGER pos = {.QuadPart = offset};
  if (rc == CG_OK && !SetFilePointerEx(h, pos, NULL, FILE_BEGIN)) rc = CG_ERR_IO;
  while (rc == CG_OK && got < max) {
    DWORD want = max - got > 0x100000 ? 0x100000 : (DWORD)(max - got), n = 0;
    if (!ReadFile(h, buf + got, want, &n, NULL)) rc = CG_ERR_IO;
    if (n == 0) break;
    got += n;
  }
  CloseHandle(h);
  if (rc != CG_OK) {
    cg_free(buf);
    return rc;
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return CG_OK;
}

char *cg_default_state_dir(void) { return program_data("\\state"); }

int cg_client_log_dirs(char ***dirs, size_t *count) {
  char *win = cg_getenv("WINDIR");
  const char *base = win ? win : "C:\\Windows";
  *dirs = cg_calloc(2, sizeof(char *));
  *count = 0;
  if (*dirs) {
    (*dirs)[0] = cg_asprintf("%s\\CCM\\Logs", base);
    (*dirs)[1] = cg_asprintf("%s\\ccmsetup\\Logs", base);
    *count = 2;
  }
  cg_free(win);
  return *dirs && (*dirs)[0] && (*dirs)[1] ? CG_OK : CG_ERR_NOMEM;
}

int cg_dir_remove(const char *path) {
  wchar_t *w = cg_utf8_to_wide(path);
  if (!w) return CG_ERR_NOMEM;
  BOOL ok = RemoveDirectoryW(w);
  cg_free(w);
  return ok ? CG_OK : CG_ERR_IO;
}

static void enable_privilege(const wchar_t *name) {
  HANDLE tok = NULL;
  TOKEN_PRIVILEGES tp = {.PrivilegeCount = 1};
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &tok)) return;
  if (LookupPrivilegeValueW(NULL, name, &tp.Privileges[0].Luid)) {
    tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    AdjustTokenPrivileges(tok, FALSE, &tp, sizeof(tp), NULL, NULL);
  }
  CloseHandle(tok);
}

static int secure_one(const wchar_t *w, const char *shown, int depth, PSID admins, PACL dacl, char *err,
                      size_t errlen) {
  DWORD a = GetFileAttributesW(w);
  if (a == INVALID_FILE_ATTRIBUTES || !(a & FILE_ATTRIBUTE_DIRECTORY) || (a & FILE_ATTRIBUTE_REPARSE_POINT)) {
    cg_snprintf(err, errlen, "%s is %s; remove it and run setup again", shown,
                a == INVALID_FILE_ATTRIBUTES         ? "not readable"
                : (a & FILE_ATTRIBUTE_REPARSE_POINT) ? "a junction or link, not a plain folder"
                                                     : "not a folder");
    return CG_ERR_ACCESS;
  }
  DWORD e = SetNamedSecurityInfoW(
      (LPWSTR)w, SE_FILE_OBJECT,
      OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
          (depth == 0 ? PROTECTED_DACL_SECURITY_INFORMATION : UNPROTECTED_DACL_SECURITY_INFORMATION),
      admins, NULL, depth == 0 ? dacl : NULL, NULL);
  if (e != ERROR_SUCCESS && depth > 0) /* below the top: owner, and the DACL inherited from above */
    e = SetNamedSecurityInfoW((LPWSTR)w, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, admins, NULL, NULL, NULL);
  if (e != ERROR_SUCCESS) {
    char t[256];
    cg_win32_error_text(e, t, sizeof(t));
    cg_snprintf(err, errlen, "cannot give %s to Administrators and restrict it to SYSTEM and Administrators: %s", shown,
                t);
    return CG_ERR_ACCESS;
  }
  if (depth >= 4) return CG_OK;
  size_t wl = wcslen(w);
  wchar_t *pat = cg_calloc(wl + 3, sizeof(wchar_t));
  if (!pat) return CG_ERR_NOMEM;
  memcpy(pat, w, wl * sizeof(wchar_t));
  memcpy(pat + wl, L"\\*", 3 * sizeof(wchar_t));
  WIN32_FIND_DATAW fd;
  HANDLE f = FindFirstFileW(pat, &fd);
  cg_free(pat);
  int rc = CG_OK;
  for (BOOL more = f != INVALID_HANDLE_VALUE; more && rc == CG_OK; more = FindNextFileW(f, &fd)) {
    if (!(fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || !wcscmp(fd.cFileName, L".") ||
        !wcscmp(fd.cFileName, L".."))
      continue;
    size_t cl = wcslen(fd.cFileName);
    wchar_t *cw = cg_calloc(wl + cl + 2, sizeof(wchar_t));
    if (!cw) {
      rc = CG_ERR_NOMEM;
      break;
    }
    memcpy(cw, w, wl * sizeof(wchar_t));
    cw[wl] = L'\\';
    memcpy(cw + wl + 1, fd.cFileName, cl * sizeof(wchar_t));
    char *cs = cg_wide_to_utf8(cw);
    rc = secure_one(cw, cs ? cs : shown, depth + 1, admins, dacl, err, errlen);
    cg_free(cs);
    cg_free(cw);
  }
  if (f != INVALID_HANDLE_VALUE) FindClose(f);
  return rc;
}

int cg_dir_secure(const char *path, char *err, size_t errlen) {
  /* protected (no inheritance from ProgramData), full control for SYSTEM and Administrators,
   * inherited by everything below; nobody else, since the configuration can hold a SAS URL. The
   * owner becomes Administrators: a folder a standard user created first stays theirs otherwise,
   * and an owner can always rewrite the DACL. */
  static const wchar_t sddl[] = L"O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
  PSECURITY_DESCRIPTOR sd = NULL;
  wchar_t *w = cg_utf8_to_wide(path);
  int rc = CG_ERR_NOMEM;
  enable_privilege(L"SeTakeOwnershipPrivilege");
  enable_privilege(L"SeRestorePrivilege");
  if (w && ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL)) {
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = NULL;
    PSID owner = NULL;
    GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
    GetSecurityDescriptorOwner(sd, &owner, &defaulted);
    rc = secure_one(w, path, 0, owner, dacl, err, errlen);
    LocalFree(sd);
  } else if (w) {
    cg_snprintf(err, errlen, "cannot build the security descriptor");
    rc = CG_ERR_INTERNAL;
  }
  cg_free(w);
  return rc;
}

/* SIDs that may write what SYSTEM runs: SYSTEM, Administrators, TrustedInstaller, and this
 * process's own account (whoever runs cmgdiag could run the command anyway). */
static bool trusted_sid(PSID sid, const wchar_t *self) {
  static const wchar_t *const ok[] = {L"S-1-5-18", L"S-1-5-32-544",
                                      L"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"};
  wchar_t *s = NULL;
  bool r = false;
  if (!ConvertSidToStringSidW(sid, &s)) return false;
  for (size_t i = 0; i < CG_ARRAY_LEN(ok) && !r; i++)
    r = _wcsicmp(s, ok[i]) == 0;
  if (!r && self) r = _wcsicmp(s, self) == 0;
  LocalFree(s);
  return r;
}

static void sid_name(PSID sid, char *out, size_t outlen) {
  wchar_t name[128], dom[128];
  DWORD nl = CG_ARRAY_LEN(name), dl = CG_ARRAY_LEN(dom);
  SID_NAME_USE use;
  wchar_t *s = NULL;
  if (LookupAccountSidW(NULL, sid, name, &nl, dom, &dl, &use)) {
    char *n = cg_wide_to_utf8(name), *d = cg_wide_to_utf8(dom);
    cg_snprintf(out, outlen, "%s%s%s", d && *d ? d : "", d && *d ? "\\" : "", n ? n : "?");
    cg_free(n);
    cg_free(d);
  } else if (ConvertSidToStringSidW(sid, &s)) {
    char *u = cg_wide_to_utf8(s);
    cg_strlcpy(out, u ? u : "?", outlen);
    cg_free(u);
    LocalFree(s);
  } else {
    cg_strlcpy(out, "?", outlen);
  }
}

/* level 0: the file; 1: its folder; 2: a folder above. */
static int admin_only_one(const wchar_t *w, const char *shown, int level, const wchar_t *self, char *why,
                          size_t whylen) {
  PSID owner = NULL;
  PACL dacl = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                                  NULL, &dacl, NULL, &sd);
  if (e != ERROR_SUCCESS) {
    cg_snprintf(why, whylen, "cannot read the permissions of %s (error %lu)", shown, (unsigned long)e);
    return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? CG_ERR_NOTFOUND : CG_ERR_IO;
  }
  int rc = CG_OK;
  char who[300];
  const DWORD generic = GENERIC_WRITE | GENERIC_ALL | WRITE_DAC | WRITE_OWNER;
  DWORD mask = level == 0   ? generic | DELETE | FILE_WRITE_DATA | FILE_APPEND_DATA
               : level == 1 ? generic | DELETE | FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD
                            : generic | DELETE | FILE_DELETE_CHILD;
  if (owner && !trusted_sid(owner, self)) {
    sid_name(owner, who, sizeof(who));
    cg_snprintf(why, whylen, "%s is owned by %s, not by Administrators or SYSTEM", shown, who);
    rc = CG_ERR_ACCESS;
  } else if (!dacl) {
    cg_snprintf(why, whylen, "%s has no access control list: everyone may change it", shown);
    rc = CG_ERR_ACCESS;
  }
  for (DWORD i = 0; rc == CG_OK && dacl && i < dacl->AceCount; i++) {
    ACE_HEADER *h = NULL;
    if (!GetAce(dacl, i, (void **)&h) || h->AceType != ACCESS_ALLOWED_ACE_TYPE || (h->AceFlags & INHERIT_ONLY_ACE))
      continue;
    ACCESS_ALLOWED_ACE *a = (ACCESS_ALLOWED_ACE *)h;
    if (!(a->Mask & mask) || trusted_sid((PSID)&a->SidStart, self)) continue;
    sid_name((PSID)&a->SidStart, who, sizeof(who));
    cg_snprintf(why, whylen, "%s can be changed by %s (access mask 0x%lx)", shown, who, (unsigned long)a->Mask);
    rc = CG_ERR_ACCESS;
  }
  LocalFree(sd);
  return rc;
}

static wchar_t *self_sid(void) {
  HANDLE tok = NULL;
  wchar_t *out = NULL;
  BYTE buf[256];
  DWORD len = 0;
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) &&
      GetTokenInformation(tok, TokenUser, buf, sizeof(buf), &len)) {
    wchar_t *s = NULL;
    if (ConvertSidToStringSidW(((TOKEN_USER *)buf)->User.Sid, &s)) {
      out = _wcsdup(s);
      LocalFree(s);
    }
  }
  if (tok) CloseHandle(tok);
  return out;
}

int cg_path_admin_only(const char *path, char *why, size_t whylen) {
  wchar_t *w = cg_utf8_to_wide(path), *self = self_sid();
  wchar_t full[1024];
  int rc = CG_ERR_NOMEM;
  if (!w) goto out;
  DWORD n = GetFullPathNameW(w, CG_ARRAY_LEN(full), full, NULL);
  if (n == 0 || n >= CG_ARRAY_LEN(full)) {
    cg_snprintf(why, whylen, "%s: not a usable path", path);
    rc = CG_ERR_NOTFOUND;
    goto out;
  }
  if (GetFileAttributesW(full) == INVALID_FILE_ATTRIBUTES) {
    cg_snprintf(why, whylen, "%s does not exist", path);
    rc = CG_ERR_NOTFOUND;
    goto out;
  }
  rc = CG_OK;
  for (int level = 0; rc == CG_OK; level++) {
    char *shown = cg_wide_to_utf8(full);
    rc = admin_only_one(full, shown ? shown : path, level > 2 ? 2 : level, self, why, whylen);
    cg_free(shown);
    wchar_t *sl = wcsrchr(full, L'\\');
    /* stop at the volume root ("C:\") */
    if (!sl || sl - full < 2 || (sl - full == 2 && full[1] == L':' && !sl[1])) break;
    if (sl - full == 2 && full[1] == L':')
      sl[1] = L'\0';
    else
      *sl = L'\0';
  }
out:
  cg_free(w);
  free(self);
  return rc;
}

static bool absolute_w(const char *p) {
  return (p[0] && p[1] == ':' && (p[2] == '\\' || p[2] == '/')) ||
         ((p[0] == '\\' || p[0] == '/') && (p[1] == '\\' || p[1] == '/'));
}

/* "\\?\C:\x" -> "C:\x", "\\?\UNC\srv\share\x" -> "\\srv\share\x" (caller frees). */
static char *dos_path(const wchar_t *w) {
  char *u = cg_wide_to_utf8(w);
  if (!u) return NULL;
  char *out = NULL;
  if (strncmp(u, "\\\\?\\UNC\\", 8) == 0)
    out = cg_asprintf("\\\\%s", u + 8);
  else if (strncmp(u, "\\\\?\\", 4) == 0)
    out = cg_strdup(u + 4);
  else
    out = cg_strdup(u);
  cg_free(u);
  return out;
}

int cg_file_open_admin_only(const char *path, intptr_t *out, char **final_path, char *why, size_t whylen) {
  *out = (intptr_t)INVALID_HANDLE_VALUE;
  if (final_path) *final_path = NULL;
  if (!absolute_w(path)) {
    cg_snprintf(why, whylen, "%s is not a full path (it must start with a drive letter or \\\\server)", path);
    return CG_ERR_ACCESS;
  }
  wchar_t *w = cg_utf8_to_wide(path);
  if (!w) return CG_ERR_NOMEM;
  /* Opened first, sharing only reads: until it is closed nobody can write, rename or delete the
   * file, so what was checked is what starts. */
  HANDLE h = CreateFileW(w, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
  DWORD e = GetLastError();
  cg_free(w);
  if (h == INVALID_HANDLE_VALUE) {
    char t[256];
    cg_win32_error_text(e, t, sizeof(t));
    cg_snprintf(why, whylen, "%s: %s", path, t);
    return win_status(e);
  }
  int rc = CG_OK;
  char *fin = NULL;
  BY_HANDLE_FILE_INFORMATION fi;
  wchar_t buf[1024];
  DWORD n;
  if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &fi) ||
      (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    cg_snprintf(why, whylen, "%s is not a regular file", path);
    rc = CG_ERR_ACCESS;
  } else if ((rc = cg_path_admin_only(path, why, whylen)) != CG_OK) {
    /* the path as given: every folder on it, junctions and links included */
  } else if ((n = GetFinalPathNameByHandleW(h, buf, CG_ARRAY_LEN(buf), FILE_NAME_NORMALIZED)) == 0 ||
             n >= CG_ARRAY_LEN(buf) || !(fin = dos_path(buf))) {
    cg_snprintf(why, whylen, "cannot tell which file %s leads to", path);
    rc = CG_ERR_ACCESS;
  } else {
    rc = cg_path_admin_only(fin, why, whylen); /* where it leads */
  }
  if (rc == CG_OK && final_path) {
    *final_path = fin;
    fin = NULL;
  }
  cg_free(fin);
  if (rc == CG_OK)
    *out = (intptr_t)h;
  else
    CloseHandle(h);
  return rc;
}

void cg_file_close_handle(intptr_t h) {
  if ((HANDLE)h != INVALID_HANDLE_VALUE && h != 0) CloseHandle((HANDLE)h);
}

static DWORD attrs_of(const char *path) {
  wchar_t *w = cg_utf8_to_wide(path);
  DWORD a = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
  cg_free(w);
  return a;
}

bool cg_path_is_plain_file(const char *path) {
  DWORD a = attrs_of(path);
  return a != INVALID_FILE_ATTRIBUTES && !(a & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT));
}

bool cg_path_is_plain_dir(const char *path) {
  DWORD a = attrs_of(path);
  return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY) && !(a & FILE_ATTRIBUTE_REPARSE_POINT);
}

int cg_dir_ensure_private(const char *path, char *why, size_t whylen) {
  DWORD a = attrs_of(path);
  if (a == INVALID_FILE_ATTRIBUTES) {
    int rc = cg_mkdirs(path);
    if (rc != CG_OK) {
      cg_snprintf(why, whylen, "cannot create %s: %s", path, cg_strerror(rc));
      return rc;
    }
    a = attrs_of(path);
  }
  if (a == INVALID_FILE_ATTRIBUTES || !(a & FILE_ATTRIBUTE_DIRECTORY) || (a & FILE_ATTRIBUTE_REPARSE_POINT)) {
    cg_snprintf(why, whylen, "%s is %s, not a plain folder; the agent does not write through it", path,
                a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_REPARSE_POINT) ? "a junction or link" : "a file");
    return CG_ERR_ACCESS;
  }
  wchar_t *w = cg_utf8_to_wide(path), *self = self_sid();
  int rc = w ? admin_only_one(w, path, 1, self, why, whylen) : CG_ERR_NOMEM;
  cg_free(w);
  free(self);
  return rc;
}

enum cg_path_kind cg_path_kind(const char *path) {
  wchar_t *w = cg_utf8_to_wide(path);
  if (!w) return CG_PATH_MISSING;
  HANDLE h = CreateFileW(w, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                         OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
  cg_free(w);
  if (h == INVALID_HANDLE_VALUE) return CG_PATH_MISSING;
  BY_HANDLE_FILE_INFORMATION fi;
  enum cg_path_kind k = CG_PATH_OTHER;
  if (GetFileType(h) == FILE_TYPE_DISK && GetFileInformationByHandle(h, &fi))
    k = (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? CG_PATH_DIR : CG_PATH_FILE;
  CloseHandle(h);
  return k;
}
