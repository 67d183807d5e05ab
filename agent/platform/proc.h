/* Run a program from an argument vector (never through a shell), capture stdout and stderr,
 * enforce a timeout that kills the child and everything it started, and cap captured output.
 * POSIX: fork/exec in a new process group, killed as a group. Windows: CreateProcessW with pipes,
 * inside a job object that is terminated as a whole. */
#ifndef CG_PLATFORM_PROC_H
#define CG_PLATFORM_PROC_H

#include "cg.h"

struct cg_proc_opts {
  int64_t timeout_ms; /* <= 0: no timeout */
  size_t max_output;  /* per stream; bytes past it are read and discarded (0 = 1 MiB) */
  const char *cwd;    /* working folder of the child; NULL: the agent's */
  /* NULL-terminated "NAME=value" list: the child's whole environment (NULL: the agent's). */
  const char *const *envp;
  /* argv[0] must be an absolute path that only administrators can change, verified component by
   * component as given (links and the folders holding them too) and down to the file it leads
   * to; exactly the file verified is started (POSIX: fexecve of the descriptor that was checked;
   * Windows: a handle that denies writes and deletes is held until the process has started). A
   * refusal is CG_ERR_ACCESS with the reason in err. */
  bool admin_only_program;
};

struct cg_proc_result {
  int exit_code;  /* valid when exited is true */
  bool exited;    /* the child ended by itself (not killed by us) */
  bool timed_out; /* we killed it at the deadline */
  bool out_truncated, err_truncated;
  char *out;
  size_t out_len; /* NUL-terminated; owned, free with cg_proc_result_free */
  char *err;
  size_t err_len;
  int64_t duration_ms;
};

/* argv[0] is the program: a path, or (POSIX) a name looked up in PATH. argv is NULL-terminated
 * UTF-8. Returns CG_OK when the program ran (whatever its exit code; see res->timed_out),
 * CG_ERR_NOTFOUND when it does not exist, CG_ERR_ACCESS when it may not be run, another code for
 * other failures; on error `err` holds a sentence naming the program. */
int cg_proc_run(const char *const *argv, const struct cg_proc_opts *opts, struct cg_proc_result *res, char *err,
                size_t errlen);
void cg_proc_result_free(struct cg_proc_result *res);

/* The small environment an admin-defined command gets (cg_proc_opts.envp): the platform's system
 * variables (POSIX: a fixed PATH, HOME, locale, TZ; Windows: SystemRoot, ComSpec, PATH, TEMP, ...)
 * and the proxy variables, nothing else of the agent's. Free with cg_proc_env_free. */
char **cg_proc_minimal_env(void);
void cg_proc_env_free(char **envp);

#endif
