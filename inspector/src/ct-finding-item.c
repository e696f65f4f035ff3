/*
 * ct-finding-item.c — rule groups and findings as GObjects (see ct-finding-item.h).
 */
#include "ct-finding-item.h"

struct _CtFindingItem {
    GObject parent_instance;
    enum ct_rule rule;
    const struct ct_finding *finding; /* NULL: a group */
    GListStore *children;             /* groups only */
    long count;
};

G_DEFINE_FINAL_TYPE(CtFindingItem, ct_finding_item, G_TYPE_OBJECT)

static void ct_finding_item_dispose(GObject *object)
{
    g_clear_object(&CT_FINDING_ITEM(object)->children);
    G_OBJECT_CLASS(ct_finding_item_parent_class)->dispose(object);
}

static void ct_finding_item_class_init(CtFindingItemClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = ct_finding_item_dispose;
}

static void ct_finding_item_init(CtFindingItem *self)
{
    (void)self;
}

CtFindingItem *ct_finding_item_new_group(enum ct_rule rule)
{
    CtFindingItem *self = g_object_new(CT_TYPE_FINDING_ITEM, NULL);
    self->rule = rule;
    self->children = g_list_store_new(CT_TYPE_FINDING_ITEM);
    return self;
}

CtFindingItem *ct_finding_item_new(const struct ct_finding *f)
{
    CtFindingItem *self = g_object_new(CT_TYPE_FINDING_ITEM, NULL);
    self->rule = f->rule;
    self->finding = f;
    self->count = f->count;
    return self;
}

void ct_finding_item_add(CtFindingItem *group, CtFindingItem *finding)
{
    g_list_store_append(group->children, finding);
    group->count += finding->count;
}

gboolean ct_finding_item_is_group(CtFindingItem *self)
{
    return self->finding == NULL;
}

enum ct_rule ct_finding_item_get_rule(CtFindingItem *self)
{
    return self->rule;
}

const struct ct_finding *ct_finding_item_get_finding(CtFindingItem *self)
{
    return self->finding;
}

GListModel *ct_finding_item_get_children(CtFindingItem *self)
{
    return self->children ? G_LIST_MODEL(self->children) : NULL;
}

long ct_finding_item_get_count(CtFindingItem *self)
{
    return self->count;
}
