/* Device state on Windows. */
#include <windows.h>

#include <string.h>

#include "device.h"
#include "sys.h"
#include "utf_win32.h"

int cg_power_status(int *on_ac, int *battery_percent) {
  SYSTEM_POWER_STATUS s;
  *on_ac = -1;
  *battery_percent = -1;
  if (!GetSystemPowerStatus(&s)) return CG_OK;
  *on_ac = s.ACLineStatus == 1 ? 1 : s.ACLineStatus == 0 ? 0 : -1;
  /* BatteryFlag 128: no system battery; 255: unknown */
  if (s.BatteryFlag != 128 && s.BatteryFlag != 255 && s.BatteryLifePercent <= 100)
    *battery_percent = s.BatteryLifePercent;
  return CG_OK;
}

/* NL_NETWORK_CONNECTIVITY_HINT of netioapi.h (Windows 10 2004), declared here: older headers lack it. */
struct cg_connectivity_hint {
  int level, cost;
  BOOLEAN approaching_limit, over_limit, roaming;
};

int cg_network_metered(int *roaming) {
  HMODULE m = LoadLibraryExW(L"iphlpapi.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
  typedef DWORD(WINAPI * hint_fn)(struct cg_connectivity_hint *);
  hint_fn f = m ? (hint_fn)(void (*)(void))GetProcAddress(m, "GetNetworkConnectivityHint") : NULL;
  int r = -1;
  struct cg_connectivity_hint h;
  memset(&h, 0, sizeof(h));
  /* cost: 0 unknown, 1 unrestricted, 2 fixed (data plan), 3 variable (per byte) */
  if (roaming) *roaming = -1;
  if (f && f(&h) == NO_ERROR && h.cost != 0) {
    r = (h.cost >= 2 || h.over_limit || h.roaming) ? 1 : 0;
    if (roaming) *roaming = h.roaming ? 1 : 0;
  }
  if (m) FreeLibrary(m);
  return r;
}

int cg_service_running(const char *name, bool *running) {
  wchar_t *w = cg_utf8_to_wide(name);
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  SC_HANDLE svc = scm && w ? OpenServiceW(scm, w, SERVICE_QUERY_STATUS) : NULL;
  int r = CG_OK;
  SERVICE_STATUS st;
  *running = false;
  if (!svc)
    r = GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST ? CG_ERR_NOTFOUND : CG_ERR_IO;
  else if (QueryServiceStatus(svc, &st))
    *running = st.dwCurrentState == SERVICE_RUNNING;
  else
    r = CG_ERR_IO;
  if (svc) CloseServiceHandle(svc);
  if (scm) CloseServiceHandle(scm);
  cg_free(w);
  return r;
}

char *cg_system_volume(void) {
  char *d = cg_getenv("SystemDrive");
  char *out = cg_asprintf("%s\\", d && *d ? d : "C:");
  cg_free(d);
  return out;
}
