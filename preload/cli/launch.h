/*
 * launch.h — starting an unmodified program under the shim (shared by run and soak).
 */
#ifndef CT_CLI_LAUNCH_H
#define CT_CLI_LAUNCH_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

/* Check that argv[0] can be traced (found on PATH, executable, dynamically linked) and
 * find the shim. On failure prints one line prefixed with `cmd` and returns false. */
struct launch {
    char prog[PATH_MAX];  /* argv[0] resolved as execvp would */
    char shim[PATH_MAX];  /* libctxtrace_preload.so, absolute */
};
bool launch_prepare(struct launch *l, const char *cmd, char *const argv[]);

/* Fork and exec the program with the shim in front of LD_PRELOAD and CTXTRACE_OUTPUT
 * set to `trace` (absolute, or NULL: the default "ctxtrace.<prog>.<pid>.db" in the
 * working directory, written back into trace[]), plus `extra_env` ("NAME=VALUE"
 * strings, NULL-terminated, may be NULL). Returns the child's pid, or -1 with a message
 * printed. The child has default SIGTERM/SIGINT/SIGHUP dispositions. */
pid_t launch_start(const struct launch *l, const char *cmd, char *const argv[],
                   char trace[PATH_MAX], bool default_trace, const char *const *extra_env);

/* `out` made absolute (the program may chdir) in abs[]; false with a message if the
 * path is too long or the working directory unknown. */
bool launch_abs_path(const char *cmd, const char *out, char abs[PATH_MAX]);

/* Before the program starts: can `what` ("the trace") be created at `abs` (its
 * directory exists and is writable; it is not a directory)? False with a one-line
 * message if not, so a bad -o is an error up front, not after the whole run. */
bool launch_check_output(const char *cmd, const char *what, const char *abs);

/* Delete a trace file and its -wal/-shm companions. */
void launch_remove_trace(const char *path);

/* waitpid that retries on EINTR; -1 with a message on another error. */
int launch_wait(const char *cmd, pid_t pid, int *status);

#endif /* CT_CLI_LAUNCH_H */
