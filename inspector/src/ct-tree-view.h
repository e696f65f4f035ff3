/*
 * ct-tree-view.h — the Tree view: the context tree in a GtkColumnView over a
 * GtkTreeListModel of the model's lazy children lists (kind, state, creation site,
 * age, deadline countdown, children, findings badge), with search and filters.
 *
 * Signal "context-selected" (gint64 id): the user selected a context.
 */
#ifndef CT_TREE_VIEW_H
#define CT_TREE_VIEW_H

#include <gtk/gtk.h>

#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_TREE_VIEW (ct_tree_view_get_type())
G_DECLARE_FINAL_TYPE(CtTreeView, ct_tree_view, CT, TREE_VIEW, GtkBox)

void ct_tree_view_set_model(CtTreeView *self, CtTraceModel *model);
/* Expand the context's ancestors, select and scroll to it. FALSE if not found. */
gboolean ct_tree_view_reveal(CtTreeView *self, gint64 id);
/* The rows shown (GtkTreeListRow items): for tests and the benchmark. */
GListModel *ct_tree_view_get_rows(CtTreeView *self);
/* Set the filter controls (and so the model's filter). */
void ct_tree_view_set_filter(CtTreeView *self, const char *search, int kind, int state,
                             gboolean only_problems);

G_END_DECLS

#endif /* CT_TREE_VIEW_H */
