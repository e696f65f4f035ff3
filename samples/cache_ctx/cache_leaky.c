/*
 * cache_leaky.c — a cache that keeps the first request's context
 * (sample_cache_ctx_leaky).
 *
 * Scenario: a long-lived exchange-rate cache that refreshes itself while serving
 * requests (see rates.c for the story and main()), storing "a context for refreshes"
 * the first time it is used — Go's `if c.ctx == nil { c.ctx = ctx }`.
 *
 * The defects: cache_refresh() keeps the first request's context (ctx_ref, so the
 * pointer stays valid) and derives every refresh from it. Request 1 ends and releases
 * its context; from then on every refresh is born done, the upstream is never asked,
 * and the cache serves request 1's rate forever (3 of the 4 refreshes fail with
 * "context canceled" — visible in the output). And the cache never drops that
 * reference: request 1's context, and through its parent reference the service context,
 * stay allocated until exit (reachable from the static cache, so LeakSanitizer is
 * silent).
 *
 * What ctxtrace reports: derived-from-done at the ctx_with_timeout in cache_refresh()
 * (this file): 3 refreshes born done from one stale parent, request 1's context. The
 * trace also shows that request 1's context (kind cancel, created in main(), rates.c)
 * has canceled_ns set but never reaches released_ns (its last owner, the cache, never
 * lets go) nor freed_ns.
 *
 * Look at: line 45, the ctx_ref(req) in cache_refresh(), and line 60, cache_close(). The
 * fix is a context the cache owns, derived from the service's; see cache_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "cache.h"

int cache_open(struct cache *c, ctx_t *service)
{
    (void)service; /* BUG (1/3): the cache takes its context from the first request */
    c->ctx = NULL;
    return 0;
}

int cache_refresh(struct cache *c, ctx_t *req)
{
    if (c->ctx == NULL)
        c->ctx = ctx_ref(req); /* BUG (2/3): done as soon as request 1 is over */
    CTX_AUTO ctx_t *refresh = ctx_with_timeout(c->ctx, REFRESH_TIMEOUT);
    if (refresh == NULL)
        return errno;
    double rate;
    int err = upstream_fetch(refresh, &rate);
    if (err == 0) {
        c->rate = rate;
        c->valid = true;
    }
    return err;
}

void cache_close(struct cache *c)
{
    (void)c; /* BUG (3/3): its reference to request 1's context is never dropped */
}
