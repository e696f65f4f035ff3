/*
 * rules.c — the five rules (docs/rules.md is their definition; this is the one
 * implementation).
 *
 * The contexts table is read once, sequentially, into memory; each rule is then a
 * pass over that array (detached-root a sweep over creation/end events in time
 * order; leaked-waiter a walk up the parent chain from each still-blocked wait).
 * Matches are grouped by (rule, site): the site is the innermost frame of the
 * relevant stack outside libctxtrace and the shim, identified by its frame row, so
 * every caller reaching the same call instruction is one site.
 */
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/u64map.h>
#include <ctxtrace/core/verdict.h>
#include <ctxtrace/tracer.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_exit.h"
#include "trace_mem.h"

/* Everything a rule means, once: its name (a contract: DESIGN.md), a title, what it
 * means in one line, how to fix it in one line, how severe it is (SARIF's levels) and
 * what a finding's durations measure. docs/rules.md says all of it at length. */
static const struct {
    const char *name, *title, *summary, *fix, *level, *duration;
} rule_text[CT_RULE_COUNT] = {
    [CT_RULE_LEAKED_WAITER] = {
        "leaked-waiter", "Thread blocked on a context nothing can cancel",
        "a thread is blocked in ctx_wait on a context that nothing can cancel any more",
        "keep a cancel path for every waiter: the creator cancels the context (ctx_release "
        "or CTX_AUTO) when the work is no longer wanted, or give it a deadline",
        "error", "blocked for"},
    [CT_RULE_ORPHANED_TIMER] = {
        "orphaned-timer", "Deadline context dropped with its timer armed",
        "a deadline context was dropped uncancelled: its timer stays armed (and the "
        "context alive) until it fires",
        "release it on every path: ctx_release(c) instead of ctx_unref(c), or declare it "
        "CTX_AUTO",
        "warning", "timer armed after the release for"},
    [CT_RULE_LOST_CANCEL] = {
        "lost-cancel", "Cancellable context never cancelled",
        "a cancellable context was dropped (or kept to exit) without being cancelled: it "
        "stays attached to its parent",
        "release it on every path: ctx_release(c) instead of ctx_unref(c), or declare it "
        "CTX_AUTO",
        "warning", "left attached for"},
    [CT_RULE_DERIVED_FROM_DONE] = {
        "derived-from-done", "Work derived from a context that is already done",
        "one call site derives over and over from a context that is already done: a "
        "stale context kept in a long-lived object, reused after its request ended",
        "do not keep a request's context in a long-lived object: derive from a context the "
        "object owns (made from the service's), or pass the current request's context in",
        "warning", "derived after the parent was done by"},
    [CT_RULE_VALUE_CHAIN_GROWTH] = {
        "value-chain-growth", "Value contexts stacked without bound",
        "value contexts stack on top of each other at one call site without bound: every "
        "lookup walks the whole chain and its memory is never given back",
        "derive each request's values from the request's context, not from a context kept "
        "across requests; replace a value instead of stacking another layer on top",
        "warning", NULL},
    [CT_RULE_DETACHED_ROOT] = {
        "detached-root", "Work derived from a root context instead of its caller's",
        "one call site derives from ctx_background()/ctx_todo() over and over while other "
        "contexts are live: work cut off from its caller's cancellation",
        "pass the caller's context down and derive from it instead of ctx_background()",
        "warning", NULL},
    [CT_RULE_INEFFECTIVE_DEADLINE] = {
        "ineffective-deadline", "Deadline later than the parent's: it can never fire",
        "a deadline later than the parent's: its own timer can never fire first",
        "drop the timeout, or shorten it below the caller's deadline (ctx_deadline tells "
        "what is left)",
        "note", "requested deadline later than the parent's by"},
    [CT_RULE_LEAKED_THREAD] = {
        "leaked-thread", "Thread blocked at exit after every context it had was done",
        "a thread is blocked at exit although every context it was handed or used is done: "
        "it missed its cancellation",
        "make every blocking step of the thread end with its context: wait with a timeout "
        "and check ctx_is_done, poll ctx_fd beside the other descriptor, or have whoever "
        "cancels also wake the condition the thread sleeps on",
        "error", "blocked although its last context had been done for"},
};

const char *ct_rule_title(enum ct_rule r)
{
    return r < CT_RULE_COUNT ? rule_text[r].title : "Unknown rule";
}

const char *ct_rule_level(enum ct_rule r)
{
    return r < CT_RULE_COUNT ? rule_text[r].level : "warning";
}

const char *ct_rule_duration_label(enum ct_rule r)
{
    return r < CT_RULE_COUNT ? rule_text[r].duration : NULL;
}

const char *ct_rule_name(enum ct_rule r)
{
    return r < CT_RULE_COUNT ? rule_text[r].name : "unknown";
}

const char *ct_rule_summary(enum ct_rule r)
{
    return r < CT_RULE_COUNT ? rule_text[r].summary : "";
}

const char *ct_rule_fix(enum ct_rule r)
{
    return r < CT_RULE_COUNT ? rule_text[r].fix : "";
}

/* ---- grouping matches into findings -------------------------------------------------- */

struct group {
    enum ct_rule rule;
    int64_t site;
    long count, fired;
    int64_t examples[CT_MAX_EXAMPLES];
    int nexamples;
    int64_t stack, stack2, stack3; /* of the first example */
    int64_t *durs;
    size_t ndurs, capdurs;
    long derivations;              /* detached-root: all derivations at the site */
    long never_released;           /* lost-cancel: kept to exit, never cancelled */
};

struct groups {
    struct group *items;
    size_t n, cap;
    struct u64map index; /* (site, rule) -> group */
};

static struct group *group_for(struct groups *g, enum ct_rule rule, int64_t site)
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

/* Count one match. Returns false when out of memory. */
static bool add_match(struct groups *g, enum ct_rule rule, int64_t site, int64_t id,
                      int64_t stack, int64_t stack2, int64_t stack3, int64_t dur)
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

/* ---- the rules ---------------------------------------------------------------------- */

static bool is_cancellable(const struct crow *r)
{
    return r->kind == CTX_KIND_CANCEL || r->kind == CTX_KIND_DEADLINE;
}

/* The one verdict (verdict.h) on a loaded row. */
static struct ct_verdict judge(const struct trace *t, const struct crow *r)
{
    struct ct_facts f = {
        .kind = r->kind,
        .why = r->canceled != 0 ? r->why : -1,
        .released_live = r->released != 0 || r->released_live >= 0 ? (r->released_live == 1)
                                                                    : -1,
        .timer_armed = r->armed != 0,
        .canceled_ns = r->canceled,
        .cancel_origin_ns = r->origin,
        .released_ns = r->released,
        .exit_reach = exit_reach_of(t, r->id),
        .trace_complete = t->complete,
        .end_in_flight = t->end_in_flight,
    };
    return ct_judge(&f);
}

/* orphaned-timer and lost-cancel: what the verdict calls leaked, at the creation site. */
static int rule_timers_and_cancels(struct trace *t, struct groups *g)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct crow *r = &t->rows[i];
        if (!is_cancellable(r))
            continue;
        struct ct_verdict v = judge(t, r);
        int64_t site = trace_site(t, r->create_stack);
        switch (v.leak) {
        case CT_LEAK_ORPHANED_TIMER: {
            /* How long the timer stayed armed after the owners let go. */
            int64_t off = r->fired ? r->fired : r->stopped ? r->stopped : t->end;
            if (!add_match(g, CT_RULE_ORPHANED_TIMER, site, r->id, r->create_stack,
                           r->release_stack, 0, off - r->released))
                return -1;
            if (r->fired)
                group_for(g, CT_RULE_ORPHANED_TIMER, site)->fired++;
            break;
        }
        case CT_LEAK_LOST_CANCEL: {
            /* How long it stayed attached after its owners let go. */
            int64_t until = r->canceled ? r->canceled : t->end;
            if (!add_match(g, CT_RULE_LOST_CANCEL, site, r->id, r->create_stack,
                           r->release_stack, 0, until - r->released))
                return -1;
            break;
        }
        case CT_LEAK_LOST_AT_EXIT:
            if (!add_match(g, CT_RULE_LOST_CANCEL, site, r->id, r->create_stack, 0, 0,
                           t->end - r->created))
                return -1;
            group_for(g, CT_RULE_LOST_CANCEL, site)->never_released++;
            break;
        case CT_LEAK_NONE:
            break;
        }
    }
    return 0;
}

/* A fact of a context that depends on its ancestors, computed once per context in O(n)
 * for the whole trace whatever its shape (a million-deep chain included): walk up to
 * the nearest context whose value is known (or that decides it alone), then fill the
 * path on the way back. `decide` returns the value when the context decides it alone,
 * or INT64_MIN to defer to `combine(context, value of its parent)`. */
typedef int64_t (*decide_fn)(struct trace *t, const struct crow *c, void *arg);
typedef int64_t (*combine_fn)(struct trace *t, const struct crow *c, int64_t parent_value,
                              void *arg);
#define UNDECIDED INT64_MIN

struct memo {
    int64_t *v;      /* per row; UNDECIDED until computed */
    uint32_t *path;  /* scratch: rows waiting for their parent's value */
};

static bool memo_init(struct memo *m, size_t n)
{
    m->v = malloc((n ? n : 1) * sizeof *m->v);
    m->path = malloc((n ? n : 1) * sizeof *m->path);
    for (size_t i = 0; m->v != NULL && i < n; i++)
        m->v[i] = UNDECIDED;
    return m->v != NULL && m->path != NULL;
}

static void memo_free(struct memo *m)
{
    free(m->v);
    free(m->path);
}

static int64_t memo_get(struct trace *t, struct memo *m, size_t row, decide_fn decide,
                        combine_fn combine, int64_t at_unknown_parent, void *arg)
{
    size_t len = 0;
    int64_t v = UNDECIDED;
    for (size_t i = row;;) {
        if (m->v[i] != UNDECIDED) {
            v = m->v[i];
            break;
        }
        const struct crow *c = &t->rows[i];
        int64_t own = decide(t, c, arg);
        if (own != UNDECIDED) {
            m->v[i] = v = own;
            break;
        }
        m->path[len++] = (uint32_t)i;
        uint64_t p;
        if (!u64map_get(&t->index, (uint64_t)c->parent, &p) || len > t->n) {
            v = at_unknown_parent; /* a root, an unseen parent, or a corrupt cycle */
            break;
        }
        i = (size_t)p;
    }
    while (len > 0) {
        size_t i = m->path[--len];
        m->v[i] = v = combine(t, &t->rows[i], v, arg);
    }
    return v;
}

/* ineffective-deadline: a site whose every deadline came after its parent's. A site
 * whose timeout is only sometimes later than the parent's (a per-call timeout under a
 * request budget that runs down) is the normal pattern, not a finding. */
static int rule_ineffective_deadline(struct trace *t, struct groups *g)
{
    struct u64map made = {0}; /* site + 1 -> deadline contexts created there */
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const struct crow *r = &t->rows[i];
        if (r->kind != CTX_KIND_DEADLINE)
            continue;
        int64_t site = trace_site(t, r->create_stack);
        uint64_t n = 0;
        u64map_get(&made, (uint64_t)site + 1, &n);
        if (!u64map_put(&made, (uint64_t)site + 1, n + 1))
            rc = -1;
        else if (r->requested != 0 && r->deadline != 0 && r->requested > r->deadline &&
                 !add_match(g, CT_RULE_INEFFECTIVE_DEADLINE, site, r->id, r->create_stack, 0,
                            0, r->requested - r->deadline))
            rc = -1;
    }
    /* A summary trace folded its clean deadline contexts (every ineffective one is a row:
     * summary.h): they count among those the site made. */
    for (size_t i = 0; i < t->nsums && rc == 0; i++) {
        const struct ct_site_summary *m = &t->sums[i];
        if (m->kind != CTX_KIND_DEADLINE)
            continue;
        uint64_t key = (uint64_t)trace_site(t, m->create_stack) + 1, n = 0;
        u64map_get(&made, key, &n);
        if (!u64map_put(&made, key, n + (uint64_t)m->contexts))
            rc = -1;
    }
    for (size_t i = 0; i < g->n && rc == 0; i++) {
        struct group *gr = &g->items[i];
        uint64_t n = 0;
        if (gr->rule == CT_RULE_INEFFECTIVE_DEADLINE &&
            u64map_get(&made, (uint64_t)gr->site + 1, &n) && (uint64_t)gr->count < n)
            gr->count = 0; /* dropped when findings are built */
    }
    u64map_free(&made);
    return rc;
}

/* detached-root: sweep creations and ends in time order, keeping live counts per
 * creation site; a derivation from a root counts when contexts made at *other* sites
 * are live at that moment. */
struct sweep_ev {
    int64_t ts;
    uint32_t row;
    int8_t delta; /* +1 created, -1 ended; ends sort before creations at equal ts */
};

static int cmp_ev(const void *a, const void *b)
{
    const struct sweep_ev *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->delta - y->delta;
}

static int rule_detached_root(struct trace *t, struct groups *g, int threshold)
{
    struct sweep_ev *ev = malloc(2 * t->n * sizeof *ev);
    int64_t *sites = malloc(t->n * sizeof *sites);
    if (ev == NULL || sites == NULL) {
        free(ev);
        free(sites);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct crow *r = &t->rows[i];
        sites[i] = trace_site(t, r->create_stack);
        if (r->created == 0)
            continue;
        ev[n++] = (struct sweep_ev){r->created, (uint32_t)i, +1};
        int64_t end = r->canceled && (!r->freed || r->canceled < r->freed) ? r->canceled
                                                                            : r->freed;
        if (end != 0)
            ev[n++] = (struct sweep_ev){end, (uint32_t)i, -1};
    }
    qsort(ev, n, sizeof *ev, cmp_ev);

    struct u64map live_at = {0}; /* site + 1 -> live count */
    struct groups counted = {0}; /* derivations per site, qualifying or not */
    long live = 0;
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        const struct crow *r = &t->rows[ev[k].row];
        uint64_t key = (uint64_t)sites[ev[k].row] + 1, at = 0;
        u64map_get(&live_at, key, &at);
        if (ev[k].delta < 0) {
            live--;
            u64map_put(&live_at, key, at - 1);
            continue;
        }
        if (r->parent == 1 || r->parent == 2) {
            struct group *all = group_for(&counted, CT_RULE_DETACHED_ROOT, sites[ev[k].row]);
            if (all == NULL)
                rc = -1;
            else
                all->derivations++;
            if (live - (long)at > 0 &&
                !add_match(g, CT_RULE_DETACHED_ROOT, sites[ev[k].row], r->id, r->create_stack,
                           0, 0, 0))
                rc = -1;
        }
        live++;
        u64map_put(&live_at, key, at + 1);
    }
    /* A summary trace folded the derivations no finding could name (summary.h). */
    for (size_t i = 0; i < t->nsums && rc == 0; i++) {
        const struct ct_site_summary *m = &t->sums[i];
        if (m->root_derivations == 0)
            continue;
        struct group *all = group_for(&counted, CT_RULE_DETACHED_ROOT,
                                      trace_site(t, m->create_stack));
        if (all == NULL)
            rc = -1;
        else
            all->derivations += m->root_derivations;
    }
    /* Only sites over the threshold are findings: one root per worker thread, or a few
     * in main, is how a program is supposed to start. */
    for (size_t i = 0; i < g->n; i++) {
        struct group *gr = &g->items[i];
        if (gr->rule != CT_RULE_DETACHED_ROOT)
            continue;
        struct group *all = group_for(&counted, CT_RULE_DETACHED_ROOT, gr->site);
        gr->derivations = all ? all->derivations : gr->count;
        if (gr->count <= threshold)
            gr->count = 0; /* dropped when findings are built */
    }
    free(counted.items);
    u64map_free(&counted.index);
    u64map_free(&live_at);
    free(ev);
    free(sites);
    return rc;
}

/* derived-from-done: when was a context done, as its children see it? A cancellable one
 * when it was cancelled; a value context when its parent was (ctx_err looks through
 * it); a without_cancel context or a root never. */
static int64_t done_decide(struct trace *t, const struct crow *c, void *arg)
{
    (void)t;
    (void)arg;
    if (is_cancellable(c))
        return c->canceled;
    if (c->kind != CTX_KIND_VALUE)
        return 0;
    return UNDECIDED;
}

static int64_t done_combine(struct trace *t, const struct crow *c, int64_t parent,
                            void *arg)
{
    (void)t;
    (void)c;
    (void)arg;
    return parent;
}

/* A context derived from a parent that was already done: born done. One such
 * derivation is a race (a client left as the work started); the same done parent
 * derived from again and again is a stale context kept and reused. Counted per
 * (site, parent); a site is a finding when one parent was reused `threshold` times. */
static int rule_derived_from_done(struct trace *t, struct groups *g, int threshold)
{
    struct memo m;
    struct u64map per_parent = {0}; /* (parent row << 20 ^ site) hashed -> derivations */
    struct groups reused = {0};     /* per site: the most any one done parent was reused */
    int rc = memo_init(&m, t->n) ? 0 : -1;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const struct crow *c = &t->rows[i];
        uint64_t p;
        if (c->created == 0 || !u64map_get(&t->index, (uint64_t)c->parent, &p))
            continue;
        int64_t done = memo_get(t, &m, (size_t)p, done_decide, done_combine, 0, NULL);
        if (done == 0 || done > c->created)
            continue;
        int64_t site = trace_site(t, c->create_stack);
        uint64_t key = ((uint64_t)c->parent * 0x9e3779b97f4a7c15ull) ^ (uint64_t)site, n = 0;
        key += key == 0;
        u64map_get(&per_parent, key, &n);
        struct group *most = group_for(&reused, CT_RULE_DERIVED_FROM_DONE, site);
        if (!u64map_put(&per_parent, key, n + 1) || most == NULL ||
            !add_match(g, CT_RULE_DERIVED_FROM_DONE, site, c->id, c->create_stack, 0, 0,
                       c->created - done))
            rc = -1;
        else if ((long)n + 1 > most->count)
            most->count = (long)n + 1;
    }
    for (size_t i = 0; i < g->n && rc == 0; i++) {
        struct group *gr = &g->items[i];
        if (gr->rule != CT_RULE_DERIVED_FROM_DONE)
            continue;
        struct group *most = group_for(&reused, CT_RULE_DERIVED_FROM_DONE, gr->site);
        gr->derivations = most ? most->count : 0;
        if (gr->derivations < threshold)
            gr->count = 0; /* dropped when findings are built */
    }
    free(reused.items);
    u64map_free(&reused.index);
    u64map_free(&per_parent);
    memo_free(&m);
    return rc;
}

/* value-chain-growth: how many value contexts made at the same site stand stacked
 * directly on top of each other, ending at this one? */
static int64_t layers_decide(struct trace *t, const struct crow *c, void *arg)
{
    (void)arg;
    if (c->kind != CTX_KIND_VALUE)
        return 0;
    const struct crow *p = trace_row(t, c->parent);
    if (p == NULL || p->kind != CTX_KIND_VALUE ||
        trace_site(t, p->create_stack) != trace_site(t, c->create_stack))
        return 1;
    return UNDECIDED;
}

static int64_t layers_combine(struct trace *t, const struct crow *c, int64_t parent,
                              void *arg)
{
    (void)t;
    (void)c;
    (void)arg;
    return parent + 1;
}

/* A site whose value contexts form a chain deeper than `threshold` layers: a context
 * kept across requests with a layer added per request. The finding's count is the
 * deepest chain's layers; its example is the top of that chain. */
static int rule_value_chain_growth(struct trace *t, struct groups *g, int threshold)
{
    struct memo m;
    if (!memo_init(&m, t->n))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const struct crow *c = &t->rows[i];
        if (c->kind != CTX_KIND_VALUE)
            continue;
        int64_t layers = memo_get(t, &m, i, layers_decide, layers_combine, 1, NULL);
        if (layers <= threshold)
            continue;
        int64_t site = trace_site(t, c->create_stack);
        struct group *gr = group_for(g, CT_RULE_VALUE_CHAIN_GROWTH, site);
        if (gr == NULL) {
            rc = -1;
        } else if (layers > gr->count) {
            gr->count = (long)layers;
            gr->stack = c->create_stack;
            gr->examples[0] = c->id;
            gr->nexamples = 1;
            gr->derivations = (long)layers;
        }
    }
    memo_free(&m);
    return rc;
}

/* leaked-waiter: for each wait still blocked at the end, is there any way left for its
 * context to become done? Walk up from it to the nearest without_cancel or root: a
 * context there that is done, still has owners (cancellable ones only), or has an armed
 * timer is a way; none means the thread waits forever. */
static int64_t path_decide(struct trace *t, const struct crow *c, void *arg)
{
    (void)t;
    (void)arg;
    if (c->kind == CTX_KIND_WITHOUT_CANCEL)
        return 0;
    if (c->canceled != 0)
        return 1;
    /* An owner remains — unless the exit check found no reference to it that a thread
     * not blocked on it could use. */
    if (is_cancellable(c) && c->released == 0 && !exit_out_of_reach(t, c->id))
        return 1;
    if (c->kind == CTX_KIND_DEADLINE && c->armed != 0 && c->stopped == 0 && c->fired == 0)
        return 1;
    return UNDECIDED;
}

static int64_t path_combine(struct trace *t, const struct crow *c, int64_t parent,
                            void *arg)
{
    (void)t;
    (void)c;
    (void)arg;
    return parent;
}

static int rule_leaked_waiter(struct trace *t, struct groups *g)
{
    sqlite3_stmt *st;
    /* Blocked at the end; or, for a thread still running at the end, its last wait
     * timed out: a periodic waiter (a ticker) between two waits on the same hopeless
     * context is as stuck as one inside ctx_wait. */
    if (sqlite3_prepare_v2(t->db,
                           "WITH w AS (SELECT *, row_number() OVER (PARTITION BY thread "
                           "ORDER BY blocked_ns DESC) AS nth FROM waits WHERE how = 'wait') "
                           "SELECT w.id, w.context_id, w.stack, w.blocked_ns, th.create_stack "
                           "FROM w LEFT JOIN threads th ON th.id = w.thread "
                           "WHERE w.woken_ns IS NULL OR (w.nth = 1 AND w.result = ? AND "
                           "th.id IS NOT NULL AND th.exit_ns IS NULL)",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(st, 1, ETIMEDOUT);
    struct memo m;
    int rc = memo_init(&m, t->n) ? 0 : -1;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        int64_t ctx = sqlite3_column_int64(st, 1), stack = sqlite3_column_int64(st, 2);
        uint64_t row;
        /* A context the trace never saw created: reached a root (no path) as before. */
        if (u64map_get(&t->index, (uint64_t)ctx, &row) &&
            memo_get(t, &m, (size_t)row, path_decide, path_combine, 0, NULL) != 0)
            continue;
        const struct crow *c = trace_row(t, ctx);
        if (!add_match(g, CT_RULE_LEAKED_WAITER, trace_site(t, stack), ctx, stack,
                       sqlite3_column_int64(st, 4), c ? c->create_stack : 0,
                       t->end - sqlite3_column_int64(st, 3)))
            rc = -1;
    }
    sqlite3_finalize(st);
    memo_free(&m);
    return rc;
}

/* The exit check's rules (rule_exit.c) report matches; they are grouped here. */
static int add_exit_matches(struct groups *g, const struct exit_matches *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct exit_match *x = &m->items[i];
        if (!add_match(g, x->rule, x->site, x->id, x->stack, x->stack2, x->stack3, x->dur))
            return -1;
    }
    return 0;
}

/* ---- building the findings ---------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* Most severe rule first, then most contexts, then by site: a total order, so every
 * output format lists findings the same way on every run. */
static int cmp_finding(const void *a, const void *b)
{
    const struct ct_finding *x = a, *y = b;
    if (x->rule != y->rule)
        return (int)x->rule - (int)y->rule;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int c = cmp_str(x->site.file, y->site.file);
    if (c != 0)
        return c;
    if (x->site.line != y->site.line)
        return x->site.line < y->site.line ? -1 : 1;
    return cmp_str(x->site.function, y->site.function);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void describe(struct ct_finding *f, const struct group *gr,
                     const struct ct_analysis_opts *o)
{
    switch (f->rule) {
    case CT_RULE_LOST_CANCEL:
        snprintf(f->detail, sizeof f->detail,
                 "%ld released while live (then attached to the parent until it was "
                 "cancelled), %ld never cancelled nor released by exit",
                 gr->count - gr->never_released, gr->never_released);
        break;
    case CT_RULE_ORPHANED_TIMER:
        snprintf(f->detail, sizeof f->detail,
                 "timers stayed armed after the owners let go; %ld fired with nobody "
                 "listening",
                 gr->fired);
        break;
    case CT_RULE_DETACHED_ROOT:
        snprintf(f->detail, sizeof f->detail,
                 "%ld of %ld derivations from a root at this site happened while other "
                 "contexts were live (threshold %d)",
                 gr->count, gr->derivations, o->detached_root_threshold);
        break;
    case CT_RULE_DERIVED_FROM_DONE:
        snprintf(f->detail, sizeof f->detail,
                 "%ld %s born done; one done parent was derived from %ld times "
                 "(threshold %d)",
                 gr->count, gr->count == 1 ? "child was" : "children were", gr->derivations,
                 o->derived_from_done_threshold);
        break;
    case CT_RULE_VALUE_CHAIN_GROWTH:
        snprintf(f->detail, sizeof f->detail,
                 "%ld value contexts from this site stacked on each other (threshold %d): "
                 "every lookup through the chain walks them all",
                 gr->derivations, o->value_chain_threshold);
        break;
    case CT_RULE_INEFFECTIVE_DEADLINE:
        snprintf(f->detail, sizeof f->detail,
                 "the requested deadline is later than the parent's (by the durations "
                 "shown); no timer was armed");
        break;
    case CT_RULE_LEAKED_WAITER:
        snprintf(f->detail, sizeof f->detail,
                 "%ld %s waiting at the end of the trace (blocked, or between timed-out "
                 "waits), with no owner, timer or done ancestor left to end %s",
                 gr->count, gr->count == 1 ? "thread" : "threads",
                 gr->count == 1 ? "it" : "them");
        break;
    case CT_RULE_LEAKED_THREAD:
        snprintf(f->detail, sizeof f->detail,
                 "%ld %s blocked at the exit check although every context handed to %s or "
                 "used by %s had been done for the durations shown",
                 gr->count, gr->count == 1 ? "thread" : "threads",
                 gr->count == 1 ? "it" : "them", gr->count == 1 ? "it" : "them");
        break;
    case CT_RULE_COUNT:
        break;
    }
}

struct ct_analysis_opts ct_analysis_defaults(void)
{
    return (struct ct_analysis_opts){.detached_root_threshold = 32,
                                     .derived_from_done_threshold = 2,
                                     .value_chain_threshold = 16};
}

static int build(struct trace *t, struct groups *g, const struct ct_analysis_opts *o,
                 struct ct_findings *out)
{
    out->items = calloc(g->n ? g->n : 1, sizeof *out->items);
    if (out->items == NULL)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        struct group *gr = &g->items[i];
        if (gr->count == 0)
            continue;
        struct ct_finding *f = &out->items[out->len++];
        f->rule = gr->rule;
        f->count = gr->count;
        f->fired = gr->fired;
        memcpy(f->examples, gr->examples, sizeof f->examples);
        f->nexamples = gr->nexamples;
        if (gr->ndurs > 0) /* value-chain-growth has none: durs stays NULL */
            qsort(gr->durs, gr->ndurs, sizeof *gr->durs, cmp_i64);
        f->dur_p50 = gr->ndurs ? gr->durs[(gr->ndurs - 1) / 2] : 0;
        f->dur_max = gr->ndurs ? gr->durs[gr->ndurs - 1] : 0;
        ct_load_stack(t->db, gr->stack, &f->stack);
        if (f->stack.depth > 0) {
            /* leaked-thread: the thread is blocked inside the C library; its site is
             * where the application called it. */
            const struct ct_frame *s =
                &f->stack.frames[f->rule == CT_RULE_LEAKED_THREAD ? exit_app_frame(&f->stack)
                                                                  : 0];
            f->site = (struct ct_frame){dup_or_null(s->function), dup_or_null(s->file),
                                        s->line, dup_or_null(s->module), s->inlined,
                                        s->tail_call};
        }
        if (gr->stack2 != 0) {
            f->stack2_label = f->rule == CT_RULE_LEAKED_WAITER ||
                                      f->rule == CT_RULE_LEAKED_THREAD
                                  ? "thread created at"
                                  : "released at";
            ct_load_stack(t->db, gr->stack2, &f->stack2);
        }
        if (gr->stack3 != 0) {
            f->stack3_label = f->rule == CT_RULE_LEAKED_THREAD ? "missed context created at"
                                                               : "context created at";
            ct_load_stack(t->db, gr->stack3, &f->stack3);
        }
        describe(f, gr, o);
    }
    qsort(out->items, out->len, sizeof *out->items, cmp_finding);
    return 0;
}

int ct_analyze(ct_reader *reader, const struct ct_analysis_opts *opts,
               struct ct_findings *out, char *err, size_t errlen)
{
    sqlite3 *db = ct_reader_db(reader);
    memset(out, 0, sizeof *out);
    struct ct_analysis_opts o = ct_analysis_defaults();
    if (opts != NULL && opts->detached_root_threshold > 0)
        o.detached_root_threshold = opts->detached_root_threshold;
    if (opts != NULL && opts->derived_from_done_threshold > 0)
        o.derived_from_done_threshold = opts->derived_from_done_threshold;
    if (opts != NULL && opts->value_chain_threshold > 0)
        o.value_chain_threshold = opts->value_chain_threshold;
    int threshold = o.detached_root_threshold, done_threshold = o.derived_from_done_threshold,
        chain_threshold = o.value_chain_threshold;
    struct trace t = {0};
    struct groups g = {0};
    struct exit_matches xm = {0};
    int rc = -1;
    /* One read transaction: a consistent snapshot even while the program still runs. */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (trace_mem_load(&t, reader, err, errlen) != 0 || exit_reach_load(&t, err, errlen) != 0)
        goto done;
    if (rule_timers_and_cancels(&t, &g) != 0 || rule_ineffective_deadline(&t, &g) != 0 ||
        rule_detached_root(&t, &g, threshold) != 0 || rule_leaked_waiter(&t, &g) != 0 ||
        rule_derived_from_done(&t, &g, done_threshold) != 0 ||
        rule_value_chain_growth(&t, &g, chain_threshold) != 0 ||
        rule_leaked_thread(&t, &xm) != 0 || add_exit_matches(&g, &xm) != 0 ||
        build(&t, &g, &o, out) != 0) {
        snprintf(err, errlen, "analysis failed: %s", sqlite3_errmsg(db));
        ct_findings_free(out);
        goto done;
    }
    out->contexts = (long)t.n;
    out->complete = t.complete;
    out->threads_unjudged = xm.threads_unjudged;
    exit_check_status(db, out->exit_check, sizeof out->exit_check);
    rc = 0;
done:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    for (size_t i = 0; i < g.n; i++)
        free(g.items[i].durs);
    free(g.items);
    u64map_free(&g.index);
    exit_matches_free(&xm);
    u64map_free(&t.exit_reach);
    trace_mem_free(&t);
    return rc;
}

static void frame_free(struct ct_frame *f)
{
    free(f->function);
    free(f->file);
    free(f->module);
}

void ct_findings_free(struct ct_findings *f)
{
    for (size_t i = 0; i < f->len; i++) {
        struct ct_finding *x = &f->items[i];
        frame_free(&x->site);
        ct_stack_free(&x->stack);
        ct_stack_free(&x->stack2);
        ct_stack_free(&x->stack3);
    }
    free(f->items);
    memset(f, 0, sizeof *f);
}
