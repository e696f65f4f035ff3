/*
 * test_deadline.c — deadlines and timeouts: Go's TestDeadline, TestTimeout,
 * TestCanceledTimeout, and ctx.h's ctx_with_deadline / ctx_deadline contract.
 */
#include "testutil.h"

static int key;

/* Go testDeadline: becomes done with DEADLINE_EXCEEDED, never before its deadline. */
static void check_deadline(ctx_t *c)
{
    int64_t d = 0;
    assert_true(ctx_deadline(c, &d));
    assert_becomes_done(c, CTX_DEADLINE_EXCEEDED);
    assert_true(ctx_now() >= d);
}

/* Go TestDeadline. */
static void Deadline(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_deadline(ctx_background(), ctx_now() + SHORT_NS);
    check_deadline(c);
    ctx_release(c);

    c = ctx_with_deadline(ctx_background(), ctx_now() + SHORT_NS);
    ctx_t *o = ctx_with_value(c, &key, NULL, NULL); /* Go's otherContext */
    check_deadline(o);
    ctx_release(o);
    ctx_release(c);

    c = ctx_with_deadline(ctx_background(), ctx_now() + SHORT_NS);
    o = ctx_with_value(c, &key, NULL, NULL);
    ctx_t *c2 = ctx_with_deadline(o, ctx_now() + VERY_LONG_NS);
    check_deadline(c2);
    ctx_release(c2);
    ctx_release(o);
    ctx_release(c);

    c = ctx_with_deadline(ctx_background(), ctx_now() - SHORT_NS); /* in the past */
    check_deadline(c);
    ctx_release(c);

    c = ctx_with_deadline(ctx_background(), ctx_now()); /* now */
    check_deadline(c);
    ctx_release(c);
}

/* Go TestTimeout. */
static void Timeout(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), SHORT_NS);
    check_deadline(c);
    ctx_release(c);

    c = ctx_with_timeout(ctx_background(), SHORT_NS);
    ctx_t *o = ctx_with_value(c, &key, NULL, NULL);
    check_deadline(o);
    ctx_release(o);
    ctx_release(c);

    c = ctx_with_timeout(ctx_background(), SHORT_NS);
    o = ctx_with_value(c, &key, NULL, NULL);
    ctx_t *c2 = ctx_with_timeout(o, VERY_LONG_NS);
    check_deadline(c2);
    ctx_release(c2);
    ctx_release(o);
    ctx_release(c);
}

/* Go TestCanceledTimeout: cancelling a timeout context is synchronous. */
static void CanceledTimeout(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), CTX_SECOND);
    ctx_t *o = ctx_with_value(c, &key, NULL, NULL);
    ctx_t *c2 = ctx_with_timeout(o, VERY_LONG_NS);
    ctx_cancel(c2);
    assert_done(c2, CTX_CANCELED);
    assert_live(c);
    ctx_release(c2);
    ctx_release(o);
    ctx_release(c);
}

/* Contract: ctx_with_timeout(p, t) is ctx_with_deadline(p, ctx_now() + t). */
static void TimeoutSetsDeadline(void **state)
{
    (void)state;
    int64_t before = ctx_now();
    ctx_t *c = ctx_with_timeout(ctx_background(), 10 * CTX_SECOND);
    int64_t after = ctx_now();
    int64_t d = 0;
    assert_true(ctx_deadline(c, &d));
    assert_true(d >= before + 10 * CTX_SECOND);
    assert_true(d <= after + 10 * CTX_SECOND);
    ctx_release(c);

    int64_t want = ctx_now() + 7 * CTX_SECOND;
    c = ctx_with_deadline(ctx_background(), want);
    assert_true(ctx_deadline(c, NULL));
    assert_true(ctx_deadline(c, &d));
    assert_int_equal(d, want);
    ctx_release(c);
}

/* Contract: no deadline → false, *deadline left alone; NULL out-pointer allowed. */
static void NoDeadline(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(c, &key, NULL, NULL);
    ctx_t *list[] = {ctx_background(), ctx_todo(), c, v};
    for (int i = 0; i < 4; i++) {
        int64_t d = -77;
        assert_false(ctx_deadline(list[i], &d));
        assert_int_equal(d, -77);
        assert_false(ctx_deadline(list[i], NULL));
    }
    ctx_release(v);
    ctx_release(c);
}

/* Contract: the effective deadline is the earliest up the chain. */
static void DeadlineEarliestWins(void **state)
{
    (void)state;
    int64_t now = ctx_now();
    int64_t d1 = now + 100 * CTX_SECOND, d2 = now + 200 * CTX_SECOND,
            d3 = now + 50 * CTX_SECOND, d;
    ctx_t *a = ctx_with_deadline(ctx_background(), d1);
    ctx_t *b = ctx_with_deadline(a, d2); /* later than a: reports a's */
    ctx_t *v = ctx_with_value(b, &key, NULL, NULL);
    ctx_t *c = ctx_with_cancel(v);
    ctx_t *e = ctx_with_deadline(c, d3); /* earlier: its own */
    assert_true(ctx_deadline(a, &d));
    assert_int_equal(d, d1);
    assert_true(ctx_deadline(b, &d));
    assert_int_equal(d, d1);
    assert_true(ctx_deadline(v, &d));
    assert_int_equal(d, d1);
    assert_true(ctx_deadline(c, &d));
    assert_int_equal(d, d1);
    assert_true(ctx_deadline(e, &d));
    assert_int_equal(d, d3);
    ctx_release(e);
    ctx_release(c);
    ctx_release(v);
    ctx_release(b);
    ctx_release(a);
}

/* Contract: a deadline already past gives a context done at once; the parent is not. */
static void PastDeadlineIsBornDone(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *a = ctx_with_deadline(p, ctx_now() - CTX_SECOND);
    ctx_t *b = ctx_with_timeout(p, 0);
    ctx_t *c = ctx_with_timeout(p, -CTX_SECOND);
    ctx_t *all[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        assert_done(all[i], CTX_DEADLINE_EXCEEDED);
        assert_int_equal(ctx_cause(all[i], NULL), CTX_DEADLINE_EXCEEDED);
        assert_int_equal(ctx_wait(all[i], 0), 0);
        ctx_release(all[i]);
    }
    assert_live(p);
    ctx_release(p);
}

/* Contract: a parent's deadline reaches its children, with its error and cause. */
static void ParentDeadlineReachesChildren(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_timeout(ctx_background(), 5 * CTX_MILLISECOND);
    ctx_t *c = ctx_with_cancel(p);
    ctx_t *t = ctx_with_timeout(p, VERY_LONG_NS);
    int64_t dp, dt;
    assert_true(ctx_deadline(p, &dp));
    assert_true(ctx_deadline(t, &dt));
    assert_int_equal(dt, dp);
    assert_becomes_done(c, CTX_DEADLINE_EXCEEDED);
    assert_becomes_done(t, CTX_DEADLINE_EXCEEDED);
    assert_done(p, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(ctx_cause(c, NULL), CTX_DEADLINE_EXCEEDED);
    assert_int_equal(ctx_cause(t, NULL), CTX_DEADLINE_EXCEEDED);
    /* Born under a timed-out parent: done with the parent's error. */
    ctx_t *late = ctx_with_cancel(p);
    assert_done(late, CTX_DEADLINE_EXCEEDED);
    ctx_release(late);
    ctx_release(t);
    ctx_release(c);
    ctx_release(p);
}

/* Contract (Cause): a deadline's cause is CTX_DEADLINE_EXCEEDED; first cancellation wins. */
static void DeadlineCause(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), SHORT_NS);
    assert_becomes_done(c, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(ctx_cause(c, NULL), CTX_DEADLINE_EXCEEDED);
    ctx_cancel_cause(c, EPIPE, "too late");
    assert_done(c, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(ctx_cause(c, NULL), CTX_DEADLINE_EXCEEDED);
    ctx_release(c);
}

/* Contract: cancelling stops the timer; the deadline passing later changes nothing. */
static void CancelStopsTimer(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), 10 * CTX_MILLISECOND);
    ctx_cancel_cause(c, EPIPE, "stopped");
    sleep_ns(40 * CTX_MILLISECOND);
    assert_done(c, CTX_CANCELED);
    const char *reason = NULL;
    assert_int_equal(ctx_cause(c, &reason), EPIPE);
    assert_string_equal(reason, "stopped");
    ctx_release(c);
}

/* Contract: without_cancel has no deadline; a deadline below it is its own. */
static void WithoutCancelDropsDeadline(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_timeout(ctx_background(), CTX_SECOND);
    ctx_t *w = ctx_without_cancel(p);
    assert_false(ctx_deadline(w, NULL));
    int64_t want = ctx_now() + 100 * CTX_SECOND, d;
    ctx_t *c = ctx_with_deadline(w, want);
    assert_true(ctx_deadline(c, &d));
    assert_int_equal(d, want);
    ctx_release(c);
    ctx_release(w);
    ctx_release(p);
}

/* "Practically forever" timeouts: ctx_now() + INT64_MAX must not overflow into the past. */
static void HugeTimeoutIsNotDone(void **state)
{
    (void)state;
    int64_t now = ctx_now(), d = 0;
    ctx_t *c = ctx_with_timeout(ctx_background(), INT64_MAX);
    ctx_t *e = ctx_with_deadline(ctx_background(), INT64_MAX - 1);
    assert_live(c);
    assert_live(e);
    assert_true(ctx_deadline(c, &d));
    assert_true(d > now);
    assert_int_equal(ctx_wait(c, CTX_MILLISECOND), ETIMEDOUT);
    ctx_t *k = ctx_with_timeout(c, CTX_SECOND); /* earlier than the parent's: its own */
    assert_true(ctx_deadline(k, &d));
    assert_true(d <= ctx_now() + CTX_SECOND);
    ctx_release(k);
    ctx_release(e);
    ctx_release(c);
}

static void count_fn(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

/* Contract: a dropped, uncancelled timeout context lives until its timer fires. */
static void OrphanedTimerStillFires(void **state)
{
    (void)state;
    atomic_int ran = 0;
    ctx_t *c = ctx_with_timeout(ctx_background(), 10 * CTX_MILLISECOND);
    assert_non_null(ctx_after_func(c, count_fn, &ran));
    ctx_unref(c); /* Go: ctx, _ := context.WithTimeout(...) */
    assert_true(wait_for_count(&ran, 1));
    sleep_ns(5 * CTX_MILLISECOND);
    assert_int_equal(atomic_load(&ran), 1);
}

/* Many timers: each fires with DEADLINE_EXCEEDED and never before its deadline, and
 * each cancelled one stays CANCELED. */
static void NoTimerFiresEarly(void **state)
{
    (void)state;
    enum { N = 1000 };
    static ctx_t *c[N];
    static int64_t due[N];
    uint64_t rng = 12345;
    for (int i = 0; i < N; i++) { /* every third is cancelled long before it is due */
        int64_t in = i % 3 ? (int64_t)(1 + rng_next(&rng) % 100) * CTX_MILLISECOND
                           : VERY_LONG_NS;
        due[i] = ctx_now() + in;
        c[i] = ctx_with_deadline(ctx_background(), due[i]);
    }
    for (int i = 0; i < N; i += 3)
        ctx_cancel(c[i]);
    int left = N;
    bool seen[N] = {false};
    int64_t end = ctx_now() + QUIESCENT_NS + 100 * CTX_MILLISECOND;
    while (left > 0 && ctx_now() < end) {
        left = 0;
        for (int i = 0; i < N; i++) {
            if (seen[i])
                continue;
            if (!ctx_is_done(c[i])) {
                left++;
                continue;
            }
            int64_t t = ctx_now(); /* done was observed before t */
            seen[i] = true;
            if (i % 3 == 0) {
                assert_int_equal(ctx_err(c[i]), CTX_CANCELED);
            } else {
                assert_int_equal(ctx_err(c[i]), CTX_DEADLINE_EXCEEDED);
                if (t < due[i])
                    fail_msg("timer %d fired %lld ns early", i, (long long)(due[i] - t));
            }
        }
        sleep_ns(200 * CTX_MICROSECOND);
    }
    assert_int_equal(left, 0);
    for (int i = 0; i < N; i++)
        ctx_release(c[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(Deadline),
        cmocka_unit_test(Timeout),
        cmocka_unit_test(CanceledTimeout),
        cmocka_unit_test(TimeoutSetsDeadline),
        cmocka_unit_test(NoDeadline),
        cmocka_unit_test(DeadlineEarliestWins),
        cmocka_unit_test(PastDeadlineIsBornDone),
        cmocka_unit_test(ParentDeadlineReachesChildren),
        cmocka_unit_test(DeadlineCause),
        cmocka_unit_test(CancelStopsTimer),
        cmocka_unit_test(WithoutCancelDropsDeadline),
        cmocka_unit_test(HugeTimeoutIsNotDone),
        cmocka_unit_test(OrphanedTimerStillFires),
        cmocka_unit_test(NoTimerFiresEarly),
    };
    return cmocka_run_group_tests_name("deadline", tests, NULL, NULL);
}
