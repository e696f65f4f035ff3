/*
 * window_test.h — what the window tests (test_gui.c, test_live.c) share: letting a real
 * window lay out and paint, and writing a screenshot that must be a real picture.
 * Include after cmocka.h and gtk/gtk.h.
 */
#ifndef CTXTRACE_INSPECTOR_WINDOW_TEST_H
#define CTXTRACE_INSPECTOR_WINDOW_TEST_H

#include "ct-screenshot.h"

static inline gboolean window_test_tick_cb(GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
    (void)w;
    (void)clock;
    (*(int *)data)--;
    return *(int *)data > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Let `window` lay out and paint `frames` frames (10 s at most: then fail). */
static inline void window_test_settle(GtkWidget *window, int frames)
{
    int left = frames;
    gtk_widget_queue_draw(window);
    gtk_widget_add_tick_callback(window, window_test_tick_cb, &left, NULL);
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (left > 0 && g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, TRUE);
    assert_int_equal(left, 0);
}

/* Paint, then write `window` to dir/name as a PNG and check it is a real picture. */
static inline void window_test_screenshot(GtkWidget *window, const char *dir, const char *name)
{
    window_test_settle(window, 3);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autoptr(GError) error = NULL;
    assert_true(ct_screenshot_save(window, path, &error));
    g_autofree char *png = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(path, &png, &len, NULL));
    assert_true(len > 10000); /* a real picture, not an empty frame */
    assert_memory_equal(png, "\x89PNG", 4);
}

#endif /* CTXTRACE_INSPECTOR_WINDOW_TEST_H */
