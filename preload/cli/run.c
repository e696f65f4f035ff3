/*
 * run.c — `ctxtrace run [-o FILE.db [--force]] [--exitcode N] [--suppressions FILE]...
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

static pid_t child = -1;

/* Signals sent to ctxtrace itself (kill, not the terminal: those reach the whole
 * process group anyway) are passed on to the program. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (child > 0 && info->si_code == SI_USER)
        kill(child, sig);
}

/* The number of contexts in the trace (-1: unreadable), and into write_error (malloc'd,
 * or NULL) why the shim stopped writing it, if it did (a full disk). */
static long count_contexts(const char *path, char **write_error)
{
    char err[512];
    *write_error = NULL;
    ct_reader *r = ct_reader_open(path, err, sizeof err);
    if (r == NULL)
        return -1;
    struct ct_meta m;
    long n = ct_reader_meta(r, &m) == 0 ? (long)m.contexts : -1;
    ct_meta_free(&m);
    *write_error = ct_reader_meta_text(r, "write_error");
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
    bool report = true, force = false;
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
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
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
        cli_error("run: no program given (usage: ctxtrace run [-o FILE.db [--force]] [--exitcode N] "
                  "[--suppressions FILE] -- PROGRAM ARGS...)");
        return CLI_EXIT_ERROR;
    }
    /* A bad suppressions file is found before the program runs, not after. */
    if (report_opts_finish(ro) != 0)
        return CLI_EXIT_ERROR;
    struct launch l;
    if (!launch_prepare(&l, "run", argv + i))
        return CLI_EXIT_ERROR;

    /* -o never touches a file that is not a trace, and replaces a trace only with
     * --force (launch.h). */
    struct launch_output o;
    if (out == NULL)
        launch_output_default(&o);
    else if (!launch_output_named("run", out, force, &o))
        return CLI_EXIT_ERROR;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    child = launch_start(&l, "run", argv + i, &o, NULL);
    if (child < 0) {
        launch_output_done(&o);
        return CLI_EXIT_ERROR;
    }
    int status;
    if (launch_wait("run", child, &status) != 0) {
        launch_output_done(&o);
        return CLI_EXIT_ERROR;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (WIFSIGNALED(status))
        cli_error("%s was killed by signal %d (%s)", argv[i], WTERMSIG(status),
                  strsignal(WTERMSIG(status)));

    const char *trace = o.shown;
    if (!launch_output_done(&o)) {
        cli_error("no trace: %s never loaded libctxtrace.so", argv[i]);
        return code;
    }
    char *write_error;
    long n = count_contexts(trace, &write_error);
    if (n < 0)
        cli_error("trace written to %s (unreadable: see `sqlite3 %s`)", trace, trace);
    else
        cli_error("trace written to %s (%ld contexts)", trace, n);
    if (write_error != NULL) {
        /* The program ran to its end; its trace did not: not a result to act on. */
        cli_error("the trace is incomplete: the tracer could not write it (%s); it holds "
                  "what was recorded before", write_error);
        free(write_error);
        return CLI_EXIT_ERROR;
    }
    if (report && n >= 0 && exit_report(trace, ro) && exitcode >= 0)
        return exitcode;
    return code;
}
