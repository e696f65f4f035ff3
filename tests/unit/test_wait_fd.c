/*
 * test_wait_fd.c — blocking on a context: ctx_wait and ctx_fd (poll/epoll), the C
 * stand-ins for Go's `<-ctx.Done()`.
 */
#include "testutil.h"

#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

static int key;

/* poll() the fd with `timeout_ms`; returns whether it is readable. */
static bool readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    do
        n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    assert_true(n >= 0);
    return n == 1 && (p.revents & POLLIN);
}

/* ctx_fd: not readable while live; readable, level-triggered, once cancelled. */
static void FdReadableAfterCancel(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    int fd = ctx_fd(c);
    assert_true(fd >= 0);
    assert_int_equal(ctx_fd(c), fd); /* created once, then the same */
    assert_false(readable(fd, 0));
    assert_false(readable(fd, 5));
    ctx_cancel(c);
    for (int i = 0; i < 5; i++) /* level-triggered: stays readable */
        assert_true(readable(fd, 0));
    assert_int_equal(ctx_fd(c), fd);
    ctx_release(c);
}

/* ctx_fd with epoll (level-triggered): reported on every epoll_wait once done. */
static void FdWorksWithEpoll(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    int fd = ctx_fd(c);
    assert_true(fd >= 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    assert_true(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
    assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
    struct epoll_event out;
    assert_int_equal(epoll_wait(ep, &out, 1, 0), 0);
    ctx_cancel(c);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(epoll_wait(ep, &out, 1, 5000), 1);
        assert_int_equal(out.data.u64, 7);
        assert_true(out.events & EPOLLIN);
    }
    close(ep);
    ctx_release(c);
}

/* ctx_fd of a context that is already done is readable at once. */
static void FdReadableWhenBornDone(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_cancel(p);
    ctx_t *c = ctx_with_cancel(p);
    ctx_t *d = ctx_with_deadline(ctx_background(), ctx_now() - CTX_SECOND);
    ctx_t *all[] = {p, c, d};
    for (int i = 0; i < 3; i++) {
        int fd = ctx_fd(all[i]);
        assert_true(fd >= 0);
        assert_true(readable(fd, 0));
    }
    ctx_release(d);
    ctx_release(c);
    ctx_release(p);
}

/* ctx_fd becomes readable when a parent is cancelled or the deadline passes. */
static void FdReadableAfterParentCancelAndDeadline(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_cancel(p);
    int fd = ctx_fd(c);
    assert_false(readable(fd, 0));
    ctx_cancel(p);
    assert_true(readable(fd, 0));
    ctx_release(c);
    ctx_release(p);

    ctx_t *t = ctx_with_timeout(ctx_background(), 5 * CTX_MILLISECOND);
    fd = ctx_fd(t);
    assert_true(readable(fd, 5000));
    assert_done(t, CTX_DEADLINE_EXCEEDED);
    ctx_release(t);
}

/* Contract: derived value contexts share their cancellable ancestor's fd. */
static void FdSharedByValueContexts(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v1 = ctx_with_value(p, &key, NULL, NULL);
    ctx_t *v2 = ctx_with_value(v1, &key, NULL, NULL);
    int fd = ctx_fd(v2); /* first use through the grandchild */
    assert_true(fd >= 0);
    assert_int_equal(ctx_fd(v1), fd);
    assert_int_equal(ctx_fd(p), fd);
    ctx_cancel(p);
    assert_true(readable(fd, 0));
    ctx_release(v2);
    ctx_release(v1);
    ctx_release(p);
}

/* Contract: -1/EINVAL for a context that can never be done. */
static void FdOfNeverDoneIsEINVAL(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *w = ctx_without_cancel(p);
    ctx_t *wv = ctx_with_value(w, &key, NULL, NULL);
    ctx_t *bv = ctx_with_value(ctx_background(), &key, NULL, NULL);
    ctx_t *list[] = {ctx_background(), ctx_todo(), w, wv, bv};
    for (int i = 0; i < 5; i++) {
        errno = 0;
        assert_int_equal(ctx_fd(list[i]), -1);
        assert_int_equal(errno, EINVAL);
    }
    /* A cancellable context below without_cancel has one again. */
    ctx_t *c = ctx_with_cancel(wv);
    assert_true(ctx_fd(c) >= 0);
    ctx_release(c);
    ctx_release(bv);
    ctx_release(wv);
    ctx_release(w);
    ctx_release(p);
}

struct poller {
    int fd;
    atomic_int result; /* 0 pending, 1 readable, -1 not */
};

static void *poll_thread(void *arg)
{
    struct poller *p = arg;
    struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
    int n;
    do
        n = poll(&pfd, 1, (int)(QUIESCENT_NS / CTX_MILLISECOND));
    while (n < 0 && errno == EINTR);
    atomic_store(&p->result, n == 1 && (pfd.revents & POLLIN) ? 1 : -1);
    return NULL;
}

/* A thread blocked in poll() on ctx_fd wakes when another thread cancels. */
static void FdWakesBlockedPoller(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    struct poller p = {.fd = ctx_fd(c)};
    pthread_t t = spawn(poll_thread, &p);
    sleep_ns(20 * CTX_MILLISECOND);
    assert_int_equal(atomic_load(&p.result), 0);
    ctx_cancel(c);
    join(t);
    assert_int_equal(atomic_load(&p.result), 1);
    ctx_release(c);
}

/* ctx_wait returns 0 at once if already done, whatever the timeout. */
static void WaitOnDoneReturnsZero(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(c, &key, NULL, NULL);
    ctx_cancel(c);
    assert_int_equal(ctx_wait(c, 0), 0);
    assert_int_equal(ctx_wait(c, -1), 0);
    assert_int_equal(ctx_wait(c, CTX_SECOND), 0);
    assert_int_equal(ctx_wait(v, 0), 0);
    assert_int_equal(ctx_wait(v, -1), 0);
    ctx_release(v);
    ctx_release(c);
}

/* ctx_wait on a live context returns ETIMEDOUT, not before the timeout has passed. */
static void WaitTimeoutReturnsETIMEDOUT(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(c, &key, NULL, NULL);
    assert_int_equal(ctx_wait(c, 0), ETIMEDOUT);
    int64_t t0 = ctx_now();
    assert_int_equal(ctx_wait(c, 10 * CTX_MILLISECOND), ETIMEDOUT);
    assert_true(ctx_now() - t0 >= 10 * CTX_MILLISECOND);
    t0 = ctx_now();
    assert_int_equal(ctx_wait(v, 5 * CTX_MILLISECOND), ETIMEDOUT);
    assert_true(ctx_now() - t0 >= 5 * CTX_MILLISECOND);
    assert_live(c);
    ctx_release(v);
    ctx_release(c);
}

/* ctx_wait(-1) returns 0 when the deadline passes; the err says why. */
static void WaitForeverEndsAtDeadline(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), 5 * CTX_MILLISECOND);
    int64_t d;
    assert_true(ctx_deadline(c, &d));
    assert_int_equal(ctx_wait(c, -1), 0);
    assert_true(ctx_now() >= d);
    assert_done(c, CTX_DEADLINE_EXCEEDED);
    ctx_release(c);
}

struct waiter {
    ctx_t *c;
    atomic_int *woken;
    atomic_int result;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    atomic_store(&w->result, ctx_wait(w->c, -1) == 0 && ctx_is_done(w->c) ? 1 : -1);
    atomic_fetch_add(w->woken, 1);
    return NULL;
}

/* One cancel wakes every thread blocked in ctx_wait, on it and on its descendants. */
static void WaitWakesAllWaiters(void **state)
{
    (void)state;
    enum { N = 8 };
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &key, NULL, NULL);
    ctx_t *c = ctx_with_cancel(v);
    ctx_t *targets[] = {p, v, c};
    atomic_int woken = 0;
    struct waiter w[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        w[i] = (struct waiter){.c = targets[i % 3], .woken = &woken};
        atomic_init(&w[i].result, 0);
        t[i] = spawn(wait_thread, &w[i]);
    }
    sleep_ns(30 * CTX_MILLISECOND); /* let them block */
    assert_int_equal(atomic_load(&woken), 0);
    ctx_cancel(p);
    assert_true(wait_for_count(&woken, N));
    for (int i = 0; i < N; i++) {
        join(t[i]);
        assert_int_equal(atomic_load(&w[i].result), 1);
    }
    ctx_release(c);
    ctx_release(v);
    ctx_release(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(FdReadableAfterCancel),
        cmocka_unit_test(FdWorksWithEpoll),
        cmocka_unit_test(FdReadableWhenBornDone),
        cmocka_unit_test(FdReadableAfterParentCancelAndDeadline),
        cmocka_unit_test(FdSharedByValueContexts),
        cmocka_unit_test(FdOfNeverDoneIsEINVAL),
        cmocka_unit_test(FdWakesBlockedPoller),
        cmocka_unit_test(WaitOnDoneReturnsZero),
        cmocka_unit_test(WaitTimeoutReturnsETIMEDOUT),
        cmocka_unit_test(WaitForeverEndsAtDeadline),
        cmocka_unit_test(WaitWakesAllWaiters),
    };
    return cmocka_run_group_tests_name("wait_fd", tests, NULL, NULL);
}
