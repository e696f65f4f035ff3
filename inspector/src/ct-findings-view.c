/*
 * ct-findings-view.c — findings grouped by rule (see ct-findings-view.h).
 */
#include "ct-findings-view.h"

#include <string.h>

#include "ct-finding-item.h"
#include "ct-format.h"
#include "ct-resources.h"

struct _CtFindingsView {
    GtkBox parent_instance;
    GtkStack *pages;
    GtkLabel *status, *empty_description;
    GtkListView *list;

    CtTraceModel *model;
    GtkTreeListModel *tree;
    GtkSingleSelection *selection;
};

G_DEFINE_FINAL_TYPE(CtFindingsView, ct_findings_view, GTK_TYPE_BOX)

enum { SIGNAL_FINDING_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void setup_cb(GtkSignalListItemFactory *f, GtkListItem *li, CtFindingsView *self)
{
    (void)f;
    (void)self;
    GtkWidget *expander = gtk_tree_expander_new();
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_wrap(GTK_LABEL(label), TRUE);
    gtk_widget_set_margin_top(label, 4);
    gtk_widget_set_margin_bottom(label, 4);
    gtk_tree_expander_set_child(GTK_TREE_EXPANDER(expander), label);
    gtk_list_item_set_child(li, expander);
}

static void bind_cb(GtkSignalListItemFactory *f, GtkListItem *li, CtFindingsView *self)
{
    (void)f;
    (void)self;
    GtkTreeListRow *row = gtk_list_item_get_item(li);
    GtkTreeExpander *expander = GTK_TREE_EXPANDER(gtk_list_item_get_child(li));
    gtk_tree_expander_set_list_row(expander, row);
    GtkLabel *label = GTK_LABEL(gtk_tree_expander_get_child(expander));
    g_autoptr(CtFindingItem) item = gtk_tree_list_row_get_item(row);
    g_autofree char *count = ct_format_count(ct_finding_item_get_count(item));
    g_autofree char *markup = NULL;
    if (ct_finding_item_is_group(item)) {
        enum ct_rule rule = ct_finding_item_get_rule(item);
        guint sites = g_list_model_get_n_items(ct_finding_item_get_children(item));
        markup = g_markup_printf_escaped("<b>%s</b> — %s at %u site%s\n<small>%s</small>",
                                         ct_rule_name(rule), count, sites, sites == 1 ? "" : "s",
                                         ct_rule_summary(rule));
    } else {
        const struct ct_finding *fi = ct_finding_item_get_finding(item);
        const char *site = ct_format_site(fi->site.function, fi->site.file, fi->site.line,
                                          fi->site.module);
        const char *sp = strrchr(site, ' ');
        g_autofree char *function = sp ? g_strndup(site, sp - site) : g_strdup(site);
        markup = g_markup_printf_escaped("%s × <b>%s</b> %s\n<small>%s</small>", count, function,
                                         sp ? sp + 1 : "", fi->detail);
    }
    gtk_label_set_markup(label, markup);
}

static GListModel *create_children(gpointer item, gpointer data)
{
    (void)data;
    GListModel *children = ct_finding_item_get_children(CT_FINDING_ITEM(item));
    return children ? g_object_ref(children) : NULL;
}

static void selection_changed_cb(GtkSingleSelection *sel, guint pos, guint n, CtFindingsView *self)
{
    (void)pos;
    (void)n;
    GtkTreeListRow *row = gtk_single_selection_get_selected_item(sel);
    if (row == NULL)
        return;
    g_autoptr(CtFindingItem) item = gtk_tree_list_row_get_item(row);
    if (!ct_finding_item_is_group(item))
        g_signal_emit(self, signals[SIGNAL_FINDING_SELECTED], 0,
                      (gpointer)ct_finding_item_get_finding(item));
}

static void findings_changed_cb(CtTraceModel *model, CtFindingsView *self)
{
    const struct ct_findings *f = ct_trace_model_get_findings(model);
    if (f == NULL) {
        gtk_label_set_text(self->status, "Analysing…");
        gtk_stack_set_visible_child_name(self->pages, "list");
        return;
    }
    g_autofree char *contexts = ct_format_count(f->contexts);
    g_autofree char *empty = g_strdup_printf(
        "None of the %s contexts was found leaked, orphaned, left waiting or misused by the "
        "rules of <tt>ctxtrace report</tt>%s.", contexts, f->complete ? "" : " (the trace is incomplete)");
    gtk_label_set_markup(self->empty_description, empty);
    gtk_stack_set_visible_child_name(self->pages, f->len == 0 ? "empty" : "list");
    /* Live: what the process found as it ran (its site counts: ct-live-source.c). */
    const char *partial = f->complete                        ? ""
                          : ct_trace_model_get_live(model) ? " (found live, from the process's own counts)"
                                                           : " (the trace is incomplete)";
    g_autofree char *text = f->len == 0 ? g_strdup_printf("No findings in %s contexts%s.", contexts, partial)
                                        : g_strdup_printf("%zu finding%s in %s contexts%s", f->len,
                                                          f->len == 1 ? "" : "s", contexts, partial);
    gtk_label_set_text(self->status, text);
}

void ct_findings_view_set_model(CtFindingsView *self, CtTraceModel *model)
{
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_set_object(&self->model, model);
    g_clear_object(&self->tree);
    self->tree = gtk_tree_list_model_new(g_object_ref(ct_trace_model_get_finding_groups(model)),
                                         FALSE, TRUE, create_children, NULL, NULL);
    if (self->selection != NULL)
        g_signal_handlers_disconnect_by_data(self->selection, self);
    g_clear_object(&self->selection);
    self->selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->tree)));
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_selected(self->selection, GTK_INVALID_LIST_POSITION);
    g_signal_connect(self->selection, "selection-changed", G_CALLBACK(selection_changed_cb), self);
    gtk_list_view_set_model(self->list, GTK_SELECTION_MODEL(self->selection));
    g_signal_connect(model, "findings-changed", G_CALLBACK(findings_changed_cb), self);
    findings_changed_cb(model, self);
}

GListModel *ct_findings_view_get_rows(CtFindingsView *self)
{
    return self->tree ? G_LIST_MODEL(self->tree) : NULL;
}

void ct_findings_view_select(CtFindingsView *self, guint position)
{
    gtk_single_selection_set_selected(self->selection, position);
}

gboolean ct_findings_view_is_empty_shown(CtFindingsView *self)
{
    return g_strcmp0(gtk_stack_get_visible_child_name(self->pages), "empty") == 0;
}

void ct_findings_view_set_error(CtFindingsView *self, const char *message)
{
    g_autofree char *text = g_strdup_printf("Analysis failed: %s", message);
    gtk_label_set_text(self->status, text);
    gtk_stack_set_visible_child_name(self->pages, "list");
}

static void ct_findings_view_dispose(GObject *object)
{
    CtFindingsView *self = CT_FINDINGS_VIEW(object);
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    if (self->selection != NULL)
        g_signal_handlers_disconnect_by_data(self->selection, self);
    gtk_widget_dispose_template(GTK_WIDGET(object), CT_TYPE_FINDINGS_VIEW);
    g_clear_object(&self->selection);
    g_clear_object(&self->tree);
    g_clear_object(&self->model);
    G_OBJECT_CLASS(ct_findings_view_parent_class)->dispose(object);
}

static void ct_findings_view_class_init(CtFindingsViewClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_findings_view_dispose;
    signals[SIGNAL_FINDING_SELECTED] =
        g_signal_new("finding-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/ctxtrace/Inspector/ct-findings-view.ui");
    gtk_widget_class_bind_template_child(widget_class, CtFindingsView, pages);
    gtk_widget_class_bind_template_child(widget_class, CtFindingsView, status);
    gtk_widget_class_bind_template_child(widget_class, CtFindingsView, empty_description);
    gtk_widget_class_bind_template_child(widget_class, CtFindingsView, list);
    gtk_widget_class_bind_template_callback(widget_class, setup_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_cb);
}

static void ct_findings_view_init(CtFindingsView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
