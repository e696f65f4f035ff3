/*
 * ct-details-view.h — the Details pane: the selected context's facts (kind, state,
 * thread, times, deadline and timer, cancel cause, values) and its symbolized stacks:
 * where it was derived, where it was cancelled, where its owners let go. Activating
 * a frame copies its file:line to the clipboard.
 */
#ifndef CT_DETAILS_VIEW_H
#define CT_DETAILS_VIEW_H

#include <gtk/gtk.h>

#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_DETAILS_VIEW (ct_details_view_get_type())
G_DECLARE_FINAL_TYPE(CtDetailsView, ct_details_view, CT, DETAILS_VIEW, GtkBox)

void ct_details_view_set_model(CtDetailsView *self, CtTraceModel *model);
/* Show context id (0: nothing). */
void ct_details_view_show(CtDetailsView *self, gint64 id);
gint64 ct_details_view_get_shown(CtDetailsView *self);
/* The derivation stack as shown, one "function file:line" per line (for tests). */
char *ct_details_view_get_create_stack_text(CtDetailsView *self);
/* The facts shown above the stacks, as plain text (for tests). */
const char *ct_details_view_get_facts_text(CtDetailsView *self);

G_END_DECLS

#endif /* CT_DETAILS_VIEW_H */
