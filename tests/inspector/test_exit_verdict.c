/*
 * test_exit_verdict.c — the inspector's tree judges a context as the rules do, the exit
 * check's reachability included (issue 11): one verdict, the trace core's, read through
 * the same reader as `report`.
 *
 * Runs three of tests/findings/exit's programs under `ctxtrace run`, opens each trace as
 * the window does (a CtTraceSource into a CtTraceModel, its analysis through the source;
 * no display needed), walks every context the tree lists and compares with the findings
 * (what `report` prints):
 *  - exit_overwritten_handle: two rounds' handles were overwritten — done (their parent
 *    was cancelled at shutdown) but unreachable and never released: leaked, exactly the
 *    lost-cancel finding's count at its site; nothing else is. Judged without the exit
 *    check they were merely "cancelled";
 *  - exit_kept_at_exit: contexts still held at exit in a global, a long-lived object and
 *    by the function calling exit() are still reachable: no finding, nothing leaked.
 *    Judged without the check they were all "leaked";
 *  - exit_waiter_only_ref: each worker blocked on a context only it holds — report names
 *    them leaked-waiter (one bug, one finding: not also a lost-cancel). The tree marks
 *    those contexts with that finding and "only problems" lists them; their state is
 *    not "leaked" (judged without the check it was).
 *
 *   test_exit_verdict --ctxtrace CTXTRACE --overwritten PROG --kept PROG --waiter PROG
 *                     --workdir DIR
 */
#include <ctxtrace/tracer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ct-format.h"
#include "ct-trace-model.h"
#include "ct-trace-source.h"

static const char *ctxtrace, *overwritten, *kept, *waiter, *workdir;

/* `program` traced into workdir/NAME.db; the path (g_free), or NULL (said why). */
static char *trace(const char *program)
{
    g_autofree char *base = g_path_get_basename(program);
    g_autofree char *name = g_strconcat(base, ".db", NULL);
    char *path = g_build_filename(workdir, name, NULL);
    for (const char *const *suffix = (const char *const[]){"", "-wal", "-shm", NULL}; *suffix; suffix++) {
        g_autofree char *file = g_strconcat(path, *suffix, NULL);
        g_unlink(file);
    }
    const char *argv[] = {ctxtrace, "run", "--no-report", "-o", path, "--", program, NULL};
    int status = 0;
    g_autoptr(GError) error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                      &status, &error) ||
        !g_spawn_check_wait_status(status, &error)) {
        fprintf(stderr, "test_exit_verdict: tracing %s: %s\n", program, error->message);
        g_free(path);
        return NULL;
    }
    return path;
}

typedef struct {
    CtTraceSource *source;
    CtTraceModel *model;
    GPtrArray *contexts; /* every CtContextItem the tree lists (roots excluded) */
} Opened;

typedef struct {
    struct ct_findings *findings;
    gboolean done;
} Analysis;

static void analysed_cb(GObject *source, GAsyncResult *result, gpointer data)
{
    Analysis *a = data;
    g_autoptr(GError) error = NULL;
    a->findings = ct_trace_source_analyze_finish(CT_TRACE_SOURCE(source), result, &error);
    if (a->findings == NULL)
        fprintf(stderr, "test_exit_verdict: analysis: %s\n", error->message);
    a->done = TRUE;
}

static void walk(CtTraceModel *m, GListModel *list, GPtrArray *out)
{
    for (guint i = 0; i < g_list_model_get_n_items(list); i++) {
        g_autoptr(CtContextItem) item = g_list_model_get_item(list, i);
        if (ct_context_item_get_id(item) > 2)
            g_ptr_array_add(out, g_object_ref(item));
        g_autoptr(GListModel) kids = ct_trace_model_get_children(m, item);
        if (kids != NULL)
            walk(m, kids, out);
    }
}

/* The trace of `program` in a model, its findings set, and every context of its tree. */
static Opened open_traced(const char *program)
{
    g_autofree char *path = trace(program);
    assert_non_null(path);
    g_autoptr(GError) error = NULL;
    Opened o = {ct_trace_source_open(path, &error), NULL, g_ptr_array_new_with_free_func(g_object_unref)};
    assert_non_null(o.source);
    o.model = ct_trace_model_new(CT_SOURCE(o.source));
    ct_trace_source_load(o.source, o.model);
    assert_true(ct_trace_model_get_meta(o.model)->complete);
    Analysis a = {NULL, FALSE};
    ct_trace_source_analyze_async(o.source, NULL, analysed_cb, &a);
    gint64 until = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (!a.done && g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, TRUE);
    struct ct_findings *f = a.findings;
    assert_non_null(f);
    ct_trace_model_set_findings(o.model, f); /* the model owns it */
    walk(o.model, ct_trace_model_get_roots(o.model), o.contexts);
    return o;
}

static void close_traced(Opened *o)
{
    g_ptr_array_unref(o->contexts);
    g_object_unref(o->model);
    g_object_unref(o->source);
}

static guint n_leaked(Opened *o)
{
    guint n = 0;
    for (guint i = 0; i < o->contexts->len; i++)
        n += ct_trace_model_get_state(o->model, g_ptr_array_index(o->contexts, i)) == CT_STATE_LEAKED;
    return n;
}

static void test_overwritten_handles_are_leaked_as_the_lost_cancel_finding_counts(void **state)
{
    (void)state;
    Opened o = open_traced(overwritten);
    const struct ct_findings *f = ct_trace_model_get_findings(o.model);
    assert_int_equal(f->len, 1);
    const struct ct_finding *lost = &f->items[0];
    assert_int_equal(lost->rule, CT_RULE_LOST_CANCEL);
    assert_int_equal(lost->count, 2);
    const char *site = ct_format_site(lost->site.function, lost->site.file, lost->site.line,
                                      lost->site.module);
    guint leaked_at_site = 0;
    for (guint i = 0; i < o.contexts->len; i++) {
        CtContextItem *c = g_ptr_array_index(o.contexts, i);
        if (ct_trace_model_get_state(o.model, c) == CT_STATE_LEAKED) {
            assert_ptr_equal(ct_context_item_get_site(c), site);
            leaked_at_site++;
        }
    }
    assert_int_equal(leaked_at_site, lost->count);
    for (int e = 0; e < lost->nexamples; e++)
        assert_int_equal(ct_trace_model_get_state(o.model, ct_trace_model_lookup(o.model, lost->examples[e])),
                         CT_STATE_LEAKED);
    close_traced(&o);
}

static void test_contexts_still_reachable_at_exit_are_not_leaked(void **state)
{
    (void)state;
    Opened o = open_traced(kept);
    assert_int_equal(ct_trace_model_get_findings(o.model)->len, 0);
    assert_true(o.contexts->len >= 3);
    assert_int_equal(n_leaked(&o), 0);
    close_traced(&o);
}

static void test_a_waiter_holding_the_only_reference_is_marked_by_its_leaked_waiter_finding(void **state)
{
    (void)state;
    Opened o = open_traced(waiter);
    const struct ct_findings *f = ct_trace_model_get_findings(o.model);
    assert_int_equal(f->len, 2);
    GHashTable *named = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (size_t i = 0; i < f->len; i++) {
        assert_int_equal(f->items[i].rule, CT_RULE_LEAKED_WAITER);
        assert_true(f->items[i].nexamples >= 1);
        for (int e = 0; e < f->items[i].nexamples; e++) {
            CtContextItem *c = ct_trace_model_lookup(o.model, f->items[i].examples[e]);
            assert_non_null(c);
            assert_true(ct_context_item_get_n_findings(c) >= 1);
            g_hash_table_add(named, (gpointer)&f->items[i].examples[e]);
        }
    }
    /* Not also a lost-cancel: no context of the tree is leaked by the verdict. */
    assert_int_equal(n_leaked(&o), 0);
    /* "Only problems" lists exactly the waited contexts. */
    CtQuery problems = {.kind = -1, .state = -1, .only_problems = TRUE};
    ct_trace_model_set_filter(o.model, &problems);
    GListModel *rows = ct_trace_model_get_roots(o.model);
    assert_int_equal(g_list_model_get_n_items(rows), g_hash_table_size(named));
    for (guint i = 0; i < g_list_model_get_n_items(rows); i++) {
        g_autoptr(CtContextItem) c = g_list_model_get_item(rows, i);
        gint64 id = ct_context_item_get_id(c);
        assert_true(g_hash_table_contains(named, &id));
    }
    g_hash_table_unref(named);
    close_traced(&o);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--ctxtrace") == 0) ctxtrace = v;
        else if (strcmp(k, "--overwritten") == 0) overwritten = v;
        else if (strcmp(k, "--kept") == 0) kept = v;
        else if (strcmp(k, "--waiter") == 0) waiter = v;
        else if (strcmp(k, "--workdir") == 0) workdir = v;
    }
    if (!ctxtrace || !overwritten || !kept || !waiter || !workdir) {
        fprintf(stderr, "usage: test_exit_verdict --ctxtrace CTXTRACE --overwritten PROG --kept PROG "
                        "--waiter PROG --workdir DIR\n");
        return 2;
    }
    g_mkdir_with_parents(workdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overwritten_handles_are_leaked_as_the_lost_cancel_finding_counts),
        cmocka_unit_test(test_contexts_still_reachable_at_exit_are_not_leaked),
        cmocka_unit_test(test_a_waiter_holding_the_only_reference_is_marked_by_its_leaked_waiter_finding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
