/*
 * test_summary.c — the window on a summary-retention trace (CTXTRACE_KEEP=summary,
 * schema 3): the tracer's request loop, whose contexts the shim folds into per-site
 * aggregates (site_summary) except the few a rule may name. The reader does not hand
 * those aggregates out yet, so the window must not let the rows it shows pass for the
 * whole run: the model's meta carries the folded count (the trace's
 * contexts_summarized), the status line and the Sites view say it, and rows plus folded
 * contexts are every context the program made.
 *
 *   test_summary --ctxtrace CTXTRACE --program REQUEST_LOOP --workdir DIR
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
#include "ct-sites-view.h"
#include "ct-window.h"
#include "window_test.h"

#define REQUESTS 5000 /* four contexts each, and main's */

static const char *ctxtrace, *program, *workdir;

static void test_a_summary_trace_says_what_it_folded(void **state)
{
    (void)state;
    g_autofree char *trace = g_build_filename(workdir, "summary.db", NULL);
    for (const char *const *suffix = (const char *const[]){"", "-wal", "-shm", NULL}; *suffix; suffix++) {
        g_autofree char *file = g_strconcat(trace, *suffix, NULL);
        g_unlink(file);
    }
    g_autofree char *requests = g_strdup_printf("%d", REQUESTS);
    const char *argv[] = {ctxtrace, "run", "--no-report", "-o", trace, "--", program,
                          "--requests", requests, NULL};
    char **env = g_environ_setenv(g_get_environ(), "CTXTRACE_KEEP", "summary", TRUE);
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
    gtk_window_set_default_size(GTK_WINDOW(window), 1280, 800);
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
    /* The Sites view counts the rows it has and says how many more were folded. */
    g_autofree char *rows = ct_format_count(m->contexts);
    g_autofree char *more = ct_format_count(m->summarized);
    g_autofree char *expected = g_strdup_printf("Not counted here: %s contexts folded into per-site "
                                                "summaries (summary retention). %s contexts created at ",
                                                more, rows);
    const char *sites = ct_sites_view_get_status(ct_window_get_sites_view(window));
    if (!g_str_has_prefix(sites, expected))
        fprintf(stderr, "test_summary: the Sites view says \"%s\"\n", sites);
    assert_true(g_str_has_prefix(sites, expected));
    gtk_window_destroy(GTK_WINDOW(window));
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ctxtrace") == 0) ctxtrace = argv[i + 1];
        else if (strcmp(argv[i], "--program") == 0) program = argv[i + 1];
        else if (strcmp(argv[i], "--workdir") == 0) workdir = argv[i + 1];
    }
    if (!ctxtrace || !program || !workdir) {
        fprintf(stderr, "usage: test_summary --ctxtrace CTXTRACE --program REQUEST_LOOP --workdir DIR\n");
        return 2;
    }
    g_mkdir_with_parents(workdir, 0755);
    gtk_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_summary_trace_says_what_it_folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
