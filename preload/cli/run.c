/*
 * run.c — `ctxtrace run [OPTIONS] [--] PROGRAM ARGS...` (options: run_options below)
 *
 * Runs an unmodified program with the shim in LD_PRELOAD (kept in front of whatever
 * LD_PRELOAD already held), waits for it, says where the trace file is, prints the
 * findings report (report_text.c) on stderr, and exits with the program's status
 * (128+N if a signal N ended it) — or with N of --exitcode N when findings remain
 * after the suppressions, as LeakSanitizer's exitcode option does.
 *
 * Starting the program under the shim is launch.c's (shared with soak).
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/summary.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "launch.h"
#include "opts.h"
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

/* The number of contexts in the trace (-1: unreadable), and into write_error (malloc'd,
 * or NULL) why the shim stopped writing it, if it did (a full disk). */
/* Contexts created (rows + summarized), and how many were summarized. */
static long count_contexts(const char *path, char **write_error, long *summarized)
{
    char err[512];
    *write_error = NULL;
    *summarized = 0;
    ct_reader *r = ct_reader_open(path, err, sizeof err);
    if (r == NULL)
        return -1;
    struct ct_meta m;
    long n = ct_reader_meta(r, &m) == 0 ? (long)(m.contexts + m.summarized) : -1;
    *summarized = (long)m.summarized;
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

enum { OPT_OUTPUT = 'o', OPT_EXITCODE = 1, OPT_NO_REPORT, OPT_FORCE, OPT_KEEP };

static const struct cli_opt run_options[] = {
    {OPT_OUTPUT, "output", 'o', "FILE.db",
     "write the trace to FILE.db (default: $CTXTRACE_OUTPUT,\nelse ctxtrace.PROGRAM.PID.db in "
     "the current\ndirectory); never an existing file but a trace,\nand that only with --force"},
    {OPT_FORCE, "force", 0, NULL,
     "let -o replace an existing trace (never another\nfile, never one still being written)"},
    {OPT_EXITCODE, "exitcode", 0, "N",
     "exit N (0-255) when findings remain after the\nsuppressions"},
    {OPT_KEEP, "keep", 0, "full|summary",
     "full: a row per context (default, unless\n$CTXTRACE_KEEP says otherwise); summary: rows\n"
     "only for contexts a finding may name, live or\nsampled ones, per-site aggregates for the rest"},
    {OPT_NO_REPORT, "no-report", 0, NULL, "no findings report at exit"},
    REPORT_OPTIONS,
    {0},
};

static const struct cli_command run_command = {
    .name = "run",
    .synopsis = "[OPTIONS] [--] PROGRAM [ARGS...]",
    .summary = "trace an unmodified PROGRAM; its findings on stderr when it exits",
    .about = "Run PROGRAM (dynamically linked, using libctxtrace.so) with the tracer in\n"
             "LD_PRELOAD, record every context into a SQLite trace file and, when it exits,\n"
             "print the findings on stderr. Options end at PROGRAM.",
    .opts = run_options,
    .footer = "Exit status: the program's (128+N if signal N ended it), or N of --exitcode N\n"
              "when findings remain; 2 when ctxtrace itself fails, or could not write the\n"
              "whole trace (a full disk).",
    .stop_at_operand = true,
};

const struct cli_command *const cli_run = &run_command;

static int run(int argc, char **argv, struct report_opts *ro)
{
    const char *out = NULL, *v;
    int exitcode = -1, id;
    bool report = true, force = false;
    /* Without --keep, the shim's own variable decides, as it would without run. */
    int keep = ct_keep_from_name(getenv("CTXTRACE_KEEP"));
    if (keep < 0)
        keep = CT_KEEP_FULL;
    struct cli_parser p;
    cli_parser_init(&p, &run_command, argc, argv);
    while ((id = cli_next(&p, &v)) > 0) {
        int rc = report_option("run", id, v, ro);
        if (rc < 0)
            return CLI_EXIT_ERROR;
        if (rc > 0)
            continue;
        switch (id) {
        case OPT_EXITCODE:
            if (!parse_exitcode(v, &exitcode)) {
                cli_error("run: --exitcode needs a status from 0 to 255, not '%s'", v);
                return CLI_EXIT_ERROR;
            }
            break;
        case OPT_NO_REPORT:
            report = false;
            break;
        case OPT_FORCE:
            force = true;
            break;
        case OPT_KEEP:
            if ((keep = ct_keep_from_name(v)) < 0) {
                cli_error("run: --keep is full or summary, not '%s'", v);
                return CLI_EXIT_ERROR;
            }
            break;
        default:
            assert(id == OPT_OUTPUT);
            out = v;
            break;
        }
    }
    if (id != CLI_END)
        return id == CLI_HELP ? 0 : CLI_EXIT_ERROR;
    int i = cli_optind(&p);
    if (i >= argc) {
        cli_error("run: no program given (usage: ctxtrace run [OPTIONS] [--] PROGRAM ARGS...)");
        return CLI_EXIT_ERROR;
    }
    /* A bad suppressions file is found before the program runs, not after. */
    if (report_opts_finish(ro) != 0)
        return CLI_EXIT_ERROR;
    struct launch l;
    if (!launch_prepare(&l, "run", argv + i))
        return CLI_EXIT_ERROR;

    /* Without -o, the shim's own variable names the file, as it would without run. */
    const char *env_out = getenv("CTXTRACE_OUTPUT");
    if (out == NULL && env_out != NULL && env_out[0] != '\0')
        out = env_out;
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

    char keep_env[32];
    snprintf(keep_env, sizeof keep_env, "CTXTRACE_KEEP=%s", ct_keep_name(keep));
    const char *const extra_env[] = {keep_env, NULL};
    child = launch_start(&l, "run", argv + i, &o, extra_env);
    if (child < 0) {
        launch_output_done(&o);
        return CLI_EXIT_ERROR;
    }
    int status;
    if (wait_program(&status) != 0) {
        launch_output_done(&o);
        return CLI_EXIT_ERROR;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (WIFSIGNALED(status))
        cli_error("%s was killed by signal %d (%s)", argv[i], WTERMSIG(status),
                  strsignal(WTERMSIG(status)));

    const char *trace = o.shown;
    if (!launch_output_done(&o)) {
        /* The usual reason; the other (the shim could not write the file after the
         * check above) has its own message from the shim, above this one. */
        cli_error("no trace: %s never loaded libctxtrace.so (or the tracer could not "
                  "write %s: see its message above)", argv[i], trace);
        return code;
    }
    char *write_error;
    long summarized;
    long n = count_contexts(trace, &write_error, &summarized);
    if (n < 0)
        cli_error("trace written to %s (unreadable: see `sqlite3 %s`)", trace, trace);
    else if (keep == CT_KEEP_SUMMARY)
        cli_error("trace written to %s (%ld contexts: %ld summarized per site, %ld kept "
                  "as rows)", trace, n, summarized, n - summarized);
    else
        cli_error("trace written to %s (%ld contexts)", trace, n);
    bool findings = report && n >= 0 && exit_report(trace, ro);
    if (write_error != NULL) {
        /* The program ran to its end; its trace did not: not a result to act on. */
        cli_error("the trace is incomplete: the tracer could not write it (%s); it holds "
                  "what was recorded before", write_error);
        free(write_error);
        return CLI_EXIT_ERROR;
    }
    if (findings && exitcode >= 0)
        return exitcode;
    return code;
}
