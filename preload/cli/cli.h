/*
 * cli.h — the ctxtrace command: one file per subcommand, sharing these helpers.
 */
#ifndef CT_CLI_H
#define CT_CLI_H

#include <stdio.h>

/* Exit status for usage and environment errors (a trace's findings use others). */
enum { CLI_EXIT_ERROR = 2 };

/* Each subcommand: its entry point (argv[0] is the subcommand's name) and its
 * description (options and help, opts.h), defined in its own file. */
struct cli_command;
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_soak(int argc, char **argv);
int cmd_export(int argc, char **argv);
extern const struct cli_command *const cli_run, *const cli_report, *const cli_tail,
    *const cli_ps, *const cli_soak, *const cli_export;

/* Print "ctxtrace: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* CT_CLI_H */
