/*
 * ct-trace-model.h — everything the inspector's views show about one traced process,
 * as GObjects and GListModels: the context tree (one lazy CtChildList per expanded
 * context), the contexts on the timeline, the periodic count samples and the findings
 * grouped by rule. One CtSource fills it.
 *
 * Two ways in:
 *  - lazily, from the source: lists count and page their rows from it on demand (the
 *    offline trace file);
 *  - incrementally, pushed by a source as things happen (a live process; the offline
 *    source's progressive steps): ct_trace_model_apply_row for a context created,
 *    changed state or freed, ct_trace_model_add_sample, ct_trace_model_set_now,
 *    ct_trace_model_set_findings. Pushes change the model's data at once but are
 *    announced coalesced — at most one items-changed per list, one "changed" per item
 *    and one signal per kind per frame (16 ms) — so 100k events a second cost the views
 *    one redraw a frame. New rows are announced in slices the views can afford (what
 *    building their widget rows cost last time), the rest in the next frames.
 *    ct_trace_model_flush announces everything pending now.
 *
 * Signals: "roots-changed" (the filter changed: take ct_trace_model_get_roots again),
 * "timeline-changed", "samples-changed", "findings-changed", "meta-changed".
 * Main thread only.
 */
#ifndef CT_TRACE_MODEL_H
#define CT_TRACE_MODEL_H

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/store.h>
#include <ctxtrace/core/summary.h>
#include <gio/gio.h>

#include "ct-context-item.h"
#include "ct-source.h"
#include "ct-spans.h"

G_BEGIN_DECLS

#define CT_TYPE_TRACE_MODEL (ct_trace_model_get_type())
G_DECLARE_FINAL_TYPE(CtTraceModel, ct_trace_model, CT, TRACE_MODEL, GObject)

CtTraceModel *ct_trace_model_new(CtSource *source /* nullable */);
CtSource *ct_trace_model_get_source(CtTraceModel *self);

/* ---- facts about the run ------------------------------------------------------------ */
typedef struct {
    char *program;       /* path of the traced program */
    gint64 pid;
    gint64 start_ns;     /* start of the trace (CLOCK_MONOTONIC) */
    gint64 now_ns;       /* end of the trace, or the latest time seen live */
    gboolean complete;   /* the process ended cleanly and the trace is whole */
    gint64 contexts;     /* contexts in the trace, roots excluded (-1: unknown) */
    gint64 summarized;   /* more contexts, folded into per-site summaries (summary
                          * retention): counted by the trace, not rows the views show */
} CtTraceMeta;

void ct_trace_model_set_meta(CtTraceModel *self, const CtTraceMeta *meta);
const CtTraceMeta *ct_trace_model_get_meta(CtTraceModel *self);

/* The per-site aggregates of the contexts a summary-retention trace folded instead of
 * keeping rows (ctxtrace/core/summary.h; the core reader's ct_reader_site_summaries):
 * copied in; set before the spans arrive (the Sites view adds them to its rows' counts
 * when it rebuilds). None for a full trace or a live stream. */
void ct_trace_model_set_site_summaries(CtTraceModel *self, const struct ct_site_summary *sums,
                                       guint n);
const struct ct_site_summary *ct_trace_model_get_site_summaries(CtTraceModel *self, guint *n);

/* A live process's own counts at one creation stack since it started (the wire's
 * SITE_COUNTS, docs/wire.md): exact however many events the window skipped, where the
 * spans hold only the contexts it received. None offline. */
typedef struct {
    gint64 stack;
    gint64 created, freed, live;
    gint64 lost_cancel, orphaned_timer, ineffective_deadline;
} CtSiteCounts;

/* Replace the counts of c->stack (or add them); announced as "timeline-changed". */
void ct_trace_model_set_site_counts(CtTraceModel *self, const CtSiteCounts *c);
const CtSiteCounts *ct_trace_model_get_site_counts(CtTraceModel *self, guint *n);

/* ---- the tree ------------------------------------------------------------------------ */
/* The top list: the roots, or the flat result of the filter. */
GListModel *ct_trace_model_get_roots(CtTraceModel *self);
/* Show what q selects at the top (a filter gives a flat list; see CtQuery). */
void ct_trace_model_set_filter(CtTraceModel *self, const CtQuery *q);
const CtQuery *ct_trace_model_get_filter(CtTraceModel *self);
/* The children list of `item` (a new reference), or NULL when it has none — for
 * GtkTreeListModel's create function. */
GListModel *ct_trace_model_get_children(CtTraceModel *self, CtContextItem *item);
/* The item for id, if loaded. */
CtContextItem *ct_trace_model_lookup(CtTraceModel *self, gint64 id);
/* The verdict on a row, and the state of an item: the source's one verdict with what it
 * knows of the exit (ct_source_verdict) and the trace's completeness. */
struct ct_verdict ct_trace_model_verdict(CtTraceModel *self, const struct ct_ctx_row *row);
CtState ct_trace_model_get_state(CtTraceModel *self, CtContextItem *item);
/* The one item for row->id: the loaded one (rows merge in), or a new one.
 * n_children < 0: not known. (For lists and sources.) */
CtContextItem *ct_trace_model_intern_row(CtTraceModel *self, const struct ct_ctx_row *row,
                                         gint64 n_children);
/* Ids from a root down to `id` (id last), for revealing a context in the tree; from
 * the loaded items, else from the source. Empty if unknown. */
GArray *ct_trace_model_get_ancestry(CtTraceModel *self, gint64 id);
/* A live source sets this: every context may still gain children, so every one is
 * expandable (offline, only those with children are). */
void ct_trace_model_set_live(CtTraceModel *self, gboolean live);
gboolean ct_trace_model_get_live(CtTraceModel *self);

/* ---- incremental updates ---------------------------------------------------------------- */
/* A context was created, changed state, was released or freed: the present columns of
 * row. A new context is appended to its parent's list, to the filter's list when it
 * matches, and its span is added or updated (ct_trace_model_get_spans). */
void ct_trace_model_apply_row(CtTraceModel *self, const struct ct_ctx_row *row);
void ct_trace_model_add_sample(CtTraceModel *self, const struct ct_sample_row *s);
void ct_trace_model_set_now(CtTraceModel *self, gint64 now_ns);
/* Announce everything pending now (also happens by itself every frame). */
void ct_trace_model_flush(CtTraceModel *self);

/* ---- timeline and counts ------------------------------------------------------------------ */
/* Every context's lifespan (the roots excluded): what the timeline and the sites
 * read. Live, pushes keep it up to date; offline, the source hands over a table it
 * read in bulk (ct_trace_model_set_spans, announced as "timeline-changed"). */
CtSpans *ct_trace_model_get_spans(CtTraceModel *self);
void ct_trace_model_set_spans(CtTraceModel *self, CtSpans *spans);
const struct ct_sample_row *ct_trace_model_get_samples(CtTraceModel *self, guint *n);

/* ---- findings -------------------------------------------------------------------------- */
/* Take ownership of f (the analysis' result): groups by rule, badges on the contexts
 * the findings name. */
void ct_trace_model_set_findings(CtTraceModel *self, struct ct_findings *f);
/* NULL until an analysis arrived. */
const struct ct_findings *ct_trace_model_get_findings(CtTraceModel *self);
/* CtFindingItem groups, one per rule with findings, most severe first. */
GListModel *ct_trace_model_get_finding_groups(CtTraceModel *self);
/* The first finding covering context `id` — naming it as an example, or (rules that
 * are one context's verdict: lost-cancel, orphaned-timer) at its site with its leak —
 * or NULL. */
const struct ct_finding *ct_trace_model_get_finding_of(CtTraceModel *self, gint64 id);
/* Context ids named by findings (for the "only problems" filter); NULL if none. */
GHashTable *ct_trace_model_get_flagged(CtTraceModel *self);
/* Does the item pass the filter q? (What a source's query must agree with.) */
gboolean ct_trace_model_matches(CtTraceModel *self, const CtQuery *q, CtContextItem *item);

G_END_DECLS

#endif /* CT_TRACE_MODEL_H */
