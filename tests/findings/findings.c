/*
 * findings — the analysis of one trace file, one canonical line per finding.
 *
 *   findings [-v] [--threshold N] FILE.db
 *
 * Prints, sorted bytewise, one line per finding of ct_analyze():
 *
 *   RULE COUNT FUNCTION FILE_BASENAME:LINE
 *
 * (the site: the innermost frame outside libctxtrace and the shim; "?" for what the
 * trace does not know). Exit status: 0 no findings, 1 findings, 2 error (one line on
 * stderr). -v adds, on stderr, each finding's second stack site, examples and detail —
 * for reading a failed test's log; stdout is the same with or without it.
 *
 * Linked against ctxtrace_core directly: this is the test of the rules, independent of
 * any report format.
 */
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/reader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *base_name(const char *path)
{
    if (path == NULL)
        return "?";
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void usage(void)
{
    fprintf(stderr, "usage: findings [-v] [--threshold N] FILE.db\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool verbose = false;
    struct ct_analysis_opts opts = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 1 || n > 1000000) {
                fprintf(stderr, "findings: --threshold: not a positive number: %s\n", argv[i]);
                return 2;
            }
            opts.detached_root_threshold = (int)n;
        } else if (argv[i][0] == '-' || path != NULL) {
            usage();
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        usage();
        return 2;
    }

    char err[512] = "";
    ct_reader *db = ct_reader_open(path, err, sizeof err);
    if (db == NULL) {
        fprintf(stderr, "findings: %s\n", err);
        return 2;
    }
    struct ct_findings f;
    if (ct_analyze(db, &opts, &f, err, sizeof err) != 0) {
        fprintf(stderr, "findings: %s: %s\n", path, err);
        ct_reader_close(db);
        return 2;
    }

    char **lines = calloc(f.len ? f.len : 1, sizeof *lines);
    if (lines == NULL) {
        fprintf(stderr, "findings: out of memory\n");
        return 2;
    }
    for (size_t i = 0; i < f.len; i++) {
        const struct ct_finding *x = &f.items[i];
        const char *fn = x->site.function ? x->site.function : "?";
        if (asprintf(&lines[i], "%s %ld %s %s:%d", ct_rule_name(x->rule), x->count, fn,
                     base_name(x->site.file), x->site.line) < 0) {
            fprintf(stderr, "findings: out of memory\n");
            return 2;
        }
        if (verbose) {
            fprintf(stderr, "%s\n  %s\n", lines[i], x->detail);
            fprintf(stderr, "  examples:");
            for (int k = 0; k < x->nexamples; k++)
                fprintf(stderr, " %lld", (long long)x->examples[k]);
            fprintf(stderr, "\n");
            const struct ct_stack *more[] = {&x->stack, &x->stack2, &x->stack3};
            const char *labels[] = {"at", x->stack2_label, x->stack3_label};
            for (int s = 0; s < 3; s++) {
                if (more[s]->depth == 0)
                    continue;
                fprintf(stderr, "  %s\n", labels[s] ? labels[s] : "stack");
                for (int k = 0; k < more[s]->depth; k++) {
                    const struct ct_frame *fr = &more[s]->frames[k];
                    fprintf(stderr, "    %s %s:%d (%s)\n", fr->function ? fr->function : "?",
                            base_name(fr->file), fr->line, base_name(fr->module));
                }
            }
        }
    }
    qsort(lines, f.len, sizeof *lines, cmp_line);
    for (size_t i = 0; i < f.len; i++) {
        printf("%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    if (verbose)
        fprintf(stderr, "%ld contexts, trace %s\n", f.contexts,
                f.complete ? "complete" : "cut short");
    int status = f.len ? 1 : 0;
    ct_findings_free(&f);
    ct_reader_close(db);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "findings: writing the output failed\n");
        return 2;
    }
    return status;
}
