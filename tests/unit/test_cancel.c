/*
 * test_cancel.c — the cancellation tree: Go's context_test.go cancel tests, causes,
 * "unref never cancels", and trees far larger than a thread's stack.
 */
#include "testutil.h"

#include <sched.h>

static int k1;

/* Go TestWithCancel: cancel propagates synchronously through value and cancel children. */
static void WithCancel(void **state)
{
    (void)state;
    ctx_t *c1 = ctx_with_cancel(ctx_background());
    ctx_t *o = ctx_with_value(c1, &k1, NULL, NULL); /* Go's otherContext{c1} */
    ctx_t *c2 = ctx_with_cancel(o);
    ctx_t *all[] = {c1, o, c2};
    for (int i = 0; i < 3; i++)
        assert_live(all[i]);
    ctx_cancel(c1);
    for (int i = 0; i < 3; i++)
        assert_done(all[i], CTX_CANCELED);
    ctx_release(c2);
    ctx_release(o);
    ctx_release(c1);
}

/* Go TestParentFinishesChild: parent -> cancelChild, parent -> valueChild -> timerChild. */
static void ParentFinishesChild(void **state)
{
    (void)state;
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_t *cancel_child = ctx_with_cancel(parent);
    ctx_t *value_child = ctx_with_value(parent, &k1, &k1, NULL);
    ctx_t *timer_child = ctx_with_timeout(value_child, VERY_LONG_NS);
    ctx_t *all[] = {parent, cancel_child, value_child, timer_child};
    for (int i = 0; i < 4; i++)
        assert_live(all[i]);

    ctx_cancel(parent);
    for (int i = 0; i < 4; i++)
        assert_done(all[i], CTX_CANCELED);

    /* A child derived from a cancelled parent is born cancelled. */
    ctx_t *precanceled = ctx_with_value(parent, &k1, &k1, NULL);
    assert_done(precanceled, CTX_CANCELED);
    ctx_release(precanceled);
    ctx_release(timer_child);
    ctx_release(value_child);
    ctx_release(cancel_child);
    ctx_release(parent);
}

/* Go TestChildFinishesFirst: cancelling a child leaves its parent alone. */
static void ChildFinishesFirst(void **state)
{
    (void)state;
    ctx_t *cancelable = ctx_with_cancel(ctx_background());
    ctx_t *parents[] = {ctx_background(), cancelable};
    for (int i = 0; i < 2; i++) {
        ctx_t *child = ctx_with_cancel(parents[i]);
        assert_live(parents[i]);
        assert_live(child);
        ctx_cancel(child);
        assert_done(child, CTX_CANCELED);
        assert_live(parents[i]);
        ctx_release(child);
    }
    /* A cancelled sibling does not affect the others. */
    ctx_t *a = ctx_with_cancel(cancelable), *b = ctx_with_cancel(cancelable);
    ctx_release(a);
    assert_live(b);
    assert_live(cancelable);
    ctx_release(b);
    ctx_release(cancelable);
}

/* Go TestWithCancelCanceledParent: a child of a cancelled parent is done on creation. */
static void WithCancelCanceledParent(void **state)
{
    (void)state;
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_cancel(parent);
    ctx_t *c = ctx_with_cancel(parent);
    assert_done(c, CTX_CANCELED);
    ctx_t *t = ctx_with_timeout(parent, VERY_LONG_NS);
    assert_done(t, CTX_CANCELED);
    ctx_release(t);
    ctx_release(c);
    ctx_release(parent);
}

struct canceller {
    ctx_t *c;
    pthread_t t;
};

static void *cancel_thread(void *arg)
{
    ctx_cancel(((struct canceller *)arg)->c);
    return NULL;
}

/* Go TestSimultaneousCancels: cancel every node of a ~100-node tree at once. */
static void SimultaneousCancels(void **state)
{
    (void)state;
    enum { N = 101 };
    struct canceller m[N];
    int n = 0, head = 0;
    m[n++].c = ctx_with_cancel(ctx_background());
    while (head < n && n + 4 <= N) {
        ctx_t *parent = m[head++].c;
        for (int i = 0; i < 4; i++)
            m[n++].c = ctx_with_cancel(parent);
    }
    for (int i = n - 1; i >= 0; i--) /* start the cancels in an arbitrary order */
        m[i].t = spawn(cancel_thread, &m[i]);
    for (int i = 0; i < n; i++)
        assert_becomes_done(m[i].c, CTX_CANCELED);
    for (int i = 0; i < n; i++)
        join(m[i].t);
    for (int i = 0; i < n; i++)
        ctx_release(m[i].c);
}

struct interlocked {
    ctx_t *parent, *child;
    atomic_int waited;
};

static void *interlocked_thread(void *arg)
{
    struct interlocked *s = arg;
    atomic_store(&s->waited, ctx_wait(s->parent, QUIESCENT_NS) == 0 ? 1 : -1);
    ctx_cancel(s->child);
    return NULL;
}

struct subtree_canceller {
    ctx_t *c;
    atomic_int go;
};

static void *subtree_cancel_thread(void *arg)
{
    struct subtree_canceller *s = arg;
    while (!atomic_load(&s->go))
        sched_yield();
    ctx_cancel(s->c);
    return NULL;
}

/* Contract (ctx_cancel, "all descendants become done"; Go: "cancel propagates
 * synchronously"): when ctx_cancel(parent) returns every descendant is done, even while
 * another thread is still cancelling a subtree of it. */
static void CancelIsSynchronousUnderConcurrentCancel(void **state)
{
    (void)state;
    enum { N = 50000, RUNS = 10 };
    ctx_t **g = malloc(N * sizeof *g);
    int bad_runs = 0, worst = 0;
    for (int run = 0; run < RUNS; run++) {
        ctx_t *p = ctx_with_cancel(ctx_background());
        struct subtree_canceller s = {.c = ctx_with_cancel(p)};
        for (int i = 0; i < N; i++)
            g[i] = ctx_with_cancel(s.c);
        pthread_t t = spawn(subtree_cancel_thread, &s);
        atomic_store(&s.go, 1);
        while (!ctx_is_done(s.c)) /* the other thread has begun on the subtree */
            sched_yield();
        ctx_cancel(p);
        int live = 0;
        for (int i = 0; i < N; i++)
            live += !ctx_is_done(g[i]);
        join(t);
        if (live) {
            bad_runs++;
            worst = live > worst ? live : worst;
        }
        for (int i = 0; i < N; i++)
            ctx_release(g[i]);
        ctx_release(s.c);
        ctx_release(p);
    }
    free(g);
    if (bad_runs)
        fail_msg("%d/%d runs: up to %d of %d grandchildren still live after "
                 "ctx_cancel(grandparent) returned",
                 bad_runs, RUNS, worst, N);
}

/* Go TestInterlockedCancels: a child cancelled from a thread woken by its parent. */
static void InterlockedCancels(void **state)
{
    (void)state;
    struct interlocked s = {.parent = ctx_with_cancel(ctx_background())};
    s.child = ctx_with_cancel(s.parent);
    pthread_t t = spawn(interlocked_thread, &s);
    ctx_cancel(s.parent);
    assert_becomes_done(s.child, CTX_CANCELED);
    join(t);
    assert_int_equal(atomic_load(&s.waited), 1);
    ctx_release(s.child);
    ctx_release(s.parent);
}

/* Go testLayers: a random chain of value, cancel and timeout layers. */
static void layers(bool test_timeout)
{
    enum { MIN_LAYERS = 30, MAX_LAYERS = 256 };
    uint64_t seed = (uint64_t)ctx_now() | 1;
    uint64_t rng = seed;
    ctx_t *chain[MAX_LAYERS];
    int *vals[MAX_LAYERS];
    ctx_t *cancels[MAX_LAYERS];
    int n = 0, nvals = 0, ncancels = 0, ntimers = 0;
    ctx_t *c = ctx_background();
    for (int i = 0; n < MAX_LAYERS &&
                    (i < MIN_LAYERS || ntimers == 0 || ncancels == 0 || nvals == 0);
         i++) {
        switch (rng_next(&rng) % 3) {
        case 0: {
            int *v = malloc(sizeof *v);
            c = ctx_with_value(c, v, v, free);
            vals[nvals++] = v;
            break;
        }
        case 1:
            c = ctx_with_cancel(c);
            cancels[ncancels++] = c;
            break;
        default:
            c = ctx_with_timeout(c, test_timeout ? SHORT_NS : VERY_LONG_NS);
            cancels[ncancels++] = c;
            ntimers++;
            break;
        }
        assert_non_null(c);
        chain[n++] = c;
    }
    if (n == MAX_LAYERS)
        fail_msg("seed=%llu: too many layers", (unsigned long long)seed);
    if (!test_timeout && ctx_is_done(c))
        fail_msg("seed=%llu: ctx should not be canceled yet", (unsigned long long)seed);
    for (int i = 0; i < nvals; i++)
        assert_ptr_equal(ctx_value(c, vals[i]), vals[i]);
    if (test_timeout) {
        if (ctx_wait(c, QUIESCENT_NS) != 0)
            fail_msg("seed=%llu: ctx should have timed out", (unsigned long long)seed);
        assert_int_equal(ctx_err(c), CTX_DEADLINE_EXCEEDED);
    } else {
        ctx_cancel(cancels[rng_next(&rng) % (uint64_t)ncancels]);
        if (!ctx_is_done(c))
            fail_msg("seed=%llu: ctx should be canceled", (unsigned long long)seed);
        assert_int_equal(ctx_err(c), CTX_CANCELED);
    }
    for (int i = 0; i < nvals; i++)
        assert_ptr_equal(ctx_value(c, vals[i]), vals[i]);
    for (int i = n - 1; i >= 0; i--)
        ctx_release(chain[i]);
}

/* Go TestLayersCancel. */
static void LayersCancel(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++)
        layers(false);
}

/* Go TestLayersTimeout. */
static void LayersTimeout(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        layers(true);
}

/* Derive and release `n` children of `parent` in the ways a request loop does. */
static void churn(ctx_t *parent, int n)
{
    for (int i = 0; i < n; i++) {
        ctx_t *c;
        switch (i % 4) {
        case 0:
            ctx_release(ctx_with_cancel(parent));
            break;
        case 1:
            ctx_release(ctx_with_timeout(parent, 60 * 60 * CTX_SECOND));
            break;
        case 2: /* cancel, later unref: also fine */
            c = ctx_with_cancel(parent);
            ctx_cancel(c);
            ctx_unref(c);
            break;
        default: { /* a cancel grandchild through a value context */
            ctx_t *v = ctx_with_value(parent, &k1, NULL, NULL);
            c = ctx_with_cancel(v);
            ctx_unref(v);
            ctx_release(c);
        }
        }
    }
}

/* Go TestCancelRemoves: released children do not accumulate in a long-lived parent. */
static void CancelRemoves(void **state)
{
    (void)state;
    ctx_t *parent = ctx_with_cancel(ctx_background());
    churn(parent, 1000); /* warm up caches and pools */
    size_t before = heap_in_use();
    churn(parent, 100000);
    size_t after = heap_in_use();
    long long grown = (long long)after - (long long)before;
    if (grown > 256 * 1024)
        fail_msg("heap grew by %lld bytes over 100k released children", grown);
    assert_live(parent);
    ctx_release(parent);
}

/* Contract (ctx_cancel_cause): the first cancellation wins. */
static void CauseFirstWins(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    const char *reason = "unset";
    assert_int_equal(ctx_cause(c, &reason), 0);
    assert_null(reason);
    ctx_cancel_cause(c, EPIPE, "peer went away");
    ctx_cancel_cause(c, EIO, "second");
    ctx_cancel(c);
    assert_done(c, CTX_CANCELED);
    assert_int_equal(ctx_cause(c, &reason), EPIPE);
    assert_string_equal(reason, "peer went away");
    assert_int_equal(ctx_cause(c, NULL), EPIPE);
    ctx_release(c);
}

/* Contract: descendants inherit the cause and reason (also when born under a done one). */
static void CauseInheritedByDescendants(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &k1, NULL, NULL);
    ctx_t *c = ctx_with_cancel(v);
    ctx_t *g = ctx_with_timeout(c, VERY_LONG_NS);
    ctx_cancel_cause(p, ENOSPC, "disk full");
    ctx_t *late = ctx_with_cancel(g);
    ctx_t *all[] = {p, v, c, g, late};
    for (int i = 0; i < 5; i++) {
        const char *reason = NULL;
        assert_done(all[i], CTX_CANCELED);
        assert_int_equal(ctx_cause(all[i], &reason), ENOSPC);
        assert_non_null(reason);
        assert_string_equal(reason, "disk full");
    }
    /* A descendant's own later cancel does not override what it inherited. */
    ctx_cancel_cause(c, EIO, "later");
    assert_int_equal(ctx_cause(c, NULL), ENOSPC);
    for (int i = 4; i >= 0; i--)
        ctx_release(all[i]);
}

/* Contract: a child cancelled first keeps its own cause when the parent is cancelled. */
static void CauseOfChildCanceledFirstIsKept(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_cancel(p);
    ctx_cancel_cause(c, EPIPE, "child");
    ctx_cancel_cause(p, EIO, "parent");
    const char *reason = NULL;
    assert_int_equal(ctx_cause(c, &reason), EPIPE);
    assert_string_equal(reason, "child");
    assert_int_equal(ctx_cause(p, &reason), EIO);
    assert_string_equal(reason, "parent");
    ctx_release(c);
    ctx_release(p);
}

/* Contract: cause 0 means CTX_CANCELED; plain cancel has cause CTX_CANCELED, no reason. */
static void CauseDefaultsToCanceled(void **state)
{
    (void)state;
    ctx_t *a = ctx_with_cancel(ctx_background());
    ctx_t *b = ctx_with_cancel(ctx_background());
    ctx_t *d = ctx_with_cancel(ctx_background());
    ctx_cancel(a);
    ctx_cancel_cause(b, 0, NULL);
    ctx_cancel_cause(d, 0, "why not");
    const char *reason = "unset";
    assert_int_equal(ctx_cause(a, &reason), CTX_CANCELED);
    assert_null(reason);
    reason = "unset";
    assert_int_equal(ctx_cause(b, &reason), CTX_CANCELED);
    assert_null(reason);
    assert_int_equal(ctx_cause(d, &reason), CTX_CANCELED);
    assert_string_equal(reason, "why not");
    assert_done(d, CTX_CANCELED);
    ctx_release(a);
    ctx_release(b);
    ctx_release(d);
}

/* Contract: the reason text is copied. */
static void CauseReasonIsCopied(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *child = ctx_with_cancel(c);
    char buf[64];
    snprintf(buf, sizeof buf, "request %d aborted", 17);
    ctx_cancel_cause(c, ECONNRESET, buf);
    memset(buf, 'X', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    const char *reason = NULL;
    assert_int_equal(ctx_cause(c, &reason), ECONNRESET);
    assert_string_equal(reason, "request 17 aborted");
    assert_int_equal(ctx_cause(child, &reason), ECONNRESET);
    assert_string_equal(reason, "request 17 aborted");
    ctx_release(child);
    ctx_release(c);
}

static void count_fn(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

/* Contract: ctx_unref never cancels; a dropped child stays attached to its parent. */
static void UnrefNeverCancels(void **state)
{
    (void)state;
    atomic_int ran = 0;
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_t *child = ctx_with_cancel(parent);
    ctx_t *seen = ctx_ref(child);
    ctx_unref(child); /* not the last reference */
    assert_live(seen);
    assert_non_null(ctx_after_func(seen, count_fn, &ran));
    ctx_unref(seen); /* the last owner reference: dropped, not cancelled */
    sleep_ns(20 * CTX_MILLISECOND);
    assert_int_equal(atomic_load(&ran), 0);
    assert_live(parent);
    ctx_cancel(parent); /* still reaches the dropped child */
    assert_true(wait_for_count(&ran, 1));
    sleep_ns(10 * CTX_MILLISECOND);
    assert_int_equal(atomic_load(&ran), 1);
    ctx_release(parent);
}

/* Cancelling a parent reaches every child, also those derived after others went. */
static void CancelReachesEveryChild(void **state)
{
    (void)state;
    enum { N = 1000 };
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_t *kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = (i % 3 == 2) ? ctx_with_timeout(parent, VERY_LONG_NS)
                               : ctx_with_cancel(parent);
        if (i % 2)
            ctx_release(kids[i - 1]), kids[i - 1] = NULL;
    }
    ctx_cancel(parent);
    for (int i = 0; i < N; i++)
        if (kids[i]) {
            assert_done(kids[i], CTX_CANCELED);
            ctx_release(kids[i]);
        }
    ctx_release(parent);
}

enum { DEPTH = 1000000 };

static ctx_t **deep_chain(void)
{
    ctx_t **chain = malloc(DEPTH * sizeof *chain);
    assert_non_null(chain);
    ctx_t *p = ctx_background();
    for (int i = 0; i < DEPTH; i++) {
        chain[i] = ctx_with_cancel(p);
        if (!chain[i])
            fail_msg("ctx_with_cancel failed at depth %d: %s", i, strerror(errno));
        p = chain[i];
    }
    return chain;
}

static void cancel_deep_chain(ctx_t **chain)
{
    assert_live(chain[DEPTH - 1]);
    ctx_cancel(chain[0]);
    for (int i = 0; i < DEPTH; i++)
        if (ctx_err(chain[i]) != CTX_CANCELED)
            fail_msg("depth %d not cancelled", i);
}

/* A 1,000,000-deep chain cancels from the root and frees, leaf first (defer order). */
static void DeepChainCancelsAndFreesLeafFirst(void **state)
{
    (void)state;
    ctx_t **chain = deep_chain();
    cancel_deep_chain(chain);
    for (int i = DEPTH - 1; i >= 0; i--)
        ctx_release(chain[i]);
    free(chain);
}

/* The same chain released root first: the last release frees the whole chain at once. */
static void DeepChainCancelsAndFreesRootFirst(void **state)
{
    (void)state;
    ctx_t **chain = deep_chain();
    cancel_deep_chain(chain);
    for (int i = 0; i < DEPTH; i++)
        ctx_release(chain[i]);
    free(chain);
}

/* A 1,000,000-deep chain released root first without an explicit cancel first. */
static void DeepChainReleaseFromRoot(void **state)
{
    (void)state;
    ctx_t **chain = deep_chain();
    ctx_release(chain[0]); /* cancels all 1M descendants */
    assert_done(chain[DEPTH - 1], CTX_CANCELED);
    for (int i = 1; i < DEPTH; i++)
        ctx_release(chain[i]);
    free(chain);
}

/* A 1000 x 100 tree (100k leaves) cancels from its root. */
static void WideTreeCancels(void **state)
{
    (void)state;
    enum { W = 1000, L = 100 };
    ctx_t *root = ctx_with_cancel(ctx_background());
    ctx_t **mid = malloc(W * sizeof *mid);
    ctx_t **leaf = malloc((size_t)W * L * sizeof *leaf);
    for (int i = 0; i < W; i++) {
        mid[i] = ctx_with_cancel(root);
        for (int j = 0; j < L; j++)
            leaf[i * L + j] = (j % 10 == 0) ? ctx_with_timeout(mid[i], VERY_LONG_NS)
                                            : ctx_with_cancel(mid[i]);
    }
    assert_live(leaf[W * L - 1]);
    ctx_cancel(root);
    for (int i = 0; i < W; i++) {
        assert_done(mid[i], CTX_CANCELED);
        for (int j = 0; j < L; j++)
            if (ctx_err(leaf[i * L + j]) != CTX_CANCELED)
                fail_msg("leaf %d/%d not cancelled", i, j);
    }
    for (int i = 0; i < W * L; i++)
        ctx_release(leaf[i]);
    for (int i = 0; i < W; i++)
        ctx_release(mid[i]);
    ctx_release(root);
    free(leaf);
    free(mid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(WithCancel),
        cmocka_unit_test(ParentFinishesChild),
        cmocka_unit_test(ChildFinishesFirst),
        cmocka_unit_test(WithCancelCanceledParent),
        cmocka_unit_test(SimultaneousCancels),
        cmocka_unit_test(CancelIsSynchronousUnderConcurrentCancel),
        cmocka_unit_test(InterlockedCancels),
        cmocka_unit_test(LayersCancel),
        cmocka_unit_test(LayersTimeout),
        cmocka_unit_test(CancelRemoves),
        cmocka_unit_test(CauseFirstWins),
        cmocka_unit_test(CauseInheritedByDescendants),
        cmocka_unit_test(CauseOfChildCanceledFirstIsKept),
        cmocka_unit_test(CauseDefaultsToCanceled),
        cmocka_unit_test(CauseReasonIsCopied),
        cmocka_unit_test(UnrefNeverCancels),
        cmocka_unit_test(CancelReachesEveryChild),
        cmocka_unit_test(DeepChainCancelsAndFreesLeafFirst),
        cmocka_unit_test(DeepChainCancelsAndFreesRootFirst),
        cmocka_unit_test(DeepChainReleaseFromRoot),
        cmocka_unit_test(WideTreeCancels),
    };
    return cmocka_run_group_tests_name("cancel", tests, NULL, NULL);
}
