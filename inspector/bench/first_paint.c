/*
 * first_paint.c — the inspector's first-paint benchmark: how long from the start of
 * the process until the main window has painted a frame showing rows of the trace's
 * tree, and until the findings arrived from the background analysis.
 *
 *   inspector_first_paint FILE.db
 *
 * Prints the two times in milliseconds. A benchmark, not a test: run it on a
 * 1,000,000-context trace (docs/inspector.md says how to make one).
 */
#include <gtk/gtk.h>
#include <stdio.h>

#include "bench_window.h"

static gint64 t_start;
static const char *path;
static CtWindow *window;
static gboolean painted;
static gboolean analysed;
static int status = 1;

static void finish_when_both(void)
{
    if (painted && analysed)
        gtk_window_destroy(GTK_WINDOW(window));
}

static void after_paint(void)
{
    GListModel *rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
    if (painted || rows == NULL || g_list_model_get_n_items(rows) == 0)
        return;
    painted = TRUE;
    printf("first paint with %u rows: %.1f ms\n", g_list_model_get_n_items(rows),
           (g_get_monotonic_time() - t_start) / 1000.0);
    fflush(stdout);
    finish_when_both();
}

static void analysis_done_cb(CtWindow *w, gpointer data)
{
    (void)data;
    const struct ct_findings *f = ct_trace_model_get_findings(ct_window_get_model(w));
    printf("findings (%zu) shown: %.1f ms\n", f ? f->len : 0,
           (g_get_monotonic_time() - t_start) / 1000.0);
    analysed = TRUE;
    status = f != NULL ? 0 : 1;
    finish_when_both();
}

static void start(CtWindow *w)
{
    window = w;
    g_signal_connect(window, "analysis-done", G_CALLBACK(analysis_done_cb), NULL);
    g_autoptr(GError) error = NULL;
    if (!ct_window_open(window, path, &error)) {
        fprintf(stderr, "inspector_first_paint: %s\n", error->message);
        status = 2;
        /* After it is shown: the window is presented when start returns. */
        g_idle_add_once((GSourceOnceFunc)(void (*)(void))gtk_window_destroy, window);
    }
}

int main(int argc, char **argv)
{
    t_start = g_get_monotonic_time();
    if (argc != 2) {
        fprintf(stderr, "usage: inspector_first_paint FILE.db\n");
        return 2;
    }
    path = argv[1];
    bench_window_run("org.ctxtrace.InspectorFirstPaint", start, after_paint);
    return status;
}
