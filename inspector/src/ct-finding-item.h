/*
 * ct-finding-item.h — a row of the Findings view: either a rule (the group, with its
 * findings as children) or one finding (a rule at a site, from ct_analyze).
 */
#ifndef CT_FINDING_ITEM_H
#define CT_FINDING_ITEM_H

#include <ctxtrace/core/analysis.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define CT_TYPE_FINDING_ITEM (ct_finding_item_get_type())
G_DECLARE_FINAL_TYPE(CtFindingItem, ct_finding_item, CT, FINDING_ITEM, GObject)

/* A rule's group; its findings are added with ct_finding_item_add. */
CtFindingItem *ct_finding_item_new_group(enum ct_rule rule);
/* One finding; `f` must outlive the item (the model keeps the ct_findings). */
CtFindingItem *ct_finding_item_new(const struct ct_finding *f);
void ct_finding_item_add(CtFindingItem *group, CtFindingItem *finding);

gboolean ct_finding_item_is_group(CtFindingItem *self);
enum ct_rule ct_finding_item_get_rule(CtFindingItem *self);
/* The finding (NULL for a group). */
const struct ct_finding *ct_finding_item_get_finding(CtFindingItem *self);
/* A group's findings (CtFindingItem), NULL for a finding. */
GListModel *ct_finding_item_get_children(CtFindingItem *self);
/* Contexts counted: the finding's count, or the sum over a group's findings. */
long ct_finding_item_get_count(CtFindingItem *self);

G_END_DECLS

#endif /* CT_FINDING_ITEM_H */
