/*
 * report_text.c — the human-readable report, in the spirit of LeakSanitizer's: a
 * summary line, then each finding (most severe first) with its explanation, facts and
 * symbolized stacks. Printed by `ctxtrace report` on stdout and by `ctxtrace run` on
 * stderr when the program exits. Paths under the source root (the current directory)
 * are shortened relative to it. docs/report.md describes it.
 */
#include <inttypes.h>
#include <string.h>

#include <ctxtrace/core/columns.h>

#include "report.h"

/* Text from the trace, with control characters shown as '?' (a trace is input). */
static void put_clean(FILE *out, const char *s)
{
    for (; *s != '\0'; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
}

/* "function file:line (module)", each part as far as known; " (inlined)" after a frame
 * the compiler inlined into the next one (it has no physical frame of its own), and
 * " (tail call)" after one whose frame a tail call replaced (put back from the DWARF). */
void report_text_frame(FILE *out, const struct report *r, const struct ct_frame *f)
{
    put_clean(out, f->function ? f->function : "??");
    if (f->file != NULL) {
        fputc(' ', out);
        put_clean(out, report_relpath(r, f->file));
        if (f->line > 0)
            fprintf(out, ":%d", f->line);
    }
    if (f->module != NULL) {
        fputs(" (", out);
        put_clean(out, report_basename(f->module));
        fputc(')', out);
    }
    if (f->inlined)
        fputs(" (inlined)", out);
    if (f->tail_call)
        fputs(" (tail call)", out);
}

static void put_stack(FILE *out, const struct report *r, const char *label,
                      const struct ct_stack *s)
{
    fprintf(out, "  %s:\n", label);
    if (s->depth == 0)
        fputs("    (no stack recorded)\n", out);
    for (int i = 0; i < s->depth; i++) {
        fprintf(out, "    #%-2d ", i);
        report_text_frame(out, r, &s->frames[i]);
        fputc('\n', out);
    }
}

/* "3 findings in 15 contexts: 2 lost-cancel, 1 orphaned-timer" */
static void put_summary(FILE *out, const struct report *r, const char *prefix)
{
    const struct ct_findings *f = &r->findings;
    fputs(prefix, out);
    if (f->len == 0)
        fputs("no findings", out);
    else
        fprintf(out, "%zu finding%s", f->len, f->len == 1 ? "" : "s");
    fprintf(out, " in %ld context%s", f->contexts, f->contexts == 1 ? "" : "s");
    long per_rule[CT_RULE_COUNT] = {0};
    for (size_t i = 0; i < f->len; i++)
        if (f->items[i].rule < CT_RULE_COUNT)
            per_rule[f->items[i].rule]++;
    bool first = true;
    for (size_t i = 0; i < f->len; i++) {
        enum ct_rule rule = f->items[i].rule;
        if (rule >= CT_RULE_COUNT || per_rule[rule] == 0)
            continue;
        fprintf(out, "%s%ld %s", first ? ": " : ", ", per_rule[rule], ct_rule_name(rule));
        per_rule[rule] = 0; /* printed once, where the rule first appears */
        first = false;
    }
    if (r->suppressed > 0)
        fprintf(out, " (%zu suppressed)", r->suppressed);
    fputc('\n', out);
}

static void put_finding(FILE *out, const struct report *r, const struct ct_finding *f)
{
    fprintf(out, "\n%s: %ld %s at ", ct_rule_name(f->rule), f->count,
            report_noun(f->rule, f->count));
    const struct ct_frame *s = &f->site;
    if (s->function == NULL && s->file == NULL && s->module == NULL) {
        fputs("an unknown site", out);
    } else {
        put_clean(out, s->function ? s->function : "??");
        if (s->file != NULL) {
            fputs(" (", out);
            put_clean(out, report_relpath(r, s->file));
            if (s->line > 0)
                fprintf(out, ":%d", s->line);
            fputc(')', out);
        } else if (s->module != NULL) {
            fputs(" (", out);
            put_clean(out, report_basename(s->module));
            fputc(')', out);
        }
    }
    fputc('\n', out);
    fprintf(out, "  %s\n", ct_rule_summary(f->rule));
    if (f->detail[0] != '\0') {
        fputs("  ", out);
        put_clean(out, f->detail);
        fputc('\n', out);
    }
    const char *dl = ct_rule_duration_label(f->rule);
    if (dl != NULL && (f->dur_max > 0 || f->dur_p50 > 0)) {
        char p50[32], max[32];
        report_fmt_ns(p50, sizeof p50, f->dur_p50);
        report_fmt_ns(max, sizeof max, f->dur_max);
        if (f->count == 1)
            fprintf(out, "  %s %s\n", dl, max);
        else
            fprintf(out, "  %s: median %s, max %s\n", dl, p50, max);
    }
    if (f->nexamples > 0) {
        fprintf(out, "  example context%s:", f->nexamples == 1 ? "" : "s");
        for (int i = 0; i < f->nexamples && i < CT_MAX_EXAMPLES; i++)
            fprintf(out, " %" PRId64, f->examples[i]);
        if (f->count > f->nexamples)
            fputs(" ...", out);
        fputc('\n', out);
    }
    put_stack(out, r, report_stack_label(f->rule), &f->stack);
    if (f->stack2.depth > 0)
        put_stack(out, r, f->stack2_label ? f->stack2_label : "also", &f->stack2);
    if (f->stack3.depth > 0)
        put_stack(out, r, f->stack3_label ? f->stack3_label : "also", &f->stack3);
    fprintf(out, "  fix: %s\n", ct_rule_fix(f->rule));
}

/* The notes on what the trace did not see: a write error, events after the cut, long
 * stalls of the program's threads (docs/report.md). */
static void put_gaps(FILE *out, const struct report *r, const char *prefix)
{
    if (r->write_error != NULL) {
        fprintf(out, "%snote: the trace is incomplete: the tracer could not write it (",
                prefix);
        put_clean(out, r->write_error);
        fputs("): recording stopped there; judged on what was written\n", out);
    } else if (!r->findings.complete) {
        fprintf(out, "%snote: the trace is incomplete (the program was killed, or is still "
                "running): judged on what was written\n", prefix);
    }
    if (r->events_after_cut > 0)
        fprintf(out,
                "%snote: %" PRId64 " event%s (%" PRId64 " context creation%s) came after "
                "recording stopped (%s): not in the trace\n",
                prefix, r->events_after_cut, r->events_after_cut == 1 ? "" : "s",
                r->contexts_after_cut, r->contexts_after_cut == 1 ? "" : "s",
                r->write_error != NULL ? "at the write error"
                                       : "threads still running while the trace was closed");
    if (r->ring_stall_max_ns > REPORT_NOTABLE_STALL_NS) {
        char max[32];
        report_fmt_ns(max, sizeof max, r->ring_stall_max_ns);
        fprintf(out,
                "%snote: a thread waited up to %s for the tracer to make room (%" PRId64
                " wait%s): the tracer could not keep up and slowed the program\n",
                prefix, max, r->ring_stalls, r->ring_stalls == 1 ? "" : "s");
    }
}

/* --show-reachable: LeakSanitizer's "still reachable" list, for contexts. */
static void put_reachable(FILE *out, const struct report *r)
{
    const struct ct_reachable *x = &r->reachable;
    if (!x->checked) {
        fputs("\nstill reachable at exit: not known (the trace has no exit check that judged "
              "reachability)\n", out);
        return;
    }
    fprintf(out, "\nstill reachable at exit (not findings): %ld context%s held by %s "
            "owners, that the running program could still reach\n",
            x->total, x->total == 1 ? "" : "s", x->total == 1 ? "its" : "their");
    for (size_t i = 0; i < x->len; i++) {
        const struct ct_reachable_site *s = &x->items[i];
        fprintf(out, "  %6ld  %-8s ", s->count, ct_kind_name(s->kind));
        if (s->stack.depth > 0)
            report_text_frame(out, r, &s->stack.frames[0]);
        else
            fputs("an unknown site", out);
        fprintf(out, "  (%ld never cancelled; e.g. context %lld)\n", s->never_cancelled,
                (long long)s->example);
    }
}

void report_text(FILE *out, const struct report *r)
{
    put_summary(out, r, "ctxtrace: ");
    put_gaps(out, r, "ctxtrace: ");
    if (strncmp(r->findings.exit_check, "abandoned", 9) == 0) {
        fputs("ctxtrace: note: the exit check was ", out);
        put_clean(out, r->findings.exit_check);
        fputs(" (leaked-thread not judged)\n", out);
    }
    if (r->findings.threads_unjudged > 0)
        fprintf(out,
                "ctxtrace: note: %ld thread%s the program created %s alive at the exit check "
                "and never seen with a context (not judged)\n",
                r->findings.threads_unjudged, r->findings.threads_unjudged == 1 ? "" : "s",
                r->findings.threads_unjudged == 1 ? "was" : "were");
    for (size_t i = 0; i < r->findings.len; i++)
        put_finding(out, r, &r->findings.items[i]);
    if (r->suppressed > 0 && r->supp != NULL) {
        fprintf(out, "\nsuppressed: %zu finding%s\n", r->suppressed,
                r->suppressed == 1 ? "" : "s");
        for (size_t i = 0; i < r->supp->len; i++) {
            const struct ct_suppression *x = &r->supp->items[i];
            if (x->hits == 0)
                continue;
            fprintf(out, "  %4ld  ", x->hits);
            put_clean(out, x->text);
            fputs("  (", out);
            put_clean(out, x->source);
            fprintf(out, ":%d)\n", x->line);
        }
    }
    if (r->show_reachable)
        put_reachable(out, r);
    if (r->findings.len > 0) {
        fputc('\n', out);
        put_summary(out, r, "SUMMARY: ctxtrace: ");
    }
}
