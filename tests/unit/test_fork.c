/*
 * test_fork.c — ctx.h "fork()": after fork the child can create, wait on and time out
 * contexts (the library's threads restart); inherited contexts are independent copies.
 * Children report by exit status only (no cmocka in the child).
 */
#include "testutil.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void noop_fn(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

/* Get the library's timer and callback threads running in the parent before forking. */
static void warm_up_threads(void)
{
    ctx_t *t = ctx_with_timeout(ctx_background(), CTX_MILLISECOND);
    atomic_int ran = 0;
    ctx_after_func(t, noop_fn, &ran);
    assert_int_equal(ctx_wait(t, QUIESCENT_NS), 0);
    assert_true(wait_for_count(&ran, 1));
    ctx_release(t);
}

/* Fork and run `child` in the child; its return value is the exit status. Returns
 * that status, or 1000 + the signal that killed the child. */
static int run_in_child(int (*child)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20); /* a hung child dies instead of hanging the test */
        _exit(child(arg));
    }
    int status = 0;
    pid_t got;
    do
        got = waitpid(pid, &status, 0);
    while (got < 0 && errno == EINTR);
    assert_int_equal(got, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

static int child_timeout(void *arg)
{
    (void)arg;
    ctx_t *c = ctx_with_timeout(ctx_background(), 20 * CTX_MILLISECOND);
    if (!c)
        return 1;
    if (ctx_is_done(c))
        return 2;
    if (ctx_wait(c, 10 * CTX_SECOND) != 0)
        return 3;
    if (ctx_err(c) != CTX_DEADLINE_EXCEEDED)
        return 4;
    ctx_release(c);
    return 0;
}

/* A context with a timeout, created in the child, fires there. */
static void ForkChildTimeoutFires(void **state)
{
    (void)state;
    warm_up_threads();
    assert_int_equal(run_in_child(child_timeout, NULL), 0);
}

static int child_after_and_fd(void *arg)
{
    (void)arg;
    atomic_int ran = 0;
    ctx_t *c = ctx_with_cancel(ctx_background());
    if (!ctx_after_func(c, noop_fn, &ran))
        return 1;
    int fd = ctx_fd(c);
    if (fd < 0)
        return 2;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) != 0)
        return 3;
    ctx_cancel(c);
    if (poll(&p, 1, 10000) != 1)
        return 4;
    if (!wait_for_count(&ran, 1))
        return 5;
    ctx_release(c);
    return 0;
}

/* In the child, after_func callbacks run and ctx_fd of a new context works. */
static void ForkChildCallbacksAndFd(void **state)
{
    (void)state;
    warm_up_threads();
    assert_int_equal(run_in_child(child_after_and_fd, NULL), 0);
}

struct inherited {
    ctx_t *cancel, *timer;
};

static int child_inherited(void *arg)
{
    struct inherited *in = arg;
    if (ctx_is_done(in->cancel) || ctx_is_done(in->timer))
        return 1;
    ctx_cancel(in->cancel); /* affects only this process */
    if (ctx_err(in->cancel) != CTX_CANCELED)
        return 2;
    if (ctx_wait(in->timer, 10 * CTX_SECOND) != 0) /* its deadline keeps firing here */
        return 3;
    if (ctx_err(in->timer) != CTX_DEADLINE_EXCEEDED)
        return 4;
    return 0;
}

/* Inherited contexts are independent copies; their deadlines keep firing in the child. */
static void ForkInheritedContextsAreIndependent(void **state)
{
    (void)state;
    warm_up_threads();
    struct inherited in = {
        .cancel = ctx_with_cancel(ctx_background()),
        .timer = ctx_with_timeout(ctx_background(), 50 * CTX_MILLISECOND),
    };
    ctx_t *child_of_cancel = ctx_with_cancel(in.cancel);
    int rc = run_in_child(child_inherited, &in);
    bool cancel_live = !ctx_is_done(in.cancel) && !ctx_is_done(child_of_cancel);
    int waited = ctx_wait(in.timer, QUIESCENT_NS), err = ctx_err(in.timer);
    ctx_release(child_of_cancel);
    ctx_release(in.timer);
    ctx_release(in.cancel);
    assert_int_equal(rc, 0);
    assert_true(cancel_live); /* the child's cancel did not reach us */
    assert_int_equal(waited, 0);
    assert_int_equal(err, CTX_DEADLINE_EXCEEDED);
}

static int child_inherited_after(void *arg)
{
    ctx_t *timer = arg;
    atomic_int ran = 0;
    if (ctx_is_done(timer))
        return 1;
    if (!ctx_after_func(timer, noop_fn, &ran)) /* a use of the library, but no wait */
        return 2;
    int64_t end = ctx_now() + QUIESCENT_NS;
    while (atomic_load(&ran) == 0 && ctx_now() < end)
        sleep_ns(CTX_MILLISECOND);
    if (atomic_load(&ran) != 1)
        return 3;
    if (ctx_err(timer) != CTX_DEADLINE_EXCEEDED)
        return 4;
    return 0;
}

/* "Their deadlines keep firing in the child": an inherited deadline fires in the child
 * when the child only registers a callback on it (never calls ctx_wait or ctx_fd). */
static void ForkInheritedDeadlineFiresForCallback(void **state)
{
    (void)state;
    warm_up_threads();
    ctx_t *timer = ctx_with_timeout(ctx_background(), 50 * CTX_MILLISECOND);
    int rc = run_in_child(child_inherited_after, timer);
    ctx_release(timer);
    assert_int_equal(rc, 0);
}

static int child_forks_again(void *arg)
{
    (void)arg;
    int rc = child_timeout(NULL);
    if (rc)
        return 10 + rc;
    fflush(NULL);
    pid_t pid = fork(); /* a grandchild, forked from a process that restarted threads */
    if (pid < 0)
        return 20;
    if (pid == 0)
        _exit(child_timeout(NULL));
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 21;
    return WEXITSTATUS(status) ? 30 + WEXITSTATUS(status) : 0;
}

/* A forked child can fork again; contexts work in the grandchild too. */
static void ForkTwice(void **state)
{
    (void)state;
    warm_up_threads();
    assert_int_equal(run_in_child(child_forks_again, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ForkChildTimeoutFires),
        cmocka_unit_test(ForkChildCallbacksAndFd),
        cmocka_unit_test(ForkInheritedContextsAreIndependent),
        cmocka_unit_test(ForkInheritedDeadlineFiresForCallback),
        cmocka_unit_test(ForkTwice),
    };
    return cmocka_run_group_tests_name("fork", tests, NULL, NULL);
}
