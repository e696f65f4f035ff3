/*
 * ct-sites-view.h — the Sites view: per creation site, how many contexts were created
 * there, how many were still live at the end, how they ended (cancelled, deadline,
 * leaked by the core's verdict), how many a finding covers, and their lifetimes
 * (median, p99, longest, a histogram by decade); sortable by any column. The main view
 * for a large trace: a million contexts are a handful of rows. In a summary-retention
 * trace a site's numbers include the contexts folded into its aggregates, and the
 * Created column says how many of them were ("60,000 (59,967 summarized)"): the numbers
 * are those `ctxtrace report --profile` prints for the site (ct-site-item.h).
 *
 * Selecting a site emits "site-selected" (const char *site, NULL: none), which the
 * window answers by filtering the tree and the timeline to it.
 */
#ifndef CT_SITES_VIEW_H
#define CT_SITES_VIEW_H

#include <gtk/gtk.h>

#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_SITES_VIEW (ct_sites_view_get_type())
G_DECLARE_FINAL_TYPE(CtSitesView, ct_sites_view, CT, SITES_VIEW, GtkBox)

void ct_sites_view_set_model(CtSitesView *self, CtTraceModel *model);
/* The line above the rows: how many contexts at how many sites (and what it leaves
 * out). */
const char *ct_sites_view_get_status(CtSitesView *self);
/* The rows as shown (sorted): CtSiteItem. */
GListModel *ct_sites_view_get_rows(CtSitesView *self);
/* Select row `position` as the user would (GTK_INVALID_LIST_POSITION: none). */
void ct_sites_view_select(CtSitesView *self, guint position);
/* Sort by the column titled `title`, descending or not (as a click on its header). */
void ct_sites_view_sort_by(CtSitesView *self, const char *title, gboolean descending);

G_END_DECLS

#endif /* CT_SITES_VIEW_H */
