/*
 * groups.c — matches grouped by (rule, site) (groups.h): an array in first-match order
 * with a hash index on the packed (site, rule) key.
 */
#include "groups.h"

#include <stdlib.h>
#include <string.h>

struct group *group_for(struct groups *g, enum ct_rule rule, int64_t site)
{
    _Static_assert(CT_RULE_COUNT <= 8, "the key keeps the rule in 3 bits");
    uint64_t key = ((uint64_t)site << 3 | (uint64_t)rule) + 1;
    uint64_t i;
    if (u64map_get(&g->index, key, &i))
        return &g->items[i];
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        struct group *grown = realloc(g->items, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        g->items = grown;
        g->cap = cap;
    }
    struct group *gr = &g->items[g->n];
    memset(gr, 0, sizeof *gr);
    gr->rule = rule;
    gr->site = site;
    if (!u64map_put(&g->index, key, g->n))
        return NULL;
    g->n++;
    return gr;
}

bool add_match(struct groups *g, enum ct_rule rule, int64_t site, int64_t id, int64_t stack,
               int64_t stack2, int64_t stack3, int64_t dur)
{
    struct group *gr = group_for(g, rule, site);
    if (gr == NULL)
        return false;
    if (gr->count == 0) {
        gr->stack = stack;
        gr->stack2 = stack2;
        gr->stack3 = stack3;
    }
    gr->count++;
    if (gr->nexamples < CT_MAX_EXAMPLES)
        gr->examples[gr->nexamples++] = id;
    if (ct_rule_duration_label(rule) == NULL)
        return true;
    if (gr->ndurs == gr->capdurs) {
        size_t cap = gr->capdurs ? gr->capdurs * 2 : 16;
        int64_t *grown = realloc(gr->durs, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        gr->durs = grown;
        gr->capdurs = cap;
    }
    gr->durs[gr->ndurs++] = dur;
    return true;
}

bool groups_append(struct groups *to, struct groups *from)
{
    if (to->n + from->n > to->cap) {
        size_t cap = to->n + from->n;
        struct group *grown = realloc(to->items, (cap ? cap : 1) * sizeof *grown);
        if (grown == NULL)
            return false;
        to->items = grown;
        to->cap = cap;
    }
    if (from->n > 0)
        memcpy(to->items + to->n, from->items, from->n * sizeof *from->items);
    to->n += from->n;
    from->n = 0; /* the durations now belong to `to` */
    groups_free(from);
    return true;
}

void groups_free(struct groups *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->items[i].durs);
    free(g->items);
    u64map_free(&g->index);
    memset(g, 0, sizeof *g);
}
