/*
 * ct-site-item.c — per-site aggregates of the spans and the folded contexts' aggregates
 * (see ct-site-item.h).
 *
 * One pass over the spans groups them by the site of their stack slot, one over the
 * aggregates by the site of their creation stack; the rows' lifetimes are kept per site
 * only to take the quantiles, then dropped. The quantiles are taken as the core's
 * profile (ct_profile, profile.c) takes them — exact over the rows, or the folded
 * contexts' histogram with the rows' lifetimes added to it — with the core's histogram
 * functions, so the view and `ctxtrace report --profile` print the same numbers.
 */
#include "ct-site-item.h"

#include <ctxtrace/tracer.h>

struct _CtSiteItem {
    GObject parent_instance;
    const char *site; /* interned */
    CtSiteStats stats;
};

G_DEFINE_FINAL_TYPE(CtSiteItem, ct_site_item, G_TYPE_OBJECT)

static void ct_site_item_class_init(CtSiteItemClass *klass)
{
    (void)klass;
}

static void ct_site_item_init(CtSiteItem *self)
{
    (void)self;
}

const char *ct_site_item_get_site(CtSiteItem *self)
{
    return self->site;
}

const CtSiteStats *ct_site_item_get_stats(CtSiteItem *self)
{
    return &self->stats;
}

static int life_bucket(gint64 ns)
{
    int b = 0;
    for (gint64 limit = 1000; b < CT_SITE_LIFE_BUCKETS - 1 && ns >= limit; limit *= 10)
        b++;
    return b;
}

static int cmp_ns(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static int by_created_desc(gconstpointer a, gconstpointer b)
{
    const CtSiteStats *x = ct_site_item_get_stats(*(CtSiteItem *const *)a);
    const CtSiteStats *y = ct_site_item_get_stats(*(CtSiteItem *const *)b);
    return x->created > y->created ? -1 : x->created < y->created;
}

/* A site's lifetimes while the items are built. */
typedef struct {
    GArray *rows;          /* gint64 ns, the rows' */
    struct ct_hist *folded; /* the folded contexts' (NULL: none) */
    gint64 folded_max;
} Lives;

static void lives_free(gpointer p)
{
    Lives *l = p;
    g_array_unref(l->rows);
    g_free(l->folded);
    g_free(l);
}

typedef struct {
    GHashTable *by_site; /* interned site -> item */
    GHashTable *lives;   /* item -> Lives */
    GPtrArray *items;
} Builder;

static CtSiteItem *item_for(Builder *b, const char *site, Lives **lives)
{
    site = site ? site : g_intern_static_string("(unknown site)");
    CtSiteItem *item = g_hash_table_lookup(b->by_site, site);
    if (item == NULL) {
        item = g_object_new(CT_TYPE_SITE_ITEM, NULL);
        item->site = site;
        g_hash_table_insert(b->by_site, (gpointer)site, item);
        g_ptr_array_add(b->items, item);
        Lives *l = g_new0(Lives, 1);
        l->rows = g_array_new(FALSE, FALSE, sizeof(gint64));
        g_hash_table_insert(b->lives, item, l);
    }
    *lives = g_hash_table_lookup(b->lives, item);
    return item;
}

/* p50, p99 and max of a site's lifetimes (as profile.c's quantiles()). */
static void quantiles(Lives *l, CtSiteStats *st)
{
    g_array_sort(l->rows, cmp_ns);
    guint n = l->rows->len;
    const gint64 *v = (const gint64 *)l->rows->data;
    if (l->folded == NULL) {
        st->life_p50 = n ? v[(n - 1) * 50 / 100] : 0;
        st->life_p99 = n ? v[(n - 1) * 99 / 100] : 0;
        st->life_max = n ? v[n - 1] : 0;
        return;
    }
    for (guint i = 0; i < n; i++)
        ct_hist_add(l->folded, v[i]);
    st->life_max = MAX(n ? v[n - 1] : 0, l->folded_max);
    /* A bucket's upper bound can overshoot the longest lifetime seen. */
    st->life_p50 = MIN(ct_hist_quantile(l->folded, 50), st->life_max);
    st->life_p99 = MIN(ct_hist_quantile(l->folded, 99), st->life_max);
}

/* A live process's counts replace what the spans say of created, live and findings
 * (stacks sharing a site add up). */
static void add_counts(Builder *b, const CtSiteCounts *counts, guint n_counts, CtSiteOfStack site_of,
                       gpointer data)
{
    for (guint k = 0; k < n_counts; k++) {
        const CtSiteCounts *c = &counts[k];
        Lives *l;
        CtSiteStats *st = &item_for(b, site_of(c->stack, data), &l)->stats;
        if (!st->counted) {
            st->counted = TRUE;
            st->received = st->created;
            st->created = st->live_at_end = st->leaked = st->findings = 0;
        }
        st->created += c->created;
        st->live_at_end += c->live;
        st->leaked += c->lost_cancel + c->orphaned_timer;
        st->findings += c->lost_cancel + c->orphaned_timer + c->ineffective_deadline;
    }
}

GListModel *ct_site_items_new(CtSpans *spans, const struct ct_site_summary *sums, guint n_sums,
                              const CtSiteCounts *counts, guint n_counts, gint64 now_ns,
                              CtSiteOfStack site_of, CtIsCovered covered, gpointer data)
{
    guint n_slots = ct_spans_get_n_stacks(spans);
    g_autoptr(GHashTable) by_site = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) lives = g_hash_table_new_full(NULL, NULL, NULL, lives_free);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
    Builder b = {by_site, lives, items};
    g_autofree CtSiteItem **of_slot = g_new0(CtSiteItem *, MAX(n_slots, 1));
    g_autofree Lives **lives_of_slot = g_new0(Lives *, MAX(n_slots, 1));
    for (guint slot = 0; slot < n_slots; slot++)
        of_slot[slot] = item_for(&b, site_of(ct_spans_stack_id(spans, slot), data), &lives_of_slot[slot]);

    guint n = ct_spans_get_len(spans);
    for (guint i = 0; i < n; i++) {
        const CtSpan *sp = ct_spans_get(spans, i);
        CtSiteStats *st = &of_slot[sp->stack]->stats;
        st->created++;
        st->cancelled += sp->state == CT_STATE_CANCELLED;
        st->deadline += sp->state == CT_STATE_DEADLINE;
        st->leaked += sp->state == CT_STATE_LEAKED;
        st->findings += covered(sp->id, data);
        st->live_at_end += sp->end_ns == 0;
        /* Creation to free, or to the end of the trace: the memory's lifetime, as the
         * profile counts it. */
        gint64 life = MAX((sp->freed ? sp->end_ns : now_ns) - sp->created_ns, 0);
        st->life[life_bucket(life)]++;
        g_array_append_val(lives_of_slot[sp->stack]->rows, life);
    }

    for (guint k = 0; k < n_sums; k++) {
        const struct ct_site_summary *m = &sums[k];
        /* The roots have no rows here either (ct-spans.h). */
        if (m->kind == CTX_KIND_BACKGROUND || m->kind == CTX_KIND_TODO)
            continue;
        Lives *l;
        CtSiteStats *st = &item_for(&b, site_of(m->create_stack, data), &l)->stats;
        st->created += m->contexts;
        st->summarized += m->contexts;
        st->cancelled += m->ended_explicit + m->ended_parent;
        st->summarized_cancelled += m->ended_explicit + m->ended_parent;
        st->deadline += m->ended_deadline;
        st->summarized_deadline += m->ended_deadline;
        if (l->folded == NULL)
            l->folded = g_new0(struct ct_hist, 1);
        ct_hist_merge(l->folded, &m->life);
        l->folded_max = MAX(l->folded_max, m->life_max);
        for (int h = 0; h < CT_HIST_BUCKETS; h++)
            st->life[life_bucket(ct_hist_lower(h))] += m->life.n[h];
    }

    add_counts(&b, counts, n_counts, site_of, data);

    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, lives);
    while (g_hash_table_iter_next(&it, &key, &value))
        quantiles(value, &CT_SITE_ITEM(key)->stats);
    g_ptr_array_sort(items, by_created_desc);
    GListStore *store = g_list_store_new(CT_TYPE_SITE_ITEM);
    for (guint i = 0; i < items->len; i++)
        if (ct_site_item_get_stats(items->pdata[i])->created > 0)
            g_list_store_append(store, items->pdata[i]);
    return G_LIST_MODEL(store);
}
