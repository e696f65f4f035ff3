/*
 * chain_fixed.c — each event's logger on a context of the event's own
 * (sample_value_chain_fixed).
 *
 * controller_handle() derives the event's context from the controller's, reconciles
 * under it and drops it when the event is done: the controller's context never grows,
 * and each logger is freed with its event.
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
    ctx_t *ev = ctx_with_value(c->ctx, &logger_key, log, free);
    if (ev == NULL) {
        free(log);
        return errno;
    }
    int err = reconcile(ev, c, event);
    ctx_unref(ev); /* a value context has nothing to cancel: dropping it frees the logger */
    return err;
}
