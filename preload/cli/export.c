/*
 * export.c — `ctxtrace export --format chrome|pprof [-o FILE] FILE.db` (export.h), and
 * what the two formats share: the stacks by id.
 *
 * Without -o the export goes to stdout — except pprof's gzip to a terminal, refused.
 * With -o, it is written beside FILE as FILE.tmp and renamed at the end, so a failed
 * export never leaves a truncated file under the name asked for.
 */
#include "export.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "opts.h"

const struct ct_stack *export_stack(struct export_stacks *s, ct_reader *r, int64_t id)
{
    uint64_t i;
    if (id == 0)
        return NULL;
    if (u64map_get(&s->index, (uint64_t)id, &i))
        return &s->items[i - 1];
    if (s->len == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 256;
        struct ct_stack *grown = realloc(s->items, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        s->items = grown;
        s->cap = cap;
    }
    struct ct_stack *st = &s->items[s->len];
    if (ct_reader_stack(r, id, st) != 0)
        return NULL;
    if (!u64map_put(&s->index, (uint64_t)id, s->len + 1)) {
        ct_stack_free(st);
        return NULL;
    }
    return &s->items[s->len++];
}

void export_stacks_free(struct export_stacks *s)
{
    for (size_t i = 0; i < s->len; i++)
        ct_stack_free(&s->items[i]);
    free(s->items);
    u64map_free(&s->index);
    *s = (struct export_stacks){0};
}

void export_frame_text(char *buf, size_t len, const struct ct_frame *f)
{
    if (f->file != NULL && f->line > 0)
        snprintf(buf, len, "%s %s:%d", f->function ? f->function : "??", f->file, f->line);
    else
        snprintf(buf, len, "%s (%s)", f->function ? f->function : "??",
                 f->module ? f->module : "?");
}

/* ---- the command ---------------------------------------------------------------------- */

enum { OPT_FORMAT = 'f', OPT_OUTPUT = 'o' };

static const struct cli_opt export_options[] = {
    {OPT_FORMAT, "format", 'f', "FORMAT",
     "chrome: Trace Event JSON (Perfetto UI,\nchrome://tracing, speedscope); pprof: a gzipped\n"
     "profile for go tool pprof (required)"},
    {OPT_OUTPUT, "output", 'o', "FILE", "write to FILE (default: stdout)"},
    {0},
};

static const struct cli_command export_command = {
    .name = "export",
    .synopsis = "--format chrome|pprof [-o FILE] FILE.db",
    .summary = "a trace for Perfetto, chrome://tracing (chrome) or go tool pprof",
    .about = "Convert the trace file FILE.db for the viewers people already use. chrome: a\n"
             "track per thread, a slice per context (its site and state in args),\n"
             "cancellations as flow arrows, findings as instant events. pprof: creation\n"
             "stacks weighted by contexts created, live at the end, named by findings.",
    .opts = export_options,
    .footer = "Exit status: 0 written, 2 error. docs/export.md has the mapping.",
};

const struct cli_command *const cli_export = &export_command;

/* Write the export into fd; 0 or -1 with err. */
static int write_export(bool pprof, int fd, ct_reader *r, char *err, size_t errlen)
{
    if (pprof)
        return export_pprof(fd, r, err, errlen);
    FILE *out = fdopen(fd, "w");
    if (out == NULL) {
        snprintf(err, errlen, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    int rc = export_chrome(out, r, err, errlen);
    if (fflush(out) != 0 && rc == 0) {
        snprintf(err, errlen, "writing: %s", strerror(errno));
        rc = -1;
    }
    fclose(out); /* closes fd */
    return rc;
}

int cmd_export(int argc, char **argv)
{
    const char *format = NULL, *output = NULL, *v;
    int id;
    struct cli_parser p;
    cli_parser_init(&p, &export_command, argc, argv);
    while ((id = cli_next(&p, &v)) > 0) {
        if (id == OPT_FORMAT) {
            if (strcmp(v, "chrome") != 0 && strcmp(v, "pprof") != 0) {
                cli_error("export: unknown format '%s' (chrome or pprof)", v);
                return CLI_EXIT_ERROR;
            }
            format = v;
        } else {
            assert(id == OPT_OUTPUT);
            output = v;
        }
    }
    if (id != CLI_END)
        return id == CLI_HELP ? 0 : CLI_EXIT_ERROR;
    int i = cli_optind(&p);
    if (format == NULL) {
        cli_error("export: --format chrome or --format pprof is required");
        return CLI_EXIT_ERROR;
    }
    if (i >= argc || i + 1 < argc) {
        cli_error(i >= argc ? "export: no trace file given (usage: ctxtrace export --format "
                              "chrome|pprof [-o FILE] FILE.db)"
                            : "export: one trace file at a time");
        return CLI_EXIT_ERROR;
    }
    bool pprof = strcmp(format, "pprof") == 0;
    if (output == NULL && pprof && isatty(STDOUT_FILENO)) {
        cli_error("export: not writing a gzipped profile to a terminal (use -o FILE)");
        return CLI_EXIT_ERROR;
    }
    char err[1024];
    ct_reader *r = ct_reader_open(argv[i], err, sizeof err);
    if (r == NULL) {
        cli_error("export: %s", err);
        return CLI_EXIT_ERROR;
    }
    char tmp[PATH_MAX];
    int fd = STDOUT_FILENO;
    if (output != NULL) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", output) >= (int)sizeof tmp) {
            cli_error("export: %s: path too long", output);
            ct_reader_close(r);
            return CLI_EXIT_ERROR;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            cli_error("export: cannot write %s: %s", tmp, strerror(errno));
            ct_reader_close(r);
            return CLI_EXIT_ERROR;
        }
    } else {
        fd = dup(STDOUT_FILENO); /* the writers close what they are given */
    }
    int rc = write_export(pprof, fd, r, err, sizeof err);
    ct_reader_close(r);
    if (rc == 0 && output != NULL && rename(tmp, output) != 0) {
        cli_error("export: cannot rename %s to %s: %s", tmp, output, strerror(errno));
        unlink(tmp);
        return CLI_EXIT_ERROR;
    }
    if (rc != 0) {
        if (output != NULL)
            unlink(tmp);
        cli_error("export: %s", err);
        return CLI_EXIT_ERROR;
    }
    return 0;
}
