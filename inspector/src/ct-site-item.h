/*
 * ct-site-item.h — one creation site and what became of the contexts created there:
 * a row of the Sites view (heaptrack's bottom-up, for contexts). Built from the spans
 * (CtSpans): every context of the trace counted once, at the site of its creation
 * stack ("function file:line"; stacks sharing a site are one row).
 */
#ifndef CT_SITE_ITEM_H
#define CT_SITE_ITEM_H

#include <gio/gio.h>

#include "ct-spans.h"

G_BEGIN_DECLS

/* Lifetime histogram buckets: < 1 µs, < 10 µs, ... < 1 s, >= 1 s (ended contexts). */
enum { CT_SITE_LIFE_BUCKETS = 8 };

typedef struct {
    guint created;
    guint live_at_end;   /* not ended (freed or done) when the trace ends */
    guint cancelled, deadline, leaked; /* by the core's verdict */
    guint findings;      /* contexts a finding covers */
    gint64 life_p50, life_max; /* ns, over the ended contexts (0: none) */
    guint life[CT_SITE_LIFE_BUCKETS];
} CtSiteStats;

#define CT_TYPE_SITE_ITEM (ct_site_item_get_type())
G_DECLARE_FINAL_TYPE(CtSiteItem, ct_site_item, CT, SITE_ITEM, GObject)

const char *ct_site_item_get_site(CtSiteItem *self);
const CtSiteStats *ct_site_item_get_stats(CtSiteItem *self);

/* The site of a stack slot (interned), NULL if unknown. */
typedef const char *(*CtSiteOfSlot)(CtSpans *spans, guint32 slot, gpointer data);
/* Is context `id` covered by a finding? */
typedef gboolean (*CtIsCovered)(gint64 id, gpointer data);

/* One CtSiteItem per site of the spans (a GListStore), most contexts first. */
GListModel *ct_site_items_from_spans(CtSpans *spans, CtSiteOfSlot site_of, CtIsCovered covered,
                                     gpointer data);

G_END_DECLS

#endif /* CT_SITE_ITEM_H */
