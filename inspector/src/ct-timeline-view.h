/*
 * ct-timeline-view.h — the Timeline: every context's lifespan over time, in lanes by
 * creation site or by creating thread, at the level of detail the zoom allows —
 * individual bars where few enough overlap, else how many were live at each moment,
 * stacked by state (CtTimelineCanvas draws; CtTimelineLayout decides). A toolbar for
 * the grouping and the zoom, and a legend whose colours are the theme's.
 *
 * Signal "context-selected" (gint64 id): a bar was clicked or stepped to.
 */
#ifndef CT_TIMELINE_VIEW_H
#define CT_TIMELINE_VIEW_H

#include <gtk/gtk.h>

#include "ct-timeline-canvas.h"
#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_TIMELINE_VIEW (ct_timeline_view_get_type())
G_DECLARE_FINAL_TYPE(CtTimelineView, ct_timeline_view, CT, TIMELINE_VIEW, GtkBox)

void ct_timeline_view_set_model(CtTimelineView *self, CtTraceModel *model);
/* Select a context (0: none): zoomed to and drawn as a bar, its lane in view. */
void ct_timeline_view_select(CtTimelineView *self, gint64 id);
void ct_timeline_view_set_grouping(CtTimelineView *self, CtLaneGrouping grouping);
/* Show only the lane of this creation site (NULL: every lane). */
void ct_timeline_view_set_site(CtTimelineView *self, const char *site);
/* The drawing (for tests: its layout, what it shows). */
CtTimelineCanvas *ct_timeline_view_get_canvas(CtTimelineView *self);
/* The toolbar's summary ("N contexts in M lanes"). */
const char *ct_timeline_view_get_info(CtTimelineView *self);

G_END_DECLS

#endif /* CT_TIMELINE_VIEW_H */
