/*
 * run.c — `ctxtrace run [-o FILE.db] [--exitcode N] [--suppressions FILE]...
 *          [--threshold N] [--source-root DIR] [--no-report] -- PROGRAM ARGS...`
 *
 * Runs an unmodified program with the shim in LD_PRELOAD (kept in front of whatever
 * LD_PRELOAD already held), waits for it, says where the trace file is, prints the
 * findings report (report_text.c) on stderr, and exits with the program's status
 * (128+N if a signal N ended it) — or with N of --exitcode N when findings remain
 * after the suppressions, as LeakSanitizer's exitcode option does.
 *
 * Starting the program under the shim is launch.c's (shared with soak).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <ctxtrace/core/reader.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "launch.h"
#include "report.h"

static volatile pid_t child = -1;

/* Signals sent to ctxtrace itself (kill, not the terminal: those reach the whole
 * process group anyway) are passed on to the program. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (child > 0 && info->si_code == SI_USER)
        kill(child, sig);
}

/* SIGINT/SIGTERM/SIGHUP once the program is gone: stop at once, report or not (the
 * trace is complete already), with the shell's status for death by that signal. */
static void stop_now(int sig)
{
    _exit(128 + sig);
}

/* Wait for the program, then make the rest of the run interruptible. The program is
 * waited for without reaping it first: until its zombie is reaped its pid cannot be
 * reused, so the forwarder, switched off before the reaping, never signals a stranger.
 * Returns its wait status, or -1 with a message. */
static int wait_program(int *status)
{
    siginfo_t si;
    while (waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT) != 0)
        if (errno != EINTR) {
            cli_error("run: waiting for the program: %s", strerror(errno));
            return -1;
        }
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &old);
    pid_t pid = child;
    child = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = stop_now;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return launch_wait("run", pid, status);
}

static long count_contexts(const char *path)
{
    char err[512];
    ct_reader *r = ct_reader_open(path, err, sizeof err);
    if (r == NULL)
        return -1;
    struct ct_meta m;
    long n = ct_reader_meta(r, &m) == 0 ? (long)m.contexts : -1;
    ct_meta_free(&m);
    ct_reader_close(r);
    return n;
}

static bool parse_exitcode(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 255)
        return false;
    *out = (int)v;
    return true;
}

/* The exit report: the findings on stderr. Returns true when findings remain. */
static bool exit_report(const char *trace, struct report_opts *ro)
{
    struct report r;
    char err[1024];
    fflush(stdout);
    if (report_build(&r, trace, ro, err, sizeof err) != 0) {
        cli_error("no report: %s", err);
        return false;
    }
    report_text(stderr, &r);
    bool findings = r.findings.len > 0;
    report_free(&r);
    return findings;
}

static int run(int argc, char **argv, struct report_opts *ro);

int cmd_run(int argc, char **argv)
{
    struct report_opts ro = {0};
    int code = run(argc, argv, &ro);
    report_opts_free(&ro);
    return code;
}

static int run(int argc, char **argv, struct report_opts *ro)
{
    const char *out = NULL;
    int exitcode = -1;
    bool report = true;
    int i = 1;
    for (; i < argc; i++) {
        int rc;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if ((rc = report_option("run", argc, argv, &i, ro)) != 0) {
            if (rc < 0)
                return CLI_EXIT_ERROR;
        } else if (strcmp(argv[i], "--exitcode") == 0 || strncmp(argv[i], "--exitcode=", 11) == 0) {
            const char *v = argv[i][10] == '=' ? argv[i] + 11 : i + 1 < argc ? argv[++i] : NULL;
            if (v == NULL || !parse_exitcode(v, &exitcode)) {
                cli_error("run: --exitcode needs a status from 0 to 255");
                return CLI_EXIT_ERROR;
            }
        } else if (strcmp(argv[i], "--no-report") == 0) {
            report = false;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2] != '\0') {
            out = argv[i] + 2;
        } else if (argv[i][0] == '-') {
            cli_error("run: unknown option '%s'", argv[i]);
            return CLI_EXIT_ERROR;
        } else {
            break; /* the program, without "--" */
        }
    }
    if (i >= argc) {
        cli_error("run: no program given (usage: ctxtrace run [-o FILE.db] [--exitcode N] "
                  "[--suppressions FILE] -- PROGRAM ARGS...)");
        return CLI_EXIT_ERROR;
    }
    /* A bad suppressions file is found before the program runs, not after. */
    if (report_opts_finish(ro) != 0)
        return CLI_EXIT_ERROR;
    struct launch l;
    if (!launch_prepare(&l, "run", argv + i))
        return CLI_EXIT_ERROR;

    char trace[PATH_MAX];
    if (out != NULL) {
        /* Replaced if it exists (like -o anywhere). */
        if (!launch_abs_path("run", out, trace))
            return CLI_EXIT_ERROR;
        launch_remove_trace(trace);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    child = launch_start(&l, "run", argv + i, trace, out == NULL, NULL);
    if (child < 0)
        return CLI_EXIT_ERROR;
    int status;
    if (wait_program(&status) != 0)
        return CLI_EXIT_ERROR;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (WIFSIGNALED(status))
        cli_error("%s was killed by signal %d (%s)", argv[i], WTERMSIG(status),
                  strsignal(WTERMSIG(status)));

    if (access(trace, F_OK) != 0) {
        cli_error("no trace: %s never loaded libctxtrace.so", argv[i]);
        return code;
    }
    long n = count_contexts(trace);
    if (n < 0)
        cli_error("trace written to %s (unreadable: see `sqlite3 %s`)", trace, trace);
    else
        cli_error("trace written to %s (%ld contexts)", trace, n);
    if (report && n >= 0 && exit_report(trace, ro) && exitcode >= 0)
        return exitcode;
    return code;
}
