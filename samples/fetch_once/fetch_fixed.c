/*
 * fetch_fixed.c — Go's `fetchOnce`, done right (sample_fetch_once_fixed).
 *
 * Scenario: one URL fetched under its own timeout, called in a loop by a crawler (see
 * crawl.c for the story and main()).
 *
 * The fix: keep the cancel and call it when the fetch returns. In Go
 *     ctx, cancel := context.WithTimeout(parent, 10*time.Second)
 *     defer cancel()
 * CTX_AUTO is that `defer cancel()`: ctx_release() at scope exit cancels the page's
 * context, which stops its timer and detaches it from `crawl` the moment the fetch is
 * over. Under `ctxtrace run` this variant has no findings.
 *
 * Look at: line 23, the CTX_AUTO declaration in fetch_once(); compare fetch_leaky.c.
 */
#include <errno.h>
#include <stddef.h>

#include "fetch.h"

int fetch_once(ctx_t *parent, const char *url, struct page *out)
{
    CTX_AUTO ctx_t *ctx = ctx_with_timeout(parent, FETCH_TIMEOUT);
    if (ctx == NULL)
        return errno;
    return http_get(ctx, url, out); /* CTX_AUTO releases ctx: its timer is stopped */
}
