/*
 * worker_fixed.c — a worker whose context the service can cancel
 * (sample_stuck_worker_fixed).
 *
 * Scenario: the metrics flusher of flusher.c, which waits for the service to shut down.
 *
 * The fix: the flusher's context is a cancellable child of the service context, so the
 * shutdown's ctx_cancel(app) reaches it: its ctx_wait() returns "context canceled", it
 * flushes, releases its context and returns, and main() joins it at once — the thread
 * stops with the service, as Go's "know how every goroutine stops" asks. Under
 * `ctxtrace run` this variant has no findings.
 *
 * Look at: line 22, the ctx_with_cancel(service); compare worker_leaky.c.
 */
#include <errno.h>
#include <stddef.h>

#include "flusher.h"

int flusher_context(ctx_t *service, ctx_t **ctx)
{
    *ctx = ctx_with_cancel(service);
    return *ctx != NULL ? 0 : errno;
}
