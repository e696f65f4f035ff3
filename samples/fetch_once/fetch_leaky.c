/*
 * fetch_leaky.c — Go's `fetchOnce` with the cancel discarded (sample_fetch_once_leaky).
 *
 * Scenario: one URL fetched under its own timeout, called in a loop by a crawler (see
 * crawl.c for the story and main()), written the way go vet's lostcancel check warns
 * about:
 *     ctx, _ := context.WithTimeout(parent, 10*time.Second)
 *
 * The leak: fetch_once() only drops its reference (ctx_unref), which never cancels. So
 * every page's context stays attached to `crawl` with its 10 s timer armed after the
 * fetch returned: NPAGES (50) orphaned timers and lost cancels, alive until main()
 * releases the crawl. The program prints exactly what the fixed one prints and exits 0;
 * only ctxtrace finds it: orphaned-timer and lost-cancel, 50 contexts each, at the
 * ctx_with_timeout in fetch_once() (this file).
 *
 * Look at: fetch_once() — line 27, the ctx_with_timeout (the site ctxtrace reports), and
 * line 31, the ctx_unref that should be ctx_release. The fix is CTX_AUTO (or
 * ctx_release); see fetch_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "fetch.h"

int fetch_once(ctx_t *parent, const char *url, struct page *out)
{
    ctx_t *ctx = ctx_with_timeout(parent, FETCH_TIMEOUT);
    if (ctx == NULL)
        return errno;
    int err = http_get(ctx, url, out);
    ctx_unref(ctx); /* BUG, `ctx, _ := WithTimeout`: should be ctx_release(ctx) */
    return err;
}
