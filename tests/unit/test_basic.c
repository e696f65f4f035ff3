/*
 * test_basic.c — roots, references, argument checking and CTX_AUTO (ctx.h "Roots",
 * "Derivation" errors, "References").
 */
#include "testutil.h"

#include <signal.h>

static int key;

/* A root: never done, no deadline, no values, cannot be waited to done. */
static void check_root(ctx_t *c)
{
    assert_non_null(c);
    assert_live(c);
    const char *reason = "unset";
    assert_int_equal(ctx_cause(c, &reason), 0);
    assert_null(reason);
    int64_t d = 42;
    assert_false(ctx_deadline(c, &d));
    assert_int_equal(d, 42);
    assert_null(ctx_value(c, &key));
    assert_int_equal(ctx_wait(c, 0), ETIMEDOUT);
    assert_int_equal(ctx_wait(c, CTX_MILLISECOND), ETIMEDOUT);
}

/* Go TestBackground: non-nil, Done blocks. */
static void Background(void **state)
{
    (void)state;
    check_root(ctx_background());
    assert_ptr_equal(ctx_background(), ctx_background());
}

/* Go TestTODO: non-nil, Done blocks; distinct from Background. */
static void TODO(void **state)
{
    (void)state;
    check_root(ctx_todo());
    assert_ptr_equal(ctx_todo(), ctx_todo());
    assert_ptr_not_equal(ctx_todo(), ctx_background());
}

/* Contract: ref/unref/cancel/release on roots are no-ops. */
static void RootsIgnoreRefUnrefCancel(void **state)
{
    (void)state;
    ctx_t *roots[] = {ctx_background(), ctx_todo()};
    for (int i = 0; i < 2; i++) {
        ctx_t *r = roots[i];
        for (int k = 0; k < 100; k++)
            assert_ptr_equal(ctx_ref(r), r);
        for (int k = 0; k < 1000; k++)
            ctx_unref(r);
        ctx_cancel(r);
        ctx_cancel_cause(r, EPIPE, "no");
        ctx_release(r);
        ctx_t *p = r;
        ctx_releasep(&p);
        assert_null(p);
        check_root(r);
        /* Still usable as a parent. */
        ctx_t *c = ctx_with_cancel(r);
        assert_non_null(c);
        assert_live(c);
        ctx_release(c);
    }
}

/* Contract: ctx_unref(NULL), ctx_release(NULL) and ctx_releasep(&NULL) are no-ops. */
static void NullReleaseIsNoop(void **state)
{
    (void)state;
    ctx_unref(NULL);
    ctx_release(NULL);
    ctx_t *c = NULL;
    ctx_releasep(&c);
    assert_null(c);
}

/* Contract: derivation from a NULL parent returns NULL with errno EINVAL. */
static void NullParentIsEINVAL(void **state)
{
    (void)state;
    errno = 0;
    assert_null(ctx_with_cancel(NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(ctx_with_deadline(NULL, ctx_now() + CTX_SECOND));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(ctx_with_timeout(NULL, CTX_SECOND));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(ctx_with_value(NULL, &key, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(ctx_without_cancel(NULL));
    assert_int_equal(errno, EINVAL);
}

/* Go TestWithValueChecksKey: a NULL key is EINVAL. */
static void NullKeyIsEINVAL(void **state)
{
    (void)state;
    errno = 0;
    assert_null(ctx_with_value(ctx_background(), NULL, &key, NULL));
    assert_int_equal(errno, EINVAL);
}

/* Contract: CTX_AUTO releases (cancels + unrefs) at scope exit, like `defer cancel()`. */
static void CtxAutoReleasesAtScopeExit(void **state)
{
    (void)state;
    ctx_t *seen;
    {
        CTX_AUTO ctx_t *c = ctx_with_cancel(ctx_background());
        assert_non_null(c);
        seen = ctx_ref(c); /* our own reference, to observe it after the scope */
        assert_live(c);
    }
    assert_done(seen, CTX_CANCELED);
    ctx_unref(seen);

    {
        CTX_AUTO ctx_t *t = ctx_with_timeout(ctx_background(), VERY_LONG_NS);
        seen = ctx_ref(t);
    }
    assert_done(seen, CTX_CANCELED);
    ctx_unref(seen);
}

/* Contract: ctx_releasep releases and clears the pointer. */
static void ReleasepClearsPointer(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *seen = ctx_ref(c);
    ctx_releasep(&c);
    assert_null(c);
    assert_done(seen, CTX_CANCELED);
    ctx_unref(seen);
}

/* Contract: ctx_ref takes another owner reference; the context lives until the last. */
static void RefKeepsContextAlive(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    assert_ptr_equal(ctx_ref(c), c);
    assert_ptr_equal(ctx_ref(c), c);
    ctx_unref(c);
    ctx_unref(c);
    assert_live(c); /* one reference left: still a valid, live context */
    ctx_release(c);
}

/* Contract: "the caller may drop the parent's reference at any time after deriving". */
static void ChildKeepsParentAlive(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &key, &key, NULL);
    ctx_t *c = ctx_with_cancel(v);
    ctx_unref(v);
    ctx_t *keep = ctx_ref(p);
    ctx_unref(p); /* p lives on: c (through v) and `keep` refer to it */
    assert_ptr_equal(ctx_value(c, &key), &key);
    ctx_cancel(keep);
    ctx_unref(keep);
    assert_done(c, CTX_CANCELED);
    ctx_release(c);
}

/* Contract: ctx_cancel is idempotent and does not drop a reference. */
static void CancelIsIdempotent(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    for (int i = 0; i < 10; i++) {
        ctx_cancel(c);
        assert_done(c, CTX_CANCELED);
    }
    ctx_unref(c);
}

/* Contract: ctx_cancel is a no-op on value and without_cancel contexts. */
static void CancelIsNoopOnNonCancellable(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &key, NULL, NULL);
    ctx_t *w = ctx_without_cancel(p);
    ctx_cancel(v);
    ctx_cancel_cause(v, EPIPE, "x");
    ctx_cancel(w);
    assert_live(v);
    assert_live(w);
    assert_live(p);
    ctx_release(v);
    ctx_release(w);
    assert_live(p);
    ctx_release(p);
}

/* Contract: ctx_now is CLOCK_MONOTONIC in nanoseconds. */
static void NowIsMonotonicClock(void **state)
{
    (void)state;
    for (int i = 0; i < 1000; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int64_t n = ctx_now();
        clock_gettime(CLOCK_MONOTONIC, &b);
        assert_true(n >= a.tv_sec * CTX_SECOND + a.tv_nsec);
        assert_true(n <= b.tv_sec * CTX_SECOND + b.tv_nsec);
    }
}

/* Contract: error codes are errno values. */
static void ErrorCodesAreErrno(void **state)
{
    (void)state;
    assert_int_equal(CTX_CANCELED, ECANCELED);
    assert_int_equal(CTX_DEADLINE_EXCEEDED, ETIMEDOUT);
    assert_int_equal(CTX_SECOND, 1000 * CTX_MILLISECOND);
    assert_int_equal(CTX_MILLISECOND, 1000 * CTX_MICROSECOND);
    assert_int_equal(CTX_MICROSECOND, 1000 * CTX_NANOSECOND);
}

static void never_called(void *arg)
{
    (void)arg;
}

static int never_run(ctx_t *c, void *arg)
{
    (void)c;
    (void)arg;
    return 0;
}

/* ctx.h "NULL contexts": every function answers a NULL context as documented, never a
 * crash (issue 16: ctx_wait(NULL), ctx_err(NULL) and friends used to segfault). */
static void NullContextsAreAnswered(void **state)
{
    (void)state;
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    struct {
        const char *what;
        ctx_t *got;
    } derived[] = {
        {"with_cancel", ctx_with_cancel(NULL)},
        {"with_deadline", ctx_with_deadline(NULL, 0)},
        {"with_timeout", ctx_with_timeout(NULL, 0)},
        {"with_deadline_cause", ctx_with_deadline_cause(NULL, 0, EIO, "x")},
        {"with_timeout_cause", ctx_with_timeout_cause(NULL, 0, EIO, "x")},
        {"with_value", ctx_with_value(NULL, &term, NULL, NULL)},
        {"without_cancel", ctx_without_cancel(NULL)},
        {"with_signals", ctx_with_signals(NULL, &term)},
    };
    for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++) {
        if (derived[i].got != NULL)
            fail_msg("ctx_%s(NULL) returned a context", derived[i].what);
    }
    errno = 0;
    assert_null(ctx_with_cancel(NULL));
    assert_int_equal(errno, EINVAL);

    assert_int_equal(ctx_err(NULL), EINVAL);
    const char *reason = "unset";
    assert_int_equal(ctx_cause(NULL, &reason), EINVAL);
    assert_null(reason);
    assert_int_equal(ctx_cause(NULL, NULL), EINVAL);
    assert_false(ctx_is_done(NULL));
    assert_int_equal(ctx_wait(NULL, 0), EINVAL);
    assert_int_equal(ctx_wait(NULL, -1), EINVAL); /* no hang either */
    errno = 0;
    assert_int_equal(ctx_fd(NULL), -1);
    assert_int_equal(errno, EINVAL);
    int64_t d = 42;
    assert_false(ctx_deadline(NULL, &d));
    assert_int_equal(d, 42);
    errno = 0;
    assert_null(ctx_value(NULL, &term));
    assert_int_equal(errno, EINVAL);

    assert_null(ctx_ref(NULL));
    ctx_unref(NULL);
    ctx_release(NULL);
    ctx_cancel(NULL);
    ctx_cancel_cause(NULL, EIO, "x");
    ctx_t *none = NULL;
    ctx_releasep(&none);
    ctx_releasep(NULL);

    errno = 0;
    assert_null(ctx_after_func(NULL, never_called, NULL));
    assert_int_equal(errno, EINVAL);
    assert_false(ctx_after_stop(NULL));

    errno = 0;
    assert_null(ctx_group_new(NULL));
    assert_int_equal(errno, EINVAL);
    assert_null(ctx_group_ctx(NULL));
    assert_int_equal(ctx_group_go(NULL, never_run, NULL), EINVAL);
    assert_int_equal(ctx_group_try_go(NULL, never_run, NULL), EINVAL);
    assert_int_equal(ctx_group_set_limit(NULL, 1), EINVAL);
    assert_int_equal(ctx_group_wait(NULL), EINVAL);
}

/* ctx_is_done is inline in ctx.h; the exported symbol (what binaries built before, and
 * callers taking its address, use) answers the same for every kind of context. */
static void ExportedIsDoneMatchesInline(void **state)
{
    (void)state;
    static int key;
    bool (*exported)(ctx_t *) = ctx_is_done; /* the address: the external definition */
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(c, &key, &key, NULL);
    ctx_t *w = ctx_without_cancel(v);
    ctx_t *bgv = ctx_with_value(ctx_background(), &key, &key, NULL);
    ctx_t *all[] = {ctx_background(), ctx_todo(), c, v, w, bgv, NULL};
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            assert_int_equal(exported(all[i]), ctx_is_done(all[i]));
        assert_int_equal(ctx_is_done(v), round == 1);
        ctx_cancel(c);
    }
    assert_true(ctx_is_done(c));
    assert_false(ctx_is_done(w));
    ctx_unref(bgv);
    ctx_unref(w);
    ctx_unref(v);
    ctx_release(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(Background),
        cmocka_unit_test(TODO),
        cmocka_unit_test(RootsIgnoreRefUnrefCancel),
        cmocka_unit_test(NullReleaseIsNoop),
        cmocka_unit_test(NullParentIsEINVAL),
        cmocka_unit_test(NullKeyIsEINVAL),
        cmocka_unit_test(CtxAutoReleasesAtScopeExit),
        cmocka_unit_test(ReleasepClearsPointer),
        cmocka_unit_test(RefKeepsContextAlive),
        cmocka_unit_test(ChildKeepsParentAlive),
        cmocka_unit_test(CancelIsIdempotent),
        cmocka_unit_test(CancelIsNoopOnNonCancellable),
        cmocka_unit_test(NowIsMonotonicClock),
        cmocka_unit_test(ErrorCodesAreErrno),
        cmocka_unit_test(NullContextsAreAnswered),
        cmocka_unit_test(ExportedIsDoneMatchesInline),
    };
    return cmocka_run_group_tests_name("basic", tests, NULL, NULL);
}
