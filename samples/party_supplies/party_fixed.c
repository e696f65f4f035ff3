/*
 * party_fixed.c — the "party supplies" fan-out, done right (sample_party_fixed).
 *
 * Scenario: the Go-literature party errands (see errands.c for the story and main()).
 * This file is one errand: derive an order context from the party with a deadline,
 * ask a few shops for a price (each call with its own short timeout), then wait for the
 * delivery until the goods arrive, the order times out, or the party is called off.
 *
 * What to look at: every context this errand creates is released on every path. In Go:
 *     order, cancel := context.WithTimeout(party, errandPatience)
 *     defer cancel()
 * CTX_AUTO is that `defer cancel()`: ctx_release() at scope exit, so the early return for
 * a supply already in the cupboard releases `order` too, and each price call's context
 * is released at the end of its loop turn, long before its timer would fire.
 * Compare party_leaky.c. Under `ctxtrace run` this variant has no findings.
 */
#include <errno.h>
#include <stddef.h>

#include "errands.h"

void run_errand(struct errand *e)
{
    CTX_AUTO ctx_t *order = ctx_with_timeout(e->party, ERRAND_PATIENCE);
    if (order == NULL) {
        e->err = errno;
        return;
    }

    if (e->supply->in_cupboard) {
        e->found_at_home = true;
        return; /* CTX_AUTO releases `order` here as well */
    }

    for (int shop = 0; shop < e->supply->shops; shop++) {
        CTX_AUTO ctx_t *call = ctx_with_timeout(order, QUOTE_TIMEOUT);
        if (call != NULL && ask_for_quote(call) == 0)
            e->quotes++;
    } /* each `call` is released at the end of its turn: its timer is stopped */

    e->err = wait_for_delivery(e, order);
    e->cause = ctx_cause(order, NULL);
}
