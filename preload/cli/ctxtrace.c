/*
 * ctxtrace.c — the command's entry point: dispatch to a subcommand.
 *
 * `ctxtrace --help` lists the commands and then each command's own help, all printed
 * from the commands' option tables (opts.h), so the overview, `ctxtrace CMD --help`
 * and the man page generated from them (help2man, docs/CMakeLists.txt) always agree.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

#ifndef CTXTRACE_VERSION
#error "CTXTRACE_VERSION must be defined by the build"
#endif

static const struct {
    int (*run)(int argc, char **argv);
    const struct cli_command *const *cmd;
} commands[] = {
    {cmd_run, &cli_run},   {cmd_report, &cli_report}, {cmd_soak, &cli_soak},
    {cmd_tail, &cli_tail}, {cmd_ps, &cli_ps},     {cmd_export, &cli_export},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static void help(FILE *out)
{
    fputs("Usage: ctxtrace COMMAND [OPTIONS] [ARGS...]\n"
          "  or:  ctxtrace --help | --version\n"
          "Trace the contexts (libctxtrace, Go's context in C) of unmodified programs,\n"
          "find what goes wrong with them, and follow them live.\n\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-8s %s\n", (*commands[i].cmd)->name, (*commands[i].cmd)->summary);
    fputs("\n'ctxtrace COMMAND --help' prints one command's help. All of them:\n", out);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fputc('\n', out);
        cli_help(out, *commands[i].cmd);
    }
    fputs("\nEnvironment:\n"
          "  CTXTRACE_OUTPUT        the trace file (run's default when -o is not given)\n"
          "  CTXTRACE_SUPPRESSIONS  the suppressions file of run, report and soak\n"
          "  CTXTRACE_PRELOAD       the shim to use instead of the installed one\n"
          "  CTXTRACE_SOCKET        the live socket's path, or off (for the traced program)\n"
          "  ASAN_OPTIONS           run and soak put verify_asan_link_order=0 in front of\n"
          "                         it: programs built with AddressSanitizer can be traced\n",
          out);
}

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
        cli_error("no command given (ctxtrace --help lists them)");
        return CLI_EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        help(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("ctxtrace %s\n", CTXTRACE_VERSION);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, (*commands[i].cmd)->name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (ctxtrace --help lists them)", cmd);
    return CLI_EXIT_ERROR;
}
