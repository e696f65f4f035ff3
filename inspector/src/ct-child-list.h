/*
 * ct-child-list.h — a GListModel of CtContextItem for one list of the tree: the
 * children of a context, the roots, or a filter's flat result.
 *
 * Lazy: the list knows how many rows its source holds (one count query) and fetches a
 * page of rows only when a position in it is asked for (get_item), by keyset query
 * from the last id of the page before when that page is loaded — which it is when the
 * view scrolls — so a list of a million children costs one page per screen.
 *
 * Incremental: rows a live source pushes are appended after the source's rows
 * (ct_child_list_append) and announced in one items-changed per flush, however many
 * arrived in between (ct_child_list_flush), so a view redraws once per frame; a flush
 * may announce only a slice of them (the model bounds what views build per frame).
 */
#ifndef CT_CHILD_LIST_H
#define CT_CHILD_LIST_H

#include <gio/gio.h>

#include "ct-context-item.h"
#include "ct-source.h"

G_BEGIN_DECLS

typedef struct _CtTraceModel CtTraceModel;

#define CT_TYPE_CHILD_LIST (ct_child_list_get_type())
G_DECLARE_FINAL_TYPE(CtChildList, ct_child_list, CT, CHILD_LIST, GObject)

enum { CT_CHILD_LIST_PAGE = 128 };

/* A list of what q selects, counted now in `source` (may be NULL: empty until
 * appends). Rows become items through `model` (ct_trace_model_intern_row). The model
 * must outlive the list or call ct_child_list_detach. */
CtChildList *ct_child_list_new(CtTraceModel *model, CtSource *source, const CtQuery *q);
const CtQuery *ct_child_list_get_query(CtChildList *self);

/* Queue an item at the end; visible after the next flush. */
void ct_child_list_append(CtChildList *self, CtContextItem *item);
/* Items queued and not announced yet. */
guint ct_child_list_get_n_queued(CtChildList *self);
/* Announce up to `max` of the queued items in one items-changed (G_MAXUINT: all);
 * returns how many are still queued. */
guint ct_child_list_flush(CtChildList *self, guint max);
/* Position of the item with this id among the loaded or countable rows, or -1. An item
 * still queued is announced first (with the rest of the queue): what is asked for —
 * revealing a context just pushed — must be a row. */
gint64 ct_child_list_find(CtChildList *self, gint64 id);
void ct_child_list_detach(CtChildList *self);

G_END_DECLS

#endif /* CT_CHILD_LIST_H */
