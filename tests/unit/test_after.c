/*
 * test_after.c — ctx_after_func / ctx_after_stop: Go 1.21's context.AfterFunc and its
 * stop function.
 */
#include "testutil.h"

static int key;

struct probe {
    atomic_int runs;
    atomic_ulong thread; /* pthread_self() of the last run */
    ctx_t *ctx;          /* if set, ctx_err(ctx) is recorded from inside fn */
    atomic_int err_seen;
};

static void probe_fn(void *arg)
{
    struct probe *p = arg;
    atomic_store(&p->thread, (unsigned long)pthread_self());
    if (p->ctx)
        atomic_store(&p->err_seen, ctx_err(p->ctx));
    atomic_fetch_add(&p->runs, 1);
}

/* Let any callback that wrongly runs have the time to do it. */
static void settle(void)
{
    sleep_ns(20 * CTX_MILLISECOND);
}

struct canceller {
    ctx_t *c;
    atomic_ulong thread;
};

static void *cancel_thread(void *arg)
{
    struct canceller *k = arg;
    atomic_store(&k->thread, (unsigned long)pthread_self());
    ctx_cancel(k->c);
    return NULL;
}

/* Go TestAfterFuncCalledAfterCancel: runs once, after the cancel, on a library thread. */
static void AfterFunc(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    struct probe p = {.ctx = c};
    ctx_after_t *a = ctx_after_func(c, probe_fn, &p);
    assert_non_null(a);
    settle();
    assert_int_equal(atomic_load(&p.runs), 0);
    struct canceller k = {.c = c};
    pthread_t t = spawn(cancel_thread, &k);
    join(t);
    assert_true(wait_for_count(&p.runs, 1));
    settle();
    assert_int_equal(atomic_load(&p.runs), 1);
    assert_int_equal(atomic_load(&p.err_seen), CTX_CANCELED);
    unsigned long ran_on = atomic_load(&p.thread);
    assert_false(pthread_equal((pthread_t)ran_on, pthread_self()));
    assert_false(pthread_equal((pthread_t)ran_on, (pthread_t)atomic_load(&k.thread)));
    assert_false(ctx_after_stop(a)); /* stop after run: false */
    ctx_release(c);
}

/* Go TestAfterFuncCalledImmediately: promptly when the context is already done. */
static void AfterFuncRunsPromptlyWhenDone(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_cancel(c);
    ctx_t *v = ctx_with_value(c, &key, NULL, NULL);
    struct probe p = {0}, q = {0};
    assert_non_null(ctx_after_func(c, probe_fn, &p));
    assert_non_null(ctx_after_func(v, probe_fn, &q));
    assert_true(wait_for_count(&p.runs, 1));
    assert_true(wait_for_count(&q.runs, 1));
    settle();
    assert_int_equal(atomic_load(&p.runs), 1);
    assert_int_equal(atomic_load(&q.runs), 1);
    ctx_release(v);
    ctx_release(c);
}

/* Go TestAfterFuncNotCalledAfterStop: stop first → true, and fn never runs. */
static void AfterFuncStopBeforeRun(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    struct probe p = {0};
    ctx_after_t *a = ctx_after_func(c, probe_fn, &p);
    assert_true(ctx_after_stop(a));
    assert_false(ctx_after_stop(a)); /* already stopped */
    ctx_cancel(c);
    settle();
    assert_int_equal(atomic_load(&p.runs), 0);
    assert_false(ctx_after_stop(a));
    ctx_release(c);
}

/* Go TestAfterFuncStopAfterRun (stop returns false once f has run). */
static void AfterFuncStopAfterRun(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), SHORT_NS);
    struct probe p = {.ctx = c};
    ctx_after_t *a = ctx_after_func(c, probe_fn, &p);
    assert_true(wait_for_count(&p.runs, 1));
    assert_int_equal(atomic_load(&p.err_seen), CTX_DEADLINE_EXCEEDED);
    assert_false(ctx_after_stop(a));
    assert_false(ctx_after_stop(a));
    assert_int_equal(atomic_load(&p.runs), 1);
    ctx_release(c);
}

/* Contract: for a context that can never be done, fn never runs (stop prevents it). */
static void AfterFuncNeverDone(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *w = ctx_without_cancel(p);
    ctx_t *bv = ctx_with_value(ctx_background(), &key, NULL, NULL);
    ctx_t *list[] = {ctx_background(), ctx_todo(), w, bv};
    struct probe probes[4] = {0};
    ctx_after_t *a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = ctx_after_func(list[i], probe_fn, &probes[i]);
        assert_non_null(a[i]);
    }
    ctx_cancel(p);
    settle();
    for (int i = 0; i < 4; i++) {
        assert_int_equal(atomic_load(&probes[i].runs), 0);
        assert_true(ctx_after_stop(a[i]));
    }
    ctx_release(bv);
    ctx_release(w);
    ctx_release(p);
}

/* Contract: NULL context or NULL fn → NULL with errno EINVAL. */
static void AfterFuncBadInput(void **state)
{
    (void)state;
    struct probe p = {0};
    errno = 0;
    assert_null(ctx_after_func(NULL, probe_fn, &p));
    assert_int_equal(errno, EINVAL);
    ctx_t *c = ctx_with_cancel(ctx_background());
    errno = 0;
    assert_null(ctx_after_func(c, NULL, &p));
    assert_int_equal(errno, EINVAL);
    ctx_release(c);
}

/* Contract: reaches callbacks registered on descendants (value and cancel children). */
static void AfterFuncOnDescendants(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &key, NULL, NULL);
    ctx_t *c = ctx_with_timeout(v, VERY_LONG_NS);
    struct probe pv = {0}, pc = {.ctx = c};
    assert_non_null(ctx_after_func(v, probe_fn, &pv));
    assert_non_null(ctx_after_func(c, probe_fn, &pc));
    ctx_cancel_cause(p, EPIPE, NULL);
    assert_true(wait_for_count(&pv.runs, 1));
    assert_true(wait_for_count(&pc.runs, 1));
    assert_int_equal(atomic_load(&pc.err_seen), CTX_CANCELED);
    ctx_release(c);
    ctx_release(v);
    ctx_release(p);
}

/* Many callbacks on one context: each runs exactly once. */
static void AfterFuncManyRunOnce(void **state)
{
    (void)state;
    enum { N = 200 };
    ctx_t *c = ctx_with_cancel(ctx_background());
    static struct probe p[N];
    memset(p, 0, sizeof p);
    ctx_after_t *a[N];
    for (int i = 0; i < N; i++)
        a[i] = ctx_after_func(c, probe_fn, &p[i]);
    int stopped = 0;
    for (int i = 0; i < N; i += 4)
        stopped += ctx_after_stop(a[i]);
    assert_int_equal(stopped, (N + 3) / 4);
    ctx_cancel(c);
    for (int i = 0; i < N; i++)
        if (i % 4)
            assert_true(wait_for_count(&p[i].runs, 1));
    settle();
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&p[i].runs), i % 4 ? 1 : 0);
    ctx_release(c);
}

struct pair {
    atomic_int second_ran, first_saw_second;
};

static void first_fn(void *arg)
{
    struct pair *p = arg;
    atomic_store(&p->first_saw_second, wait_for_count(&p->second_ran, 1) ? 1 : -1);
}

static void second_fn(void *arg)
{
    atomic_store(&((struct pair *)arg)->second_ran, 1);
}

/* Contract: callbacks never block each other (one waits for the other to run). */
static void AfterFuncCallbacksDoNotBlockEachOther(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *d = ctx_with_cancel(ctx_background());
    struct pair same = {0}, other = {0};
    ctx_after_func(c, first_fn, &same);
    ctx_after_func(c, second_fn, &same);
    ctx_after_func(c, first_fn, &other);
    ctx_after_func(d, second_fn, &other);
    ctx_cancel(c);
    ctx_cancel(d);
    struct pair *both[] = {&same, &other};
    for (int i = 0; i < 2; i++) {
        int64_t end = ctx_now() + 2 * QUIESCENT_NS;
        while (atomic_load(&both[i]->first_saw_second) == 0 && ctx_now() < end)
            sleep_ns(CTX_MILLISECOND);
        assert_int_equal(atomic_load(&both[i]->first_saw_second), 1);
    }
    ctx_release(d);
    ctx_release(c);
}

static void release_fn(void *arg)
{
    ctx_release(arg); /* cancel, and drop the reference the callback was given */
}

/* Go's AfterFunc "merge cancellation" example: a callback may cancel another context. */
static void AfterFuncCanCancelAnotherContext(void **state)
{
    (void)state;
    ctx_t *a = ctx_with_cancel(ctx_background());
    ctx_t *b = ctx_with_cancel(ctx_background());
    ctx_after_t *h = ctx_after_func(a, release_fn, ctx_ref(b));
    assert_non_null(h);
    ctx_cancel(a);
    assert_becomes_done(b, CTX_CANCELED);
    ctx_release(b);
    ctx_release(a);
}

struct racer {
    ctx_t *c;
};

static void *race_cancel(void *arg)
{
    ctx_cancel(((struct racer *)arg)->c);
    return NULL;
}

/* Stop racing a cancel: exactly one of "stop returned true" and "fn ran" happens. */
static void AfterFuncStopRacesCancel(void **state)
{
    (void)state;
    enum { N = 300 };
    static struct probe p[N];
    memset(p, 0, sizeof p);
    bool stopped[N];
    for (int i = 0; i < N; i++) {
        struct racer r = {.c = ctx_with_cancel(ctx_background())};
        ctx_after_t *a = ctx_after_func(r.c, probe_fn, &p[i]);
        pthread_t t = spawn(race_cancel, &r);
        stopped[i] = ctx_after_stop(a);
        join(t);
        if (!stopped[i]) /* it started or will: it must run */
            assert_true(wait_for_count(&p[i].runs, 1));
        assert_false(ctx_after_stop(a));
        ctx_release(r.c);
    }
    settle();
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&p[i].runs), stopped[i] ? 0 : 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(AfterFunc),
        cmocka_unit_test(AfterFuncRunsPromptlyWhenDone),
        cmocka_unit_test(AfterFuncStopBeforeRun),
        cmocka_unit_test(AfterFuncStopAfterRun),
        cmocka_unit_test(AfterFuncNeverDone),
        cmocka_unit_test(AfterFuncBadInput),
        cmocka_unit_test(AfterFuncOnDescendants),
        cmocka_unit_test(AfterFuncManyRunOnce),
        cmocka_unit_test(AfterFuncCallbacksDoNotBlockEachOther),
        cmocka_unit_test(AfterFuncCanCancelAnotherContext),
        cmocka_unit_test(AfterFuncStopRacesCancel),
    };
    return cmocka_run_group_tests_name("after", tests, NULL, NULL);
}
