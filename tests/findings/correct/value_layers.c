/* A correct program that must not draw value-chain-growth: each request stacks a few
 * values (request id, user, trace id) at one site in a loop — three layers from one
 * call site, far under the threshold — on a context of its own, dropped with the
 * request. Many requests, a bounded chain each.
 */
#include <ctxtrace/ctx.h>
#include <stdint.h>
#include <stdio.h>

static const char keys[3];

int main(void)
{
    long found = 0;
    for (int r = 0; r < 50; r++) {
        CTX_AUTO ctx_t *request = ctx_with_cancel(ctx_background());
        ctx_t *c = ctx_ref(request);
        for (int k = 0; k < 3; k++) {
            ctx_t *v = ctx_with_value(c, &keys[k], (void *)(intptr_t)(r * 3 + k + 1), NULL);
            ctx_unref(c);
            c = v;
        }
        found += ctx_value(c, &keys[0]) != NULL;
        ctx_unref(c);
    }
    printf("%ld requests saw their values\n", found);
    return 0;
}
