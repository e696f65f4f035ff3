/*
 * ct-sites-view.c — per-site aggregates in a sortable column view (see ct-sites-view.h).
 *
 * The rows are rebuilt from the model's spans (and, for a summary-retention trace, the
 * folded contexts' per-site aggregates) when they change — once for a trace file,
 * at most twice a second while following a live process (a pass over every span), and
 * only while the view is shown. The
 * columns are described once, in a table: title, how a cell shows a row, how the column
 * sorts; the column view and its sorters are made from it.
 */
#include "ct-sites-view.h"

#include <string.h>

#include "ct-format.h"
#include "ct-resources.h"
#include "ct-site-item.h"

#include <ctxtrace/tracer.h>

#define REBUILD_INTERVAL_MS 500

struct _CtSitesView {
    GtkBox parent_instance;
    GtkLabel *status;
    GtkColumnView *columns;
    GtkColumnViewColumn *created; /* wider when it says how many were folded */
    gboolean created_wide;
    CtTraceModel *model;
    GListModel *items;        /* CtSiteItem, unsorted */
    GtkSortListModel *sorted;
    GtkSingleSelection *selection;
    guint rebuild_id;
    gboolean stale;           /* the data changed while the view was hidden */
};

G_DEFINE_FINAL_TYPE(CtSitesView, ct_sites_view, GTK_TYPE_BOX)

enum { SIGNAL_SITE_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- the columns ------------------------------------------------------------------- */

typedef enum { COL_SITE, COL_CREATED, COL_LIVE, COL_CANCELLED, COL_DEADLINE, COL_LEAKED,
               COL_FINDINGS, COL_P50, COL_P99, COL_MAX, COL_HISTOGRAM, N_COLS } Column;

static const struct {
    const char *title;
    const char *tooltip; /* what the status line's tooltip says of it */
    gboolean numeric;
} columns[N_COLS] = {
    [COL_SITE] = {"Site", "Where the contexts were created (file:line, then the function)", FALSE},
    [COL_CREATED] = {"Created", "Contexts created at the site (and how many of them were folded into the "
                                "site's summary: summary retention keeps no row for them)", TRUE},
    [COL_LIVE] = {"Live", "Neither freed nor done when the trace ended", TRUE},
    [COL_CANCELLED] = {"Cancelled", "Done by a cancellation (explicit, a release, or from a parent)", TRUE},
    [COL_DEADLINE] = {"Deadline", "Done because a deadline passed", TRUE},
    [COL_LEAKED] = {"Leaked", "Leaked by the verdict (lost cancel, orphaned timer, lost at exit)", TRUE},
    [COL_FINDINGS] = {"Findings", "Contexts a finding covers", TRUE},
    [COL_P50] = {"Median", "Median lifetime: creation to free, or to the end of the trace (as `ctxtrace "
                           "report --profile`; with folded contexts, their histogram's bucket: within 25%)", TRUE},
    [COL_P99] = {"p99", "99th percentile of the lifetimes", TRUE},
    [COL_MAX] = {"Longest", "Longest lifetime", TRUE},
    [COL_HISTOGRAM] = {"Lifetimes", "Lifetimes by decade: <1 µs, <10 µs … <1 s, ≥1 s", FALSE},
};

static gint64 value_of(CtSiteItem *item, Column c)
{
    const CtSiteStats *s = ct_site_item_get_stats(item);
    switch (c) {
    case COL_CREATED: return s->created;
    case COL_LIVE: return s->live_at_end;
    case COL_CANCELLED: return s->cancelled;
    case COL_DEADLINE: return s->deadline;
    case COL_LEAKED: return s->leaked;
    case COL_FINDINGS: return s->findings;
    case COL_P50: return s->life_p50;
    case COL_P99: return s->life_p99;
    case COL_MAX: return s->life_max;
    default: return 0;
    }
}

/* A histogram as eighth blocks, one per decade, scaled to the largest. */
static char *histogram_text(const CtSiteStats *s)
{
    static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    gint64 top = 0;
    for (int b = 0; b < CT_SITE_LIFE_BUCKETS; b++)
        top = MAX(top, s->life[b]);
    GString *out = g_string_new(NULL);
    for (int b = 0; b < CT_SITE_LIFE_BUCKETS; b++)
        g_string_append(out, blocks[top == 0 ? 0 : s->life[b] == 0 ? 0 : 1 + (s->life[b] * 7) / top]);
    return g_string_free(out, FALSE);
}

static void setup_cb(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
    (void)f;
    Column c = GPOINTER_TO_INT(data);
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), columns[c].numeric ? 1 : 0);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    if (columns[c].numeric)
        gtk_widget_add_css_class(label, "numeric");
    gtk_list_item_set_child(li, label);
}

static void bind_cb(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
    (void)f;
    Column c = GPOINTER_TO_INT(data);
    CtSiteItem *item = gtk_list_item_get_item(li);
    GtkLabel *label = GTK_LABEL(gtk_list_item_get_child(li));
    const CtSiteStats *s = ct_site_item_get_stats(item);
    g_autofree char *text = NULL;
    gtk_widget_set_tooltip_text(GTK_WIDGET(label), NULL);
    gtk_widget_remove_css_class(GTK_WIDGET(label), "ct-leaked");
    switch (c) {
    case COL_SITE: {
        /* As the tree's site column: the location whole, the function after it. */
        const char *site = ct_site_item_get_site(item), *sp = strrchr(site, ' ');
        g_autofree char *function = sp ? g_strndup(site, sp - site) : g_strdup(site);
        g_autofree char *markup = g_markup_printf_escaped("%s  <span alpha=\"60%%\">%s</span>",
                                                          sp ? sp + 1 : "", function);
        gtk_label_set_markup(label, markup);
        gtk_widget_set_tooltip_text(GTK_WIDGET(label), site);
        return;
    }
    case COL_P50:
    case COL_P99:
    case COL_MAX:
        text = ct_format_duration(value_of(item, c));
        break;
    case COL_CREATED: {
        g_autofree char *all = ct_format_count(s->created);
        if (s->counted) {
            g_autofree char *got = ct_format_count(s->received);
            g_autofree char *tip = g_strdup_printf("Counted by the process (exact); this window received %s "
                                                   "of them — the Cancelled, Deadline and lifetime columns "
                                                   "describe those",
                                                   got);
            gtk_widget_set_tooltip_text(GTK_WIDGET(label), tip);
        }
        if (s->summarized == 0) {
            text = g_steal_pointer(&all);
            break;
        }
        g_autofree char *folded = ct_format_count(s->summarized);
        text = g_strdup_printf("%s (%s summarized)", all, folded);
        g_autofree char *rows = ct_format_count(s->created - s->summarized);
        g_autofree char *tip = g_strdup_printf("%s with a row (the tree and the timeline show them), %s folded "
                                               "into the site's summary",
                                               rows, folded);
        gtk_widget_set_tooltip_text(GTK_WIDGET(label), tip);
        break;
    }
    case COL_HISTOGRAM: {
        text = histogram_text(s);
        g_autofree char *tip = g_strdup_printf(
            "<1 µs: %" G_GINT64_FORMAT "\n<10 µs: %" G_GINT64_FORMAT "\n<100 µs: %" G_GINT64_FORMAT
            "\n<1 ms: %" G_GINT64_FORMAT "\n<10 ms: %" G_GINT64_FORMAT "\n<100 ms: %" G_GINT64_FORMAT
            "\n<1 s: %" G_GINT64_FORMAT "\n≥1 s: %" G_GINT64_FORMAT "\nof them still live at the end "
            "(counted until then): %" G_GINT64_FORMAT,
            s->life[0], s->life[1], s->life[2], s->life[3], s->life[4], s->life[5], s->life[6],
            s->life[7], s->live_at_end);
        gtk_widget_set_tooltip_text(GTK_WIDGET(label), tip);
        break;
    }
    default:
        text = value_of(item, c) == 0 ? g_strdup("") : ct_format_count(value_of(item, c));
        if ((c == COL_LEAKED || c == COL_FINDINGS) && value_of(item, c) > 0)
            gtk_widget_add_css_class(GTK_WIDGET(label), "ct-leaked");
        gint64 folded = c == COL_CANCELLED ? s->summarized_cancelled : c == COL_DEADLINE ? s->summarized_deadline : 0;
        if (folded > 0) {
            g_autofree char *n_folded = ct_format_count(folded);
            g_autofree char *tip = g_strdup_printf("%s of them folded into the site's summary", n_folded);
            gtk_widget_set_tooltip_text(GTK_WIDGET(label), tip);
        }
        break;
    }
    gtk_label_set_text(label, text);
}

static int compare_cb(gconstpointer a, gconstpointer b, gpointer data)
{
    Column c = GPOINTER_TO_INT(data);
    if (c == COL_SITE)
        return g_strcmp0(ct_site_item_get_site(CT_SITE_ITEM((gpointer)a)),
                         ct_site_item_get_site(CT_SITE_ITEM((gpointer)b)));
    gint64 x = value_of(CT_SITE_ITEM((gpointer)a), c), y = value_of(CT_SITE_ITEM((gpointer)b), c);
    return x < y ? GTK_ORDERING_SMALLER : x > y ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

static void add_columns(CtSitesView *self)
{
    for (int c = 0; c < N_COLS; c++) {
        GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
        g_signal_connect(factory, "setup", G_CALLBACK(setup_cb), GINT_TO_POINTER(c));
        g_signal_connect(factory, "bind", G_CALLBACK(bind_cb), GINT_TO_POINTER(c));
        GtkColumnViewColumn *col = gtk_column_view_column_new(columns[c].title, factory);
        gtk_column_view_column_set_resizable(col, TRUE);
        /* The site readable whatever the pane's width (the view scrolls sideways). */
        gtk_column_view_column_set_fixed_width(col, c == COL_SITE                    ? 230
                                                    : c == COL_P50 || c == COL_P99 || c == COL_MAX ? 90
                                                    : c == COL_HISTOGRAM           ? 90
                                                                                   : 80);
        if (c != COL_HISTOGRAM) {
            GtkSorter *sorter = GTK_SORTER(gtk_custom_sorter_new(compare_cb, GINT_TO_POINTER(c), NULL));
            gtk_column_view_column_set_sorter(col, sorter);
            g_object_unref(sorter);
        }
        gtk_column_view_append_column(self->columns, col);
        if (c == COL_CREATED)
            self->created = col;
        g_object_unref(col);
    }
}

/* ---- rows ------------------------------------------------------------------------------ */

static const char *site_of_stack(gint64 stack_id, gpointer data)
{
    CtSource *source = ct_trace_model_get_source(CT_TRACE_MODEL(data));
    return source ? ct_source_site(source, stack_id) : NULL;
}

static gboolean covered(gint64 id, gpointer data)
{
    return ct_trace_model_get_finding_of(CT_TRACE_MODEL(data), id) != NULL;
}

static void rebuild(CtSitesView *self)
{
    g_clear_object(&self->items);
    guint n_sums, n_counts;
    const struct ct_site_summary *sums = ct_trace_model_get_site_summaries(self->model, &n_sums);
    const CtSiteCounts *counts = ct_trace_model_get_site_counts(self->model, &n_counts);
    const CtTraceMeta *meta = ct_trace_model_get_meta(self->model);
    self->items = ct_site_items_new(ct_trace_model_get_spans(self->model), sums, n_sums, counts, n_counts,
                                    meta->now_ns, site_of_stack, covered, self->model);
    gtk_sort_list_model_set_model(self->sorted, self->items);
    guint n = g_list_model_get_n_items(self->items);
    gint64 created = 0, summarized = 0;
    for (guint i = 0; i < n; i++) {
        g_autoptr(CtSiteItem) item = g_list_model_get_item(self->items, i);
        created += ct_site_item_get_stats(item)->created;
        summarized += ct_site_item_get_stats(item)->summarized;
    }
    /* Only when that changes: a width the user dragged stays. */
    if ((summarized > 0) != self->created_wide) {
        self->created_wide = summarized > 0;
        gtk_column_view_column_set_fixed_width(self->created, self->created_wide ? 190 : 80);
    }
    g_autofree char *contexts = ct_format_count(created);
    g_autofree char *folded = ct_format_count(summarized);
    g_autofree char *of_them = summarized > 0 ? g_strdup_printf(" (%s of them summarized: folded into per-site "
                                                                "aggregates, without rows)", folded)
                               : n_counts > 0 ? g_strdup(" (counted by the process: exact, whatever this "
                                                         "window skipped; endings and lifetimes are of the "
                                                         "contexts it received)")
                                              : g_strdup("");
    g_autofree char *text = n == 0 ? g_strdup("No contexts yet.")
                                   : g_strdup_printf("%s contexts created at %u site%s%s — select one to "
                                                     "show only its contexts in the tree and the timeline",
                                                     contexts, n, n == 1 ? "" : "s", of_them);
    /* The trace counts more folded contexts than the aggregates read here (the roots'
     * aside, left out as their rows are): say so rather than let the counts pass for
     * the whole run. */
    gint64 roots = 0;
    for (guint k = 0; k < n_sums; k++)
        if (sums[k].kind == CTX_KIND_BACKGROUND || sums[k].kind == CTX_KIND_TODO)
            roots += sums[k].contexts;
    gint64 missing = meta->summarized - summarized - roots;
    if (missing > 0) {
        g_autofree char *more = ct_format_count(missing);
        /* First: a narrow window cuts the end of the line. */
        g_autofree char *whole = g_strdup_printf("Not counted here: %s contexts folded into per-site "
                                                 "summaries the trace does not give. %s",
                                                 more, text);
        gtk_label_set_text(self->status, whole);
        return;
    }
    gtk_label_set_text(self->status, text);
}

static gboolean rebuild_cb(gpointer data)
{
    CtSitesView *self = data;
    self->rebuild_id = 0;
    rebuild(self);
    return G_SOURCE_REMOVE;
}

/* A pass over every span: not while hidden (a live stream would pay it twice a
 * second for nothing); once shown, the rows are brought up to date. */
static void data_changed_cb(CtSitesView *self)
{
    if (!gtk_widget_get_mapped(GTK_WIDGET(self))) {
        self->stale = TRUE;
        return;
    }
    if (self->rebuild_id == 0)
        self->rebuild_id = g_timeout_add(REBUILD_INTERVAL_MS, rebuild_cb, self);
}

static void map_cb(CtSitesView *self)
{
    if (self->stale && self->model != NULL) {
        self->stale = FALSE;
        rebuild(self);
    }
}

static void selection_changed_cb(GtkSingleSelection *sel, guint pos, guint n, CtSitesView *self)
{
    (void)pos;
    (void)n;
    CtSiteItem *item = gtk_single_selection_get_selected_item(sel);
    g_signal_emit(self, signals[SIGNAL_SITE_SELECTED], 0, item ? ct_site_item_get_site(item) : NULL);
}

void ct_sites_view_set_model(CtSitesView *self, CtTraceModel *model)
{
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_set_object(&self->model, model);
    g_signal_connect_swapped(model, "timeline-changed", G_CALLBACK(data_changed_cb), self);
    g_signal_connect_swapped(model, "findings-changed", G_CALLBACK(data_changed_cb), self);
    self->stale = FALSE;
    rebuild(self);
}

const char *ct_sites_view_get_status(CtSitesView *self)
{
    return gtk_label_get_text(self->status);
}

GListModel *ct_sites_view_get_rows(CtSitesView *self)
{
    return G_LIST_MODEL(self->sorted);
}

void ct_sites_view_select(CtSitesView *self, guint position)
{
    gtk_single_selection_set_selected(self->selection, position);
}

void ct_sites_view_sort_by(CtSitesView *self, const char *title, gboolean descending)
{
    GListModel *cols = gtk_column_view_get_columns(self->columns);
    for (guint i = 0; i < g_list_model_get_n_items(cols); i++) {
        g_autoptr(GtkColumnViewColumn) col = g_list_model_get_item(cols, i);
        if (g_strcmp0(gtk_column_view_column_get_title(col), title) == 0)
            gtk_column_view_sort_by_column(self->columns, col,
                                           descending ? GTK_SORT_DESCENDING : GTK_SORT_ASCENDING);
    }
}

static void ct_sites_view_dispose(GObject *object)
{
    CtSitesView *self = CT_SITES_VIEW(object);
    if (self->rebuild_id != 0)
        g_source_remove(self->rebuild_id);
    self->rebuild_id = 0;
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_clear_object(&self->model);
    gtk_widget_dispose_template(GTK_WIDGET(object), CT_TYPE_SITES_VIEW);
    g_clear_object(&self->selection);
    g_clear_object(&self->items);
    G_OBJECT_CLASS(ct_sites_view_parent_class)->dispose(object);
}

static void ct_sites_view_class_init(CtSitesViewClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_sites_view_dispose;
    signals[SIGNAL_SITE_SELECTED] =
        g_signal_new("site-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class, "/org/ctxtrace/Inspector/ct-sites-view.ui");
    gtk_widget_class_bind_template_child(widget_class, CtSitesView, status);
    gtk_widget_class_bind_template_child(widget_class, CtSitesView, columns);
}

static void ct_sites_view_init(CtSitesView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    add_columns(self);
    /* The columns explained (GTK 4.8 column headers have no tooltips). */
    GString *tip = g_string_new(NULL);
    for (int c = 0; c < N_COLS; c++)
        g_string_append_printf(tip, "%s%s: %s", c ? "\n" : "", columns[c].title, columns[c].tooltip);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->status), tip->str);
    g_string_free(tip, TRUE);
    /* Sorted by the column view's sorter (its headers); most contexts first until
     * a header is clicked. */
    self->sorted = gtk_sort_list_model_new(NULL, g_object_ref(gtk_column_view_get_sorter(self->columns)));
    self->selection = gtk_single_selection_new(G_LIST_MODEL(self->sorted));
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_can_unselect(self->selection, TRUE);
    gtk_single_selection_set_selected(self->selection, GTK_INVALID_LIST_POSITION);
    g_signal_connect(self->selection, "selection-changed", G_CALLBACK(selection_changed_cb), self);
    g_signal_connect(self, "map", G_CALLBACK(map_cb), NULL);
    gtk_column_view_set_model(self->columns, GTK_SELECTION_MODEL(self->selection));
}
