/*
 * controller.h — the value_chain sample: a controller that reconciles resources, one
 * event at a time, with a logger attached to each event's context.
 *
 * controller.c is the same in both variants: main() feeds NEVENTS events to one
 * long-lived controller. What differs is how controller_handle() attaches the event's
 * logger (chain_fixed.c / chain_leaky.c), so `diff chain_fixed.c chain_leaky.c` shows
 * the bug — a port of operatorkit's (giantswarm) reconciler, whose context gained a
 * layer of values with every reconciliation.
 */
#ifndef VALUE_CHAIN_CONTROLLER_H
#define VALUE_CHAIN_CONTROLLER_H

#include <ctxtrace/ctx.h>

enum { NEVENTS = 40 };

/* One event's logger: what the handlers below read from the context. */
struct logger {
    char prefix[48];
};

/* The key of the logger value (compared by address, as Go's context keys). */
extern const char logger_key;

struct controller {
    ctx_t *base;      /* the controller's own context, cancelled when it stops */
    ctx_t *ctx;       /* what events are handled under: base, or what was made from it */
    long reconciled;  /* events handled */
};

/* Handle one event under the controller's context: 0 or an errno. */
int controller_handle(struct controller *c, int event);

/* The reconciliation itself (controller.c): looks the logger up in `ctx`. */
int reconcile(ctx_t *ctx, struct controller *c, int event);

#endif /* VALUE_CHAIN_CONTROLLER_H */
