/*
 * ct-timeline-canvas.c — the Timeline's drawing and input (see ct-timeline-canvas.h).
 *
 * Each snapshot lays out the visible window (CtTimelineLayout, cached while the
 * window, the width and the data stay the same), then appends only what is on screen:
 * one colour node per bar, per run of equal-height density columns, per marker; one
 * Pango layout per lane label and axis tick. Lines (the cancellation flows) are thin
 * rotated rectangles, so no cairo surface is ever made.
 */
#include "ct-timeline-canvas.h"

#include <ctxtrace/tracer.h>
#include <math.h>

#include "ct-format.h"

#define LEFT_W 270.0     /* lane labels */
#define AXIS_H 24.0
#define DENSITY_H 34.0   /* a lane drawn as a density */
#define ROW_H 11.0       /* a row of bars */
#define LANE_PAD 4.0
#define MIN_LANE_H 30.0  /* room for the two-line label */

struct _CtTimelineCanvas {
    GtkWidget parent_instance;
    CtTraceModel *model;
    CtSpans *spans;            /* the model's, while laid out */
    CtTimelineLayout *layout;
    CtLaneGrouping grouping;
    guint n_slots;             /* slots the layout was built for */
    GArray *lane_y;            /* double per lane, then the total height */
    /* The window laid out (a cache key). */
    double laid_t0, laid_npp;
    int laid_cols;
    guint64 laid_version;
    gint64 laid_now;

    double t0;                 /* absolute ns at the plot's left edge */
    double ns_per_px;          /* 0: fit on the next draw */
    /* Fitted to the data's extent and not zoomed or panned since: the view follows the
     * data as it grows (a live process), refitted when the spans, the clock or the
     * width it was fitted to changed. */
    gboolean fitted;
    guint64 fit_version;
    gint64 fit_now;
    int fit_cols;
    double drag_t0;
    GtkAdjustment *vadj;
    gint64 selected;
    gboolean zoom_pending;     /* zoom to the selection once drawn */
    guint sync_id;             /* the idle bringing the adjustment up to date */
    double scroll_to;          /* where that idle scrolls to (-1: stay) */
    char *site;                /* only this lane (NULL: all) */
    GdkRGBA palette[4];
    char label_buf[64];
};

G_DEFINE_FINAL_TYPE(CtTimelineCanvas, ct_timeline_canvas, GTK_TYPE_WIDGET)

enum { SIGNAL_CONTEXT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void fg_color(GtkWidget *w, GdkRGBA *out)
{
#if GTK_CHECK_VERSION(4, 10, 0)
    gtk_widget_get_color(w, out);
#else
    gtk_style_context_get_color(gtk_widget_get_style_context(w), out);
#endif
}

static double plot_width(CtTimelineCanvas *self)
{
    return MAX(gtk_widget_get_width(GTK_WIDGET(self)) - LEFT_W, 50.0);
}

static gint64 now_ns(CtTimelineCanvas *self)
{
    return ct_trace_model_get_meta(self->model)->now_ns;
}

/* ---- the layout ---------------------------------------------------------------------- */

static const char *lane_label(CtSpans *spans, guint32 slot, gpointer data)
{
    CtTimelineCanvas *self = data;
    if (self->grouping == CT_LANES_BY_THREAD) {
        g_snprintf(self->label_buf, sizeof self->label_buf, "thread %" G_GINT64_FORMAT,
                   ct_spans_thread_id(spans, slot));
        return self->label_buf;
    }
    CtSource *source = ct_trace_model_get_source(self->model);
    return source != NULL ? ct_source_site(source, ct_spans_stack_id(spans, slot)) : NULL;
}

static void drop_layout(CtTimelineCanvas *self)
{
    g_clear_pointer(&self->layout, ct_timeline_layout_free);
    g_clear_pointer(&self->spans, ct_spans_unref);
    self->laid_cols = 0;
}

/* The scrolled height: all lanes' (lane_y's last entry). */
static void sync_adjustment(CtTimelineCanvas *self)
{
    double upper = self->lane_y->len ? g_array_index(self->lane_y, double, self->lane_y->len - 1) : 0;
    double page = MAX(gtk_widget_get_height(GTK_WIDGET(self)) - AXIS_H, 1);
    double value = self->scroll_to >= 0 ? self->scroll_to : gtk_adjustment_get_value(self->vadj);
    self->scroll_to = -1;
    gtk_adjustment_configure(self->vadj, MIN(value, MAX(upper - page, 0)), 0, MAX(upper, page),
                             ROW_H * 3, page * 0.9, page);
}

static gboolean sync_adjustment_cb(gpointer data)
{
    CtTimelineCanvas *self = data;
    self->sync_id = 0;
    sync_adjustment(self);
    return G_SOURCE_REMOVE;
}

/* Lay out the current window if anything it depends on changed. */
static void ensure_layout(CtTimelineCanvas *self)
{
    CtSpans *spans = ct_trace_model_get_spans(self->model);
    guint n_slots = self->grouping == CT_LANES_BY_SITE ? ct_spans_get_n_stacks(spans)
                                                       : ct_spans_get_n_threads(spans);
    if (spans != self->spans || n_slots != self->n_slots || self->layout == NULL) {
        drop_layout(self);
        self->spans = ct_spans_ref(spans);
        self->n_slots = n_slots;
        self->layout = ct_timeline_layout_new(spans, self->grouping, lane_label, self);
    }
    int cols = (int)plot_width(self);
    if (cols == self->laid_cols && self->t0 == self->laid_t0 && self->ns_per_px == self->laid_npp &&
        ct_spans_get_version(spans) == self->laid_version && now_ns(self) == self->laid_now)
        return;
    ct_timeline_layout_update(self->layout, self->t0, self->ns_per_px, cols, now_ns(self));
    self->laid_cols = cols;
    self->laid_t0 = self->t0;
    self->laid_npp = self->ns_per_px;
    self->laid_version = ct_spans_get_version(spans);
    self->laid_now = now_ns(self);

    /* Lane heights: a density is one band, bars need their rows. */
    guint n = ct_timeline_layout_get_n_lanes(self->layout);
    g_array_set_size(self->lane_y, n + 1);
    double y = 0;
    for (guint i = 0; i < n; i++) {
        CtLane *lane = ct_timeline_layout_get_lane(self->layout, i);
        g_array_index(self->lane_y, double, i) = y;
        if (!ct_timeline_canvas_lane_shown(self, i))
            continue; /* filtered out: no height */
        y += lane->detail ? MAX(MIN_LANE_H, lane->rows * ROW_H + 2 * LANE_PAD) : DENSITY_H;
    }
    g_array_index(self->lane_y, double, n) = y;
    /* Not here: this runs inside a snapshot, and the scrollbar answers a changed
     * adjustment with a resize — which, during a snapshot, leaves the window's panes
     * unallocated (a blank window). The adjustment follows from an idle. */
    if (self->sync_id == 0)
        self->sync_id = g_idle_add(sync_adjustment_cb, self);
}

static double lane_top(CtTimelineCanvas *self, guint lane)
{
    return g_array_index(self->lane_y, double, lane);
}

/* ---- zoom and pan -------------------------------------------------------------------- */

void ct_timeline_canvas_zoom_fit(CtTimelineCanvas *self)
{
    if (self->model == NULL)
        return;
    gint64 from, to;
    ct_spans_get_extent(ct_trace_model_get_spans(self->model), now_ns(self), &from, &to);
    if (to <= from) { /* nothing yet: the trace's own span */
        from = ct_trace_model_get_meta(self->model)->start_ns;
        to = MAX(now_ns(self), from + 1000);
    }
    double span = (double)(to - from);
    self->ns_per_px = span * 1.04 / plot_width(self);
    self->t0 = (double)from - span * 0.02;
    self->fitted = TRUE;
    self->fit_version = ct_spans_get_version(ct_trace_model_get_spans(self->model));
    self->fit_now = now_ns(self);
    self->fit_cols = (int)plot_width(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* Fitted, and the data, the clock or the width moved on since: fit again. */
static gboolean fit_is_stale(CtTimelineCanvas *self)
{
    return self->fitted &&
           (ct_spans_get_version(ct_trace_model_get_spans(self->model)) != self->fit_version ||
            now_ns(self) != self->fit_now || (int)plot_width(self) != self->fit_cols);
}

/* Zoom by `factor` keeping the time under plot x in place. */
static void zoom_at(CtTimelineCanvas *self, double factor, double x)
{
    if (self->ns_per_px <= 0)
        return;
    double t = self->t0 + x * self->ns_per_px;
    self->fitted = FALSE;
    self->ns_per_px = CLAMP(self->ns_per_px * factor, 0.01, 1e13);
    self->t0 = t - x * self->ns_per_px;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ct_timeline_canvas_zoom(CtTimelineCanvas *self, double factor)
{
    zoom_at(self, factor, plot_width(self) / 2);
}

static void pan(CtTimelineCanvas *self, double px)
{
    self->fitted = FALSE;
    self->t0 += px * self->ns_per_px;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* ---- drawing ------------------------------------------------------------------------- */

static void rect(GtkSnapshot *s, const GdkRGBA *c, double x, double y, double w, double h)
{
    gtk_snapshot_append_color(s, c, &GRAPHENE_RECT_INIT((float)x, (float)y, (float)w, (float)h));
}

static GdkRGBA with_alpha(const GdkRGBA *c, double a)
{
    GdkRGBA out = *c;
    out.alpha = (float)(c->alpha * a);
    return out;
}

/* A 1 px line as a rotated rectangle. */
static void line(GtkSnapshot *s, const GdkRGBA *c, double x0, double y0, double x1, double y1)
{
    double len = hypot(x1 - x0, y1 - y0);
    if (len < 0.5)
        return;
    gtk_snapshot_save(s);
    gtk_snapshot_translate(s, &GRAPHENE_POINT_INIT((float)x0, (float)y0));
    gtk_snapshot_rotate(s, (float)(atan2(y1 - y0, x1 - x0) * 180 / G_PI));
    rect(s, c, 0, -0.5, len, 1);
    gtk_snapshot_restore(s);
}

static void text(CtTimelineCanvas *self, GtkSnapshot *s, const char *str, double x, double y,
                 double width, const GdkRGBA *c, gboolean small, PangoEllipsizeMode ellipsize)
{
    PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), str);
    if (small) {
        PangoAttrList *attrs = pango_attr_list_new();
        pango_attr_list_insert(attrs, pango_attr_scale_new(PANGO_SCALE_SMALL));
        pango_layout_set_attributes(layout, attrs);
        pango_attr_list_unref(attrs);
    }
    if (width > 0) {
        pango_layout_set_width(layout, (int)(width * PANGO_SCALE));
        pango_layout_set_ellipsize(layout, ellipsize);
    }
    gtk_snapshot_save(s);
    gtk_snapshot_translate(s, &GRAPHENE_POINT_INIT((float)x, (float)y));
    gtk_snapshot_append_layout(s, layout, c);
    gtk_snapshot_restore(s);
    g_object_unref(layout);
}

static double x_of(CtTimelineCanvas *self, double ns)
{
    return LEFT_W + (ns - self->t0) / self->ns_per_px;
}

/* A tick's time (from the start of the trace) with as many decimals as the step needs. */
static char *axis_label(double t, double step)
{
    static const struct { double ns; const char *unit; } units[] = {
        {1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}};
    guint u = 0;
    while (u + 1 < G_N_ELEMENTS(units) && fabs(t) < units[u].ns && fabs(step) < units[u].ns)
        u++;
    int decimals = (int)CLAMP(ceil(-log10(step / units[u].ns)), 0, 9);
    if (fabs(t) < step / 2)
        t = 0; /* not "-0 s" */
    return g_strdup_printf("%.*f %s", decimals, t / units[u].ns, units[u].unit);
}

static void draw_axis(CtTimelineCanvas *self, GtkSnapshot *s, int width, const GdkRGBA *fg)
{
    GdkRGBA band = with_alpha(fg, 0.07), tick = with_alpha(fg, 0.5), grid = with_alpha(fg, 0.06);
    rect(s, &band, 0, 0, width, AXIS_H);
    double start = (double)ct_trace_model_get_meta(self->model)->start_ns;
    /* A step of 1, 2 or 5 × 10^k ns giving ticks at least ~100 px apart. */
    double raw = self->ns_per_px * 100, step = pow(10, floor(log10(raw)));
    step = raw <= step ? step : raw <= 2 * step ? 2 * step : raw <= 5 * step ? 5 * step : 10 * step;
    double from = self->t0 - start, to = from + plot_width(self) * self->ns_per_px;
    for (double t = ceil(from / step) * step; t < to; t += step) {
        double x = x_of(self, t + start);
        rect(s, &tick, x, AXIS_H - 6, 1, 6);
        rect(s, &grid, x, AXIS_H, 1, gtk_widget_get_height(GTK_WIDGET(self)) - AXIS_H);
        g_autofree char *label = axis_label(t, step);
        text(self, s, label, x + 3, 3, 0, fg, TRUE, PANGO_ELLIPSIZE_NONE);
    }
    text(self, s, "since the trace started", 6, 3, LEFT_W - 12, &tick, TRUE, PANGO_ELLIPSIZE_END);
}

/* The two-line label: the function (or the thread), then file:line and how many
 * contexts the lane holds — so neither the function nor the line is cut. */
static void draw_label(CtTimelineCanvas *self, GtkSnapshot *s, CtLane *lane, double y,
                       const GdkRGBA *fg)
{
    const char *sp = self->grouping == CT_LANES_BY_SITE ? strrchr(lane->label, ' ') : NULL;
    g_autofree char *what = sp ? g_strndup(lane->label, sp - lane->label) : g_strdup(lane->label);
    GdkRGBA dim = with_alpha(fg, 0.65);
    text(self, s, what, 8, y + 2, LEFT_W - 16, fg, TRUE, PANGO_ELLIPSIZE_END);
    g_autofree char *n = ct_format_count(lane->n_spans);
    g_autofree char *leaked = lane->n_leaked ? ct_format_count(lane->n_leaked) : NULL;
    g_autofree char *second = g_strdup_printf("%s%s%s context%s%s%s%s", sp ? sp + 1 : "",
                                              sp ? " · " : "", n, lane->n_spans == 1 ? "" : "s",
                                              leaked ? " · " : "", leaked ? leaked : "",
                                              leaked ? " leaked" : "");
    text(self, s, second, 8, y + 15, LEFT_W - 16, &dim, TRUE, PANGO_ELLIPSIZE_START);
}

/* States stacked bottom-up: what matters most sits on the baseline. */
static const CtState stack_order[] = {CT_STATE_LEAKED, CT_STATE_LIVE, CT_STATE_DEADLINE,
                                      CT_STATE_CANCELLED};

static void draw_density(CtTimelineCanvas *self, GtkSnapshot *s, CtLane *lane, double y)
{
    int cols = self->laid_cols;
    double h = DENSITY_H - 2 * LANE_PAD, base = y + DENSITY_H - LANE_PAD;
    if (lane->peak == 0)
        return;
    /* Per column, the stacked heights; runs of columns with equal heights are one node. */
    int c = 0;
    while (c < cols) {
        double tops[4];
        double acc = 0;
        for (int k = 0; k < 4; k++) {
            acc += lane->live[(gsize)stack_order[k] * (cols + 1) + c];
            tops[k] = round(acc * h / lane->peak * 2) / 2; /* half pixels */
        }
        int run = 1;
        while (c + run < cols) {
            double acc2 = 0;
            gboolean same = TRUE;
            for (int k = 0; k < 4 && same; k++) {
                acc2 += lane->live[(gsize)stack_order[k] * (cols + 1) + c + run];
                same = round(acc2 * h / lane->peak * 2) / 2 == tops[k];
            }
            if (!same)
                break;
            run++;
        }
        double below = 0;
        for (int k = 0; k < 4; k++) {
            double part = tops[k] - below;
            if (part > 0) {
                GdkRGBA col = with_alpha(&self->palette[stack_order[k]], 0.85);
                rect(s, &col, LEFT_W + c, base - tops[k], run, part);
            }
            below = tops[k];
        }
        c += run;
    }
}

/* Where a bar on screen was cancelled, and by what. */
typedef struct {
    double x_cancel, y;
    gint64 parent_id;
    gboolean by_parent;
} FlowEnd;

static void draw_bars(CtTimelineCanvas *self, GtkSnapshot *s, CtLane *lane, double y,
                      const GdkRGBA *fg, GHashTable *cancel_points)
{
    GdkRGBA mark = with_alpha(fg, 0.9), sel = with_alpha(fg, 0.95);
    for (guint i = 0; i < lane->bars->len; i++) {
        const CtBar *bar = &g_array_index(lane->bars, CtBar, i);
        const CtSpan *sp = ct_spans_get(self->spans, bar->span);
        double x0 = x_of(self, (double)sp->created_ns);
        double x1 = x_of(self, (double)(sp->end_ns ? sp->end_ns : now_ns(self)));
        x0 = MAX(x0, LEFT_W - 2);
        x1 = MIN(MAX(x1, x0 + 2), LEFT_W + plot_width(self) + 2);
        double by = y + LANE_PAD + bar->row * ROW_H;
        if (sp->id == self->selected)
            rect(s, &sel, x0 - 2, by - 1, x1 - x0 + 4, ROW_H);
        GdkRGBA col = with_alpha(&self->palette[sp->state], sp->end_ns ? 0.8 : 1.0);
        rect(s, &col, x0, by + 1, x1 - x0, ROW_H - 3);
        if (sp->canceled_ns != 0) {
            double xc = x_of(self, (double)sp->canceled_ns);
            if (sp->why == CTX_WHY_EXPLICIT + 1) /* where a cancellation started */
                rect(s, &mark, xc - 1, by, 2, ROW_H - 1);
            FlowEnd *end = g_new(FlowEnd, 1);
            *end = (FlowEnd){xc, by + (ROW_H - 1) / 2, sp->parent_id, sp->why == CTX_WHY_PARENT + 1};
            g_hash_table_insert(cancel_points, g_memdup2(&sp->id, sizeof sp->id), end);
        }
        if (sp->fired) { /* its timer fired: a small mark at the end */
            GdkRGBA warn = self->palette[CT_STATE_DEADLINE];
            rect(s, &warn, x1 - 3, by - 1, 3, 3);
        }
    }
}

/* Cancellations running down the tree: a line from where a parent was cancelled to
 * where each child it cancelled was, both drawn as bars. */
static void draw_flows(GtkSnapshot *s, GHashTable *cancel_points, const GdkRGBA *fg)
{
    GdkRGBA c = with_alpha(fg, 0.45);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, cancel_points);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        FlowEnd *e = value, *p = e->by_parent ? g_hash_table_lookup(cancel_points, &e->parent_id) : NULL;
        if (p != NULL)
            line(s, &c, p->x_cancel, p->y, e->x_cancel, e->y);
    }
}

static void zoom_to_selected(CtTimelineCanvas *self);

static void ct_timeline_canvas_snapshot(GtkWidget *widget, GtkSnapshot *s)
{
    CtTimelineCanvas *self = CT_TIMELINE_CANVAS(widget);
    int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    GdkRGBA fg;
    fg_color(widget, &fg);
    if (self->model == NULL || width <= 0 || height <= 0)
        return;
    if (ct_spans_get_len(ct_trace_model_get_spans(self->model)) == 0) {
        GdkRGBA dim = with_alpha(&fg, 0.6);
        text(self, s, "No contexts to show (yet)", 0, height / 2.0 - 8, width, &dim, FALSE,
             PANGO_ELLIPSIZE_END);
        return;
    }
    if (self->ns_per_px <= 0 || fit_is_stale(self))
        ct_timeline_canvas_zoom_fit(self);
    if (self->zoom_pending)
        zoom_to_selected(self);
    ensure_layout(self);

    double top = gtk_adjustment_get_value(self->vadj);
    guint n = ct_timeline_layout_get_n_lanes(self->layout);
    GdkRGBA stripe = with_alpha(&fg, 0.035), rule = with_alpha(&fg, 0.12);
    /* Flows are only followed among the bars on screen; the map is of those. */
    g_autoptr(GHashTable) cancel_points = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);

    gtk_snapshot_push_clip(s, &GRAPHENE_RECT_INIT(0, AXIS_H, (float)width, (float)(height - AXIS_H)));
    for (guint i = 0; i < n; i++) {
        double y = AXIS_H + lane_top(self, i) - top, h = lane_top(self, i + 1) - lane_top(self, i);
        if (h <= 0 || y + h < AXIS_H)
            continue;
        if (y > height)
            break;
        CtLane *lane = ct_timeline_layout_get_lane(self->layout, i);
        if (i % 2 == 1)
            rect(s, &stripe, 0, y, width, h);
        rect(s, &rule, 0, y + h - 1, width, 1);
        gtk_snapshot_push_clip(s, &GRAPHENE_RECT_INIT(0, (float)y, (float)LEFT_W - 4, (float)h));
        draw_label(self, s, lane, y, &fg);
        gtk_snapshot_pop(s);
        gtk_snapshot_push_clip(s, &GRAPHENE_RECT_INIT((float)LEFT_W, (float)y,
                                                      (float)(width - LEFT_W), (float)h));
        if (lane->detail)
            draw_bars(self, s, lane, y, &fg, cancel_points);
        else
            draw_density(self, s, lane, y);
        gtk_snapshot_pop(s);
    }
    gtk_snapshot_push_clip(s, &GRAPHENE_RECT_INIT((float)LEFT_W, AXIS_H, (float)(width - LEFT_W),
                                                  (float)(height - AXIS_H)));
    draw_flows(s, cancel_points, &fg);
    gtk_snapshot_pop(s);
    gtk_snapshot_pop(s);
    draw_axis(self, s, width, &fg);
}

/* ---- input ----------------------------------------------------------------------------- */

static guint lane_at(CtTimelineCanvas *self, double y, double *lane_y)
{
    if (self->layout == NULL || y < AXIS_H)
        return G_MAXUINT;
    double ly = y - AXIS_H + gtk_adjustment_get_value(self->vadj);
    guint n = ct_timeline_layout_get_n_lanes(self->layout);
    for (guint i = 0; i < n; i++)
        if (ly >= lane_top(self, i) && ly < lane_top(self, i + 1)) {
            *lane_y = ly - lane_top(self, i);
            return i;
        }
    return G_MAXUINT;
}

static void select_span(CtTimelineCanvas *self, const CtSpan *sp)
{
    self->selected = sp->id;
    gtk_widget_queue_draw(GTK_WIDGET(self));
    g_signal_emit(self, signals[SIGNAL_CONTEXT_SELECTED], 0, sp->id);
}

static void pressed_cb(GtkGestureClick *g, int n_press, double x, double y, CtTimelineCanvas *self)
{
    (void)g;
    (void)n_press;
    gtk_widget_grab_focus(GTK_WIDGET(self));
    double ly;
    guint l = lane_at(self, y, &ly);
    if (l == G_MAXUINT || x < LEFT_W)
        return;
    CtLane *lane = ct_timeline_layout_get_lane(self->layout, l);
    if (!lane->detail) { /* a density: look closer there */
        zoom_at(self, 0.25, x - LEFT_W);
        return;
    }
    guint row = (guint)MAX((ly - LANE_PAD) / ROW_H, 0);
    double t = self->t0 + (x - LEFT_W) * self->ns_per_px, slack = 3 * self->ns_per_px;
    for (guint i = 0; i < lane->bars->len; i++) {
        const CtBar *bar = &g_array_index(lane->bars, CtBar, i);
        const CtSpan *sp = ct_spans_get(self->spans, bar->span);
        gint64 end = sp->end_ns ? sp->end_ns : now_ns(self);
        if (bar->row == row && t >= (double)sp->created_ns - slack && t <= (double)end + slack) {
            select_span(self, sp);
            return;
        }
    }
}

static void drag_begin_cb(GtkGestureDrag *g, double x, double y, CtTimelineCanvas *self)
{
    (void)g;
    (void)x;
    (void)y;
    self->drag_t0 = self->t0;
}

static void drag_update_cb(GtkGestureDrag *g, double dx, double dy, CtTimelineCanvas *self)
{
    (void)g;
    (void)dy;
    self->fitted = FALSE;
    self->t0 = self->drag_t0 - dx * self->ns_per_px;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static gboolean scroll_cb(GtkEventControllerScroll *c, double dx, double dy, CtTimelineCanvas *self)
{
    GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(c));
    if (mods & GDK_CONTROL_MASK) {
        double x = 0, y = 0;
        GdkEvent *ev = gtk_event_controller_get_current_event(GTK_EVENT_CONTROLLER(c));
        if (ev != NULL)
            gdk_event_get_position(ev, &x, &y);
        zoom_at(self, dy > 0 ? 1.25 : 0.8, MAX(x - LEFT_W, 0));
    } else if ((mods & GDK_SHIFT_MASK) || dx != 0) {
        pan(self, (dx != 0 ? dx : dy) * 40);
    } else {
        gtk_adjustment_set_value(self->vadj, gtk_adjustment_get_value(self->vadj) + dy * 3 * ROW_H);
    }
    return TRUE;
}

/* The previous or next bar of the selected context's lane. */
static void step_selection(CtTimelineCanvas *self, int dir)
{
    if (self->layout == NULL)
        return;
    guint n = ct_timeline_layout_get_n_lanes(self->layout);
    for (guint l = 0; l < n; l++) {
        CtLane *lane = ct_timeline_layout_get_lane(self->layout, l);
        for (guint i = 0; i < lane->bars->len; i++) {
            const CtSpan *sp = ct_spans_get(self->spans, g_array_index(lane->bars, CtBar, i).span);
            if (sp->id != self->selected)
                continue;
            int j = (int)i + dir;
            if (j >= 0 && j < (int)lane->bars->len)
                select_span(self, ct_spans_get(self->spans, g_array_index(lane->bars, CtBar, j).span));
            return;
        }
    }
}

static gboolean key_cb(GtkEventControllerKey *c, guint key, guint code, GdkModifierType mods,
                       CtTimelineCanvas *self)
{
    (void)c;
    (void)code;
    (void)mods;
    switch (key) {
    case GDK_KEY_plus: case GDK_KEY_equal: case GDK_KEY_KP_Add: ct_timeline_canvas_zoom(self, 0.5); return TRUE;
    case GDK_KEY_minus: case GDK_KEY_KP_Subtract: ct_timeline_canvas_zoom(self, 2.0); return TRUE;
    case GDK_KEY_0: ct_timeline_canvas_zoom_fit(self); return TRUE;
    case GDK_KEY_Left: pan(self, -plot_width(self) / 8); return TRUE;
    case GDK_KEY_Right: pan(self, plot_width(self) / 8); return TRUE;
    case GDK_KEY_Up: step_selection(self, -1); return TRUE;
    case GDK_KEY_Down: step_selection(self, 1); return TRUE;
    default: return FALSE;
    }
}

/* ---- public ------------------------------------------------------------------------------- */

static void timeline_changed_cb(CtTraceModel *model, CtTimelineCanvas *self)
{
    (void)model;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ct_timeline_canvas_set_model(CtTimelineCanvas *self, CtTraceModel *model)
{
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_set_object(&self->model, model);
    drop_layout(self);
    self->ns_per_px = 0; /* fit on the next draw */
    self->selected = 0;
    self->zoom_pending = FALSE;
    gtk_adjustment_set_value(self->vadj, 0);
    g_signal_connect(model, "timeline-changed", G_CALLBACK(timeline_changed_cb), self);
    g_signal_connect(model, "meta-changed", G_CALLBACK(timeline_changed_cb), self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ct_timeline_canvas_set_grouping(CtTimelineCanvas *self, CtLaneGrouping grouping)
{
    if (self->grouping == grouping)
        return;
    self->grouping = grouping;
    drop_layout(self);
    gtk_adjustment_set_value(self->vadj, 0);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ct_timeline_canvas_set_site(CtTimelineCanvas *self, const char *site)
{
    g_free(self->site);
    self->site = g_strdup(site);
    self->laid_cols = 0; /* lay out again */
    gtk_adjustment_set_value(self->vadj, 0);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean ct_timeline_canvas_lane_shown(CtTimelineCanvas *self, guint i)
{
    return self->site == NULL || self->grouping != CT_LANES_BY_SITE ||
           g_strcmp0(ct_timeline_layout_get_lane(self->layout, i)->label, self->site) == 0;
}

void ct_timeline_canvas_set_palette(CtTimelineCanvas *self, const GdkRGBA colors[4])
{
    memcpy(self->palette, colors, sizeof self->palette);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

GtkAdjustment *ct_timeline_canvas_get_vadjustment(CtTimelineCanvas *self)
{
    return self->vadj;
}

/* Zoom to the selected context: its lifespan in the middle third of the plot (few
 * enough neighbours there to be drawn as bars), its lane scrolled into view. */
static void zoom_to_selected(CtTimelineCanvas *self)
{
    self->zoom_pending = FALSE;
    const CtSpan *sp = self->selected ? ct_spans_find(ct_trace_model_get_spans(self->model), self->selected)
                                      : NULL;
    if (sp == NULL)
        return;
    gint64 end = sp->end_ns ? sp->end_ns : now_ns(self);
    double life = MAX((double)(end - sp->created_ns), 1000.0);
    self->fitted = FALSE;
    self->ns_per_px = life * 3 / plot_width(self);
    self->t0 = (double)sp->created_ns - life;
    ensure_layout(self);
    guint l = ct_timeline_layout_lane_of(self->layout, sp);
    double y = lane_top(self, l), page = gtk_adjustment_get_page_size(self->vadj);
    double v = gtk_adjustment_get_value(self->vadj);
    /* Scrolled from the idle too (this may run inside a snapshot; see ensure_layout). */
    if (y < v || y + DENSITY_H > v + page) {
        self->scroll_to = MAX(y - page / 3, 0);
        if (self->sync_id == 0)
            self->sync_id = g_idle_add(sync_adjustment_cb, self);
    }
}

void ct_timeline_canvas_select(CtTimelineCanvas *self, gint64 id)
{
    self->selected = id;
    /* Hidden (another view is shown), the width is not known: zoom when drawn. */
    self->zoom_pending = TRUE;
    if (self->model != NULL && gtk_widget_get_mapped(GTK_WIDGET(self)) &&
        ct_spans_get_len(ct_trace_model_get_spans(self->model)) > 0)
        zoom_to_selected(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

CtTimelineLayout *ct_timeline_canvas_get_layout(CtTimelineCanvas *self)
{
    return self->layout;
}

void ct_timeline_canvas_get_span(CtTimelineCanvas *self, double *from_ns, double *to_ns)
{
    double start = self->model ? (double)ct_trace_model_get_meta(self->model)->start_ns : 0;
    *from_ns = self->t0 - start;
    *to_ns = *from_ns + plot_width(self) * self->ns_per_px;
}

gboolean ct_timeline_canvas_shows_bar(CtTimelineCanvas *self, gint64 id)
{
    if (self->layout == NULL)
        return FALSE;
    const CtSpan *sp = ct_spans_find(self->spans, id);
    if (sp == NULL)
        return FALSE;
    CtLane *lane = ct_timeline_layout_get_lane(self->layout, ct_timeline_layout_lane_of(self->layout, sp));
    for (guint i = 0; i < lane->bars->len; i++)
        if (ct_spans_get(self->spans, g_array_index(lane->bars, CtBar, i).span) == sp)
            return TRUE;
    return FALSE;
}

GtkWidget *ct_timeline_canvas_new(void)
{
    return g_object_new(CT_TYPE_TIMELINE_CANVAS, NULL);
}

static void ct_timeline_canvas_size_allocate(GtkWidget *widget, int width, int height, int baseline)
{
    (void)width;
    (void)height;
    (void)baseline;
    sync_adjustment(CT_TIMELINE_CANVAS(widget));
}

static void ct_timeline_canvas_dispose(GObject *object)
{
    CtTimelineCanvas *self = CT_TIMELINE_CANVAS(object);
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_clear_object(&self->model);
    drop_layout(self);
    if (self->sync_id != 0)
        g_source_remove(self->sync_id);
    self->sync_id = 0;
    g_clear_object(&self->vadj);
    g_clear_pointer(&self->site, g_free);
    G_OBJECT_CLASS(ct_timeline_canvas_parent_class)->dispose(object);
}

static void ct_timeline_canvas_finalize(GObject *object)
{
    g_array_unref(CT_TIMELINE_CANVAS(object)->lane_y);
    G_OBJECT_CLASS(ct_timeline_canvas_parent_class)->finalize(object);
}

static void ct_timeline_canvas_class_init(CtTimelineCanvasClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_timeline_canvas_dispose;
    G_OBJECT_CLASS(klass)->finalize = ct_timeline_canvas_finalize;
    widget_class->snapshot = ct_timeline_canvas_snapshot;
    widget_class->size_allocate = ct_timeline_canvas_size_allocate;
    gtk_widget_class_set_css_name(widget_class, "timeline");
    signals[SIGNAL_CONTEXT_SELECTED] =
        g_signal_new("context-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void ct_timeline_canvas_init(CtTimelineCanvas *self)
{
    GtkWidget *w = GTK_WIDGET(self);
    self->lane_y = g_array_new(FALSE, TRUE, sizeof(double));
    self->scroll_to = -1;
    self->vadj = g_object_ref_sink(gtk_adjustment_new(0, 0, 1, 1, 1, 1));
    g_signal_connect_swapped(self->vadj, "value-changed", G_CALLBACK(gtk_widget_queue_draw), self);
    /* Until the view hands over the theme's: the GNOME palette's. */
    gdk_rgba_parse(&self->palette[CT_STATE_LIVE], "#2ec27e");
    gdk_rgba_parse(&self->palette[CT_STATE_CANCELLED], "#3584e4");
    gdk_rgba_parse(&self->palette[CT_STATE_DEADLINE], "#e5a50a");
    gdk_rgba_parse(&self->palette[CT_STATE_LEAKED], "#e01b24");
    gtk_widget_set_focusable(w, TRUE);
    gtk_widget_set_hexpand(w, TRUE);
    gtk_widget_set_vexpand(w, TRUE);
    gtk_widget_set_overflow(w, GTK_OVERFLOW_HIDDEN);

    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(pressed_cb), self);
    gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(click));
    GtkGesture *drag = gtk_gesture_drag_new();
    g_signal_connect(drag, "drag-begin", G_CALLBACK(drag_begin_cb), self);
    g_signal_connect(drag, "drag-update", G_CALLBACK(drag_update_cb), self);
    gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(drag));
    GtkEventController *scroll = gtk_event_controller_scroll_new(
        GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
    g_signal_connect(scroll, "scroll", G_CALLBACK(scroll_cb), self);
    gtk_widget_add_controller(w, scroll);
    GtkEventController *keys = gtk_event_controller_key_new();
    g_signal_connect(keys, "key-pressed", G_CALLBACK(key_cb), self);
    gtk_widget_add_controller(w, keys);
}
