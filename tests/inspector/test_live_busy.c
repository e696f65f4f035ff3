/*
 * test_live_busy.c — the inspector following a busy process for 30 s (issue 14's live
 * test): live_prog (tests/live) creates and releases contexts as fast as it can, every
 * LEAK_EVERY-th of them a lost cancel, far faster than a window can take the stream.
 * The real window, under Xvfb, follows it through ct_window_connect (what --connect
 * does). Asserts it is never cut off (the stream has not ended after 30 s; the process
 * resynced it instead: docs/wire.md), that the rows and the per-site counts keep
 * changing, that the lost cancels appear as findings while it runs, that the Sites view's
 * counts are the process's own (exact: more than the window received) and that the
 * window ends cleanly when the process is stopped (with its BYE, or — still behind when
 * the process gave clients their last 200 ms — saying it may have missed it). The
 * window's bound on the freed contexts it keeps is lowered (FREED_MAX), so its model is
 * replaced several times meanwhile and the views carry on with the new one. Writes screenshots of the Sites and
 * Findings views while live. Prints (does not assert) how long after connecting the
 * window painted its first frame.
 *
 *   test_live_busy --shim LIBCTXTRACE_PRELOAD --prog LIVE_PROG --workdir DIR --screenshots DIR
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct-findings-view.h"
#include "ct-site-item.h"
#include "ct-sites-view.h"
#include "ct-tree-view.h"
#include "ct-window.h"
#include "window_test.h"

#define FOLLOW_S 30
#define CHECK_EVERY_S 5
#define LEAK_EVERY "2000"
#define DEADLINE_S 60
#define FREED_MAX 500

static const char *shim, *prog, *workdir, *shots;
static GPid pid;
static int prog_in = -1;
static CtWindow *window;
static gint64 t_connect, t_first_paint;
static gboolean reaped;

static void after_paint_cb(GdkFrameClock *clock, gpointer data)
{
    (void)data;
    if (t_first_paint == 0)
        t_first_paint = g_get_monotonic_time();
    g_signal_handlers_disconnect_by_func(clock, after_paint_cb, NULL);
}

static void pump_for(gint64 us)
{
    gint64 until = g_get_monotonic_time() + us;
    while (g_get_monotonic_time() < until)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
}

static gboolean pump_until(gboolean (*done)(void))
{
    gint64 until = g_get_monotonic_time() + DEADLINE_S * G_USEC_PER_SEC;
    while (!done() && g_get_monotonic_time() < until)
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    return done();
}

static CtLiveSource *live(void)
{
    return ct_window_get_live_source(window);
}

static gboolean stream_ended(void)
{
    return ct_live_source_has_ended(live());
}

static gboolean painted(void)
{
    return t_first_paint != 0;
}

/* The process's own counts, summed over its stacks. */
static void counted(gint64 *created, gint64 *lost_cancel)
{
    guint n;
    const CtSiteCounts *c = ct_trace_model_get_site_counts(ct_window_get_model(window), &n);
    *created = *lost_cancel = 0;
    for (guint i = 0; i < n; i++) {
        *created += c[i].created;
        *lost_cancel += c[i].lost_cancel;
    }
}

/* Contexts at lost-cancel findings in the Findings view's model. */
static long findings_lost_cancel(void)
{
    const struct ct_findings *f = ct_trace_model_get_findings(ct_window_get_model(window));
    long n = 0;
    for (size_t i = 0; f != NULL && i < f->len; i++)
        n += f->items[i].rule == CT_RULE_LOST_CANCEL ? f->items[i].count : 0;
    return n;
}

/* Every lost cancel the window holds is marked as covered by its finding (not only the
 * findings' examples) as soon as it arrives — not only at the next rebuild of the
 * findings (once a second). Returns how many there were. */
static guint assert_lost_cancels_marked(CtTraceModel *m)
{
    CtSpans *spans = ct_trace_model_get_spans(m);
    guint leaked = 0, marked = 0;
    for (guint i = 0; i < ct_spans_get_len(spans); i++) {
        const CtSpan *sp = ct_spans_get(spans, i);
        CtContextItem *item = sp->leak == CT_LEAK_LOST_CANCEL ? ct_trace_model_lookup(m, sp->id) : NULL;
        if (item == NULL)
            continue;
        leaked++;
        marked += ct_context_item_get_n_findings(item) >= 1;
    }
    assert_int_equal(marked, leaked);
    return leaked;
}

static int setup(void **state)
{
    (void)state;
    g_mkdir_with_parents(workdir, 0755);
    g_mkdir_with_parents(shots, 0755);
    g_autofree char *sock = g_build_filename(workdir, "busy.sock", NULL);
    g_autofree char *trace = g_build_filename(workdir, "busy.db", NULL);
    g_unlink(sock);
    g_unlink(trace);
    /* A burst far longer than the test: it is stopped with SIGTERM. Summary retention
     * keeps the trace file small. */
    const char *args[] = {prog, "--wait-go", "--burst", "4000000000", "--leak-every", LEAK_EVERY,
                          "0", "0", NULL};
    char **env = g_get_environ();
    env = g_environ_setenv(env, "LD_PRELOAD", shim, TRUE);
    env = g_environ_setenv(env, "CTXTRACE_OUTPUT", trace, TRUE);
    env = g_environ_setenv(env, "CTXTRACE_SOCKET", sock, TRUE);
    env = g_environ_setenv(env, "CTXTRACE_KEEP", "summary", TRUE);
    int out = -1;
    g_autoptr(GError) error = NULL;
    gboolean ok = g_spawn_async_with_pipes(NULL, (char **)args, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                           NULL, &pid, &prog_in, &out, NULL, &error);
    g_strfreev(env);
    if (!ok) {
        fprintf(stderr, "test_live_busy: starting live_prog: %s\n", error->message);
        return -1;
    }
    char line[16] = {0};
    for (size_t n = 0; n < sizeof line - 1 && strchr(line, '\n') == NULL;)
        if (read(out, line + n, 1) == 1)
            n++;
        else
            break;
    close(out);
    if (strcmp(line, "ready\n") != 0) {
        fprintf(stderr, "test_live_busy: live_prog did not start (%s)\n", line);
        return -1;
    }
    /* Busy before the window connects: the first paint is measured under the flood. */
    if (write(prog_in, "go\n", 3) != 3)
        return -1;
    g_usleep(300000);

    gtk_init();
    window = ct_window_new(NULL);
    gtk_window_set_default_size(GTK_WINDOW(window), 1280, 800);
    gtk_window_present(GTK_WINDOW(window));
    t_connect = g_get_monotonic_time();
    if (!ct_window_connect(window, sock, &error)) {
        fprintf(stderr, "test_live_busy: %s\n", error->message);
        return -1;
    }
    ct_live_source_set_freed_max(live(), FREED_MAX);
    GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(window));
    if (clock != NULL)
        g_signal_connect(clock, "after-paint", G_CALLBACK(after_paint_cb), NULL);
    else
        t_first_paint = -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gtk_window_destroy(GTK_WINDOW(window));
    if (prog_in >= 0)
        close(prog_in);
    if (!reaped) { /* a test failed before stopping it: the burst would run for hours */
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    g_spawn_close_pid(pid);
    return 0;
}

static void test_the_first_frame_is_painted(void **state)
{
    (void)state;
    assert_int_not_equal(t_first_paint, -1);
    assert_true(pump_until(painted));
    printf("first paint %.0f ms after connecting\n", (t_first_paint - t_connect) / 1000.0);
}

/* Every CHECK_EVERY_S seconds for FOLLOW_S: still following, more contexts received
 * (rows), higher counts, and the lost cancels among the findings. */
static void test_a_busy_process_is_followed_for_30_s(void **state)
{
    (void)state;
    static const char *const views[] = {"tree", "sites", "findings", "counts", "timeline", "tree"};
    gint64 last_received = 0;
    gint64 last_created = 0, last_lost = 0;
    for (int t = 0, k = 0; t < FOLLOW_S; t += CHECK_EVERY_S, k++) {
        assert_true(ct_window_show_view(window, views[k % G_N_ELEMENTS(views)]));
        pump_for(CHECK_EVERY_S * G_USEC_PER_SEC);
        assert_false(stream_ended());
        /* The window's model is the live source's, replaced now and then. */
        CtTraceModel *m = ct_window_get_model(window);
        assert_ptr_equal(m, ct_live_source_get_model(live()));
        gint64 received = ct_trace_model_get_meta(m)->contexts;
        GListModel *rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
        gint64 created, lost;
        counted(&created, &lost);
        printf("%2d s: %" G_GINT64_FORMAT " contexts received (%u in the model, %u tree rows, %u "
               "models replaced), %" G_GINT64_FORMAT " created, %" G_GINT64_FORMAT
               " lost cancels (%ld in the findings); %s\n",
               t + CHECK_EVERY_S, received, ct_spans_get_len(ct_trace_model_get_spans(m)),
               g_list_model_get_n_items(rows), ct_live_source_get_replacements(live()), created, lost,
               findings_lost_cancel(), ct_live_source_get_state_text(live()));
        guint marked = assert_lost_cancels_marked(m);
        printf("      %u lost cancels in the model, each marked by its finding\n", marked);
        assert_true(received > last_received);
        assert_true(created > last_created);
        assert_true(lost > last_lost);
        /* The findings are rebuilt from the counts at most once a second. */
        assert_true(findings_lost_cancel() > last_lost);
        last_received = received;
        last_created = created;
        last_lost = lost;
    }
    /* Far more than a window can take: the process resynced it, and it says so. */
    assert_non_null(strstr(ct_live_source_get_state_text(live()), "fell behind"));
    /* Its history past FREED_MAX freed contexts was dropped: a fresh model. */
    assert_true(ct_live_source_get_replacements(live()) >= 1);
}

/* The Sites view's counts are the process's: the burst's site counted more contexts than
 * the window received, and every lost cancel. */
static void test_the_sites_view_shows_the_process_counts(void **state)
{
    (void)state;
    assert_true(ct_window_show_view(window, "sites"));
    pump_for(G_USEC_PER_SEC); /* the view rebuilds at most twice a second */
    window_test_screenshot(GTK_WIDGET(window), shots, "live-busy-sites.png");
    GListModel *rows = ct_sites_view_get_rows(ct_window_get_sites_view(window));
    gint64 burst_created = 0, burst_received = 0, lost = 0;
    for (guint i = 0; i < g_list_model_get_n_items(rows); i++) {
        g_autoptr(CtSiteItem) item = g_list_model_get_item(rows, i);
        const CtSiteStats *s = ct_site_item_get_stats(item);
        assert_true(s->counted);
        if (s->created > burst_created) {
            burst_created = s->created;
            burst_received = s->received;
        }
        if (strstr(ct_site_item_get_site(item), "make_burst_lost_cancel") != NULL)
            lost = s->leaked;
    }
    assert_true(burst_created > burst_received);
    assert_true(lost > 0);
    assert_true(ct_window_show_view(window, "findings"));
    window_test_screenshot(GTK_WIDGET(window), shots, "live-busy-findings.png");
    assert_true(ct_window_show_view(window, "tree"));
    window_test_screenshot(GTK_WIDGET(window), shots, "live-busy.png");
}

static void test_the_window_ends_cleanly_when_the_process_is_stopped(void **state)
{
    (void)state;
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    reaped = TRUE;
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    assert_true(pump_until(stream_ended));
    const char *text = ct_live_source_get_state_text(live());
    printf("ended: %s\n", text);
    /* At its exit the process gives clients 200 ms to take their last frames: a window
     * still behind may miss the BYE, and then says so. */
    assert_true(g_str_has_prefix(text, "the process exited (signal SIGTERM)") ||
                g_str_has_prefix(text, "the stream ended without a BYE (the process exited or died while "
                                       "this window was behind)"));
    assert_true(findings_lost_cancel() > 0);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--shim") == 0) shim = v;
        else if (strcmp(k, "--prog") == 0) prog = v;
        else if (strcmp(k, "--workdir") == 0) workdir = v;
        else if (strcmp(k, "--screenshots") == 0) shots = v;
    }
    if (!shim || !prog || !workdir || !shots) {
        fprintf(stderr, "usage: test_live_busy --shim LIB --prog LIVE_PROG --workdir DIR --screenshots DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_first_frame_is_painted),
        cmocka_unit_test(test_a_busy_process_is_followed_for_30_s),
        cmocka_unit_test(test_the_sites_view_shows_the_process_counts),
        cmocka_unit_test(test_the_window_ends_cleanly_when_the_process_is_stopped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
