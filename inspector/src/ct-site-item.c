/*
 * ct-site-item.c — per-site aggregates of the spans (see ct-site-item.h).
 *
 * One pass over the spans groups them by the site of their stack slot; lifetimes are
 * kept per site only to take the median, then dropped.
 */
#include "ct-site-item.h"

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

GListModel *ct_site_items_from_spans(CtSpans *spans, CtSiteOfSlot site_of, CtIsCovered covered,
                                     gpointer data)
{
    guint n_slots = ct_spans_get_n_stacks(spans);
    g_autoptr(GHashTable) by_site = g_hash_table_new(NULL, NULL); /* interned site -> item */
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
    g_autofree CtSiteItem **of_slot = g_new0(CtSiteItem *, MAX(n_slots, 1));
    for (guint slot = 0; slot < n_slots; slot++) {
        const char *site = site_of(spans, slot, data);
        site = site ? site : g_intern_static_string("(unknown site)");
        CtSiteItem *item = g_hash_table_lookup(by_site, site);
        if (item == NULL) {
            item = g_object_new(CT_TYPE_SITE_ITEM, NULL);
            item->site = site;
            g_hash_table_insert(by_site, (gpointer)site, item);
            g_ptr_array_add(items, item);
        }
        of_slot[slot] = item;
    }
    /* Lifetimes per site, for the median. */
    g_autoptr(GHashTable) lives = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_array_unref);
    guint n = ct_spans_get_len(spans);
    for (guint i = 0; i < n; i++) {
        const CtSpan *sp = ct_spans_get(spans, i);
        CtSiteItem *item = of_slot[sp->stack];
        CtSiteStats *st = &item->stats;
        st->created++;
        st->cancelled += sp->state == CT_STATE_CANCELLED;
        st->deadline += sp->state == CT_STATE_DEADLINE;
        st->leaked += sp->state == CT_STATE_LEAKED;
        st->findings += covered(sp->id, data);
        if (sp->end_ns == 0) {
            st->live_at_end++;
            continue;
        }
        gint64 life = MAX(sp->end_ns - sp->created_ns, 0);
        st->life[life_bucket(life)]++;
        st->life_max = MAX(st->life_max, life);
        GArray *v = g_hash_table_lookup(lives, item);
        if (v == NULL) {
            v = g_array_new(FALSE, FALSE, sizeof(gint64));
            g_hash_table_insert(lives, item, v);
        }
        g_array_append_val(v, life);
    }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, lives);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        GArray *v = value;
        g_array_sort(v, cmp_ns);
        CT_SITE_ITEM(key)->stats.life_p50 = g_array_index(v, gint64, v->len / 2);
    }
    g_ptr_array_sort(items, by_created_desc);
    GListStore *store = g_list_store_new(CT_TYPE_SITE_ITEM);
    for (guint i = 0; i < items->len; i++)
        if (ct_site_item_get_stats(items->pdata[i])->created > 0)
            g_list_store_append(store, items->pdata[i]);
    return G_LIST_MODEL(store);
}
