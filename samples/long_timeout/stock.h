/*
 * stock.h — the stock reservation of the long_timeout sample.
 *
 * checkout.c is the same in both variants: one checkout request with a REQUEST_TIMEOUT
 * deadline reserves a few items. What differs is the timeout reserve_stock() gives its
 * call to the inventory service: it lives in stock_fixed.c and stock_leaky.c, so
 * `diff stock_fixed.c stock_leaky.c` shows the bug.
 */
#ifndef LONG_TIMEOUT_STOCK_H
#define LONG_TIMEOUT_STOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <ctxtrace/ctx.h>

/* The whole checkout request must finish within this. */
#define REQUEST_TIMEOUT (1 * CTX_SECOND)
/* The inventory service answers this fast (no deadline ever fires in this sample). */
#define STOCK_LATENCY (1 * CTX_MILLISECOND)

struct reservation {
    int64_t asked;    /* the timeout reserve_stock() asked for */
    int64_t budget;   /* how long the call's context actually had, from its creation */
    bool own_timer;   /* its deadline is its own, not the request's */
    int err;          /* 0 = reserved, else why the call's context ended first */
};

/* Reserve `item` for the checkout request `request`: defined by stock_fixed.c or
 * stock_leaky.c. Fills *out. */
void reserve_stock(ctx_t *request, const char *item, struct reservation *out);

/* The call to the inventory service for `item`: simulated I/O of STOCK_LATENCY that
 * `call` may cut short (the simulated inventory has everything in stock). Records the
 * call context's deadline in *out, and returns 0 or ctx_err(call). */
int inventory_call(ctx_t *request, ctx_t *call, const char *item, int64_t asked,
                   struct reservation *out);

#endif /* LONG_TIMEOUT_STOCK_H */
