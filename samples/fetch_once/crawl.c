/*
 * crawl.c — Go's `fetchOnce` with a discarded cancel, the crawler around it.
 *
 * Scenario: the canonical example of go vet's lostcancel check. A function fetches one
 * URL under its own timeout:
 *     func fetchOnce(parent context.Context, url string) error {
 *         ctx, _ := context.WithTimeout(parent, 10*time.Second)
 *         …
 * and vet says "the cancel function returned by context.WithTimeout should be called,
 * not discarded, to avoid a context leak". Nothing visibly goes wrong: the fetch
 * returns in microseconds. But every call leaves its context attached to the parent
 * with a 10 s timer armed, and a crawler calls it in a loop.
 *
 * Here: main() derives `crawl` from ctx_background(), calls fetch_once() for NPAGES
 * URLs one after the other, then ends the crawl with ctx_release(crawl). fetch_once()
 * is the part that differs between fetch_fixed.c and fetch_leaky.c.
 *
 * What to look at: nothing in this file differs between the variants — the output is the
 * same, which is the point. Look at fetch_once() in fetch_fixed.c / fetch_leaky.c. The
 * ctx_release(crawl) at line 69 is what finally stops the leaky variant's timers.
 *
 * Exit status: 0 when every page was fetched, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "err_text.h"
#include "fetch.h"

int http_get(ctx_t *ctx, const char *url, struct page *out)
{
    /* ctx_wait() gives ETIMEDOUT when FETCH_LATENCY passed first: the answer came. */
    if (ctx_wait(ctx, FETCH_LATENCY) != ETIMEDOUT)
        return ctx_err(ctx);
    out->bytes = 512 + 7 * strlen(url);
    return 0;
}

int main(void)
{
    ctx_t *crawl = ctx_with_cancel(ctx_background());
    if (crawl == NULL) {
        perror("ctx_with_cancel");
        return 1;
    }

    int64_t start = ctx_now();
    int fetched = 0, first_err = 0;
    size_t bytes = 0;
    for (int i = 0; i < NPAGES; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.org/catalog/page-%d", i + 1);
        struct page page = {0};
        int err = fetch_once(crawl, url, &page);
        if (err == 0) {
            fetched++;
            bytes += page.bytes;
        } else if (first_err == 0) {
            first_err = err;
        }
    }
    printf("crawl: fetched %d of %d pages (%zu bytes) in %.1f ms, "
           "each under its own %d s timeout\n",
           fetched, NPAGES, bytes, (double)(ctx_now() - start) / CTX_MILLISECOND,
           (int)(FETCH_TIMEOUT / CTX_SECOND));
    if (first_err != 0)
        printf("crawl: first failure: %s\n", err_text(first_err));

    ctx_release(crawl); /* the crawl is over: whatever is still attached is cancelled */
    printf("crawl: done\n");
    return fetched == NPAGES ? 0 : 1;
}
