/*
 * group_leaky.c — structured concurrency with a thread that escapes the group
 * (sample_group_leaky).
 *
 * Scenario: Go's errgroup search (see search.c for the story and main()), with the
 * classic goroutine leak: a helper started beside the group, on a context that can no
 * longer be cancelled. In Go:
 *     go ticker(context.WithoutCancel(ctx)) // "keep reporting even if a backend fails"
 *
 * What to look at: the ticker gets ctx_without_cancel() of the group's context, so it
 * keeps the request's values but loses its cancellation, and runs on a detached thread
 * the group does not join. The search ends exactly as in group_fixed.c and the program
 * exits 0, but the ticker thread is still blocked in ctx_wait() on a context nobody can
 * ever cancel — a leaked waiter, which ctxtrace reports at the ctx_wait() in
 * progress_ticker() (search.c) with this thread's creation stack. The fix is to make the
 * ticker a group member on the group's context; see group_fixed.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "search.h"

struct escaped_ticker {
    ctx_t *ctx;
    struct ticker *ticker;
};

static void *ticker_thread(void *arg)
{
    struct escaped_ticker *et = arg;
    progress_ticker(et->ctx, et->ticker); /* never returns: et->ctx is never done */
    ctx_unref(et->ctx);
    return NULL;
}

int start_progress_ticker(ctx_group_t *g, struct ticker *t)
{
    static struct escaped_ticker et; /* outlives this call, and main() */

    /* BUG: "the report should run to the end even if a backend fails" — but this
     * context can never be done, and nobody joins the thread. */
    et.ctx = ctx_without_cancel(ctx_group_ctx(g));
    et.ticker = t;
    if (et.ctx == NULL)
        return errno;

    pthread_t thread;
    int rc = pthread_create(&thread, NULL, ticker_thread, &et);
    if (rc != 0) {
        ctx_unref(et.ctx);
        return rc;
    }
    pthread_detach(thread);
    /* Let the ticker complete one tick before the search starts, so that at exit it is
     * always a thread that has been waiting on its uncancellable context (whether it is
     * inside ctx_wait at that instant or between two ticks): the leak is then visible
     * on every run, not only when the scheduler happens to cooperate. */
    for (int i = 0; i < 5000 && atomic_load(&t->ticks) == 0; i++)
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    return 0;
}
