/*
 * ct-source.c — the CtSource interface (see ct-source.h) and the query helpers.
 */
#include "ct-source.h"

G_DEFINE_INTERFACE(CtSource, ct_source, G_TYPE_OBJECT)

static void ct_source_default_init(CtSourceInterface *iface)
{
    (void)iface;
}

gboolean ct_query_is_filter(const CtQuery *q)
{
    return (q->search != NULL && q->search[0] != '\0') || q->kind >= 0 || q->state >= 0 ||
           q->only_problems;
}

void ct_query_copy(CtQuery *dst, const CtQuery *src)
{
    *dst = *src;
    dst->search = g_strdup(src->search);
}

void ct_query_clear(CtQuery *q)
{
    g_clear_pointer(&q->search, g_free);
}

guint ct_source_count(CtSource *self, const CtQuery *q)
{
    return CT_SOURCE_GET_IFACE(self)->count(self, q);
}

guint ct_source_fetch(CtSource *self, const CtQuery *q, struct ct_cursor after, guint skip,
                      guint limit, GArray *rows, GArray *n_children)
{
    return CT_SOURCE_GET_IFACE(self)->fetch(self, q, after, skip, limit, rows, n_children);
}

const char *ct_source_site(CtSource *self, gint64 stack_id)
{
    return CT_SOURCE_GET_IFACE(self)->site(self, stack_id);
}

gboolean ct_source_load_stack(CtSource *self, gint64 stack_id, struct ct_stack *out)
{
    return CT_SOURCE_GET_IFACE(self)->load_stack(self, stack_id, out);
}

GArray *ct_source_ancestry(CtSource *self, gint64 id)
{
    return CT_SOURCE_GET_IFACE(self)->ancestry(self, id);
}

struct ct_verdict ct_source_verdict(CtSource *self, const struct ct_ctx_row *row,
                                    gboolean trace_complete)
{
    if (self != NULL && CT_SOURCE_GET_IFACE(self)->verdict != NULL)
        return CT_SOURCE_GET_IFACE(self)->verdict(self, row);
    struct ct_facts f;
    ct_facts_from_row(row, trace_complete, CT_REACH_UNKNOWN, &f);
    return ct_judge(&f);
}

static void clear_row(gpointer p)
{
    struct ct_ctx_row *r = p;
    g_clear_pointer(&r->reason, g_free);
}

GArray *ct_ctx_rows_new(void)
{
    GArray *a = g_array_new(FALSE, TRUE, sizeof(struct ct_ctx_row));
    g_array_set_clear_func(a, clear_row);
    return a;
}
