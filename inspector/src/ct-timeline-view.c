/*
 * ct-timeline-view.c — lifespans over time (see ct-timeline-view.h).
 *
 * The view keeps its own horizontal scale (t0, ns per pixel) and draws only the lanes
 * inside the scrolled window's visible rows, so a full timeline of CT_TIMELINE_MAX
 * contexts costs a screenful of bars per frame. Lanes are rebuilt when the model's
 * timeline or the grouping changes.
 */
#include "ct-timeline-view.h"

#include <ctxtrace/tracer.h>
#include <math.h>

#include "ct-format.h"
#include "ct-resources.h"

#define LANE_H 16.0
#define LEFT_W 220.0 /* lane labels */
#define AXIS_H 22.0

typedef struct {
    CtContextItem *item; /* NULL: a group header */
    const char *header;  /* interned, headers only */
    int depth;           /* nesting in subtree grouping */
} Lane;

struct _CtTimelineView {
    GtkBox parent_instance;
    GtkDropDown *group_by;
    GtkLabel *info;
    GtkScrolledWindow *scroller;
    GtkDrawingArea *canvas;

    CtTraceModel *model;
    GArray *lanes;        /* Lane */
    GHashTable *lane_of;  /* id -> lane index + 1 */
    gboolean by_site;
    double t0;            /* ns since the start of the trace at the left edge */
    double ns_per_px;
    gint64 selected;
    double drag_t0;
};

G_DEFINE_FINAL_TYPE(CtTimelineView, ct_timeline_view, GTK_TYPE_BOX)

enum { SIGNAL_CONTEXT_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static gint64 trace_span(CtTimelineView *self)
{
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    return MAX(m->now_ns - m->start_ns, 1000);
}

static double plot_width(CtTimelineView *self)
{
    return MAX(gtk_widget_get_width(GTK_WIDGET(self->canvas)) - LEFT_W, 50.0);
}

static void zoom_fit_cb(CtTimelineView *self)
{
    if (self->model == NULL)
        return;
    self->t0 = 0;
    self->ns_per_px = (double)trace_span(self) * 1.02 / plot_width(self);
    gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

/* Zoom by `factor` keeping the time under x (plot coordinates) in place. */
static void zoom_at(CtTimelineView *self, double factor, double x)
{
    double t = self->t0 + x * self->ns_per_px;
    self->ns_per_px = CLAMP(self->ns_per_px * factor, 0.05, (double)trace_span(self));
    self->t0 = t - x * self->ns_per_px;
    gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

static void zoom_in_cb(CtTimelineView *self)
{
    zoom_at(self, 0.5, plot_width(self) / 2);
}

static void zoom_out_cb(CtTimelineView *self)
{
    zoom_at(self, 2.0, plot_width(self) / 2);
}

static void pan(CtTimelineView *self, double px)
{
    self->t0 += px * self->ns_per_px;
    gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

/* ---- lanes --------------------------------------------------------------------------- */

static int by_site_cmp(gconstpointer a, gconstpointer b)
{
    CtContextItem *x = *(CtContextItem **)a, *y = *(CtContextItem **)b;
    int c = g_strcmp0(ct_context_item_get_site(x), ct_context_item_get_site(y));
    if (c != 0)
        return c;
    gint64 i = ct_context_item_get_id(x), j = ct_context_item_get_id(y);
    return i < j ? -1 : i > j;
}

static void add_lane(CtTimelineView *self, CtContextItem *item, const char *header, int depth)
{
    Lane lane = {item, header, depth};
    g_array_append_val(self->lanes, lane);
    if (item != NULL) {
        gint64 id = ct_context_item_get_id(item);
        g_hash_table_insert(self->lane_of, g_memdup2(&id, sizeof id),
                            GUINT_TO_POINTER(self->lanes->len));
    }
}

/* Depth-first from `item` through the timeline's own parent -> children map. */
static void add_subtree(CtTimelineView *self, GHashTable *kids, CtContextItem *item, int depth)
{
    add_lane(self, item, NULL, depth);
    gint64 id = ct_context_item_get_id(item);
    GPtrArray *children = g_hash_table_lookup(kids, &id);
    for (guint i = 0; children != NULL && i < children->len; i++)
        add_subtree(self, kids, g_ptr_array_index(children, i), MIN(depth + 1, 12));
}

static void rebuild_lanes(CtTimelineView *self)
{
    g_array_set_size(self->lanes, 0);
    g_hash_table_remove_all(self->lane_of);
    if (self->model == NULL)
        return;
    GPtrArray *items = ct_trace_model_get_timeline(self->model);
    if (self->by_site) {
        g_autoptr(GPtrArray) sorted = g_ptr_array_copy(items, NULL, NULL);
        g_ptr_array_sort(sorted, by_site_cmp);
        const char *group = NULL;
        for (guint i = 0; i < sorted->len; i++) {
            CtContextItem *it = g_ptr_array_index(sorted, i);
            const char *site = ct_context_item_get_site(it);
            if (i == 0 || site != group)
                add_lane(self, NULL, site ? site : "(unknown site)", 0);
            group = site;
            add_lane(self, it, NULL, 0);
        }
    } else {
        g_autoptr(GHashTable) in = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        g_autoptr(GHashTable) kids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                           (GDestroyNotify)g_ptr_array_unref);
        for (guint i = 0; i < items->len; i++) {
            gint64 id = ct_context_item_get_id(g_ptr_array_index(items, i));
            g_hash_table_add(in, g_memdup2(&id, sizeof id));
        }
        for (guint i = 0; i < items->len; i++) {
            CtContextItem *it = g_ptr_array_index(items, i);
            gint64 parent = ct_context_item_get_parent_id(it);
            if (!g_hash_table_contains(in, &parent))
                continue;
            GPtrArray *c = g_hash_table_lookup(kids, &parent);
            if (c == NULL) {
                c = g_ptr_array_new();
                g_hash_table_insert(kids, g_memdup2(&parent, sizeof parent), c);
            }
            g_ptr_array_add(c, it);
        }
        for (guint i = 0; i < items->len; i++) {
            CtContextItem *it = g_ptr_array_index(items, i);
            gint64 parent = ct_context_item_get_parent_id(it);
            if (!g_hash_table_contains(in, &parent))
                add_subtree(self, kids, it, 0);
        }
    }
    gtk_drawing_area_set_content_height(self->canvas, (int)(AXIS_H + LANE_H * self->lanes->len + 4));
    g_autofree char *shown = ct_format_count(items->len);
    const CtTraceMeta *meta = ct_trace_model_get_meta(self->model);
    g_autofree char *all = ct_format_count(meta->contexts >= 0 ? meta->contexts : (gint64)items->len);
    g_autofree char *info = (gint64)items->len < meta->contexts
                                ? g_strdup_printf("the first %s of %s contexts", shown, all)
                                : g_strdup_printf("%s contexts", shown);
    gtk_label_set_text(self->info, info);
    gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

/* ---- drawing --------------------------------------------------------------------------- */

static void state_color(cairo_t *cr, CtState s, double alpha)
{
    switch (s) {
    case CT_STATE_LEAKED: cairo_set_source_rgba(cr, 0.88, 0.11, 0.14, alpha); break;
    case CT_STATE_DEADLINE: cairo_set_source_rgba(cr, 0.90, 0.57, 0.04, alpha); break;
    case CT_STATE_CANCELLED: cairo_set_source_rgba(cr, 0.38, 0.53, 0.80, alpha); break;
    case CT_STATE_LIVE: cairo_set_source_rgba(cr, 0.18, 0.65, 0.35, alpha); break;
    }
}

static double x_of(CtTimelineView *self, gint64 ns)
{
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    return LEFT_W + ((double)(ns - m->start_ns) - self->t0) / self->ns_per_px;
}

/* A tick's time with as many decimals as the step needs to tell ticks apart. */
static char *axis_label(double t, double step)
{
    static const struct { double ns; const char *unit; } units[] = {
        {1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}};
    guint u = 0;
    while (u + 1 < G_N_ELEMENTS(units) && fabs(t) < units[u].ns)
        u++;
    int decimals = (int)CLAMP(ceil(-log10(step / units[u].ns)), 0, 9);
    return g_strdup_printf("%.*f %s", decimals, t / units[u].ns, units[u].unit);
}

static void draw_axis(CtTimelineView *self, cairo_t *cr, double top, int width, GdkRGBA *fg)
{
    double w = width - LEFT_W;
    /* A step of 1, 2 or 5 × 10^k ns giving ticks at least ~90 px apart. */
    double raw = self->ns_per_px * 90, step = pow(10, floor(log10(raw)));
    step = raw <= step ? step : raw <= 2 * step ? 2 * step : raw <= 5 * step ? 5 * step : 10 * step;
    cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.08);
    cairo_rectangle(cr, 0, top, width, AXIS_H);
    cairo_fill(cr);
    cairo_set_font_size(cr, 10);
    for (double t = ceil(self->t0 / step) * step; t < self->t0 + w * self->ns_per_px; t += step) {
        double x = LEFT_W + (t - self->t0) / self->ns_per_px;
        cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.5);
        cairo_move_to(cr, x + 0.5, top + AXIS_H - 6);
        cairo_line_to(cr, x + 0.5, top + AXIS_H);
        cairo_stroke(cr);
        g_autofree char *label = axis_label(t, step);
        cairo_move_to(cr, x + 3, top + 12);
        cairo_show_text(cr, label);
    }
}

static void draw_lane(CtTimelineView *self, cairo_t *cr, guint i, double y, int width, GdkRGBA *fg)
{
    Lane *lane = &g_array_index(self->lanes, Lane, i);
    if (lane->item == NULL) {
        cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.10);
        cairo_rectangle(cr, 0, y, width, LANE_H);
        cairo_fill(cr);
        cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.9);
        cairo_set_font_size(cr, 11);
        cairo_move_to(cr, 4, y + LANE_H - 4);
        cairo_show_text(cr, lane->header);
        return;
    }
    CtContextItem *it = lane->item;
    const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
    gint64 id = ct_context_item_get_id(it);
    if (id == self->selected) {
        cairo_set_source_rgba(cr, 0.21, 0.52, 0.89, 0.25);
        cairo_rectangle(cr, 0, y, width, LANE_H);
        cairo_fill(cr);
    }
    CtState state = ct_context_item_get_state(it, m->complete);
    double x0 = x_of(self, ct_context_item_get(it, CT_CREATED_NS, m->start_ns));
    gint64 end = ct_context_item_get_end_ns(it);
    double x1 = x_of(self, end ? end : m->now_ns);

    /* The bar, clipped to the plot. */
    cairo_save(cr);
    cairo_rectangle(cr, LEFT_W, y, width - LEFT_W, LANE_H);
    cairo_clip(cr);
    state_color(cr, state, end ? 0.75 : 1.0);
    cairo_rectangle(cr, x0, y + 3, MAX(x1 - x0, 1.5), LANE_H - 6);
    cairo_fill(cr);
    gint64 deadline = ct_context_item_get(it, CT_DEADLINE_NS, 0);
    if (deadline != 0) { /* deadline tick */
        double xd = x_of(self, deadline);
        cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.8);
        cairo_move_to(cr, xd + 0.5, y + 1);
        cairo_line_to(cr, xd + 0.5, y + LANE_H - 1);
        cairo_stroke(cr);
    }
    gint64 fired = ct_context_item_get(it, CT_TIMER_FIRED_NS, 0);
    if (fired != 0) { /* timer fire: a diamond */
        double xf = x_of(self, fired), yc = y + LANE_H / 2;
        cairo_set_source_rgb(cr, 0.95, 0.75, 0.1);
        cairo_move_to(cr, xf, yc - 5);
        cairo_line_to(cr, xf + 5, yc);
        cairo_line_to(cr, xf, yc + 5);
        cairo_line_to(cr, xf - 5, yc);
        cairo_close_path(cr);
        cairo_fill(cr);
    }
    gint64 canceled = ct_context_item_get(it, CT_CANCELED_NS, 0);
    int why = (int)ct_context_item_get(it, CT_CANCEL_WHY, -1);
    if (canceled != 0 && why == CTX_WHY_EXPLICIT) { /* where a cancellation started */
        cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.9);
        cairo_arc(cr, x_of(self, canceled), y + LANE_H / 2, 3.5, 0, 2 * G_PI);
        cairo_fill(cr);
    }
    if (canceled != 0 && why == CTX_WHY_PARENT) {
        /* The cascade: from the parent's cancellation down to this context's. */
        gint64 parent = ct_context_item_get_parent_id(it);
        guint pl = GPOINTER_TO_UINT(g_hash_table_lookup(self->lane_of, &parent));
        CtContextItem *p = parent ? ct_trace_model_lookup(self->model, parent) : NULL;
        if (pl != 0 && p != NULL && ct_context_item_get(p, CT_CANCELED_NS, 0) != 0) {
            double py = AXIS_H + (pl - 1) * LANE_H + LANE_H / 2;
            double px = x_of(self, ct_context_item_get(p, CT_CANCELED_NS, 0));
            cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.55);
            cairo_set_line_width(cr, 1);
            cairo_move_to(cr, px, py);
            cairo_line_to(cr, x_of(self, canceled), y + LANE_H / 2);
            cairo_stroke(cr);
        }
    }
    cairo_restore(cr);

    /* The label: kind and id, indented by depth. */
    cairo_save(cr);
    cairo_rectangle(cr, 0, y, LEFT_W - 4, LANE_H);
    cairo_clip(cr);
    cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.85);
    cairo_set_font_size(cr, 10.5);
    cairo_move_to(cr, 6 + 10 * lane->depth, y + LANE_H - 4);
    g_autofree char *label = g_strdup_printf("%s #%" G_GINT64_FORMAT,
                                             ct_context_item_get_kind_name(it), id);
    cairo_show_text(cr, label);
    cairo_restore(cr);
}

static void draw_cb(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
    CtTimelineView *self = data;
    (void)area;
    (void)height;
    if (self->model == NULL || self->lanes->len == 0)
        return;
    if (self->ns_per_px <= 0)
        zoom_fit_cb(self);
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(self->canvas)), &fg);
    /* Only the visible lanes: the canvas is as tall as all of them. */
    GtkAdjustment *v = gtk_scrolled_window_get_vadjustment(self->scroller);
    double top = gtk_adjustment_get_value(v), page = gtk_adjustment_get_page_size(v);
    if (page <= 0)
        page = height;
    guint first = top > AXIS_H ? (guint)((top - AXIS_H) / LANE_H) : 0;
    guint last = MIN(self->lanes->len, (guint)((top + page - AXIS_H) / LANE_H) + 2);
    for (guint i = first; i < last; i++)
        draw_lane(self, cr, i, AXIS_H + i * LANE_H, width, &fg);
    draw_axis(self, cr, top, width, &fg); /* pinned to the top of the visible part */
}

/* ---- input ---------------------------------------------------------------------------------- */

static void select_lane(CtTimelineView *self, guint lane, gboolean emit)
{
    if (lane >= self->lanes->len)
        return;
    CtContextItem *it = g_array_index(self->lanes, Lane, lane).item;
    if (it == NULL)
        return;
    self->selected = ct_context_item_get_id(it);
    GtkAdjustment *v = gtk_scrolled_window_get_vadjustment(self->scroller);
    double y = AXIS_H + lane * LANE_H;
    if (y < gtk_adjustment_get_value(v) + AXIS_H ||
        y + LANE_H > gtk_adjustment_get_value(v) + gtk_adjustment_get_page_size(v))
        gtk_adjustment_set_value(v, y - gtk_adjustment_get_page_size(v) / 2);
    gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
    if (emit)
        g_signal_emit(self, signals[SIGNAL_CONTEXT_SELECTED], 0, self->selected);
}

static void pressed_cb(GtkGestureClick *g, int n, double x, double y, CtTimelineView *self)
{
    (void)g;
    (void)n;
    (void)x;
    gtk_widget_grab_focus(GTK_WIDGET(self->canvas));
    if (y >= AXIS_H)
        select_lane(self, (guint)((y - AXIS_H) / LANE_H), TRUE);
}

static void drag_begin_cb(GtkGestureDrag *g, double x, double y, CtTimelineView *self)
{
    (void)g;
    (void)x;
    (void)y;
    self->drag_t0 = self->t0;
}

static void drag_update_cb(GtkGestureDrag *g, double dx, double dy, CtTimelineView *self)
{
    (void)g;
    (void)dy;
    self->t0 = self->drag_t0 - dx * self->ns_per_px;
    gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

static gboolean scroll_cb(GtkEventControllerScroll *c, double dx, double dy, CtTimelineView *self)
{
    GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(c));
    if (mods & GDK_CONTROL_MASK) {
        double x = 0, y = 0;
        GdkEvent *ev = gtk_event_controller_get_current_event(GTK_EVENT_CONTROLLER(c));
        if (ev != NULL)
            gdk_event_get_position(ev, &x, &y);
        zoom_at(self, dy > 0 ? 1.25 : 0.8, MAX(x - LEFT_W, 0));
        return TRUE;
    }
    if ((mods & GDK_SHIFT_MASK) || dx != 0) {
        pan(self, (dx != 0 ? dx : dy) * 40);
        return TRUE;
    }
    return FALSE; /* vertical: the scrolled window's */
}

static gboolean key_cb(GtkEventControllerKey *c, guint key, guint code, GdkModifierType mods,
                       CtTimelineView *self)
{
    (void)c;
    (void)code;
    (void)mods;
    guint lane = GPOINTER_TO_UINT(g_hash_table_lookup(self->lane_of, &self->selected));
    switch (key) {
    case GDK_KEY_plus: case GDK_KEY_equal: case GDK_KEY_KP_Add: zoom_in_cb(self); return TRUE;
    case GDK_KEY_minus: case GDK_KEY_KP_Subtract: zoom_out_cb(self); return TRUE;
    case GDK_KEY_0: zoom_fit_cb(self); return TRUE;
    case GDK_KEY_Left: pan(self, -plot_width(self) / 8); return TRUE;
    case GDK_KEY_Right: pan(self, plot_width(self) / 8); return TRUE;
    case GDK_KEY_Down: /* lane is index + 1; skip headers */
        for (guint i = lane; i < self->lanes->len; i++)
            if (g_array_index(self->lanes, Lane, i).item != NULL) {
                select_lane(self, i, TRUE);
                break;
            }
        return TRUE;
    case GDK_KEY_Up:
        for (guint i = lane > 1 ? lane - 1 : 0; i-- > 0;)
            if (g_array_index(self->lanes, Lane, i).item != NULL) {
                select_lane(self, i, TRUE);
                break;
            }
        return TRUE;
    default: return FALSE;
    }
}

/* ---- public ---------------------------------------------------------------------------------- */

static void timeline_changed_cb(CtTraceModel *model, CtTimelineView *self)
{
    (void)model;
    rebuild_lanes(self);
}

static void meta_changed_cb(CtTraceModel *model, CtTimelineView *self)
{
    (void)model;
    gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

void ct_timeline_view_set_model(CtTimelineView *self, CtTraceModel *model)
{
    if (self->model != NULL)
        g_signal_handlers_disconnect_by_data(self->model, self);
    g_set_object(&self->model, model);
    g_signal_connect(model, "timeline-changed", G_CALLBACK(timeline_changed_cb), self);
    g_signal_connect(model, "meta-changed", G_CALLBACK(meta_changed_cb), self);
    g_signal_connect(model, "findings-changed", G_CALLBACK(meta_changed_cb), self);
    self->ns_per_px = 0; /* fit on the next draw */
    rebuild_lanes(self);
}

void ct_timeline_view_select(CtTimelineView *self, gint64 id)
{
    guint lane = GPOINTER_TO_UINT(g_hash_table_lookup(self->lane_of, &id));
    if (lane != 0) {
        /* A lifespan too short to see at this zoom: zoom to it (a third of the plot). */
        CtContextItem *it = g_array_index(self->lanes, Lane, lane - 1).item;
        const CtTraceMeta *m = ct_trace_model_get_meta(self->model);
        gint64 created = ct_context_item_get(it, CT_CREATED_NS, m->start_ns);
        gint64 end = ct_context_item_get_end_ns(it);
        double life = (double)((end ? end : m->now_ns) - created);
        if (self->ns_per_px > 0 && life / self->ns_per_px < 4 && life > 0) {
            self->ns_per_px = MAX(life * 3 / plot_width(self), 0.05);
            self->t0 = (double)(created - m->start_ns) - life;
        }
        select_lane(self, lane - 1, FALSE);
    } else {
        self->selected = id;
        gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
    }
}

guint ct_timeline_view_get_n_lanes(CtTimelineView *self, guint *n_contexts)
{
    *n_contexts = g_hash_table_size(self->lane_of);
    return self->lanes->len;
}

static void group_changed_cb(CtTimelineView *self)
{
    self->by_site = gtk_drop_down_get_selected(self->group_by) == 1;
    rebuild_lanes(self);
}

void ct_timeline_view_set_group_by_site(CtTimelineView *self, gboolean by_site)
{
    gtk_drop_down_set_selected(self->group_by, by_site ? 1 : 0);
}

void ct_timeline_view_get_span(CtTimelineView *self, double *from_ns, double *to_ns)
{
    *from_ns = self->t0;
    *to_ns = self->t0 + plot_width(self) * self->ns_per_px;
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

static void ct_timeline_view_finalize(GObject *object)
{
    CtTimelineView *self = CT_TIMELINE_VIEW(object);
    g_array_unref(self->lanes);
    g_hash_table_unref(self->lane_of);
    G_OBJECT_CLASS(ct_timeline_view_parent_class)->finalize(object);
}

static void ct_timeline_view_class_init(CtTimelineViewClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = ct_timeline_view_dispose;
    G_OBJECT_CLASS(klass)->finalize = ct_timeline_view_finalize;
    signals[SIGNAL_CONTEXT_SELECTED] =
        g_signal_new("context-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
    ct_resources_ensure();
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/org/ctxtrace/Inspector/ct-timeline-view.ui");
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, group_by);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, info);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, scroller);
    gtk_widget_class_bind_template_child(widget_class, CtTimelineView, canvas);
    gtk_widget_class_bind_template_callback(widget_class, group_changed_cb);
    gtk_widget_class_bind_template_callback(widget_class, zoom_in_cb);
    gtk_widget_class_bind_template_callback(widget_class, zoom_out_cb);
    gtk_widget_class_bind_template_callback(widget_class, zoom_fit_cb);
}

static void ct_timeline_view_init(CtTimelineView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->lanes = g_array_new(FALSE, FALSE, sizeof(Lane));
    self->lane_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    gtk_drawing_area_set_draw_func(self->canvas, draw_cb, self, NULL);
    GtkWidget *canvas = GTK_WIDGET(self->canvas);

    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(pressed_cb), self);
    gtk_widget_add_controller(canvas, GTK_EVENT_CONTROLLER(click));
    GtkGesture *drag = gtk_gesture_drag_new();
    g_signal_connect(drag, "drag-begin", G_CALLBACK(drag_begin_cb), self);
    g_signal_connect(drag, "drag-update", G_CALLBACK(drag_update_cb), self);
    gtk_widget_add_controller(canvas, GTK_EVENT_CONTROLLER(drag));
    GtkEventController *scroll = gtk_event_controller_scroll_new(
        GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
    g_signal_connect(scroll, "scroll", G_CALLBACK(scroll_cb), self);
    gtk_widget_add_controller(canvas, scroll);
    GtkEventController *keys = gtk_event_controller_key_new();
    g_signal_connect(keys, "key-pressed", G_CALLBACK(key_cb), self);
    gtk_widget_add_controller(canvas, keys);
    /* The axis is pinned to the top of the visible part: redraw on vertical scroll. */
    g_signal_connect_swapped(gtk_scrolled_window_get_vadjustment(self->scroller), "value-changed",
                             G_CALLBACK(gtk_widget_queue_draw), self->canvas);
}
