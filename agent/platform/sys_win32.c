#include <winsock2.h>
/* Win32 clocks, identity and console. */
#include <windows.h>
#include <shellapi.h>

#include <stdio.h>

#include "sys.h"
#include "utf_win32.h"

/* FILETIME counts 100 ns ticks since 1601-01-01. */
#define EPOCH_DIFF_MS 11644473600000LL

int64_t cg_time_utc_ms(void) {
  FILETIME ft;
  GetSystemTimeAsFileTime(&ft);
  ULARGE_INTEGER u = {.LowPart = ft.dwLowDateTime, .HighPart = ft.dwHighDateTime};
  return (int64_t)(u.QuadPart / 10000) - EPOCH_DIFF_MS;
}

int64_t cg_time_mono_ms(void) { return (int64_t)GetTickCount64(); }

void cg_time_local(struct cg_localtime *out) {
  SYSTEMTIME st;
  TIME_ZONE_INFORMATION tz;
  GetLocalTime(&st);
  DWORD which = GetTimeZoneInformation(&tz);
  long bias = tz.Bias;
  if (which == TIME_ZONE_ID_DAYLIGHT)
    bias += tz.DaylightBias;
  else if (which == TIME_ZONE_ID_STANDARD)
    bias += tz.StandardBias;
  out->year = st.wYear;
  out->month = st.wMonth;
  out->day = st.wDay;
  out->hour = st.wHour;
  out->minute = st.wMinute;
  out->second = st.wSecond;
  out->millisecond = st.wMilliseconds;
  out->bias_min = (int)bias;
}

void cg_time_rfc3339(int64_t utc_ms, char *buf, size_t len) {
  ULARGE_INTEGER u;
  u.QuadPart = (ULONGLONG)(utc_ms + EPOCH_DIFF_MS) * 10000ULL;
  FILETIME ft = {.dwLowDateTime = u.LowPart, .dwHighDateTime = u.HighPart};
  SYSTEMTIME st;
  FileTimeToSystemTime(&ft, &st);
  cg_snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", st.wYear, st.wMonth, st.wDay, st.wHour, st.wMinute,
              st.wSecond, st.wMilliseconds);
}

unsigned long cg_thread_id(void) { return GetCurrentThreadId(); }
unsigned long cg_process_id(void) { return GetCurrentProcessId(); }

char *cg_hostname(void) {
  wchar_t name[MAX_COMPUTERNAME_LENGTH + 1];
  DWORD n = (DWORD)CG_ARRAY_LEN(name);
  if (!GetComputerNameW(name, &n)) return cg_strdup("unknown");
  return cg_wide_to_utf8(name);
}

char *cg_os_description(void) {
  /* GetVersionEx lies to unmanifested programs; RtlGetVersion does not. */
  typedef LONG(WINAPI * rtl_get_version_fn)(OSVERSIONINFOW *);
  OSVERSIONINFOW vi = {.dwOSVersionInfoSize = sizeof(vi)};
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  rtl_get_version_fn fn = ntdll ? (rtl_get_version_fn)(void (*)(void))GetProcAddress(ntdll, "RtlGetVersion") : NULL;
  if (!fn || fn(&vi) != 0) return cg_strdup("Windows");
  return cg_asprintf("Windows %lu.%lu.%lu", vi.dwMajorVersion, vi.dwMinorVersion, vi.dwBuildNumber);
}

const char *cg_platform_name(void) { return "windows"; }

bool cg_stdout_is_tty(void) {
  HANDLE h = GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD mode;
  if (h == INVALID_HANDLE_VALUE || !GetConsoleMode(h, &mode)) return false;
  SetConsoleMode(h, mode | 0x0004 /* ENABLE_VIRTUAL_TERMINAL_PROCESSING */);
  SetConsoleOutputCP(CP_UTF8);
  return true;
}

char *cg_getenv(const char *name) {
  wchar_t *wname = cg_utf8_to_wide(name);
  if (!wname) return NULL;
  char *res = NULL;
  DWORD n = GetEnvironmentVariableW(wname, NULL, 0);
  if (n > 0) {
    wchar_t *val = cg_malloc(n * sizeof(wchar_t));
    if (val && GetEnvironmentVariableW(wname, val, n) < n) res = cg_wide_to_utf8(val);
    cg_free(val);
  }
  cg_free(wname);
  return res;
}

void cg_platform_args(int *argc, char ***argv) {
  int n = 0;
  wchar_t **w = CommandLineToArgvW(GetCommandLineW(), &n);
  if (!w) return;
  char **a = cg_calloc((size_t)n + 1, sizeof(char *));
  for (int i = 0; a && i < n; i++) {
    if (!(a[i] = cg_wide_to_utf8(w[i]))) {
      LocalFree(w);
      return; /* keep the ANSI argv rather than a half-converted one */
    }
  }
  LocalFree(w);
  if (!a) return;
  *argc = n;
  *argv = a;
}

char *cg_executable_path(void) {
  wchar_t buf[32768];
  DWORD n = GetModuleFileNameW(NULL, buf, (DWORD)CG_ARRAY_LEN(buf));
  if (n == 0 || n >= CG_ARRAY_LEN(buf)) return NULL;
  return cg_wide_to_utf8(buf);
}

void cg_sleep_ms(int64_t ms) { Sleep(ms > 0 ? (DWORD)ms : 0); }

char *cg_system_tool_path(const char *exe) {
  char *root = cg_getenv("SystemRoot");
  char *path = cg_asprintf("%s\\System32\\%s", root ? root : "C:\\Windows", exe);
  cg_free(root);
  return path;
}

int cg_platform_oem_codepage(void) { return (int)GetOEMCP(); }

bool cg_running_as_system(void) {
  SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
  PSID system = NULL;
  BOOL member = FALSE;
  if (!AllocateAndInitializeSid(&nt, 1, SECURITY_LOCAL_SYSTEM_RID, 0, 0, 0, 0, 0, 0, 0, &system)) return false;
  if (!CheckTokenMembership(NULL, system, &member)) member = FALSE;
  FreeSid(system);
  return member != FALSE;
}

bool cg_platform_connect_refused(long os_errno) { return os_errno == WSAECONNREFUSED; }

const char *cg_platform_private_folder_words(void) { return "folder restricted to SYSTEM and Administrators"; }
