/*
 * ct-timeline-view.h — the Timeline: each context's lifespan as a bar over time, one
 * lane per context, grouped by subtree (nested, so a cancellation is seen running down
 * a tree) or by creation site. Marked on the bars: deadlines (ticks), timer fires
 * (diamonds), explicit cancels (dots), and a line from a cancelled parent to each child
 * it cancelled. Leaked contexts are red.
 *
 * Zoom: Ctrl+scroll, + and -, 0 for the whole trace; pan: drag, Shift+scroll, Left and
 * Right; Up and Down move the selection. Signal "context-selected" (gint64 id).
 */
#ifndef CT_TIMELINE_VIEW_H
#define CT_TIMELINE_VIEW_H

#include <gtk/gtk.h>

#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_TIMELINE_VIEW (ct_timeline_view_get_type())
G_DECLARE_FINAL_TYPE(CtTimelineView, ct_timeline_view, CT, TIMELINE_VIEW, GtkBox)

void ct_timeline_view_set_model(CtTimelineView *self, CtTraceModel *model);
/* Highlight the context's lane (0: none), scrolling it into view. */
void ct_timeline_view_select(CtTimelineView *self, gint64 id);
/* Lanes laid out (group headers included) and the contexts among them: for tests. */
guint ct_timeline_view_get_n_lanes(CtTimelineView *self, guint *n_contexts);
/* Group lanes by creation site (TRUE) or by subtree. */
void ct_timeline_view_set_group_by_site(CtTimelineView *self, gboolean by_site);
/* The visible span, ns from the start of the trace. */
void ct_timeline_view_get_span(CtTimelineView *self, double *from_ns, double *to_ns);

G_END_DECLS

#endif /* CT_TIMELINE_VIEW_H */
