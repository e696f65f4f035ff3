/*
 * ct-counts-view.c — the counts over time, one chart each, on one time axis (see
 * ct-counts-view.h).
 *
 * Drawn with GtkSnapshot and Pango: a count holds its value until the next sample, so
 * every chart is a step line — horizontal and vertical segments, colour nodes only.
 * The first chart is exact from the first moment: contexts live at each pixel column,
 * counted from every context's lifespan (ct_spans_count_live), with the samples' own
 * live count as dots; the others come from the samples alone.
 */
#include "ct-counts-view.h"

#include <math.h>

#include "ct-format.h"

#define LEFT_W 78.0   /* the value axis */
#define MARGIN 14.0
#define TITLE_H 20.0
#define AXIS_H 22.0   /* the time axis, under the last chart */

struct _CtCountsView {
    GtkWidget parent_instance;
    CtTraceModel *model;
};

G_DEFINE_FINAL_TYPE(CtCountsView, ct_counts_view, GTK_TYPE_WIDGET)

typedef enum { SERIES_CONTEXTS, SERIES_TIMERS, SERIES_WAITERS, SERIES_THREADS, SERIES_RSS, N_SERIES } Series;

static const struct {
    const char *title;
    const char *unit; /* of the values: "" counts, "B" bytes */
    const char *color;
} series[N_SERIES] = {
    [SERIES_CONTEXTS] = {"Contexts live (every lifespan; dots: the samples)", "", "#3584e4"},
    [SERIES_TIMERS] = {"Armed timers", "", "#e5a50a"},
    [SERIES_WAITERS] = {"Blocked waiters", "", "#e01b24"},
    [SERIES_THREADS] = {"Threads", "", "#2ec27e"},
    [SERIES_RSS] = {"Resident memory (RSS)", "B", "#9141ac"},
};

static gint64 sample_value(const struct ct_sample_row *s, Series k)
{
    switch (k) {
    case SERIES_CONTEXTS: return s->live_contexts;
    case SERIES_TIMERS: return s->armed_timers;
    case SERIES_WAITERS: return s->blocked_waiters;
    case SERIES_THREADS: return s->threads;
    default: return s->rss_bytes;
    }
}

static char *format_value(gint64 v, Series k)
{
    if (series[k].unit[0] != 'B')
        return ct_format_count(v);
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)v;
    guint u = 0;
    while (x >= 1024 && u + 1 < G_N_ELEMENTS(units)) {
        x /= 1024;
        u++;
    }
    return g_strdup_printf(u == 0 ? "%.0f %s" : "%.1f %s", x, units[u]);
}

static void rect(GtkSnapshot *s, const GdkRGBA *c, double x, double y, double w, double h)
{
    gtk_snapshot_append_color(s, c, &GRAPHENE_RECT_INIT((float)x, (float)y, (float)w, (float)h));
}

static void text(GtkWidget *w, GtkSnapshot *s, const char *str, double x, double y, const GdkRGBA *c,
                 gboolean small, gboolean right)
{
    PangoLayout *layout = gtk_widget_create_pango_layout(w, str);
    if (small) {
        PangoAttrList *attrs = pango_attr_list_new();
        pango_attr_list_insert(attrs, pango_attr_scale_new(PANGO_SCALE_SMALL));
        pango_layout_set_attributes(layout, attrs);
        pango_attr_list_unref(attrs);
    }
    int pw, ph;
    pango_layout_get_pixel_size(layout, &pw, &ph);
    gtk_snapshot_save(s);
    gtk_snapshot_translate(s, &GRAPHENE_POINT_INIT((float)(right ? x - pw : x), (float)(y - ph / 2.0)));
    gtk_snapshot_append_layout(s, layout, c);
    gtk_snapshot_restore(s);
    g_object_unref(layout);
}

static GdkRGBA alpha(const GdkRGBA *c, double a)
{
    GdkRGBA out = *c;
    out.alpha = (float)(c->alpha * a);
    return out;
}

/* A "nice" axis maximum: 1, 2 or 5 × 10^k at or above v (bytes: powers of 2). */
static gint64 nice_max(gint64 v, Series k)
{
    if (v <= 2 && series[k].unit[0] != 'B')
        return 2; /* whole numbers at 0, half and the top */
    if (v <= 0)
        return 1;
    if (series[k].unit[0] == 'B') {
        gint64 p = 1;
        while (p < v)
            p *= 2;
        return p;
    }
    gint64 p = 1;
    while (p * 10 <= v)
        p *= 10;
    return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

typedef struct {
    double x, y, w, h; /* the plot area */
    gint64 t0, t1;
} Plot;

static double px_of(const Plot *p, gint64 t)
{
    return p->x + p->w * (double)(t - p->t0) / (double)MAX(p->t1 - p->t0, 1);
}

/* The value axis and frame of one chart; returns the axis maximum. */
static gint64 draw_frame(CtCountsView *self, GtkSnapshot *s, const Plot *p, Series k, gint64 peak,
                         gint64 last, const GdkRGBA *fg)
{
    GtkWidget *w = GTK_WIDGET(self);
    gint64 max = nice_max(peak, k);
    GdkRGBA dim = alpha(fg, 0.6), rule = alpha(fg, 0.15), grid = alpha(fg, 0.07);
    g_autofree char *peaks = format_value(peak, k), *lasts = format_value(last, k);
    g_autofree char *title = g_strdup_printf("%s — %s at the end, at most %s", series[k].title, lasts, peaks);
    text(w, s, title, p->x, p->y - TITLE_H / 2 - 2, fg, FALSE, FALSE);
    rect(s, &rule, p->x, p->y, p->w, 1);
    rect(s, &rule, p->x, p->y + p->h, p->w, 1);
    rect(s, &rule, p->x, p->y, 1, p->h);
    for (int i = 0; i <= 2; i++) { /* 0, half, max */
        gint64 v = max * i / 2;
        double y = p->y + p->h - p->h * i / 2.0;
        if (i == 1)
            rect(s, &grid, p->x, y, p->w, 1);
        g_autofree char *label = format_value(v, k);
        text(w, s, label, p->x - 6, y, &dim, TRUE, TRUE);
    }
    return max;
}

static double py_of(const Plot *p, gint64 v, gint64 max)
{
    return p->y + p->h - p->h * (double)v / (double)max;
}

/* A step line of values at times (ts[i], v[i]), holding each until the next. */
static void draw_steps(GtkSnapshot *s, const Plot *p, const gint64 *ts, const gint64 *v, guint n,
                       gint64 max, const GdkRGBA *c)
{
    GdkRGBA fill = alpha(c, 0.18);
    for (guint i = 0; i < n; i++) {
        double x0 = px_of(p, ts[i]), x1 = i + 1 < n ? px_of(p, ts[i + 1]) : x0;
        double y = py_of(p, v[i], max);
        if (x1 > x0) {
            rect(s, &fill, x0, y, x1 - x0, p->y + p->h - y);
            rect(s, c, x0, y - 0.75, x1 - x0, 1.5);
        }
        if (i + 1 < n) {
            double y2 = py_of(p, v[i + 1], max);
            rect(s, c, x1 - 0.75, MIN(y, y2) - 0.75, 1.5, fabs(y2 - y) + 1.5);
        }
    }
}

static void draw_dots(GtkSnapshot *s, const Plot *p, const struct ct_sample_row *sm, guint n, Series k,
                      gint64 max, const GdkRGBA *c)
{
    for (guint i = 0; i < n; i++)
        rect(s, c, px_of(p, sm[i].ts_ns) - 2.5, py_of(p, sample_value(&sm[i], k), max) - 2.5, 5, 5);
}

static void draw_time_axis(CtCountsView *self, GtkSnapshot *s, const Plot *p, const GdkRGBA *fg)
{
    GdkRGBA dim = alpha(fg, 0.6);
    double span = (double)MAX(p->t1 - p->t0, 1);
    double raw = span * 110 / p->w, step = pow(10, floor(log10(raw)));
    step = raw <= step ? step : raw <= 2 * step ? 2 * step : raw <= 5 * step ? 5 * step : 10 * step;
    for (double t = 0; t <= span; t += step) {
        double x = p->x + p->w * t / span;
        rect(s, &dim, x, p->y, 1, 5);
        g_autofree char *label = ct_format_duration((gint64)t);
        text(GTK_WIDGET(self), s, label, x + 3, p->y + 11, &dim, TRUE, FALSE);
    }
}

static void ct_counts_view_snapshot(GtkWidget *widget, GtkSnapshot *s)
{
    CtCountsView *self = CT_COUNTS_VIEW(widget);
    int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    if (self->model == NULL || width <= LEFT_W + 2 * MARGIN || height <= 100)
        return;
    GdkRGBA fg;
#if GTK_CHECK_VERSION(4, 10, 0)
    gtk_widget_get_color(widget, &fg);
#else
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
#endif
    guint n;
    const struct ct_sample_row *sm = ct_trace_model_get_samples(self->model, &n);
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    double chart_h = (height - 2 * MARGIN - AXIS_H) / N_SERIES;
    Plot p = {.x = MARGIN + LEFT_W, .w = width - 2 * MARGIN - LEFT_W, .h = chart_h - TITLE_H - 8,
              .t0 = m->start_ns, .t1 = MAX(m->now_ns, m->start_ns + 1)};
    g_autofree gint64 *ts = g_new(gint64, MAX(n, (guint)p.w + 1));
    g_autofree gint64 *v = g_new(gint64, MAX(n, (guint)p.w + 1));
    for (int k = 0; k < N_SERIES; k++) {
        p.y = MARGIN + k * chart_h + TITLE_H;
        GdkRGBA c;
        gdk_rgba_parse(&c, series[k].color);
        guint count = 0;
        gint64 peak = 0, last = 0;
        if (k == SERIES_CONTEXTS) {
            /* Exact, per pixel column, from every lifespan. */
            int cols = (int)p.w;
            g_autofree guint *live = g_new(guint, cols);
            double ns_per_col = (double)(p.t1 - p.t0) / cols;
            ct_spans_count_live(ct_trace_model_get_spans(self->model), (double)p.t0, ns_per_col, cols,
                                m->now_ns, live);
            for (int c2 = 0; c2 < cols; c2++) {
                ts[count] = p.t0 + (gint64)(ns_per_col * c2);
                v[count++] = live[c2];
            }
            for (guint i = 0; i < n; i++)
                peak = MAX(peak, sample_value(&sm[i], k));
        } else {
            for (guint i = 0; i < n; i++) {
                ts[count] = sm[i].ts_ns;
                v[count++] = sample_value(&sm[i], k);
            }
        }
        for (guint i = 0; i < count; i++)
            peak = MAX(peak, v[i]);
        last = count ? v[count - 1] : 0;
        gint64 max = draw_frame(self, s, &p, k, peak, last, &fg);
        gtk_snapshot_push_clip(s, &GRAPHENE_RECT_INIT((float)p.x, (float)p.y - 3, (float)p.w + 3, (float)p.h + 6));
        draw_steps(s, &p, ts, v, count, max, &c);
        if (k == SERIES_CONTEXTS)
            draw_dots(s, &p, sm, n, k, max, &fg);
        else
            draw_dots(s, &p, sm, n, k, max, &c);
        gtk_snapshot_pop(s);
    }
    p.y = MARGIN + N_SERIES * chart_h - 6;
    draw_time_axis(self, s, &p, &fg);
    g_autofree char *span = ct_format_duration(m->now_ns - m->start_ns);
    g_autofree char *footer = g_strdup_printf("time since the trace started — %u sample%s over %s%s", n,
                                              n == 1 ? "" : "s", span,
                                              n > 0 && sm[0].ts_ns - m->start_ns > (m->now_ns - m->start_ns) / 2
                                                  ? " (the first sample came late: only the first chart is exact before it)"
                                                  : "");
    GdkRGBA dim = alpha(&fg, 0.6);
    text(widget, s, footer, p.x, height - MARGIN + 2, &dim, TRUE, FALSE);
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
    g_signal_connect(model, "timeline-changed", G_CALLBACK(changed_cb), self);
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
    GTK_WIDGET_CLASS(klass)->snapshot = ct_counts_view_snapshot;
}

static void ct_counts_view_init(CtCountsView *self)
{
    gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
    gtk_widget_set_vexpand(GTK_WIDGET(self), TRUE);
}
