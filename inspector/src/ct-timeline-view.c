/*
 * ct-timeline-view.c — the Timeline's toolbar, legend and scrollbar around the canvas
 * (see ct-timeline-view.h).
 *
 * Theme colours: the legend's swatches carry the state classes of inspector.css
 * (the theme's success, selection, warning and error colours); the canvas is handed the colours the swatches
 * are drawn in, again whenever the style changes (dark mode), so the bars and the
 * legend always agree.
 */
#include "ct-timeline-view.h"

#include "ct-format.h"
#include "ct-resources.h"

struct _CtTimelineView {
    GtkBox parent_instance;
    GtkDropDown *group_by;
    GtkLabel *info;
    GtkLabel *swatch_live, *swatch_cancelled, *swatch_deadline, *swatch_leaked;
    GtkScrollbar *scrollbar;
    CtTimelineCanvas *canvas;
    CtTraceModel *model;
};

G_DEFINE_FINAL_TYPE(CtTimelineView, ct_timeline_view, GTK_TYPE_BOX)

enum { SIGNAL_CONTEXT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void color_of(GtkWidget *w, GdkRGBA *out)
{
#if GTK_CHECK_VERSION(4, 10, 0)
    gtk_widget_get_color(w, out);
#else
    gtk_style_context_get_color(gtk_widget_get_style_context(w), out);
#endif
}

static void update_palette(CtTimelineView *self)
{
    GdkRGBA colors[4];
    color_of(GTK_WIDGET(self->swatch_live), &colors[CT_STATE_LIVE]);
    color_of(GTK_WIDGET(self->swatch_cancelled), &colors[CT_STATE_CANCELLED]);
    color_of(GTK_WIDGET(self->swatch_deadline), &colors[CT_STATE_DEADLINE]);
    color_of(GTK_WIDGET(self->swatch_leaked), &colors[CT_STATE_LEAKED]);
    ct_timeline_canvas_set_palette(self->canvas, colors);
}

static void update_info(CtTimelineView *self)
{
    CtSpans *spans = ct_trace_model_get_spans(self->model);
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    g_autofree char *n = ct_format_count(ct_spans_get_len(spans));
    g_autofree char *text = ct_spans_get_len(spans) == 0 && m->contexts > 0
                                ? g_strdup("reading the lifespans…")
                                : g_strdup_printf("%s contexts", n);
    gtk_label_set_text(self->info, text);
}

static void zoom_in_cb(CtTimelineView *self)
{
    ct_timeline_canvas_zoom(self->canvas, 0.5);
}

static void zoom_out_cb(CtTimelineView *self)
{
    ct_timeline_canvas_zoom(self->canvas, 2.0);
}

static void zoom_fit_cb(CtTimelineView *self)
{
    ct_timeline_canvas_zoom_fit(self->canvas);
}

static void group_changed_cb(CtTimelineView *self)
{
    ct_timeline_canvas_set_grouping(self->canvas, gtk_drop_down_get_selected(self->group_by) == 1
                                                      ? CT_LANES_BY_THREAD
                                                      : CT_LANES_BY_SITE);
}

/* The scrollbar only when the lanes do not fit. */
static void vadj_changed_cb(GtkAdjustment *adj, CtTimelineView *self)
{
    gtk_widget_set_visible(GTK_WIDGET(self->scrollbar),
                           gtk_adjustment_get_upper(adj) > gtk_adjustment_get_page_size(adj) + 0.5);
}

static void canvas_selected_cb(CtTimelineCanvas *canvas, gint64 id, CtTimelineView *self)
{
    (void)canvas;
    g_signal_emit(self, signals[SIGNAL_CONTEXT_SELECTED], 0, id);
}

void ct_timeline_view_set_model(CtTimelineView *self, CtTraceModel *model)
{
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_set_object(&self->model, model);
    g_signal_connect_swapped(model, "timeline-changed", G_CALLBACK(update_info), self);
    g_signal_connect_swapped(model, "meta-changed", G_CALLBACK(update_info), self);
    ct_timeline_canvas_set_model(self->canvas, model);
    update_info(self);
}

void ct_timeline_view_select(CtTimelineView *self, gint64 id)
{
    ct_timeline_canvas_select(self->canvas, id);
}

void ct_timeline_view_set_grouping(CtTimelineView *self, CtLaneGrouping grouping)
{
    gtk_drop_down_set_selected(self->group_by, grouping == CT_LANES_BY_THREAD ? 1 : 0);
}

void ct_timeline_view_set_site(CtTimelineView *self, const char *site)
{
    ct_timeline_canvas_set_site(self->canvas, site);
}

CtTimelineCanvas *ct_timeline_view_get_canvas(CtTimelineView *self)
{
    return self->canvas;
}

const char *ct_timeline_view_get_info(CtTimelineView *self)
{
    return gtk_label_get_text(self->info);
}

static void ct_timeline_view_dispose(GObject *object)
{
    CtTimelineView *self = CT_TIMELINE_VIEW(object);
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_clear_object(&self->model);
    gtk_widget_dispose_template(GTK_WIDGET(object), CT_TYPE_TIMELINE_VIEW);
    G_OBJECT_CLASS(ct_timeline_view_parent_class)->dispose(object);
}

static void ct_timeline_view_css_changed(GtkWidget *widget, GtkCssStyleChange *change)
{
    GTK_WIDGET_CLASS(ct_timeline_view_parent_class)->css_changed(widget, change);
    update_palette(CT_TIMELINE_VIEW(widget));
}

static void ct_timeline_view_class_init(CtTimelineViewClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_timeline_view_dispose;
    widget_class->css_changed = ct_timeline_view_css_changed;
    signals[SIGNAL_CONTEXT_SELECTED] =
        g_signal_new("context-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
    g_type_ensure(CT_TYPE_TIMELINE_CANVAS);
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/ctxtrace/Inspector/ct-timeline-view.ui");
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, group_by);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, info);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, swatch_live);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, swatch_cancelled);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, swatch_deadline);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, swatch_leaked);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, scrollbar);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, canvas);
    gtk_widget_class_bind_template_callback(widget_class, group_changed_cb);
    gtk_widget_class_bind_template_callback(widget_class, zoom_in_cb);
    gtk_widget_class_bind_template_callback(widget_class, zoom_out_cb);
    gtk_widget_class_bind_template_callback(widget_class, zoom_fit_cb);
}

static void ct_timeline_view_init(CtTimelineView *self)
{
    ct_resources_ensure_style();
    gtk_widget_init_template(GTK_WIDGET(self));
    gtk_scrollbar_set_adjustment(self->scrollbar, ct_timeline_canvas_get_vadjustment(self->canvas));
    g_signal_connect(self->canvas, "context-selected", G_CALLBACK(canvas_selected_cb), self);
    g_signal_connect(ct_timeline_canvas_get_vadjustment(self->canvas), "changed",
                     G_CALLBACK(vadj_changed_cb), self);
}
