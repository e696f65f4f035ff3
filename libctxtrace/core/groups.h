/*
 * groups.h — matches grouped into findings: one group per (rule, site), counting its
 * matches, keeping the first CT_MAX_EXAMPLES as examples (in the order the rule met
 * them) and the stacks of the first, and every duration for the finding's p50 and max.
 * Internal to libctxtrace/core (rules.c builds the findings from them).
 */
#ifndef CT_GROUPS_H
#define CT_GROUPS_H

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/u64map.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct group {
    enum ct_rule rule;
    int64_t site;
    long count, fired;
    int64_t examples[CT_MAX_EXAMPLES];
    int nexamples;
    int64_t stack, stack2, stack3; /* of the first example */
    int64_t *durs;                 /* NULL for a rule without durations */
    size_t ndurs, capdurs;
    long derivations;              /* detached-root: all derivations at the site */
    long never_released;           /* lost-cancel: kept to exit, never cancelled */
};

struct groups {
    struct group *items; /* in the order they were first matched */
    size_t n, cap;
    struct u64map index; /* (site, rule) -> group */
};

/* The group of (rule, site), a new empty one if there is none yet. NULL: out of memory. */
struct group *group_for(struct groups *g, enum ct_rule rule, int64_t site);
/* Count one match. `dur` is kept only for a rule that has durations
 * (ct_rule_duration_label): the others' p50 and max are 0 whatever they are given, and
 * a rule matched once per derivation (detached-root) must not keep a word per match.
 * False when out of memory. */
bool add_match(struct groups *g, enum ct_rule rule, int64_t site, int64_t id, int64_t stack,
               int64_t stack2, int64_t stack3, int64_t dur);
/* Move every group of `from` to the end of `to` (from is left empty). For building
 * findings only: `to`'s index does not cover the groups it gains. */
bool groups_append(struct groups *to, struct groups *from);
void groups_free(struct groups *g);

#endif /* CT_GROUPS_H */
