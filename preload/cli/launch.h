/*
 * launch.h — starting an unmodified program under the shim (shared by run and soak).
 */
#ifndef CT_CLI_LAUNCH_H
#define CT_CLI_LAUNCH_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <ctxtrace/core/claim.h>

/* Check that argv[0] can be traced (found on PATH, executable, dynamically linked) and
 * find the shim. On failure prints one line prefixed with `cmd` and returns false. */
struct launch {
    char prog[PATH_MAX];  /* argv[0] resolved as execvp would */
    char shim[PATH_MAX];  /* libctxtrace_preload.so, absolute */
};
bool launch_prepare(struct launch *l, const char *cmd, char *const argv[]);

/* Where the trace goes. The name is claimed (ctxtrace/core/claim.h) before the program
 * starts and handed to its shim, so `shown` is the file the program writes, no
 * existing file is ever written or removed without --force, and two runs never share
 * or delete each other's file. */
struct launch_output {
    char path[PATH_MAX];   /* absolute (the program may chdir): CTXTRACE_OUTPUT */
    char shown[PATH_MAX];  /* as reported: -o's absolute path, or the default's name */
    struct ct_claim claim;
};

/* -o OUT. Nothing there: claimed. A ctxtrace trace: replaced only with `force`, and
 * never while a process writes it. Anything else (a user's file, an empty file, a
 * directory, a stray OUT-wal/-shm): refused. false with a one-line message. */
bool launch_output_named(const char *cmd, const char *out, bool force,
                         struct launch_output *o);

/* No -o: launch_start claims "ctxtrace.<prog>.<pid>.db" in the working directory
 * (then "ctxtrace.<prog>.<pid>.<n>.db" if that is taken) once the pid is known. */
void launch_output_default(struct launch_output *o);

/* After the program ended: true when it wrote its trace; false when it never did (it
 * never loaded libctxtrace.so), in which case the empty file claimed for it is
 * removed. Closes the claim either way. */
bool launch_output_done(struct launch_output *o);

/* Fork and exec the program with the shim in front of LD_PRELOAD, CTXTRACE_OUTPUT and
 * CTXTRACE_OUTPUT_CLAIM naming `out` (claimed here first for the default name), plus
 * `extra_env` ("NAME=VALUE" strings, NULL-terminated, may be NULL). Returns the
 * child's pid, or -1 with a message printed. The child has default SIGTERM/SIGINT/
 * SIGHUP dispositions. */
pid_t launch_start(const struct launch *l, const char *cmd, char *const argv[],
                   struct launch_output *out, const char *const *extra_env);

/* `out` made absolute (the program may chdir) in abs[]; false with a message if the
 * path is too long or the working directory unknown. */
bool launch_abs_path(const char *cmd, const char *out, char abs[PATH_MAX]);

/* Before the program starts: can `what` ("the trace") be created at `abs` (its
 * directory exists and is writable; it is not a directory)? False with a one-line
 * message if not, so a bad -o is an error up front, not after the whole run. */
bool launch_check_output(const char *cmd, const char *what, const char *abs);

/* waitpid that retries on EINTR; -1 with a message on another error. */
int launch_wait(const char *cmd, pid_t pid, int *status);

#endif /* CT_CLI_LAUNCH_H */
