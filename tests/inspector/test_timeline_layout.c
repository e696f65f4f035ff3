/*
 * test_timeline_layout.c — the timeline's level of detail without a display: lanes by
 * site (stacks sharing a site share a lane) and by thread, bars packed into rows that
 * never overlap when few contexts are in view, a density that counts exactly the
 * contexts live in each column when many are, and zooming in turning a density back
 * into bars.
 */
#include <ctxtrace/tracer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ct-source.h"
#include "ct-spans.h"
#include "ct-timeline-layout.h"

/* A context created at `at`, done (explicitly) at `end` (0: never), on a stack and
 * thread; `leaked`: a cancel context released while live. */
static void put(CtSpans *spans, gint64 id, gint64 at, gint64 end, gint64 stack, gint64 thread,
                gboolean leaked)
{
    struct ct_ctx_row r = {.id = id};
    ct_ctx_set(&r, CT_PARENT_ID, 1);
    ct_ctx_set(&r, CT_KIND, CTX_KIND_CANCEL);
    ct_ctx_set(&r, CT_CREATED_NS, at);
    ct_ctx_set(&r, CT_CREATE_STACK, stack);
    ct_ctx_set(&r, CT_CREATE_THREAD, thread);
    if (end != 0) {
        ct_ctx_set(&r, CT_CANCELED_NS, end);
        ct_ctx_set(&r, CT_CANCEL_WHY, CTX_WHY_EXPLICIT);
    }
    if (leaked)
        ct_ctx_set(&r, CT_RELEASED_LIVE, 1);
    struct ct_verdict v = ct_source_verdict(NULL, &r, FALSE);
    ct_spans_put(spans, &r, &v);
}

/* Stacks 100 and 101 are one site ("a.c:1"), 200 another. */
static const char *site_label(CtSpans *spans, guint32 slot, gpointer data)
{
    (void)data;
    gint64 stack = ct_spans_stack_id(spans, slot);
    return stack == 200 ? "g b.c:2" : "f a.c:1";
}

static char thread_buf[32];
static const char *thread_label(CtSpans *spans, guint32 slot, gpointer data)
{
    (void)data;
    g_snprintf(thread_buf, sizeof thread_buf, "thread %" G_GINT64_FORMAT, ct_spans_thread_id(spans, slot));
    return thread_buf;
}

static void test_stacks_of_one_site_share_a_lane_and_leaks_come_first(void **state)
{
    (void)state;
    g_autoptr(CtSpans) spans = ct_spans_new(FALSE);
    for (int i = 0; i < 10; i++)
        put(spans, 10 + i, 1000 * i, 1000 * i + 500, i % 2 ? 100 : 101, 1, FALSE);
    put(spans, 50, 100, 0, 200, 1, TRUE);
    struct ct_ctx_row root = {.id = 1}; /* roots are not spans */
    ct_ctx_set(&root, CT_KIND, CTX_KIND_BACKGROUND);
    struct ct_verdict none = {0};
    ct_spans_put(spans, &root, &none);
    assert_int_equal(ct_spans_get_len(spans), 11);

    g_autoptr(CtTimelineLayout) l = ct_timeline_layout_new(spans, CT_LANES_BY_SITE, site_label, NULL);
    assert_int_equal(ct_timeline_layout_get_n_lanes(l), 2);
    CtLane *first = ct_timeline_layout_get_lane(l, 0), *second = ct_timeline_layout_get_lane(l, 1);
    assert_string_equal(first->label, "g b.c:2"); /* the leak, though smaller */
    assert_int_equal(first->n_spans, 1);
    assert_int_equal(first->n_leaked, 1);
    assert_string_equal(second->label, "f a.c:1");
    assert_int_equal(second->n_spans, 10);
}

static void test_lanes_by_thread_come_in_the_order_the_threads_were_first_seen(void **state)
{
    (void)state;
    g_autoptr(CtSpans) spans = ct_spans_new(FALSE);
    put(spans, 10, 0, 10, 100, 3, FALSE);
    put(spans, 11, 0, 10, 100, 1, FALSE);
    put(spans, 12, 0, 10, 100, 3, FALSE);
    g_autoptr(CtTimelineLayout) l = ct_timeline_layout_new(spans, CT_LANES_BY_THREAD, thread_label, NULL);
    assert_int_equal(ct_timeline_layout_get_n_lanes(l), 2);
    assert_int_equal(ct_timeline_layout_get_lane(l, 0)->n_spans, 2); /* thread 3 came first */
    assert_string_equal(ct_timeline_layout_get_lane(l, 0)->label, "thread 3");
    assert_string_equal(ct_timeline_layout_get_lane(l, 1)->label, "thread 1");
}

static void test_few_contexts_in_view_are_bars_packed_into_rows_that_never_overlap(void **state)
{
    (void)state;
    g_autoptr(CtSpans) spans = ct_spans_new(FALSE);
    /* Overlapping triples: at most 3 live at once. */
    for (int i = 0; i < 30; i++)
        put(spans, 10 + i, 1000 * i, 1000 * i + 2500, 100, 1, FALSE);
    g_autoptr(CtTimelineLayout) l = ct_timeline_layout_new(spans, CT_LANES_BY_SITE, site_label, NULL);
    ct_timeline_layout_update(l, 0, 100, 400, 40000); /* 40 µs in 400 px */
    CtLane *lane = ct_timeline_layout_get_lane(l, 0);
    assert_true(lane->detail);
    assert_null(lane->live);
    assert_int_equal(lane->bars->len, 30);
    assert_int_equal(lane->rows, 3);
    for (guint i = 0; i < lane->bars->len; i++)
        for (guint j = i + 1; j < lane->bars->len; j++) {
            CtBar *a = &g_array_index(lane->bars, CtBar, i), *b = &g_array_index(lane->bars, CtBar, j);
            if (a->row != b->row)
                continue;
            const CtSpan *x = ct_spans_get(spans, a->span), *y = ct_spans_get(spans, b->span);
            assert_true(x->end_ns <= y->created_ns || y->end_ns <= x->created_ns);
        }
}

static void test_many_contexts_are_a_density_counting_exactly_the_live_ones(void **state)
{
    (void)state;
    g_autoptr(CtSpans) spans = ct_spans_new(FALSE);
    enum { N = 20000, COLS = 500 };
    /* Lifetimes of varying length; every 5th leaked (still live at the end). */
    for (int i = 0; i < N; i++) {
        gint64 at = (gint64)i * 50, life = 100 + (i % 97) * 40;
        put(spans, 10 + i, at, i % 5 == 0 ? 0 : at + life, 100, 1, i % 5 == 0);
    }
    gint64 now = (gint64)N * 50 + 10000;
    g_autoptr(CtTimelineLayout) l = ct_timeline_layout_new(spans, CT_LANES_BY_SITE, site_label, NULL);
    double npp = (double)now / COLS;
    ct_timeline_layout_update(l, 0, npp, COLS, now);
    CtLane *lane = ct_timeline_layout_get_lane(l, 0);
    assert_false(lane->detail);
    assert_non_null(lane->live);
    assert_int_equal(lane->n_visible, N);
    guint peak = 0;
    for (int c = 0; c < COLS; c += 7) {
        /* Brute force: contexts whose lifespan touches column c, by state. */
        guint expect[CT_LAYOUT_N_STATES] = {0};
        for (guint i = 0; i < ct_spans_get_len(spans); i++) {
            const CtSpan *s = ct_spans_get(spans, i);
            gint64 end = s->end_ns ? s->end_ns : now;
            int c0 = (int)(s->created_ns / npp), c1 = MIN((int)(end / npp), COLS - 1);
            if (c0 <= c && c <= c1)
                expect[s->state]++;
        }
        for (int st = 0; st < CT_LAYOUT_N_STATES; st++)
            assert_int_equal(lane->live[st * (COLS + 1) + c], expect[st]);
        peak = MAX(peak, expect[0] + expect[1] + expect[2] + expect[3]);
    }
    assert_true(lane->peak >= peak);
    assert_int_equal(lane->live[CT_STATE_LEAKED * (COLS + 1) + COLS - 1], N / 5); /* all still live */
}

static void test_zooming_into_a_density_turns_it_into_bars(void **state)
{
    (void)state;
    g_autoptr(CtSpans) spans = ct_spans_new(FALSE);
    for (int i = 0; i < 100000; i++) /* back to back, one at a time */
        put(spans, 10 + i, (gint64)i * 100, (gint64)i * 100 + 90, 100, 1, FALSE);
    g_autoptr(CtTimelineLayout) l = ct_timeline_layout_new(spans, CT_LANES_BY_SITE, site_label, NULL);
    ct_timeline_layout_update(l, 0, 10000000.0 / 800, 800, 10000000);
    assert_false(ct_timeline_layout_get_lane(l, 0)->detail);
    ct_timeline_layout_update(l, 5000000, 2.0, 800, 10000000); /* 1.6 µs */
    CtLane *lane = ct_timeline_layout_get_lane(l, 0);
    assert_true(lane->detail);
    assert_int_equal(lane->rows, 1);
    assert_int_equal(lane->bars->len, 17); /* those created in the window, both ends included */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stacks_of_one_site_share_a_lane_and_leaks_come_first),
        cmocka_unit_test(test_lanes_by_thread_come_in_the_order_the_threads_were_first_seen),
        cmocka_unit_test(test_few_contexts_in_view_are_bars_packed_into_rows_that_never_overlap),
        cmocka_unit_test(test_many_contexts_are_a_density_counting_exactly_the_live_ones),
        cmocka_unit_test(test_zooming_into_a_density_turns_it_into_bars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
