/* Stands in for dsregcmd.exe in tests. It insists on the single argument "/status" (proving the
 * argument vector), then reads the file "fake-mode" in the folder named by CMGDIAG_FAKE_DIR or, when
 * that is not set (the agent starts an admin-set dsregcmd_path with the restricted environment),
 * in its own folder: tests copy it into a folder of their own.
 *   a path   -> prints that file's bytes and exits 0
 *   "hang"   -> sleeps for a minute (the caller's timeout must stop it)
 *   other    -> prints the text itself and exits 1 */
#include <stdio.h>
#include <string.h>

#include "platform/child.h"
#include "platform/fs.h"
#include "platform/sys.h"

int main(int argc, char **argv) {
  cg_platform_args(&argc, &argv);
  if (argc != 2 || strcmp(argv[1], "/status") != 0) {
    fprintf(stderr, "usage: dsregcmd /status\n");
    return 87;
  }
  char *dir = cg_getenv("CMGDIAG_FAKE_DIR");
  if (!dir || !*dir) {
    char *self = cg_self_exe();
    cg_free(dir);
    dir = self ? cg_path_dirname(self) : NULL;
    cg_free(self);
  }
  char *modefile = dir ? cg_path_join(dir, "fake-mode") : NULL;
  char *mode = NULL, *data = NULL;
  size_t len = 0;
  int rc = 90;
  if (modefile && cg_file_read(modefile, 4096, &mode, &len) == CG_OK) {
    if (!strcmp(mode, "hang")) {
      cg_sleep_ms(60000);
      rc = 0;
    } else if (cg_file_read(mode, 1 << 22, &data, &len) == CG_OK) {
      fwrite(data, 1, len, stdout);
      rc = 0;
    } else {
      fputs(mode, stdout);
      rc = 1;
    }
  }
  cg_free(data);
  cg_free(mode);
  cg_free(modefile);
  cg_free(dir);
  return rc;
}
