/*
 * bench_window.c — the benchmarks' application and window (see bench_window.h).
 */
#include "bench_window.h"

static void (*start_fn)(CtWindow *);
static void (*after_paint_fn)(void);

static void after_paint_cb(GdkFrameClock *clock, gpointer data)
{
    (void)clock;
    (void)data;
    after_paint_fn();
}

static void realize_cb(GtkWidget *w, gpointer data)
{
    (void)data;
    g_signal_connect(gtk_widget_get_frame_clock(w), "after-paint", G_CALLBACK(after_paint_cb), NULL);
}

static void activate_cb(GtkApplication *app, gpointer data)
{
    (void)data;
    CtWindow *window = ct_window_new(app);
    g_signal_connect(window, "realize", G_CALLBACK(realize_cb), NULL);
    start_fn(window);
    gtk_window_present(GTK_WINDOW(window));
}

void bench_window_run(const char *app_id, void (*start)(CtWindow *window), void (*after_paint)(void))
{
    start_fn = start;
    after_paint_fn = after_paint;
    GtkApplication *app = gtk_application_new(app_id, G_APPLICATION_NON_UNIQUE);
    g_signal_connect(app, "activate", G_CALLBACK(activate_cb), NULL);
    char *args[] = {"bench", NULL};
    g_application_run(G_APPLICATION(app), 1, args);
    g_object_unref(app);
}
