/*
 * lookup.h — the user lookup of the new_root sample.
 *
 * server.c is the same in both variants: it handles NREQUESTS requests, each under its
 * own request context, and each calls lookup_user(). What differs is the context
 * lookup_user() runs its database query under: it lives in lookup_fixed.c and
 * lookup_leaky.c, so `diff lookup_fixed.c lookup_leaky.c` shows the bug.
 */
#ifndef NEW_ROOT_LOOKUP_H
#define NEW_ROOT_LOOKUP_H

#include <ctxtrace/ctx.h>

/* The query's own timeout (never reached: the database answers in LOOKUP_LATENCY). */
#define LOOKUP_TIMEOUT (500 * CTX_MILLISECOND)
#define LOOKUP_LATENCY (20 * CTX_MICROSECOND)

/* The key of the request-id value every request context carries (server.c). */
extern const char request_id_key;

struct profile {
    int user;
    char audit[32]; /* the request id the database logged the query under */
};

/* Look `user` up for the request `ctx`: defined by lookup_fixed.c or lookup_leaky.c.
 * 0 and *out filled in, or why the query's context ended first. */
int lookup_user(ctx_t *ctx, int user, struct profile *out);

/* The database query itself: simulated I/O of LOOKUP_LATENCY that `query` may cut
 * short (it does not start at all under a context that is already done). 0, or
 * ctx_err(query). `request_id` is logged with the query. */
int db_query(ctx_t *query, const char *request_id, int user, struct profile *out);

#endif /* NEW_ROOT_LOOKUP_H */
