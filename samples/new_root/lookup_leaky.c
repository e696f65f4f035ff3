/*
 * lookup_leaky.c — the lookup starts a new root mid-flow (sample_new_root_leaky).
 *
 * Scenario: a request handler's helper that queries the database under its own timeout
 * (see server.c for the story and main()), written before requests carried contexts:
 *     ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
 *     defer cancel()
 *
 * The defect: the query's context is a new tree rooted at ctx_background(), not a child
 * of the request, so cancelling the request cannot reach it — the 10 lookups for clients
 * who already hung up run to the end for nobody. Everything is still released
 * (CTX_AUTO): no context leaks. ctxtrace reports detached-root at the ctx_with_timeout
 * in lookup_user() (this file): 100 derivations from ctx_background() at that one site
 * (threshold 32) while the server's request trees are live.
 *
 * Look at: line 28, the ctx_with_timeout(ctx_background(), …) in lookup_user() (the site
 * ctxtrace reports). The fix is to derive from `ctx`; see lookup_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "lookup.h"

int lookup_user(ctx_t *ctx, int user, struct profile *out)
{
    const char *request_id = ctx_value(ctx, &request_id_key);
    /* BUG: a new root: should be ctx_with_timeout(ctx, LOOKUP_TIMEOUT) */
    CTX_AUTO ctx_t *query = ctx_with_timeout(ctx_background(), LOOKUP_TIMEOUT);
    if (query == NULL)
        return errno;
    return db_query(query, request_id, user, out);
}
