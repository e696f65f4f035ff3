/*
 * ct-counts-view.c — the four counts over time, one chart each (see ct-counts-view.h).
 */
#include "ct-counts-view.h"

#include "ct-format.h"

struct _CtCountsView {
    GtkDrawingArea parent_instance;
    CtTraceModel *model;
};

G_DEFINE_FINAL_TYPE(CtCountsView, ct_counts_view, GTK_TYPE_DRAWING_AREA)

static const struct {
    const char *title;
    double r, g, b;
} series[] = {
    {"Live contexts", 0.21, 0.52, 0.89},
    {"Armed timers", 0.90, 0.57, 0.04},
    {"Blocked waiters", 0.88, 0.11, 0.14},
    {"Threads", 0.18, 0.65, 0.35},
};

static gint64 value_of(const struct ct_sample_row *s, int k)
{
    switch (k) {
    case 0: return s->live_contexts;
    case 1: return s->armed_timers;
    case 2: return s->blocked_waiters;
    default: return s->threads;
    }
}

static void draw_chart(cairo_t *cr, int k, const struct ct_sample_row *s, guint n, gint64 t0,
                       gint64 t1, double x, double y, double w, double h, GdkRGBA *fg)
{
    gint64 peak = 0, last = n ? value_of(&s[n - 1], k) : 0;
    for (guint i = 0; i < n; i++)
        peak = MAX(peak, value_of(&s[i], k));
    gint64 max = MAX(peak, 1); /* the scale: a flat zero line sits at the bottom */
    g_autofree char *maxs = ct_format_count(peak);
    g_autofree char *lasts = ct_format_count(last);
    g_autofree char *title = g_strdup_printf("%s — %s at the end, at most %s", series[k].title,
                                             lasts, maxs);
    cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.9);
    cairo_set_font_size(cr, 12);
    cairo_move_to(cr, x, y + 13);
    cairo_show_text(cr, title);
    double top = y + 20, ph = h - 26;
    cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.15);
    cairo_rectangle(cr, x + 0.5, top + 0.5, w - 1, ph);
    cairo_stroke(cr);
    if (n == 0)
        return;
    double span = (double)MAX(t1 - t0, 1);
    cairo_set_source_rgba(cr, series[k].r, series[k].g, series[k].b, 1);
    cairo_set_line_width(cr, 1.5);
    for (guint i = 0; i < n; i++) {
        double px = x + w * (double)(s[i].ts_ns - t0) / span;
        double py = top + ph - ph * (double)value_of(&s[i], k) / (double)max;
        /* Steps: a count holds its value until the next sample. */
        if (i == 0)
            cairo_move_to(cr, px, py);
        else {
            double prev = top + ph - ph * (double)value_of(&s[i - 1], k) / (double)max;
            cairo_line_to(cr, px, prev);
            cairo_line_to(cr, px, py);
        }
    }
    cairo_stroke_preserve(cr);
    cairo_line_to(cr, x + w * (double)(s[n - 1].ts_ns - t0) / span, top + ph);
    cairo_line_to(cr, x + w * (double)(s[0].ts_ns - t0) / span, top + ph);
    cairo_close_path(cr);
    cairo_set_source_rgba(cr, series[k].r, series[k].g, series[k].b, 0.2);
    cairo_fill(cr);
    /* Each sample as a dot: a short run has only a few (one per 100 ms, one at exit). */
    cairo_set_source_rgba(cr, series[k].r, series[k].g, series[k].b, 1);
    for (guint i = 0; i < n; i++) {
        cairo_arc(cr, x + w * (double)(s[i].ts_ns - t0) / span,
                  top + ph - ph * (double)value_of(&s[i], k) / (double)max, 3, 0, 2 * G_PI);
        cairo_fill(cr);
    }
}

static void draw_cb(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
    (void)data;
    CtCountsView *self = CT_COUNTS_VIEW(area);
    if (self->model == NULL)
        return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(area)), &fg);
    guint n;
    const struct ct_sample_row *s = ct_trace_model_get_samples(self->model, &n);
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    double margin = 16, ch = (height - 2 * margin - 20) / 4.0, w = width - 2 * margin;
    for (int k = 0; k < 4; k++)
        draw_chart(cr, k, s, n, m->start_ns, MAX(m->now_ns, m->start_ns + 1), margin,
                   margin + k * ch, w, ch - 8, &fg);
    g_autofree char *span = ct_format_duration(m->now_ns - m->start_ns);
    g_autofree char *footer = g_strdup_printf("%u samples over %s", n, span);
    cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.6);
    cairo_set_font_size(cr, 11);
    cairo_move_to(cr, margin, height - margin);
    cairo_show_text(cr, footer);
}

static void changed_cb(CtTraceModel *model, CtCountsView *self)
{
    (void)model;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ct_counts_view_set_model(CtCountsView *self, CtTraceModel *model)
{
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_set_object(&self->model, model);
    g_signal_connect(model, "samples-changed", G_CALLBACK(changed_cb), self);
    g_signal_connect(model, "meta-changed", G_CALLBACK(changed_cb), self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void ct_counts_view_dispose(GObject *object)
{
    CtCountsView *self = CT_COUNTS_VIEW(object);
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_clear_object(&self->model);
    G_OBJECT_CLASS(ct_counts_view_parent_class)->dispose(object);
}

static void ct_counts_view_class_init(CtCountsViewClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = ct_counts_view_dispose;
}

static void ct_counts_view_init(CtCountsView *self)
{
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self), draw_cb, NULL, NULL);
    gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
    gtk_widget_set_vexpand(GTK_WIDGET(self), TRUE);
}
