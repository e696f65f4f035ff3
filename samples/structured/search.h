/*
 * search.h — the shared part of the structured-concurrency sample.
 *
 * search.c runs a search as a ctx_group (Go's errgroup) and checks how it ended; it is
 * the same in both variants. What differs is start_progress_ticker(): group_fixed.c
 * runs the ticker inside the group, group_leaky.c beside it.
 */
#ifndef STRUCTURED_SEARCH_H
#define STRUCTURED_SEARCH_H

#include <stdatomic.h>

#include <ctxtrace/ctx.h>

/* How often the progress ticker ticks. */
#define TICK_INTERVAL (5 * CTX_MILLISECOND)

struct ticker {
    atomic_int ticks;
};

/* The ticker's body: counts a tick every TICK_INTERVAL until `ctx` is done, then
 * returns 0. Go's
 *     for { select { case <-ctx.Done(): return nil; case <-tick.C: progress++ } } */
int progress_ticker(ctx_t *ctx, void *ticker);

/* Starts progress_ticker for the search run by `g`: defined by group_fixed.c or
 * group_leaky.c. Returns 0 or an errno. */
int start_progress_ticker(ctx_group_t *g, struct ticker *t);

#endif /* STRUCTURED_SEARCH_H */
