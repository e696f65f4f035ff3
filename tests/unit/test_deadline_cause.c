/*
 * test_deadline_cause.c — ctx_with_deadline_cause / ctx_with_timeout_cause: Go's
 * WithDeadlineCause and WithTimeoutCause (Go 1.21).
 *
 * The table rows are Go's TestCause (context_test.go), row by row with Go's names, plus
 * the cases Go's contract implies and C adds (the reason text, a parent whose deadline
 * comes first, a cause inherited by descendants, the timer really firing).
 */
#include "testutil.h"

/* Go's tooSlow / finishedEarly / parentCause / childCause, as errno-style codes. */
#define TOO_SLOW EAGAIN
#define FINISHED_EARLY ESHUTDOWN
#define PARENT_CAUSE EPIPE
#define CHILD_CAUSE ECONNRESET

#define FOREVER (1000000 * CTX_SECOND) /* Go's `forever = 1e6 * time.Second` */

static void check(ctx_t *c, int err, int cause)
{
    assert_int_equal(ctx_err(c), err);
    assert_int_equal(ctx_cause(c, NULL), cause);
}

/* TestCause "WithTimeout": timeout 0, then cancel: the deadline came first. */
static void CauseWithTimeout(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), 0);
    ctx_cancel(c);
    check(c, CTX_DEADLINE_EXCEEDED, CTX_DEADLINE_EXCEEDED);
    ctx_release(c);
}

/* TestCause "WithTimeout canceled". */
static void CauseWithTimeoutCanceled(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), FOREVER);
    ctx_cancel(c);
    check(c, CTX_CANCELED, CTX_CANCELED);
    ctx_release(c);
}

/* TestCause "WithTimeoutCause": the context's own deadline reports the cause. */
static void CauseWithTimeoutCause(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout_cause(ctx_background(), 0, TOO_SLOW, "too slow");
    ctx_cancel(c);
    check(c, CTX_DEADLINE_EXCEEDED, TOO_SLOW);
    const char *reason = NULL;
    ctx_cause(c, &reason);
    assert_non_null(reason);
    assert_string_equal(reason, "too slow");
    ctx_release(c);
}

/* TestCause "WithTimeoutCause canceled": cancelling does not set the cause (Go's
 * CancelFunc of WithTimeoutCause reports Canceled). */
static void CauseWithTimeoutCauseCanceled(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout_cause(ctx_background(), FOREVER, TOO_SLOW, "too slow");
    ctx_cancel(c);
    check(c, CTX_CANCELED, CTX_CANCELED);
    const char *reason = "unset";
    ctx_cause(c, &reason);
    assert_null(reason);
    ctx_release(c);
}

/* TestCause "WithTimeoutCause stacked": done at birth with its cause; the parent's
 * later cancellation does not change it. */
static void CauseWithTimeoutCauseStacked(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_timeout_cause(p, 0, TOO_SLOW, NULL);
    ctx_cancel_cause(p, FINISHED_EARLY, NULL);
    check(c, CTX_DEADLINE_EXCEEDED, TOO_SLOW);
    ctx_release(c);
    ctx_release(p);
}

/* TestCause "WithTimeoutCause stacked canceled": the parent's cause wins when the
 * parent ends first. */
static void CauseWithTimeoutCauseStackedCanceled(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_timeout_cause(p, FOREVER, TOO_SLOW, "too slow");
    ctx_cancel_cause(p, FINISHED_EARLY, "finished early");
    check(c, CTX_CANCELED, FINISHED_EARLY);
    const char *reason = NULL;
    ctx_cause(c, &reason);
    assert_string_equal(reason, "finished early");
    ctx_release(c);
    ctx_release(p);
}

/* TestCause "WithoutCancel timeout": a without_cancel child of a timed-out context is
 * never done and has no cause. */
static void CauseWithoutCancelTimeout(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout_cause(ctx_background(), 0, TOO_SLOW, NULL);
    ctx_t *w = ctx_without_cancel(c);
    ctx_cancel(c);
    check(w, 0, 0);
    ctx_unref(w);
    ctx_release(c);
}

/* TestCause "WithCancelCause: parent cause before child" / "after child", with a
 * deadline-cause child: the first ending wins, whoever it is. */
static void CauseFirstEndingWins(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_timeout_cause(p, FOREVER, TOO_SLOW, NULL);
    ctx_cancel_cause(p, PARENT_CAUSE, NULL);
    ctx_cancel_cause(c, CHILD_CAUSE, NULL);
    check(c, CTX_CANCELED, PARENT_CAUSE);
    ctx_release(c);
    ctx_release(p);

    p = ctx_with_cancel(ctx_background());
    c = ctx_with_timeout_cause(p, FOREVER, TOO_SLOW, NULL);
    ctx_cancel_cause(c, CHILD_CAUSE, NULL);
    ctx_cancel_cause(p, PARENT_CAUSE, NULL);
    check(c, CTX_CANCELED, CHILD_CAUSE);
    ctx_release(c);
    ctx_release(p);
}

/* The timer really fires with the cause, and descendants (through a value context)
 * inherit it: Go's Cause(child) walks to the timerCtx's cause. */
static void DeadlineCauseFiresAndIsInherited(void **state)
{
    (void)state;
    static int key;
    int64_t deadline = ctx_now() + 20 * CTX_MILLISECOND;
    ctx_t *c = ctx_with_deadline_cause(ctx_background(), deadline, TOO_SLOW, "backend too slow");
    assert_non_null(c);
    ctx_t *v = ctx_with_value(c, &key, &key, NULL);
    ctx_t *kid = ctx_with_cancel(v);
    int64_t d = 0;
    assert_true(ctx_deadline(kid, &d));
    assert_int_equal(d, deadline);
    assert_live(kid);
    assert_becomes_done(kid, CTX_DEADLINE_EXCEEDED);
    assert_true(ctx_now() >= deadline);
    const char *reason = NULL;
    assert_int_equal(ctx_cause(kid, &reason), TOO_SLOW);
    assert_string_equal(reason, "backend too slow");
    assert_int_equal(ctx_cause(v, NULL), TOO_SLOW);
    check(c, CTX_DEADLINE_EXCEEDED, TOO_SLOW);
    ctx_release(kid);
    ctx_unref(v);
    ctx_release(c);
}

/* A parent deadline that comes first wins: the child reports the parent's deadline and,
 * when it passes, the parent's cause — never its own. */
static void ParentDeadlineFirstReportsParentCause(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_timeout_cause(ctx_background(), 20 * CTX_MILLISECOND, PARENT_CAUSE,
                                      "parent too slow");
    ctx_t *c = ctx_with_timeout_cause(p, FOREVER, CHILD_CAUSE, "child too slow");
    int64_t dp = 0, dc = 0;
    assert_true(ctx_deadline(p, &dp));
    assert_true(ctx_deadline(c, &dc));
    assert_int_equal(dc, dp);
    assert_becomes_done(c, CTX_DEADLINE_EXCEEDED);
    const char *reason = NULL;
    assert_int_equal(ctx_cause(c, &reason), PARENT_CAUSE);
    assert_string_equal(reason, "parent too slow");
    ctx_release(c);
    ctx_release(p);
}

/* A plain deadline parent that comes first: the child's cause is the parent's plain
 * CTX_DEADLINE_EXCEEDED. */
static void ParentPlainDeadlineFirst(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_timeout(ctx_background(), 10 * CTX_MILLISECOND);
    ctx_t *c = ctx_with_timeout_cause(p, FOREVER, TOO_SLOW, "too slow");
    assert_becomes_done(c, CTX_DEADLINE_EXCEEDED);
    const char *reason = "unset";
    assert_int_equal(ctx_cause(c, &reason), CTX_DEADLINE_EXCEEDED);
    assert_null(reason);
    ctx_release(c);
    ctx_release(p);
}

/* cause 0: ctx_cause reports CTX_DEADLINE_EXCEEDED (Go: a nil cause), with the reason. */
static void ZeroCauseIsDeadlineExceeded(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_deadline_cause(ctx_background(), ctx_now() - 1, 0, "late");
    const char *reason = NULL;
    assert_int_equal(ctx_cause(c, &reason), CTX_DEADLINE_EXCEEDED);
    assert_string_equal(reason, "late");
    ctx_release(c);

    c = ctx_with_timeout_cause(ctx_background(), 0, 0, NULL);
    check(c, CTX_DEADLINE_EXCEEDED, CTX_DEADLINE_EXCEEDED);
    ctx_release(c);
}

/* The reason is copied: the caller's buffer may change or go at once. */
static void ReasonIsCopied(void **state)
{
    (void)state;
    char buf[32];
    strcpy(buf, "first text");
    ctx_t *c = ctx_with_timeout_cause(ctx_background(), 5 * CTX_MILLISECOND, TOO_SLOW, buf);
    strcpy(buf, "overwritten");
    assert_becomes_done(c, CTX_DEADLINE_EXCEEDED);
    const char *reason = NULL;
    ctx_cause(c, &reason);
    assert_string_equal(reason, "first text");
    ctx_release(c);
}

/* Derivation contract: NULL parent → NULL with EINVAL. */
static void NullParentIsEinval(void **state)
{
    (void)state;
    errno = 0;
    assert_null(ctx_with_deadline_cause(NULL, ctx_now(), TOO_SLOW, NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(ctx_with_timeout_cause(NULL, CTX_SECOND, TOO_SLOW, "x"));
    assert_int_equal(errno, EINVAL);
}

/* An orphaned timer with a cause (owners gone, timer armed) still fires and frees its
 * reason with the context (the ASan build checks the free). */
static void OrphanedCauseTimerFiresAndFrees(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout_cause(ctx_background(), 5 * CTX_MILLISECOND, TOO_SLOW,
                                      "orphan");
    ctx_t *watch = ctx_ref(c);
    ctx_unref(c); /* one owner left: the watcher's */
    assert_becomes_done(watch, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(ctx_cause(watch, NULL), TOO_SLOW);
    ctx_unref(watch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(CauseWithTimeout),
        cmocka_unit_test(CauseWithTimeoutCanceled),
        cmocka_unit_test(CauseWithTimeoutCause),
        cmocka_unit_test(CauseWithTimeoutCauseCanceled),
        cmocka_unit_test(CauseWithTimeoutCauseStacked),
        cmocka_unit_test(CauseWithTimeoutCauseStackedCanceled),
        cmocka_unit_test(CauseWithoutCancelTimeout),
        cmocka_unit_test(CauseFirstEndingWins),
        cmocka_unit_test(DeadlineCauseFiresAndIsInherited),
        cmocka_unit_test(ParentDeadlineFirstReportsParentCause),
        cmocka_unit_test(ParentPlainDeadlineFirst),
        cmocka_unit_test(ZeroCauseIsDeadlineExceeded),
        cmocka_unit_test(ReasonIsCopied),
        cmocka_unit_test(NullParentIsEinval),
        cmocka_unit_test(OrphanedCauseTimerFiresAndFrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
