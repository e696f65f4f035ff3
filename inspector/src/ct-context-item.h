/*
 * ct-context-item.h — one context as the inspector's views see it: a GObject wrapping
 * the trace core's partial `contexts` row (struct ct_ctx_row, store.h), so an offline
 * source (rows read from the file) and a live source (rows decoded from events) feed
 * the same item. Rows merge by the trace file's own rules (ct_ctx_row_merge).
 *
 * Items are owned by the CtTraceModel (one item per context id) and shared by every
 * list that shows the context; "changed" is emitted when a merge changed something,
 * so bound cells refresh without the lists having to know where the item sits.
 */
#ifndef CT_CONTEXT_ITEM_H
#define CT_CONTEXT_ITEM_H

#include <ctxtrace/core/store.h>
#include <ctxtrace/core/verdict.h>
#include <glib-object.h>

G_BEGIN_DECLS

#define CT_TYPE_CONTEXT_ITEM (ct_context_item_get_type())
G_DECLARE_FINAL_TYPE(CtContextItem, ct_context_item, CT, CONTEXT_ITEM, GObject)

/* What became of a context, as the tree's state column shows it: the trace core's one
 * verdict (ctxtrace/core/verdict.h), so the tree marks leaked exactly what the rules
 * count. An item alone cannot judge itself — the exit check's reachability is the
 * trace's, not the row's: ct_trace_model_get_state asks the source. */
typedef enum ct_state CtState;

/* A new item from `row` (copied, reason included); `site` is an interned string
 * ("function file:line") or NULL. */
CtContextItem *ct_context_item_new(const struct ct_ctx_row *row, const char *site);

/* Merge the present columns of `row` into the item; emits "changed" if any differed. */
void ct_context_item_merge(CtContextItem *self, const struct ct_ctx_row *row);

/* Hold "changed" back (nested, as g_object_freeze_notify): while frozen, changes are
 * only remembered; the last thaw emits "changed" once if anything changed. A live
 * burst merges several events into one visible item per frame, and every emission
 * refills its bound cells. */
void ct_context_item_freeze_changed(CtContextItem *self);
void ct_context_item_thaw_changed(CtContextItem *self);

gint64 ct_context_item_get_id(CtContextItem *self);
gint64 ct_context_item_get_parent_id(CtContextItem *self);
/* Column c of the row, or `def` if not known (yet). */
gint64 ct_context_item_get(CtContextItem *self, enum ct_ctx_col c, gint64 def);
const char *ct_context_item_get_reason(CtContextItem *self);
const char *ct_context_item_get_kind_name(CtContextItem *self);
const char *ct_context_item_get_site(CtContextItem *self);
void ct_context_item_set_site(CtContextItem *self, const char *site);

/* When a row's context stopped mattering (freed, else done), or 0 while it lives on. */
gint64 ct_end_of_row(const struct ct_ctx_row *r);
/* The merged row (for tables built from items). */
const struct ct_ctx_row *ct_context_item_get_row(CtContextItem *self);

/* When it stopped mattering (freed, else done), or 0 while it lives on. */
gint64 ct_context_item_get_end_ns(CtContextItem *self);

/* Children known to the source (set by whoever counted them; -1: not counted). */
gint64 ct_context_item_get_n_children(CtContextItem *self);
void ct_context_item_set_n_children(CtContextItem *self, gint64 n);

/* Findings naming this context (as an example), shown as a badge. */
guint ct_context_item_get_n_findings(CtContextItem *self);
void ct_context_item_set_n_findings(CtContextItem *self, guint n);

G_END_DECLS

#endif /* CT_CONTEXT_ITEM_H */
