/*
 * party_leaky.c — the "party supplies" fan-out with Go's two classic context leaks
 * (sample_party_leaky).
 *
 * Scenario: the Go-literature party errands (see errands.c for the story and main()),
 * the same errand as party_fixed.c, written the way it often is written.
 *
 * What to look at — two bugs that change nothing you can see: the program prints the
 * same outcome as the fixed one and exits 0. Only ctxtrace finds them.
 *
 *  1. The lost cancel. When the supply is already in the cupboard, the early return only
 *     drops the reference to `order` (ctx_unref). ctx_unref() never cancels, so the
 *     order stays attached to the party, timer armed, until the party itself ends —
 *     Go's `go vet` lostcancel: a return path on which cancel() is not called.
 *
 *  2. The discarded timeout in a loop: each price call's context is created and then
 *     only unref'd — Go's
 *         call, _ := context.WithTimeout(order, quoteTimeout)
 *     Every call leaves a context behind with an armed timer (orphaned timers) until its
 *     timeout fires or the order is cancelled.
 *
 * The fix for both is ctx_release() (or CTX_AUTO); see party_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "errands.h"

void run_errand(struct errand *e)
{
    ctx_t *order = ctx_with_timeout(e->party, ERRAND_PATIENCE);
    if (order == NULL) {
        e->err = errno;
        return;
    }

    if (e->supply->in_cupboard) {
        e->found_at_home = true;
        ctx_unref(order); /* BUG 1, the lost cancel: should be ctx_release(order) */
        return;
    }

    for (int shop = 0; shop < e->supply->shops; shop++) {
        ctx_t *call = ctx_with_timeout(order, QUOTE_TIMEOUT);
        if (call == NULL)
            continue;
        if (ask_for_quote(call) == 0)
            e->quotes++;
        ctx_unref(call); /* BUG 2, `call, _ := WithTimeout`: should be ctx_release(call) */
    }

    e->err = wait_for_delivery(e, order);
    e->cause = ctx_cause(order, NULL);
    ctx_release(order);
}
