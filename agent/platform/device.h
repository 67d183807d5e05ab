/* The state of the device that decides whether a long operation (an in-place upgrade) can start:
 * power, the network's cost, a service's state, the system volume. */
#ifndef CG_PLATFORM_DEVICE_H
#define CG_PLATFORM_DEVICE_H

#include "cg.h"

/* *on_ac: 1 on mains power, 0 on battery, -1 unknown; *battery_percent: 0-100, -1 when there is no
 * battery or it is unknown. Windows: GetSystemPowerStatus; Linux: /sys/class/power_supply. */
int cg_power_status(int *on_ac, int *battery_percent);
/* 1 when the internet connection is metered (a cost, a data limit, roaming), 0 when not, -1 unknown;
 * *roaming (may be NULL) the same for a roaming connection. Windows 10 2004+:
 * GetNetworkConnectivityHint; elsewhere unknown. */
int cg_network_metered(int *roaming);
/* *running: true when the service runs. CG_ERR_NOTFOUND when no such service, CG_ERR_UNSUPPORTED off
 * Windows, CG_ERR_IO when the service manager cannot tell. */
int cg_service_running(const char *name, bool *running);
/* The folder the system volume is mounted at: %SystemDrive%\ on Windows, "/" elsewhere (caller frees). */
char *cg_system_volume(void);

#endif
