/*
 * test_live.c — the inspector's live mode end to end: live_prog (tests/live) runs under
 * the shim serving its socket at a path in the work directory; the real window, under
 * Xvfb, follows it through ct_window_connect (what --connect does). Asserts the
 * snapshot's contexts with their sites, a context seen live and later cancelled and
 * freed, every request the program made while followed, and that after the program
 * exits the window says so and keeps the last state — and judges each context as
 * `ctxtrace report` judges it on the trace, the exit check's reachability included
 * (live_prog --leak-at-exit leaves a lost handle and a blocked thread). Writes a screenshot of the live
 * window and one of the ended one. And the start page: a second live_prog serving at
 * its default socket is offered there, and picking it asks to connect to that socket.
 *
 *   test_live --shim LIBCTXTRACE_PRELOAD --prog LIVE_PROG --source live_prog.c
 *             --workdir DIR --screenshots DIR
 *
 * Waits are for conditions, with generous deadlines (a loaded two-core machine): never
 * a fixed sleep standing in for an assertion.
 */
#include <ctxtrace/core/reader.h>
#include <ctxtrace/tracer.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ct-start-page.h"
#include "ct-timeline-canvas.h"
#include "ct-timeline-view.h"
#include "ct-window.h"
#include "window_test.h"

/* Requests live_prog makes once told to go, one every INTERVAL_US: long enough that
 * its job context is seen live before it is cancelled. */
#define ITERATIONS 300
#define INTERVAL_US 20000
#define DEADLINE_S 90

static const char *shim, *prog, *source, *workdir, *shots;
static char *socket_path;
static GPid pid;
static int prog_in = -1, prog_out = -1;
static CtWindow *window;
static int job_line, request_line, lost_cancel_line, ineffective_line;

/* The line of live_prog.c holding `text` (the sites name them). */
static int line_of(const char *text)
{
    g_autofree char *src = NULL;
    assert_true(g_file_get_contents(source, &src, NULL, NULL));
    char *at = strstr(src, text);
    assert_non_null(at);
    int line = 1;
    for (char *p = src; p < at; p++)
        line += *p == '\n';
    return line;
}

static void settle(int frames)
{
    window_test_settle(GTK_WIDGET(window), frames);
}

static void screenshot(const char *name)
{
    window_test_screenshot(GTK_WIDGET(window), shots, name);
}

/* The first context (in creation order) created at `line` of live_prog.c, or NULL. */
static CtContextItem *find_at_line(int line)
{
    g_autofree char *suffix = g_strdup_printf(" live_prog.c:%d", line);
    CtTraceModel *m = ct_window_get_model(window);
    CtSpans *spans = ct_trace_model_get_spans(m);
    for (guint i = 0; i < ct_spans_get_len(spans); i++) {
        CtContextItem *c = ct_trace_model_lookup(m, ct_spans_get(spans, i)->id);
        const char *site = c ? ct_context_item_get_site(c) : NULL;
        if (site != NULL && g_str_has_suffix(site, suffix))
            return c;
    }
    return NULL;
}

/* Run the main loop until `done` holds: FALSE if the deadline passed first. */
static gboolean pump_until(gboolean (*done)(void))
{
    gint64 until = g_get_monotonic_time() + DEADLINE_S * G_USEC_PER_SEC;
    while (!done() && g_get_monotonic_time() < until) {
        /* Not blocking: the stream may be quiet while the program waits. */
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(1000);
    }
    return done();
}

static gboolean snapshot_arrived(void)
{
    return find_at_line(ineffective_line) != NULL;
}

static gboolean job_seen(void)
{
    return find_at_line(job_line) != NULL;
}

static gboolean stream_ended(void)
{
    return ct_live_source_has_ended(ct_window_get_live_source(window));
}

/* live_prog under the shim with `env` set (NAME=VALUE pairs, NULL-terminated), waiting
 * for "go" (its stdin: *in) once it said "ready". */
static GPid start_prog(const char *const *args, const char *const *env_set, int *in, int *out)
{
    char **env = g_get_environ();
    env = g_environ_setenv(env, "LD_PRELOAD", shim, TRUE);
    env = g_environ_setenv(env, "CTXTRACE_SAMPLE_MS", "50", TRUE);
    for (int i = 0; env_set[i] != NULL; i += 2)
        env = g_environ_setenv(env, env_set[i], env_set[i + 1], TRUE);
    GPid child = 0;
    g_autoptr(GError) error = NULL;
    gboolean ok = g_spawn_async_with_pipes(NULL, (char **)args, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                           NULL, &child, in, out, NULL, &error);
    g_strfreev(env);
    if (!ok) {
        fprintf(stderr, "test_live: starting live_prog: %s\n", error->message);
        return 0;
    }
    /* "ready": its long-lived contexts exist and the socket is served. */
    char line[16] = {0};
    for (size_t n = 0; n < sizeof line - 1 && strchr(line, '\n') == NULL;) {
        ssize_t r = read(*out, line + n, 1);
        if (r <= 0 && !(r < 0 && errno == EINTR))
            break;
        n += r > 0 ? (size_t)r : 0;
    }
    if (strcmp(line, "ready\n") != 0) {
        fprintf(stderr, "test_live: live_prog did not start (%s)\n", line);
        return 0;
    }
    return child;
}

/* ---- setup: live_prog under the shim, the window following it ---------------------- */

static int setup(void **state)
{
    (void)state;
    g_mkdir_with_parents(workdir, 0755);
    g_mkdir_with_parents(shots, 0755);
    job_line = line_of("ctx_t *job = ctx_with_cancel(server);");
    request_line = line_of("ctx_t *req = ctx_with_timeout(server, CTX_SECOND);");
    lost_cancel_line = line_of("ctx_t *c = ctx_with_cancel(parent);");
    ineffective_line = line_of("return ctx_with_timeout(session, 3600 * CTX_SECOND);");

    socket_path = g_build_filename(workdir, "live.sock", NULL);
    g_autofree char *trace = g_build_filename(workdir, "live.db", NULL);
    g_unlink(socket_path);
    g_unlink(trace);
    g_autofree char *iterations = g_strdup_printf("%d", ITERATIONS);
    g_autofree char *interval = g_strdup_printf("%d", INTERVAL_US);
    const char *args[] = {prog, "--wait-go", "--leak-at-exit", iterations, interval, NULL};
    const char *env[] = {"CTXTRACE_OUTPUT", trace, "CTXTRACE_SOCKET", socket_path, NULL};
    pid = start_prog(args, env, &prog_in, &prog_out);
    if (pid == 0)
        return -1;

    gtk_init();
    g_autoptr(GError) error = NULL;
    window = ct_window_new(NULL);
    gtk_window_set_default_size(GTK_WINDOW(window), 1280, 800);
    gtk_window_present(GTK_WINDOW(window));
    if (!ct_window_connect(window, socket_path, &error)) {
        fprintf(stderr, "test_live: %s\n", error->message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gtk_window_destroy(GTK_WINDOW(window));
    if (prog_in >= 0)
        close(prog_in);
    close(prog_out);
    g_spawn_close_pid(pid);
    g_free(socket_path);
    return 0;
}

/* ---- the tests, in order: they follow one run of the program ----------------------- */

static void test_the_snapshot_shows_the_live_tree_with_its_sites(void **state)
{
    (void)state;
    assert_true(pump_until(snapshot_arrived));
    CtContextItem *ineffective = find_at_line(ineffective_line);
    assert_int_equal(ct_context_item_get(ineffective, CT_KIND, -1), CTX_KIND_DEADLINE);
    assert_int_equal(ct_trace_model_get_state(ct_window_get_model(window), ineffective), CT_STATE_LIVE);
    /* Dropped by its owners live and uncancelled: the snapshot's lost-cancel flag. */
    CtContextItem *lost = find_at_line(lost_cancel_line);
    assert_non_null(lost);
    assert_int_equal(ct_trace_model_get_state(ct_window_get_model(window), lost), CT_STATE_LEAKED);
    const CtTraceMeta *m = ct_trace_model_get_meta(ct_window_get_model(window));
    assert_int_equal(m->pid, pid);
    assert_non_null(strstr(m->program, "live_prog"));
    assert_false(m->complete);
    assert_false(stream_ended());
}

static void test_a_context_is_seen_live_then_cancelled_and_freed(void **state)
{
    (void)state;
    assert_int_equal(write(prog_in, "go\n", 3), 3);
    assert_true(pump_until(job_seen));
    /* The job lives while the requests run (ITERATIONS × INTERVAL_US). */
    CtContextItem *job = find_at_line(job_line);
    assert_int_equal(ct_trace_model_get_state(ct_window_get_model(window), job), CT_STATE_LIVE);
    assert_int_equal(ct_context_item_get(job, CT_FREED_NS, 0), 0);
    assert_false(stream_ended());
    screenshot("live.png");

    assert_true(pump_until(stream_ended));
    assert_int_equal(ct_trace_model_get_state(ct_window_get_model(window), job), CT_STATE_CANCELLED);
    assert_true(ct_context_item_get(job, CT_FREED_NS, 0) > ct_context_item_get(job, CT_CREATED_NS, 0));
}

static void test_every_request_made_while_followed_arrived(void **state)
{
    (void)state;
    g_autofree char *suffix = g_strdup_printf(" live_prog.c:%d", request_line);
    CtTraceModel *m = ct_window_get_model(window);
    CtSpans *spans = ct_trace_model_get_spans(m);
    int requests = 0, cancelled_with_reason = 0;
    for (guint i = 0; i < ct_spans_get_len(spans); i++) {
        CtContextItem *c = ct_trace_model_lookup(m, ct_spans_get(spans, i)->id);
        assert_non_null(c); /* live: every context pushed is an item */
        const char *site = ct_context_item_get_site(c);
        if (site == NULL || !g_str_has_suffix(site, suffix))
            continue;
        requests++;
        assert_true(ct_context_item_get(c, CT_FREED_NS, 0) > 0);
        if (g_strcmp0(ct_context_item_get_reason(c), "client went away") == 0)
            cancelled_with_reason++;
    }
    assert_int_equal(requests, ITERATIONS);
    assert_int_equal(cancelled_with_reason, ITERATIONS / 10);
    guint n = 0;
    ct_trace_model_get_samples(ct_window_get_model(window), &n);
    assert_true(n > 0);
}

static void test_the_window_says_the_process_exited_and_keeps_the_last_state(void **state)
{
    (void)state;
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CtLiveSource *live = ct_window_get_live_source(window);
    assert_true(g_str_has_prefix(ct_live_source_get_state_text(live), "the process exited"));
    const CtTraceMeta *m = ct_trace_model_get_meta(ct_window_get_model(window));
    assert_true(m->complete);
    assert_true(m->contexts >= 2 * ITERATIONS);
    /* The model still holds what it showed: the last state. */
    assert_non_null(find_at_line(job_line));
    assert_non_null(find_at_line(ineffective_line));
    settle(2);
    assert_non_null(strstr(gtk_window_get_title(GTK_WINDOW(window)), "live_prog"));
    /* The tree opened the program's top context when the snapshot arrived and shows
     * every request under it. */
    GListModel *rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
    assert_true(g_list_model_get_n_items(rows) >= ITERATIONS + 2);
    g_autoptr(GtkTreeListRow) background = g_list_model_get_item(rows, 0);
    assert_true(gtk_tree_list_row_get_expanded(background));
    screenshot("live-exited.png");
}

/* Watched until it exited, the tree's verdict on every context is the trace's: the same
 * contexts lost at exit as `ctxtrace report` (ct_reader_verdict, the exit check's
 * reachability included); the status line names what the check found. */
static void test_the_exit_check_judges_the_live_tree_as_the_trace(void **state)
{
    (void)state;
    const char *text = ct_live_source_get_state_text(ct_window_get_live_source(window));
    assert_non_null(strstr(text, "; exit check: "));
    assert_non_null(strstr(text, "blocked"));
    assert_non_null(strstr(text, "contexts unreachable"));
    g_autofree char *trace = g_build_filename(workdir, "live.db", NULL);
    char err[256];
    ct_reader *r = ct_reader_open(trace, err, sizeof err);
    assert_non_null(r);
    CtTraceModel *m = ct_window_get_model(window);
    CtSpans *spans = ct_trace_model_get_spans(m);
    guint compared = 0, lost_at_exit = 0;
    for (guint i = 0; i < ct_spans_get_len(spans); i++) {
        CtContextItem *c = ct_trace_model_lookup(m, ct_spans_get(spans, i)->id);
        struct ct_ctx_row row;
        if (c == NULL || ct_reader_context(r, ct_context_item_get_id(c), &row) != 1)
            continue; /* summarized in the trace: nothing to compare with */
        struct ct_verdict want = ct_reader_verdict(r, &row);
        struct ct_verdict got = ct_trace_model_verdict(m, ct_context_item_get_row(c));
        if (got.state != want.state || got.leak != want.leak)
            fprintf(stderr, "context %lld: live %d/%d, trace %d/%d\n", (long long)row.id,
                    got.state, got.leak, want.state, want.leak);
        assert_int_equal(got.state, want.state);
        assert_int_equal(got.leak, want.leak);
        compared++;
        lost_at_exit += want.leak == CT_LEAK_LOST_AT_EXIT;
        ct_ctx_row_clear(&row);
    }
    ct_reader_close(r);
    assert_true(compared >= 2 * ITERATIONS);
    assert_true(lost_at_exit >= 1); /* an overwritten handle, unreachable */
}

/* The share of the canvas's plot area, right of `from` (0..1 of its width), that the
 * screenshot `name` shows in colour (a bar or a density, not the greys of the
 * background, the stripes and the text). */
static double coloured_share(const char *name, double from)
{
    CtTimelineCanvas *canvas = ct_timeline_view_get_canvas(ct_window_get_timeline_view(window));
    graphene_rect_t r;
    assert_true(gtk_widget_compute_bounds(GTK_WIDGET(canvas), GTK_WIDGET(window), &r));
    g_autofree char *path = g_build_filename(shots, name, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) texture = gdk_texture_new_from_filename(path, &error);
    assert_non_null(texture);
    int w = gdk_texture_get_width(texture), h = gdk_texture_get_height(texture);
    g_autofree guchar *px = g_malloc((gsize)w * h * 4);
    gdk_texture_download(texture, px, (gsize)w * 4);
    /* The plot: right of the lane labels (270 px), below the axis (24 px). */
    int x0 = (int)(r.origin.x + 270 + from * (r.size.width - 270)), x1 = (int)(r.origin.x + r.size.width);
    int y0 = (int)(r.origin.y + 24), y1 = (int)(r.origin.y + r.size.height);
    guint coloured = 0, all = 0;
    for (int y = MAX(y0, 0); y < MIN(y1, h); y++)
        for (int x = MAX(x0, 0); x < MIN(x1, w); x++) {
            const guchar *p = px + (gsize)y * w * 4 + (gsize)x * 4; /* B G R A (cairo order) */
            int hi = MAX(MAX(p[0], p[1]), p[2]), lo = MIN(MIN(p[0], p[1]), p[2]);
            coloured += hi - lo > 60;
            all++;
        }
    return all ? (double)coloured / all : 0;
}

/* A look at the Timeline while the process runs (it fits the little there is so
 * far), then back to the Tree. */
static void test_the_timeline_glanced_at_while_live_shows_the_snapshot(void **state)
{
    (void)state;
    assert_true(ct_window_show_view(window, "timeline"));
    settle(3);
    CtTimelineCanvas *canvas = ct_timeline_view_get_canvas(ct_window_get_timeline_view(window));
    assert_non_null(ct_timeline_canvas_get_layout(canvas));
    assert_true(ct_window_show_view(window, "tree"));
    settle(2);
}

/* After the process exited, Tree straight to Timeline: the timeline shows the whole
 * run (from its first context to the end), painted — it once showed nothing, having
 * kept the few milliseconds it was first fitted to while the process ran. */
static void test_the_timeline_after_the_process_exited_shows_the_whole_run(void **state)
{
    (void)state;
    assert_string_equal(ct_window_get_view(window), "tree");
    assert_true(ct_window_show_view(window, "timeline"));
    settle(3);
    screenshot("live-exited-timeline.png");
    CtTraceModel *m = ct_window_get_model(window);
    const CtTraceMeta *meta = ct_trace_model_get_meta(m);
    gint64 first = 0, last = 0;
    ct_spans_get_extent(ct_trace_model_get_spans(m), meta->now_ns, &first, &last);
    double from = 0, to = 0;
    CtTimelineCanvas *canvas = ct_timeline_view_get_canvas(ct_window_get_timeline_view(window));
    ct_timeline_canvas_get_span(canvas, &from, &to);
    assert_true(from <= (double)(first - meta->start_ns));
    assert_true(to >= (double)(last - meta->start_ns));
    assert_true(last - first > (gint64)ITERATIONS * INTERVAL_US * 1000 / 2); /* the requests' time */
    /* Painted: bars and densities in the last third of the plot (the last requests,
     * the contexts still open at the exit). */
    assert_true(coloured_share("live-exited-timeline.png", 2.0 / 3) > 0.01);
}

/* ---- the start page ------------------------------------------------------------------ */

static char *picked;

static void connect_cb(CtStartPage *page, const char *socket, gpointer data)
{
    (void)page;
    (void)data;
    g_free(picked);
    picked = g_strdup(socket);
}

static GtkListBox *processes;
static char *wanted_socket;

static GtkListBoxRow *offered_row(void)
{
    for (GtkWidget *row = gtk_widget_get_first_child(GTK_WIDGET(processes)); row != NULL;
         row = gtk_widget_get_next_sibling(row))
        if (g_strcmp0(g_object_get_data(G_OBJECT(row), "ct-socket"), wanted_socket) == 0)
            return GTK_LIST_BOX_ROW(row);
    return NULL;
}

static gboolean offered(void)
{
    return offered_row() != NULL;
}

static void test_the_start_page_offers_running_processes(void **state)
{
    (void)state;
    /* A process serving at its default socket, in a socket directory of the test's
     * own (XDG_RUNTIME_DIR), which is where the start page looks. */
    g_autofree char *runtime = g_build_filename(workdir, "runtime", NULL);
    g_autofree char *trace = g_build_filename(workdir, "offered.db", NULL);
    g_unlink(trace);
    g_mkdir_with_parents(runtime, 0700);
    g_setenv("XDG_RUNTIME_DIR", runtime, TRUE);
    const char *args[] = {prog, "--wait-go", "0", "0", NULL};
    const char *env[] = {"CTXTRACE_OUTPUT", trace, "XDG_RUNTIME_DIR", runtime, NULL};
    int in = -1, out = -1;
    GPid other = start_prog(args, env, &in, &out);
    assert_true(other != 0);
    wanted_socket = g_strdup_printf("%s/ctxtrace/%d.sock", runtime, (int)other);

    CtStartPage *page = g_object_ref_sink(g_object_new(CT_TYPE_START_PAGE, NULL));
    g_signal_connect(page, "connect", G_CALLBACK(connect_cb), NULL);
    processes = ct_start_page_get_processes(page);
    assert_true(pump_until(offered));
    g_signal_emit_by_name(processes, "row-activated", offered_row());
    assert_string_equal(picked, wanted_socket);

    assert_int_equal(write(in, "go\n", 3), 3);
    int status = 0;
    assert_int_equal(waitpid(other, &status, 0), other);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(in);
    close(out);
    g_spawn_close_pid(other);
    g_object_unref(page);
    g_clear_pointer(&picked, g_free);
    g_clear_pointer(&wanted_socket, g_free);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--shim") == 0) shim = v;
        else if (strcmp(k, "--prog") == 0) prog = v;
        else if (strcmp(k, "--source") == 0) source = v;
        else if (strcmp(k, "--workdir") == 0) workdir = v;
        else if (strcmp(k, "--screenshots") == 0) shots = v;
    }
    if (!shim || !prog || !source || !workdir || !shots) {
        fprintf(stderr, "usage: test_live --shim LIB --prog LIVE_PROG --source live_prog.c "
                        "--workdir DIR --screenshots DIR\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_snapshot_shows_the_live_tree_with_its_sites),
        cmocka_unit_test(test_the_timeline_glanced_at_while_live_shows_the_snapshot),
        cmocka_unit_test(test_a_context_is_seen_live_then_cancelled_and_freed),
        cmocka_unit_test(test_every_request_made_while_followed_arrived),
        cmocka_unit_test(test_the_window_says_the_process_exited_and_keeps_the_last_state),
        cmocka_unit_test(test_the_exit_check_judges_the_live_tree_as_the_trace),
        cmocka_unit_test(test_the_timeline_after_the_process_exited_shows_the_whole_run),
        cmocka_unit_test(test_the_start_page_offers_running_processes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
