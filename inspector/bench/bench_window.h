/*
 * bench_window.h — what the inspector's benchmarks share: a GtkApplication showing one
 * CtWindow, with a hook after every painted frame.
 */
#ifndef BENCH_WINDOW_H
#define BENCH_WINDOW_H

#include "ct-window.h"

/* Run an application whose one window `start` fills (called after the window is made,
 * before it is shown); `after_paint` runs after each frame it paints. Returns when the
 * window is closed. */
void bench_window_run(const char *app_id, void (*start)(CtWindow *window), void (*after_paint)(void));

#endif /* BENCH_WINDOW_H */
