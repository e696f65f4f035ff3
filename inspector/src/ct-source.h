/*
 * ct-source.h — where a CtTraceModel's data comes from: the interface a trace source
 * implements. The offline source (ct-trace-source.c) reads a trace file lazily; a live
 * source (decoding the shim's socket) pushes rows into the model with the model's
 * incremental calls (ct_trace_model_apply_row and friends) and answers the queries
 * below for what it has not pushed — nothing, typically (count 0).
 *
 * Every call runs on the main thread.
 */
#ifndef CT_SOURCE_H
#define CT_SOURCE_H

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/store.h>
#include <glib-object.h>

G_BEGIN_DECLS

/* Which contexts a list shows: the children of one context (or the roots), or — when
 * any filter is set — every context that passes the filters, as a flat list. */
typedef struct {
    gint64 parent_id;       /* children of this context; 0: the roots (no parent) */
    char *search;           /* site text (case-insensitive substring) or a context id */
    int kind;               /* enum ctx_kind, or -1: any */
    int state;              /* CtState, or -1: any */
    gboolean only_problems; /* leaked, or named by a finding */
} CtQuery;

/* True if q filters (a flat list) rather than listing children. */
gboolean ct_query_is_filter(const CtQuery *q);
void ct_query_copy(CtQuery *dst, const CtQuery *src);
void ct_query_clear(CtQuery *q);

#define CT_TYPE_SOURCE (ct_source_get_type())
G_DECLARE_INTERFACE(CtSource, ct_source, CT, SOURCE, GObject)

struct _CtSourceInterface {
    GTypeInterface parent_iface;

    /* How many contexts the source holds that match q. */
    guint (*count)(CtSource *self, const CtQuery *q);
    /* Up to `limit` matching rows in creation order after `after`, skipping the first
     * `skip` of those (keyset paging: callers pass the last row of the previous page
     * and skip 0 when they have it). Appends to `rows` (struct ct_ctx_row, reason
     * owned by the array's clear func) and, per row, its number of children to
     * `n_children` (gint64). Returns the rows appended. */
    guint (*fetch)(CtSource *self, const CtQuery *q, struct ct_cursor after, guint skip,
                   guint limit, GArray *rows, GArray *n_children);
    /* "function file:line" of the innermost frame of stack_id outside the runtime and
     * the shim, as an interned string; NULL if unknown. */
    const char *(*site)(CtSource *self, gint64 stack_id);
    /* The symbolized stack (runtime and shim frames removed). */
    gboolean (*load_stack)(CtSource *self, gint64 stack_id, struct ct_stack *out);
    /* Ancestors of `id`, outermost (a root) first, `id` last; empty if unknown. */
    GArray *(*ancestry)(CtSource *self, gint64 id);
    /* The core's verdict on one of its rows with what the source knows of the exit (a
     * trace file: ct_reader_verdict, the exit check's reachability included). Optional:
     * a source without it knows nothing of the exit (see ct_source_verdict). */
    struct ct_verdict (*verdict)(CtSource *self, const struct ct_ctx_row *row);
};

guint ct_source_count(CtSource *self, const CtQuery *q);
guint ct_source_fetch(CtSource *self, const CtQuery *q, struct ct_cursor after, guint skip,
                      guint limit, GArray *rows, GArray *n_children);
const char *ct_source_site(CtSource *self, gint64 stack_id);
gboolean ct_source_load_stack(CtSource *self, gint64 stack_id, struct ct_stack *out);
GArray *ct_source_ancestry(CtSource *self, gint64 id);
/* THE state of a row, for every view: the source's verdict, or — for a source (or none)
 * that knows nothing of the exit, e.g. a live stream — the core's judgement of the row's
 * own facts with the reachability unknown; `trace_complete` says whether the program
 * exited and the trace was finished (a source with a verdict knows that itself). */
struct ct_verdict ct_source_verdict(CtSource *self, const struct ct_ctx_row *row,
                                    gboolean trace_complete);

/* A GArray of struct ct_ctx_row that frees each row's reason. */
GArray *ct_ctx_rows_new(void);

G_END_DECLS

#endif /* CT_SOURCE_H */
