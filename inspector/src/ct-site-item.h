/*
 * ct-site-item.h — one creation site and what became of the contexts created there:
 * a row of the Sites view (heaptrack's bottom-up, for contexts). Built from the spans
 * (CtSpans) and, for a summary-retention trace, the per-site aggregates of the contexts
 * folded without a row (struct ct_site_summary): every context of the trace counted
 * once, at the site of its creation stack ("function file:line"; stacks sharing a site
 * are one row). The roots are left out, as in the spans.
 *
 * The numbers are those `ctxtrace report --profile` prints for the site (the core's
 * ct_profile): a lifetime runs from creation to free, or to the end of the trace for a
 * context never freed; p50/p99/max are exact over the rows alone, and — once the site
 * has folded contexts — read from their histogram (ct_hist, summary.h) with the rows'
 * lifetimes added, so within a bucket (25%) of the truth and never above the longest.
 *
 * Live, the process counts each stack's contexts itself (CtSiteCounts: the wire's
 * SITE_COUNTS) and the window may have skipped events (a resync, docs/wire.md): a site
 * with such counts takes created, live, leaked and findings from them — exact — while
 * how the received contexts ended and their lifetimes come from the spans.
 */
#ifndef CT_SITE_ITEM_H
#define CT_SITE_ITEM_H

#include <gio/gio.h>

#include <ctxtrace/core/summary.h>

#include "ct-spans.h"
#include "ct-trace-model.h"

G_BEGIN_DECLS

/* Lifetime histogram buckets: < 1 µs, < 10 µs, ... < 1 s, >= 1 s (a folded context
 * counts in the decade of its histogram bucket's lower bound). */
enum { CT_SITE_LIFE_BUCKETS = 8 };

typedef struct {
    gint64 created;
    gint64 summarized;   /* of created: folded into the site's aggregates (no rows) */
    gint64 live_at_end;  /* not ended (freed or done) when the trace ends */
    gint64 cancelled, deadline, leaked; /* rows: by the core's verdict; folded: how they
                                           became done (explicit or parent / deadline) */
    gint64 summarized_cancelled, summarized_deadline; /* of cancelled, deadline: folded */
    gint64 findings;     /* contexts a finding covers */
    gboolean counted;    /* created, live_at_end, leaked, findings: the live process's
                            counts (CtSiteCounts) — leaked: lost-cancel + orphaned-timer;
                            findings: those and ineffective-deadline */
    gint64 received;     /* counted: of created, the contexts the window received (spans) */
    gint64 life_p50, life_p99, life_max; /* ns (0: no contexts) */
    gint64 life[CT_SITE_LIFE_BUCKETS];
} CtSiteStats;

#define CT_TYPE_SITE_ITEM (ct_site_item_get_type())
G_DECLARE_FINAL_TYPE(CtSiteItem, ct_site_item, CT, SITE_ITEM, GObject)

const char *ct_site_item_get_site(CtSiteItem *self);
const CtSiteStats *ct_site_item_get_stats(CtSiteItem *self);

/* The site of a creation stack (interned), NULL if unknown. */
typedef const char *(*CtSiteOfStack)(gint64 stack_id, gpointer data);
/* Is context `id` covered by a finding? */
typedef gboolean (*CtIsCovered)(gint64 id, gpointer data);

/* One CtSiteItem per site of the spans and the aggregates sums[0..n_sums) (a
 * GListStore), most contexts first; a context not freed lives until now_ns (the end of
 * the trace, or the latest time seen live). counts[0..n_counts): a live process's own
 * per-stack counts (none offline). */
GListModel *ct_site_items_new(CtSpans *spans, const struct ct_site_summary *sums, guint n_sums,
                              const CtSiteCounts *counts, guint n_counts, gint64 now_ns,
                              CtSiteOfStack site_of, CtIsCovered covered, gpointer data);

G_END_DECLS

#endif /* CT_SITE_ITEM_H */
