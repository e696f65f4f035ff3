/*
 * chain_leaky.c — a controller that stacks each event's logger on its own context
 * (sample_value_chain_leaky).
 *
 * The defect: controller_handle() replaces the controller's context with a value child
 * of it — `c.ctx = context.WithValue(c.ctx, loggerKey, logger)` in the Go original — so
 * every event adds a layer that is never removed: after NEVENTS events the controller's
 * context is a chain of NEVENTS value contexts, each holding a logger nobody reads any
 * more, freed only when the controller stops. The references are all correct — every
 * context is released and freed in the end — which is why no leak checker sees it. A lookup of a key the top layer does not
 * hold walks all of them.
 *
 * What ctxtrace reports: value-chain-growth at the ctx_with_value below, with the
 * chain's depth (NEVENTS layers from this one site). The fix: each event's values on a
 * context of its own, derived from the controller's and dropped with the event; see
 * chain_fixed.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller.h"

int controller_handle(struct controller *c, int event)
{
    struct logger *log = malloc(sizeof *log);
    if (log == NULL)
        return ENOMEM;
    snprintf(log->prefix, sizeof log->prefix, "event %d:", event);
    ctx_t *next = ctx_with_value(c->ctx, &logger_key, log, free); /* BUG: a layer per event */
    if (next == NULL) {
        free(log);
        return errno;
    }
    ctx_unref(c->ctx); /* the chain below stays all the same: `next` holds its parent */
    c->ctx = next;
    return reconcile(c->ctx, c, event);
}
