/*
 * cache.h — the exchange-rate cache of the cache_ctx sample.
 *
 * rates.c is the same in both variants: a service answers NREQUESTS requests from a
 * cache that refreshes itself from an upstream every STALE_AFTER reads. What differs is
 * the context the cache's refreshes run under: cache_open(), cache_refresh() and
 * cache_close() live in cache_fixed.c and cache_leaky.c, so
 * `diff cache_fixed.c cache_leaky.c` shows the bug.
 */
#ifndef CACHE_CTX_CACHE_H
#define CACHE_CTX_CACHE_H

#include <stdbool.h>

#include <ctxtrace/ctx.h>

/* A refresh may take this long (never reached: the upstream answers in microseconds). */
#define REFRESH_TIMEOUT (250 * CTX_MILLISECOND)
#define UPSTREAM_LATENCY (100 * CTX_MICROSECOND)
/* The cached rate is refreshed on the first read and then after every STALE_AFTER reads
 * (whether the previous refresh worked or not), so every run refreshes at the same
 * requests. */
#define STALE_AFTER 3

/* A long-lived object: one per service. */
struct cache {
    ctx_t *ctx;  /* the context refreshes run under (see cache_fixed.c / cache_leaky.c) */
    bool valid;  /* a rate was fetched at least once */
    double rate; /* the cached value */
    int reads_since_refresh;
    int refreshes, refresh_failures, refresh_err, refresh_cause;
};

/* Set up the cache of the service whose context is `service`: 0 or an errno. */
int cache_open(struct cache *c, ctx_t *service);

/* Refresh the cached rate while serving `req`: 0, or why the refresh's context ended
 * first (the cache then keeps its stale rate). */
int cache_refresh(struct cache *c, ctx_t *req);

/* The service is shutting down: the cache stops. */
void cache_close(struct cache *c);

/* The upstream rate service: simulated I/O of UPSTREAM_LATENCY that `refresh` may cut
 * short (it does not start at all under a context that is already done). 0 and *rate
 * set, or ctx_err(refresh). */
int upstream_fetch(ctx_t *refresh, double *rate);

#endif /* CACHE_CTX_CACHE_H */
