/*
 * test_cancel_walk.c — the canceller's walk of a big tree (cancel.c) racing the owners
 * of the nodes it walks.
 *
 * The canceller takes a node's children list in one move and walks it through the
 * children's own sibling links, dropping each list reference as it finishes a child;
 * meanwhile the children's owners may cancel, release or unref them (a detacher that
 * finds the parent done leaves the child to the canceller). A tracer counts the frees:
 * a reference dropped twice or never shows as a count that is off (and ASan sees a use
 * after free); ctx_cancel returning with a descendant still live fails the done checks.
 */
#include <ctxtrace/tracer.h>

#include "testutil.h"

enum { MIDS = 64, LEAVES = 24, ROUNDS = 100 };

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

/* A root, MIDS cancellable children, LEAVES cancellable children under each (every
 * other mid through a value context, so the walk sees children whose parent is not
 * the node whose list they are in). */
struct tree {
    ctx_t *root;
    ctx_t *vals[MIDS];
    ctx_t *mids[MIDS];
    ctx_t *leaves[MIDS][LEAVES];
};

static int key;

static void build(struct tree *t)
{
    t->root = ctx_with_cancel(ctx_background());
    for (int i = 0; i < MIDS; i++) {
        t->vals[i] = i % 2 ? ctx_with_value(t->root, &key, NULL, NULL) : NULL;
        t->mids[i] = ctx_with_cancel(t->vals[i] != NULL ? t->vals[i] : t->root);
        for (int j = 0; j < LEAVES; j++)
            t->leaves[i][j] = ctx_with_cancel(t->mids[i]);
    }
}

/* What a racing owner does with the half of the mids it owns. */
enum act { RELEASE, CANCEL_THEN_UNREF, UNREF_ONLY };

struct owner {
    struct tree *t;
    int first;                 /* its mids: first, first + 2, ... */
    enum act act;
    pthread_barrier_t *start;
};

static void finish(ctx_t *c, enum act act)
{
    if (act == RELEASE)
        ctx_release(c);
    else if (act == CANCEL_THEN_UNREF) {
        ctx_cancel(c);
        ctx_unref(c);
    } else {
        ctx_unref(c);
    }
}

/* Reasons seen wrong by the owners: a node the root's cancel reached must report the
 * root's cause with its reason (a detacher writing into a list the canceller took would
 * overwrite the reason slot of its parent, which shares that word). */
static atomic_int bad_reasons;

static void check_reason(ctx_t *c)
{
    const char *r;
    if (ctx_cause(c, &r) == ECONNRESET && (r == NULL || strcmp(r, "walk") != 0))
        atomic_fetch_add(&bad_reasons, 1);
}

static void *own(void *arg)
{
    struct owner *o = arg;
    pthread_barrier_wait(o->start);
    for (int i = o->first; i < MIDS; i += 2) {
        /* Newest first: the head of the mid's list (the slot its reason replaces). */
        for (int j = LEAVES - 1; j >= 0; j--) {
            finish(o->t->leaves[i][j], o->act);
            check_reason(o->t->mids[i]);
        }
        finish(o->t->mids[i], o->act);
        ctx_unref(o->t->vals[i]);
    }
    return NULL;
}

/* Two owners finish their nodes while the root is cancelled, at a different moment
 * each round; afterwards every context is freed exactly once. */
static void race(enum act a, enum act b)
{
    static struct tree t;
    for (int round = 0; round < ROUNDS; round++) {
        int before_created = atomic_load(&created);
        build(&t);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 3);
        struct owner o[2] = {{&t, 0, a, &start}, {&t, 1, b, &start}};
        pthread_t th[2] = {spawn(own, &o[0]), spawn(own, &o[1])};
        pthread_barrier_wait(&start);
        sleep_ns(round % 20 * 20 * CTX_MICROSECOND);
        ctx_cancel_cause(t.root, ECONNRESET, "walk");
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        check_reason(t.root);
        assert_int_equal(ctx_cause(t.root, NULL), ECONNRESET);
        assert_int_equal(atomic_load(&bad_reasons), 0);
        ctx_release(t.root);
        assert_int_equal(atomic_load(&created) - before_created,
                         1 + MIDS + MIDS / 2 + MIDS * LEAVES);
        assert_int_equal(atomic_load(&freed), atomic_load(&created));
    }
}

static void releases_race_the_walk(void **state)
{
    (void)state;
    race(RELEASE, RELEASE);
}

static void cancels_race_the_walk(void **state)
{
    (void)state;
    race(CANCEL_THEN_UNREF, RELEASE);
}

/* Owners that drop their contexts uncancelled leave them to the lists (the lost-cancel
 * case): the walk frees those it finishes. */
static void unrefs_race_the_walk(void **state)
{
    (void)state;
    race(UNREF_ONLY, CANCEL_THEN_UNREF);
}

/* When ctx_cancel returns, every descendant is done — and the ones whose owners are gone
 * are freed by it, exactly those. */
static void walk_finishes_and_frees(void **state)
{
    (void)state;
    static struct tree t;
    build(&t);
    int before = atomic_load(&freed);
    for (int i = 0; i < MIDS; i += 2) /* half the leaves lose their owners, uncancelled */
        for (int j = 0; j < LEAVES; j++)
            ctx_unref(t.leaves[i][j]);
    assert_int_equal(atomic_load(&freed), before);
    ctx_cancel(t.root);
    assert_int_equal(atomic_load(&freed) - before, (MIDS / 2) * LEAVES);
    for (int i = 1; i < MIDS; i += 2)
        for (int j = 0; j < LEAVES; j++)
            assert_int_equal(ctx_err(t.leaves[i][j]), CTX_CANCELED);
    for (int i = 0; i < MIDS; i++)
        assert_int_equal(ctx_err(t.mids[i]), CTX_CANCELED);
    for (int i = 0; i < MIDS; i++) {
        for (int j = 0; i % 2 && j < LEAVES; j++)
            ctx_release(t.leaves[i][j]);
        ctx_release(t.mids[i]);
        ctx_unref(t.vals[i]);
    }
    ctx_release(t.root);
    assert_int_equal(atomic_load(&freed), atomic_load(&created));
}

/* A waiter on a mid sleeps until the root's walk reaches it. */
static void *wait_on(void *arg)
{
    return (void *)(intptr_t)ctx_wait(arg, QUIESCENT_NS);
}

static void waiters_wake_in_the_walk(void **state)
{
    (void)state;
    static struct tree t;
    build(&t);
    pthread_t w[2] = {spawn(wait_on, t.mids[0]), spawn(wait_on, t.leaves[MIDS - 1][0])};
    sleep_ns(20 * CTX_MILLISECOND);
    ctx_cancel(t.root);
    for (int i = 0; i < 2; i++) {
        void *rc;
        pthread_join(w[i], &rc);
        assert_int_equal((intptr_t)rc, 0);
    }
    for (int i = 0; i < MIDS; i++) {
        for (int j = 0; j < LEAVES; j++)
            ctx_release(t.leaves[i][j]);
        ctx_release(t.mids[i]);
        ctx_unref(t.vals[i]);
    }
    ctx_release(t.root);
    assert_int_equal(atomic_load(&freed), atomic_load(&created));
}

int main(void)
{
    if (ctx_tracer_attach(&counter) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(releases_race_the_walk),
        cmocka_unit_test(cancels_race_the_walk),
        cmocka_unit_test(unrefs_race_the_walk),
        cmocka_unit_test(walk_finishes_and_frees),
        cmocka_unit_test(waiters_wake_in_the_walk),
    };
    return cmocka_run_group_tests_name("cancel_walk", tests, NULL, NULL);
}
