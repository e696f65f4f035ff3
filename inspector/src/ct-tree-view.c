/*
 * ct-tree-view.c — the context tree (see ct-tree-view.h).
 *
 * Cells are bound to the shared CtContextItem and follow its "changed" signal while
 * bound, so a live update or the findings' arrival repaints exactly the visible cells.
 */
#include "ct-tree-view.h"

#include <string.h>

#include <ctxtrace/tracer.h>

#include "ct-child-list.h"
#include "ct-format.h"
#include "ct-resources.h"

struct _CtTreeView {
    GtkBox parent_instance;
    GtkSearchEntry *search;
    GtkDropDown *kind;
    GtkDropDown *state;
    GtkToggleButton *problems;
    GtkColumnView *columns;

    CtTraceModel *model;
    GtkTreeListModel *tree;
    GtkSingleSelection *selection;
    gboolean revealing; /* selection changes made by reveal are not the user's */
};

G_DEFINE_FINAL_TYPE(CtTreeView, ct_tree_view, GTK_TYPE_BOX)

enum { SIGNAL_CONTEXT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

typedef void (*FillFunc)(CtTreeView *self, CtContextItem *item, GtkLabel *label);

/* What a bound cell needs to repaint itself when its item changes. */
typedef struct {
    CtTreeView *self;
    GtkLabel *label;
    FillFunc fill;
} Binding;

static void item_changed_cb(CtContextItem *item, gpointer data)
{
    Binding *b = data;
    b->fill(b->self, item, b->label);
}

static void binding_free(gpointer data, GClosure *closure)
{
    (void)closure;
    g_free(data);
}

static GtkLabel *cell_label(GtkListItem *li)
{
    GtkWidget *child = gtk_list_item_get_child(li);
    if (GTK_IS_TREE_EXPANDER(child))
        child = gtk_tree_expander_get_child(GTK_TREE_EXPANDER(child));
    return GTK_LABEL(child);
}

static void bind_with(CtTreeView *self, GtkListItem *li, FillFunc fill)
{
    GtkTreeListRow *row = gtk_list_item_get_item(li);
    g_autoptr(CtContextItem) item = gtk_tree_list_row_get_item(row);
    GtkLabel *label = cell_label(li);
    fill(self, item, label);
    Binding *b = g_new(Binding, 1);
    *b = (Binding){self, label, fill};
    gulong id = g_signal_connect_data(item, "changed", G_CALLBACK(item_changed_cb), b,
                                      binding_free, 0);
    g_object_set_data_full(G_OBJECT(li), "ct-item", g_object_ref(item), g_object_unref);
    g_object_set_data(G_OBJECT(li), "ct-handler", GSIZE_TO_POINTER(id));
}

static void unbind_cb(GtkSignalListItemFactory *f, GtkListItem *li, CtTreeView *self)
{
    (void)f;
    (void)self;
    CtContextItem *item = g_object_get_data(G_OBJECT(li), "ct-item");
    gulong id = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(li), "ct-handler"));
    if (item != NULL && id != 0)
        g_signal_handler_disconnect(item, id);
    g_object_set_data(G_OBJECT(li), "ct-handler", NULL);
    g_object_set_data(G_OBJECT(li), "ct-item", NULL);
}

static void setup_label_cb(GtkSignalListItemFactory *f, GtkListItem *li, CtTreeView *self)
{
    (void)f;
    (void)self;
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_MIDDLE);
    gtk_list_item_set_child(li, label);
}

static void setup_number_cb(GtkSignalListItemFactory *f, GtkListItem *li, CtTreeView *self)
{
    setup_label_cb(f, li, self);
    GtkLabel *label = GTK_LABEL(gtk_list_item_get_child(li));
    gtk_label_set_xalign(label, 1);
    gtk_widget_add_css_class(GTK_WIDGET(label), "numeric");
}

static void setup_expander_cb(GtkSignalListItemFactory *f, GtkListItem *li, CtTreeView *self)
{
    (void)f;
    (void)self;
    GtkWidget *expander = gtk_tree_expander_new();
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_tree_expander_set_child(GTK_TREE_EXPANDER(expander), label);
    gtk_list_item_set_child(li, expander);
}

/* ---- the columns ------------------------------------------------------------------- */

static void fill_kind(CtTreeView *self, CtContextItem *item, GtkLabel *label)
{
    (void)self;
    g_autofree char *text = g_strdup_printf("%s  #%" G_GINT64_FORMAT,
                                            ct_context_item_get_kind_name(item),
                                            ct_context_item_get_id(item));
    gtk_label_set_text(label, text);
}

static void fill_state(CtTreeView *self, CtContextItem *item, GtkLabel *label)
{
    CtState s = ct_trace_model_get_state(self->model, item);
    gtk_label_set_text(label, ct_state_name(s));
    GtkWidget *w = GTK_WIDGET(label);
    /* The state colours of inspector.css, as the timeline's. */
    static const char *const classes[] = {"ct-live", "ct-cancelled", "ct-deadline", "ct-leaked"};
    for (guint i = 0; i < G_N_ELEMENTS(classes); i++)
        if (i == (guint)s)
            gtk_widget_add_css_class(w, classes[i]);
        else
            gtk_widget_remove_css_class(w, classes[i]);
}

/* "file:line  function": where to look first, the function after it (dimmed) — cut at
 * the end when narrow, so the location stays whole; the full site as a tooltip. */
static void fill_site(CtTreeView *self, CtContextItem *item, GtkLabel *label)
{
    (void)self;
    const char *site = ct_context_item_get_site(item);
    /* Sites are interned: the same pointer is the same text. Setting a tooltip (even
     * the same one) makes GTK ask the X server where the pointer is — a round trip per
     * refill, most of a live burst's main-loop time before this check. */
    static GQuark shown;
    static const char no_site[] = ""; /* shown: no site (NULL: never filled) */
    if (shown == 0)
        shown = g_quark_from_static_string("ct-site-shown");
    const char *key = site != NULL ? site : no_site;
    if (g_object_get_qdata(G_OBJECT(label), shown) == key)
        return;
    g_object_set_qdata(G_OBJECT(label), shown, (gpointer)key);
    const char *sp = site ? strrchr(site, ' ') : NULL;
    if (sp == NULL) {
        gtk_label_set_text(label, site ? site : "");
        gtk_widget_set_tooltip_text(GTK_WIDGET(label), NULL);
        return;
    }
    g_autofree char *function = g_strndup(site, sp - site);
    g_autofree char *markup = g_markup_printf_escaped("%s  <span alpha=\"60%%\">%s</span>", sp + 1, function);
    gtk_label_set_markup(label, markup);
    gtk_label_set_ellipsize(label, PANGO_ELLIPSIZE_END);
    gtk_widget_set_tooltip_text(GTK_WIDGET(label), site);
}

static void fill_age(CtTreeView *self, CtContextItem *item, GtkLabel *label)
{
    gint64 created = ct_context_item_get(item, CT_CREATED_NS, 0);
    if (created == 0) {
        gtk_label_set_text(label, "");
        return;
    }
    gint64 end = ct_context_item_get_end_ns(item);
    if (end == 0)
        end = ct_trace_model_get_meta(self->model)->now_ns;
    g_autofree char *text = ct_format_duration(end - created);
    gtk_label_set_text(label, text);
}

/* Time left until the deadline at the end of the trace (or now, live); what became
 * of it once the context is done. */
static void fill_deadline(CtTreeView *self, CtContextItem *item, GtkLabel *label)
{
    gint64 deadline = ct_context_item_get(item, CT_DEADLINE_NS, 0);
    if (deadline == 0) {
        gtk_label_set_text(label, "");
        return;
    }
    if (ct_context_item_get(item, CT_TIMER_FIRED_NS, 0) != 0) {
        gtk_label_set_text(label, "fired");
        return;
    }
    gint64 canceled = ct_context_item_get(item, CT_CANCELED_NS, 0);
    gint64 at = canceled ? canceled : ct_trace_model_get_meta(self->model)->now_ns;
    g_autofree char *left = ct_format_duration(deadline - at);
    g_autofree char *text = canceled ? g_strdup_printf("(%s left)", left) : g_strdup(left);
    gtk_label_set_text(label, text);
}

static void fill_children(CtTreeView *self, CtContextItem *item, GtkLabel *label)
{
    (void)self;
    gint64 n = ct_context_item_get_n_children(item);
    g_autofree char *text = n > 0 ? ct_format_count(n) : g_strdup("");
    gtk_label_set_text(label, text);
}

static void fill_findings(CtTreeView *self, CtContextItem *item, GtkLabel *label)
{
    (void)self;
    guint n = ct_context_item_get_n_findings(item);
    g_autofree char *text = n > 0 ? g_strdup_printf("⚠ %u", n) : g_strdup("");
    gtk_label_set_text(label, text);
    if (n > 0)
        gtk_widget_add_css_class(GTK_WIDGET(label), "warning");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(label), "warning");
}

static void bind_kind_cb(GtkSignalListItemFactory *f, GtkListItem *li, CtTreeView *self)
{
    (void)f;
    gtk_tree_expander_set_list_row(GTK_TREE_EXPANDER(gtk_list_item_get_child(li)),
                                   gtk_list_item_get_item(li));
    bind_with(self, li, fill_kind);
}

#define BIND(name)                                                                         \
    static void bind_##name##_cb(GtkSignalListItemFactory *f, GtkListItem *li,             \
                                 CtTreeView *self)                                         \
    {                                                                                      \
        (void)f;                                                                           \
        bind_with(self, li, fill_##name);                                                  \
    }
BIND(state)
BIND(site)
BIND(age)
BIND(deadline)
BIND(children)
BIND(findings)

/* ---- model, selection, filters --------------------------------------------------------- */

static GListModel *create_children(gpointer item, gpointer data)
{
    return ct_trace_model_get_children(CT_TRACE_MODEL(data), CT_CONTEXT_ITEM(item));
}

static void selection_changed_cb(GtkSingleSelection *sel, guint pos, guint n, CtTreeView *self)
{
    (void)pos;
    (void)n;
    if (self->revealing)
        return;
    GtkTreeListRow *row = gtk_single_selection_get_selected_item(sel);
    if (row == NULL)
        return;
    g_autoptr(CtContextItem) item = gtk_tree_list_row_get_item(row);
    g_signal_emit(self, signals[SIGNAL_CONTEXT_SELECTED], 0, ct_context_item_get_id(item));
}

/* New roots (a new model or filter): a new tree over them, the first root opened. */
static void roots_changed_cb(CtTraceModel *model, CtTreeView *self)
{
    g_clear_object(&self->tree);
    self->tree = gtk_tree_list_model_new(g_object_ref(ct_trace_model_get_roots(model)), FALSE,
                                         FALSE, create_children, model, NULL);
    if (self->selection != NULL)
        g_signal_handlers_disconnect_by_data(self->selection, self);
    g_clear_object(&self->selection);
    self->selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->tree)));
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_can_unselect(self->selection, TRUE);
    gtk_single_selection_set_selected(self->selection, GTK_INVALID_LIST_POSITION);
    g_signal_connect(self->selection, "selection-changed", G_CALLBACK(selection_changed_cb), self);
    gtk_column_view_set_model(self->columns, GTK_SELECTION_MODEL(self->selection));
    if (!ct_query_is_filter(ct_trace_model_get_filter(model))) {
        /* Open the roots that have children: background (and todo) hold the program;
         * and a root's only child too (a program's one top context, as here). */
        guint n = g_list_model_get_n_items(ct_trace_model_get_roots(model));
        for (guint i = n; i-- > 0;) {
            g_autoptr(GtkTreeListRow) row = gtk_tree_list_model_get_child_row(self->tree, i);
            if (row == NULL || !gtk_tree_list_row_is_expandable(row))
                continue;
            gtk_tree_list_row_set_expanded(row, TRUE);
            GListModel *children = gtk_tree_list_row_get_children(row);
            if (children != NULL && g_list_model_get_n_items(children) == 1) {
                g_autoptr(GtkTreeListRow) only = gtk_tree_list_row_get_child_row(row, 0);
                if (only != NULL && gtk_tree_list_row_is_expandable(only))
                    gtk_tree_list_row_set_expanded(only, TRUE);
            }
        }
    }
}

static void filters_changed_cb(CtTreeView *self)
{
    if (self->model == NULL)
        return;
    CtQuery q = {
        .search = (char *)gtk_editable_get_text(GTK_EDITABLE(self->search)),
        .kind = (int)gtk_drop_down_get_selected(self->kind) - 1,
        .state = (int)gtk_drop_down_get_selected(self->state) - 1,
        .only_problems = gtk_toggle_button_get_active(self->problems),
    };
    ct_trace_model_set_filter(self->model, &q);
}

void ct_tree_view_set_filter(CtTreeView *self, const char *search, int kind, int state,
                             gboolean only_problems)
{
    /* One filter change, not four: block the controls' handlers while setting them. */
    g_signal_handlers_block_by_func(self->search, filters_changed_cb, self);
    g_signal_handlers_block_by_func(self->kind, filters_changed_cb, self);
    g_signal_handlers_block_by_func(self->state, filters_changed_cb, self);
    g_signal_handlers_block_by_func(self->problems, filters_changed_cb, self);
    gtk_editable_set_text(GTK_EDITABLE(self->search), search ? search : "");
    gtk_drop_down_set_selected(self->kind, (guint)(kind + 1));
    gtk_drop_down_set_selected(self->state, (guint)(state + 1));
    gtk_toggle_button_set_active(self->problems, only_problems);
    g_signal_handlers_unblock_by_func(self->search, filters_changed_cb, self);
    g_signal_handlers_unblock_by_func(self->kind, filters_changed_cb, self);
    g_signal_handlers_unblock_by_func(self->state, filters_changed_cb, self);
    g_signal_handlers_unblock_by_func(self->problems, filters_changed_cb, self);
    filters_changed_cb(self);
}

void ct_tree_view_set_model(CtTreeView *self, CtTraceModel *model)
{
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_set_object(&self->model, model);
    g_signal_connect(model, "roots-changed", G_CALLBACK(roots_changed_cb), self);
    roots_changed_cb(model, self);
}

GListModel *ct_tree_view_get_rows(CtTreeView *self)
{
    return self->tree ? G_LIST_MODEL(self->tree) : NULL;
}

static GtkWidget *inner_list_view(CtTreeView *self)
{
    for (GtkWidget *w = gtk_widget_get_first_child(GTK_WIDGET(self->columns)); w != NULL;
         w = gtk_widget_get_next_sibling(w))
        if (GTK_IS_LIST_VIEW(w))
            return w;
    return NULL;
}

gboolean ct_tree_view_reveal(CtTreeView *self, gint64 id)
{
    if (self->model == NULL || self->tree == NULL)
        return FALSE;
    g_autoptr(GtkTreeListRow) row = NULL;
    CtChildList *roots = CT_CHILD_LIST(ct_trace_model_get_roots(self->model));
    if (ct_query_is_filter(ct_trace_model_get_filter(self->model))) {
        gint64 pos = ct_child_list_find(roots, id);
        if (pos >= 0)
            row = gtk_tree_list_model_get_child_row(self->tree, (guint)pos);
    } else {
        g_autoptr(GArray) chain = ct_trace_model_get_ancestry(self->model, id);
        GListModel *list = G_LIST_MODEL(roots);
        for (guint i = 0; i < chain->len; i++) {
            gint64 pos = CT_IS_CHILD_LIST(list)
                             ? ct_child_list_find(CT_CHILD_LIST(list), g_array_index(chain, gint64, i))
                             : -1;
            if (pos < 0) {
                g_clear_object(&row);
                break;
            }
            GtkTreeListRow *next = row ? gtk_tree_list_row_get_child_row(row, (guint)pos)
                                       : gtk_tree_list_model_get_child_row(self->tree, (guint)pos);
            g_clear_object(&row);
            row = next;
            if (row == NULL || i + 1 == chain->len)
                break;
            gtk_tree_list_row_set_expanded(row, TRUE);
            list = gtk_tree_list_row_get_children(row);
            if (list == NULL) {
                g_clear_object(&row);
                break;
            }
        }
    }
    if (row == NULL)
        return FALSE;
    guint position = gtk_tree_list_row_get_position(row);
    self->revealing = TRUE;
    gtk_single_selection_set_selected(self->selection, position);
    self->revealing = FALSE;
    GtkWidget *list_view = inner_list_view(self);
    if (list_view != NULL)
        gtk_widget_activate_action(list_view, "list.scroll-to-item", "u", position);
    return TRUE;
}

static void ct_tree_view_dispose(GObject *object)
{
    CtTreeView *self = CT_TREE_VIEW(object);
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    if (self->selection != NULL)
        g_signal_handlers_disconnect_by_data(self->selection, self);
    gtk_widget_dispose_template(GTK_WIDGET(object), CT_TYPE_TREE_VIEW);
    g_clear_object(&self->selection);
    g_clear_object(&self->tree);
    g_clear_object(&self->model);
    G_OBJECT_CLASS(ct_tree_view_parent_class)->dispose(object);
}

static void ct_tree_view_class_init(CtTreeViewClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_tree_view_dispose;
    signals[SIGNAL_CONTEXT_SELECTED] =
        g_signal_new("context-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/ctxtrace/Inspector/ct-tree-view.ui");
    gtk_widget_class_bind_template_child(widget_class, CtTreeView, search);
    gtk_widget_class_bind_template_child(widget_class, CtTreeView, kind);
    gtk_widget_class_bind_template_child(widget_class, CtTreeView, state);
    gtk_widget_class_bind_template_child(widget_class, CtTreeView, problems);
    gtk_widget_class_bind_template_child(widget_class, CtTreeView, columns);
    gtk_widget_class_bind_template_callback(widget_class, filters_changed_cb);
    gtk_widget_class_bind_template_callback(widget_class, setup_label_cb);
    gtk_widget_class_bind_template_callback(widget_class, setup_number_cb);
    gtk_widget_class_bind_template_callback(widget_class, setup_expander_cb);
    gtk_widget_class_bind_template_callback(widget_class, unbind_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_kind_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_state_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_site_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_age_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_deadline_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_children_cb);
    gtk_widget_class_bind_template_callback(widget_class, bind_findings_cb);
}

static void ct_tree_view_init(CtTreeView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
