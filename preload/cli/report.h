/*
 * report.h — the findings report, shared by `ctxtrace report` and the exit report of
 * `ctxtrace run`: analysis + suppressions (report.c) and one writer per output format
 * (report_text.c, report_json.c, report_sarif.c). The formats are contracts:
 * docs/report.md.
 */
#ifndef CT_CLI_REPORT_H
#define CT_CLI_REPORT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/suppress.h>

/* Exit status of `ctxtrace report` (and of `run --exitcode N` with findings: N). A trace
 * the tracer could not finish writing (meta.write_error: a full disk) is reported, but
 * with CLI_EXIT_ERROR: it is not a result to act on (docs/report.md). */
enum { REPORT_EXIT_CLEAN = 0, REPORT_EXIT_FINDINGS = 1 };

/* Options shared by `report` and `run`. */
struct report_opts {
    struct ct_analysis_opts thresholds; /* the rules' thresholds; 0: their defaults */
    struct ct_suppressions supp;  /* from every --suppressions, else CTXTRACE_SUPPRESSIONS */
    bool supp_given;              /* --suppressions was given (the environment is not read) */
    const char *source_root;      /* --source-root; NULL: the current directory */
    bool show_reachable;          /* --show-reachable: list what the exit check found
                                     still reachable (not findings) */
};

/* The options `report` and `run` share, as entries of their option tables (opts.h). */
enum {
    REPORT_OPT_SUPPRESSIONS = 1000,
    REPORT_OPT_THRESHOLD,
    REPORT_OPT_DONE_THRESHOLD,
    REPORT_OPT_CHAIN_THRESHOLD,
    REPORT_OPT_SOURCE_ROOT,
    REPORT_OPT_SHOW_REACHABLE
};
#define REPORT_OPTIONS                                                                      \
    {REPORT_OPT_SUPPRESSIONS, "suppressions", 0, "FILE",                                    \
     "findings to accept (repeatable; default:\n$CTXTRACE_SUPPRESSIONS; docs/report.md)"},  \
    {REPORT_OPT_THRESHOLD, "threshold", 0, "N", "detached-root threshold (default 32)"},   \
    {REPORT_OPT_DONE_THRESHOLD, "done-threshold", 0, "N",                                   \
     "derived-from-done threshold: derivations\nfrom one done parent (default 2)"},       \
    {REPORT_OPT_CHAIN_THRESHOLD, "chain-threshold", 0, "N",                                 \
     "value-chain-growth threshold: same-site\nvalue layers (default 16)"},               \
    {REPORT_OPT_SOURCE_ROOT, "source-root", 0, "DIR",                                       \
     "print source paths relative to DIR\n(default: the current directory)"},              \
    {REPORT_OPT_SHOW_REACHABLE, "show-reachable", 0, NULL,                                  \
     "also list the contexts held at exit that the\nexit check found still reachable (not "    \
     "findings)"}

/* Apply the report option `id` (one of REPORT_OPT_*) with its value. Returns 1 when
 * consumed, 0 when `id` is not a report option, -1 on a bad value (message printed;
 * `cmd` names the subcommand in it). */
int report_option(const char *cmd, int id, const char *value, struct report_opts *o);

/* After option parsing: read CTXTRACE_SUPPRESSIONS unless --suppressions was given.
 * Returns 0, or -1 with the message printed. */
int report_opts_finish(struct report_opts *o);
void report_opts_free(struct report_opts *o);

/* One analysed trace, ready to print. */
struct report {
    const char *trace;            /* the path as given */
    struct ct_findings findings;  /* after suppressions, most severe first */
    size_t suppressed;            /* findings removed by suppressions */
    const struct ct_suppressions *supp;
    char root[PATH_MAX];          /* source root (absolute) for relative paths; "" if none */
    /* What the trace did not see (meta; docs/trace-file.md). */
    char *write_error;            /* why the tracer stopped writing (a full disk); NULL */
    int64_t events_after_cut;     /* events refused after recording stopped */
    int64_t contexts_after_cut;   /* the context creations among them */
    int64_t ring_stall_max_ns;    /* the longest wait of a thread for ring space */
    int64_t ring_stalls;          /* how many waits: for a full ring, and paced (ring.h) */
    bool show_reachable;          /* --show-reachable: `reachable` is filled */
    struct ct_reachable reachable;
};

/* A thread held up longer than this by the tracer is worth a note in the text report
 * (issue 13's bound on application-thread stalls). */
#define REPORT_NOTABLE_STALL_NS (10 * 1000 * 1000LL)

/* Open and analyse `trace`, then apply the suppressions. Returns 0, or -1 with a
 * one-line reason in err (it names the file). */
int report_build(struct report *r, const char *trace, struct report_opts *o, char *err,
                 size_t errlen);
void report_free(struct report *r);

/* The members of a frame object: "function", "file", "line" (null when unknown) and,
 * with `module`, "module". Shared by the JSON report and the JSON profile. */
struct json;
void report_json_frame(struct json *j, const struct ct_frame *f, bool module);
/* A finding's "examples" and "durations_ns" members (JSON report, SARIF properties). */
void report_json_examples(struct json *j, const struct ct_finding *f);

/* A duration for people: "850 ns", "12.3 us", "4.56 ms", "1.20 s". */
void report_fmt_ns(char *buf, size_t len, int64_t ns);

/* `ctxtrace report --profile`: the per-site profile of `trace`, as a text table or
 * JSON. Returns 0, or -1 with a one-line reason in err. */
int report_profile(FILE *out, const char *trace, bool json, const char *source_root,
                   char *err, size_t errlen);

/* Set r->root from `source_root` (NULL: the current directory); "" if it cannot be
 * resolved. report_build does this; other printers of frames (soak) too. */
void report_set_root(struct report *r, const char *source_root);
/* A frame for people, as the text report prints it: "function file:line (module)",
 * paths relative to r->root, control characters shown as '?' (a trace is input). */
void report_text_frame(FILE *out, const struct report *r, const struct ct_frame *f);

/* `path` relative to the source root when it is under it, else `path` (NULL: NULL). */
const char *report_relpath(const struct report *r, const char *path);
/* The last component of a path (NULL: NULL). */
const char *report_basename(const char *path);

/* Words for a rule: the noun its count counts ("context"/"wait") and the label of its
 * main stack ("created at"/"waiting at"). (Its title, severity and duration label are
 * the trace core's: ct_rule_title and friends.) */
const char *report_noun(enum ct_rule rule, long count);
const char *report_stack_label(enum ct_rule rule);

void report_text(FILE *out, const struct report *r);
void report_json(FILE *out, const struct report *r);
void report_sarif(FILE *out, const struct report *r);

#endif /* CT_CLI_REPORT_H */
