/*
 * checkout.c — a timeout longer than its parent's, the checkout request around it.
 *
 * Scenario: the deadline-propagation rule of the Go literature. context.WithDeadline's
 * documentation: "If the parent's deadline is already earlier than d,
 * WithDeadline(parent, d) is semantically equivalent to parent." A callee that asks for
 * more time than its caller has left gets nothing: its timer can never fire first. The
 * classic form is a slow dependency "given 5 seconds" deep inside a request that must
 * answer within 1 s: the author believes the call may take 5 s, and any retry or
 * fallback logic built on that budget is fiction — while a call that ought to fail fast
 * (and leave time for the rest of the request) never does.
 *
 * Here: main() creates one checkout request with a REQUEST_TIMEOUT (1 s) deadline and
 * reserves three items, each through reserve_stock() — stock_fixed.c (200 ms per call)
 * or stock_leaky.c (5 s per call). Every context is released as soon as its work is
 * done; no deadline ever fires, and the run takes a few milliseconds.
 *
 * Look at: the output — each call reports the timeout it asked for and the deadline it
 * actually got (its own, or the request's) — and reserve_stock() in the variant files.
 *
 * Exit status: 0 when every item was reserved, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>

#include "err_text.h"
#include "stock.h"

static const char *const items[] = {"espresso machine", "grinder", "milk jug"};
#define NITEMS (sizeof items / sizeof items[0])

static int round_ms(int64_t ns)
{
    /* Rounded to 100 ms: the microseconds between creating the request and the call
     * do not show. */
    return (int)((ns + 50 * CTX_MILLISECOND) / (100 * CTX_MILLISECOND)) * 100;
}

int inventory_call(ctx_t *request, ctx_t *call, const char *item, int64_t asked,
                   struct reservation *out)
{
    (void)item; /* everything is in stock */
    int64_t now = ctx_now(), call_deadline = 0, request_deadline = 0;
    out->asked = asked;
    if (ctx_deadline(call, &call_deadline))
        out->budget = call_deadline - now;
    out->own_timer = !ctx_deadline(request, &request_deadline) ||
                     call_deadline != request_deadline;
    /* ctx_wait() gives ETIMEDOUT when STOCK_LATENCY passed first: the answer came. */
    return ctx_wait(call, STOCK_LATENCY) == ETIMEDOUT ? 0 : ctx_err(call);
}

int main(void)
{
    ctx_t *request = ctx_with_timeout(ctx_background(), REQUEST_TIMEOUT);
    if (request == NULL) {
        perror("ctx_with_timeout");
        return 1;
    }
    printf("checkout: request deadline in %d ms\n", round_ms(REQUEST_TIMEOUT));

    int reserved = 0;
    for (size_t i = 0; i < NITEMS; i++) {
        struct reservation r = {0};
        reserve_stock(request, items[i], &r);
        printf("  %-16s %s; asked for %d ms, got %s deadline (in ~%d ms)\n", items[i],
               r.err == 0 ? "reserved" : err_text(r.err), round_ms(r.asked),
               r.own_timer ? "its own" : "the request's", round_ms(r.budget));
        if (r.err == 0)
            reserved++;
    }
    printf("checkout: %d of %zu items reserved, request context: %s\n", reserved, NITEMS,
           ctx_err(request) == 0 ? "still live" : err_text(ctx_err(request)));
    ctx_release(request);
    return reserved == (int)NITEMS ? 0 : 1;
}
