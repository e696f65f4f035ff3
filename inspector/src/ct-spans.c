/*
 * ct-spans.c — the compact lifespan table (see ct-spans.h).
 *
 * Slots: a span names its creation stack and thread by a 32-bit slot into small
 * arrays, interned through a hash on the way in — a trace has thousands of distinct
 * stacks at most, and a million spans, so grouping works on the slots.
 */
#include "ct-spans.h"

#include <ctxtrace/tracer.h>
#include <math.h>

struct _CtSpans {
    gatomicrefcount refs;
    GArray *spans;     /* CtSpan */
    GArray *stacks;    /* gint64 stack id per slot */
    GArray *threads;   /* gint64 thread id per slot */
    GHashTable *stack_slot, *thread_slot; /* id -> slot + 1 */
    GHashTable *by_id; /* tracking ids: id -> index + 1; else NULL */
    gint64 min_created, max_end;
    guint64 version;
};

CtSpans *ct_spans_new(gboolean track_ids)
{
    CtSpans *self = g_new0(CtSpans, 1);
    g_atomic_ref_count_init(&self->refs);
    self->spans = g_array_new(FALSE, FALSE, sizeof(CtSpan));
    self->stacks = g_array_new(FALSE, FALSE, sizeof(gint64));
    self->threads = g_array_new(FALSE, FALSE, sizeof(gint64));
    self->stack_slot = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->thread_slot = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    if (track_ids)
        self->by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->min_created = G_MAXINT64;
    return self;
}

CtSpans *ct_spans_ref(CtSpans *self)
{
    g_atomic_ref_count_inc(&self->refs);
    return self;
}

void ct_spans_unref(CtSpans *self)
{
    if (self == NULL || !g_atomic_ref_count_dec(&self->refs))
        return;
    g_array_unref(self->spans);
    g_array_unref(self->stacks);
    g_array_unref(self->threads);
    g_hash_table_unref(self->stack_slot);
    g_hash_table_unref(self->thread_slot);
    g_clear_pointer(&self->by_id, g_hash_table_unref);
    g_free(self);
}

/* The header's promise: a span costs 56 bytes (a million-context trace, ~48 MB). */
G_STATIC_ASSERT(sizeof(CtSpan) == 56);

static guint32 intern(GHashTable *slots, GArray *ids, gint64 id)
{
    guint slot = GPOINTER_TO_UINT(g_hash_table_lookup(slots, &id));
    if (slot != 0)
        return slot - 1;
    g_array_append_val(ids, id);
    g_hash_table_insert(slots, g_memdup2(&id, sizeof id), GUINT_TO_POINTER(ids->len));
    return ids->len - 1;
}

/* The columns a span keeps, from the (merged) row. */
static void fill(CtSpans *self, CtSpan *s, const struct ct_ctx_row *row, const struct ct_verdict *v)
{
    s->id = row->id;
    s->parent_id = ct_ctx_get(row, CT_PARENT_ID, 0);
    s->created_ns = ct_ctx_get(row, CT_CREATED_NS, 0);
    s->end_ns = ct_end_of_row(row);
    s->canceled_ns = ct_ctx_get(row, CT_CANCELED_NS, 0);
    s->stack = intern(self->stack_slot, self->stacks, ct_ctx_get(row, CT_CREATE_STACK, 0));
    s->thread = intern(self->thread_slot, self->threads, ct_ctx_get(row, CT_CREATE_THREAD, 0));
    s->state = (guint8)v->state;
    s->leak = (guint8)v->leak;
    s->why = (guint8)(ct_ctx_get(row, CT_CANCEL_WHY, -1) + 1);
    s->fired = ct_ctx_get(row, CT_TIMER_FIRED_NS, 0) != 0;
    s->freed = ct_ctx_get(row, CT_FREED_NS, 0) != 0;
    if (s->created_ns != 0)
        self->min_created = MIN(self->min_created, s->created_ns);
    self->max_end = MAX(self->max_end, MAX(s->end_ns, s->created_ns));
}

void ct_spans_put(CtSpans *self, const struct ct_ctx_row *row, const struct ct_verdict *verdict)
{
    if (ct_ctx_get(row, CT_PARENT_ID, 0) == 0)
        return;
    self->version++;
    if (self->by_id != NULL) {
        guint at = GPOINTER_TO_UINT(g_hash_table_lookup(self->by_id, &row->id));
        if (at != 0) {
            fill(self, &g_array_index(self->spans, CtSpan, at - 1), row, verdict);
            return;
        }
    }
    CtSpan s;
    fill(self, &s, row, verdict);
    g_array_append_val(self->spans, s);
    if (self->by_id != NULL)
        g_hash_table_insert(self->by_id, g_memdup2(&row->id, sizeof row->id),
                            GUINT_TO_POINTER(self->spans->len));
}

guint64 ct_spans_get_version(CtSpans *self)
{
    return self->version;
}

guint ct_spans_get_len(CtSpans *self)
{
    return self->spans->len;
}

const CtSpan *ct_spans_get(CtSpans *self, guint i)
{
    g_assert(i < self->spans->len);
    return &g_array_index(self->spans, CtSpan, i);
}

const CtSpan *ct_spans_find(CtSpans *self, gint64 id)
{
    if (self->by_id != NULL) {
        guint at = GPOINTER_TO_UINT(g_hash_table_lookup(self->by_id, &id));
        return at != 0 ? ct_spans_get(self, at - 1) : NULL;
    }
    for (guint i = 0; i < self->spans->len; i++)
        if (g_array_index(self->spans, CtSpan, i).id == id)
            return ct_spans_get(self, i);
    return NULL;
}

guint ct_spans_get_n_stacks(CtSpans *self)
{
    return self->stacks->len;
}

gint64 ct_spans_stack_id(CtSpans *self, guint32 slot)
{
    g_assert(slot < self->stacks->len);
    return g_array_index(self->stacks, gint64, slot);
}

guint ct_spans_get_n_threads(CtSpans *self)
{
    return self->threads->len;
}

gint64 ct_spans_thread_id(CtSpans *self, guint32 slot)
{
    g_assert(slot < self->threads->len);
    return g_array_index(self->threads, gint64, slot);
}

void ct_spans_get_extent(CtSpans *self, gint64 now_ns, gint64 *from_ns, gint64 *to_ns)
{
    if (self->spans->len == 0) {
        *from_ns = *to_ns = 0;
        return;
    }
    gboolean open = FALSE;
    for (guint i = 0; i < self->spans->len && !open; i++)
        open = g_array_index(self->spans, CtSpan, i).end_ns == 0;
    *from_ns = self->min_created;
    *to_ns = open ? MAX(self->max_end, now_ns) : self->max_end;
}

void ct_spans_count_live(CtSpans *self, double t0_ns, double ns_per_col, int cols, gint64 now_ns,
                         guint *out)
{
    g_assert(cols > 0 && ns_per_col > 0);
    g_autofree gint64 *diff = g_new0(gint64, cols + 1);
    for (guint i = 0; i < self->spans->len; i++) {
        const CtSpan *s = &g_array_index(self->spans, CtSpan, i);
        gint64 end = s->end_ns ? s->end_ns : now_ns;
        /* Live at the end of column c: created before it, ended after it. */
        double c0 = ceil(((double)s->created_ns - t0_ns) / ns_per_col - 1);
        double c1 = ceil(((double)end - t0_ns) / ns_per_col - 1);
        int a = (int)CLAMP(c0, 0, cols), b = (int)CLAMP(c1, 0, cols);
        if (a < b) {
            diff[a]++;
            diff[b]--;
        }
    }
    gint64 run = 0;
    for (int c = 0; c < cols; c++) {
        run += diff[c];
        out[c] = (guint)run;
    }
}
