/*
 * opts.h — the command line of every ctxtrace command, from one table per command.
 *
 * A command describes each option once (struct cli_opt), as wire.c describes each
 * frame once: getopt_long's option array, the one-line errors and the --help text are
 * all derived from that table, so the help can never disagree with what is parsed.
 *
 * Conventions shared by every command (DESIGN.md, "The command line"):
 *   - `--help` / `-h`: the usage on stdout, exit 0 (cli_next returns CLI_HELP);
 *   - a bad option, a missing value, a stray operand: one line on stderr, exit 2
 *     (cli_next returns CLI_ERROR after printing it);
 *   - `--name VALUE`, `--name=VALUE`, `-x VALUE`, `-xVALUE`, and unique prefixes of
 *     long names, as getopt_long accepts them; `--` ends the options.
 */
#ifndef CT_CLI_OPTS_H
#define CT_CLI_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* One option. A table is an array ended by an entry whose name is NULL. */
struct cli_opt {
    int id;            /* what cli_next returns for it: > 0, unique in the table */
    const char *name;  /* long name, without "--" */
    char letter;       /* short form (-o), or 0 */
    const char *arg;   /* the value's name in the help ("FILE"), or NULL: a flag */
    const char *help;  /* what it does; '\n' starts another line of the help */
};

/* One command. */
struct cli_command {
    const char *name;      /* "run" */
    const char *synopsis;  /* what follows "ctxtrace run " in the usage line */
    const char *summary;   /* one line, for the command list of `ctxtrace --help` */
    const char *about;     /* a paragraph for the command's own --help */
    const struct cli_opt *opts;
    const char *footer;    /* exit status and pointers to docs, or NULL */
    /* Options end at the first operand (run/soak: the rest is the program's own
     * command line, options included); otherwise options and operands may mix. */
    bool stop_at_operand;
};

enum {
    CLI_END = 0,    /* no more options: operands start at cli_optind() */
    CLI_HELP = -1,  /* --help printed on stdout: exit 0 */
    CLI_ERROR = -2, /* one-line error printed on stderr: exit CLI_EXIT_ERROR */
};

enum { CLI_MAX_OPTS = 24 };

struct cli_parser {
    const struct cli_command *cmd;
    int argc;
    char **argv;
    struct option longs[CLI_MAX_OPTS + 2];
    char shorts[3 * CLI_MAX_OPTS + 4];
};

/* argv[0] is the command's name ("run"); options start at argv[1]. */
void cli_parser_init(struct cli_parser *p, const struct cli_command *cmd, int argc,
                     char **argv);

/* The next option's id with *value set to its value (NULL for a flag), or one of
 * CLI_END, CLI_HELP, CLI_ERROR. */
int cli_next(struct cli_parser *p, const char **value);

/* After CLI_END: the index in argv of the first operand (argc if none). */
int cli_optind(const struct cli_parser *p);

/* The command's --help text. */
void cli_help(FILE *out, const struct cli_command *cmd);

/* The option's spelling for messages: "--name" (or "-o" when only a letter). */
const char *cli_opt_name(const struct cli_command *cmd, int id);

#endif /* CT_CLI_OPTS_H */
