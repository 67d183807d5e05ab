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
