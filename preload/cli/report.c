/*
 * report.c — `ctxtrace report [--format text|json|sarif] [--suppressions FILE]...
 *            [--threshold N] [--done-threshold N] [--chain-threshold N]
 *            [--source-root DIR] FILE.db`
 *
 * Opens a trace, applies the five rules (libctxtrace/core/rules.c), removes what the
 * suppressions accept and prints the rest in one of three formats (docs/report.md).
 * Exit status: 0 no findings left, 1 findings, 2 error (unreadable trace, bad
 * suppressions file, usage). Also the shared half of `ctxtrace run`'s exit report.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <ctxtrace/core/reader.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "opts.h"
#include "report.h"

/* ---- options ------------------------------------------------------------------------- */

static bool parse_threshold(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > INT_MAX)
        return false;
    *out = (int)v;
    return true;
}

int report_option(const char *cmd, int id, const char *v, struct report_opts *o)
{
    char err[512];
    switch (id) {
    case REPORT_OPT_THRESHOLD:
    case REPORT_OPT_DONE_THRESHOLD:
    case REPORT_OPT_CHAIN_THRESHOLD: {
        int *t = id == REPORT_OPT_THRESHOLD        ? &o->thresholds.detached_root_threshold
                 : id == REPORT_OPT_DONE_THRESHOLD ? &o->thresholds.derived_from_done_threshold
                                                   : &o->thresholds.value_chain_threshold;
        if (!parse_threshold(v, t)) {
            cli_error("%s: --%s: '%s' is not a positive number", cmd,
                      id == REPORT_OPT_THRESHOLD        ? "threshold"
                      : id == REPORT_OPT_DONE_THRESHOLD ? "done-threshold"
                                                        : "chain-threshold",
                      v);
            return -1;
        }
        return 1;
    }
    case REPORT_OPT_SUPPRESSIONS:
        o->supp_given = true;
        if (ct_suppressions_load(&o->supp, v, err, sizeof err) != 0) {
            cli_error("%s", err);
            return -1;
        }
        return 1;
    case REPORT_OPT_SOURCE_ROOT:
        o->source_root = v;
        return 1;
    case REPORT_OPT_SHOW_REACHABLE:
        o->show_reachable = true;
        return 1;
    default:
        return 0;
    }
}

int report_opts_finish(struct report_opts *o)
{
    const char *env = getenv("CTXTRACE_SUPPRESSIONS");
    if (o->supp_given || env == NULL || *env == '\0')
        return 0;
    char err[512];
    if (ct_suppressions_load(&o->supp, env, err, sizeof err) != 0) {
        cli_error("CTXTRACE_SUPPRESSIONS: %s", err);
        return -1;
    }
    return 0;
}

void report_opts_free(struct report_opts *o)
{
    ct_suppressions_free(&o->supp);
}

/* ---- building a report --------------------------------------------------------------- */

void report_set_root(struct report *r, const char *source_root)
{
    char cwd[PATH_MAX];
    if (source_root == NULL)
        source_root = getcwd(cwd, sizeof cwd);
    if (source_root == NULL || realpath(source_root, r->root) == NULL)
        r->root[0] = '\0';
}

int report_build(struct report *r, const char *trace, struct report_opts *o, char *err,
                 size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->trace = trace;
    r->supp = &o->supp;
    report_set_root(r, o->source_root);

    ct_reader *rd = ct_reader_open(trace, err, errlen);
    if (rd == NULL)
        return -1;
    if (ct_reader_check(rd, err, errlen) != 0) {
        ct_reader_close(rd);
        return -1;
    }
    r->write_error = ct_reader_meta_text(rd, "write_error");
    r->events_after_cut = ct_reader_meta_int(rd, "events_after_cut", 0);
    r->contexts_after_cut = ct_reader_meta_int(rd, "contexts_after_cut", 0);
    r->ring_stall_max_ns = ct_reader_meta_int(rd, "ring_stall_max_ns", 0);
    r->ring_stalls = ct_reader_meta_int(rd, "ring_stalls", 0) +
                     ct_reader_meta_int(rd, "ring_paces", 0);
    struct ct_analysis_opts ao = o->thresholds;
    char why[400] = "";
    int rc = ct_analyze(rd, &ao, &r->findings, why, sizeof why);
    r->show_reachable = o->show_reachable;
    if (rc == 0 && o->show_reachable)
        rc = ct_reachable_at_exit(rd, &r->reachable, why, sizeof why);
    ct_reader_close(rd);
    if (rc != 0) {
        ct_findings_free(&r->findings);
        snprintf(err, errlen, "%s: %s", trace, why[0] ? why : "analysis failed");
        free(r->write_error);
        r->write_error = NULL;
        return -1;
    }
    r->suppressed = ct_suppressions_apply(&o->supp, &r->findings);
    return 0;
}

void report_free(struct report *r)
{
    free(r->write_error);
    r->write_error = NULL;
    ct_findings_free(&r->findings);
    ct_reachable_free(&r->reachable);
}

/* ---- shared words and paths ---------------------------------------------------------- */

void report_fmt_ns(char *buf, size_t len, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    if (ns < 1000)
        snprintf(buf, len, "%" PRId64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.2f s", (double)ns / 1e9);
}

const char *report_relpath(const struct report *r, const char *path)
{
    if (path == NULL || r->root[0] == '\0')
        return path;
    size_t n = strlen(r->root);
    if (n == 1 && r->root[0] == '/')
        return path[0] == '/' && path[1] != '\0' ? path + 1 : path;
    if (strncmp(path, r->root, n) == 0 && path[n] == '/' && path[n + 1] != '\0')
        return path + n + 1;
    return path;
}

const char *report_basename(const char *path)
{
    if (path == NULL)
        return NULL;
    const char *slash = strrchr(path, '/');
    return slash && slash[1] != '\0' ? slash + 1 : path;
}

const char *report_noun(enum ct_rule rule, long count)
{
    if (rule == CT_RULE_LEAKED_WAITER)
        return count == 1 ? "blocked wait" : "blocked waits";
    if (rule == CT_RULE_LEAKED_THREAD)
        return count == 1 ? "thread" : "threads";
    return count == 1 ? "context" : "contexts";
}

const char *report_stack_label(enum ct_rule rule)
{
    return rule == CT_RULE_LEAKED_WAITER   ? "waiting at"
           : rule == CT_RULE_LEAKED_THREAD ? "blocked at (at the exit check)"
                                           : "created at";
}

/* ---- the command ---------------------------------------------------------------------- */

enum { OPT_FORMAT = 'f', OPT_PROFILE = 1 };

static const struct cli_opt report_options[] = {
    {OPT_FORMAT, "format", 'f', "FORMAT",
     "text (default), json or sarif (with --profile:\ntext or json); docs/report.md"},
    {OPT_PROFILE, "profile", 0, NULL,
     "the per-site profile instead of the findings:\nhow many contexts, how they end"},
    REPORT_OPTIONS,
    {0},
};

static const struct cli_command report_command = {
    .name = "report",
    .synopsis = "[OPTIONS] FILE.db",
    .summary = "the findings of a trace file (--profile: its per-site profile)",
    .about = "Analyse the trace file FILE.db: lost cancels, orphaned timers, detached roots,\n"
             "ineffective deadlines, leaked waiters and threads, each at its site with its\n"
             "stack. Findings the suppressions accept are left out.",
    .opts = report_options,
    .footer = "Exit status: 0 no findings, 1 findings, 2 error.",
};

const struct cli_command *const cli_report = &report_command;

int cmd_report(int argc, char **argv)
{
    struct report_opts o = {0};
    const char *format = "text", *trace = NULL, *v;
    bool profile = false;
    int code = CLI_EXIT_ERROR, id;
    struct cli_parser p;
    cli_parser_init(&p, &report_command, argc, argv);
    while ((id = cli_next(&p, &v)) > 0) {
        int rc = report_option("report", id, v, &o);
        if (rc < 0)
            goto out;
        if (rc > 0)
            continue;
        if (id == OPT_FORMAT) {
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0 && strcmp(v, "sarif") != 0) {
                cli_error("report: unknown format '%s' (text, json or sarif)", v);
                goto out;
            }
            format = v;
        } else {
            assert(id == OPT_PROFILE);
            profile = true;
        }
    }
    if (id == CLI_HELP)
        code = 0;
    if (id != CLI_END)
        goto out;
    int i = cli_optind(&p);
    if (i >= argc) {
        cli_error("report: no trace file given (usage: ctxtrace report [OPTIONS] FILE.db)");
        goto out;
    }
    if (i + 1 < argc) {
        cli_error("report: one trace file at a time ('%s' and '%s')", argv[i], argv[i + 1]);
        goto out;
    }
    trace = argv[i];
    if (report_opts_finish(&o) != 0)
        goto out;
    if (profile) {
        char perr[1024];
        if (strcmp(format, "sarif") == 0) {
            cli_error("report: --profile prints text or json, not sarif");
        } else if (report_profile(stdout, trace, strcmp(format, "json") == 0, o.source_root,
                                  perr, sizeof perr) != 0) {
            cli_error("%s", perr);
        } else {
            code = 0;
        }
        goto out;
    }

    struct report r;
    char err[1024];
    if (report_build(&r, trace, &o, err, sizeof err) != 0) {
        cli_error("%s", err);
        goto out;
    }
    if (strcmp(format, "json") == 0)
        report_json(stdout, &r);
    else if (strcmp(format, "sarif") == 0)
        report_sarif(stdout, &r);
    else
        report_text(stdout, &r);
    code = r.findings.len > 0 ? REPORT_EXIT_FINDINGS : REPORT_EXIT_CLEAN;
    if (r.write_error != NULL) {
        /* The report is printed (it is what was recorded), but a trace that stopped at a
         * write error is no result a script may take as clean or not. */
        fflush(stdout);
        cli_error("%s: the trace is incomplete: the tracer could not write it (%s); the "
                  "report covers what was recorded before", trace, r.write_error);
        code = CLI_EXIT_ERROR;
    }
    report_free(&r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("report: writing the report: %s", strerror(errno));
        code = CLI_EXIT_ERROR;
    }
out:
    report_opts_free(&o);
    return code;
}
