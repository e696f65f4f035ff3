/*
 * batch.c — see batch.h.
 */
#include "batch.h"

#include <ctxtrace/tracer.h>
#include <stdlib.h>
#include <string.h>

#include <ctxtrace/core/summary.h>
#include <ctxtrace/core/u64map.h>
#include <time.h>

#include "retain.h"
#include "scan.h"
#include "vec.h"

enum { MAX_FRAMES = 64 };

struct pending_stack {
    uint64_t hash;
    int depth;
    uint64_t ips[MAX_FRAMES];
};

/* A thread's pthread_create argument and the words it pointed at, resolved against the
 * live contexts' addresses when the batch is written (see resolve_handed). */
struct pending_handed {
    uint32_t thread;
    int n;
    uint64_t w[EV_HANDED_WORDS];
};

struct pending_free {
    uint64_t addr, id;
};

struct batch {
    VEC(struct ct_ctx_row) ctx;
    VEC(struct pending_handed) handed;
    VEC(struct ct_exit_thread_row) exit_threads;
    VEC(struct ct_thread_row) threads;
    VEC(struct ct_wait_row) waits;
    VEC(struct pending_stack) stacks;
    struct u64map ctx_index, thread_index, wait_index;
    struct u64map known_stacks; /* across batches: stacks already in the file */
    /* Across batches: live context address -> id (removed at free, so a reused address
     * never names a dead context), and kernel tid -> threads.id (the latest thread
     * with that tid: kept after the thread exits, because the exit check may still list
     * a thread past its exit hook — bounded by the kernel's pid_max, as tids are reused). */
    struct u64map live_addr, live_parent, tid_thread;
    VEC(struct ct_exit_reach_row) exit_reach;
    /* Frees drained in this pass, applied to live_addr after the handed words are
     * resolved: a thread may start after its context was created and be drained in the
     * same pass as the context's free (a writer slowed by the disk). */
    VEC(struct pending_free) freed;
    struct live_counts counts;
    struct retain *retain; /* summary retention; NULL: full */
};

struct batch *batch_new(int keep, int sample_every)
{
    struct batch *b = calloc(1, sizeof(struct batch));
    if (b != NULL && keep == CT_KEEP_SUMMARY && (b->retain = retain_new(sample_every)) == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

int64_t batch_summarized(const struct batch *b)
{
    return b->retain != NULL ? retain_summarized(b->retain) : 0;
}

int batch_site_samples(struct batch *b, ct_store *store, int64_t ts)
{
    return b->retain != NULL ? retain_site_samples(b->retain, store, ts) : 0;
}

void batch_free(struct batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->ctx.len; i++)
        free(b->ctx.items[i].reason);
    free(b->ctx.items);
    free(b->threads.items);
    free(b->waits.items);
    free(b->stacks.items);
    free(b->handed.items);
    free(b->exit_threads.items);
    u64map_free(&b->live_addr);
    u64map_free(&b->live_parent);
    free(b->exit_reach.items);
    free(b->freed.items);
    u64map_free(&b->tid_thread);
    u64map_free(&b->ctx_index);
    u64map_free(&b->thread_index);
    u64map_free(&b->wait_index);
    u64map_free(&b->known_stacks);
    retain_free(b->retain);
    free(b);
}

const struct live_counts *batch_counts(const struct batch *b)
{
    return &b->counts;
}

/* The batch row for context `id`, created empty on first use. */
static struct ct_ctx_row *ctx_row(struct batch *b, uint64_t id)
{
    uint64_t i;
    if (u64map_get(&b->ctx_index, id, &i))
        return &b->ctx.items[i];
    long n = VEC_PUSH(b->ctx);
    if (n < 0 || !u64map_put(&b->ctx_index, id, (uint64_t)n))
        abort(); /* the writer cannot keep its lossless promise without memory */
    struct ct_ctx_row *r = &b->ctx.items[n];
    memset(r, 0, sizeof *r);
    r->id = (int64_t)id;
    return r;
}

static struct ct_thread_row *thread_row(struct batch *b, uint64_t id)
{
    uint64_t i;
    if (u64map_get(&b->thread_index, id, &i))
        return &b->threads.items[i];
    long n = VEC_PUSH(b->threads);
    if (n < 0 || !u64map_put(&b->thread_index, id, (uint64_t)n))
        abort();
    struct ct_thread_row *r = &b->threads.items[n];
    memset(r, 0, sizeof *r);
    r->id = (int64_t)id;
    return r;
}

static struct ct_wait_row *wait_row(struct batch *b, uint64_t id)
{
    uint64_t i;
    if (u64map_get(&b->wait_index, id, &i))
        return &b->waits.items[i];
    long n = VEC_PUSH(b->waits);
    if (n < 0 || !u64map_put(&b->wait_index, id, (uint64_t)n))
        abort();
    struct ct_wait_row *r = &b->waits.items[n];
    memset(r, 0, sizeof *r);
    r->id = (int64_t)id;
    return r;
}

static void apply_cancel(struct batch *b, const struct ev *e)
{
    struct ct_ctx_row *r = ctx_row(b, e->id);
    ct_ctx_set(r, CT_CANCELED_NS, e->ts);
    ct_ctx_set(r, CT_CANCEL_WHY, e->a);
    ct_ctx_set(r, CT_CANCEL_ERR, e->b);
    ct_ctx_set(r, CT_CANCEL_CAUSE, e->c);
    ct_ctx_set(r, CT_CANCEL_THREAD, e->thread);
    if (e->stack != 0)
        ct_ctx_set(r, CT_CANCEL_STACK, (int64_t)e->stack);
    if (e->d != 0)
        ct_ctx_set(r, CT_CANCEL_ORIGIN_NS, e->d);
    if (e->size > sizeof *e) {
        free(r->reason);
        r->reason = strdup((const char *)(e + 1));
        r->present |= 1u << CT_CANCEL_REASON;
    }
}

static void apply_timer(struct batch *b, const struct ev *e)
{
    struct ct_ctx_row *r = ctx_row(b, e->id);
    switch (e->a) {
    case CTX_TIMER_ARMED:
        ct_ctx_set(r, CT_TIMER_ARMED_NS, e->ts);
        b->counts.timers++;
        break;
    case CTX_TIMER_STOPPED:
        ct_ctx_set(r, CT_TIMER_STOPPED_NS, e->ts);
        b->counts.timers--;
        break;
    default:
        ct_ctx_set(r, CT_TIMER_FIRED_NS, e->ts);
        b->counts.timers--;
        break;
    }
}

void batch_apply(const struct ev *e, void *arg)
{
    struct batch *b = arg;
    struct ct_ctx_row *r;
    struct ct_wait_row *w;
    b->counts.events++;
    switch ((enum ev_type)e->type) {
    case EV_CREATE:
        r = ctx_row(b, e->id);
        if (e->a != 0)
            ct_ctx_set(r, CT_PARENT_ID, e->a);
        ct_ctx_set(r, CT_KIND, e->b);
        ct_ctx_set(r, CT_CREATED_NS, e->ts);
        ct_ctx_set(r, CT_CREATE_THREAD, e->thread);
        if (e->stack != 0)
            ct_ctx_set(r, CT_CREATE_STACK, (int64_t)e->stack);
        if (e->b == CTX_KIND_DEADLINE)
            ct_ctx_set(r, CT_REQUESTED_DEADLINE_NS, e->c);
        if (e->d != 0)
            ct_ctx_set(r, CT_DEADLINE_NS, e->d);
        if (e->size >= sizeof *e + sizeof(uint64_t) &&
            (!u64map_put(&b->live_addr, *(const uint64_t *)(e + 1), e->id) ||
             !u64map_put(&b->live_parent, e->id, (uint64_t)e->a)))
            abort();
        b->counts.contexts++;
        break;
    case EV_CANCEL:
        apply_cancel(b, e);
        break;
    case EV_TIMER:
        apply_timer(b, e);
        break;
    case EV_UNOWNED:
        r = ctx_row(b, e->id);
        ct_ctx_set(r, CT_RELEASED_NS, e->ts);
        ct_ctx_set(r, CT_RELEASED_LIVE, e->a);
        ct_ctx_set(r, CT_RELEASE_THREAD, e->thread);
        if (e->stack != 0)
            ct_ctx_set(r, CT_RELEASE_STACK, (int64_t)e->stack);
        break;
    case EV_FREE: {
        long n = VEC_PUSH(b->freed);
        if (n < 0)
            abort();
        b->freed.items[n] = (struct pending_free){(uint64_t)e->a, e->id};
        ct_ctx_set(ctx_row(b, e->id), CT_FREED_NS, e->ts);
        b->counts.contexts--;
        break;
    }
    case EV_WAIT_BLOCKED:
    case EV_FD:
        w = wait_row(b, (uint64_t)e->a);
        w->context_id = (int64_t)e->id;
        w->thread = e->thread;
        w->stack = (int64_t)e->stack;
        w->is_fd = e->type == EV_FD;
        w->blocked_ns = e->ts;
        if (e->type == EV_WAIT_BLOCKED)
            b->counts.waiters++;
        break;
    case EV_WAIT_WOKEN:
        w = wait_row(b, (uint64_t)e->a);
        w->context_id = (int64_t)e->id; /* summary retention files it by its context */
        w->woken_ns = e->ts;
        w->result = (int)e->b;
        b->counts.waiters--;
        break;
    case EV_THREAD_START: {
        struct ct_thread_row *t = thread_row(b, e->thread);
        t->tid = e->a;
        t->parent_thread = e->b;
        t->create_stack = (int64_t)e->stack;
        t->start_ns = e->ts;
        b->counts.threads++;
        if (e->a > 0 && !u64map_put(&b->tid_thread, (uint64_t)e->a, e->thread))
            abort();
        if (e->c > 0) {
            long n = VEC_PUSH(b->handed);
            if (n < 0)
                abort();
            struct pending_handed *h = &b->handed.items[n];
            h->thread = e->thread;
            h->n = e->c > EV_HANDED_WORDS ? EV_HANDED_WORDS : (int)e->c;
            memcpy(h->w, e + 1, (size_t)h->n * sizeof(uint64_t));
        }
        break;
    }
    case EV_EXIT_REACH: {
        long n = VEC_PUSH(b->exit_reach);
        if (n < 0)
            abort();
        b->exit_reach.items[n] = (struct ct_exit_reach_row){(int64_t)e->id, (int)e->a};
        break;
    }
    case EV_EXIT_THREAD: {
        long n = VEC_PUSH(b->exit_threads);
        if (n < 0)
            abort();
        struct ct_exit_thread_row *x = &b->exit_threads.items[n];
        *x = (struct ct_exit_thread_row){
            .tid = e->a,
            .state = ct_exit_state_of((char)e->b),
            .syscall_nr = e->c,
            .stopped = e->d != 0,
            .stack = (int64_t)e->stack,
        };
        break;
    }
    case EV_THREAD_EXIT:
        thread_row(b, e->thread)->exit_ns = e->ts;
        b->counts.threads--;
        break;
    case EV_STACK: {
        uint64_t seen;
        if (u64map_get(&b->known_stacks, e->id, &seen))
            break;
        long n = VEC_PUSH(b->stacks);
        if (n < 0 || !u64map_put(&b->known_stacks, e->id, 1))
            abort();
        struct pending_stack *s = &b->stacks.items[n];
        s->hash = e->id;
        s->depth = e->a > MAX_FRAMES ? MAX_FRAMES : (int)e->a;
        memcpy(s->ips, e + 1, (size_t)s->depth * sizeof(uint64_t));
        break;
    }
    case EV_VALUE:
        r = ctx_row(b, e->id);
        ct_ctx_set(r, CT_VALUE_LOOKUPS, ct_ctx_get(r, CT_VALUE_LOOKUPS, 0) + 1);
        ct_ctx_set(r, CT_VALUE_DEPTH_SUM, ct_ctx_get(r, CT_VALUE_DEPTH_SUM, 0) + e->a);
        if (e->a > ct_ctx_get(r, CT_VALUE_DEPTH_MAX, 0))
            ct_ctx_set(r, CT_VALUE_DEPTH_MAX, e->a);
        break;
    case EV_PAD:
        break;
    }
}

/* Which words a thread was handed are live contexts' addresses. Done when the batch is
 * written, not when its start is drained: the context may have been created on another
 * thread whose ring is drained later in the same pass. */
static int resolve_handed(struct batch *b, ct_store *store)
{
    int rc = 0;
    for (size_t i = 0; i < b->handed.len && rc == 0; i++) {
        const struct pending_handed *h = &b->handed.items[i];
        for (int k = 0; k < h->n && rc == 0; k++) {
            uint64_t id;
            if (h->w[k] == 0 || !u64map_get(&b->live_addr, h->w[k], &id))
                continue;
            rc = ct_store_thread_context(store, h->thread, (int64_t)id, "arg");
            if (b->retain != NULL)
                retain_handed(b->retain, (int64_t)id, h->thread);
            /* The argument is a context: the words after it are the runtime's (its
             * parent, its links), not something the thread was handed. */
            if (k == 0)
                break;
        }
    }
    b->handed.len = 0;
    /* Now the frees of this pass. An address already reused by a newer context (its
     * create drained later in the pass) stays. */
    for (size_t i = 0; i < b->freed.len; i++) {
        const struct pending_free *f = &b->freed.items[i];
        uint64_t id;
        if (f->addr != 0 && u64map_get(&b->live_addr, f->addr, &id) && id == f->id)
            u64map_del(&b->live_addr, f->addr);
        u64map_del(&b->live_parent, f->id);
    }
    b->freed.len = 0;
    return rc;
}

/* The exit check's threads, named by threads.id (their starts were recorded before the
 * check, and are drained by the end of this pass). */
static int write_exit_threads(struct batch *b, ct_store *store)
{
    int rc = 0;
    for (size_t i = 0; i < b->exit_threads.len && rc == 0; i++) {
        struct ct_exit_thread_row *x = &b->exit_threads.items[i];
        uint64_t id = 0;
        if (u64map_get(&b->tid_thread, (uint64_t)x->tid, &id))
            x->thread = (int64_t)id;
        else
            b->counts.exit_unregistered++;
        rc = ct_store_exit_thread(store, x);
    }
    b->exit_threads.len = 0;
    return rc;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int batch_write(struct batch *b, ct_store *store, struct symbolizer *sym, bool final)
{
    int rc = 0;
    for (size_t i = 0; sym != NULL && i < b->stacks.len && rc == 0; i++) {
        struct pending_stack *s = &b->stacks.items[i];
        /* Each captured ip expands into its logical frames (inlined calls), preceded
         * by any frames a tail call removed between it and the ip inside it. */
        int64_t frames[MAX_FRAMES * 2 * SYM_MAX_LOGICAL];
        int depth = 0;
        for (int f = 0; f < s->depth && rc == 0; f++) {
            int t = f > 0 ? symbolizer_tail_frames(sym, store, s->ips[f], s->ips[f - 1],
                                                   frames + depth)
                          : 0;
            if (t < 0)
                rc = -1;
            else
                depth += t;
            int n = rc == 0 ? symbolizer_frames(sym, store, s->ips[f], frames + depth) : 0;
            if (n == 0)
                rc = -1;
            depth += n;
        }
        if (rc == 0)
            rc = ct_store_stack(store, (int64_t)s->hash, depth, frames);
    }
    /* Handed contexts first: summary retention keeps them (retain_keep). */
    if (rc == 0)
        rc = resolve_handed(b, store);
    if (b->retain != NULL) {
        for (size_t i = 0; i < b->threads.len; i++)
            if (b->threads.items[i].exit_ns != 0)
                retain_thread_exit(b->retain, (uint32_t)b->threads.items[i].id);
        if (rc == 0)
            rc = retain_pass(b->retain, b->ctx.items, b->ctx.len, b->waits.items, b->waits.len,
                             store, now_ns(), final);
    } else {
        for (size_t i = 0; i < b->ctx.len && rc == 0; i++)
            rc = ct_store_context(store, &b->ctx.items[i]);
        for (size_t i = 0; i < b->waits.len && rc == 0; i++)
            rc = ct_store_wait(store, &b->waits.items[i]);
    }
    for (size_t i = 0; i < b->threads.len && rc == 0; i++)
        rc = ct_store_thread(store, &b->threads.items[i]);
    if (rc == 0)
        rc = write_exit_threads(b, store);
    if (rc == 0 && b->exit_reach.len > 0)
        rc = ct_store_exit_reach(store, b->exit_reach.items, b->exit_reach.len);
    b->exit_reach.len = 0;

    for (size_t i = 0; i < b->ctx.len; i++)
        free(b->ctx.items[i].reason);
    b->ctx.len = b->threads.len = b->waits.len = 0;
    if (sym != NULL)
        b->stacks.len = 0;
    u64map_clear(&b->ctx_index);
    u64map_clear(&b->thread_index);
    u64map_clear(&b->wait_index);
    return rc;
}

void batch_live(const struct batch *b, const struct u64map **addr, const struct u64map **parent)
{
    *addr = &b->live_addr;
    *parent = &b->live_parent;
}

size_t batch_spans(const struct batch *b, struct span *out, size_t max)
{
    /* The arrays that hold context addresses: the live map's keys, and the words threads
     * were handed (resolved, but still in the buffer). */
    const struct {
        const void *p;
        size_t bytes;
    } arrays[] = {
        {b->live_addr.keys, b->live_addr.cap * sizeof *b->live_addr.keys},
        {b->handed.items, b->handed.cap * sizeof *b->handed.items},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays && n < max; i++)
        if (arrays[i].p != NULL)
            out[n++] = (struct span){(uintptr_t)arrays[i].p,
                                     (uintptr_t)arrays[i].p + arrays[i].bytes};
    return n;
}
