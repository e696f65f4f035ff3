/*
 * ct-counts-view.h — the Counts view: live contexts, armed timers, blocked waiters and
 * threads over time, from the trace's periodic samples (the soak picture: a line that
 * keeps climbing is a leak).
 */
#ifndef CT_COUNTS_VIEW_H
#define CT_COUNTS_VIEW_H

#include <gtk/gtk.h>

#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_COUNTS_VIEW (ct_counts_view_get_type())
G_DECLARE_FINAL_TYPE(CtCountsView, ct_counts_view, CT, COUNTS_VIEW, GtkDrawingArea)

void ct_counts_view_set_model(CtCountsView *self, CtTraceModel *model);

G_END_DECLS

#endif /* CT_COUNTS_VIEW_H */
