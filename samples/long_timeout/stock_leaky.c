/*
 * stock_leaky.c — a timeout longer than the request's (sample_long_timeout_leaky).
 *
 * Scenario: a call to the inventory service inside a checkout request with a 1 s
 * deadline (see checkout.c for the story and main()), "given 5 seconds because the
 * inventory service is slow":
 *     ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
 *     defer cancel()
 *
 * The defect: 5 s is longer than the 1 s the request has, so the call's own deadline can
 * never fire first — the call silently gets the request's deadline (the output says so)
 * and the 5 s budget exists only in the author's head. Every context is still cancelled
 * and released (CTX_AUTO), so that is the only defect: ctxtrace reports
 * ineffective-deadline at the ctx_with_timeout in reserve_stock() (this file), 3
 * contexts (one per item).
 *
 * Look at: line 26 (STOCK_TIMEOUT) and line 30, the ctx_with_timeout in reserve_stock()
 * (the site ctxtrace reports). The fix is a timeout within the request's budget, or
 * none; see stock_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "stock.h"

#define STOCK_TIMEOUT (5 * CTX_SECOND) /* BUG: longer than the request's 1 s */

void reserve_stock(ctx_t *request, const char *item, struct reservation *out)
{
    CTX_AUTO ctx_t *call = ctx_with_timeout(request, STOCK_TIMEOUT);
    if (call == NULL) {
        out->err = errno;
        return;
    }
    out->err = inventory_call(request, call, item, STOCK_TIMEOUT, out);
}
