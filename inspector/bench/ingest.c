/*
 * ingest.c — the inspector's live-path benchmark: how many context events a second the
 * model and the shown views absorb while the window keeps painting. Pushes synthetic
 * events (each context: created, then cancelled, then freed — three rows) through the
 * model's incremental calls, in slices between frames, into a live model shown in the
 * real window (tree of the one root expanded, timeline filling), and reports the rate
 * and the longest gap between two painted frames.
 *
 *   inspector_ingest [EVENTS]        (default 3,000,000)
 *
 * Run it under Xvfb like the tests (docs/inspector.md). A benchmark, not a test.
 */
#include <ctxtrace/tracer.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_window.h"

#define SLICE_US 8000 /* pushing per main-loop turn: half a 60 Hz frame */

static CtWindow *window;
static CtTraceModel *model;
static gint64 total, pushed, next_id = 3, t_start, last_frame, worst_gap;
static guint frames;
static int status = 1;

static void after_paint(void)
{
    gint64 now = g_get_monotonic_time();
    if (last_frame != 0 && pushed < total)
        worst_gap = MAX(worst_gap, now - last_frame);
    last_frame = now;
    frames++;
}

/* One event: the k-th of a context's three rows. */
static void push_event(void)
{
    gint64 n = pushed / 3, id = 3 + n, when = 1000 + pushed * 100;
    struct ct_ctx_row r = {.id = id};
    switch (pushed % 3) {
    case 0:
        ct_ctx_set(&r, CT_PARENT_ID, n % 1000 == 0 ? 1 : 3 + (n - n % 1000)); /* 1000-wide requests */
        ct_ctx_set(&r, CT_KIND, CTX_KIND_CANCEL);
        ct_ctx_set(&r, CT_CREATED_NS, when);
        break;
    case 1:
        ct_ctx_set(&r, CT_CANCELED_NS, when);
        ct_ctx_set(&r, CT_CANCEL_WHY, CTX_WHY_EXPLICIT);
        break;
    default:
        ct_ctx_set(&r, CT_FREED_NS, when);
        break;
    }
    ct_trace_model_apply_row(model, &r);
    pushed++;
    next_id = id + 1;
}

static gboolean push_slice(gpointer data)
{
    (void)data;
    gint64 until = g_get_monotonic_time() + SLICE_US;
    while (pushed < total && (pushed & 255 || g_get_monotonic_time() < until))
        push_event();
    if (pushed < total)
        return G_SOURCE_CONTINUE;
    ct_trace_model_flush(model);
    double secs = (g_get_monotonic_time() - t_start) / 1e6;
    GListModel *rows = ct_tree_view_get_rows(ct_window_get_tree_view(window));
    printf("%" G_GINT64_FORMAT " events (%" G_GINT64_FORMAT " contexts) in %.2f s: %.0f events/s; "
           "%u frames painted, longest gap between frames %.1f ms; tree rows %u\n",
           pushed, next_id - 3, secs, pushed / secs, frames, worst_gap / 1000.0,
           rows ? g_list_model_get_n_items(rows) : 0);
    status = 0;
    gtk_window_destroy(GTK_WINDOW(window));
    return G_SOURCE_REMOVE;
}

static void start(CtWindow *w)
{
    window = w;
    model = ct_trace_model_new(NULL);
    ct_trace_model_set_live(model, TRUE);
    CtTraceMeta meta = {.program = "ingest", .start_ns = 0, .contexts = -1};
    ct_trace_model_set_meta(model, &meta);
    struct ct_ctx_row bg = {.id = 1};
    ct_ctx_set(&bg, CT_KIND, CTX_KIND_BACKGROUND);
    ct_trace_model_apply_row(model, &bg);
    ct_trace_model_flush(model);
    ct_window_show_model(window, model);
    g_object_unref(model);
    t_start = g_get_monotonic_time();
    g_idle_add(push_slice, NULL);
}

int main(int argc, char **argv)
{
    total = argc > 1 ? atoll(argv[1]) : 3000000;
    if (total <= 0) {
        fprintf(stderr, "usage: inspector_ingest [EVENTS]\n");
        return 2;
    }
    bench_window_run("org.ctxtrace.InspectorIngest", start, after_paint);
    return status;
}
