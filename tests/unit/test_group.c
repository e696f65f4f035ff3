/*
 * test_group.c — ctx_group_*: structured concurrency in the manner of Go's
 * golang.org/x/sync/errgroup.WithContext.
 */
#include "testutil.h"

static int key;

enum { LIMIT = 10 }; /* errgroup TestGoLimit's limit */

struct work {
    int ret;               /* what fn returns */
    bool wait_done;        /* block (bounded) until the group context is done first */
    atomic_int ran;
    atomic_int live_at_start; /* 1 if the group ctx was live when fn started */
    atomic_int err, cause;    /* ctx_err / ctx_cause seen after waiting */
    atomic_int value_ok;
    pthread_t caller;
    atomic_int other_thread;
};

static int work_fn(ctx_t *ctx, void *arg)
{
    struct work *w = arg;
    atomic_store(&w->other_thread, !pthread_equal(pthread_self(), w->caller));
    atomic_store(&w->live_at_start, !ctx_is_done(ctx));
    atomic_store(&w->value_ok, ctx_value(ctx, &key) == &key);
    if (w->wait_done) {
        ctx_wait(ctx, QUIESCENT_NS);
        atomic_store(&w->err, ctx_err(ctx));
        atomic_store(&w->cause, ctx_cause(ctx, NULL));
    }
    atomic_fetch_add(&w->ran, 1);
    return w->ret;
}

/* errgroup: all fns return 0 → wait returns 0; each ran once on its own thread. */
static void GroupAllZero(void **state)
{
    (void)state;
    enum { N = 16 };
    ctx_t *parent = ctx_with_value(ctx_background(), &key, &key, NULL);
    ctx_group_t *g = ctx_group_new(parent);
    assert_non_null(g);
    ctx_t *gc = ctx_group_ctx(g);
    assert_non_null(gc);
    assert_live(gc);
    struct work w[N];
    memset(w, 0, sizeof w);
    for (int i = 0; i < N; i++) {
        w[i].caller = pthread_self();
        assert_int_equal(ctx_group_go(g, work_fn, &w[i]), 0);
    }
    assert_int_equal(ctx_group_wait(g), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&w[i].ran), 1);
        assert_int_equal(atomic_load(&w[i].live_at_start), 1);
        assert_int_equal(atomic_load(&w[i].value_ok), 1);
        assert_int_equal(atomic_load(&w[i].other_thread), 1);
    }
    assert_live(parent);
    ctx_release(parent);
}

/* errgroup: the first nonzero return cancels the group with that cause; wait returns it. */
static void GroupFirstErrorCancels(void **state)
{
    (void)state;
    ctx_group_t *g = ctx_group_new(ctx_background());
    struct work waiters[4], failing = {.ret = EPIPE};
    memset(waiters, 0, sizeof waiters);
    for (int i = 0; i < 4; i++) {
        waiters[i].wait_done = true;
        waiters[i].ret = (i == 0) ? EIO : 0; /* returns only after the group is done */
        assert_int_equal(ctx_group_go(g, work_fn, &waiters[i]), 0);
    }
    assert_int_equal(ctx_group_go(g, work_fn, &failing), 0);
    assert_int_equal(ctx_group_wait(g), EPIPE);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(atomic_load(&waiters[i].err), CTX_CANCELED);
        assert_int_equal(atomic_load(&waiters[i].cause), EPIPE);
    }
}

/* errgroup: a group with no work waits to 0. */
static void GroupEmpty(void **state)
{
    (void)state;
    ctx_group_t *g = ctx_group_new(ctx_background());
    assert_non_null(g);
    assert_int_equal(ctx_group_wait(g), 0);
}

/* The group context is derived from the parent: a parent cancel reaches the work. */
static void GroupParentCancelReachesWork(void **state)
{
    (void)state;
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_group_t *g = ctx_group_new(parent);
    struct work w = {.wait_done = true};
    assert_int_equal(ctx_group_go(g, work_fn, &w), 0);
    sleep_ns(10 * CTX_MILLISECOND);
    ctx_cancel_cause(parent, ESHUTDOWN, "shutdown");
    assert_int_equal(ctx_group_wait(g), 0); /* fn returned 0 */
    assert_int_equal(atomic_load(&w.err), CTX_CANCELED);
    assert_int_equal(atomic_load(&w.cause), ESHUTDOWN);
    ctx_release(parent);
}

/* A group under a done parent: its context is born done. */
static void GroupUnderDoneParent(void **state)
{
    (void)state;
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_cancel(parent);
    ctx_group_t *g = ctx_group_new(parent);
    assert_non_null(g);
    ctx_release(parent); /* the group holds its own reference */
    struct work w = {0};
    assert_int_equal(ctx_group_go(g, work_fn, &w), 0);
    assert_int_equal(ctx_group_wait(g), 0);
    assert_int_equal(atomic_load(&w.live_at_start), 0);
}

static int ref_fn(ctx_t *ctx, void *arg)
{
    *(ctx_t **)arg = ctx_ref(ctx);
    return 0;
}

/* Contract: wait cancels the group's context; a ctx_ref'd group context outlives it. */
static void GroupWaitCancelsContext(void **state)
{
    (void)state;
    ctx_group_t *g = ctx_group_new(ctx_background());
    ctx_t *kept = NULL;
    assert_int_equal(ctx_group_go(g, ref_fn, &kept), 0);
    assert_int_equal(ctx_group_wait(g), 0);
    assert_non_null(kept);
    assert_done(kept, CTX_CANCELED);
    ctx_unref(kept);
}

/* Contract: NULL parent → NULL/EINVAL; a NULL fn → EINVAL. */
static void GroupBadInput(void **state)
{
    (void)state;
    errno = 0;
    assert_null(ctx_group_new(NULL));
    assert_int_equal(errno, EINVAL);
    ctx_group_t *g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_go(g, NULL, NULL), EINVAL);
    assert_int_equal(ctx_group_wait(g), 0);
}

static int ret_arg_fn(ctx_t *ctx, void *arg)
{
    (void)ctx;
    return (int)(intptr_t)arg;
}

/* errgroup: only the first nonzero code counts, whatever the others return later. */
static void GroupReturnsFirstError(void **state)
{
    (void)state;
    ctx_group_t *g = ctx_group_new(ctx_background());
    ctx_t *gc = ctx_group_ctx(g);
    assert_int_equal(ctx_group_go(g, ret_arg_fn, (void *)(intptr_t)ENOENT), 0);
    assert_int_equal(ctx_wait(gc, QUIESCENT_NS), 0); /* ENOENT has been recorded */
    assert_int_equal(ctx_err(gc), CTX_CANCELED);
    assert_int_equal(ctx_cause(gc, NULL), ENOENT);
    for (int i = 0; i < 8; i++)
        assert_int_equal(ctx_group_go(g, ret_arg_fn, (void *)(intptr_t)EIO), 0);
    assert_int_equal(ctx_group_wait(g), ENOENT);
}

struct nested {
    ctx_group_t *g;
    atomic_int depth_reached;
};

static int nested_fn(ctx_t *ctx, void *arg)
{
    struct nested *n = arg;
    (void)ctx;
    int d = atomic_fetch_add(&n->depth_reached, 1) + 1;
    if (d < 5 && ctx_group_go(n->g, nested_fn, n) != 0)
        return EAGAIN;
    sleep_ns(CTX_MILLISECOND); /* let wait reach the join of the earlier threads */
    return d == 5 ? ERANGE : 0;
}

/* errgroup: work may start more work in the group; wait joins it all. */
static void GroupGoFromInsideWork(void **state)
{
    (void)state;
    struct nested n = {.g = ctx_group_new(ctx_background())};
    assert_int_equal(ctx_group_go(n.g, nested_fn, &n), 0);
    assert_int_equal(ctx_group_wait(n.g), ERANGE);
    assert_int_equal(atomic_load(&n.depth_reached), 5);
}

/* ---- errgroup's SetLimit / TryGo ----------------------------------------------------- */

/* A function that holds its slot until `gate` is done (Go's tests block on a channel). */
struct gated {
    ctx_t *gate;
    atomic_int started, finished;
};

static int gated_fn(ctx_t *ctx, void *arg)
{
    (void)ctx;
    struct gated *g = arg;
    atomic_fetch_add(&g->started, 1);
    ctx_wait(g->gate, QUIESCENT_NS);
    atomic_fetch_add(&g->finished, 1);
    return 0;
}

/* errgroup's TestTryGo: with a limit of 42, 42 TryGo calls start and the 43rd does not;
 * once they return a slot is free again; a limit of 1 admits one; a limit of 0 none. */
static void TryGo(void **state)
{
    (void)state;
    enum { N = 42 };
    struct gated w = {.gate = ctx_with_cancel(ctx_background())};
    ctx_group_t *g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_set_limit(g, N), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(ctx_group_try_go(g, gated_fn, &w), 0);
    assert_int_equal(ctx_group_try_go(g, gated_fn, &w), EAGAIN);
    ctx_cancel(w.gate);
    assert_true(wait_for_count(&w.finished, N));
    /* "TryGo should succeed after all goroutines": the slots come back as fns return
     * (bounded retry: the last thread may still be between its return and the slot). */
    int rc = EAGAIN;
    for (int64_t end = ctx_now() + QUIESCENT_NS; rc == EAGAIN && ctx_now() < end;
         sleep_ns(100 * CTX_MICROSECOND))
        rc = ctx_group_try_go(g, gated_fn, &w);
    assert_int_equal(rc, 0);
    assert_int_equal(ctx_group_wait(g), 0);
    assert_int_equal(atomic_load(&w.started), N + 1);
    ctx_release(w.gate);

    /* Switch limit (a fresh group: ctx_group_wait frees the group, Go's Wait does not). */
    struct gated one = {.gate = ctx_with_cancel(ctx_background())};
    g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_set_limit(g, 1), 0);
    assert_int_equal(ctx_group_try_go(g, gated_fn, &one), 0);
    assert_int_equal(ctx_group_try_go(g, gated_fn, &one), EAGAIN);
    ctx_cancel(one.gate);
    assert_int_equal(ctx_group_wait(g), 0);
    ctx_release(one.gate);

    /* Block all calls. */
    g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_set_limit(g, 0), 0);
    for (int i = 0; i < 1 << 10; i++)
        assert_int_equal(ctx_group_try_go(g, ret_arg_fn, NULL), EAGAIN);
    assert_int_equal(ctx_group_wait(g), 0);
}

struct limit_probe {
    atomic_int active, max_seen;
};

static int limit_probe_fn(ctx_t *ctx, void *arg)
{
    (void)ctx;
    struct limit_probe *p = arg;
    int n = atomic_fetch_add(&p->active, 1) + 1;
    int m = atomic_load(&p->max_seen);
    while (n > m && !atomic_compare_exchange_weak(&p->max_seen, &m, n))
        ;
    sleep_ns(CTX_MILLISECOND); /* give the others a chance to be active too */
    atomic_fetch_sub(&p->active, 1);
    return n > LIMIT ? ERANGE : 0;
}

/* errgroup's TestGoLimit: with a limit of 10, Go blocks so that no more than 10 run. */
static void GoLimit(void **state)
{
    (void)state;
    struct limit_probe p = {0};
    ctx_group_t *g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_set_limit(g, LIMIT), 0);
    /* Go loops 1<<10 times; 1<<8 keeps the unjoined threads within TSan's table. */
    for (int i = 0; i <= 1 << 8; i++)
        assert_int_equal(ctx_group_go(g, limit_probe_fn, &p), 0);
    assert_int_equal(ctx_group_wait(g), 0);
    assert_true(atomic_load(&p.max_seen) <= LIMIT);
    assert_true(atomic_load(&p.max_seen) >= 1);
}

struct blocked_go {
    ctx_group_t *g;
    struct gated *w;
    atomic_int returned;
};

static void *blocked_go_main(void *arg)
{
    struct blocked_go *b = arg;
    int rc = ctx_group_go(b->g, gated_fn, b->w);
    atomic_store(&b->returned, rc == 0 ? 1 : -1);
    return NULL;
}

/* Contract: at the limit, ctx_group_go blocks until a running fn returns. */
static void GoBlocksForASlot(void **state)
{
    (void)state;
    struct gated w = {.gate = ctx_with_cancel(ctx_background())};
    ctx_group_t *g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_set_limit(g, 1), 0);
    assert_int_equal(ctx_group_go(g, gated_fn, &w), 0);
    struct blocked_go b = {.g = g, .w = &w};
    pthread_t t = spawn(blocked_go_main, &b);
    sleep_ns(20 * CTX_MILLISECOND);
    assert_int_equal(atomic_load(&b.returned), 0); /* still waiting for the slot */
    assert_int_equal(atomic_load(&w.started), 1);
    ctx_cancel(w.gate); /* the first returns; the second starts */
    join(t);
    assert_int_equal(atomic_load(&b.returned), 1);
    assert_int_equal(ctx_group_wait(g), 0);
    assert_int_equal(atomic_load(&w.finished), 2);
    ctx_release(w.gate);
}

/* errgroup: "the limit must not be modified while any goroutines in the group are
 * active" (SetLimit panics): EBUSY here, and the limit stays as it was. */
static void SetLimitWhileActiveIsEbusy(void **state)
{
    (void)state;
    struct gated w = {.gate = ctx_with_cancel(ctx_background())};
    ctx_group_t *g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_set_limit(g, 1), 0);
    assert_int_equal(ctx_group_go(g, gated_fn, &w), 0);
    assert_int_equal(ctx_group_set_limit(g, 5), EBUSY);
    assert_int_equal(ctx_group_set_limit(g, -1), EBUSY);
    assert_int_equal(ctx_group_try_go(g, gated_fn, &w), EAGAIN); /* still 1 */
    ctx_cancel(w.gate);
    assert_int_equal(ctx_group_wait(g), 0);
    ctx_release(w.gate);
}

/* A negative limit removes it; NULL group → EINVAL for both calls. */
static void LimitBadInputAndNoLimit(void **state)
{
    (void)state;
    assert_int_equal(ctx_group_set_limit(NULL, 1), EINVAL);
    assert_int_equal(ctx_group_try_go(NULL, ret_arg_fn, NULL), EINVAL);
    ctx_group_t *g = ctx_group_new(ctx_background());
    assert_int_equal(ctx_group_try_go(g, NULL, NULL), EINVAL);
    assert_int_equal(ctx_group_set_limit(g, 0), 0);
    assert_int_equal(ctx_group_set_limit(g, -7), 0);
    struct gated w = {.gate = ctx_with_cancel(ctx_background())};
    for (int i = 0; i < 16; i++)
        assert_int_equal(ctx_group_try_go(g, gated_fn, &w), 0);
    ctx_cancel(w.gate);
    assert_int_equal(ctx_group_wait(g), 0);
    ctx_release(w.gate);
}

/* errgroup's TestCancelCause, with TryGo: the group context's cause is the first error,
 * or CTX_CANCELED (Go: Canceled) when every fn succeeded. */
static void TryGoCancelCause(void **state)
{
    (void)state;
    static const struct {
        int errs[2], n, want;
    } cases[] = {{{0}, 0, 0}, {{0}, 1, 0}, {{EDOM}, 1, EDOM}, {{EDOM, 0}, 2, EDOM}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ctx_group_t *g = ctx_group_new(ctx_background());
        ctx_t *gc = ctx_ref(ctx_group_ctx(g));
        for (int i = 0; i < cases[k].n; i++)
            assert_int_equal(ctx_group_try_go(g, ret_arg_fn,
                                              (void *)(intptr_t)cases[k].errs[i]), 0);
        assert_int_equal(ctx_group_wait(g), cases[k].want);
        assert_int_equal(ctx_cause(gc, NULL), cases[k].want ? cases[k].want : CTX_CANCELED);
        ctx_unref(gc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(GroupAllZero),
        cmocka_unit_test(GroupFirstErrorCancels),
        cmocka_unit_test(GroupEmpty),
        cmocka_unit_test(GroupParentCancelReachesWork),
        cmocka_unit_test(GroupUnderDoneParent),
        cmocka_unit_test(GroupWaitCancelsContext),
        cmocka_unit_test(GroupBadInput),
        cmocka_unit_test(GroupReturnsFirstError),
        cmocka_unit_test(GroupGoFromInsideWork),
        cmocka_unit_test(TryGo),
        cmocka_unit_test(GoLimit),
        cmocka_unit_test(GoBlocksForASlot),
        cmocka_unit_test(SetLimitWhileActiveIsEbusy),
        cmocka_unit_test(LimitBadInputAndNoLimit),
        cmocka_unit_test(TryGoCancelCause),
    };
    return cmocka_run_group_tests_name("group", tests, NULL, NULL);
}
