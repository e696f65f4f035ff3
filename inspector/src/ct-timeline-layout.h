/*
 * ct-timeline-layout.h — what the timeline draws, at the level of detail the zoom
 * allows: the spans of a CtSpans grouped into lanes (one per creation site, or one per
 * creating thread), and for the visible time window, per lane, either
 *  - individual bars, packed into a few rows, when few enough of the lane's contexts
 *    are in the window (CT_LAYOUT_DETAIL_MAX) and they fit CT_LAYOUT_MAX_ROWS rows, or
 *  - a density: per pixel column, how many of the lane's contexts were live during
 *    that column, by state (a stacked area), however many there are.
 * One pass over the spans per window change (pan, zoom, resize, new data): O(spans +
 * dense lanes × columns) — no per-context objects, so a 1,000,000-context trace is
 * laid out in milliseconds.
 *
 * No GTK: the layout is plain data, tested without a display.
 */
#ifndef CT_TIMELINE_LAYOUT_H
#define CT_TIMELINE_LAYOUT_H

#include <glib.h>

#include "ct-spans.h"

G_BEGIN_DECLS

enum {
    CT_LAYOUT_DETAIL_MAX = 400, /* at most this many bars in one lane */
    CT_LAYOUT_MAX_ROWS = 24,    /* packed into at most this many rows */
    CT_LAYOUT_N_STATES = 4,     /* CtState values */
};

typedef enum { CT_LANES_BY_SITE, CT_LANES_BY_THREAD } CtLaneGrouping;

/* A bar: span index in the CtSpans, and the row it was packed into. */
typedef struct {
    guint span;
    guint row;
} CtBar;

typedef struct {
    char *label;       /* "function file:line", or "thread N" */
    guint key;         /* the first slot mapped to it (a stack or thread slot) */
    guint n_spans;     /* the lane's contexts, in the whole trace */
    guint n_leaked;    /* of which leaked */
    /* The current window (ct_timeline_layout_update): */
    guint n_visible;   /* contexts overlapping the window */
    gboolean detail;   /* bars (else the density) */
    guint rows;        /* detail: rows used */
    guint peak;        /* density: the most contexts live in one column */
    guint *live;       /* density: live[state * columns + c]; NULL in detail */
    GArray *bars;      /* detail: CtBar, in creation order */
} CtLane;

typedef struct _CtTimelineLayout CtTimelineLayout;

/* A label for a lane: the site of a stack slot, or the name of a thread slot. The
 * returned string is copied. NULL: "(unknown site)". */
typedef const char *(*CtLaneLabelFunc)(CtSpans *spans, guint32 slot, gpointer data);

/* Lanes for the spans, grouped by site (slots whose label is the same string share a
 * lane) or by thread. By site: lanes with leaked contexts first, then by size; by
 * thread: in the order the threads were first seen. */
CtTimelineLayout *ct_timeline_layout_new(CtSpans *spans, CtLaneGrouping grouping,
                                         CtLaneLabelFunc label, gpointer data);
void ct_timeline_layout_free(CtTimelineLayout *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtTimelineLayout, ct_timeline_layout_free)

/* Lay out the window of `columns` pixel columns from t0_ns (absolute, as the spans),
 * ns_per_px each; spans still live end at now_ns. */
void ct_timeline_layout_update(CtTimelineLayout *self, double t0_ns, double ns_per_px,
                               int columns, gint64 now_ns);

guint ct_timeline_layout_get_n_lanes(CtTimelineLayout *self);
CtLane *ct_timeline_layout_get_lane(CtTimelineLayout *self, guint i);
/* The lane of a span. */
guint ct_timeline_layout_lane_of(CtTimelineLayout *self, const CtSpan *span);

G_END_DECLS

#endif /* CT_TIMELINE_LAYOUT_H */
