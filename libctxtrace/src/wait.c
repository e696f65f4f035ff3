/*
 * wait.c — blocking until a context is done: ctx_wait (a futex on the state word) and
 * ctx_fd (an eventfd for poll/epoll loops).
 *
 * Waiters set STATE_WAITERS in the state word (under the context's lock, like every
 * change of the word) before sleeping on it; the canceller, reading the word under that
 * lock, knows whether anyone may sleep, so cancelling a context nobody waits on costs no
 * system call.
 */
#include <sys/eventfd.h>

#include "futex.h"
#include "internal.h"

static void notify_wait(ctx_t *c, enum ctx_wait_event ev, int result)
{
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL, 0) && t->wait)
        t->wait(c, ev, result);
}

CTX_API int ctx_wait(ctx_t *c, int64_t timeout)
{
    if (c == NULL)
        return EINVAL;
    ctx_t *src = ctx_done_src(c);
    if (src != NULL &&
        ctx_state_err(atomic_load_explicit(&src->state, memory_order_acquire)) != 0)
        return 0;
    if (timeout == 0)
        return ETIMEDOUT;
    /* After fork() an inherited deadline (ours or an ancestor's) needs the timer
     * thread back before we sleep on it. */
    ctx__timer_ensure();

    struct timespec abs, *absp = NULL;
    if (timeout > 0) {
        int64_t now = ctx_now();
        int64_t until = timeout > INT64_MAX - now ? INT64_MAX : now + timeout;
        abs.tv_sec = until / CTX_SECOND;
        abs.tv_nsec = until % CTX_SECOND;
        absp = &abs;
    }
    notify_wait(c, CTX_WAIT_BLOCKED, 0);
    int result = 0;
    if (src == NULL) {
        /* Never done: sleep out the timeout on a private word nobody wakes. A negative
         * timeout here is a deadlock the application asked for, as in Go (<-nil). */
        _Atomic uint32_t never = 0;
        while (ctx_futex_wait(&never, 0, absp) != ETIMEDOUT)
            ;
        result = ETIMEDOUT;
    } else {
        for (;;) {
            /* Only the holder of the context's lock writes its state word (internal.h). */
            uint32_t s = ctx_state_lock(src);
            if (ctx_state_err(s) == 0)
                s |= STATE_WAITERS;
            ctx_state_unlock(src, s);
            if (ctx_state_err(s) != 0)
                break;
            if (ctx_futex_wait(&src->state, s, absp) == ETIMEDOUT) {
                if (ctx_state_err(atomic_load_explicit(&src->state,
                                                       memory_order_acquire)) == 0)
                    result = ETIMEDOUT;
                break;
            }
        }
    }
    notify_wait(c, CTX_WAIT_WOKEN, result);
    return result;
}

CTX_API int ctx_fd(ctx_t *c)
{
    ctx_t *src = c == NULL ? NULL : ctx_done_src(c);
    if (src == NULL) {
        errno = EINVAL;
        return -1;
    }
    uint32_t state = ctx_state_lock(src);
    int fd = CC(src)->fd;
    if (fd < 0) {
        /* Born readable if already done; otherwise the canceller writes to it (it
         * reads the fd under this same lock). Nobody ever reads it, so it stays
         * readable: level-triggered for every poller. */
        bool done = ctx_state_err(state) != 0;
        fd = eventfd(done ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd >= 0)
            CC(src)->fd = fd;
    }
    ctx_state_unlock(src, state);
    ctx__timer_ensure(); /* as in ctx_wait: a poller relies on deadlines firing */
    return fd;
}
