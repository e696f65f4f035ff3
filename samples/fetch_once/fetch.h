/*
 * fetch.h — the crawler of the fetch_once sample.
 *
 * crawl.c is the same in both variants: it fetches a fixed list of pages, one after the
 * other, under one crawl context. What differs is fetch_once(), the function that owns
 * each page's timeout context: it lives in fetch_fixed.c and fetch_leaky.c, so
 * `diff fetch_fixed.c fetch_leaky.c` shows the bug.
 */
#ifndef FETCH_ONCE_FETCH_H
#define FETCH_ONCE_FETCH_H

#include <stddef.h>

#include <ctxtrace/ctx.h>

/* How many pages the crawl fetches: every run creates exactly this many page contexts. */
#define NPAGES 50
/* Each page fetch may take this long: far longer than the run, so it never fires. */
#define FETCH_TIMEOUT (10 * CTX_SECOND)
/* ...and the (simulated) web server actually answers this fast. */
#define FETCH_LATENCY (50 * CTX_MICROSECOND)

struct page {
    size_t bytes;
};

/* Fetch `url` once, under its own FETCH_TIMEOUT derived from `parent`: defined by
 * fetch_fixed.c or fetch_leaky.c. 0, or why the fetch's context ended first. */
int fetch_once(ctx_t *parent, const char *url, struct page *out);

/* The HTTP GET itself: simulated I/O of FETCH_LATENCY that `ctx` may cut short. 0 and
 * *out filled in, or ctx_err(ctx) when `ctx` ended first. Go's
 *     req, _ := http.NewRequestWithContext(ctx, "GET", url, nil); client.Do(req) */
int http_get(ctx_t *ctx, const char *url, struct page *out);

#endif /* FETCH_ONCE_FETCH_H */
