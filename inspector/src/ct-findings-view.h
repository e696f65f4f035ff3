/*
 * ct-findings-view.h — the Findings view: the analysis' findings grouped by rule, or a
 * status page when there are none.
 * Selecting a finding emits "finding-selected" (gpointer: const struct ct_finding *),
 * which the window answers by revealing its first example context and its site.
 */
#ifndef CT_FINDINGS_VIEW_H
#define CT_FINDINGS_VIEW_H

#include <gtk/gtk.h>

#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_FINDINGS_VIEW (ct_findings_view_get_type())
G_DECLARE_FINAL_TYPE(CtFindingsView, ct_findings_view, CT, FINDINGS_VIEW, GtkBox)

void ct_findings_view_set_model(CtFindingsView *self, CtTraceModel *model);
/* The rows shown (GtkTreeListRow of CtFindingItem): groups and findings. */
GListModel *ct_findings_view_get_rows(CtFindingsView *self);
/* Select row `position` as the user would. */
void ct_findings_view_select(CtFindingsView *self, guint position);
/* Is the "no findings" status page shown? */
gboolean ct_findings_view_is_empty_shown(CtFindingsView *self);
/* Show that the analysis failed. */
void ct_findings_view_set_error(CtFindingsView *self, const char *message);

G_END_DECLS

#endif /* CT_FINDINGS_VIEW_H */
