/*
 * test_summary.c — the window on a summary-retention trace (CTXTRACE_KEEP=summary,
 * schema 3): the tracer's request loop, whose contexts the shim folds into per-site
 * aggregates (site_summary) except the few a rule may name. The window must not let
 * the rows it shows pass for the whole run: the model's meta carries the folded count
 * (the trace's contexts_summarized) and rows plus folded contexts are every context the
 * program made; the Sites view counts the folded contexts at their sites, says how many
 * were summarized, and prints for every site the numbers `ctxtrace report --profile`
 * prints for it (created, how they ended, lifetime p50/p99/max). Screenshot of the
 * Sites view: sites-summary.png.
 *
 *   test_summary --ctxtrace CTXTRACE --program REQUEST_LOOP --workdir DIR --screenshots DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "ct-format.h"
#include "ct-site-item.h"
#include "ct-sites-view.h"
#include "ct-window.h"
#include "window_test.h"

#define REQUESTS 5000 /* four contexts each, and main's */

static const char *ctxtrace, *program, *workdir, *shots;

/* One site of `ctxtrace report --profile --format json`. */
typedef struct {
    char *function;
    gint64 line, created, p50, p99, max, explicit, parent, deadline;
} ProfileSite;

static void profile_site_clear(gpointer p)
{
    g_free(((ProfileSite *)p)->function);
}

/* The sites `ctxtrace report --profile --format json` prints for `trace`. The pattern
 * follows report_profile.c's key order; every site must match it (a format change fails
 * the test rather than leaving sites unchecked). */
static GArray *report_profile(const char *trace)
{
    const char *argv[] = {ctxtrace, "report", "--profile", "--format", "json", trace, NULL};
    g_autofree char *out = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    gboolean ran = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                                NULL, &status, &error) &&
                   g_spawn_check_wait_status(status, &error);
    if (!ran)
        fprintf(stderr, "test_summary: ctxtrace report --profile: %s\n", error->message);
    assert_true(ran);
    g_autoptr(GRegex) re = g_regex_new(
        "\"site\": \\{\"function\": \"([^\"]*)\", \"file\": \"[^\"]*\", \"line\": (\\d+)\\},\\s*"
        "\"kind\": \"[a-z_]+\",\\s*\"created\": (\\d+),\\s*\"lifetime_p50_ns\": (\\d+),\\s*"
        "\"lifetime_p99_ns\": (\\d+),\\s*\"lifetime_max_ns\": (\\d+),\\s*\"ended_explicit\": (\\d+),\\s*"
        "\"ended_parent\": (\\d+),\\s*\"ended_deadline\": (\\d+),",
        0, 0, NULL);
    GArray *sites = g_array_new(FALSE, TRUE, sizeof(ProfileSite));
    g_array_set_clear_func(sites, profile_site_clear);
    g_autoptr(GMatchInfo) m = NULL;
    for (g_regex_match(re, out, 0, &m); g_match_info_matches(m); g_match_info_next(m, NULL)) {
        gint64 v[8];
        for (int i = 0; i < 8; i++) {
            g_autofree char *digits = g_match_info_fetch(m, i + 2);
            v[i] = g_ascii_strtoll(digits, NULL, 10);
        }
        ProfileSite site = {g_match_info_fetch(m, 1), v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
        g_array_append_val(sites, site);
    }
    /* Each site opens with "site": {...}: as many as matched. */
    guint opened = 0;
    for (const char *at = out; (at = strstr(at, "\"site\": {")) != NULL; at++)
        opened++;
    assert_int_equal(opened, sites->len);
    return sites;
}

/* The report's site `site` ("function file:line", the Sites view's), or NULL. */
static const ProfileSite *find_site(GArray *sites, const char *site)
{
    for (guint i = 0; i < sites->len; i++) {
        const ProfileSite *p = &g_array_index(sites, ProfileSite, i);
        g_autofree char *prefix = g_strdup_printf("%s ", p->function);
        g_autofree char *suffix = g_strdup_printf(":%" G_GINT64_FORMAT, p->line);
        if (g_str_has_prefix(site, prefix) && g_str_has_suffix(site, suffix))
            return p;
    }
    return NULL;
}

/* Trace the request loop with summary retention into workdir/name (CTXTRACE_KEEP_SAMPLE
 * = sample_every, NULL: the default), open it, check the Sites view against the report;
 * a screenshot of it as `shot` (NULL: none). Returns how many sites have no rows. */
static guint check_summary_trace(const char *name, const char *sample_every, const char *shot)
{
    g_autofree char *trace = g_build_filename(workdir, name, NULL);
    for (const char *const *suffix = (const char *const[]){"", "-wal", "-shm", NULL}; *suffix; suffix++) {
        g_autofree char *file = g_strconcat(trace, *suffix, NULL);
        g_unlink(file);
    }
    g_autofree char *requests = g_strdup_printf("%d", REQUESTS);
    const char *argv[] = {ctxtrace, "run", "--no-report", "-o", trace, "--", program,
                          "--requests", requests, NULL};
    char **env = g_environ_setenv(g_get_environ(), "CTXTRACE_KEEP", "summary", TRUE);
    if (sample_every != NULL)
        env = g_environ_setenv(env, "CTXTRACE_KEEP_SAMPLE", sample_every, TRUE);
    int status = 0;
    g_autoptr(GError) error = NULL;
    gboolean ran = g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                                NULL, NULL, &status, &error) &&
                   g_spawn_check_wait_status(status, &error);
    g_strfreev(env);
    if (!ran)
        fprintf(stderr, "test_summary: tracing the request loop: %s\n", error->message);
    assert_true(ran);

    CtWindow *window = ct_window_new(NULL);
    gtk_window_set_default_size(GTK_WINDOW(window), 1800, 480);
    gtk_window_present(GTK_WINDOW(window));
    assert_true(ct_window_open(window, trace, &error));
    gint64 until = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (!ct_window_is_analysed(window) && g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, TRUE);
    assert_true(ct_window_is_analysed(window));

    /* The Sites view counts its rows when it is shown. */
    assert_true(ct_window_show_view(window, "sites"));
    window_test_settle(GTK_WIDGET(window), 3);
    const CtTraceMeta *m = ct_trace_model_get_meta(ct_window_get_model(window));
    assert_true(m->summarized > 0);
    assert_int_equal(m->contexts + m->summarized, 4 * REQUESTS + 1);
    /* The Sites view counts every context, folded or not, and says how many were
     * folded. */
    CtSitesView *view = ct_window_get_sites_view(window);
    GListModel *rows = ct_sites_view_get_rows(view);
    guint n = g_list_model_get_n_items(rows);
    gint64 created = 0, summarized = 0;
    for (guint i = 0; i < n; i++) {
        g_autoptr(CtSiteItem) item = g_list_model_get_item(rows, i);
        created += ct_site_item_get_stats(item)->created;
        summarized += ct_site_item_get_stats(item)->summarized;
    }
    assert_int_equal(created, 4 * REQUESTS + 1);
    assert_int_equal(summarized, m->summarized);
    g_autofree char *all = ct_format_count(created);
    g_autofree char *folded = ct_format_count(summarized);
    g_autofree char *expected = g_strdup_printf("%s contexts created at %u sites (%s of them summarized: ", all, n,
                                                folded);
    const char *status_line = ct_sites_view_get_status(view);
    if (!g_str_has_prefix(status_line, expected))
        fprintf(stderr, "test_summary: the Sites view says \"%s\"\n", status_line);
    assert_true(g_str_has_prefix(status_line, expected));

    /* Every site's numbers are the ones `ctxtrace report --profile` prints for it. */
    g_autoptr(GArray) profile = report_profile(trace);
    assert_int_equal(profile->len, n);
    guint rowless = 0;
    for (guint i = 0; i < n; i++) {
        g_autoptr(CtSiteItem) item = g_list_model_get_item(rows, i);
        const CtSiteStats *st = ct_site_item_get_stats(item);
        const ProfileSite *p = find_site(profile, ct_site_item_get_site(item));
        fprintf(stderr,
                "test_summary: %s: created %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " summarized), "
                "cancelled %" G_GINT64_FORMAT ", deadline %" G_GINT64_FORMAT ", lifetime %" G_GINT64_FORMAT
                " / %" G_GINT64_FORMAT " / %" G_GINT64_FORMAT " ns; report: %s\n",
                ct_site_item_get_site(item), st->created, st->summarized, st->cancelled, st->deadline,
                st->life_p50, st->life_p99, st->life_max, p ? "found" : "no such site");
        assert_non_null(p);
        assert_int_equal(st->created, p->created);
        /* A clean program: nothing leaked, so the verdict's "cancelled" of a row is
         * how the report counts it (explicitly or by the parent). */
        assert_int_equal(st->leaked, 0);
        assert_int_equal(st->cancelled, p->explicit + p->parent);
        assert_int_equal(st->deadline, p->deadline);
        assert_int_equal(st->life_p50, p->p50);
        assert_int_equal(st->life_p99, p->p99);
        assert_int_equal(st->life_max, p->max);
        rowless += st->created == st->summarized;
    }
    /* The request sites made thousands of contexts, nearly all folded. */
    g_autoptr(CtSiteItem) top = g_list_model_get_item(rows, 0);
    assert_int_equal(ct_site_item_get_stats(top)->created, REQUESTS);
    assert_true(ct_site_item_get_stats(top)->summarized > REQUESTS / 2);

    if (shot != NULL) {
        /* The divider dragged right, as a user would, so the picture shows the lifetime
         * columns too. */
        GtkWidget *paned = gtk_widget_get_ancestor(GTK_WIDGET(view), GTK_TYPE_PANED);
        assert_non_null(paned);
        gtk_paned_set_position(GTK_PANED(paned), 1380);
        window_test_screenshot(GTK_WIDGET(window), shots, shot);
    }
    gtk_window_destroy(GTK_WINDOW(window));
    return rowless;
}

static void test_a_summary_trace_counts_its_folded_contexts(void **state)
{
    (void)state;
    check_summary_trace("summary.db", NULL, "sites-summary.png");
}

/* Sampling off: a request site keeps no row at all, and is still a row of the view
 * (its site found from the aggregate's creation stack alone). */
static void test_a_site_without_rows_is_shown(void **state)
{
    (void)state;
    assert_true(check_summary_trace("summary-nosample.db", "0", NULL) > 0);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ctxtrace") == 0) ctxtrace = argv[i + 1];
        else if (strcmp(argv[i], "--program") == 0) program = argv[i + 1];
        else if (strcmp(argv[i], "--workdir") == 0) workdir = argv[i + 1];
        else if (strcmp(argv[i], "--screenshots") == 0) shots = argv[i + 1];
    }
    if (!ctxtrace || !program || !workdir || !shots) {
        fprintf(stderr, "usage: test_summary --ctxtrace CTXTRACE --program REQUEST_LOOP --workdir DIR "
                        "--screenshots DIR\n");
        return 2;
    }
    g_mkdir_with_parents(workdir, 0755);
    g_mkdir_with_parents(shots, 0755);
    gtk_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_summary_trace_counts_its_folded_contexts),
        cmocka_unit_test(test_a_site_without_rows_is_shown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
