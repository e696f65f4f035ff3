/* constructors.h — a context constructor in a file of its own, so that it is never
 * inlined into its caller: its tail call must be what an optimised build changes. */
#ifndef TAIL_SITES_CONSTRUCTORS_H
#define TAIL_SITES_CONSTRUCTORS_H

#include <ctxtrace/ctx.h>

/* A backend call's context: 10 s under `parent`. */
ctx_t *new_call_ctx(ctx_t *parent);

#endif
