/*
 * ct-timeline-canvas.h — the Timeline's drawing: lanes (by site or by thread) over a
 * time axis, each lane either individual lifespans as bars or, where too many overlap,
 * a density — contexts live per pixel column, stacked by state (CtTimelineLayout
 * decides). Cancellations that ran from a parent to its children are drawn as lines
 * between their bars. Drawn with GtkSnapshot nodes and Pango layouts only: nothing is
 * ever larger than the visible widget, whatever the number of contexts or lanes.
 *
 * Input: Ctrl+scroll, + and − zoom at the pointer; 0 fits the data's extent; drag,
 * Shift+scroll, ← and → pan; scroll moves through the lanes; a click on a bar selects
 * its context ("context-selected", gint64 id), on a density zooms in around it;
 * ↑ and ↓ select the previous and next context of the selected one's lane.
 *
 * The vertical position is a GtkAdjustment (ct_timeline_canvas_get_vadjustment) for
 * a scrollbar beside it.
 */
#ifndef CT_TIMELINE_CANVAS_H
#define CT_TIMELINE_CANVAS_H

#include <gtk/gtk.h>

#include "ct-timeline-layout.h"
#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_TIMELINE_CANVAS (ct_timeline_canvas_get_type())
G_DECLARE_FINAL_TYPE(CtTimelineCanvas, ct_timeline_canvas, CT, TIMELINE_CANVAS, GtkWidget)

GtkWidget *ct_timeline_canvas_new(void);
void ct_timeline_canvas_set_model(CtTimelineCanvas *self, CtTraceModel *model);
void ct_timeline_canvas_set_grouping(CtTimelineCanvas *self, CtLaneGrouping grouping);
/* Show only the lane labelled `site` (NULL: all lanes). */
void ct_timeline_canvas_set_site(CtTimelineCanvas *self, const char *site);
/* Is lane i shown (not filtered out)? */
gboolean ct_timeline_canvas_lane_shown(CtTimelineCanvas *self, guint i);
/* The colours of the four states (CtState order), from the theme. */
void ct_timeline_canvas_set_palette(CtTimelineCanvas *self, const GdkRGBA colors[4]);
GtkAdjustment *ct_timeline_canvas_get_vadjustment(CtTimelineCanvas *self);

void ct_timeline_canvas_zoom(CtTimelineCanvas *self, double factor);
/* Zoom to the data: from the first context created to the last one's end. Until the
 * next zoom, pan or selection the view then follows the data as it grows (live). */
void ct_timeline_canvas_zoom_fit(CtTimelineCanvas *self);
/* Select a context (0: none): zoomed to so that it is drawn as a bar, its lane
 * scrolled into view. */
void ct_timeline_canvas_select(CtTimelineCanvas *self, gint64 id);

/* The layout as last drawn (NULL before the first draw or without data): for the view
 * and tests. */
CtTimelineLayout *ct_timeline_canvas_get_layout(CtTimelineCanvas *self);
/* The visible window, ns from the start of the trace. */
void ct_timeline_canvas_get_span(CtTimelineCanvas *self, double *from_ns, double *to_ns);
/* Is context id drawn as a bar in the last layout? */
gboolean ct_timeline_canvas_shows_bar(CtTimelineCanvas *self, gint64 id);

G_END_DECLS

#endif /* CT_TIMELINE_CANVAS_H */
