/*
 * worker_leaky.c — a worker nobody can stop (sample_stuck_worker_leaky).
 *
 * Scenario: the metrics flusher of flusher.c, which waits for the service to shut down,
 * given a context written the way it often is:
 *     go flusher(context.WithoutCancel(ctx)) // "the flusher must not die with a request"
 *
 * The leak: ctx_without_cancel() keeps the service's values (the flusher still finds
 * the service name) but drops its cancellation: the context is never done and has no
 * deadline. The shutdown's ctx_cancel(app) cannot reach it, so the flusher stays blocked
 * in ctx_wait(ctx, -1) forever; main() gives up after the grace period and exits 0 with
 * the thread still blocked (and the buffered metrics never flushed). ctxtrace reports a
 * leaked-waiter: 1 thread, at the ctx_wait in flusher_main() (flusher.c), thread
 * created in main() (flusher.c).
 *
 * Look at: line 26, the ctx_without_cancel(service). The fix is a cancellable child of
 * the service context; see worker_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "flusher.h"

int flusher_context(ctx_t *service, ctx_t **ctx)
{
    *ctx = ctx_without_cancel(service); /* BUG: nothing can ever end the flusher's wait */
    return *ctx != NULL ? 0 : errno;
}
