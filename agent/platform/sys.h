/* Clocks, identity of the machine and process, console. */
#ifndef CG_PLATFORM_SYS_H
#define CG_PLATFORM_SYS_H

#include "cg.h"

struct cg_localtime {
  int year, month, day, hour, minute, second, millisecond;
  int bias_min; /* Windows convention: UTC = local + bias (minutes); +240 in US Eastern summer */
};

int64_t cg_time_utc_ms(void);  /* wall clock, ms since the Unix epoch */
int64_t cg_time_mono_ms(void); /* monotonic, for durations and deadlines */
void cg_time_local(struct cg_localtime *out);
/* RFC 3339 UTC with milliseconds, e.g. 2026-11-25T10:00:00.123Z (buffer >= 32). */
void cg_time_rfc3339(int64_t utc_ms, char *buf, size_t len);
/* True when a failed connect's OS error (CURLINFO_OS_ERRNO) means "refused": nothing listens. */
bool cg_platform_connect_refused(long os_errno);
/* How this platform makes a folder private, in words for `setup`'s report. */
const char *cg_platform_private_folder_words(void);

void cg_sleep_ms(int64_t ms);

unsigned long cg_thread_id(void);
unsigned long cg_process_id(void);
/* Host name (short, as Windows shows it); caller frees. */
char *cg_hostname(void);
/* "Windows 10.0.22631" / "Linux 6.1.0-..." ; caller frees. */
char *cg_os_description(void);
/* "windows" or "linux" / "posix". */
const char *cg_platform_name(void);

/* True when stdout is an interactive console; on Windows this also enables ANSI sequences. */
bool cg_stdout_is_tty(void);
/* Replaces argv by a UTF-8 copy of the command line (Windows: from GetCommandLineW; POSIX: as
 * given). Never fails: keeps the original on error. The copy lives until exit. */
void cg_platform_args(int *argc, char ***argv);

/* Path of a Windows system tool ("dsregcmd.exe" -> %SystemRoot%\System32\dsregcmd.exe); NULL on
 * platforms without it. Caller frees. */
char *cg_system_tool_path(const char *exe);
/* The console (OEM) code page that command-line tools write in: GetOEMCP() on Windows, 850
 * elsewhere (a Western European default for captures read on Linux). */
int cg_platform_oem_codepage(void);

/* True when this process runs as LocalSystem (S-1-5-18), as the service does. POSIX: false. */
bool cg_running_as_system(void);

/* Full path of the running executable (UTF-8); caller frees. */
char *cg_executable_path(void);

/* Environment variable (UTF-8); caller frees; NULL when unset. */
char *cg_getenv(const char *name);

#endif
