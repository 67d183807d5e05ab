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
  HANDLE h = CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                         disposition, flags, NULL);
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
  int rc = CG_OK;
  struct cg_buf b;
  char chunk[65536];
  HANDLE h = open_w(path, GENERIC_READ, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL);
  if (h == INVALID_HANDLE_VALUE) return win_status(GetLastError());
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
  HANDLE h = open_w(path, FILE_APPEND_DATA, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL);
  if (h == INVALID_HANDLE_VALUE) return win_status(GetLastError());
  int rc = write_all(h, data, len) ? CG_ERR_IO : CG_OK;
  CloseHandle(h);
  return rc;
}

int64_t cg_file_size(const char *path) {
  wchar_t *w = cg_utf8_to_wide(path);
  WIN32_FILE_ATTRIBUTE_DATA fa;
  BOOL ok = w && GetFileAttributesExW(w, GetFileExInfoStandard, &fa);
  cg_free(w);
  if (!ok) return -1;
  return (int64_t)(((uint64_t)fa.nFileSizeHigh << 32) | fa.nFileSizeLow);
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
               ? CG_OK : win_status(GetLastError());
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
  if (s[0] && s[1] == ':') s += 2;
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
  HANDLE h = open_w(probe, GENERIC_WRITE, CREATE_ALWAYS, FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE);
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


int cg_dir_list(const char *dir, char ***names, size_t *count) {
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
      if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY || fd.cFileName[0] == L'.') continue;
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

int cg_dir_secure(const char *path, char *err, size_t errlen) {
  /* protected (no inheritance from ProgramData), full control for SYSTEM and Administrators,
   * inherited by everything below; nobody else, since the configuration can hold a SAS URL */
  static const wchar_t sddl[] = L"D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
  PSECURITY_DESCRIPTOR sd = NULL;
  wchar_t *w = cg_utf8_to_wide(path);
  int rc = CG_ERR_NOMEM;
  if (w && ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL)) {
    BOOL present = FALSE, defaulted = FALSE;
    PACL dacl = NULL;
    GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
    DWORD e = SetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                                    NULL, NULL, dacl, NULL);
    if (e == ERROR_SUCCESS) {
      rc = CG_OK;
    } else {
      char t[256];
      cg_win32_error_text(e, t, sizeof(t));
      cg_snprintf(err, errlen, "cannot restrict %s to SYSTEM and Administrators: %s", path, t);
      rc = CG_ERR_ACCESS;
    }
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
  for (size_t i = 0; i < CG_ARRAY_LEN(ok) && !r; i++) r = _wcsicmp(s, ok[i]) == 0;
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
static int admin_only_one(const wchar_t *w, const char *shown, int level, const wchar_t *self, char *why, size_t whylen) {
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
    if (sl - full == 2 && full[1] == L':') sl[1] = L'\0';
    else *sl = L'\0';
  }
out:
  cg_free(w);
  free(self);
  return rc;
}
