/*
 * test_lanes.c — children of one parent derived from several threads (the runtime's
 * per-thread lanes, internal.h): cancellation reaches every lane, releases race with
 * the parent's cancel, and the parent's memory is freed exactly when the last child
 * and the last owner are gone, with the children's references counted per lane and
 * folded back when the owners go. A tracer counts the frees, so a leak or a double
 * free fails here (and ASan sees use after free).
 */
#include <ctxtrace/tracer.h>

#include "testutil.h"

enum { THREADS = 4, PER_THREAD = 500 };

static atomic_int created, freed;

static void on_created(ctx_t *c, ctx_t *parent, enum ctx_kind kind, int64_t r, int64_t d)
{
    (void)c, (void)parent, (void)kind, (void)r, (void)d;
    atomic_fetch_add(&created, 1);
}

static void on_freed(ctx_t *c)
{
    (void)c;
    atomic_fetch_add(&freed, 1);
}

static const struct ctx_tracer counter = {.created = on_created, .freed = on_freed};

/* Every context created since the last call has been freed. */
static void assert_all_freed(void)
{
    assert_int_equal(atomic_load(&freed), atomic_load(&created));
}

struct deriver {
    ctx_t *parent;
    ctx_t *kids[PER_THREAD];
    bool release;          /* release each child at once, else keep it */
    pthread_barrier_t *start;
};

static void *derive(void *arg)
{
    struct deriver *d = arg;
    pthread_barrier_wait(d->start);
    for (int i = 0; i < PER_THREAD; i++) {
        ctx_t *c = ctx_with_cancel(d->parent);
        if (d->release)
            ctx_release(c);
        else
            d->kids[i] = c;
    }
    return NULL;
}

/* THREADS threads derive from `parent` at once (each keeps or releases its children). */
static void derive_from(ctx_t *parent, struct deriver *d, bool release)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        d[i] = (struct deriver){.parent = parent, .release = release, .start = &start};
        t[i] = spawn(derive, &d[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
}

/* Cancelling the parent reaches the children of every thread, with its cause. */
static void cancel_reaches_every_lane(void **state)
{
    (void)state;
    static struct deriver d[THREADS];
    ctx_t *parent = ctx_with_cancel(ctx_background());
    derive_from(parent, d, false);
    ctx_cancel_cause(parent, ECONNRESET, "peer went away");
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < PER_THREAD; k++) {
            const char *why = NULL;
            assert_int_equal(ctx_err(d[i].kids[k]), CTX_CANCELED);
            assert_int_equal(ctx_cause(d[i].kids[k], &why), ECONNRESET);
            assert_string_equal(why, "peer went away");
        }
    const char *why = NULL;
    assert_int_equal(ctx_cause(parent, &why), ECONNRESET);
    assert_string_equal(why, "peer went away");
    /* A child born after the cancel, on another thread's lane, is born done. */
    ctx_t *late = ctx_with_cancel(parent);
    assert_int_equal(ctx_cause(late, &why), ECONNRESET);
    assert_string_equal(why, "peer went away");
    ctx_release(late);
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < PER_THREAD; k++)
            ctx_release(d[i].kids[k]);
    ctx_release(parent);
    assert_all_freed();
}

/* Children released on their own threads leave nothing behind in the parent's lanes,
 * and the parent is freed with its last owner. */
static void released_children_free_everything(void **state)
{
    (void)state;
    static struct deriver d[THREADS];
    ctx_t *parent = ctx_with_cancel(ctx_background());
    derive_from(parent, d, true);
    assert_int_equal(ctx_err(parent), 0);
    assert_int_equal(atomic_load(&freed), atomic_load(&created) - 1); /* the parent */
    ctx_release(parent);
    assert_all_freed();
}

/* The owners go first (the lanes' reference counts fold into the parent's), then the
 * children are released on other threads: the parent is freed with the last of them,
 * not before (ASan) and not never (the count). */
static void owners_go_before_children(void **state)
{
    (void)state;
    static struct deriver d[THREADS];
    ctx_t *parent = ctx_with_cancel(ctx_background());
    derive_from(parent, d, false);
    int before = atomic_load(&freed);
    ctx_release(parent); /* cancels the children; they keep the parent's memory */
    assert_int_equal(atomic_load(&freed), before);
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < PER_THREAD; k++) {
            assert_int_equal(ctx_err(d[i].kids[k]), CTX_CANCELED);
            ctx_release(d[i].kids[k]);
        }
    assert_all_freed();
}

/* Unowned while live (a lost cancel of the parent): children attached in lanes stay
 * reachable and the parent stays alive until they are gone. */
static void lost_parent_keeps_lanes(void **state)
{
    (void)state;
    static struct deriver d[THREADS];
    ctx_t *root = ctx_with_cancel(ctx_background());
    ctx_t *parent = ctx_with_cancel(root);
    derive_from(parent, d, false);
    ctx_unref(parent); /* lost: still attached to root, still live */
    assert_int_equal(ctx_err(d[0].kids[0]), 0);
    ctx_cancel(root); /* reaches parent, and through it every lane */
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < PER_THREAD; k++) {
            assert_int_equal(ctx_err(d[i].kids[k]), CTX_CANCELED);
            ctx_unref(d[i].kids[k]);
        }
    ctx_release(root);
    assert_all_freed();
}

struct racer {
    ctx_t *parent;
    atomic_int *done_children;
    pthread_barrier_t *start;
};

static void *derive_and_release(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->start);
    for (int i = 0; i < PER_THREAD; i++) {
        ctx_t *c = ctx_with_cancel(r->parent);
        if (ctx_is_done(c))
            atomic_fetch_add(r->done_children, 1);
        ctx_release(c);
    }
    return NULL;
}

/* The parent is cancelled while THREADS threads derive and release: every child is
 * either attached and cancelled, released, or born done — and everything is freed. */
static void cancel_races_derivation(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        ctx_t *parent = ctx_with_cancel(ctx_background());
        atomic_int done_children = 0;
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS + 1);
        struct racer r[THREADS];
        pthread_t t[THREADS];
        for (int i = 0; i < THREADS; i++) {
            r[i] = (struct racer){parent, &done_children, &start};
            t[i] = spawn(derive_and_release, &r[i]);
        }
        pthread_barrier_wait(&start);
        sleep_ns(round * 50 * CTX_MICROSECOND);
        ctx_cancel(parent);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        ctx_release(parent);
        assert_all_freed();
    }
}

static void *wait_on(void *arg)
{
    return (void *)(intptr_t)ctx_wait(arg, QUIESCENT_NS);
}

/* ctx_wait on a parent that has lanes sleeps and wakes on its cancel. */
static void wait_on_parent_with_lanes(void **state)
{
    (void)state;
    static struct deriver d[THREADS];
    ctx_t *parent = ctx_with_cancel(ctx_background());
    derive_from(parent, d, true);
    pthread_t w = spawn(wait_on, parent);
    sleep_ns(20 * CTX_MILLISECOND);
    ctx_cancel(parent);
    void *rc;
    pthread_join(w, &rc);
    assert_int_equal((intptr_t)rc, 0);
    ctx_release(parent);
    assert_all_freed();
}

static void *derive_through_value(void *arg)
{
    struct deriver *d = arg;
    pthread_barrier_wait(d->start);
    for (int i = 0; i < PER_THREAD; i++)
        d->kids[i] = ctx_with_timeout(d->parent, VERY_LONG_NS);
    return NULL;
}

/* Children derived through a value context attach to the cancellable parent's lanes
 * but hold their reference on the value context. */
static void lanes_through_a_value_context(void **state)
{
    (void)state;
    static struct deriver d[THREADS];
    static const char key;
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_t *val = ctx_with_value(parent, &key, "v", NULL);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        d[i] = (struct deriver){.parent = val, .start = &start};
        t[i] = spawn(derive_through_value, &d[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    ctx_unref(val);
    ctx_release(parent);
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < PER_THREAD; k++) {
            assert_int_equal(ctx_err(d[i].kids[k]), CTX_CANCELED);
            assert_string_equal(ctx_value(d[i].kids[k], &key), "v");
            ctx_release(d[i].kids[k]);
        }
    assert_all_freed();
}

int main(void)
{
    if (ctx_tracer_attach(&counter) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cancel_reaches_every_lane),
        cmocka_unit_test(released_children_free_everything),
        cmocka_unit_test(owners_go_before_children),
        cmocka_unit_test(lost_parent_keeps_lanes),
        cmocka_unit_test(cancel_races_derivation),
        cmocka_unit_test(wait_on_parent_with_lanes),
        cmocka_unit_test(lanes_through_a_value_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
