/*
 * ct-counts-view.h — the Counts view: contexts live, armed timers, blocked waiters,
 * threads and resident memory over time, each with a value axis in its unit, on one
 * time axis (the soak picture: a line that keeps climbing is a leak). The contexts are
 * counted from every lifespan, so that chart is exact from the start of the trace
 * however late the first sample came; the others are the periodic samples.
 */
#ifndef CT_COUNTS_VIEW_H
#define CT_COUNTS_VIEW_H

#include <gtk/gtk.h>

#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_COUNTS_VIEW (ct_counts_view_get_type())
G_DECLARE_FINAL_TYPE(CtCountsView, ct_counts_view, CT, COUNTS_VIEW, GtkWidget)

void ct_counts_view_set_model(CtCountsView *self, CtTraceModel *model);

G_END_DECLS

#endif /* CT_COUNTS_VIEW_H */
