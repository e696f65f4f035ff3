/*
 * rates.c — a cache that keeps a request's context, the service around it.
 *
 * Scenario: the context package's rule "Do not store Contexts inside a struct type;
 * instead, pass a Context explicitly to each function that needs it", and the bug it
 * prevents (the Go blog's "Contexts and structs"): a long-lived cache that remembers the
 * context it was first used with,
 *     func (c *Cache) Get(ctx context.Context) Rate {
 *         if c.ctx == nil { c.ctx = ctx } // "refreshes need a context"
 * works for the first request and then, once that request is over and its context is
 * cancelled, every later refresh fails with "context canceled" and the cache serves a
 * stale value for the rest of the process — while holding on to the first request's
 * context (and, through its parent, the service's) forever.
 *
 * Here: main() derives the `service` context (ctx_with_cancel of ctx_background()) and
 * opens a static cache, then serves NREQUESTS requests one after the other, each under
 * its own request context (ctx_with_cancel of `service`, released when the request ends).
 * Each request reads the cached exchange rate; the cache refreshes on the first read
 * and every STALE_AFTER reads after (requests 1, 4, 7 and 10), under a REFRESH_TIMEOUT
 * context derived by cache_refresh() in cache_fixed.c / cache_leaky.c.
 *
 * Look at: the "cache:" lines of the output (refreshes that failed, and the rate the
 * last request was served); line 88, where each request context is created (request 1's
 * is the one the leaky cache keeps); and cache_open()/cache_refresh()/cache_close() in
 * the variant files.
 *
 * Exit status: 0 when every request was served a rate, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>

#include "cache.h"
#include "err_text.h"

#define NREQUESTS 10

/* The cache is a long-lived object; static, as a process-wide cache would be. */
static struct cache rates;
static int upstream_answers;

int upstream_fetch(ctx_t *refresh, double *rate)
{
    if (ctx_is_done(refresh))
        return ctx_err(refresh);
    /* ctx_wait() gives ETIMEDOUT when UPSTREAM_LATENCY passed first: the answer came. */
    if (ctx_wait(refresh, UPSTREAM_LATENCY) != ETIMEDOUT)
        return ctx_err(refresh);
    *rate = 1.08 + 0.01 * upstream_answers++;
    return 0;
}

/* Serve one request: read the rate, refreshing it first when it is due. */
static int read_rate(struct cache *c, ctx_t *req, double *rate)
{
    if (!c->valid || c->reads_since_refresh >= STALE_AFTER) {
        c->refreshes++;
        c->reads_since_refresh = 0;
        int err = cache_refresh(c, req);
        if (err != 0) {
            c->refresh_failures++;
            c->refresh_err = err;
            c->refresh_cause = ctx_cause(c->ctx, NULL);
        }
    }
    c->reads_since_refresh++;
    if (!c->valid)
        return ENODATA;
    *rate = c->rate;
    return 0;
}

int main(void)
{
    ctx_t *service = ctx_with_cancel(ctx_background());
    if (service == NULL) {
        perror("ctx_with_cancel");
        return 1;
    }
    int rc = cache_open(&rates, service);
    if (rc != 0) {
        fprintf(stderr, "cache_open: %s\n", err_text(rc));
        return 1;
    }

    int served = 0;
    double rate = 0;
    for (int n = 0; n < NREQUESTS; n++) {
        ctx_t *req = ctx_with_cancel(service);
        if (req != NULL && read_rate(&rates, req, &rate) == 0)
            served++;
        ctx_release(req); /* the request is over */
    }
    printf("requests: %d served, the last one at rate %.2f\n", served, rate);
    printf("cache: %d refreshes, %d failed", rates.refreshes, rates.refresh_failures);
    if (rates.refresh_failures > 0)
        printf(": %s (cause: %s)", err_text(rates.refresh_err),
               err_text(rates.refresh_cause));
    printf("\n");
    printf("cache: %d rates fetched from the upstream\n", upstream_answers);

    cache_close(&rates);
    ctx_release(service);
    return served == NREQUESTS ? 0 : 1;
}
