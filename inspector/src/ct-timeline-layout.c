/*
 * ct-timeline-layout.c — lanes, densities and packed bars (see ct-timeline-layout.h).
 *
 * The density is a difference array per state: a span live over columns c0..c1 adds 1
 * at c0 and subtracts 1 at c1 + 1, and one prefix sum per lane turns that into "live in
 * each column" — O(1) per span whatever its length. A lane keeps the indices of its
 * first CT_LAYOUT_DETAIL_MAX visible spans; only when it sees one more does it
 * allocate its density arrays (replaying those it kept), so memory goes only to the
 * lanes that need a density.
 */
#include "ct-timeline-layout.h"

#include <math.h>

struct _CtTimelineLayout {
    CtSpans *spans;
    GPtrArray *lanes;     /* CtLane */
    guint *lane_of_slot;  /* stack or thread slot -> lane index */
    guint n_slots;
    CtLaneGrouping grouping;
};

static void lane_free(gpointer p)
{
    CtLane *lane = p;
    g_free(lane->label);
    g_free(lane->live);
    g_array_unref(lane->bars);
    g_free(lane);
}

static int lane_order(gconstpointer a, gconstpointer b, gpointer data)
{
    const CtLane *x = *(CtLane *const *)a, *y = *(CtLane *const *)b;
    if (GPOINTER_TO_INT(data) == CT_LANES_BY_THREAD)
        return x->key < y->key ? -1 : x->key > y->key;
    if ((x->n_leaked != 0) != (y->n_leaked != 0))
        return x->n_leaked != 0 ? -1 : 1;
    if (x->n_spans != y->n_spans)
        return x->n_spans > y->n_spans ? -1 : 1;
    return g_strcmp0(x->label, y->label);
}

CtTimelineLayout *ct_timeline_layout_new(CtSpans *spans, CtLaneGrouping grouping,
                                         CtLaneLabelFunc label, gpointer data)
{
    CtTimelineLayout *self = g_new0(CtTimelineLayout, 1);
    self->spans = ct_spans_ref(spans);
    self->grouping = grouping;
    self->lanes = g_ptr_array_new_with_free_func(lane_free);
    self->n_slots = grouping == CT_LANES_BY_SITE ? ct_spans_get_n_stacks(spans)
                                                 : ct_spans_get_n_threads(spans);
    self->lane_of_slot = g_new0(guint, MAX(self->n_slots, 1));

    /* Slots with the same label share a lane (several stacks, one site). */
    g_autoptr(GHashTable) by_label = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint slot = 0; slot < self->n_slots; slot++) {
        const char *text = label(spans, slot, data);
        if (text == NULL)
            text = grouping == CT_LANES_BY_SITE ? "(unknown site)" : "(unknown thread)";
        guint at = GPOINTER_TO_UINT(g_hash_table_lookup(by_label, text)); /* index + 1 */
        if (at == 0) {
            CtLane *lane = g_new0(CtLane, 1);
            lane->label = g_strdup(text);
            lane->key = slot;
            lane->bars = g_array_new(FALSE, FALSE, sizeof(CtBar));
            g_ptr_array_add(self->lanes, lane);
            at = self->lanes->len;
            g_hash_table_insert(by_label, lane->label, GUINT_TO_POINTER(at));
        }
        self->lane_of_slot[slot] = at - 1;
    }
    guint n = ct_spans_get_len(spans);
    for (guint i = 0; i < n; i++) {
        const CtSpan *s = ct_spans_get(spans, i);
        CtLane *lane = self->lanes->pdata[ct_timeline_layout_lane_of(self, s)];
        lane->n_spans++;
        lane->n_leaked += s->state == CT_STATE_LEAKED;
    }
    /* Sort, then renumber the slots' lanes. */
    g_autofree guint *old_to_new = g_new0(guint, MAX(self->lanes->len, 1));
    g_autoptr(GHashTable) old_index = g_hash_table_new(NULL, NULL);
    for (guint i = 0; i < self->lanes->len; i++)
        g_hash_table_insert(old_index, self->lanes->pdata[i], GUINT_TO_POINTER(i));
    g_ptr_array_sort_with_data(self->lanes, lane_order, GINT_TO_POINTER(grouping));
    for (guint i = 0; i < self->lanes->len; i++)
        old_to_new[GPOINTER_TO_UINT(g_hash_table_lookup(old_index, self->lanes->pdata[i]))] = i;
    for (guint slot = 0; slot < self->n_slots; slot++)
        self->lane_of_slot[slot] = old_to_new[self->lane_of_slot[slot]];
    return self;
}

void ct_timeline_layout_free(CtTimelineLayout *self)
{
    if (self == NULL)
        return;
    g_ptr_array_unref(self->lanes);
    g_free(self->lane_of_slot);
    ct_spans_unref(self->spans);
    g_free(self);
}

guint ct_timeline_layout_lane_of(CtTimelineLayout *self, const CtSpan *span)
{
    guint slot = self->grouping == CT_LANES_BY_SITE ? span->stack : span->thread;
    g_assert(slot < self->n_slots);
    return self->lane_of_slot[slot];
}

guint ct_timeline_layout_get_n_lanes(CtTimelineLayout *self)
{
    return self->lanes->len;
}

CtLane *ct_timeline_layout_get_lane(CtTimelineLayout *self, guint i)
{
    g_assert(i < self->lanes->len);
    return self->lanes->pdata[i];
}

/* The column of time t, clamped to the window. */
static int column_of(double t, double t0, double ns_per_px, int columns)
{
    double c = floor((t - t0) / ns_per_px);
    return (int)CLAMP(c, 0, columns - 1);
}

static void add_density(CtLane *lane, const CtSpan *s, double t0, double ns_per_px, int columns,
                        gint64 now_ns)
{
    gint64 end = s->end_ns ? s->end_ns : now_ns;
    int c0 = column_of((double)s->created_ns, t0, ns_per_px, columns);
    int c1 = column_of((double)end, t0, ns_per_px, columns);
    guint *diff = lane->live + (gsize)s->state * (columns + 1);
    diff[c0]++;
    diff[c1 + 1]--;
}

/* Pack the lane's bars greedily into rows (a bar goes into the first row whose last
 * bar ended at least 2 px before it starts). FALSE if more than MAX_ROWS are needed. */
static gboolean pack(CtLane *lane, CtSpans *spans, double ns_per_px, gint64 now_ns)
{
    double row_end[CT_LAYOUT_MAX_ROWS];
    lane->rows = 0;
    for (guint i = 0; i < lane->bars->len; i++) {
        CtBar *bar = &g_array_index(lane->bars, CtBar, i);
        const CtSpan *s = ct_spans_get(spans, bar->span);
        double start = (double)s->created_ns;
        double end = (double)(s->end_ns ? s->end_ns : now_ns);
        end = MAX(end, start + 2 * ns_per_px); /* bars are at least 2 px wide */
        guint r = 0;
        while (r < lane->rows && row_end[r] + 2 * ns_per_px > start)
            r++;
        if (r == CT_LAYOUT_MAX_ROWS)
            return FALSE;
        if (r == lane->rows)
            lane->rows++;
        row_end[r] = end;
        bar->row = r;
    }
    return TRUE;
}

static int bar_by_created(gconstpointer a, gconstpointer b, gpointer data)
{
    const CtSpan *x = ct_spans_get(data, ((const CtBar *)a)->span);
    const CtSpan *y = ct_spans_get(data, ((const CtBar *)b)->span);
    return x->created_ns < y->created_ns ? -1 : x->created_ns > y->created_ns;
}

void ct_timeline_layout_update(CtTimelineLayout *self, double t0_ns, double ns_per_px,
                               int columns, gint64 now_ns)
{
    g_assert(ns_per_px > 0 && columns > 0);
    for (guint l = 0; l < self->lanes->len; l++) {
        CtLane *lane = self->lanes->pdata[l];
        lane->n_visible = lane->rows = lane->peak = 0;
        lane->detail = TRUE;
        g_clear_pointer(&lane->live, g_free);
        g_array_set_size(lane->bars, 0);
    }
    double t1 = t0_ns + ns_per_px * columns;
    guint n = ct_spans_get_len(self->spans);
    for (guint i = 0; i < n; i++) {
        const CtSpan *s = ct_spans_get(self->spans, i);
        gint64 end = s->end_ns ? s->end_ns : now_ns;
        if ((double)s->created_ns > t1 || (double)end < t0_ns)
            continue;
        CtLane *lane = self->lanes->pdata[ct_timeline_layout_lane_of(self, s)];
        lane->n_visible++;
        if (lane->live != NULL) {
            add_density(lane, s, t0_ns, ns_per_px, columns, now_ns);
        } else if (lane->n_visible <= CT_LAYOUT_DETAIL_MAX) {
            CtBar bar = {i, 0};
            g_array_append_val(lane->bars, bar);
        } else {
            /* One too many for bars: switch the lane to a density, replaying its bars. */
            lane->live = g_new0(guint, (gsize)CT_LAYOUT_N_STATES * (columns + 1));
            for (guint b = 0; b < lane->bars->len; b++)
                add_density(lane, ct_spans_get(self->spans, g_array_index(lane->bars, CtBar, b).span),
                            t0_ns, ns_per_px, columns, now_ns);
            add_density(lane, s, t0_ns, ns_per_px, columns, now_ns);
            g_array_set_size(lane->bars, 0);
        }
    }
    for (guint l = 0; l < self->lanes->len; l++) {
        CtLane *lane = self->lanes->pdata[l];
        if (lane->live == NULL) {
            g_array_sort_with_data(lane->bars, bar_by_created, self->spans);
            if (pack(lane, self->spans, ns_per_px, now_ns))
                continue;
            /* Too many overlapping for rows of bars: a density after all. */
            lane->live = g_new0(guint, (gsize)CT_LAYOUT_N_STATES * (columns + 1));
            for (guint b = 0; b < lane->bars->len; b++)
                add_density(lane, ct_spans_get(self->spans, g_array_index(lane->bars, CtBar, b).span),
                            t0_ns, ns_per_px, columns, now_ns);
            g_array_set_size(lane->bars, 0);
            lane->rows = 0;
        }
        lane->detail = FALSE;
        /* Prefix sums: differences -> live per column. */
        for (int st = 0; st < CT_LAYOUT_N_STATES; st++) {
            guint *v = lane->live + (gsize)st * (columns + 1), run = 0;
            for (int c = 0; c < columns; c++) {
                run += v[c];
                v[c] = run;
            }
        }
        for (int c = 0; c < columns; c++) {
            guint sum = 0;
            for (int st = 0; st < CT_LAYOUT_N_STATES; st++)
                sum += lane->live[(gsize)st * (columns + 1) + c];
            lane->peak = MAX(lane->peak, sum);
        }
    }
}
