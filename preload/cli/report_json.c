/*
 * report_json.c — `ctxtrace report --format json`: one object, a stable contract
 * (docs/report.md, "JSON"). Paths are written as the trace recorded them (absolute);
 * unknown functions and files are null, an unknown line is null.
 */
#include <string.h>

#include "json.h"
#include <ctxtrace/core/columns.h>

#include "report.h"

void report_json_frame(struct json *j, const struct ct_frame *f, bool module)
{
    json_key(j, "function");
    json_string(j, f->function);
    json_key(j, "file");
    json_string(j, f->file);
    json_key(j, "line");
    if (f->line > 0)
        json_int(j, f->line);
    else
        json_null(j);
    if (module) {
        json_key(j, "module");
        json_string(j, f->module);
    }
    /* Only where true: a frame the compiler inlined into the next (outer) one; a frame
     * a tail call replaced. */
    if (f->inlined) {
        json_key(j, "inlined");
        json_bool(j, true);
    }
    if (f->tail_call) {
        json_key(j, "tail_call");
        json_bool(j, true);
    }
}

/* "examples" (context ids) and "durations_ns" {"p50", "max"} of a finding: the JSON
 * report's and the SARIF properties' common members. */
void report_json_examples(struct json *j, const struct ct_finding *f)
{
    json_key(j, "examples");
    json_array_inline(j);
    for (int i = 0; i < f->nexamples && i < CT_MAX_EXAMPLES; i++)
        json_int(j, f->examples[i]);
    json_end_array(j);
    json_key(j, "durations_ns");
    json_object_inline(j);
    json_key(j, "p50");
    json_int(j, f->dur_p50);
    json_key(j, "max");
    json_int(j, f->dur_max);
    json_end_object(j);
}

static void stack(struct json *j, const char *key, const struct ct_stack *s)
{
    json_key(j, key);
    json_array(j);
    for (int i = 0; i < s->depth; i++) {
        json_object_inline(j);
        report_json_frame(j, &s->frames[i], true);
        json_end_object(j);
    }
    json_end_array(j);
}

/* The key of a finding's second stack: by its label, else by what the rule records. */
static const char *stack2_key(const struct ct_finding *f)
{
    if (f->stack2_label != NULL && strstr(f->stack2_label, "thread") != NULL)
        return "thread_stack";
    if (f->stack2_label != NULL && strstr(f->stack2_label, "release") != NULL)
        return "release_stack";
    return f->rule == CT_RULE_LEAKED_WAITER ? "thread_stack" : "release_stack";
}

static void finding(struct json *j, const struct ct_finding *f)
{
    json_object(j);
    json_key(j, "rule");
    json_string(j, ct_rule_name(f->rule));
    json_key(j, "summary");
    json_string(j, ct_rule_summary(f->rule));
    json_key(j, "count");
    json_int(j, f->count);
    json_key(j, "site");
    json_object_inline(j);
    report_json_frame(j, &f->site, true);
    json_end_object(j);
    stack(j, "stack", &f->stack);
    if (f->stack2.depth > 0)
        stack(j, stack2_key(f), &f->stack2);
    if (f->stack3.depth > 0)
        stack(j, "context_stack", &f->stack3);
    report_json_examples(j, f);
    if (f->rule == CT_RULE_ORPHANED_TIMER) {
        json_key(j, "fired");
        json_int(j, f->fired);
    }
    json_key(j, "detail");
    json_string(j, f->detail);
    json_key(j, "fix");
    json_string(j, ct_rule_fix(f->rule));
    json_end_object(j);
}

void report_json(FILE *out, const struct report *r)
{
    struct json j;
    json_init(&j, out);
    json_object(&j);
    json_key(&j, "version");
    json_int(&j, 1);
    json_key(&j, "trace");
    json_string(&j, r->trace);
    json_key(&j, "contexts");
    json_int(&j, r->findings.contexts);
    json_key(&j, "complete");
    json_bool(&j, r->findings.complete);
    json_key(&j, "suppressed");
    json_int(&j, (int64_t)r->suppressed);
    /* What the trace did not see (docs/report.md): only when there is something. */
    if (r->write_error != NULL) {
        json_key(&j, "write_error");
        json_string(&j, r->write_error);
    }
    if (r->events_after_cut > 0) {
        json_key(&j, "events_after_cut");
        json_int(&j, r->events_after_cut);
        json_key(&j, "contexts_after_cut");
        json_int(&j, r->contexts_after_cut);
    }
    if (r->ring_stalls > 0) {
        json_key(&j, "ring_stall_max_ns");
        json_int(&j, r->ring_stall_max_ns);
    }
    if (r->findings.exit_check[0] != '\0') {
        /* The exit check (docs/rules.md): "done", "off" or "abandoned: REASON", and the
         * created threads alive at it that leaked-thread could not judge. */
        json_key(&j, "exit_check");
        json_string(&j, r->findings.exit_check);
        json_key(&j, "threads_unjudged");
        json_int(&j, r->findings.threads_unjudged);
    }
    if (r->show_reachable && r->reachable.checked) {
        /* --show-reachable: not findings (docs/report.md). */
        json_key(&j, "still_reachable");
        json_array(&j);
        for (size_t i = 0; i < r->reachable.len; i++) {
            const struct ct_reachable_site *s = &r->reachable.items[i];
            json_object_inline(&j);
            json_key(&j, "count");
            json_int(&j, s->count);
            json_key(&j, "never_cancelled");
            json_int(&j, s->never_cancelled);
            json_key(&j, "kind");
            json_string(&j, ct_kind_name(s->kind));
            json_key(&j, "example");
            json_int(&j, s->example);
            json_key(&j, "site");
            if (s->stack.depth > 0) {
                json_object_inline(&j);
                report_json_frame(&j, &s->stack.frames[0], true);
                json_end_object(&j);
            } else {
                json_null(&j);
            }
            json_end_object(&j);
        }
        json_end_array(&j);
    }
    if (r->supp != NULL && r->supp->len > 0) {
        json_key(&j, "suppressions");
        json_array(&j);
        for (size_t i = 0; i < r->supp->len; i++) {
            const struct ct_suppression *x = &r->supp->items[i];
            json_object_inline(&j);
            json_key(&j, "suppression");
            json_string(&j, x->text);
            json_key(&j, "file");
            json_string(&j, x->source);
            json_key(&j, "line");
            json_int(&j, x->line);
            json_key(&j, "hits");
            json_int(&j, x->hits);
            json_end_object(&j);
        }
        json_end_array(&j);
    }
    json_key(&j, "findings");
    json_array(&j);
    for (size_t i = 0; i < r->findings.len; i++)
        finding(&j, &r->findings.items[i]);
    json_end_array(&j);
    json_end_object(&j);
    json_finish(&j);
}
