/*
 * stock_fixed.c — a per-call timeout inside the request's budget
 * (sample_long_timeout_fixed).
 *
 * Scenario: a call to the inventory service inside a checkout request with a 1 s
 * deadline (see checkout.c for the story and main()).
 *
 * The fix: the call's timeout is shorter than what the request has left (200 ms of
 * 1 s), so it is a real limit: a slow inventory call fails fast and leaves time for the
 * rest of the request. (Where no tighter limit is wanted, pass `request` itself: the call
 * inherits the request's deadline.) Under `ctxtrace run` this variant has no findings.
 *
 * Look at: line 21 (STOCK_TIMEOUT) and line 25, the ctx_with_timeout in reserve_stock();
 * compare stock_leaky.c.
 */
#include <errno.h>
#include <stddef.h>

#include "stock.h"

#define STOCK_TIMEOUT (200 * CTX_MILLISECOND)

void reserve_stock(ctx_t *request, const char *item, struct reservation *out)
{
    CTX_AUTO ctx_t *call = ctx_with_timeout(request, STOCK_TIMEOUT);
    if (call == NULL) {
        out->err = errno;
        return;
    }
    out->err = inventory_call(request, call, item, STOCK_TIMEOUT, out);
}
