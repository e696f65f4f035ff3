/*
 * retain.c — see retain.h.
 *
 * The tree's evidence (summary.h) is decided here because only the live model has the
 * tree: when a context is created its parent is held (a child holds a reference on its
 * parent, so a parent always ends after its children), so its creation facts — when its
 * parent was done as children see it, how many same-stack value layers stand below it,
 * whether another site's context was live when it was derived from a root — are read off
 * the parent in O(1). Each pass first merges every row (events that happened before one
 * drained in this pass are drained by its end: a ring is read whole), then decides.
 */
#include "retain.h"

#include <assert.h>
#include <ctxtrace/core/summary.h>
#include <ctxtrace/core/u64map.h>
#include <ctxtrace/tracer.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vec.h"

enum { WITNESS_SCAN = 64, WITNESSES = 2 };

/* A held context. */
struct hctx {
    struct ct_ctx_row row; /* everything known of it (its pass rows merged) */
    uint64_t decider;      /* the nearest non-value context at or above it: its cancel
                              time is the done time children see (0: unknown) */
    uint64_t origin;       /* done by its parent: where the cancellation started (0: not
                              found yet) */
    int64_t fanout;        /* descendants its own cancellation made done */
    int32_t layers;        /* same-stack value contexts stacked down from it, itself
                              included */
    uint8_t keep;          /* enum ct_keep_reason */
    bool written;          /* a row is in the file */
    bool facts;            /* creation facts computed */
    bool queued;           /* in the to-write list */
    bool parked;           /* ended clean, but the thread it was handed to still runs */
    bool counted;          /* counted live at its site (site_samples) */
    uint32_t waits;        /* its first held wait (index + 1), 0: none */
    uint32_t handed_to;    /* a running thread it was handed to at that thread's
                              creation (leaked-thread's evidence), 0: none */
    uint32_t next_handed;  /* the next context handed to the same thread (index + 1) */
};

/* A wait on a held context that is not (yet) known to need a row. */
struct hwait {
    struct ct_wait_row row;
    uint32_t next;   /* the next held wait of the same context (index + 1) */
    bool written;
    int64_t latency; /* woken by done: from the cancellation to the return; -1: none */
};

/* A site's aggregate: one per (creation stack, kind), chained per stack. */
struct agg {
    struct ct_site_summary s;
    int64_t ended;   /* contexts that ended here clean, sampled ones included */
    int64_t sampled; /* of which sampled */
    int64_t live, created;           /* site_samples: now ... */
    int64_t live_written, created_written; /* ... and as last written */
    uint32_t next;   /* the next kind at the same stack (index + 1) */
    bool dirty;
};

struct retain {
    VEC(struct hctx) ctx;
    VEC(uint32_t) free_ctx;
    struct u64map by_id; /* context id -> ctx index */
    VEC(struct hwait) waits;
    VEC(uint32_t) free_waits;
    struct u64map wait_by_id; /* wait id -> waits index */
    VEC(struct agg) aggs;
    struct u64map agg_by_stack; /* create stack (0 stored as 1) -> first agg index + 1 */
    /* Context ids in creation order, oldest first from `head`: ageing and witnesses. */
    VEC(uint64_t) fifo;
    size_t head;
    /* Ids of contexts that left the fifo still live: candidate witnesses (see
     * root_derivation). */
    VEC(uint64_t) old;
    /* Per pass. */
    VEC(uint32_t) fresh, ended, by_parent, to_write, dirty;
    /* The contexts created, and those that ended, in the previous pass: their creation
     * facts and their end are decided one pass late (see steps 2 and 6). */
    VEC(uint32_t) fresh_prev, ended_prev;
    VEC(uint32_t) path;
    int64_t summarized;
    int sample_every;
    /* Threads whose ties to contexts were folded (threads.summarized): id -> count. */
    struct u64map thread_ties;
    VEC(uint64_t) dirty_threads;
    /* Contexts handed to threads (retain_handed), applied once the pass's rows merged:
     * context id, thread id. And the threads that exited in the pass. */
    VEC(uint64_t) pending_handed, pending_exits;
    struct u64map handed_by_thread; /* thread -> first held context handed to it (+1) */
};

struct retain *retain_new(int sample_every)
{
    struct retain *r = calloc(1, sizeof(struct retain));
    if (r != NULL)
        r->sample_every = sample_every;
    return r;
}

void retain_free(struct retain *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ctx.len; i++)
        free(r->ctx.items[i].row.reason);
    free(r->ctx.items);
    free(r->free_ctx.items);
    u64map_free(&r->by_id);
    free(r->waits.items);
    free(r->free_waits.items);
    u64map_free(&r->wait_by_id);
    free(r->aggs.items);
    u64map_free(&r->agg_by_stack);
    free(r->fifo.items);
    free(r->old.items);
    free(r->fresh.items);
    free(r->ended.items);
    free(r->ended_prev.items);
    free(r->fresh_prev.items);
    free(r->by_parent.items);
    free(r->to_write.items);
    free(r->dirty.items);
    free(r->path.items);
    u64map_free(&r->thread_ties);
    free(r->dirty_threads.items);
    free(r->pending_handed.items);
    free(r->pending_exits.items);
    u64map_free(&r->handed_by_thread);
    free(r);
}

int64_t retain_summarized(const struct retain *r)
{
    return r->summarized;
}

/* The writer cannot keep its promise (nothing lost) without memory. */
#define PUSH(v, x)                                                                       \
    do {                                                                                 \
        long at_ = VEC_PUSH(v);                                                          \
        if (at_ < 0)                                                                     \
            abort();                                                                     \
        (v).items[at_] = (x);                                                            \
    } while (0)

static struct hctx *held(struct retain *r, int64_t id)
{
    uint64_t i;
    return id > 0 && u64map_get(&r->by_id, (uint64_t)id, &i) ? &r->ctx.items[i] : NULL;
}

static uint32_t index_of(struct retain *r, const struct hctx *h)
{
    return (uint32_t)(h - r->ctx.items);
}

static int kind_of(const struct hctx *h)
{
    return (int)ct_ctx_get(&h->row, CT_KIND, -1);
}

static bool cancellable(int kind)
{
    return kind == CTX_KIND_CANCEL || kind == CTX_KIND_DEADLINE;
}

static uint32_t new_ctx(struct retain *r, int64_t id)
{
    uint32_t i;
    if (r->free_ctx.len > 0) {
        i = r->free_ctx.items[--r->free_ctx.len];
    } else {
        long n = VEC_PUSH(r->ctx);
        if (n < 0)
            abort();
        i = (uint32_t)n;
    }
    struct hctx *h = &r->ctx.items[i];
    memset(h, 0, sizeof *h);
    h->row.id = id;
    if (!u64map_put(&r->by_id, (uint64_t)id, i))
        abort();
    PUSH(r->fifo, (uint64_t)id);
    return i;
}

static void drop_ctx(struct retain *r, struct hctx *h)
{
    u64map_del(&r->by_id, (uint64_t)h->row.id);
    free(h->row.reason);
    h->row.reason = NULL;
    PUSH(r->free_ctx, index_of(r, h));
}

static struct agg *agg_for(struct retain *r, int64_t stack, int kind)
{
    uint64_t key = stack != 0 ? (uint64_t)stack : 1, first = 0;
    u64map_get(&r->agg_by_stack, key, &first);
    for (uint64_t i = first; i != 0; i = r->aggs.items[i - 1].next)
        if (r->aggs.items[i - 1].s.create_stack == stack && r->aggs.items[i - 1].s.kind == kind)
            return &r->aggs.items[i - 1];
    long n = VEC_PUSH(r->aggs);
    if (n < 0 || !u64map_put(&r->agg_by_stack, key, (uint64_t)n + 1))
        abort();
    struct agg *a = &r->aggs.items[n];
    memset(a, 0, sizeof *a);
    a->s.create_stack = stack;
    a->s.kind = kind;
    a->next = (uint32_t)first;
    return a;
}

static void mark_dirty(struct retain *r, struct agg *a)
{
    if (!a->dirty) {
        a->dirty = true;
        PUSH(r->dirty, (uint32_t)(a - r->aggs.items));
    }
}

/* Keep h as a row; it is written at the end of the pass (and its waits with it). */
static void keep(struct retain *r, struct hctx *h, enum ct_keep_reason why)
{
    if (h->keep == CT_KEEP_NO)
        h->keep = (uint8_t)why;
    if (!h->written && !h->queued) {
        h->queued = true;
        PUSH(r->to_write, index_of(r, h));
    }
}

/* ---- creation facts --------------------------------------------------------------- */

static void creation_facts_one(struct retain *r, struct hctx *h)
{
    int kind = kind_of(h);
    int64_t created = ct_ctx_get(&h->row, CT_CREATED_NS, 0);
    struct hctx *p = held(r, ct_ctx_get(&h->row, CT_PARENT_ID, 0));
    h->facts = true;
    h->decider = kind == CTX_KIND_VALUE ? (p != NULL ? p->decider : 0) : (uint64_t)h->row.id;
    h->layers = kind != CTX_KIND_VALUE ? 0
                : p != NULL && kind_of(p) == CTX_KIND_VALUE &&
                        ct_ctx_get(&p->row, CT_CREATE_STACK, 0) ==
                            ct_ctx_get(&h->row, CT_CREATE_STACK, 0)
                    ? p->layers + 1
                    : 1;
    if (p == NULL)
        return;

    /* derived-from-done: the parent was done (as children see it) when h was made. The
     * rule walks from the parent up to the context that decides: keep that path. */
    struct hctx *d = held(r, (int64_t)p->decider);
    int64_t done = d != NULL && cancellable(kind_of(d)) ? ct_ctx_get(&d->row, CT_CANCELED_NS, 0)
                                                        : 0;
    if (done != 0 && created != 0 && done <= created) {
        keep(r, h, CT_KEEP_BORN_DONE);
        for (struct hctx *a = p; a != NULL; a = held(r, ct_ctx_get(&a->row, CT_PARENT_ID, 0))) {
            keep(r, a, CT_KEEP_BORN_DONE);
            if (a == d)
                break;
        }
    }
    /* value-chain-growth: every layer of a deep same-stack chain. */
    if (h->layers > CT_KEEP_CHAIN_LAYERS) {
        keep(r, h, CT_KEEP_VALUE_CHAIN);
        for (struct hctx *a = p; a != NULL && a->layers > 0 && a->keep == CT_KEEP_NO;
             a = held(r, ct_ctx_get(&a->row, CT_PARENT_ID, 0)))
            keep(r, a, CT_KEEP_VALUE_CHAIN);
    }
}

/* detached-root: derived from a root while a context of another site was live (not
 * done). Such a derivation is kept with up to WITNESSES live contexts of other stacks
 * (the rule's sweep must find them live too), looked for among the long-lived contexts
 * first, then the youngest, WITNESS_SCAN of each at most. A derivation without a witness
 * there is folded: a miss at worst, never a false finding. */
struct witnesses {
    struct hctx *h, *found[WITNESSES];
    int n;
    int64_t created, stack;
};

/* Is w a witness? false also when it can never be one again (ended or done). */
static bool witness_try(struct witnesses *ws, struct hctx *w, bool *dead)
{
    int64_t wstack = ct_ctx_get(&w->row, CT_CREATE_STACK, 0),
            wcreated = ct_ctx_get(&w->row, CT_CREATED_NS, 0),
            canceled = ct_ctx_get(&w->row, CT_CANCELED_NS, 0),
            freed = ct_ctx_get(&w->row, CT_FREED_NS, 0);
    int64_t end = canceled != 0 && (freed == 0 || canceled < freed) ? canceled : freed;
    *dead = end != 0 && end <= ws->created;
    if (w == ws->h || wstack == ws->stack || wcreated == 0 || wcreated >= ws->created ||
        (end != 0 && end <= ws->created))
        return false;
    for (int i = 0; i < ws->n; i++)
        if (ct_ctx_get(&ws->found[i]->row, CT_CREATE_STACK, 0) == wstack)
            return false;
    ws->found[ws->n++] = w;
    return true;
}

static void root_derivation(struct retain *r, struct hctx *h)
{
    struct witnesses ws = {.h = h,
                           .created = ct_ctx_get(&h->row, CT_CREATED_NS, 0),
                           .stack = ct_ctx_get(&h->row, CT_CREATE_STACK, 0)};
    if (ws.created == 0)
        return;
    /* The long-lived: ended or done ones leave the list as they are met. */
    for (size_t i = 0, looked = 0; i < r->old.len && looked < WITNESS_SCAN && ws.n < WITNESSES;) {
        struct hctx *w = held(r, (int64_t)r->old.items[i]);
        bool dead = w == NULL;
        if (w != NULL) {
            looked++;
            witness_try(&ws, w, &dead);
        }
        if (dead)
            r->old.items[i] = r->old.items[--r->old.len];
        else
            i++;
    }
    for (size_t i = r->head, looked = 0;
         i < r->fifo.len && looked < WITNESS_SCAN && ws.n < WITNESSES; i++) {
        struct hctx *w = held(r, (int64_t)r->fifo.items[i]);
        bool dead;
        if (w != NULL) {
            looked++;
            witness_try(&ws, w, &dead);
        }
    }
    if (ws.n == 0)
        return;
    keep(r, h, CT_KEEP_DETACHED);
    for (int i = 0; i < ws.n; i++)
        keep(r, ws.found[i], CT_KEEP_DETACHED);
}

/* Creation facts need the parent's first: compute up the chain of parents created in
 * this pass without facts yet, then back down (iteratively: a chain may be a million
 * deep). */
static void creation_facts(struct retain *r, struct hctx *h)
{
    r->path.len = 0;
    for (struct hctx *a = h; a != NULL && !a->facts;
         a = held(r, ct_ctx_get(&a->row, CT_PARENT_ID, 0)))
        PUSH(r->path, index_of(r, a));
    while (r->path.len > 0) {
        struct hctx *a = &r->ctx.items[r->path.items[--r->path.len]];
        creation_facts_one(r, a);
        int64_t parent = ct_ctx_get(&a->row, CT_PARENT_ID, 0);
        if (parent == 1 || parent == 2)
            root_derivation(r, a);
    }
}

/* ---- fan-out: which cancellation made a context done ---------------------------------- */

static struct hctx *origin_of(struct retain *r, struct hctx *h)
{
    r->path.len = 0;
    struct hctx *a = h, *found = NULL;
    while (a != NULL) {
        int why = ct_ctx_has(&a->row, CT_CANCELED_NS) ? (int)ct_ctx_get(&a->row, CT_CANCEL_WHY, -1)
                                                       : -1;
        if (why != CTX_WHY_PARENT) {
            found = why >= 0 ? a : NULL;
            break;
        }
        if (a->origin != 0) {
            found = held(r, (int64_t)a->origin);
            break;
        }
        PUSH(r->path, index_of(r, a));
        a = held(r, ct_ctx_get(&a->row, CT_PARENT_ID, 0));
    }
    for (size_t i = 0; found != NULL && i < r->path.len; i++)
        r->ctx.items[r->path.items[i]].origin = (uint64_t)found->row.id;
    return found;
}

/* ---- writing ---------------------------------------------------------------------- */

static int write_ctx(struct retain *r, struct hctx *h, ct_store *store)
{
    int rc = ct_store_context(store, &h->row);
    h->written = true;
    for (uint32_t w = h->waits; w != 0 && rc == 0; w = r->waits.items[w - 1].next) {
        struct hwait *hw = &r->waits.items[w - 1];
        if (!hw->written) {
            rc = ct_store_wait(store, &hw->row);
            hw->written = true;
        }
    }
    return rc;
}

/* A thread lost sight of one of its ties to a context (leaked-thread's evidence). */
static void tie_folded(struct retain *r, int64_t thread)
{
    if (thread <= 0)
        return;
    uint64_t n = 0;
    if (!u64map_get(&r->thread_ties, (uint64_t)thread, &n))
        PUSH(r->dirty_threads, (uint64_t)thread);
    else if (n > 0 && (n & (1ull << 63)) == 0)
        PUSH(r->dirty_threads, (uint64_t)thread);
    /* The top bit marks "already in dirty_threads this pass". */
    if (!u64map_put(&r->thread_ties, (uint64_t)thread, ((n & ~(1ull << 63)) + 1) | (1ull << 63)))
        abort();
}

/* h no longer counts for the thread it was handed to. */
static void unhand(struct retain *r, struct hctx *h)
{
    if (h->handed_to == 0)
        return;
    uint64_t first = 0, me = index_of(r, h) + 1;
    u64map_get(&r->handed_by_thread, h->handed_to, &first);
    if (first == me) {
        if (h->next_handed != 0) {
            if (!u64map_put(&r->handed_by_thread, h->handed_to, h->next_handed))
                abort();
        } else {
            u64map_del(&r->handed_by_thread, h->handed_to);
        }
    } else {
        for (uint64_t i = first; i != 0; i = r->ctx.items[i - 1].next_handed)
            if (r->ctx.items[i - 1].next_handed == me) {
                r->ctx.items[i - 1].next_handed = h->next_handed;
                break;
            }
    }
    h->handed_to = 0;
    h->next_handed = 0;
}

/* h ended: a row, or folded into its site. Its held waits go with it. A context handed
 * to a thread that still runs waits (parked) until that thread exits: if the thread is
 * still there at the end, leaked-thread reads the context. */
static int end_ctx(struct retain *r, struct hctx *h, ct_store *store)
{
    enum ct_keep_reason why = (enum ct_keep_reason)h->keep;
    if (why == CT_KEEP_NO)
        why = ct_keep_at_end(&h->row);
    if (why == CT_KEEP_NO && h->handed_to != 0) {
        h->parked = true;
        return 0;
    }
    unhand(r, h);
    struct agg *a = agg_for(r, ct_ctx_get(&h->row, CT_CREATE_STACK, 0), kind_of(h));
    if (why == CT_KEEP_NO && ct_keep_sampled(a->ended, a->sampled, r->sample_every)) {
        why = CT_KEEP_SAMPLE;
        a->sampled++;
    }
    a->ended++;
    int rc = 0;
    if (why != CT_KEEP_NO) {
        if (!h->written)
            rc = write_ctx(r, h, store);
        else /* the rows written while it was live lack nothing but its held waits */
            for (uint32_t w = h->waits; w != 0 && rc == 0; w = r->waits.items[w - 1].next)
                if (!r->waits.items[w - 1].written) {
                    rc = ct_store_wait(store, &r->waits.items[w - 1].row);
                    r->waits.items[w - 1].written = true;
                }
    } else {
        ct_site_summary_add(&a->s, &h->row, h->fanout);
        r->summarized++;
        if (ct_ctx_has(&h->row, CT_PARENT_ID))
            tie_folded(r, ct_ctx_get(&h->row, CT_CREATE_THREAD, 0));
        if (h->written)
            rc = ct_store_forget_context(store, h->row.id);
        for (uint32_t w = h->waits; w != 0 && rc == 0; w = r->waits.items[w - 1].next) {
            struct hwait *hw = &r->waits.items[w - 1];
            if (hw->latency >= 0) {
                a->s.wakeups++;
                ct_hist_add(&a->s.wake, hw->latency);
                if (hw->latency > a->s.wake_max)
                    a->s.wake_max = hw->latency;
            }
            tie_folded(r, hw->row.thread);
            if (hw->written)
                rc = ct_store_forget_wait(store, hw->row.id);
        }
        mark_dirty(r, a);
    }
    for (uint32_t w = h->waits, next; w != 0; w = next) {
        next = r->waits.items[w - 1].next;
        u64map_del(&r->wait_by_id, (uint64_t)r->waits.items[w - 1].row.id);
        PUSH(r->free_waits, w - 1);
    }
    h->waits = 0;
    drop_ctx(r, h);
    return rc;
}

/* A pass's wait row: written at once when its context has (or needs) a row — or is not
 * held at all (a root, or one created before recording began); else held with the
 * context until it ends. A wait that timed out keeps its context: leaked-waiter reads a
 * thread's last timed-out wait. */
static int apply_wait(struct retain *r, const struct ct_wait_row *p, ct_store *store)
{
    uint64_t wi;
    struct hwait *hw = NULL;
    if (u64map_get(&r->wait_by_id, (uint64_t)p->id, &wi))
        hw = &r->waits.items[wi];
    struct hctx *h = held(r, hw != NULL ? hw->row.context_id : p->context_id);
    if (hw == NULL && (h == NULL || h->keep != CT_KEEP_NO)) {
        if (h != NULL && p->woken_ns != 0 && p->result == ETIMEDOUT)
            keep(r, h, CT_KEEP_TIMED_OUT_WAIT);
        return ct_store_wait(store, p);
    }
    if (hw == NULL) {
        uint32_t i;
        if (r->free_waits.len > 0) {
            i = r->free_waits.items[--r->free_waits.len];
        } else {
            long n = VEC_PUSH(r->waits);
            if (n < 0)
                abort();
            i = (uint32_t)n;
        }
        hw = &r->waits.items[i];
        memset(hw, 0, sizeof *hw);
        hw->row.id = p->id;
        hw->row.context_id = p->context_id;
        hw->latency = -1;
        hw->next = h->waits;
        h->waits = i + 1;
        if (!u64map_put(&r->wait_by_id, (uint64_t)p->id, i))
            abort();
    }
    if (p->blocked_ns != 0) {
        hw->row.context_id = p->context_id;
        hw->row.thread = p->thread;
        hw->row.stack = p->stack;
        hw->row.is_fd = p->is_fd;
        hw->row.blocked_ns = p->blocked_ns;
    }
    if (p->woken_ns != 0) {
        hw->row.woken_ns = p->woken_ns;
        hw->row.result = p->result;
    }
    /* A held wait's context is held: waits leave with their context. */
    assert(h != NULL);
    if (p->woken_ns != 0 && !hw->row.is_fd) {
        if (p->result == ETIMEDOUT) {
            keep(r, h, CT_KEEP_TIMED_OUT_WAIT);
        } else if (p->result == 0) {
            /* profile.c's latency: from the cancel of the nearest non-value context. */
            struct hctx *src = held(r, (int64_t)h->decider);
            int64_t canceled = src != NULL ? ct_ctx_get(&src->row, CT_CANCELED_NS, 0) : 0;
            if (canceled != 0)
                hw->latency = p->woken_ns - canceled;
        }
    }
    if (h->written) {
        int rc = ct_store_wait(store, hw->written ? p : &hw->row);
        hw->written = true;
        return rc;
    }
    return 0;
}

int retain_pass(struct retain *r, const struct ct_ctx_row *rows, size_t nrows,
                const struct ct_wait_row *waits, size_t nwaits, ct_store *store, int64_t now,
                bool final)
{
    int rc = 0;
    r->fresh.len = r->ended.len = r->by_parent.len = r->to_write.len = 0;

    /* 1. Merge. A context with a row gets this pass's partial row as it is (the file's
     * UPSERT merges it, as in a full trace). */
    for (size_t i = 0; i < nrows && rc == 0; i++) {
        const struct ct_ctx_row *p = &rows[i];
        struct hctx *h = held(r, p->id);
        if (h == NULL) {
            if (p->id <= 2) { /* the roots: rows of their own from the start */
                rc = ct_store_context(store, p);
                continue;
            }
            uint32_t k = new_ctx(r, p->id);
            h = &r->ctx.items[k];
            PUSH(r->fresh, k);
        } else if (h->written) {
            rc = ct_store_context(store, p);
        }
        ct_ctx_row_merge(&h->row, p);
        uint32_t k = index_of(r, h);
        if (ct_ctx_has(p, CT_FREED_NS))
            PUSH(r->ended, k);
        if (ct_ctx_has(p, CT_CANCELED_NS) && ct_ctx_get(p, CT_CANCEL_WHY, -1) == CTX_WHY_PARENT)
            PUSH(r->by_parent, k);
    }
    /* Contexts handed to a thread at its creation, then the threads that exited: what
     * was handed to them ends now if it ended already. */
    for (size_t i = 0; i + 1 < r->pending_handed.len; i += 2) {
        struct hctx *h = held(r, (int64_t)r->pending_handed.items[i]);
        uint64_t first = 0, thread = r->pending_handed.items[i + 1];
        if (h == NULL || h->handed_to != 0 || thread == 0)
            continue;
        u64map_get(&r->handed_by_thread, thread, &first);
        h->handed_to = (uint32_t)thread;
        h->next_handed = (uint32_t)first;
        if (!u64map_put(&r->handed_by_thread, thread, index_of(r, h) + 1))
            abort();
    }
    r->pending_handed.len = 0;
    for (size_t i = 0; i < r->pending_exits.len; i++) {
        uint64_t first = 0;
        if (!u64map_get(&r->handed_by_thread, r->pending_exits.items[i], &first))
            continue;
        u64map_del(&r->handed_by_thread, r->pending_exits.items[i]);
        for (uint64_t k = first, next; k != 0; k = next) {
            struct hctx *h = &r->ctx.items[k - 1];
            next = h->next_handed;
            h->handed_to = 0;
            h->next_handed = 0;
            if (h->parked) {
                h->parked = false;
                PUSH(r->ended, (uint32_t)(k - 1));
            }
        }
    }
    r->pending_exits.len = 0;
    /* Live counts per site (site_samples): created in the pass, and ended. */
    for (size_t i = 0; i < r->fresh.len; i++) {
        struct hctx *h = &r->ctx.items[r->fresh.items[i]];
        if (!ct_ctx_has(&h->row, CT_CREATED_NS))
            continue; /* created before recording began */
        struct agg *a = agg_for(r, ct_ctx_get(&h->row, CT_CREATE_STACK, 0), kind_of(h));
        a->live++;
        a->created++;
        h->counted = true;
    }
    for (size_t i = 0; i < r->ended.len; i++) {
        struct hctx *h = &r->ctx.items[r->ended.items[i]];
        if (h->counted) {
            agg_for(r, ct_ctx_get(&h->row, CT_CREATE_STACK, 0), kind_of(h))->live--;
            h->counted = false;
        }
    }
    /* 2. What the creation of each context made in the previous pass tells (parents
     * first). One pass late for the reason of step 6: its parent's cancel, made before
     * it on another thread, may reach the writer a pass after it. */
    for (size_t i = 0; i < r->fresh_prev.len; i++) {
        struct hctx *h = &r->ctx.items[r->fresh_prev.items[i]];
        if (!h->facts)
            creation_facts(r, h);
    }
    r->fresh_prev.len = 0;
    for (size_t i = 0; i < r->fresh.len; i++)
        PUSH(r->fresh_prev, r->fresh.items[i]);
    /* 3. Fan-out: each context its parent's cancellation reached counts for the origin. */
    for (size_t i = 0; i < r->by_parent.len; i++) {
        struct hctx *o = origin_of(r, &r->ctx.items[r->by_parent.items[i]]);
        if (o != NULL)
            o->fanout++;
    }
    /* 4. Waits. */
    for (size_t i = 0; i < nwaits && rc == 0; i++)
        rc = apply_wait(r, &waits[i], store);
    /* 5. The contexts kept so far this pass get their rows (before any of them ends:
     * end_ctx then sees them written). */
    for (size_t i = 0; i < r->to_write.len && rc == 0; i++) {
        struct hctx *h = &r->ctx.items[r->to_write.items[i]];
        h->queued = false;
        if (!h->written)
            rc = write_ctx(r, h, store);
    }
    /* 6. The contexts that ended in the previous pass. One pass late, because an event
     * that happened before a context's free can reach the writer after it: a ring is
     * drained whole, one after another, so the thread that let go of a context (its
     * release) may be drained just before it commits, and the thread that freed it just
     * after — but both are in by the end of the next pass, which drains every ring again.
     * (In any order: what the tree tells was decided above, and ending one needs nothing
     * of the others.) In the final pass, those that ended in it stay held: step 7 writes
     * them as rows. */
    for (size_t i = 0; i < r->ended_prev.len && rc == 0; i++)
        rc = end_ctx(r, &r->ctx.items[r->ended_prev.items[i]], store);
    r->ended_prev.len = 0;
    for (size_t i = 0; i < r->ended.len; i++)
        PUSH(r->ended_prev, r->ended.items[i]);
    /* 7. Long live, or live at the end: written. The oldest first; ended ones skipped. */
    while (r->head < r->fifo.len && rc == 0) {
        struct hctx *h = held(r, (int64_t)r->fifo.items[r->head]);
        if (h != NULL && !final &&
            ct_ctx_get(&h->row, CT_CREATED_NS, now) + CT_KEEP_HOLD_NS > now)
            break;
        if (h != NULL && !h->written)
            rc = write_ctx(r, h, store);
        if (h != NULL && !final)
            PUSH(r->old, (uint64_t)h->row.id);
        r->head++;
    }
    /* The witness list loses ended contexts as witnesses are looked for; a program that
     * never derives from a root never looks: then it is filtered here, amortized O(1). */
    if (r->old.len > 2 * r->by_id.len + 1024) {
        size_t n = 0;
        for (size_t i = 0; i < r->old.len; i++)
            if (held(r, (int64_t)r->old.items[i]) != NULL)
                r->old.items[n++] = r->old.items[i];
        r->old.len = n;
    }
    if (r->head > 4096 && r->head * 2 > r->fifo.len) {
        memmove(r->fifo.items, r->fifo.items + r->head,
                (r->fifo.len - r->head) * sizeof *r->fifo.items);
        r->fifo.len -= r->head;
        r->head = 0;
    }
    /* 8. The threads that lost sight of ties. (The aggregates are written with the
     * samples: retain_site_samples.) */
    for (size_t i = 0; i < r->dirty_threads.len && rc == 0; i++) {
        uint64_t n = 0, id = r->dirty_threads.items[i];
        u64map_get(&r->thread_ties, id, &n);
        n &= ~(1ull << 63);
        if (!u64map_put(&r->thread_ties, id, n))
            abort();
        rc = ct_store_thread(store, &(struct ct_thread_row){.id = (int64_t)id,
                                                            .summarized = (int64_t)n});
    }
    r->dirty_threads.len = 0;
    return rc;
}

void retain_handed(struct retain *r, int64_t id, uint32_t thread)
{
    PUSH(r->pending_handed, (uint64_t)id);
    PUSH(r->pending_handed, (uint64_t)thread);
}

void retain_thread_exit(struct retain *r, uint32_t thread)
{
    PUSH(r->pending_exits, (uint64_t)thread);
}

int retain_site_samples(struct retain *r, ct_store *store, int64_t ts)
{
    /* The aggregates that changed: with the samples rather than every pass, which would
     * format and rewrite each busy site's histograms 200 times a second. */
    int rc = 0;
    for (size_t i = 0; i < r->dirty.len && rc == 0; i++) {
        struct agg *a = &r->aggs.items[r->dirty.items[i]];
        a->dirty = false;
        rc = ct_store_site_summary(store, &a->s);
    }
    r->dirty.len = 0;
    for (size_t i = 0; i < r->aggs.len && rc == 0; i++) {
        struct agg *a = &r->aggs.items[i];
        if (a->live == a->live_written && a->created == a->created_written)
            continue;
        rc = ct_store_site_sample(store, ts, a->s.create_stack, a->s.kind, a->live, a->created);
        a->live_written = a->live;
        a->created_written = a->created;
    }
    return rc;
}
