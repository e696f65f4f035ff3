/*
 * test_gui.c — ctxtrace-inspector's real window, under Xvfb, on a real trace: the
 * leaky party-supplies sample run through `ctxtrace run`. Asserts what a person would
 * look at — the tree's rows, the leaked context flagged, the details naming the
 * sample's file:line, findings grouped by rule (and selecting one jumps to its
 * context), the timeline's lanes holding every context, the counts filled — and writes
 * a screenshot of each view.
 *
 *   test_gui --ctxtrace CTXTRACE --sample PROGRAM --source party_leaky.c
 *            --workdir DIR --screenshots DIR
 */
#include <ctxtrace/ctx.h>
#include <ctxtrace/tracer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <sqlite3.h>
#include <string.h>

#include "ct-app.h"
#include "ct-finding-item.h"
#include "ct-site-item.h"
#include "ct-window.h"
#include "window_test.h"

static const char *ctxtrace, *sample, *fixed_sample, *source, *workdir, *shots;
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

static void screenshot(const char *view, const char *name)
{
    assert_true(ct_window_show_view(window, view));
    window_test_screenshot(GTK_WIDGET(window), shots, name);
}

/* ---- setup: trace the sample, open the window ------------------------------------------ */

/* `ctxtrace run` the program into workdir/name; the trace's path, or NULL. */
static char *record(const char *program, const char *name)
{
    char *path = g_build_filename(workdir, name, NULL);
    /* The trace of an earlier run, and its -wal/-shm if a run was cut short: ctxtrace
     * refuses an -o with a stray -wal beside it. */
    for (const char *const *suffix = (const char *const[]){"", "-wal", "-shm", NULL}; *suffix; suffix++) {
        g_autofree char *file = g_strconcat(path, *suffix, NULL);
        g_unlink(file);
    }
    const char *argv[] = {ctxtrace, "run", "--no-report", "-o", path, "--", program, NULL};
    int status = 0;
    g_autoptr(GError) error = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                      &status, &error) || !g_spawn_check_wait_status(status, &error)) {
        fprintf(stderr, "test_gui: tracing %s: %s\n", program, error->message);
        g_free(path);
        return NULL;
    }
    return path;
}

/* Run the main loop until the window's background reads arrived. */
static gboolean wait_analysed(CtWindow *w)
{
    gint64 until = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (!ct_window_is_analysed(w) && g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, TRUE);
    return ct_window_is_analysed(w);
}

static int setup(void **state)
{
    (void)state;
    g_mkdir_with_parents(workdir, 0755);
    g_mkdir_with_parents(shots, 0755);
    trace = record(sample, "party_leaky.db");
    if (trace == NULL)
        return -1;
    g_autoptr(GError) error = NULL;
    if (sqlite3_open_v2(trace, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;

    gtk_init();
    window = ct_window_new(NULL);
    gtk_window_set_default_size(GTK_WINDOW(window), 1280, 800);
    gtk_window_present(GTK_WINDOW(window));
    if (!ct_window_open(window, trace, &error)) {
        fprintf(stderr, "test_gui: %s\n", error->message);
        return -1;
    }
    if (!wait_analysed(window) || ct_trace_model_get_findings(ct_window_get_model(window)) == NULL) {
        fprintf(stderr, "test_gui: the analysis did not arrive\n");
        return -1;
    }
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

/* The first finding (the most severe rule, the biggest site). */
static const struct ct_finding *first_finding(void)
{
    const struct ct_findings *f = ct_trace_model_get_findings(ct_window_get_model(window));
    assert_non_null(f);
    assert_true(f->len > 0);
    return &f->items[0];
}

/* ---- the tests ------------------------------------------------------------------------------- */

static void test_the_window_opens_on_the_findings_with_the_first_one_selected(void **state)
{
    (void)state;
    assert_string_equal(ct_window_get_view(window), "findings");
    assert_int_equal(ct_details_view_get_shown(ct_window_get_details_view(window)),
                     first_finding()->examples[0]);
}

static void test_every_context_a_finding_covers_is_marked_not_only_its_examples(void **state)
{
    (void)state;
    const struct ct_finding *f = first_finding();
    assert_string_equal(ct_rule_name(f->rule), "orphaned-timer");
    assert_true(f->count > f->nexamples); /* more contexts than examples */
    CtTraceModel *m = ct_window_get_model(window);
    CtSpans *spans = ct_trace_model_get_spans(m);
    long covered = 0;
    for (guint i = 0; i < ct_spans_get_len(spans); i++)
        covered += ct_trace_model_get_finding_of(m, ct_spans_get(spans, i)->id) == f;
    assert_int_equal(covered, f->count);
    /* A covered context that is not an example: badged when the tree shows it. */
    gint64 other = 0;
    for (guint i = 0; i < ct_spans_get_len(spans) && other == 0; i++) {
        gint64 id = ct_spans_get(spans, i)->id;
        gboolean example = FALSE;
        for (int e = 0; e < f->nexamples; e++)
            example |= f->examples[e] == id;
        if (!example && ct_trace_model_get_finding_of(m, id) == f)
            other = id;
    }
    assert_true(other != 0);
    ct_window_select_context(window, other);
    CtContextItem *item = ct_trace_model_lookup(m, other);
    assert_non_null(item);
    assert_true(ct_context_item_get_n_findings(item) >= 1);
}

static void test_the_details_name_the_findings_rule_and_its_own_leak(void **state)
{
    (void)state;
    const struct ct_finding *f = first_finding();
    ct_window_select_context(window, f->examples[0]);
    const char *facts = ct_details_view_get_facts_text(ct_window_get_details_view(window));
    g_autofree char *named = g_strdup_printf("Finding: orphaned-timer at %s party_leaky.c:%d",
                                             f->site.function, f->site.line);
    assert_non_null(strstr(facts, named));
    assert_non_null(strstr(facts, "(orphaned timer)"));
    assert_null(strstr(facts, "(lost cancel)"));
}

static void test_the_tree_shows_the_roots_and_the_programs_top_context_opened(void **state)
{
    (void)state;
    /* background and todo; background opened (its one child: the party), and that
     * opened too (its errands); and the first finding's context revealed (the window
     * opened on it): its parent errand opened. */
    g_autofree char *revealed = g_strdup_printf(
        "SELECT count(*) FROM contexts WHERE parent_id = (SELECT parent_id FROM contexts "
        "WHERE id = %" G_GINT64_FORMAT ")", first_finding()->examples[0]);
    gint64 expected = sql_int("SELECT count(*) FROM contexts WHERE parent_id IS NULL") +
                      sql_int("SELECT count(*) FROM contexts WHERE parent_id = 1") +
                      sql_int("SELECT count(*) FROM contexts WHERE parent_id = "
                              "(SELECT id FROM contexts WHERE parent_id = 1)") +
                      sql_int(revealed);
    assert_int_equal(sql_int("SELECT count(*) FROM contexts WHERE parent_id = 1"), 1);
    GListModel *rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
    assert_int_equal(g_list_model_get_n_items(rows), expected);
    g_autoptr(GtkTreeListRow) first = g_list_model_get_item(rows, 0);
    g_autoptr(CtContextItem) bg = gtk_tree_list_row_get_item(first);
    assert_string_equal(ct_context_item_get_kind_name(bg), "background");
}

static void test_the_leaked_context_is_flagged_and_selected_in_the_tree(void **state)
{
    (void)state;
    const struct ct_finding *f = first_finding();
    assert_string_equal(ct_rule_name(f->rule), "orphaned-timer");
    gint64 id = f->examples[0];
    ct_window_select_context(window, id);
    settle(2);
    GListModel *rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
    guint n = g_list_model_get_n_items(rows);
    gboolean found = FALSE;
    for (guint i = 0; i < n && !found; i++) {
        g_autoptr(GtkTreeListRow) row = g_list_model_get_item(rows, i);
        g_autoptr(CtContextItem) item = gtk_tree_list_row_get_item(row);
        if (ct_context_item_get_id(item) != id)
            continue;
        found = TRUE;
        assert_int_equal(ct_trace_model_get_state(ct_window_get_model(window), item), CT_STATE_LEAKED);
        assert_true(ct_context_item_get_n_findings(item) >= 1);
    }
    assert_true(found);
    assert_int_equal(ct_details_view_get_shown(ct_window_get_details_view(window)), id);
    screenshot("tree", "inspector-tree.png");
}

static void test_the_details_stack_names_the_samples_file_and_line(void **state)
{
    (void)state;
    const struct ct_finding *f = first_finding();
    ct_window_select_context(window, f->examples[0]);
    g_autofree char *stack = ct_details_view_get_create_stack_text(ct_window_get_details_view(window));
    /* The innermost frame: run_errand at the ctx_with_timeout call in party_leaky.c. */
    g_auto(GStrv) frames = g_strsplit(stack, "\n", -1);
    assert_non_null(frames[0]);
    assert_non_null(strstr(frames[0], "run_errand "));
    /* Relative to the source tree (the checkout), not the build machine's path. */
    const char *loc = strstr(frames[0], " samples/party_supplies/party_leaky.c:");
    assert_non_null(loc);
    int line = atoi(strrchr(loc, ':') + 1);
    assert_int_equal(line, f->site.line);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(source, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    assert_true(line >= 1 && (guint)line <= g_strv_length(lines));
    assert_non_null(strstr(lines[line - 1], "ctx_with_timeout"));
}

static void test_findings_are_grouped_by_rule(void **state)
{
    (void)state;
    const struct ct_findings *f = ct_trace_model_get_findings(ct_window_get_model(window));
    GHashTable *rules = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (size_t i = 0; i < f->len; i++)
        g_hash_table_add(rules, GINT_TO_POINTER(f->items[i].rule + 1));
    guint groups = g_hash_table_size(rules);
    g_hash_table_unref(rules);
    /* Groups open: a row per rule and a row per finding. */
    GListModel *rows = ct_findings_view_get_rows(ct_window_get_findings_view(window));
    assert_int_equal(g_list_model_get_n_items(rows), groups + f->len);
    g_autoptr(GtkTreeListRow) row = g_list_model_get_item(rows, 0);
    g_autoptr(CtFindingItem) group = gtk_tree_list_row_get_item(row);
    assert_true(ct_finding_item_is_group(group));
    assert_int_equal(ct_finding_item_get_rule(group), f->items[0].rule);
    screenshot("findings", "inspector-findings.png");
}

static void test_selecting_a_finding_jumps_to_its_context(void **state)
{
    (void)state;
    ct_window_select_context(window, 0);
    const struct ct_finding *f = first_finding();
    /* Selected since the window opened on it: select it anew, as a click would. */
    ct_findings_view_select(ct_window_get_findings_view(window), GTK_INVALID_LIST_POSITION);
    ct_findings_view_select(ct_window_get_findings_view(window), 1); /* the first finding */
    assert_int_equal(ct_details_view_get_shown(ct_window_get_details_view(window)), f->examples[0]);
}

static void test_the_timeline_holds_every_context_in_lanes_by_site_leaks_first(void **state)
{
    (void)state;
    CtTimelineView *view = ct_window_get_timeline_view(window);
    CtSpans *spans = ct_trace_model_get_spans(ct_window_get_model(window));
    gint64 contexts = sql_int("SELECT count(*) FROM contexts WHERE parent_id IS NOT NULL");
    assert_int_equal(ct_spans_get_len(spans), contexts);
    g_autofree char *info = g_strdup_printf("%" G_GINT64_FORMAT " contexts", contexts);
    assert_string_equal(ct_timeline_view_get_info(view), info);

    /* The finding's example: selected, it is zoomed to and drawn as a bar. */
    const struct ct_finding *f = first_finding();
    ct_window_select_context(window, f->examples[0]);
    assert_true(ct_window_show_view(window, "timeline"));
    settle(3);
    CtTimelineCanvas *canvas = ct_timeline_view_get_canvas(view);
    assert_true(ct_timeline_canvas_shows_bar(canvas, f->examples[0]));
    screenshot("timeline", "inspector-timeline.png");

    /* Lanes by site: every context in one, the leaked site's lane first, its label the
     * finding's site. */
    ct_timeline_canvas_zoom_fit(canvas);
    settle(2);
    CtTimelineLayout *layout = ct_timeline_canvas_get_layout(canvas);
    assert_non_null(layout);
    guint n = ct_timeline_layout_get_n_lanes(layout), total = 0;
    for (guint i = 0; i < n; i++)
        total += ct_timeline_layout_get_lane(layout, i)->n_spans;
    assert_int_equal(total, contexts);
    CtLane *first = ct_timeline_layout_get_lane(layout, 0);
    assert_true(first->n_leaked > 0);
    g_autofree char *site = g_strdup_printf("%s party_leaky.c:%d", f->site.function, f->site.line);
    assert_string_equal(first->label, site);
    screenshot("timeline", "inspector-timeline-sites.png");

    /* By thread: one lane per thread that created contexts. */
    ct_timeline_view_set_grouping(view, CT_LANES_BY_THREAD);
    settle(2);
    layout = ct_timeline_canvas_get_layout(canvas);
    assert_int_equal(ct_timeline_layout_get_n_lanes(layout),
                     sql_int("SELECT count(DISTINCT create_thread) FROM contexts WHERE parent_id IS NOT NULL"));
    screenshot("timeline", "inspector-timeline-threads.png");
    ct_timeline_view_set_grouping(view, CT_LANES_BY_SITE);
}

static void test_the_sites_count_every_context_and_selecting_one_filters_tree_and_timeline(void **state)
{
    (void)state;
    CtSitesView *sites = ct_window_get_sites_view(window);
    assert_true(ct_window_show_view(window, "sites")); /* rows are brought up to date when shown */
    settle(2);
    GListModel *rows = ct_sites_view_get_rows(sites);
    /* One row per creation site; every context counted once. */
    assert_int_equal(g_list_model_get_n_items(rows),
                     sql_int("SELECT count(DISTINCT create_stack) FROM contexts WHERE parent_id IS NOT NULL"));
    gint64 contexts = sql_int("SELECT count(*) FROM contexts WHERE parent_id IS NOT NULL"), total = 0;
    for (guint i = 0; i < g_list_model_get_n_items(rows); i++) {
        g_autoptr(CtSiteItem) it = g_list_model_get_item(rows, i);
        total += ct_site_item_get_stats(it)->created;
    }
    assert_int_equal(total, contexts);
    /* Sorted by leaks: the finding's site first, every context there leaked and covered. */
    ct_sites_view_sort_by(sites, "Leaked", TRUE);
    const struct ct_finding *f = first_finding();
    g_autofree char *site = g_strdup_printf("%s party_leaky.c:%d", f->site.function, f->site.line);
    g_autoptr(CtSiteItem) top = g_list_model_get_item(rows, 0);
    assert_string_equal(ct_site_item_get_site(top), site);
    const CtSiteStats *st = ct_site_item_get_stats(top);
    assert_int_equal(st->created, f->count);
    assert_int_equal(st->leaked, f->count);
    assert_int_equal(st->findings, f->count);

    /* Selected: the tree lists exactly its contexts, the timeline shows its lane only. */
    ct_sites_view_select(sites, 0);
    settle(2);
    GListModel *tree_rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
    assert_int_equal(g_list_model_get_n_items(tree_rows), f->count);
    for (guint i = 0; i < g_list_model_get_n_items(tree_rows); i++) {
        g_autoptr(GtkTreeListRow) row = g_list_model_get_item(tree_rows, i);
        g_autoptr(CtContextItem) item = gtk_tree_list_row_get_item(row);
        assert_string_equal(ct_context_item_get_site(item), site);
    }
    screenshot("sites", "inspector-sites.png");
    assert_true(ct_window_show_view(window, "timeline"));
    settle(2);
    CtTimelineCanvas *canvas = ct_timeline_view_get_canvas(ct_window_get_timeline_view(window));
    CtTimelineLayout *layout = ct_timeline_canvas_get_layout(canvas);
    guint shown = 0;
    for (guint i = 0; i < ct_timeline_layout_get_n_lanes(layout); i++)
        if (ct_timeline_canvas_lane_shown(canvas, i)) {
            shown++;
            assert_string_equal(ct_timeline_layout_get_lane(layout, i)->label, site);
        }
    assert_int_equal(shown, 1);
    screenshot("timeline", "inspector-timeline-site.png");
    /* Unselected: everything again. */
    ct_sites_view_select(sites, GTK_INVALID_LIST_POSITION);
    settle(2);
    for (guint i = 0; i < ct_timeline_layout_get_n_lanes(layout); i++)
        assert_true(ct_timeline_canvas_lane_shown(canvas, i));
}

static void test_the_counts_hold_the_samples(void **state)
{
    (void)state;
    guint n = 0;
    ct_trace_model_get_samples(ct_window_get_model(window), &n);
    assert_int_equal(n, sql_int("SELECT count(*) FROM samples"));
    assert_true(n > 0);
    /* The contexts are counted from every lifespan, from the first moment: the most
     * live at once is what the lifespans say, whenever the samples were taken. */
    CtSpans *spans = ct_trace_model_get_spans(ct_window_get_model(window));
    const CtTraceMeta *m = ct_trace_model_get_meta(ct_window_get_model(window));
    enum { COLS = 2000 };
    guint live[COLS], peak = 0;
    double step = (double)(m->now_ns - m->start_ns) / COLS;
    ct_spans_count_live(spans, (double)m->start_ns, step, COLS, m->now_ns, live);
    for (int c = 0; c < COLS; c++) {
        /* Brute force at the end of column c. */
        double t = (double)m->start_ns + step * (c + 1);
        guint expect = 0;
        for (guint i = 0; i < ct_spans_get_len(spans); i++) {
            const CtSpan *sp = ct_spans_get(spans, i);
            double end = (double)(sp->end_ns ? sp->end_ns : m->now_ns);
            expect += (double)sp->created_ns <= t && t < end;
        }
        assert_int_equal(live[c], expect);
        peak = MAX(peak, live[c]);
    }
    assert_true(peak > 1); /* the party's errands overlap */
    screenshot("counts", "inspector-counts.png");
}

static void test_a_trace_without_findings_shows_the_no_findings_status_page(void **state)
{
    (void)state;
    g_autofree char *fixed = record(fixed_sample, "party_fixed.db");
    assert_non_null(fixed);
    CtWindow *w = ct_window_new(NULL);
    gtk_window_set_default_size(GTK_WINDOW(w), 1280, 800);
    gtk_window_present(GTK_WINDOW(w));
    g_autoptr(GError) error = NULL;
    assert_true(ct_window_open(w, fixed, &error));
    assert_true(wait_analysed(w));
    assert_int_equal(ct_trace_model_get_findings(ct_window_get_model(w))->len, 0);
    assert_string_equal(ct_window_get_view(w), "tree"); /* nothing to open on */
    assert_true(ct_findings_view_is_empty_shown(ct_window_get_findings_view(w)));
    assert_true(ct_window_show_view(w, "findings"));
    window_test_screenshot(GTK_WIDGET(w), shots, "inspector-findings-empty.png");
    gtk_window_destroy(GTK_WINDOW(w));
}

/* The menu item whose action is `action`, in any section of `menu`; its label or NULL. */
static char *menu_label_of(GMenuModel *menu, const char *action)
{
    for (int i = 0; i < g_menu_model_get_n_items(menu); i++) {
        g_autoptr(GMenuModel) section = g_menu_model_get_item_link(menu, i, G_MENU_LINK_SECTION);
        if (section != NULL) {
            char *label = menu_label_of(section, action);
            if (label != NULL)
                return label;
            continue;
        }
        g_autofree char *a = NULL, *label = NULL;
        g_menu_model_get_item_attribute(menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &a);
        g_menu_model_get_item_attribute(menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label);
        if (g_strcmp0(a, action) == 0)
            return g_steal_pointer(&label);
    }
    return NULL;
}

static void test_the_primary_menu_offers_open_shortcuts_and_about(void **state)
{
    (void)state;
    GMenuModel *menu = ct_window_get_primary_menu(window);
    assert_non_null(menu);
    g_autofree char *open = menu_label_of(menu, "win.open");
    g_autofree char *keys = menu_label_of(menu, "win.show-help-overlay");
    g_autofree char *about = menu_label_of(menu, "app.about");
    assert_string_equal(open, "_Open Trace File…");
    assert_string_equal(keys, "_Keyboard Shortcuts");
    assert_string_equal(about, "_About ctxtrace Inspector");

    /* About: the program, its version, its icon. */
    ct_app_show_about(GTK_WINDOW(window));
    GtkAboutDialog *dialog = NULL;
    GListModel *tops = gtk_window_get_toplevels();
    for (guint i = 0; i < g_list_model_get_n_items(tops) && dialog == NULL; i++) {
        g_autoptr(GObject) w = g_list_model_get_item(tops, i);
        if (GTK_IS_ABOUT_DIALOG(w))
            dialog = GTK_ABOUT_DIALOG(w);
    }
    assert_non_null(dialog);
    assert_string_equal(gtk_about_dialog_get_program_name(dialog), "ctxtrace Inspector");
    assert_string_equal(gtk_about_dialog_get_version(dialog), CTX_VERSION_STRING);
    assert_string_equal(gtk_about_dialog_get_logo_icon_name(dialog), CT_APP_ID);
    window_test_screenshot(GTK_WIDGET(dialog), shots, "inspector-about.png");
    gtk_window_destroy(GTK_WINDOW(dialog));

    /* Keyboard Shortcuts: the window GtkApplication loads from the bundle. */
    g_autoptr(GtkBuilder) b = gtk_builder_new_from_resource("/org/ctxtrace/Inspector/gtk/help-overlay.ui");
    GtkWidget *overlay = GTK_WIDGET(gtk_builder_get_object(b, "help_overlay"));
    assert_true(GTK_IS_SHORTCUTS_WINDOW(overlay));
    gtk_window_set_transient_for(GTK_WINDOW(overlay), GTK_WINDOW(window));
    gtk_window_present(GTK_WINDOW(overlay));
    window_test_screenshot(overlay, shots, "inspector-shortcuts.png");
    gtk_window_destroy(GTK_WINDOW(overlay));
}

static void test_only_problems_lists_exactly_the_leaked_contexts(void **state)
{
    (void)state;
    CtTreeView *tree = ct_window_get_tree_view(window);
    ct_tree_view_set_filter(tree, NULL, -1, -1, TRUE);
    GListModel *rows = ct_tree_view_get_rows(tree);
    assert_int_equal(g_list_model_get_n_items(rows),
                     sql_int("SELECT count(*) FROM contexts WHERE kind IN ('cancel', 'deadline') "
                             "AND (released_live = 1 OR canceled_ns IS NULL)"));
    for (guint i = 0; i < g_list_model_get_n_items(rows); i++) {
        g_autoptr(GtkTreeListRow) row = g_list_model_get_item(rows, i);
        g_autoptr(CtContextItem) item = gtk_tree_list_row_get_item(row);
        assert_int_equal(ct_trace_model_get_state(ct_window_get_model(window), item), CT_STATE_LEAKED);
    }
    /* A site search: the leaky call at party_leaky.c's line of the finding. */
    const struct ct_finding *f = first_finding();
    g_autofree char *needle = g_strdup_printf("party_leaky.c:%d", f->site.line);
    ct_tree_view_set_filter(tree, needle, -1, -1, FALSE);
    rows = ct_tree_view_get_rows(tree);
    assert_true(g_list_model_get_n_items(rows) >= (guint)f->count);
    for (guint i = 0; i < g_list_model_get_n_items(rows); i++) {
        g_autoptr(GtkTreeListRow) row = g_list_model_get_item(rows, i);
        g_autoptr(CtContextItem) item = gtk_tree_list_row_get_item(row);
        assert_non_null(strstr(ct_context_item_get_site(item), needle));
    }
    ct_tree_view_set_filter(tree, NULL, -1, -1, FALSE);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--ctxtrace") == 0) ctxtrace = v;
        else if (strcmp(k, "--sample") == 0) sample = v;
        else if (strcmp(k, "--fixed-sample") == 0) fixed_sample = v;
        else if (strcmp(k, "--source") == 0) source = v;
        else if (strcmp(k, "--workdir") == 0) workdir = v;
        else if (strcmp(k, "--screenshots") == 0) shots = v;
    }
    if (!ctxtrace || !sample || !fixed_sample || !source || !workdir || !shots) {
        fprintf(stderr, "usage: test_gui --ctxtrace CTXTRACE --sample PROGRAM --fixed-sample PROGRAM "
                        "--source FILE.c --workdir DIR --screenshots DIR\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_window_opens_on_the_findings_with_the_first_one_selected),
        cmocka_unit_test(test_the_tree_shows_the_roots_and_the_programs_top_context_opened),
        cmocka_unit_test(test_every_context_a_finding_covers_is_marked_not_only_its_examples),
        cmocka_unit_test(test_the_details_name_the_findings_rule_and_its_own_leak),
        cmocka_unit_test(test_the_leaked_context_is_flagged_and_selected_in_the_tree),
        cmocka_unit_test(test_the_details_stack_names_the_samples_file_and_line),
        cmocka_unit_test(test_findings_are_grouped_by_rule),
        cmocka_unit_test(test_selecting_a_finding_jumps_to_its_context),
        cmocka_unit_test(test_the_timeline_holds_every_context_in_lanes_by_site_leaks_first),
        cmocka_unit_test(test_the_counts_hold_the_samples),
        cmocka_unit_test(test_the_sites_count_every_context_and_selecting_one_filters_tree_and_timeline),
        cmocka_unit_test(test_a_trace_without_findings_shows_the_no_findings_status_page),
        cmocka_unit_test(test_the_primary_menu_offers_open_shortcuts_and_about),
        cmocka_unit_test(test_only_problems_lists_exactly_the_leaked_contexts),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
