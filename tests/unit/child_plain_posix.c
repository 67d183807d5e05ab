/* Plain fork/exec that stays in the caller's process group (see child_helper.c). */
#include <sys/wait.h>
#include <unistd.h>

int plain_spawn_and_wait(const char *const *argv);

int plain_spawn_and_wait(const char *const *argv) {
  pid_t pid = fork();
  if (pid < 0) return 3;
  if (pid == 0) {
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

int platform_helper(int argc, char **argv);

/* The security descriptor tools exist on Windows only (child_plain_win32.c). */
int platform_helper(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return 2;
}
