/* A small program the process-spawn tests run as their child, on Linux and under wine.
 *   child_helper args A B ...     prints each argument as <A> on its own line
 *   child_helper exit N           exits with N
 *   child_helper echo TEXT        prints TEXT and a newline
 *   child_helper stderr TEXT      writes TEXT to stderr
 *   child_helper flood N          writes N bytes of 'x' to stdout
 *   child_helper -c N selftest …  a served self-test's worker (tests/security/test_relay.c): N bytes of 'x'
 *   child_helper sleep MS         sleeps, then prints "woke"
 *   child_helper grandchild MARKER MS
 *                                 starts itself as "marker MARKER MS" and waits for it
 *   child_helper marker FILE MS   sleeps MS, then creates FILE (proves it was not killed)
 *   child_helper sd-set PATH SDDL | sd-get PATH | attrs PATH | mklink LINK TARGET   (Windows) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cg.h"
#include "platform/fs.h"
#include "platform/proc.h"
#include "platform/sys.h"

/* child_plain_posix.c / child_plain_win32.c: spawn without cg_proc_run's isolation, wait. */
int plain_spawn_and_wait(const char *const *argv);
/* child_plain_win32.c: sd-set, sd-get, attrs, mklink (Windows only; 2 elsewhere). */
int platform_helper(int argc, char **argv);

int main(int argc, char **argv) {
  cg_platform_args(&argc, &argv);
  if (argc < 2) return 2;
  const char *mode = argv[1];
  if (!strcmp(mode, "args")) {
    for (int i = 2; i < argc; i++)
      printf("<%s>\n", argv[i]);
    return 0;
  }
  if (!strcmp(mode, "echo") && argc > 2) {
    puts(argv[2]);
    return 0;
  }
  if (!strcmp(mode, "both") && argc > 3) { /* one line to each stream */
    puts(argv[2]);
    fflush(stdout);
    fputs(argv[3], stderr);
    fputs("\n", stderr);
    return 0;
  }
  if (!strcmp(mode, "exit") && argc > 2) return (int)strtol(argv[2], NULL, 10);
  if (!strcmp(mode, "stderr") && argc > 2) {
    fputs(argv[2], stderr);
    return 0;
  }
  if (!strcmp(mode, "flood") && argc > 2) {
    long n = strtol(argv[2], NULL, 10);
    for (long i = 0; i < n; i++)
      putchar('x');
    return 0;
  }
  if (!strcmp(mode, "-c") && argc > 2) { /* started as a served worker: -c CONFIG selftest ... */
    long n = strtol(argv[2], NULL, 10);
    for (long i = 0; i < n; i++)
      putchar('x');
    return 0;
  }
  if (!strcmp(mode, "sleep") && argc > 2) {
    cg_sleep_ms(strtol(argv[2], NULL, 10));
    puts("woke");
    return 0;
  }
  if (!strcmp(mode, "grandchild") && argc > 3) {
    /* Started the way ordinary programs start theirs (same process group / same job), which is
     * what the timeout must reach. */
    char *self = cg_executable_path();
    const char *cargv[] = {self, "marker", argv[2], argv[3], NULL};
    int rc = plain_spawn_and_wait(cargv);
    cg_free(self);
    return rc;
  }
  if (!strcmp(mode, "marker") && argc > 3) {
    cg_sleep_ms(strtol(argv[3], NULL, 10));
    char err[256];
    return cg_file_write_atomic(argv[2], "alive", 5, err, sizeof(err)) == CG_OK ? 0 : 4;
  }
  return platform_helper(argc, argv);
}
