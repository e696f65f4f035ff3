/*
 * ct-context-item.c — a context row as a GObject (see ct-context-item.h).
 */
#include "ct-context-item.h"

#include <ctxtrace/tracer.h>
#include <stdlib.h>
#include <string.h>

struct _CtContextItem {
    GObject parent_instance;
    struct ct_ctx_row row; /* row.reason owned here */
    const char *site;      /* interned */
    gint64 n_children;
    guint n_findings;
    guint frozen;      /* ct_context_item_freeze_changed depth */
    gboolean pending;  /* something changed while frozen */
};

G_DEFINE_FINAL_TYPE(CtContextItem, ct_context_item, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void ct_context_item_finalize(GObject *object)
{
    CtContextItem *self = CT_CONTEXT_ITEM(object);
    free(self->row.reason); /* ct_ctx_row_merge's malloc */
    G_OBJECT_CLASS(ct_context_item_parent_class)->finalize(object);
}

static void ct_context_item_class_init(CtContextItemClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = ct_context_item_finalize;
    /* Emitted after a merge or a count changed what the item shows. */
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void ct_context_item_init(CtContextItem *self)
{
    self->n_children = -1;
}

static void emit_changed(CtContextItem *self)
{
    if (self->frozen > 0)
        self->pending = TRUE;
    else
        g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

void ct_context_item_freeze_changed(CtContextItem *self)
{
    self->frozen++;
}

void ct_context_item_thaw_changed(CtContextItem *self)
{
    g_assert(self->frozen > 0);
    if (--self->frozen > 0 || !self->pending)
        return;
    self->pending = FALSE;
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

CtContextItem *ct_context_item_new(const struct ct_ctx_row *row, const char *site)
{
    CtContextItem *self = g_object_new(CT_TYPE_CONTEXT_ITEM, NULL);
    self->row = *row;
    self->row.reason = row->reason != NULL ? strdup(row->reason) : NULL;
    self->site = site;
    return self;
}

void ct_context_item_merge(CtContextItem *self, const struct ct_ctx_row *row)
{
    if (ct_ctx_row_merge(&self->row, row))
        emit_changed(self);
}

gint64 ct_context_item_get_id(CtContextItem *self)
{
    return self->row.id;
}

gint64 ct_context_item_get_parent_id(CtContextItem *self)
{
    return ct_ctx_get(&self->row, CT_PARENT_ID, 0);
}

gint64 ct_context_item_get(CtContextItem *self, enum ct_ctx_col c, gint64 def)
{
    return ct_ctx_get(&self->row, c, def);
}

const char *ct_context_item_get_reason(CtContextItem *self)
{
    return self->row.reason;
}

const char *ct_context_item_get_kind_name(CtContextItem *self)
{
    return ct_kind_name((int)ct_ctx_get(&self->row, CT_KIND, -1));
}

const char *ct_context_item_get_site(CtContextItem *self)
{
    return self->site;
}

void ct_context_item_set_site(CtContextItem *self, const char *site)
{
    if (self->site == site)
        return;
    self->site = site;
    emit_changed(self);
}

gint64 ct_end_of_row(const struct ct_ctx_row *r)
{
    gint64 freed = ct_ctx_get(r, CT_FREED_NS, 0);
    return freed ? freed : ct_ctx_get(r, CT_CANCELED_NS, 0);
}

const struct ct_ctx_row *ct_context_item_get_row(CtContextItem *self)
{
    return &self->row;
}

gint64 ct_context_item_get_end_ns(CtContextItem *self)
{
    return ct_end_of_row(&self->row);
}

gint64 ct_context_item_get_n_children(CtContextItem *self)
{
    return self->n_children;
}

void ct_context_item_set_n_children(CtContextItem *self, gint64 n)
{
    if (self->n_children == n)
        return;
    self->n_children = n;
    emit_changed(self);
}

guint ct_context_item_get_n_findings(CtContextItem *self)
{
    return self->n_findings;
}

void ct_context_item_set_n_findings(CtContextItem *self, guint n)
{
    if (self->n_findings == n)
        return;
    self->n_findings = n;
    emit_changed(self);
}
