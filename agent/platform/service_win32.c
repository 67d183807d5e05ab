/* The Windows service (see service.h). */
#include "service.h"

#include <windows.h>

#include "runtime.h"
#include "utf_win32.h"

#define W_NAME L"cmgdiag"

static int fail(char *msg, size_t len, const char *what) {
  DWORD e = GetLastError();
  char t[256];
  cg_win32_error_text(e, t, sizeof(t));
  cg_snprintf(msg, len, "%s: %s (error %lu)%s", what, t, (unsigned long)e,
              e == ERROR_ACCESS_DENIED ? "; run it from an elevated prompt (as administrator)" : "");
  return e == ERROR_ACCESS_DENIED ? CG_ERR_ACCESS : CG_ERR_IO;
}

static SC_HANDLE open_scm(void) { return OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS); }

/* Description, delayed automatic start, restart on failure, and the Event Log source: for a service
 * installed here or by the MSI (whose ServiceInstall table cannot say delayed start). */
/* An unquoted command line with a space in the folder ("C:\\Program Files\\cmgdiag\\cmgdiag.exe service
 * run") lets Windows try C:\\Program.exe first (the "unquoted service path" weakness), and some
 * installers write it that way: quote the program. */
static void quote_image_path(SC_HANDLE svc) {
  DWORD need = 0;
  QueryServiceConfigW(svc, NULL, 0, &need);
  QUERY_SERVICE_CONFIGW *qc = need ? cg_calloc(1, need) : NULL;
  if (qc && QueryServiceConfigW(svc, qc, need, &need) && qc->lpBinaryPathName && qc->lpBinaryPathName[0] != L'"') {
    wchar_t *p = qc->lpBinaryPathName, *exe = NULL;
    for (wchar_t *c = p; *c; c++)
      if (!_wcsnicmp(c, L".exe", 4) && (c[4] == L' ' || c[4] == 0)) {
        exe = c + 4;
        break;
      }
    if (exe) {
      size_t n = wcslen(p) + 3;
      wchar_t *q = cg_calloc(n, sizeof(wchar_t));
      if (q) {
        _snwprintf(q, n, L"\"%.*ls\"%ls", (int)(exe - p), p, exe);
        ChangeServiceConfigW(svc, SERVICE_NO_CHANGE, SERVICE_NO_CHANGE, SERVICE_NO_CHANGE, q, NULL, NULL, NULL, NULL,
                             NULL, NULL);
        cg_free(q);
      }
    }
  }
  cg_free(qc);
}

static void configure(SC_HANDLE svc) {
  quote_image_path(svc);
  wchar_t desc[] = L"Checks that this device can be managed through the Configuration Manager Cloud Management "
                   L"Gateway and reports to the collection point.";
  SERVICE_DESCRIPTIONW d = {desc};
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &d);
  SERVICE_DELAYED_AUTO_START_INFO delayed = {TRUE};
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed);
  /* restart after 1 minute, twice, then after 10 minutes; the failure count resets after a day */
  SC_ACTION acts[3] = {{SC_ACTION_RESTART, 60000}, {SC_ACTION_RESTART, 60000}, {SC_ACTION_RESTART, 600000}};
  SERVICE_FAILURE_ACTIONSW fa = {86400, NULL, NULL, 3, acts};
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa);
  /* also when the agent stops with an error of its own (a non-zero exit code), not only on a crash */
  SERVICE_FAILURE_ACTIONS_FLAG flag = {TRUE};
  ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag);
  HKEY k;
  if (RegCreateKeyExW(HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\cmgdiag", 0,
                      NULL, 0, KEY_SET_VALUE, NULL, &k, NULL) == ERROR_SUCCESS) {
    DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    RegSetValueExW(k, L"TypesSupported", 0, REG_DWORD, (const BYTE *)&types, sizeof(types));
    /* the messages are in cmgdiag.exe itself (its message table): Event Viewer shows their text */
    wchar_t self[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH);
    if (n > 0 && n < MAX_PATH)
      RegSetValueExW(k, L"EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)self, (n + 1) * sizeof(wchar_t));
    RegCloseKey(k);
  }
}

int cg_service_install(const char *exe, const char *config, char *msg, size_t len) {
  char *cmd =
      config ? cg_asprintf("\"%s\" -c \"%s\" service run", exe, config) : cg_asprintf("\"%s\" service run", exe);
  wchar_t *wcmd = cmd ? cg_utf8_to_wide(cmd) : NULL;
  cg_free(cmd);
  if (!wcmd) return CG_ERR_NOMEM;
  int rc = CG_OK;
  SC_HANDLE scm = open_scm(), svc = NULL;
  if (!scm) {
    rc = fail(msg, len, "cannot open the Service Control Manager");
    goto out;
  }
  svc = CreateServiceW(scm, W_NAME, L"cmgdiag (CMG readiness agent)", SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
                       SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, wcmd, NULL, NULL, NULL, NULL /* LocalSystem */, NULL);
  if (!svc) {
    rc = GetLastError() == ERROR_SERVICE_EXISTS
             ? (cg_snprintf(msg, len, "the service cmgdiag is already installed"), CG_ERR_BUSY)
             : fail(msg, len, "cannot create the service");
    goto out;
  }
  configure(svc);
  cg_snprintf(msg, len, "installed the service cmgdiag (LocalSystem, automatic delayed start, restarts on failure)");
out:
  if (svc) CloseServiceHandle(svc);
  if (scm) CloseServiceHandle(scm);
  cg_free(wcmd);
  return rc;
}

static int with_service(DWORD access, SC_HANDLE *scm, SC_HANDLE *svc, char *msg, size_t len) {
  *svc = NULL;
  *scm = open_scm();
  if (!*scm) return fail(msg, len, "cannot open the Service Control Manager");
  *svc = OpenServiceW(*scm, W_NAME, access);
  if (!*svc) {
    int rc = GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST
                 ? (cg_snprintf(msg, len, "the service cmgdiag is not installed"), CG_ERR_NOTFOUND)
                 : fail(msg, len, "cannot open the service cmgdiag");
    CloseServiceHandle(*scm);
    return rc;
  }
  return CG_OK;
}

static bool wait_state(SC_HANDLE svc, DWORD want, DWORD ms) {
  SERVICE_STATUS st;
  for (DWORD waited = 0; waited <= ms; waited += 200) {
    if (QueryServiceStatus(svc, &st) && st.dwCurrentState == want) return true;
    Sleep(200);
  }
  return false;
}

int cg_service_stop(char *msg, size_t len) {
  SC_HANDLE scm, svc;
  int rc = with_service(SERVICE_STOP | SERVICE_QUERY_STATUS, &scm, &svc, msg, len);
  if (rc != CG_OK) return rc;
  SERVICE_STATUS st;
  if (!ControlService(svc, SERVICE_CONTROL_STOP, &st) && GetLastError() != ERROR_SERVICE_NOT_ACTIVE)
    rc = fail(msg, len, "cannot stop the service cmgdiag");
  else if (!wait_state(svc, SERVICE_STOPPED, 10000))
    rc = (cg_snprintf(msg, len, "the service cmgdiag did not stop within 10 s"), CG_ERR_TIMEOUT);
  else
    cg_snprintf(msg, len, "stopped the service cmgdiag");
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

int cg_service_uninstall(char *msg, size_t len) {
  char ignore[256];
  cg_service_stop(ignore, sizeof(ignore));
  SC_HANDLE scm, svc;
  int rc = with_service(DELETE, &scm, &svc, msg, len);
  if (rc != CG_OK) return rc;
  if (!DeleteService(svc))
    rc = fail(msg, len, "cannot delete the service cmgdiag");
  else
    cg_snprintf(msg, len, "removed the service cmgdiag (the spool, the log and the configuration stay)");
  RegDeleteKeyW(HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\cmgdiag");
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

int cg_service_start(char *msg, size_t len) {
  SC_HANDLE scm, svc;
  int rc = with_service(SERVICE_START | SERVICE_QUERY_STATUS, &scm, &svc, msg, len);
  if (rc != CG_OK) return rc;
  if (!StartServiceW(svc, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
    rc = fail(msg, len, "cannot start the service cmgdiag");
  else if (!wait_state(svc, SERVICE_RUNNING, 10000))
    rc = (cg_snprintf(msg, len, "the service cmgdiag did not report running within 10 s"), CG_ERR_TIMEOUT);
  else
    cg_snprintf(msg, len, "started the service cmgdiag");
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return rc;
}

/* ---- running under the SCM ------------------------------------------------------------------------ */

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static int (*svc_body)(void *);
static void *svc_arg;
static int svc_rc;

static void report(DWORD state, DWORD exit_code, DWORD wait_hint) {
  status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  status.dwCurrentState = state;
  status.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PARAMCHANGE : 0;
  status.dwWin32ExitCode = exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
  status.dwServiceSpecificExitCode = exit_code;
  status.dwWaitHint = wait_hint;
  status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : status.dwCheckPoint + 1;
  SetServiceStatus(status_handle, &status);
}

static DWORD WINAPI on_control(DWORD ctl, DWORD type, LPVOID data, LPVOID ctx) {
  (void)type;
  (void)data;
  (void)ctx;
  switch (ctl) {
  case SERVICE_CONTROL_STOP:
  case SERVICE_CONTROL_SHUTDOWN:
    report(SERVICE_STOP_PENDING, 0, 5000);
    cg_events_raise(CG_WAKE_STOP);
    return NO_ERROR;
  case SERVICE_CONTROL_PARAMCHANGE: cg_events_raise(CG_WAKE_RELOAD); return NO_ERROR;
  case SERVICE_CONTROL_INTERROGATE: return NO_ERROR;
  default: return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv) {
  (void)argc;
  (void)argv;
  status_handle = RegisterServiceCtrlHandlerExW(W_NAME, on_control, NULL);
  if (!status_handle) return;
  report(SERVICE_START_PENDING, 0, 10000);
  cg_events_init();
  report(SERVICE_RUNNING, 0, 0);
  cg_eventlog(0, "cmgdiag service started");
  svc_rc = svc_body(svc_arg);
  cg_eventlog(svc_rc ? 2 : 0,
              svc_rc ? "cmgdiag service stopped after an error; see cmgdiag.log" : "cmgdiag service stopped");
  report(SERVICE_STOPPED, (DWORD)svc_rc, 0);
}

int cg_service_dispatch(int (*body)(void *), void *arg, char *msg, size_t len) {
  svc_body = body;
  svc_arg = arg;
  SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)W_NAME, service_main}, {NULL, NULL}};
  if (!StartServiceCtrlDispatcherW(table)) {
    if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      cg_snprintf(msg, len, "'service run' is what the Service Control Manager starts; use 'cmgdiag run' in a console");
      return CG_ERR_UNSUPPORTED;
    }
    return fail(msg, len, "cannot connect to the Service Control Manager");
  }
  return svc_rc ? CG_ERR_INTERNAL : CG_OK;
}

void cg_event_report(unsigned id, int type, const char *const *strings, size_t n) {
  wchar_t *w[8] = {0};
  size_t k = n < 8 ? n : 8;
  for (size_t i = 0; i < k; i++)
    w[i] = cg_utf8_to_wide(strings[i] ? strings[i] : "");
  HANDLE h = RegisterEventSourceW(NULL, W_NAME);
  if (h) {
    WORD t = type == 2 ? EVENTLOG_ERROR_TYPE : type == 1 ? EVENTLOG_WARNING_TYPE : EVENTLOG_INFORMATION_TYPE;
    /* the message file's ID carries its severity in the top two bits (windmc): 1, 2, 3 */
    DWORD full = (DWORD)id | ((DWORD)(type == 2 ? 3 : type == 1 ? 2 : 1) << 30);
    ReportEventW(h, t, 0, full, NULL, (WORD)k, 0, (LPCWSTR *)w, NULL);
    DeregisterEventSource(h);
  }
  for (size_t i = 0; i < k; i++)
    cg_free(w[i]);
}

void cg_eventlog(int type, const char *msg) {
  const char *s[1] = {msg};
  cg_event_report(type == 2 ? 3 : type == 1 ? 2 : 1, type, s, 1);
}

int cg_service_configure(char *msg, size_t len) {
  SC_HANDLE scm, svc;
  int rc = with_service(SERVICE_CHANGE_CONFIG | SERVICE_QUERY_CONFIG, &scm, &svc, msg, len);
  if (rc != CG_OK) return rc;
  configure(svc);
  cg_snprintf(msg, len, "configured the service cmgdiag (delayed start, restart on failure, Event Log source)");
  CloseServiceHandle(svc);
  CloseServiceHandle(scm);
  return CG_OK;
}
