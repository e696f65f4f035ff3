/*
 * cache_fixed.c — a cache with a context of its own (sample_cache_ctx_fixed).
 *
 * Scenario: a long-lived exchange-rate cache that refreshes itself while serving
 * requests (see rates.c for the story and main()).
 *
 * The fix: the cache's lifetime is the service's, not any request's, so it gets its own
 * context — a cancellable child of the service context, made in cache_open() and
 * released in cache_close() at shutdown (Go: `ctx, cancel := context.WithCancel(svcCtx)`
 * stored with the cancel, and Close() calls cancel). Each refresh runs under its own
 * REFRESH_TIMEOUT derived from that, released as soon as it returns (CTX_AUTO). No
 * request's context is stored anywhere: every refresh succeeds. Under `ctxtrace run`
 * this variant has no findings.
 *
 * Look at: line 25 (cache_open), line 32 (the refresh's ctx_with_timeout of c->ctx) and
 * line 46 (cache_close); compare cache_leaky.c.
 */
#include <errno.h>
#include <stddef.h>

#include "cache.h"

int cache_open(struct cache *c, ctx_t *service)
{
    c->ctx = ctx_with_cancel(service); /* the cache's own lifetime */
    return c->ctx != NULL ? 0 : errno;
}

int cache_refresh(struct cache *c, ctx_t *req)
{
    (void)req; /* the refresh serves every request, not this one: not under its context */
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
    ctx_release(c->ctx); /* stops anything still running under the cache */
    c->ctx = NULL;
}
