/*
 * test_stress.c — many threads at once on shared trees (ctx.h: "every function is
 * thread-safe"). Each round the main thread creates parents (some with timeouts that
 * fire), workers derive children from them and through value contexts, cancel, wait,
 * register and stop callbacks and drop children without cancelling, a canceller thread
 * cancels children it did not create, and waiters block on the parents — while the main
 * thread cancels the parents. Invariants: a child of a done parent is born done; when
 * the parents are cancelled every descendant is done; every callback not stopped runs
 * exactly once; every value destructor runs once. Time-bounded; must be TSan-clean.
 */
#include "testutil.h"

#include <poll.h>

enum {
    NPARENTS = 8,
    NWORKERS = 4,
    NWAITERS = 2,
    MAXKIDS = 1024,
    MAXAFTER = 512,
    POOL = 256,
};
#define RUN_NS (1500 * CTX_MILLISECOND)

static int key;

static ctx_t *parents[NPARENTS], *roots[NPARENTS];
static atomic_int parents_done, stop;
static pthread_barrier_t round_start, round_end;

static atomic_int failures;
static char first_failure[256];
static atomic_flag failure_written = ATOMIC_FLAG_INIT;

static void failf(const char *what, int a, int b)
{
    atomic_fetch_add(&failures, 1);
    if (!atomic_flag_test_and_set(&failure_written))
        snprintf(first_failure, sizeof first_failure, "%s (%d, %d)", what, a, b);
}

static atomic_int values_made, values_destroyed;

static void destroy_value(void *v)
{
    (void)v;
    atomic_fetch_add(&values_destroyed, 1);
}

/* Children other threads may cancel; the pool owns one reference to each. */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static ctx_t *pool[POOL];
static int npool;

static void pool_put(ctx_t *c)
{
    pthread_mutex_lock(&pool_mu);
    if (npool < POOL)
        pool[npool++] = ctx_ref(c);
    pthread_mutex_unlock(&pool_mu);
}

static void *canceller(void *arg)
{
    uint64_t rng = (uintptr_t)arg | 1;
    while (!atomic_load(&stop)) {
        pthread_mutex_lock(&pool_mu);
        if (npool > 0)
            ctx_cancel_cause(pool[rng_next(&rng) % (uint64_t)npool], EPIPE, "canceller");
        pthread_mutex_unlock(&pool_mu);
        sched_yield();
    }
    return NULL;
}

struct slot {
    atomic_int runs;
};

static void after_fn(void *arg)
{
    atomic_fetch_add(&((struct slot *)arg)->runs, 1);
}

struct worker {
    uint64_t rng;
    ctx_t *kids[MAXKIDS];
    int nkids;
    struct slot slots[MAXAFTER];
    bool stopped[MAXAFTER];
    int nslots;
};

/* Derive a child of `p`, checking a child of a done parent is born done. */
static ctx_t *derive(struct worker *w, ctx_t *p)
{
    bool parent_was_done = ctx_is_done(p);
    int parent_err = ctx_err(p);
    ctx_t *c;
    switch (rng_next(&w->rng) % 4) {
    case 0:
        c = ctx_with_cancel(p);
        break;
    case 1:
        c = ctx_with_timeout(p, (int64_t)(rng_next(&w->rng) % 5000) * CTX_MICROSECOND);
        break;
    case 2:
        c = ctx_with_deadline(p, ctx_now() + VERY_LONG_NS);
        break;
    default: {
        ctx_t *v = ctx_with_value(p, &key, w, destroy_value);
        if (!v) {
            failf("ctx_with_value failed", errno, 0);
            return NULL;
        }
        atomic_fetch_add(&values_made, 1);
        c = ctx_with_cancel(v);
        if (c && ctx_value(c, &key) != w)
            failf("value lost", 0, 0);
        ctx_unref(v);
    }
    }
    if (!c) {
        failf("derive failed", errno, 0);
        return NULL;
    }
    if (parent_was_done) {
        if (!ctx_is_done(c))
            failf("child of a done parent born live", parent_err, 0);
        else if (ctx_err(c) != parent_err)
            failf("child of a done parent born with another error", ctx_err(c), parent_err);
    }
    return c;
}

static void one_op(struct worker *w)
{
    uint64_t r = rng_next(&w->rng);
    ctx_t *p = parents[r % NPARENTS];
    int op = (int)((r >> 8) % 16);
    ctx_t *own = w->nkids ? w->kids[(r >> 16) % (uint64_t)w->nkids] : NULL;
    if (op < 7 || !own) { /* derive from a shared parent or from an own child */
        if (w->nkids >= MAXKIDS)
            return;
        ctx_t *c = derive(w, (op < 5 || !own) ? p : own);
        if (c)
            w->kids[w->nkids++] = c;
    } else if (op < 9) {
        ctx_cancel(own);
        if (!ctx_is_done(own))
            failf("cancelled child not done", 0, 0);
    } else if (op < 11) {
        if (w->nslots < MAXAFTER) {
            int i = w->nslots++;
            ctx_after_t *a = ctx_after_func(own, after_fn, &w->slots[i]);
            if (!a)
                failf("ctx_after_func failed", errno, 0);
            w->stopped[i] = a && (r >> 40) % 2 ? ctx_after_stop(a) : false;
        }
    } else if (op < 12) {
        pool_put(own);
    } else if (op < 14) {
        int rc = ctx_wait(own, (int64_t)((r >> 24) % 500) * CTX_MICROSECOND);
        if (rc == 0 && !ctx_is_done(own))
            failf("ctx_wait returned 0 on a live context", 0, 0);
        else if (rc != 0 && rc != ETIMEDOUT)
            failf("ctx_wait returned", rc, 0);
    } else if (op < 15) { /* drop it uncancelled: the lost cancel the parent reaps */
        for (int i = 0; i < w->nkids; i++)
            if (w->kids[i] == own) {
                w->kids[i] = w->kids[--w->nkids];
                break;
            }
        ctx_unref(own);
    } else {
        int err = ctx_err(own);
        if (err != 0 && err != CTX_CANCELED && err != CTX_DEADLINE_EXCEEDED)
            failf("bad ctx_err", err, 0);
    }
}

static void *worker(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        pthread_barrier_wait(&round_start);
        if (atomic_load(&stop))
            break;
        while (!atomic_load(&parents_done))
            one_op(w);
        for (int i = 0; i < 50; i++) /* all parents are done now */
            one_op(w);
        for (int i = 0; i < w->nkids; i++)
            if (!ctx_is_done(w->kids[i]))
                failf("descendant of a cancelled parent is live", i, ctx_err(w->kids[i]));
        for (int i = 0; i < w->nkids; i++)
            ctx_release(w->kids[i]);
        w->nkids = 0;
        for (int i = 0; i < w->nslots; i++) {
            int want = w->stopped[i] ? 0 : 1;
            int64_t end = ctx_now() + QUIESCENT_NS;
            while (atomic_load(&w->slots[i].runs) < want && ctx_now() < end)
                sleep_ns(100 * CTX_MICROSECOND);
            if (atomic_load(&w->slots[i].runs) != want)
                failf("callback runs", atomic_load(&w->slots[i].runs), want);
        }
        pthread_barrier_wait(&round_end);
        for (int i = 0; i < w->nslots; i++) /* a stopped callback must never run */
            if (w->stopped[i] && atomic_load(&w->slots[i].runs) != 0)
                failf("stopped callback ran", i, 0);
        memset(w->slots, 0, sizeof w->slots);
        w->nslots = 0;
    }
    return NULL;
}

static void *waiter(void *arg)
{
    uint64_t rng = (uintptr_t)arg | 1;
    for (;;) {
        pthread_barrier_wait(&round_start);
        if (atomic_load(&stop))
            break;
        ctx_t *p = parents[rng_next(&rng) % NPARENTS];
        if (ctx_wait(p, -1) != 0 || !ctx_is_done(p))
            failf("ctx_wait(-1) returned early", 0, 0);
        int fd = ctx_fd(parents[rng_next(&rng) % NPARENTS]);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (fd < 0 || poll(&pfd, 1, (int)(QUIESCENT_NS / CTX_MILLISECOND)) != 1)
            failf("ctx_fd of a cancelled parent not readable", fd, errno);
        pthread_barrier_wait(&round_end);
    }
    return NULL;
}

/* Concurrent derivation, cancellation, waiting and callbacks on shared trees. */
static void StressSharedTrees(void **state)
{
    (void)state;
    static struct worker workers[NWORKERS];
    pthread_t wt[NWORKERS], at[NWAITERS], ct;
    pthread_barrier_init(&round_start, NULL, 1 + NWORKERS + NWAITERS);
    pthread_barrier_init(&round_end, NULL, 1 + NWORKERS + NWAITERS);
    for (int i = 0; i < NWORKERS; i++) {
        workers[i].rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
        wt[i] = spawn(worker, &workers[i]);
    }
    for (int i = 0; i < NWAITERS; i++)
        at[i] = spawn(waiter, (void *)(uintptr_t)(i + 77));
    ct = spawn(canceller, (void *)(uintptr_t)99);

    uint64_t rng = 4242;
    int64_t end = ctx_now() + RUN_NS;
    int rounds = 0;
    while (ctx_now() < end) {
        for (int i = 0; i < NPARENTS; i++) {
            switch (i % 3) {
            case 0:
                roots[i] = ctx_with_cancel(ctx_background());
                parents[i] = ctx_ref(roots[i]);
                break;
            case 1: /* a timeout that fires during the round */
                roots[i] = ctx_with_timeout(ctx_background(),
                                            (int64_t)(rng_next(&rng) % 3000) * CTX_MICROSECOND);
                parents[i] = ctx_ref(roots[i]);
                break;
            default: /* workers derive through a value context */
                roots[i] = ctx_with_cancel(ctx_background());
                parents[i] = ctx_with_value(roots[i], &key, NULL, NULL);
            }
        }
        atomic_store(&parents_done, 0);
        pthread_barrier_wait(&round_start);
        for (int i = 0; i < NPARENTS; i++) {
            sleep_ns((int64_t)(rng_next(&rng) % 1000) * CTX_MICROSECOND);
            ctx_cancel_cause(roots[i], ECONNRESET, "round over");
        }
        atomic_store(&parents_done, 1);
        pthread_barrier_wait(&round_end);
        pthread_mutex_lock(&pool_mu);
        for (int i = 0; i < npool; i++) {
            if (!ctx_is_done(pool[i]))
                failf("pooled child live after its parent was cancelled", i, 0);
            ctx_unref(pool[i]);
        }
        npool = 0;
        pthread_mutex_unlock(&pool_mu);
        for (int i = 0; i < NPARENTS; i++) {
            ctx_release(parents[i]);
            ctx_release(roots[i]);
        }
        rounds++;
    }
    atomic_store(&stop, 1);
    pthread_barrier_wait(&round_start);
    for (int i = 0; i < NWORKERS; i++)
        join(wt[i]);
    for (int i = 0; i < NWAITERS; i++)
        join(at[i]);
    join(ct);
    pthread_barrier_destroy(&round_start);
    pthread_barrier_destroy(&round_end);

    int64_t deadline = ctx_now() + QUIESCENT_NS;
    while (atomic_load(&values_destroyed) < atomic_load(&values_made) && ctx_now() < deadline)
        sleep_ns(CTX_MILLISECOND);
    print_message("%d rounds, %d value contexts\n", rounds, atomic_load(&values_made));
    if (atomic_load(&failures))
        fail_msg("%d invariant failures; first: %s", atomic_load(&failures), first_failure);
    assert_true(rounds > 0);
    assert_int_equal(atomic_load(&values_destroyed), atomic_load(&values_made));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(StressSharedTrees),
    };
    return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
