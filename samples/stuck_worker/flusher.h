/*
 * flusher.h — the metrics flusher of the stuck_worker sample.
 *
 * flusher.c is the same in both variants: a service buffers metrics, and a worker
 * thread flushes them when the service shuts down. What differs is flusher_context(),
 * the context the worker is given: it lives in worker_fixed.c and worker_leaky.c, so
 * `diff worker_fixed.c worker_leaky.c` shows the bug.
 */
#ifndef STUCK_WORKER_FLUSHER_H
#define STUCK_WORKER_FLUSHER_H

#include <ctxtrace/ctx.h>

/* How long main() waits for the flusher after cancelling the service before it exits
 * without it: a shutdown grace period, as servers have. */
#define SHUTDOWN_GRACE (100 * CTX_MILLISECOND)

/* Derive the context the flusher thread runs on from the service's context into *ctx:
 * defined by worker_fixed.c or worker_leaky.c. The flusher owns it (one reference) and
 * releases it when it returns. 0, or an errno. */
int flusher_context(ctx_t *service, ctx_t **ctx);

#endif /* STUCK_WORKER_FLUSHER_H */
