/*
 * test_model.c — the inspector's data model without a display: the incremental path a
 * live source will push through (rows created, changed, freed; samples; findings;
 * coalesced announcements), and the offline source's paging over a real trace file
 * written with the trace core's store — with and without the secondary indexes.
 *
 *   test_model WORKDIR
 */
#include <ctxtrace/core/store.h>
#include <ctxtrace/core/wire.h>
#include <ctxtrace/tracer.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ct-child-list.h"
#include "ct-finding-item.h"
#include "ct-live-source.h"
#include "ct-trace-model.h"
#include "ct-trace-source.h"

static const char *workdir;

/* ---- helpers ------------------------------------------------------------------------- */

static struct ct_ctx_row created(gint64 id, gint64 parent, int kind, gint64 at)
{
    struct ct_ctx_row r = {.id = id};
    if (parent != 0)
        ct_ctx_set(&r, CT_PARENT_ID, parent);
    ct_ctx_set(&r, CT_KIND, kind);
    ct_ctx_set(&r, CT_CREATED_NS, at);
    return r;
}

static void count_changes(GListModel *list, guint pos, guint removed, guint added, gpointer data)
{
    (void)list;
    (void)pos;
    (void)removed;
    *(guint *)data += added;
    (*((guint *)data + 1))++;
}

static void count_signal(gpointer instance, gpointer data)
{
    (void)instance;
    (*(guint *)data)++;
}

static CtTraceModel *live_model_with_roots(void)
{
    CtTraceModel *m = ct_trace_model_new(NULL);
    ct_trace_model_set_live(m, TRUE);
    struct ct_ctx_row bg = created(1, 0, CTX_KIND_BACKGROUND, 0);
    ct_trace_model_apply_row(m, &bg);
    ct_trace_model_flush(m);
    return m;
}

/* ---- the incremental path ------------------------------------------------------------- */

static void test_created_rows_appear_in_their_parents_list_after_one_coalesced_flush(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    CtContextItem *bg = ct_trace_model_lookup(m, 1);
    assert_non_null(bg);
    g_autoptr(GListModel) kids = ct_trace_model_get_children(m, bg);
    assert_non_null(kids);
    guint changes[2] = {0, 0}; /* items added, signals */
    g_signal_connect(kids, "items-changed", G_CALLBACK(count_changes), changes);

    for (gint64 id = 3; id < 1003; id++) {
        struct ct_ctx_row r = created(id, 1, CTX_KIND_CANCEL, id * 10);
        ct_trace_model_apply_row(m, &r);
    }
    /* Pushed, not yet announced: the list still says what it said. */
    assert_int_equal(g_list_model_get_n_items(kids), 0);
    ct_trace_model_flush(m);
    assert_int_equal(g_list_model_get_n_items(kids), 1000);
    assert_int_equal(changes[0], 1000);
    assert_int_equal(changes[1], 1); /* one items-changed for a thousand rows */
    assert_int_equal(ct_context_item_get_n_children(bg), 1000);
    g_autoptr(CtContextItem) last = g_list_model_get_item(kids, 999);
    assert_int_equal(ct_context_item_get_id(last), 1002);
    g_object_unref(m);
}

/* A view that builds a widget row for each row announced, as GTK 4.8's list view does
 * inside items-changed (~1 ms a row): counts as count_changes, and the largest slice. */
static void costly_view(GListModel *list, guint pos, guint removed, guint added, gpointer data)
{
    count_changes(list, pos, removed, added, data);
    guint *largest = (guint *)data + 2;
    *largest = MAX(*largest, added);
    g_usleep(1000 * (gulong)added);
}

/* The frame-rate flush announces a burst's rows in slices sized by what announcing
 * costs the views, and the rest follows frame after frame without further pushes: a
 * burst of 300 rows into such a view must not freeze the main loop for 300 ms. */
static void test_the_timed_flush_announces_a_burst_in_slices_the_views_can_afford(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    CtContextItem *bg = ct_trace_model_lookup(m, 1);
    g_autoptr(GListModel) kids = ct_trace_model_get_children(m, bg);
    guint changes[3] = {0, 0, 0}; /* items added, signals, largest slice */
    g_signal_connect(kids, "items-changed", G_CALLBACK(costly_view), changes);
    for (gint64 id = 3; id < 303; id++) {
        struct ct_ctx_row r = created(id, 1, CTX_KIND_CANCEL, id * 10);
        ct_trace_model_apply_row(m, &r);
    }
    gint64 give_up = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (g_list_model_get_n_items(kids) < 300 && g_get_monotonic_time() < give_up)
        g_main_context_iteration(NULL, TRUE);
    assert_int_equal(g_list_model_get_n_items(kids), 300);
    assert_int_equal(changes[0], 300);
    assert_true(changes[1] > 10);
    /* At most two frames' worth of this view's work in one main-loop turn. */
    assert_true(changes[2] <= 32);
    g_object_unref(m);
}

/* Revealing a context whose row is still queued announces it at once: a selection must
 * not wait for the slices. */
static void test_finding_a_queued_row_announces_it(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    CtContextItem *bg = ct_trace_model_lookup(m, 1);
    g_autoptr(GListModel) kids = ct_trace_model_get_children(m, bg);
    guint changes[3] = {0, 0, 0};
    g_signal_connect(kids, "items-changed", G_CALLBACK(costly_view), changes);
    for (gint64 id = 3; id < 303; id++) {
        struct ct_ctx_row r = created(id, 1, CTX_KIND_CANCEL, id * 10);
        ct_trace_model_apply_row(m, &r);
    }
    gint64 give_up = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (changes[1] == 0 && g_get_monotonic_time() < give_up)
        g_main_context_iteration(NULL, TRUE);
    assert_true(g_list_model_get_n_items(kids) > 0 && g_list_model_get_n_items(kids) < 300);
    assert_int_equal(ct_child_list_find(CT_CHILD_LIST(kids), 302), 299);
    assert_int_equal(g_list_model_get_n_items(kids), 300);
    g_autoptr(CtContextItem) last = g_list_model_get_item(kids, 299);
    assert_int_equal(ct_context_item_get_id(last), 302);
    g_object_unref(m);
}

static void test_a_list_opened_after_its_contexts_were_pushed_holds_them(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    for (gint64 id = 3; id < 8; id++) {
        struct ct_ctx_row r = created(id, id == 3 ? 1 : 3, CTX_KIND_CANCEL, id);
        ct_trace_model_apply_row(m, &r);
    }
    ct_trace_model_flush(m);
    g_autoptr(GListModel) kids = ct_trace_model_get_children(m, ct_trace_model_lookup(m, 3));
    assert_int_equal(g_list_model_get_n_items(kids), 4);
    /* A filter set and cleared again: the roots are back. */
    CtQuery q = {.kind = CTX_KIND_CANCEL, .state = -1};
    ct_trace_model_set_filter(m, &q);
    assert_int_equal(g_list_model_get_n_items(ct_trace_model_get_roots(m)), 5);
    CtQuery none = {.kind = -1, .state = -1};
    ct_trace_model_set_filter(m, &none);
    assert_int_equal(g_list_model_get_n_items(ct_trace_model_get_roots(m)), 1);
    g_object_unref(m);
}

/* Pushes merge into the one item at once; "changed" is announced at the flush, once
 * however many pushes changed the item in between (a burst refills a visible row once
 * a frame), and not at all when nothing changed. */
static void test_state_changes_merge_into_the_one_item_and_emit_changed_once_a_flush(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    struct ct_ctx_row r = created(7, 1, CTX_KIND_DEADLINE, 100);
    ct_trace_model_apply_row(m, &r);
    ct_trace_model_flush(m);
    CtContextItem *item = ct_trace_model_lookup(m, 7);
    guint changed = 0;
    g_signal_connect(item, "changed", G_CALLBACK(count_signal), &changed);
    assert_int_equal(ct_trace_model_get_state(m, item), CT_STATE_LIVE);

    struct ct_ctx_row rel = {.id = 7};
    ct_ctx_set(&rel, CT_RELEASED_NS, 200);
    ct_ctx_set(&rel, CT_RELEASED_LIVE, 1);
    ct_trace_model_apply_row(m, &rel);
    assert_int_equal(ct_trace_model_get_state(m, item), CT_STATE_LEAKED);
    assert_int_equal(changed, 0);
    ct_trace_model_flush(m);
    assert_int_equal(changed, 1);

    struct ct_ctx_row fired = {.id = 7};
    ct_ctx_set(&fired, CT_CANCELED_NS, 300);
    ct_ctx_set(&fired, CT_CANCEL_WHY, CTX_WHY_DEADLINE);
    ct_ctx_set(&fired, CT_TIMER_FIRED_NS, 300);
    ct_trace_model_apply_row(m, &fired);
    struct ct_ctx_row freed = {.id = 7};
    ct_ctx_set(&freed, CT_FREED_NS, 310);
    ct_trace_model_apply_row(m, &freed);
    /* A child pushed meanwhile changes the parent's count: still one announcement. */
    struct ct_ctx_row child = created(8, 7, CTX_KIND_CANCEL, 305);
    ct_trace_model_apply_row(m, &child);
    assert_int_equal(ct_context_item_get_n_children(item), 1);
    ct_trace_model_flush(m);
    assert_int_equal(changed, 2);
    /* Still the lost cancel it was: the timer firing later does not excuse it. */
    assert_int_equal(ct_trace_model_get_state(m, item), CT_STATE_LEAKED);
    assert_int_equal(ct_context_item_get_end_ns(item), 310);
    /* The same row again changes nothing. */
    ct_trace_model_apply_row(m, &fired);
    ct_trace_model_flush(m);
    assert_int_equal(changed, 2);
    g_object_unref(m);
}

static void test_cancelled_and_deadline_states_follow_cancel_why(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    struct ct_ctx_row a = created(3, 1, CTX_KIND_CANCEL, 1), b = created(4, 1, CTX_KIND_DEADLINE, 1);
    ct_ctx_set(&a, CT_CANCELED_NS, 5);
    ct_ctx_set(&a, CT_CANCEL_WHY, CTX_WHY_EXPLICIT);
    ct_ctx_set(&b, CT_CANCELED_NS, 5);
    ct_ctx_set(&b, CT_CANCEL_WHY, CTX_WHY_DEADLINE);
    ct_trace_model_apply_row(m, &a);
    ct_trace_model_apply_row(m, &b);
    assert_int_equal(ct_trace_model_get_state(m, ct_trace_model_lookup(m, 3)), CT_STATE_CANCELLED);
    assert_int_equal(ct_trace_model_get_state(m, ct_trace_model_lookup(m, 4)), CT_STATE_DEADLINE);
    /* A cancellable context never cancelled by the end of a complete trace leaked. */
    struct ct_ctx_row c = created(5, 1, CTX_KIND_CANCEL, 1);
    ct_trace_model_apply_row(m, &c);
    assert_int_equal(ct_trace_model_get_state(m, ct_trace_model_lookup(m, 5)), CT_STATE_LIVE);
    CtTraceMeta ended = *ct_trace_model_get_meta(m);
    ended.complete = TRUE; /* the process exited: the end of a complete trace */
    ct_trace_model_set_meta(m, &ended);
    assert_int_equal(ct_trace_model_get_state(m, ct_trace_model_lookup(m, 5)), CT_STATE_LEAKED);
    /* A value context is never done, so always released "live": never a leaked cancel. */
    struct ct_ctx_row v = created(6, 1, CTX_KIND_VALUE, 1);
    ct_ctx_set(&v, CT_RELEASED_LIVE, 1);
    ct_trace_model_apply_row(m, &v);
    assert_int_equal(ct_trace_model_get_state(m, ct_trace_model_lookup(m, 6)), CT_STATE_LIVE);
    g_object_unref(m);
}

static void test_samples_are_announced_once_per_flush(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    guint signals = 0;
    g_signal_connect(m, "samples-changed", G_CALLBACK(count_signal), &signals);
    for (int i = 1; i <= 50; i++) {
        struct ct_sample_row s = {.ts_ns = i * 100, .live_contexts = i, .threads = 2};
        ct_trace_model_add_sample(m, &s);
    }
    ct_trace_model_flush(m);
    ct_trace_model_flush(m);
    assert_int_equal(signals, 1);
    guint n;
    const struct ct_sample_row *s = ct_trace_model_get_samples(m, &n);
    assert_int_equal(n, 50);
    assert_int_equal(s[49].live_contexts, 50);
    assert_int_equal(ct_trace_model_get_meta(m)->now_ns, 5000);
    g_object_unref(m);
}

static void test_pushes_are_announced_by_the_frame_timer_without_an_explicit_flush(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    guint signals = 0;
    g_signal_connect(m, "timeline-changed", G_CALLBACK(count_signal), &signals);
    struct ct_ctx_row r = created(3, 1, CTX_KIND_CANCEL, 1);
    ct_trace_model_apply_row(m, &r);
    gint64 until = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    while (signals == 0 && g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, TRUE);
    assert_int_equal(signals, 1);
    assert_int_equal(ct_spans_get_len(ct_trace_model_get_spans(m)), 1); /* #3; roots are no spans */
    g_object_unref(m);
}

static void test_a_filter_list_gains_only_the_matching_new_contexts(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    CtQuery q = {.kind = CTX_KIND_DEADLINE, .state = -1};
    ct_trace_model_set_filter(m, &q);
    GListModel *roots = ct_trace_model_get_roots(m);
    for (gint64 id = 3; id < 13; id++) {
        struct ct_ctx_row r = created(id, 1, id % 2 ? CTX_KIND_DEADLINE : CTX_KIND_CANCEL, id);
        ct_trace_model_apply_row(m, &r);
    }
    ct_trace_model_flush(m);
    assert_int_equal(g_list_model_get_n_items(roots), 5);
    for (guint i = 0; i < 5; i++) {
        g_autoptr(CtContextItem) it = g_list_model_get_item(roots, i);
        assert_int_equal(ct_context_item_get(it, CT_KIND, -1), CTX_KIND_DEADLINE);
    }
    g_object_unref(m);
}

static struct ct_finding finding(enum ct_rule rule, long count, gint64 example)
{
    struct ct_finding f = {.rule = rule, .count = count, .nexamples = 1};
    f.examples[0] = example;
    return f;
}

static void test_findings_are_grouped_by_rule_and_badge_their_contexts(void **state)
{
    (void)state;
    CtTraceModel *m = live_model_with_roots();
    struct ct_ctx_row r = created(3, 1, CTX_KIND_CANCEL, 1);
    ct_trace_model_apply_row(m, &r);
    struct ct_findings *f = g_new0(struct ct_findings, 1);
    f->items = calloc(3, sizeof *f->items);
    f->items[0] = finding(CT_RULE_ORPHANED_TIMER, 9, 3);
    f->items[1] = finding(CT_RULE_LOST_CANCEL, 2, 4);
    f->items[2] = finding(CT_RULE_ORPHANED_TIMER, 1, 5);
    f->len = 3;
    ct_trace_model_set_findings(m, f);

    GListModel *groups = ct_trace_model_get_finding_groups(m);
    assert_int_equal(g_list_model_get_n_items(groups), 2);
    g_autoptr(CtFindingItem) first = g_list_model_get_item(groups, 0);
    assert_int_equal(ct_finding_item_get_rule(first), CT_RULE_ORPHANED_TIMER); /* more severe */
    assert_int_equal(g_list_model_get_n_items(ct_finding_item_get_children(first)), 2);
    assert_int_equal(ct_finding_item_get_count(first), 10);
    assert_int_equal(ct_context_item_get_n_findings(ct_trace_model_lookup(m, 3)), 1);
    /* A context loaded after the findings arrived gets its badge too. */
    struct ct_ctx_row later = created(4, 1, CTX_KIND_CANCEL, 2);
    ct_trace_model_apply_row(m, &later);
    assert_int_equal(ct_context_item_get_n_findings(ct_trace_model_lookup(m, 4)), 1);
    g_object_unref(m);
}

/* ---- the offline source over a real trace file ----------------------------------------------- */

enum { N_KIDS = 1000 };

/* A trace: background -> #3 (cancel) -> N_KIDS deadline children (ids 10, 13, 16 ...:
 * not dense, as in real traces), every 7th released while live and never cancelled,
 * the others cancelled, then released. */
static char *make_trace(const char *name, gboolean indexed)
{
    char *path = g_build_filename(workdir, name, NULL);
    g_unlink(path);
    char err[256];
    ct_store *s = ct_store_create(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(ct_store_begin(s), 0);
    ct_store_meta_int(s, "start_ns", 1000);
    ct_store_meta_int(s, "end_ns", 900000);
    ct_store_meta_int(s, "complete", 1);
    ct_store_meta_text(s, "program", "/bin/model-test");
    struct ct_ctx_row top = created(3, 1, CTX_KIND_CANCEL, 1100);
    ct_ctx_set(&top, CT_CANCELED_NS, 800000);
    ct_ctx_set(&top, CT_CANCEL_WHY, CTX_WHY_EXPLICIT);
    assert_int_equal(ct_store_context(s, &top), 0);
    for (int i = 0; i < N_KIDS; i++) {
        struct ct_ctx_row r = created(10 + 3 * i, 3, CTX_KIND_DEADLINE, 2000 + i);
        ct_ctx_set(&r, CT_RELEASED_NS, 5000 + i);
        ct_ctx_set(&r, CT_RELEASED_LIVE, i % 7 == 0);
        if (i % 7 != 0) {
            ct_ctx_set(&r, CT_CANCELED_NS, 4000 + i);
            ct_ctx_set(&r, CT_CANCEL_WHY, CTX_WHY_EXPLICIT);
        }
        assert_int_equal(ct_store_context(s, &r), 0);
    }
    struct ct_sample_row sample = {.ts_ns = 100000, .live_contexts = N_KIDS + 1, .threads = 1};
    ct_store_sample(s, &sample);
    assert_int_equal(ct_store_commit(s), 0);
    if (indexed)
        assert_int_equal(ct_store_finish(s), 0);
    ct_store_close(s);
    return path;
}

static void spans_loaded(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(GError) error = NULL;
    *(CtSpans **)data = ct_trace_source_load_spans_finish(CT_TRACE_SOURCE(source), result, &error);
    assert_null(error);
}

static CtSpans *load_spans(CtTraceSource *src)
{
    CtSpans *spans = NULL;
    ct_trace_source_load_spans_async(src, NULL, spans_loaded, &spans);
    while (spans == NULL)
        g_main_context_iteration(NULL, TRUE);
    return spans;
}

static void check_paging(const char *path, gboolean indexed)
{
    g_autoptr(GError) error = NULL;
    CtTraceSource *src = ct_trace_source_open(path, &error);
    assert_non_null(src);
    assert_int_equal(ct_trace_source_has_indexes(src), indexed);
    CtTraceModel *m = ct_trace_model_new(CT_SOURCE(src));
    ct_trace_source_load(src, m);
    assert_int_equal(ct_trace_model_get_meta(m)->contexts, N_KIDS + 1);
    assert_true(ct_trace_model_get_meta(m)->complete);

    GListModel *roots = ct_trace_model_get_roots(m);
    assert_int_equal(g_list_model_get_n_items(roots), 2); /* background, todo */
    g_autoptr(CtContextItem) bg = g_list_model_get_item(roots, 0);
    assert_int_equal(ct_context_item_get_n_children(bg), 1);
    g_autoptr(GListModel) level1 = ct_trace_model_get_children(m, bg);
    g_autoptr(CtContextItem) top = g_list_model_get_item(level1, 0);
    assert_int_equal(ct_context_item_get_id(top), 3);
    g_autoptr(GListModel) kids = ct_trace_model_get_children(m, top);
    assert_int_equal(g_list_model_get_n_items(kids), N_KIDS);

    /* A jump into the middle (offset), then the next pages in order (keyset). */
    for (guint pos = 500; pos < N_KIDS; pos += 37) {
        g_autoptr(CtContextItem) it = g_list_model_get_item(kids, pos);
        assert_int_equal(ct_context_item_get_id(it), 10 + 3 * (gint64)pos);
    }
    for (guint pos = 0; pos < N_KIDS; pos++) {
        g_autoptr(CtContextItem) it = g_list_model_get_item(kids, pos);
        assert_int_equal(ct_context_item_get_id(it), 10 + 3 * (gint64)pos);
        assert_int_equal(ct_trace_model_get_state(m, it),
                         pos % 7 == 0 ? CT_STATE_LEAKED : CT_STATE_CANCELLED);
    }
    assert_null(g_list_model_get_item(kids, N_KIDS));
    /* Revealing: a context's ancestry and position. */
    g_autoptr(GArray) chain = ct_trace_model_get_ancestry(m, 10 + 3 * 777);
    assert_int_equal(chain->len, 3);
    assert_int_equal(g_array_index(chain, gint64, 0), 1);
    assert_int_equal(ct_child_list_find(CT_CHILD_LIST(kids), 10 + 3 * 777), 777);

    /* The filter's SQL agrees with the model's own matcher. */
    CtQuery q = {.kind = -1, .state = CT_STATE_LEAKED};
    ct_trace_model_set_filter(m, &q);
    GListModel *leaked = ct_trace_model_get_roots(m);
    assert_int_equal(g_list_model_get_n_items(leaked), (N_KIDS + 6) / 7);
    for (guint i = 0; i < g_list_model_get_n_items(leaked); i++) {
        g_autoptr(CtContextItem) it = g_list_model_get_item(leaked, i);
        assert_true(ct_trace_model_matches(m, &q, it));
    }
    CtQuery by_id = {.search = "#13", .kind = -1, .state = -1};
    ct_trace_model_set_filter(m, &by_id);
    assert_int_equal(g_list_model_get_n_items(ct_trace_model_get_roots(m)), 1);

    guint n;
    ct_trace_model_get_samples(m, &n);
    assert_int_equal(n, 1);
    /* Every lifespan, read on a worker thread: in creation order, each span's state the
     * one its tree item has. */
    assert_int_equal(ct_spans_get_len(ct_trace_model_get_spans(m)), 0); /* not at first screen */
    g_autoptr(CtSpans) spans = load_spans(src);
    assert_int_equal(ct_spans_get_len(spans), N_KIDS + 1);
    for (guint i = 1; i < ct_spans_get_len(spans); i++)
        assert_true(ct_spans_get(spans, i - 1)->created_ns <= ct_spans_get(spans, i)->created_ns);
    /* The leaks by the core's verdict: every 7th released live. */
    for (guint pos = 0; pos < N_KIDS; pos++) {
        const CtSpan *sp = ct_spans_find(spans, 10 + 3 * (gint64)pos);
        assert_non_null(sp);
        assert_int_equal(sp->state, pos % 7 == 0 ? CT_STATE_LEAKED : CT_STATE_CANCELLED);
        assert_int_equal(sp->parent_id, 3);
    }
    g_object_unref(m);
    g_object_unref(src);
}

static void test_an_indexed_trace_pages_children_by_keyset_queries(void **state)
{
    (void)state;
    g_autofree char *path = make_trace("indexed.db", TRUE);
    check_paging(path, TRUE);
}

static void test_a_trace_without_indexes_pages_the_same_from_an_in_memory_map(void **state)
{
    (void)state;
    g_autofree char *path = make_trace("unindexed.db", FALSE);
    check_paging(path, FALSE);
}

static void test_a_file_that_is_not_a_trace_is_refused_with_a_reason(void **state)
{
    (void)state;
    g_autofree char *path = g_build_filename(workdir, "not-a-trace.db", NULL);
    g_file_set_contents(path, "hello", -1, NULL);
    g_autoptr(GError) error = NULL;
    assert_null(ct_trace_source_open(path, &error));
    assert_non_null(strstr(error->message, "not a SQLite database"));
}

/* A live model owns its source: dropping the model when it holds the source's last
 * reference frees both, without the source being told about the model afterwards (it
 * was, on freed memory: a second removal of its socket watch, a GLib critical — made
 * fatal here — and a use after free under ASan). */
static void test_a_live_model_holding_the_last_reference_to_its_source_frees_both(void **state)
{
    (void)state;
    g_autofree char *path = g_build_filename(workdir, "live.sock", NULL);
    g_unlink(path);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(listener >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    assert_true(strlen(path) < sizeof addr.sun_path);
    strcpy(addr.sun_path, path);
    assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(listener, 1), 0);
    g_autoptr(GError) error = NULL;
    CtLiveSource *live = ct_live_source_connect(path, &error);
    assert_non_null(live);
    CtTraceModel *model = ct_live_source_start(live);
    g_object_unref(live); /* the model's reference is the last */
    GLogLevelFlags was = g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_object_unref(model);
    g_log_set_always_fatal(was);
    close(listener);
    g_unlink(path);
}

/* Frames a fake server sends (a socketpair's other end is the "process"). */
static void send_frame(int fd, const struct ct_wire_msg *m)
{
    uint8_t buf[CT_WIRE_MAX_FRAME];
    size_t n = ct_wire_encode(m, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
}

static void send_context(int fd, uint64_t id, int64_t created)
{
    struct ct_wire_msg m = {CT_WIRE_CONTEXT, .u.context = {.id = id, .parent = 1, .stack = 77,
                                                           .kind = CTX_KIND_CANCEL, .thread = 1,
                                                           .created = created}};
    send_frame(fd, &m);
}

static void pump_frames(CtLiveSource *live, guint64 frames)
{
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (ct_live_source_get_frames(live) < frames && g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, FALSE);
    assert_true(ct_live_source_get_frames(live) >= frames);
}

/* RESYNC (docs/wire.md): the fresh snapshot replaces the picture — a context the window
 * had that it does not list is freed at the resync, a new one appears, one listed stays
 * live — the process's SITE_COUNTS become the model's site counts and its findings, and
 * the status says how much was skipped. Once behind, a context created and freed within
 * one read is counted but never an item. */
static void test_a_resync_replaces_the_live_picture_and_keeps_the_counts(void **state)
{
    (void)state;
    g_autofree char *path = g_build_filename(workdir, "resync.sock", NULL);
    g_unlink(path);
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, path);
    assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(listener, 1), 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(CtLiveSource) live = ct_live_source_connect(path, &error);
    assert_non_null(live);
    int fd = accept(listener, NULL, NULL);
    assert_true(fd >= 0);
    g_autoptr(CtTraceModel) model = ct_live_source_start(live);

    struct ct_wire_msg m = {CT_WIRE_HELLO, .u.hello = {CT_WIRE_MAGIC, CT_WIRE_VERSION, 42, 1000, "/bin/p"}};
    send_frame(fd, &m);
    m = (struct ct_wire_msg){CT_WIRE_SITE, .u.site = {77, 9, "/bin/p", "serve", "p.c"}};
    send_frame(fd, &m);
    send_context(fd, 10, 900);
    send_context(fd, 11, 950);
    m = (struct ct_wire_msg){CT_WIRE_SNAPSHOT_END, .u.snapshot_end = {2}};
    send_frame(fd, &m);
    pump_frames(live, 5);
    assert_int_equal(ct_context_item_get(ct_trace_model_lookup(model, 10), CT_FREED_NS, 0), 0);

    /* Fell behind: #10 ended and #12 began meanwhile; the process counts 1000 created at
     * stack 77, 998 freed, 3 lost cancels. */
    m = (struct ct_wire_msg){CT_WIRE_RESYNC, .u.resync = {5000, 4000, 4100, 200000, 1}};
    send_frame(fd, &m);
    send_context(fd, 11, 950);
    send_context(fd, 12, 4000);
    m = (struct ct_wire_msg){CT_WIRE_SITE_COUNTS, .u.site_counts = {77, 1000, 998, 2, 3, 0, 0}};
    send_frame(fd, &m);
    m = (struct ct_wire_msg){CT_WIRE_SNAPSHOT_END, .u.snapshot_end = {2}};
    send_frame(fd, &m);
    /* Behind now: #13 created and freed within one read is only counted. */
    m = (struct ct_wire_msg){CT_WIRE_CREATE, .u.create = {6000, 1, CTX_KIND_CANCEL, 13, 1, 77, 0, 0}};
    send_frame(fd, &m);
    m = (struct ct_wire_msg){CT_WIRE_FREE, .u.free = {6001, 1, 13}};
    send_frame(fd, &m);
    pump_frames(live, 12);

    assert_int_equal(ct_context_item_get(ct_trace_model_lookup(model, 10), CT_FREED_NS, 0), 5000);
    assert_int_equal(ct_context_item_get(ct_trace_model_lookup(model, 11), CT_FREED_NS, 0), 0);
    assert_non_null(ct_trace_model_lookup(model, 12));
    assert_null(ct_trace_model_lookup(model, 13));
    guint n = 0;
    const CtSiteCounts *c = ct_trace_model_get_site_counts(model, &n);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].stack, 77);
    assert_int_equal(c[0].created, 1000);
    assert_int_equal(c[0].lost_cancel, 3);
    const struct ct_findings *f = ct_trace_model_get_findings(model);
    assert_non_null(f);
    assert_int_equal(f->len, 1);
    assert_int_equal(f->items[0].rule, CT_RULE_LOST_CANCEL);
    assert_int_equal(f->items[0].count, 3);
    assert_string_equal(f->items[0].site.function, "serve");
    const char *text = ct_live_source_get_state_text(live);
    assert_non_null(strstr(text, "fell behind 1 time: 4,000 events skipped"));
    assert_non_null(strstr(text, "1 contexts too brief to show"));
    close(fd);
    close(listener);
    g_unlink(path);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_model WORKDIR\n");
        return 2;
    }
    workdir = argv[1];
    g_mkdir_with_parents(workdir, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_created_rows_appear_in_their_parents_list_after_one_coalesced_flush),
        cmocka_unit_test(test_a_list_opened_after_its_contexts_were_pushed_holds_them),
        cmocka_unit_test(test_state_changes_merge_into_the_one_item_and_emit_changed_once_a_flush),
        cmocka_unit_test(test_the_timed_flush_announces_a_burst_in_slices_the_views_can_afford),
        cmocka_unit_test(test_finding_a_queued_row_announces_it),
        cmocka_unit_test(test_cancelled_and_deadline_states_follow_cancel_why),
        cmocka_unit_test(test_samples_are_announced_once_per_flush),
        cmocka_unit_test(test_pushes_are_announced_by_the_frame_timer_without_an_explicit_flush),
        cmocka_unit_test(test_a_filter_list_gains_only_the_matching_new_contexts),
        cmocka_unit_test(test_findings_are_grouped_by_rule_and_badge_their_contexts),
        cmocka_unit_test(test_an_indexed_trace_pages_children_by_keyset_queries),
        cmocka_unit_test(test_a_trace_without_indexes_pages_the_same_from_an_in_memory_map),
        cmocka_unit_test(test_a_file_that_is_not_a_trace_is_refused_with_a_reason),
        cmocka_unit_test(test_a_live_model_holding_the_last_reference_to_its_source_frees_both),
        cmocka_unit_test(test_a_resync_replaces_the_live_picture_and_keeps_the_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
