/*
 * test_gui_large.c — the real window under Xvfb on a 1,000,001-context trace: the tracer
 * benchmark's request loop (250,000 requests, four contexts each) run through
 * `ctxtrace run`. Run with GTK's GL renderer, the one that aborted on the old timeline's
 * oversized drawing surface. Asserts that the timeline holds every context (not the
 * first 5,000), in one lane per site, drawn as densities when the whole trace is in view
 * and as bars once zoomed to a context; writes screenshots of both.
 *
 *   test_gui_large --ctxtrace CTXTRACE --program REQUEST_LOOP --workdir DIR --screenshots DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <sqlite3.h>
#include <string.h>

#include "ct-site-item.h"
#include "ct-window.h"
#include "window_test.h"

enum { REQUESTS = 250000 };

static const char *ctxtrace, *program, *workdir, *shots;
static char *trace;
static CtWindow *window;
static sqlite3 *db;

static gint64 sql_int(const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    gint64 v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void settle(int frames)
{
    window_test_settle(GTK_WIDGET(window), frames);
}

static int setup(void **state)
{
    (void)state;
    g_mkdir_with_parents(workdir, 0755);
    g_mkdir_with_parents(shots, 0755);
    trace = g_build_filename(workdir, "request_loop.db", NULL);
    /* An earlier run's trace and its -wal/-shm (ctxtrace refuses an -o beside a stray one). */
    for (const char *const *suffix = (const char *const[]){"", "-wal", "-shm", NULL}; *suffix; suffix++) {
        g_autofree char *file = g_strconcat(trace, *suffix, NULL);
        g_unlink(file);
    }
    g_autofree char *requests = g_strdup_printf("%d", REQUESTS);
    const char *argv[] = {ctxtrace, "run", "--no-report", "-o", trace, "--", program,
                          "--requests", requests, NULL};
    int status = 0;
    g_autoptr(GError) error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                      &status, &error) || !g_spawn_check_wait_status(status, &error)) {
        fprintf(stderr, "test_gui_large: tracing the request loop: %s\n", error->message);
        return -1;
    }
    if (sqlite3_open_v2(trace, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;

    gtk_init();
    window = ct_window_new(NULL);
    gtk_window_set_default_size(GTK_WINDOW(window), 1280, 800);
    gtk_window_present(GTK_WINDOW(window));
    ct_window_show_view(window, "timeline");
    gint64 t0 = g_get_monotonic_time();
    if (!ct_window_open(window, trace, &error)) {
        fprintf(stderr, "test_gui_large: %s\n", error->message);
        return -1;
    }
    gint64 until = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    while (!ct_window_is_analysed(window) && g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, TRUE);
    if (!ct_window_is_analysed(window)) {
        fprintf(stderr, "test_gui_large: the lifespans and findings did not arrive\n");
        return -1;
    }
    printf("# lifespans and findings of %u contexts shown %.2f s after opening\n",
           ct_spans_get_len(ct_trace_model_get_spans(ct_window_get_model(window))),
           (g_get_monotonic_time() - t0) / 1e6);
    settle(2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gtk_window_destroy(GTK_WINDOW(window));
    sqlite3_close(db);
    g_free(trace);
    return 0;
}

static void test_every_context_is_on_the_timeline_in_one_lane_per_site(void **state)
{
    (void)state;
    CtSpans *spans = ct_trace_model_get_spans(ct_window_get_model(window));
    gint64 contexts = sql_int("SELECT count(*) FROM contexts WHERE parent_id IS NOT NULL");
    assert_true(contexts > 4 * REQUESTS);
    assert_int_equal(ct_spans_get_len(spans), contexts);

    CtTimelineCanvas *canvas = ct_timeline_view_get_canvas(ct_window_get_timeline_view(window));
    CtTimelineLayout *layout = ct_timeline_canvas_get_layout(canvas);
    assert_non_null(layout);
    /* Four sites of REQUESTS contexts each (the request's chain), and main's one. */
    assert_int_equal(ct_timeline_layout_get_n_lanes(layout),
                     sql_int("SELECT count(DISTINCT create_stack) FROM contexts WHERE parent_id IS NOT NULL"));
    guint big = 0;
    for (guint i = 0; i < ct_timeline_layout_get_n_lanes(layout); i++) {
        CtLane *lane = ct_timeline_layout_get_lane(layout, i);
        if (lane->n_spans != REQUESTS)
            continue;
        big++;
        /* The whole trace in view: far too many for bars, a density counting them. */
        assert_false(lane->detail);
        assert_int_equal(lane->n_visible, REQUESTS);
        assert_true(lane->peak >= 1);
        assert_non_null(strstr(lane->label, "request_loop.c:"));
    }
    assert_int_equal(big, 4);
    /* Zoomed to the data: from the first context created to the last one's end. */
    double from, to;
    ct_timeline_canvas_get_span(canvas, &from, &to);
    gint64 start = sql_int("SELECT value FROM meta WHERE key = 'start_ns'");
    assert_true(from <= (double)(sql_int("SELECT min(created_ns) FROM contexts WHERE parent_id IS NOT NULL") - start));
    assert_true(to >= (double)(sql_int("SELECT max(freed_ns) FROM contexts") - start));
    window_test_screenshot(GTK_WIDGET(window), shots, "inspector-timeline-1m.png");
}

static void test_a_context_in_the_middle_is_zoomed_to_and_drawn_as_a_bar(void **state)
{
    (void)state;
    CtSpans *spans = ct_trace_model_get_spans(ct_window_get_model(window));
    const CtSpan *mid = ct_spans_get(spans, ct_spans_get_len(spans) / 2);
    ct_window_select_context(window, mid->id);
    settle(3);
    CtTimelineCanvas *canvas = ct_timeline_view_get_canvas(ct_window_get_timeline_view(window));
    assert_true(ct_timeline_canvas_shows_bar(canvas, mid->id));
    double from, to;
    ct_timeline_canvas_get_span(canvas, &from, &to);
    assert_true(to - from < 1e6); /* under a millisecond of a 1M-context trace */
    assert_int_equal(ct_details_view_get_shown(ct_window_get_details_view(window)), mid->id);
    window_test_screenshot(GTK_WIDGET(window), shots, "inspector-timeline-1m-zoomed.png");
}

static void test_the_sites_are_a_handful_of_rows_counting_every_context(void **state)
{
    (void)state;
    CtSitesView *sites = ct_window_get_sites_view(window);
    assert_true(ct_window_show_view(window, "sites"));
    settle(2);
    GListModel *rows = ct_sites_view_get_rows(sites);
    assert_int_equal(g_list_model_get_n_items(rows),
                     sql_int("SELECT count(DISTINCT create_stack) FROM contexts WHERE parent_id IS NOT NULL"));
    guint big = 0;
    for (guint i = 0; i < g_list_model_get_n_items(rows); i++) {
        g_autoptr(CtSiteItem) it = g_list_model_get_item(rows, i);
        const CtSiteStats *st = ct_site_item_get_stats(it);
        if (st->created != REQUESTS)
            continue;
        big++;
        assert_int_equal(st->live_at_end, 0); /* a request's contexts end with it */
        assert_true(st->life_p50 > 0 && st->life_p50 <= st->life_max);
    }
    assert_int_equal(big, 4);
    window_test_screenshot(GTK_WIDGET(window), shots, "inspector-sites-1m.png");
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--ctxtrace") == 0) ctxtrace = v;
        else if (strcmp(k, "--program") == 0) program = v;
        else if (strcmp(k, "--workdir") == 0) workdir = v;
        else if (strcmp(k, "--screenshots") == 0) shots = v;
    }
    if (!ctxtrace || !program || !workdir || !shots) {
        fprintf(stderr, "usage: test_gui_large --ctxtrace CTXTRACE --program REQUEST_LOOP "
                        "--workdir DIR --screenshots DIR\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_context_is_on_the_timeline_in_one_lane_per_site),
        cmocka_unit_test(test_a_context_in_the_middle_is_zoomed_to_and_drawn_as_a_bar),
        cmocka_unit_test(test_the_sites_are_a_handful_of_rows_counting_every_context),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
