/*
 * lookup_fixed.c — the lookup inherits the request's context (sample_new_root_fixed).
 *
 * Scenario: a request handler's helper that queries the database under its own timeout
 * (see server.c for the story and main()).
 *
 * The fix: derive the query's timeout from the request context that was passed in —
 * Go's `ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)` — so the query
 * ends when the request does. For a client that already hung up the query context is
 * born done and the database is never asked. Under `ctxtrace run` this variant has no
 * findings.
 *
 * Look at: line 24, the ctx_with_timeout(ctx, …) in lookup_user(); compare
 * lookup_leaky.c.
 */
#include <errno.h>
#include <stddef.h>

#include "lookup.h"

int lookup_user(ctx_t *ctx, int user, struct profile *out)
{
    const char *request_id = ctx_value(ctx, &request_id_key);
    CTX_AUTO ctx_t *query = ctx_with_timeout(ctx, LOOKUP_TIMEOUT);
    if (query == NULL)
        return errno;
    return db_query(query, request_id, user, out);
}
