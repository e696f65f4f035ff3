/*
 * test_group.c — ctx_group_*: structured concurrency in the manner of Go's
 * golang.org/x/sync/errgroup.WithContext.
 */
#include "testutil.h"

static int key;

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
    };
    return cmocka_run_group_tests_name("group", tests, NULL, NULL);
}
