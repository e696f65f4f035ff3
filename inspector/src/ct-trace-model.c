/*
 * ct-trace-model.c — the inspector's data model (see ct-trace-model.h).
 *
 * Items are interned by context id, so the tree, the timeline, the details and the
 * findings all hold the same object for one context and a live update reaches every
 * view through the item's "changed" signal. Lists, items and signals that pushes dirty
 * are announced from one frame-rate timeout: under a burst a visible item (a parent
 * gaining a child per event) refills its cells once a frame, not once an event.
 */
#include "ct-trace-model.h"

#include <ctxtrace/tracer.h>
#include <stdlib.h>
#include <string.h>

#include "ct-child-list.h"
#include "ct-format.h"
#include "ct-finding-item.h"

#define FLUSH_INTERVAL_MS 16 /* one frame at 60 Hz */

/* What announcing new rows may cost the views per frame. GTK 4.8's list view builds a
 * widget row (every column's cells: setup, bind, measure) inside items-changed for each
 * new row up to ~200 around its anchor — ~1 ms a row here, so a burst's first batch
 * froze the main loop for ~180 ms. The timed flush announces a slice of the queued
 * rows, sized by what the last slices cost: halved when over the budget, doubled when
 * well under it while more wait (rows past the built ones cost almost nothing). */
#define ROWS_BUDGET_US 8000
#define ROWS_QUOTA_MIN 2
#define ROWS_QUOTA_START 8
#define ROWS_QUOTA_MAX (1u << 24)

struct _CtTraceModel {
    GObject parent_instance;
    CtSource *source;
    CtTraceMeta meta;
    GArray *site_summaries; /* struct ct_site_summary */
    GArray *site_counts;    /* CtSiteCounts */
    GHashTable *counts_of;  /* stack id -> index + 1 in site_counts */
    gboolean live;
    CtQuery filter;
    CtChildList *roots;
    GHashTable *lists;    /* parent id -> CtChildList, children lists handed out */
    GHashTable *items;    /* id -> CtContextItem */
    CtSpans *spans;       /* every context's lifespan (the timeline, the sites) */
    GArray *samples;      /* struct ct_sample_row */
    struct ct_findings *findings;
    GListStore *groups;   /* CtFindingItem */
    GHashTable *flagged;  /* id -> findings naming it as an example */
    GHashTable *covered;  /* id -> index + 1 of the first finding covering it */
    const char **cover_sites; /* per finding: its interned site if it covers by leak */
    /* Items pushed by apply_row (not the source's): in push order, and by parent id
     * (0: the roots), for the lists made after they arrived. Borrowed from `items`. */
    GPtrArray *pushed;
    GHashTable *pushed_children; /* parent id -> GPtrArray of CtContextItem */

    /* Pushes not announced yet. */
    GHashTable *dirty_lists; /* CtChildList set */
    GHashTable *held_items;  /* CtContextItem set (a ref each), "changed" frozen */
    gboolean timeline_dirty, samples_dirty, meta_dirty;
    guint flush_id;
    guint row_quota; /* rows the next timed flush may announce (ROWS_BUDGET_US) */
};

G_DEFINE_FINAL_TYPE(CtTraceModel, ct_trace_model, G_TYPE_OBJECT)

enum {
    SIGNAL_ROOTS_CHANGED,
    SIGNAL_TIMELINE_CHANGED,
    SIGNAL_SAMPLES_CHANGED,
    SIGNAL_FINDINGS_CHANGED,
    SIGNAL_META_CHANGED,
    N_SIGNALS
};
static guint signals[N_SIGNALS];

static void detach_list(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    (void)data;
    ct_child_list_detach(value);
}

static void ct_trace_model_dispose(GObject *object)
{
    CtTraceModel *self = CT_TRACE_MODEL(object);
    if (self->flush_id != 0) {
        g_source_remove(self->flush_id);
        self->flush_id = 0;
    }
    /* Lists may outlive the model inside a view; they must not call back into it. */
    if (self->lists != NULL)
        g_hash_table_foreach(self->lists, detach_list, NULL);
    if (self->roots != NULL)
        ct_child_list_detach(self->roots);
    g_clear_object(&self->roots);
    g_clear_pointer(&self->lists, g_hash_table_unref);
    g_clear_pointer(&self->dirty_lists, g_hash_table_unref);
    g_clear_pointer(&self->held_items, g_hash_table_unref);
    g_clear_pointer(&self->items, g_hash_table_unref);
    g_clear_pointer(&self->spans, ct_spans_unref);
    g_clear_pointer(&self->pushed, g_ptr_array_unref);
    g_clear_pointer(&self->pushed_children, g_hash_table_unref);
    g_clear_object(&self->groups);
    g_clear_object(&self->source);
    G_OBJECT_CLASS(ct_trace_model_parent_class)->dispose(object);
}

static void ct_trace_model_finalize(GObject *object)
{
    CtTraceModel *self = CT_TRACE_MODEL(object);
    g_array_unref(self->samples);
    g_array_unref(self->site_summaries);
    g_array_unref(self->site_counts);
    g_hash_table_unref(self->counts_of);
    g_hash_table_unref(self->flagged);
    g_hash_table_unref(self->covered);
    g_free(self->cover_sites);
    if (self->findings != NULL) {
        ct_findings_free(self->findings);
        g_free(self->findings);
    }
    ct_query_clear(&self->filter);
    g_free(self->meta.program);
    G_OBJECT_CLASS(ct_trace_model_parent_class)->finalize(object);
}

static void ct_trace_model_class_init(CtTraceModelClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->dispose = ct_trace_model_dispose;
    object_class->finalize = ct_trace_model_finalize;
    static const char *const names[N_SIGNALS] = {"roots-changed", "timeline-changed",
                                                 "samples-changed", "findings-changed",
                                                 "meta-changed"};
    for (int i = 0; i < N_SIGNALS; i++)
        signals[i] = g_signal_new(names[i], G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                  NULL, NULL, G_TYPE_NONE, 0);
}

/* The held items' destroy function: announce what changed while held. */
static void release_item(gpointer item)
{
    ct_context_item_thaw_changed(item);
    g_object_unref(item);
}

static void ct_trace_model_init(CtTraceModel *self)
{
    self->lists = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_object_unref);
    self->items = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_object_unref);
    self->dirty_lists = g_hash_table_new(g_direct_hash, g_direct_equal);
    self->held_items = g_hash_table_new_full(g_direct_hash, g_direct_equal, release_item, NULL);
    self->spans = ct_spans_new(TRUE);
    self->pushed = g_ptr_array_new();
    self->pushed_children = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                  (GDestroyNotify)g_ptr_array_unref);
    self->samples = g_array_new(FALSE, FALSE, sizeof(struct ct_sample_row));
    self->site_summaries = g_array_new(FALSE, FALSE, sizeof(struct ct_site_summary));
    self->site_counts = g_array_new(FALSE, FALSE, sizeof(CtSiteCounts));
    self->counts_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->groups = g_list_store_new(CT_TYPE_FINDING_ITEM);
    self->flagged = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->covered = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->filter.kind = -1;
    self->filter.state = -1;
    self->meta.contexts = -1;
    self->row_quota = ROWS_QUOTA_START;
}

CtTraceModel *ct_trace_model_new(CtSource *source)
{
    CtTraceModel *self = g_object_new(CT_TYPE_TRACE_MODEL, NULL);
    self->source = source ? g_object_ref(source) : NULL;
    self->roots = ct_child_list_new(self, self->source, &self->filter);
    return self;
}

CtSource *ct_trace_model_get_source(CtTraceModel *self)
{
    return self->source;
}

void ct_trace_model_set_live(CtTraceModel *self, gboolean live)
{
    self->live = live;
}

gboolean ct_trace_model_get_live(CtTraceModel *self)
{
    return self->live;
}

/* ---- announcing pushes ------------------------------------------------------------- */

static void announce(CtTraceModel *self, guint max_rows);

static gboolean flush_cb(gpointer data)
{
    CtTraceModel *self = data;
    self->flush_id = 0;
    announce(self, self->row_quota);
    return G_SOURCE_REMOVE;
}

static void schedule_flush(CtTraceModel *self)
{
    if (self->flush_id == 0)
        self->flush_id = g_timeout_add(FLUSH_INTERVAL_MS, flush_cb, self);
}

/* Announce up to max_rows queued rows, shared by the dirty lists; a list with rows
 * left stays dirty. Returns TRUE if any list has rows left. */
static gboolean announce_rows(CtTraceModel *self, guint max_rows)
{
    GHashTableIter it;
    gpointer list;
    g_hash_table_iter_init(&it, self->dirty_lists);
    while (max_rows > 0 && g_hash_table_iter_next(&it, &list, NULL)) {
        guint queued = ct_child_list_get_n_queued(list);
        guint left = ct_child_list_flush(list, max_rows);
        max_rows -= queued - left;
        if (left == 0)
            g_hash_table_iter_remove(&it);
    }
    return g_hash_table_size(self->dirty_lists) > 0;
}

void ct_trace_model_flush(CtTraceModel *self)
{
    announce(self, G_MAXUINT);
}

static void announce(CtTraceModel *self, guint max_rows)
{
    if (self->flush_id != 0) {
        g_source_remove(self->flush_id);
        self->flush_id = 0;
    }
    gint64 t0 = g_get_monotonic_time();
    gboolean rows_left = announce_rows(self, max_rows);
    gint64 took = g_get_monotonic_time() - t0;
    if (max_rows != G_MAXUINT) {
        if (took > ROWS_BUDGET_US)
            self->row_quota = MAX(self->row_quota / 2, ROWS_QUOTA_MIN);
        else if (rows_left && took < ROWS_BUDGET_US / 2)
            self->row_quota = MIN(self->row_quota * 2, ROWS_QUOTA_MAX);
    }
    if (rows_left)
        schedule_flush(self);
    /* Each held item emits "changed" if it changed; a handler pushing meanwhile holds
     * into a fresh set, not the one being emptied. */
    GHashTable *held = self->held_items;
    self->held_items = g_hash_table_new_full(g_direct_hash, g_direct_equal, release_item, NULL);
    g_hash_table_unref(held);
    if (self->meta_dirty) {
        self->meta_dirty = FALSE;
        g_signal_emit(self, signals[SIGNAL_META_CHANGED], 0);
    }
    if (self->timeline_dirty) {
        self->timeline_dirty = FALSE;
        g_signal_emit(self, signals[SIGNAL_TIMELINE_CHANGED], 0);
    }
    if (self->samples_dirty) {
        self->samples_dirty = FALSE;
        g_signal_emit(self, signals[SIGNAL_SAMPLES_CHANGED], 0);
    }
}

/* A pushed change to an item that may be on screen: announced at the next flush. */
static void hold_item(CtTraceModel *self, CtContextItem *item)
{
    if (g_hash_table_contains(self->held_items, item))
        return;
    ct_context_item_freeze_changed(item);
    g_hash_table_add(self->held_items, g_object_ref(item));
    schedule_flush(self);
}

static void mark_list(CtTraceModel *self, CtChildList *list)
{
    g_hash_table_add(self->dirty_lists, list);
    schedule_flush(self);
}

/* ---- meta ----------------------------------------------------------------------------- */

void ct_trace_model_set_meta(CtTraceModel *self, const CtTraceMeta *meta)
{
    g_free(self->meta.program);
    self->meta = *meta;
    self->meta.program = g_strdup(meta->program);
    self->meta_dirty = TRUE;
    schedule_flush(self);
}

const CtTraceMeta *ct_trace_model_get_meta(CtTraceModel *self)
{
    return &self->meta;
}

void ct_trace_model_set_site_summaries(CtTraceModel *self, const struct ct_site_summary *sums,
                                       guint n)
{
    g_array_set_size(self->site_summaries, 0);
    g_array_append_vals(self->site_summaries, sums, n);
}

const struct ct_site_summary *ct_trace_model_get_site_summaries(CtTraceModel *self, guint *n)
{
    *n = self->site_summaries->len;
    return (const struct ct_site_summary *)self->site_summaries->data;
}

void ct_trace_model_set_site_counts(CtTraceModel *self, const CtSiteCounts *c)
{
    guint i = GPOINTER_TO_UINT(g_hash_table_lookup(self->counts_of, &c->stack));
    if (i == 0) {
        g_array_append_val(self->site_counts, *c);
        g_hash_table_insert(self->counts_of, g_memdup2(&c->stack, sizeof c->stack),
                            GUINT_TO_POINTER(self->site_counts->len));
    } else {
        g_array_index(self->site_counts, CtSiteCounts, i - 1) = *c;
    }
    self->timeline_dirty = TRUE;
    schedule_flush(self);
}

const CtSiteCounts *ct_trace_model_get_site_counts(CtTraceModel *self, guint *n)
{
    *n = self->site_counts->len;
    return (const CtSiteCounts *)self->site_counts->data;
}

void ct_trace_model_set_now(CtTraceModel *self, gint64 now_ns)
{
    if (now_ns <= self->meta.now_ns)
        return;
    self->meta.now_ns = now_ns;
    self->meta_dirty = TRUE;
    schedule_flush(self);
}

/* ---- the tree ----------------------------------------------------------------------- */

GListModel *ct_trace_model_get_roots(CtTraceModel *self)
{
    return G_LIST_MODEL(self->roots);
}

const CtQuery *ct_trace_model_get_filter(CtTraceModel *self)
{
    return &self->filter;
}

/* Put the pushed items that belong in a new list into it: the source does not hold
 * them. */
static void add_pushed(CtTraceModel *self, CtChildList *list, const CtQuery *q)
{
    if (ct_query_is_filter(q)) {
        for (guint i = 0; i < self->pushed->len; i++)
            if (ct_trace_model_matches(self, q, g_ptr_array_index(self->pushed, i)))
                ct_child_list_append(list, g_ptr_array_index(self->pushed, i));
    } else {
        GPtrArray *kids = g_hash_table_lookup(self->pushed_children, &q->parent_id);
        for (guint i = 0; kids != NULL && i < kids->len; i++)
            ct_child_list_append(list, g_ptr_array_index(kids, i));
    }
    ct_child_list_flush(list, G_MAXUINT);
}

void ct_trace_model_set_filter(CtTraceModel *self, const CtQuery *q)
{
    ct_query_clear(&self->filter);
    ct_query_copy(&self->filter, q);
    self->filter.parent_id = 0;
    g_hash_table_remove(self->dirty_lists, self->roots);
    ct_child_list_detach(self->roots);
    g_object_unref(self->roots);
    self->roots = ct_child_list_new(self, self->source, &self->filter);
    add_pushed(self, self->roots, &self->filter);
    g_signal_emit(self, signals[SIGNAL_ROOTS_CHANGED], 0);
}

GListModel *ct_trace_model_get_children(CtTraceModel *self, CtContextItem *item)
{
    gint64 id = ct_context_item_get_id(item);
    CtChildList *list = g_hash_table_lookup(self->lists, &id);
    if (list == NULL) {
        if (ct_context_item_get_n_children(item) == 0 && !self->live)
            return NULL;
        CtQuery q = {.parent_id = id, .kind = -1, .state = -1};
        list = ct_child_list_new(self, self->source, &q);
        add_pushed(self, list, &q);
        g_hash_table_insert(self->lists, g_memdup2(&id, sizeof id), list);
    }
    return g_object_ref(G_LIST_MODEL(list));
}

CtContextItem *ct_trace_model_lookup(CtTraceModel *self, gint64 id)
{
    return g_hash_table_lookup(self->items, &id);
}

static const char *site_of(CtTraceModel *self, const struct ct_ctx_row *row)
{
    gint64 stack = ct_ctx_get(row, CT_CREATE_STACK, 0);
    return stack != 0 && self->source != NULL ? ct_source_site(self->source, stack) : NULL;
}

/* The badge: findings naming a context as an example, or 1 for one a finding covers
 * without naming it. */
static guint findings_of(CtTraceModel *self, gint64 id)
{
    guint named = GPOINTER_TO_UINT(g_hash_table_lookup(self->flagged, &id));
    return named != 0 ? named : (guint)g_hash_table_contains(self->covered, &id);
}

CtContextItem *ct_trace_model_intern_row(CtTraceModel *self, const struct ct_ctx_row *row,
                                         gint64 n_children)
{
    CtContextItem *item = ct_trace_model_lookup(self, row->id);
    if (item != NULL) {
        ct_context_item_merge(item, row);
    } else {
        item = ct_context_item_new(row, site_of(self, row));
        g_hash_table_insert(self->items, g_memdup2(&row->id, sizeof row->id), item);
        ct_context_item_set_n_findings(item, findings_of(self, row->id));
    }
    if (n_children >= 0)
        ct_context_item_set_n_children(item, n_children);
    return item;
}

GArray *ct_trace_model_get_ancestry(CtTraceModel *self, gint64 id)
{
    GArray *chain = g_array_new(FALSE, FALSE, sizeof(gint64));
    for (gint64 cur = id; cur != 0;) {
        CtContextItem *item = ct_trace_model_lookup(self, cur);
        if (item == NULL) {
            g_array_unref(chain);
            return self->source ? ct_source_ancestry(self->source, id)
                                : g_array_new(FALSE, FALSE, sizeof(gint64));
        }
        g_array_prepend_val(chain, cur);
        cur = ct_context_item_get_parent_id(item);
    }
    return chain;
}

struct ct_verdict ct_trace_model_verdict(CtTraceModel *self, const struct ct_ctx_row *row)
{
    return ct_source_verdict(self->source, row, self->meta.complete);
}

CtState ct_trace_model_get_state(CtTraceModel *self, CtContextItem *item)
{
    return ct_trace_model_verdict(self, ct_context_item_get_row(item)).state;
}

gboolean ct_trace_model_matches(CtTraceModel *self, const CtQuery *q, CtContextItem *item)
{
    if (q->kind >= 0 && ct_context_item_get(item, CT_KIND, -1) != q->kind)
        return FALSE;
    CtState state = ct_trace_model_get_state(self, item);
    if (q->state >= 0 && (int)state != q->state)
        return FALSE;
    if (q->only_problems && state != CT_STATE_LEAKED && ct_context_item_get_n_findings(item) == 0)
        return FALSE;
    if (q->search != NULL && q->search[0] != '\0') {
        const char *s = q->search[0] == '#' ? q->search + 1 : q->search;
        char *end;
        gint64 id = g_ascii_strtoll(s, &end, 10);
        if (*s != '\0' && *end == '\0')
            return ct_context_item_get_id(item) == id;
        const char *site = ct_context_item_get_site(item);
        if (site == NULL)
            return FALSE;
        g_autofree char *hay = g_utf8_casefold(site, -1);
        g_autofree char *needle = g_utf8_casefold(q->search, -1);
        return strstr(hay, needle) != NULL;
    }
    return TRUE;
}

/* ---- incremental updates ---------------------------------------------------------------- */

/* The pushed context's lifespan, from its merged row (so a partial row of a later
 * event keeps what earlier ones said). */
static void cover_span(CtTraceModel *self, const struct ct_ctx_row *row,
                       const struct ct_verdict *v);

static void put_span(CtTraceModel *self, CtContextItem *item)
{
    const struct ct_ctx_row *row = ct_context_item_get_row(item);
    struct ct_verdict v = ct_trace_model_verdict(self, row);
    ct_spans_put(self->spans, row, &v);
    cover_span(self, row, &v);
    self->timeline_dirty = TRUE;
    schedule_flush(self);
}

void ct_trace_model_apply_row(CtTraceModel *self, const struct ct_ctx_row *row)
{
    CtContextItem *item = ct_trace_model_lookup(self, row->id);
    if (item != NULL) {
        hold_item(self, item);
        ct_context_item_merge(item, row);
        if (ct_context_item_get_site(item) == NULL && ((row->present >> CT_CREATE_STACK) & 1))
            ct_context_item_set_site(item, site_of(self, row));
        put_span(self, item);
        return;
    }
    item = ct_trace_model_intern_row(self, row, self->live ? 0 : -1);
    gint64 parent = ct_context_item_get_parent_id(item);
    gboolean filtering = ct_query_is_filter(&self->filter);
    g_ptr_array_add(self->pushed, item);
    GPtrArray *siblings = g_hash_table_lookup(self->pushed_children, &parent);
    if (siblings == NULL) {
        siblings = g_ptr_array_new();
        g_hash_table_insert(self->pushed_children, g_memdup2(&parent, sizeof parent), siblings);
    }
    g_ptr_array_add(siblings, item);
    if (parent != 0) {
        CtContextItem *p = ct_trace_model_lookup(self, parent);
        if (p != NULL) {
            hold_item(self, p);
            ct_context_item_set_n_children(p, MAX(ct_context_item_get_n_children(p), 0) + 1);
        }
        CtChildList *list = g_hash_table_lookup(self->lists, &parent);
        if (list != NULL) {
            ct_child_list_append(list, item);
            mark_list(self, list);
        }
    } else if (!filtering) {
        ct_child_list_append(self->roots, item);
        mark_list(self, self->roots);
    }
    if (filtering && ct_trace_model_matches(self, &self->filter, item)) {
        ct_child_list_append(self->roots, item);
        mark_list(self, self->roots);
    }
    put_span(self, item);
    gint64 created = ct_context_item_get(item, CT_CREATED_NS, 0);
    if (created > self->meta.now_ns)
        ct_trace_model_set_now(self, created);
}

void ct_trace_model_add_sample(CtTraceModel *self, const struct ct_sample_row *s)
{
    g_array_append_val(self->samples, *s);
    self->samples_dirty = TRUE;
    ct_trace_model_set_now(self, s->ts_ns);
    schedule_flush(self);
}

/* ---- timeline and counts --------------------------------------------------------------- */

static void cover(CtTraceModel *self);

CtSpans *ct_trace_model_get_spans(CtTraceModel *self)
{
    return self->spans;
}

void ct_trace_model_set_spans(CtTraceModel *self, CtSpans *spans)
{
    g_assert(spans != NULL);
    ct_spans_ref(spans);
    ct_spans_unref(self->spans);
    self->spans = spans;
    self->timeline_dirty = TRUE;
    cover(self);
    schedule_flush(self);
}

const struct ct_sample_row *ct_trace_model_get_samples(CtTraceModel *self, guint *n)
{
    *n = self->samples->len;
    return (const struct ct_sample_row *)(void *)self->samples->data;
}

/* ---- findings ----------------------------------------------------------------------------- */

/* The first finding of `rule` at `site` (interned), which covers the contexts of that
 * site the verdict calls leaked so (ct_rule_of_leak); -1: none. */
static long covering(CtTraceModel *self, enum ct_rule rule, const char *site)
{
    if (rule == CT_RULE_COUNT)
        return -1;
    for (size_t i = 0; i < self->findings->len; i++)
        if (self->findings->items[i].rule == rule && self->cover_sites[i] == site)
            return (long)i;
    return -1;
}

static void cover_one(CtTraceModel *self, gint64 id, guint index)
{
    if (g_hash_table_contains(self->covered, &id))
        return;
    g_hash_table_insert(self->covered, g_memdup2(&id, sizeof id), GUINT_TO_POINTER(index + 1));
    CtContextItem *ctx = ct_trace_model_lookup(self, id);
    if (ctx != NULL)
        ct_context_item_set_n_findings(ctx, findings_of(self, id));
}

/* Every context a finding covers, not only its examples: for the rules that are one
 * context's verdict (lost-cancel — lost at exit included — and orphaned-timer), the
 * contexts at the finding's site with that leak. Needs the findings and the spans,
 * whichever arrives last. */
static void cover(CtTraceModel *self)
{
    g_hash_table_remove_all(self->covered);
    if (self->findings == NULL)
        return;
    for (size_t i = 0; i < self->findings->len; i++) {
        const struct ct_finding *f = &self->findings->items[i];
        for (int e = 0; e < f->nexamples; e++)
            cover_one(self, f->examples[e], (guint)i);
    }
    guint n = ct_spans_get_len(self->spans), n_stacks = ct_spans_get_n_stacks(self->spans);
    if (n == 0 || self->source == NULL)
        return;
    /* Sites by stack slot, once: a handful of lookups, not one per span. */
    g_autofree const char **site = g_new0(const char *, MAX(n_stacks, 1));
    for (guint slot = 0; slot < n_stacks; slot++)
        site[slot] = ct_source_site(self->source, ct_spans_stack_id(self->spans, slot));
    for (guint s = 0; s < n; s++) {
        const CtSpan *sp = ct_spans_get(self->spans, s);
        long i = covering(self, ct_rule_of_leak(sp->leak), site[sp->stack]);
        if (i >= 0)
            cover_one(self, sp->id, (guint)i);
    }
}

/* A span put after the findings came: covered by the first finding of its leak and site,
 * as cover() would (a live window's findings are rebuilt every second from the counts,
 * and a pass over every span then stalled the main loop: ~60 ms a second at 1M contexts
 * a second). A leak withdrawn later (a cancel from above) keeps its mark until the
 * findings change. */
static void cover_span(CtTraceModel *self, const struct ct_ctx_row *row,
                       const struct ct_verdict *v)
{
    enum ct_rule rule = ct_rule_of_leak((int)v->leak);
    if (self->findings == NULL || self->cover_sites == NULL || self->source == NULL ||
        rule == CT_RULE_COUNT)
        return;
    long i = covering(self, rule, ct_source_site(self->source, ct_ctx_get(row, CT_CREATE_STACK, 0)));
    if (i >= 0)
        cover_one(self, row->id, (guint)i);
}

/* Per finding, its site, interned (a context's site compares by pointer). */
static const char **cover_sites_of(const struct ct_findings *f)
{
    const char **sites = g_new0(const char *, MAX(f->len, 1));
    for (size_t i = 0; i < f->len; i++)
        sites[i] = ct_format_site(f->items[i].site.function, f->items[i].site.file,
                                  f->items[i].site.line, f->items[i].site.module);
    return sites;
}

/* Do findings b (covering b_sites) cover what a does — the same rules, sites and examples,
 * whatever their counts and texts? */
static gboolean same_coverage(const struct ct_findings *a, const char *const *a_sites,
                              const struct ct_findings *b, const char *const *b_sites)
{
    if (a == NULL || a_sites == NULL || a->len != b->len)
        return FALSE;
    for (size_t i = 0; i < a->len; i++) {
        const struct ct_finding *x = &a->items[i], *y = &b->items[i];
        if (x->rule != y->rule || a_sites[i] != b_sites[i] || x->nexamples != y->nexamples ||
            memcmp(x->examples, y->examples, (size_t)x->nexamples * sizeof *x->examples) != 0)
            return FALSE;
    }
    return TRUE;
}

void ct_trace_model_set_findings(CtTraceModel *self, struct ct_findings *f)
{
    const char **sites = cover_sites_of(f);
    gboolean covered = same_coverage(self->findings, self->cover_sites, f, sites);
    if (self->findings != NULL) {
        ct_findings_free(self->findings);
        g_free(self->findings);
    }
    self->findings = f;
    g_free(self->cover_sites);
    self->cover_sites = sites;
    g_hash_table_remove_all(self->flagged);

    CtFindingItem *groups[CT_RULE_COUNT] = {0};
    for (size_t i = 0; i < f->len; i++) {
        const struct ct_finding *fi = &f->items[i];
        if (groups[fi->rule] == NULL)
            groups[fi->rule] = ct_finding_item_new_group(fi->rule);
        g_autoptr(CtFindingItem) item = ct_finding_item_new(fi);
        ct_finding_item_add(groups[fi->rule], item);
        for (int e = 0; e < fi->nexamples; e++) {
            gint64 id = fi->examples[e];
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(self->flagged, &id)) + 1;
            g_hash_table_insert(self->flagged, g_memdup2(&id, sizeof id), GUINT_TO_POINTER(n));
            CtContextItem *ctx = ct_trace_model_lookup(self, id);
            if (ctx != NULL)
                ct_context_item_set_n_findings(ctx, n);
        }
    }
    if (!covered) /* else the spans put since were covered as they came (cover_span) */
        cover(self);
    /* enum ct_rule runs from the most severe rule down. The old groups are replaced in
     * one change: a list view emptied under its focus and refilled (a live window's
     * findings, rebuilt every second) has GTK 4.8 look for a focus widget that is gone. */
    gpointer ordered[CT_RULE_COUNT];
    guint n = 0;
    for (int r = 0; r < CT_RULE_COUNT; r++)
        if (groups[r] != NULL)
            ordered[n++] = groups[r];
    g_list_store_splice(self->groups, 0, g_list_model_get_n_items(G_LIST_MODEL(self->groups)), ordered, n);
    for (guint i = 0; i < n; i++)
        g_object_unref(ordered[i]);
    g_signal_emit(self, signals[SIGNAL_FINDINGS_CHANGED], 0);
}

const struct ct_findings *ct_trace_model_get_findings(CtTraceModel *self)
{
    return self->findings;
}

GListModel *ct_trace_model_get_finding_groups(CtTraceModel *self)
{
    return G_LIST_MODEL(self->groups);
}

const struct ct_finding *ct_trace_model_get_finding_of(CtTraceModel *self, gint64 id)
{
    guint at = GPOINTER_TO_UINT(g_hash_table_lookup(self->covered, &id));
    return at != 0 && self->findings != NULL ? &self->findings->items[at - 1] : NULL;
}

GHashTable *ct_trace_model_get_flagged(CtTraceModel *self)
{
    return self->flagged;
}
