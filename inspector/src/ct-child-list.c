/*
 * ct-child-list.c — a paged, appendable list of contexts (see ct-child-list.h).
 */
#include "ct-child-list.h"

#include "ct-trace-model.h"

struct _CtChildList {
    GObject parent_instance;
    CtTraceModel *model; /* not owned; NULL once detached */
    CtSource *source;    /* owned; NULL: appends only */
    CtQuery query;
    guint n_paged;       /* rows held by the source (slots 0 .. n_paged-1) */
    GPtrArray *items;    /* CtContextItem or NULL (page not loaded), then the appends */
    guint n_visible;     /* what items-changed has announced so far */
};

static void ct_child_list_list_model_init(GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(CtChildList, ct_child_list, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL,
                                                    ct_child_list_list_model_init))

static GType ct_child_list_get_item_type(GListModel *list)
{
    (void)list;
    return CT_TYPE_CONTEXT_ITEM;
}

static guint ct_child_list_get_n_items(GListModel *list)
{
    return CT_CHILD_LIST(list)->n_visible;
}

/* Load the page holding position `pos` from the source. */
static void load_page(CtChildList *self, guint pos)
{
    guint first = pos - pos % CT_CHILD_LIST_PAGE;
    guint limit = MIN((guint)CT_CHILD_LIST_PAGE, self->n_paged - first);
    struct ct_cursor after = {0, 0};
    guint skip = first;
    /* Keyset when the previous row is known: the query starts where that row leaves
     * off instead of counting its way past `first` rows. */
    CtContextItem *prev = first > 0 ? g_ptr_array_index(self->items, first - 1) : NULL;
    if (prev != NULL) {
        after = (struct ct_cursor){ct_context_item_get(prev, CT_CREATED_NS, 0),
                                   ct_context_item_get_id(prev)};
        skip = 0;
    }
    GArray *rows = ct_ctx_rows_new();
    GArray *n_children = g_array_new(FALSE, FALSE, sizeof(gint64));
    guint got = ct_source_fetch(self->source, &self->query, after, skip, limit, rows, n_children);
    for (guint i = 0; i < got && first + i < self->n_paged; i++) {
        if (g_ptr_array_index(self->items, first + i) != NULL)
            continue;
        CtContextItem *item = ct_trace_model_intern_row(
            self->model, &g_array_index(rows, struct ct_ctx_row, i),
            g_array_index(n_children, gint64, i));
        g_ptr_array_index(self->items, first + i) = g_object_ref(item);
    }
    g_array_unref(rows);
    g_array_unref(n_children);
}

static gpointer ct_child_list_get_item(GListModel *list, guint pos)
{
    CtChildList *self = CT_CHILD_LIST(list);
    if (pos >= self->n_visible)
        return NULL;
    if (g_ptr_array_index(self->items, pos) == NULL && self->model != NULL)
        load_page(self, pos);
    gpointer item = g_ptr_array_index(self->items, pos);
    /* A source that shrank under us (it must not) leaves a hole: never hand out NULL
     * for a position inside n_items, which GTK does not expect. */
    g_return_val_if_fail(item != NULL, NULL);
    return g_object_ref(item);
}

static void ct_child_list_list_model_init(GListModelInterface *iface)
{
    iface->get_item_type = ct_child_list_get_item_type;
    iface->get_n_items = ct_child_list_get_n_items;
    iface->get_item = ct_child_list_get_item;
}

static void ct_child_list_finalize(GObject *object)
{
    CtChildList *self = CT_CHILD_LIST(object);
    g_ptr_array_unref(self->items);
    g_clear_object(&self->source);
    ct_query_clear(&self->query);
    G_OBJECT_CLASS(ct_child_list_parent_class)->finalize(object);
}

static void ct_child_list_class_init(CtChildListClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = ct_child_list_finalize;
}

static void unref_maybe(gpointer p)
{
    if (p != NULL)
        g_object_unref(p);
}

static void ct_child_list_init(CtChildList *self)
{
    /* The free func must accept the NULL slots of pages never loaded. */
    self->items = g_ptr_array_new_with_free_func(unref_maybe);
}

CtChildList *ct_child_list_new(CtTraceModel *model, CtSource *source, const CtQuery *q)
{
    CtChildList *self = g_object_new(CT_TYPE_CHILD_LIST, NULL);
    self->model = model;
    self->source = source ? g_object_ref(source) : NULL;
    ct_query_copy(&self->query, q);
    self->n_paged = source ? ct_source_count(source, q) : 0;
    g_ptr_array_set_size(self->items, (gint)self->n_paged);
    self->n_visible = self->n_paged;
    return self;
}

const CtQuery *ct_child_list_get_query(CtChildList *self)
{
    return &self->query;
}

void ct_child_list_append(CtChildList *self, CtContextItem *item)
{
    g_ptr_array_add(self->items, g_object_ref(item));
}

guint ct_child_list_get_n_queued(CtChildList *self)
{
    return self->items->len - self->n_visible;
}

guint ct_child_list_flush(CtChildList *self, guint max)
{
    guint queued = self->items->len - self->n_visible;
    guint n = MIN(queued, max);
    if (n == 0)
        return queued;
    guint was = self->n_visible;
    self->n_visible = was + n;
    g_list_model_items_changed(G_LIST_MODEL(self), was, 0, n);
    return queued - n;
}

gint64 ct_child_list_find(CtChildList *self, gint64 id)
{
    for (guint i = 0; i < self->items->len; i++) {
        CtContextItem *item = g_ptr_array_index(self->items, i);
        if (item == NULL || ct_context_item_get_id(item) != id)
            continue;
        if (i >= self->n_visible)
            ct_child_list_flush(self, G_MAXUINT);
        return i;
    }
    /* Not loaded: the source's rows are in id order, so the position is the number of
     * matching rows with a smaller id. */
    if (self->source == NULL || self->n_paged == 0)
        return -1;
    gint64 pos = -1;
    guint lo = 0, hi = self->n_paged;
    /* Binary search over positions, loading the probed pages: O(log n) page queries. */
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_ptr_array_index(self->items, mid) == NULL)
            load_page(self, mid);
        CtContextItem *item = g_ptr_array_index(self->items, mid);
        if (item == NULL)
            break;
        gint64 mid_id = ct_context_item_get_id(item);
        if (mid_id == id) {
            pos = mid;
            break;
        }
        if (mid_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return pos;
}

void ct_child_list_detach(CtChildList *self)
{
    self->model = NULL;
}
