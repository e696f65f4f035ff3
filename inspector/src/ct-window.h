/*
 * ct-window.h — the main window: header bar (open, the view switcher, the program),
 * the start page or the views of an open trace — Tree, Timeline, Counts, Findings,
 * Sites, and the Details of the selected context beside them — kept in step: a
 * context selected in one view is selected in the others, a site selected in Sites
 * filters the tree and the timeline.
 *
 * Signal "analysis-done": what a trace file's views read in the background arrived —
 * the findings (or the analysis failed) and every context's lifespan (the timeline).
 */
#ifndef CT_WINDOW_H
#define CT_WINDOW_H

#include <gtk/gtk.h>

#include "ct-counts-view.h"
#include "ct-details-view.h"
#include "ct-findings-view.h"
#include "ct-live-source.h"
#include "ct-sites-view.h"
#include "ct-timeline-view.h"
#include "ct-trace-model.h"
#include "ct-tree-view.h"

G_BEGIN_DECLS

#define CT_TYPE_WINDOW (ct_window_get_type())
G_DECLARE_FINAL_TYPE(CtWindow, ct_window, CT, WINDOW, GtkApplicationWindow)

CtWindow *ct_window_new(GtkApplication *app);
/* Open a trace file: the first screen is read now, the analysis runs in the
 * background. FALSE with a one-line error if it is not a readable trace. */
gboolean ct_window_open(CtWindow *self, const char *path, GError **error);
/* Show a model some other source fills (a live source pushing into it): the views
 * follow its incremental updates; the status line follows its meta. */
void ct_window_show_model(CtWindow *self, CtTraceModel *model);
/* Follow a running traced process: connect to target (a PID or a socket path) and
 * show its live stream. FALSE with a one-line error if nothing can be connected to. */
gboolean ct_window_connect(CtWindow *self, const char *target, GError **error);
/* Follow an already connected live source. */
void ct_window_follow(CtWindow *self, CtLiveSource *live);
/* The live source followed, or NULL (a trace file, or nothing open). */
CtLiveSource *ct_window_get_live_source(CtWindow *self);
CtTraceModel *ct_window_get_model(CtWindow *self);
gboolean ct_window_is_analysed(CtWindow *self);
/* Show a view: "tree", "timeline", "counts", "findings" or "sites". FALSE if unknown. */
gboolean ct_window_show_view(CtWindow *self, const char *name);
/* Keep the files opened out of the recent files (a --screenshot run leaves no trace). */
void ct_window_set_forget_files(CtWindow *self, gboolean forget);
/* The header bar's primary menu (Open, Keyboard Shortcuts, About). */
GMenuModel *ct_window_get_primary_menu(CtWindow *self);
/* The view shown ("tree", "timeline", "counts", "findings"). */
const char *ct_window_get_view(CtWindow *self);
/* Select a context everywhere (tree, timeline, details). */
void ct_window_select_context(CtWindow *self, gint64 id);

CtTreeView *ct_window_get_tree_view(CtWindow *self);
CtTimelineView *ct_window_get_timeline_view(CtWindow *self);
CtFindingsView *ct_window_get_findings_view(CtWindow *self);
CtDetailsView *ct_window_get_details_view(CtWindow *self);
CtSitesView *ct_window_get_sites_view(CtWindow *self);

G_END_DECLS

#endif /* CT_WINDOW_H */
