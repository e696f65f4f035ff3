/*
 * errands.h — the household of the "party supplies" sample.
 *
 * errands.c is the same in both variants: it sends one thread per supply out on an
 * errand, calls the party off with a single ctx_cancel(), and checks how every errand
 * ended. What differs is run_errand(), the code that owns the contexts: it lives in
 * party_fixed.c and party_leaky.c, so `diff party_fixed.c party_leaky.c` shows the bugs.
 */
#ifndef PARTY_ERRANDS_H
#define PARTY_ERRANDS_H

#include <stdbool.h>
#include <stdint.h>

#include <ctxtrace/ctx.h>

/* How long one errand may take before it gives up on its own (its order's deadline). */
#define ERRAND_PATIENCE (30 * CTX_SECOND)
/* Each price call to a shop gets this long... */
#define QUOTE_TIMEOUT (500 * CTX_MILLISECOND)
/* ...and a shop actually answers this fast. */
#define QUOTE_LATENCY (1 * CTX_MILLISECOND)

struct supply {
    const char *name;
    bool in_cupboard; /* already at home: nothing to fetch */
    int shops;        /* how many shops to ask for a price first */
    bool event_loop;  /* wait with poll() on ctx_fd() rather than ctx_wait() */
    int64_t delivery; /* how long the shop takes to deliver (longer than the party lasts) */
};

struct errand {
    ctx_t *party; /* borrowed: the party outlives every errand */
    const struct supply *supply;
    bool settled; /* reported to the host as out on the road, or finished */

    /* Filled in by run_errand(). */
    bool found_at_home;
    int quotes;         /* price calls that got an answer */
    int err;            /* 0 = delivered, else why the order ended (ctx_err) */
    int cause;          /* ctx_cause() of the order when it ended */
    int64_t stopped_ns; /* ctx_now() when the wait for delivery ended */
};

/* One errand, run on its own thread: defined by party_fixed.c or party_leaky.c. */
void run_errand(struct errand *e);

/* A price call: simulated I/O of QUOTE_LATENCY that `call` may cut short.
 * 0 when the shop answered, else why `call` ended first. */
int ask_for_quote(ctx_t *call);

/* Tell the host this errand is on the road, then wait for the delivery the way the
 * supply says (ctx_wait, or poll() on ctx_fd() next to the delivery van's timer fd).
 * 0 when the goods arrived, else why `order` ended first. */
int wait_for_delivery(struct errand *e, ctx_t *order);

#endif /* PARTY_ERRANDS_H */
