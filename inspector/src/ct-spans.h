/*
 * ct-spans.h — every context's lifespan, compactly: what the views that look at a whole
 * trace at once (the timeline's lanes, density and bars; per-site aggregates) read.
 *
 * A CtSpans holds one CtSpan per context (the roots excluded: they live as long as the
 * process and say nothing), 56 bytes each, so a 1,000,000-context trace costs ~48 MB
 * rather than a million GObjects. Creation stacks and threads are interned into small
 * slots, so grouping by site or thread maps a handful of slots, not every span.
 *
 * Two ways to fill it:
 *  - in bulk (the offline source, on a worker thread): ct_spans_put each row in
 *    creation order (the core's reader lists them so);
 *  - incrementally (live): created with track_ids, a later row for a known id updates
 *    its span in place; rows arrive roughly in creation order (readers of the table
 *    do not depend on the order).
 * Not thread-safe: one thread at a time (the worker hands the table to the main thread).
 */
#ifndef CT_SPANS_H
#define CT_SPANS_H

#include <ctxtrace/core/store.h>
#include <ctxtrace/core/verdict.h>
#include <glib.h>

#include "ct-context-item.h"

G_BEGIN_DECLS

typedef struct {
    gint64 id, parent_id;
    gint64 created_ns;  /* CLOCK_MONOTONIC, as in the trace */
    gint64 end_ns;      /* freed, else done (ct_end_of_row); 0 while it lives on */
    gint64 canceled_ns; /* became done; 0: not done */
    guint32 stack;      /* slot of its creation stack (ct_spans_stack_id) */
    guint32 thread;     /* slot of its creating thread (ct_spans_thread_id) */
    guint8 state;       /* CtState: the core's verdict */
    guint8 leak;        /* enum ct_leak: which leak, when state is leaked */
    guint8 why;         /* enum ctx_why + 1; 0: not done */
    guint8 fired;       /* its own timer fired */
    guint8 freed;       /* end_ns is when it was freed (not when it became done) */
} CtSpan;

typedef struct _CtSpans CtSpans;

/* track_ids: keep an id -> span map so later rows update their span (live). */
CtSpans *ct_spans_new(gboolean track_ids);
CtSpans *ct_spans_ref(CtSpans *self);
void ct_spans_unref(CtSpans *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtSpans, ct_spans_unref)

/* Add (or, tracking ids, update) the span of row's context, judged `verdict` (the
 * core's, ct_judge); rows of the roots (no parent) are ignored. */
void ct_spans_put(CtSpans *self, const struct ct_ctx_row *row, const struct ct_verdict *verdict);
/* Bumped by every change: a reader caches what it computed per version. */
guint64 ct_spans_get_version(CtSpans *self);

guint ct_spans_get_len(CtSpans *self);
const CtSpan *ct_spans_get(CtSpans *self, guint i);
/* The span of context `id`, or NULL (a linear scan unless tracking ids). */
const CtSpan *ct_spans_find(CtSpans *self, gint64 id);

guint ct_spans_get_n_stacks(CtSpans *self);
gint64 ct_spans_stack_id(CtSpans *self, guint32 slot);
guint ct_spans_get_n_threads(CtSpans *self);
gint64 ct_spans_thread_id(CtSpans *self, guint32 slot);

/* The earliest creation and the latest end (0, 0 when empty); a span still live at
 * the end reaches `now_ns`. */
void ct_spans_get_extent(CtSpans *self, gint64 now_ns, gint64 *from_ns, gint64 *to_ns);

/* How many contexts were live (created, not yet ended) at the end of each of `cols`
 * columns of ns_per_col from t0_ns (absolute); spans still live end at now_ns. out has
 * cols entries. One pass (a difference array). */
void ct_spans_count_live(CtSpans *self, double t0_ns, double ns_per_col, int cols, gint64 now_ns,
                         guint *out);

G_END_DECLS

#endif /* CT_SPANS_H */
