/*
 * rules.c — the five rules (docs/rules.md is their definition; this is the one
 * implementation).
 *
 * The contexts are read once, in id (creation) order, one at a time (stream.h); every
 * rule looks at each as it passes. What a context's children need of it — when it was
 * done, its value-chain depth, whether anything can still end it — is derived once from
 * its row and its parent's and kept in a window (window.h) only while children may still
 * come: memory follows the contexts live at once (and those never freed), not the
 * contexts ever created. detached-root sweeps creations and ends in time order as the
 * stream's horizon allows; leaked-waiter judges the few still-blocked waits after the
 * stream. Matches are grouped by (rule, site) (groups.h): the site is the innermost
 * frame of the relevant stack outside libctxtrace and the shim, identified by its frame
 * row, so every caller reaching the same call instruction is one site.
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

#include "groups.h"
#include "heap.h"
#include "rule_exit.h"
#include "trace_mem.h"
#include "window.h"

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

enum ct_rule ct_rule_of_leak(int leak)
{
    switch ((enum ct_leak)leak) {
    case CT_LEAK_ORPHANED_TIMER: return CT_RULE_ORPHANED_TIMER;
    case CT_LEAK_LOST_CANCEL:
    case CT_LEAK_LOST_AT_EXIT: return CT_RULE_LOST_CANCEL;
    case CT_LEAK_NONE: break;
    }
    return CT_RULE_COUNT;
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

/* ---- the rules, over the stream of contexts ---------------------------------------- */

/* Each rule once ran as a pass of its own; their groups are still kept per pass and
 * listed pass after pass, so findings that tie in cmp_finding (same rule, count and site
 * text) keep the order they always had, whatever the interleaving of the rules now. */
enum pass { PASS_TIMERS, PASS_INEFFECTIVE, PASS_DETACHED, PASS_WAITER, PASS_DONE, PASS_CHAIN,
            PASS_EXIT, NPASS };

/* What a context's children — and the leaked-waiter rule — ask of it: its facts that
 * depend on its ancestors, derived once from its row and its parent's entry (so linear
 * for the whole trace whatever its shape, a million-deep chain included). */
struct lineage {
    int64_t site;   /* its creation site */
    int64_t done;   /* when it was done as its children see it (0: never) */
    int64_t layers; /* value contexts of its site stacked directly, ending at it */
    int8_t kind;
    bool way_out;   /* something left that can make it done (leaked-waiter) */
};

struct analysis {
    struct trace *t;
    struct ct_analysis_opts o;
    struct window w;
    struct groups g[NPASS];
    struct u64map made;       /* ineffective-deadline: site + 1 -> deadline contexts made */
    struct u64map per_parent; /* derived-from-done: (parent, site) hashed -> derivations */
    struct groups reused;     /* derived-from-done: per site, the most one parent was reused */
    /* detached-root's sweep: creations (ts, id; a = site, b = stack, flag: from a root)
     * waiting for the horizon to put them in time order, and the ends (ts, id; a = site)
     * of contexts read so far. */
    struct heap births, ends;
    struct u64map live_at;    /* site + 1 -> contexts made there live now */
    long live;
    struct groups counted;    /* derivations from a root per site, qualifying or not */
    /* leaked-waiter: the waits that may be stuck, and their contexts (id -> index in
     * waited_seen: what the stream saw of it). */
    struct waiter *waiters;
    size_t nwaiters;
    struct u64map waited;
    struct waited *waited_seen;
};

static bool is_cancellable(int kind)
{
    return kind == CTX_KIND_CANCEL || kind == CTX_KIND_DEADLINE;
}

/* A context's lineage from its row and its parent's (NULL: a root or not in the trace).
 * derived-from-done: a cancellable context is done when cancelled, a value context when
 * its parent is (ctx_err looks through it), a without_cancel context or a root never.
 * value-chain-growth: a value context on a value parent from the same site is one more
 * layer. leaked-waiter: walking up to the nearest without_cancel or root, a context that
 * is done, still has owners (cancellable ones only) or has an armed timer is a way out. */
static void derive_lineage(const struct crow *r, const void *parent, void *out, void *arg)
{
    struct trace *t = arg;
    const struct lineage *p = parent;
    struct lineage *e = out;
    e->site = trace_site(t, r->create_stack);
    e->kind = r->kind;
    e->done = is_cancellable(r->kind)      ? r->canceled
              : r->kind != CTX_KIND_VALUE ? 0
              : p                          ? p->done
                                           : 0;
    e->layers = r->kind != CTX_KIND_VALUE                                  ? 0
                : p == NULL || p->kind != CTX_KIND_VALUE || p->site != e->site ? 1
                                                                               : p->layers + 1;
    /* An owner remains — unless the exit check found no reference to it that a thread
     * not blocked on it could use. */
    if (r->kind == CTX_KIND_WITHOUT_CANCEL)
        e->way_out = false;
    else if (r->canceled != 0 ||
             (is_cancellable(r->kind) && r->released == 0 && !exit_out_of_reach(t, r->id)) ||
             (r->kind == CTX_KIND_DEADLINE && r->armed != 0 && r->stopped == 0 &&
              r->fired == 0))
        e->way_out = true;
    else
        e->way_out = p ? p->way_out : false;
}

/* The one verdict (verdict.h) on a row. */
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
static bool rule_timers_and_cancels(struct analysis *a, const struct crow *r, int64_t site)
{
    struct groups *g = &a->g[PASS_TIMERS];
    int64_t end = a->t->end;
    if (!is_cancellable(r->kind))
        return true;
    switch (judge(a->t, r).leak) {
    case CT_LEAK_ORPHANED_TIMER: {
        /* How long the timer stayed armed after the owners let go. */
        int64_t off = r->fired ? r->fired : r->stopped ? r->stopped : end;
        if (!add_match(g, CT_RULE_ORPHANED_TIMER, site, r->id, r->create_stack,
                       r->release_stack, 0, off - r->released))
            return false;
        if (r->fired)
            group_for(g, CT_RULE_ORPHANED_TIMER, site)->fired++;
        return true;
    }
    case CT_LEAK_LOST_CANCEL: {
        /* How long it stayed attached after its owners let go. */
        int64_t until = r->canceled ? r->canceled : end;
        return add_match(g, CT_RULE_LOST_CANCEL, site, r->id, r->create_stack,
                         r->release_stack, 0, until - r->released);
    }
    case CT_LEAK_LOST_AT_EXIT:
        if (!add_match(g, CT_RULE_LOST_CANCEL, site, r->id, r->create_stack, 0, 0,
                       end - r->created))
            return false;
        group_for(g, CT_RULE_LOST_CANCEL, site)->never_released++;
        return true;
    case CT_LEAK_NONE:
        break;
    }
    return true;
}

/* ineffective-deadline: a deadline requested later than the parent's; counted with
 * every deadline context the site made (ineffective_deadline_close). */
static bool rule_ineffective_deadline(struct analysis *a, const struct crow *r, int64_t site)
{
    if (r->kind != CTX_KIND_DEADLINE)
        return true;
    uint64_t n = 0;
    u64map_get(&a->made, (uint64_t)site + 1, &n);
    if (!u64map_put(&a->made, (uint64_t)site + 1, n + 1))
        return false;
    return !(r->requested != 0 && r->deadline != 0 && r->requested > r->deadline) ||
           add_match(&a->g[PASS_INEFFECTIVE], CT_RULE_INEFFECTIVE_DEADLINE, site, r->id,
                     r->create_stack, 0, 0, r->requested - r->deadline);
}

/* A site is a finding only when its every deadline came after its parent's. A site whose
 * timeout is only sometimes later than the parent's (a per-call timeout under a request
 * budget that runs down) is the normal pattern, not a finding. */
static bool ineffective_deadline_close(struct analysis *a)
{
    struct trace *t = a->t;
    /* A summary trace folded its clean deadline contexts (every ineffective one is a row:
     * summary.h): they count among those the site made. */
    for (size_t i = 0; i < t->nsums; i++) {
        const struct ct_site_summary *m = &t->sums[i];
        if (m->kind != CTX_KIND_DEADLINE)
            continue;
        uint64_t key = (uint64_t)trace_site(t, m->create_stack) + 1, n = 0;
        u64map_get(&a->made, key, &n);
        if (!u64map_put(&a->made, key, n + (uint64_t)m->contexts))
            return false;
    }
    struct groups *g = &a->g[PASS_INEFFECTIVE];
    for (size_t i = 0; i < g->n; i++) {
        struct group *gr = &g->items[i];
        uint64_t n = 0;
        if (u64map_get(&a->made, (uint64_t)gr->site + 1, &n) && (uint64_t)gr->count < n)
            gr->count = 0; /* dropped when findings are built */
    }
    return true;
}

/* detached-root: a sweep over creations and ends in time order, keeping live counts per
 * creation site; a derivation from a root counts when contexts made at *other* sites are
 * live at that moment. Ends come before creations at the same time, and events at the
 * same time in id order. The stream reads contexts nearly in creation order; an event is
 * swept once the horizon says no context still to come has one before it (an end at the
 * horizon too: one still to come there would be a later one). */
static bool detached_root_feed(struct analysis *a, const struct crow *r, int64_t site)
{
    if (r->created == 0)
        return true;
    bool root = r->parent == 1 || r->parent == 2;
    int64_t end = crow_end(r);
    return heap_push(&a->births,
                     (struct heap_item){r->created, r->id, site, r->create_stack, root}) &&
           (end == 0 || heap_push(&a->ends, (struct heap_item){end, r->id, site, 0, false}));
}

static bool detached_root_sweep(struct analysis *a, int64_t horizon)
{
    for (;;) {
        bool birth = a->births.n > 0 && heap_top(&a->births)->ts < horizon;
        bool end = a->ends.n > 0 && heap_top(&a->ends)->ts <= horizon;
        if (!birth && !end)
            return true;
        if (end && (!birth || heap_top(&a->ends)->ts <= heap_top(&a->births)->ts)) {
            struct heap_item e = heap_pop(&a->ends);
            uint64_t key = (uint64_t)e.a + 1, at = 0;
            u64map_get(&a->live_at, key, &at);
            /* A context born done ends at its creation time, and ends go first: its count
             * dips below zero (wrapping) until its creation brings it back. */
            a->live--;
            u64map_put(&a->live_at, key, at - 1);
            continue;
        }
        struct heap_item b = heap_pop(&a->births);
        int64_t site = b.a;
        uint64_t key = (uint64_t)site + 1, at = 0;
        u64map_get(&a->live_at, key, &at);
        if (b.flag) {
            struct group *all = group_for(&a->counted, CT_RULE_DETACHED_ROOT, site);
            if (all == NULL)
                return false;
            all->derivations++;
            if (a->live - (long)at > 0 &&
                !add_match(&a->g[PASS_DETACHED], CT_RULE_DETACHED_ROOT, site, b.id, b.b, 0, 0,
                           0))
                return false;
        }
        a->live++;
        if (!u64map_put(&a->live_at, key, at + 1))
            return false;
    }
}

/* Only sites over the threshold are findings: one root per worker thread, or a few in
 * main, is how a program is supposed to start. */
static bool detached_root_close(struct analysis *a)
{
    struct trace *t = a->t;
    if (!detached_root_sweep(a, INT64_MAX))
        return false;
    /* A summary trace folded the derivations no finding could name (summary.h). */
    for (size_t i = 0; i < t->nsums; i++) {
        const struct ct_site_summary *m = &t->sums[i];
        if (m->root_derivations == 0)
            continue;
        struct group *all =
            group_for(&a->counted, CT_RULE_DETACHED_ROOT, trace_site(t, m->create_stack));
        if (all == NULL)
            return false;
        all->derivations += m->root_derivations;
    }
    struct groups *g = &a->g[PASS_DETACHED];
    for (size_t i = 0; i < g->n; i++) {
        struct group *gr = &g->items[i];
        struct group *all = group_for(&a->counted, CT_RULE_DETACHED_ROOT, gr->site);
        gr->derivations = all ? all->derivations : gr->count;
        if (gr->count <= a->o.detached_root_threshold)
            gr->count = 0; /* dropped when findings are built */
    }
    return true;
}

/* derived-from-done: a context derived from a parent that was already done: born done.
 * One such derivation is a race (a client left as the work started); the same done
 * parent derived from again and again is a stale context kept and reused. Counted per
 * (site, parent); a site is a finding when one parent was reused `threshold` times. */
static bool rule_derived_from_done(struct analysis *a, const struct crow *c, int64_t site,
                                   const struct lineage *parent)
{
    if (c->created == 0 || parent == NULL || parent->done == 0 || parent->done > c->created)
        return true;
    uint64_t key = ((uint64_t)c->parent * 0x9e3779b97f4a7c15ull) ^ (uint64_t)site, n = 0;
    key += key == 0;
    u64map_get(&a->per_parent, key, &n);
    struct group *most = group_for(&a->reused, CT_RULE_DERIVED_FROM_DONE, site);
    if (!u64map_put(&a->per_parent, key, n + 1) || most == NULL ||
        !add_match(&a->g[PASS_DONE], CT_RULE_DERIVED_FROM_DONE, site, c->id, c->create_stack,
                   0, 0, c->created - parent->done))
        return false;
    if ((long)n + 1 > most->count)
        most->count = (long)n + 1;
    return true;
}

static void derived_from_done_close(struct analysis *a)
{
    struct groups *g = &a->g[PASS_DONE];
    for (size_t i = 0; i < g->n; i++) {
        struct group *gr = &g->items[i];
        struct group *most = group_for(&a->reused, CT_RULE_DERIVED_FROM_DONE, gr->site);
        gr->derivations = most ? most->count : 0;
        if (gr->derivations < a->o.derived_from_done_threshold)
            gr->count = 0; /* dropped when findings are built */
    }
}

/* value-chain-growth: a site whose value contexts form a chain deeper than the threshold:
 * a context kept across requests with a layer added per request. The finding's count is
 * the deepest chain's layers; its example is the top of that chain (the first such, in
 * id order). */
static bool rule_value_chain_growth(struct analysis *a, const struct crow *c,
                                    const struct lineage *e)
{
    if (c->kind != CTX_KIND_VALUE || e->layers <= a->o.value_chain_threshold)
        return true;
    struct group *gr = group_for(&a->g[PASS_CHAIN], CT_RULE_VALUE_CHAIN_GROWTH, e->site);
    if (gr == NULL)
        return false;
    if (e->layers > gr->count) {
        gr->count = (long)e->layers;
        gr->stack = c->create_stack;
        gr->examples[0] = c->id;
        gr->nexamples = 1;
        gr->derivations = (long)e->layers;
    }
    return true;
}

/* leaked-waiter: a wait still blocked at the end — or, for a thread still running at the
 * end, its last wait timed out: a periodic waiter (a ticker) between two waits on the
 * same hopeless context is as stuck as one inside ctx_wait — on a context with no way
 * left to become done (struct lineage). Few: at most a wait or two per thread. They are
 * read before the stream, their contexts' lineage noted as the stream passes them, and
 * judged after it. */
struct waiter {
    int64_t ctx, stack, blocked, thread_stack;
};

struct waited {
    bool seen, way_out;
    int64_t create_stack;
};

static bool leaked_waiter_open(struct analysis *a)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(a->t->db,
                           "WITH w AS (SELECT *, row_number() OVER (PARTITION BY thread "
                           "ORDER BY blocked_ns DESC) AS nth FROM waits WHERE how = 'wait') "
                           "SELECT w.context_id, w.stack, w.blocked_ns, th.create_stack "
                           "FROM w LEFT JOIN threads th ON th.id = w.thread "
                           "WHERE w.woken_ns IS NULL OR (w.nth = 1 AND w.result = ? AND "
                           "th.id IS NOT NULL AND th.exit_ns IS NULL)",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_int(st, 1, ETIMEDOUT);
    size_t cap = 0;
    bool ok = true;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        if (a->nwaiters == cap) {
            cap = cap ? cap * 2 : 16;
            struct waiter *grown = realloc(a->waiters, cap * sizeof *grown);
            if (grown == NULL) {
                ok = false;
                break;
            }
            a->waiters = grown;
        }
        struct waiter *w = &a->waiters[a->nwaiters++];
        *w = (struct waiter){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                             sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
    }
    sqlite3_finalize(st);
    /* A slot per waiting context (at most one per wait): what the stream will see of it. */
    a->waited_seen = calloc(a->nwaiters ? a->nwaiters : 1, sizeof *a->waited_seen);
    if (a->waited_seen == NULL)
        return false;
    for (size_t i = 0, n = 0; ok && i < a->nwaiters; i++) {
        uint64_t k;
        int64_t ctx = a->waiters[i].ctx;
        if (ctx > 2 && !u64map_get(&a->waited, (uint64_t)ctx, &k) &&
            !u64map_put(&a->waited, (uint64_t)ctx, n++))
            ok = false;
    }
    return ok;
}

static bool leaked_waiter_note(struct analysis *a, const struct crow *c, const struct lineage *e)
{
    uint64_t k;
    if (u64map_get(&a->waited, (uint64_t)c->id, &k))
        a->waited_seen[k] = (struct waited){true, e->way_out, c->create_stack};
    return true;
}

static bool leaked_waiter_close(struct analysis *a)
{
    for (size_t i = 0; i < a->nwaiters; i++) {
        const struct waiter *w = &a->waiters[i];
        uint64_t k;
        struct waited c = {0};
        if (u64map_get(&a->waited, (uint64_t)w->ctx, &k))
            c = a->waited_seen[k];
        /* A context the trace never saw created: reached a root (no way out). */
        if (c.seen && c.way_out)
            continue;
        if (!add_match(&a->g[PASS_WAITER], CT_RULE_LEAKED_WAITER, trace_site(a->t, w->stack),
                       w->ctx, w->stack, w->thread_stack, c.create_stack,
                       a->t->end - w->blocked))
            return false;
    }
    return true;
}

/* One context through every rule, then into the window for its children. */
static bool analyze_row(struct analysis *a, const struct crow *r)
{
    struct lineage scratch, own;
    bool failed = false;
    const struct lineage *parent = window_lookup(&a->w, &a->t->stream, r->parent,
                                                 derive_lineage, a->t, &scratch, &failed);
    if (failed)
        return false;
    derive_lineage(r, parent, &own, a->t);
    int64_t site = own.site;
    if (!rule_timers_and_cancels(a, r, site) || !rule_ineffective_deadline(a, r, site) ||
        !detached_root_feed(a, r, site) || !rule_derived_from_done(a, r, site, parent) ||
        !rule_value_chain_growth(a, r, &own) || !leaked_waiter_note(a, r, &own))
        return false;
    struct lineage *e = window_add(&a->w, r->id, r->freed);
    if (e == NULL)
        return false;
    *e = own;
    return true;
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
    struct trace t = {0};
    struct analysis a = {.t = &t, .o = o};
    window_init(&a.w, sizeof(struct lineage));
    struct groups all = {0};
    struct exit_matches xm = {0};
    int rc = -1;
    /* One read transaction: a consistent snapshot even while the program still runs (the
     * stream's two passes must see the same rows). */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (trace_mem_load(&t, reader, err, errlen) != 0 || exit_reach_load(&t, err, errlen) != 0)
        goto done;
    long contexts = 0;
    int more = 0;
    bool ok = leaked_waiter_open(&a);
    struct crow r;
    while (ok && (more = ctx_stream_next(&t.stream, &r)) == 1) {
        contexts++;
        int64_t horizon = ctx_stream_horizon(&t.stream);
        ok = analyze_row(&a, &r) && detached_root_sweep(&a, horizon);
        window_evict(&a.w, horizon);
    }
    ok = ok && more == 0 && ineffective_deadline_close(&a) && detached_root_close(&a) &&
         leaked_waiter_close(&a);
    if (ok)
        derived_from_done_close(&a);
    ok = ok && rule_leaked_thread(&t, &xm) == 0 &&
         add_exit_matches(&a.g[PASS_EXIT], &xm) == 0;
    for (int p = 0; p < NPASS && ok; p++)
        ok = groups_append(&all, &a.g[p]);
    if (!ok || build(&t, &all, &o, out) != 0) {
        snprintf(err, errlen, "analysis failed: %s", sqlite3_errmsg(db));
        ct_findings_free(out);
        goto done;
    }
    out->contexts = contexts;
    out->complete = t.complete;
    out->threads_unjudged = xm.threads_unjudged;
    exit_check_status(db, out->exit_check, sizeof out->exit_check);
    rc = 0;
done:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    groups_free(&all);
    for (int p = 0; p < NPASS; p++)
        groups_free(&a.g[p]);
    groups_free(&a.reused);
    groups_free(&a.counted);
    u64map_free(&a.made);
    u64map_free(&a.per_parent);
    u64map_free(&a.live_at);
    u64map_free(&a.waited);
    free(a.waited_seen);
    free(a.waiters);
    heap_free(&a.births);
    heap_free(&a.ends);
    window_free(&a.w);
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
