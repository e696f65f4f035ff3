/*
 * ctxtrace.c — the command's entry point: dispatch to a subcommand.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

#ifndef CTXTRACE_VERSION
#error "CTXTRACE_VERSION must be defined by the build"
#endif

static const char usage[] =
    "usage: ctxtrace <command> [options]\n"
    "\n"
    "commands:\n"
    "  run [-o FILE.db [--force]] -- PROGRAM [ARGS...]\n"
    "        run PROGRAM (unmodified, dynamically linked, using libctxtrace) under the\n"
    "        tracer; record every context into a SQLite trace file; when it exits,\n"
    "        print the findings on stderr. Options, before --:\n"
    "          --exitcode N         exit N when there are findings (after suppressions)\n"
    "          --suppressions FILE  findings to accept (also: CTXTRACE_SUPPRESSIONS)\n"
    "          --threshold N        detached-root threshold (default 32)\n"
    "          --no-report          no findings report at exit\n"
    "          --force              let -o replace an existing trace (never any\n"
    "                               other file, never one still being written)\n"
    "\n"
    "  report [--format text|json|sarif] [--suppressions FILE] [--threshold N]\n"
    "         [--source-root DIR] FILE.db\n"
    "        the findings in a trace file: leaked waiters, orphaned timers, lost cancels,\n"
    "        detached roots, ineffective deadlines. Exit status 0: none, 1: findings,\n"
    "        2: error. Formats and the suppressions file: docs/report.md\n"
    "\n"
    "  soak [--duration S] [--warmup S] [--interval MS] [--json FILE]\n"
    "       [-o FILE.db [--force]] -- PROGRAM [ARGS...]\n"
    "        run PROGRAM under the tracer for S seconds (default 30; then SIGTERM), and\n"
    "        judge whether live contexts, armed timers, blocked waiters, threads, open\n"
    "        fds or RSS grow after the warm-up (default 5 s); name the sites that grow.\n"
    "        Exit status 0: nothing grows, 1: something grows, 2: error (docs/soak.md)\n"
    "\n"
    "  tail [--seconds S] PID|SOCKET\n"
    "        a running traced process's live tree and events, as JSON lines: the\n"
    "        snapshot of every live context, then every event (docs/live.md)\n"
    "\n"
    "  ps\n"
    "        this user's traced processes that can be tailed: PID, program, socket\n"
    "\n"
    "  ctxtrace --version | --help\n";

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ctxtrace: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("ctxtrace %s\n", CTXTRACE_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "tail") == 0)
        return cmd_tail(argc - 1, argv + 1);
    if (strcmp(cmd, "soak") == 0)
        return cmd_soak(argc - 1, argv + 1);
    if (strcmp(cmd, "ps") == 0)
        return cmd_ps(argc - 1, argv + 1);
    cli_error("unknown command '%s'", cmd);
    fputs(usage, stderr);
    return CLI_EXIT_ERROR;
}
