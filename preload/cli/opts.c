/*
 * opts.c — getopt_long driven by a command's option table (see opts.h).
 *
 * getopt_long's own messages are turned off (opterr = 0) and replaced by one line in
 * the command's words, because getopt's two-line "invalid option" + nothing else is
 * not the project's error convention; the leading ':' of the short-option string makes
 * getopt tell a missing value (':') from an unknown option ('?').
 */
#include "opts.h"

#include <assert.h>
#include <string.h>

#include "cli.h"

/* Long options without a letter get ids above any char, so the two never collide. */
enum { LONG_ONLY_BASE = 256, HELP_VAL = 'h' };

static const struct cli_opt help_opt = {CLI_HELP, "help", 'h', NULL,
                                        "print this help and exit"};

void cli_parser_init(struct cli_parser *p, const struct cli_command *cmd, int argc,
                     char **argv)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->argc = argc;
    p->argv = argv;
    size_t n = 0, s = 0;
    /* '+': stop at the first operand; ':': report a missing value as ':'. */
    if (cmd->stop_at_operand)
        p->shorts[s++] = '+';
    p->shorts[s++] = ':';
    for (const struct cli_opt *o = cmd->opts; o != NULL && o->name != NULL; o++, n++) {
        assert(n < CLI_MAX_OPTS);
        assert(o->id > 0 && o->letter != 'h');
        p->longs[n] = (struct option){o->name, o->arg ? required_argument : no_argument,
                                      NULL, o->letter ? o->letter : LONG_ONLY_BASE + (int)n};
        if (o->letter) {
            p->shorts[s++] = o->letter;
            if (o->arg)
                p->shorts[s++] = ':';
        }
    }
    p->longs[n] = (struct option){"help", no_argument, NULL, HELP_VAL};
    p->shorts[s++] = 'h';
    assert(s < sizeof p->shorts);
    /* 0 makes glibc's getopt start over (a second parse in one process: the tests). */
    optind = 0;
    opterr = 0;
}

static const struct cli_opt *by_val(const struct cli_parser *p, int val)
{
    if (val == HELP_VAL)
        return &help_opt;
    if (val >= LONG_ONLY_BASE)
        return &p->cmd->opts[val - LONG_ONLY_BASE];
    for (const struct cli_opt *o = p->cmd->opts; o != NULL && o->name != NULL; o++)
        if (o->letter == val)
            return o;
    return NULL;
}

int cli_next(struct cli_parser *p, const char **value)
{
    *value = NULL;
    int c = getopt_long(p->argc, p->argv, p->shorts, p->longs, NULL);
    if (c == -1)
        return CLI_END;
    const char *cmd = p->cmd->name;
    if (c == '?') {
        /* optopt: the unknown letter, or 0 for an unknown (or ambiguous) long option,
         * which is then the word getopt just stepped over. */
        if (optopt != 0 && optopt < LONG_ONLY_BASE)
            cli_error("%s: unknown option '-%c' (ctxtrace %s --help lists them)", cmd, optopt,
                      cmd);
        else
            cli_error("%s: unknown option '%s' (ctxtrace %s --help lists them)", cmd,
                      p->argv[optind - 1], cmd);
        return CLI_ERROR;
    }
    if (c == ':') {
        const struct cli_opt *o = by_val(p, optopt);
        assert(o != NULL);
        const char *typed = p->argv[optind - 1];
        if (strncmp(typed, "--", 2) == 0)
            cli_error("%s: %s needs a value (%s)", cmd, typed, o->arg);
        else
            cli_error("%s: -%c needs a value (%s)", cmd, o->letter, o->arg);
        return CLI_ERROR;
    }
    const struct cli_opt *o = by_val(p, c);
    assert(o != NULL);
    if (o->id == CLI_HELP) {
        cli_help(stdout, p->cmd);
        return CLI_HELP;
    }
    *value = o->arg ? optarg : NULL;
    return o->id;
}

int cli_optind(const struct cli_parser *p)
{
    (void)p;
    return optind;
}

const char *cli_opt_name(const struct cli_command *cmd, int id)
{
    static char buf[64];
    for (const struct cli_opt *o = cmd->opts; o != NULL && o->name != NULL; o++)
        if (o->id == id) {
            snprintf(buf, sizeof buf, "--%s", o->name);
            return buf;
        }
    return "?";
}

/* "  -o, --output=FILE" padded to the help column, then the help's lines. */
static void help_line(FILE *out, const struct cli_opt *o)
{
    enum { COLUMN = 26 };
    char head[80];
    int n = snprintf(head, sizeof head, "  %c%c%s--%s%s%s", o->letter ? '-' : ' ',
                     o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name,
                     o->arg ? "=" : "", o->arg ? o->arg : "");
    fputs(head, out);
    const char *text = o->help;
    if (n >= COLUMN - 1) {
        fputc('\n', out);
        n = 0;
    }
    for (;;) {
        size_t len = strcspn(text, "\n");
        fprintf(out, "%*s%.*s\n", COLUMN - n, "", (int)len, text);
        if (text[len] == '\0')
            break;
        text += len + 1;
        n = 0;
    }
}

void cli_help(FILE *out, const struct cli_command *cmd)
{
    fprintf(out, "Usage: ctxtrace %s %s\n\n%s\n\nOptions:\n", cmd->name, cmd->synopsis,
            cmd->about);
    for (const struct cli_opt *o = cmd->opts; o != NULL && o->name != NULL; o++)
        help_line(out, o);
    help_line(out, &help_opt);
    if (cmd->footer != NULL)
        fprintf(out, "\n%s\n", cmd->footer);
}
