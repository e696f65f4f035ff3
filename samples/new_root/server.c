/*
 * server.c — a service that starts a new root mid-flow, the request loop around it.
 *
 * Scenario: the context package's opening rule — "Incoming requests to a server should
 * create a Context, and outgoing calls to servers should accept a Context. The chain of
 * function calls between them must propagate the Context" — broken the way it usually
 * is: deep in a request, a helper written before requests carried contexts makes its own
 *     ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
 * The query still has a timeout, and the cancel is deferred, so nothing leaks. But the
 * query is cut off from the request: when the client hangs up (the request context is
 * cancelled), the database work goes on for nobody. One call site deriving from the root
 * over and over while request trees are live is what ctxtrace's detached-root rule finds.
 *
 * Here: main() derives the `server` context (ctx_with_cancel of ctx_background()) and
 * handles NREQUESTS requests one after the other. Each request gets a context
 * (ctx_with_cancel of `server`) tagged with its request id (ctx_with_value); every tenth
 * client hangs up before the lookup runs (the connection watcher cancels its request
 * context, cause ECONNRESET). handle_request() then calls lookup_user(), which differs
 * between lookup_fixed.c and lookup_leaky.c.
 *
 * Look at: handle_request() — line 72, the request context the lookup should inherit —
 * and the "db:" line of the output: the leaky variant runs queries for clients already
 * gone.
 *
 * Exit status: 0 when every request was handled (answered, or stopped because its
 * client had gone), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "err_text.h"
#include "lookup.h"

#define NREQUESTS 100
/* Every CLIENT_HANGS_UP-th client hangs up before its lookup runs. */
#define CLIENT_HANGS_UP 10

const char request_id_key;

struct stats {
    int answered;     /* the client got its profile */
    int gone;         /* the client had hung up: nothing to answer */
    int failed;       /* anything else */
    int queries;      /* queries the database ran */
    int wasted;       /* queries run although the request's client had gone */
    int gone_err;     /* why the lookups of gone clients stopped (0: they did not stop) */
    int gone_cause;
};

static struct stats stats;

int db_query(ctx_t *query, const char *request_id, int user, struct profile *out)
{
    /* Go's `if err := ctx.Err(); err != nil { return err }` before the round trip. */
    if (ctx_is_done(query))
        return ctx_err(query);
    stats.queries++;
    if (ctx_wait(query, LOOKUP_LATENCY) != ETIMEDOUT)
        return ctx_err(query);
    out->user = user;
    snprintf(out->audit, sizeof out->audit, "%s", request_id ? request_id : "?");
    return 0;
}

static void handle_request(ctx_t *server, int n)
{
    char request_id[16];
    snprintf(request_id, sizeof request_id, "req-%d", n + 1);

    ctx_t *req = ctx_with_cancel(server);
    ctx_t *tagged = req ? ctx_with_value(req, &request_id_key, request_id, NULL) : NULL;
    if (tagged == NULL) {
        stats.failed++;
        ctx_release(req);
        return;
    }
    if (n % CLIENT_HANGS_UP == CLIENT_HANGS_UP - 1) /* the connection watcher saw EOF */
        ctx_cancel_cause(req, ECONNRESET, "client hung up");

    struct profile profile = {0};
    int queries_before = stats.queries;
    int err = lookup_user(tagged, 1000 + n, &profile);
    if (ctx_is_done(tagged)) {
        stats.gone++;
        if (stats.queries != queries_before)
            stats.wasted++;
        stats.gone_err = err;
        stats.gone_cause = err != 0 ? ctx_cause(tagged, NULL) : 0;
    } else if (err == 0 && profile.user == 1000 + n &&
               strcmp(profile.audit, request_id) == 0) {
        stats.answered++;
    } else {
        stats.failed++;
    }
    ctx_unref(tagged); /* a value context: nothing to cancel */
    ctx_release(req);
}

int main(void)
{
    ctx_t *server = ctx_with_cancel(ctx_background());
    if (server == NULL) {
        perror("ctx_with_cancel");
        return 1;
    }
    for (int n = 0; n < NREQUESTS; n++)
        handle_request(server, n);
    ctx_release(server);

    printf("server: %d requests: %d answered, %d clients hung up before their lookup\n",
           NREQUESTS, stats.answered, stats.gone);
    if (stats.gone_err != 0)
        printf("server: lookups of hung-up clients stopped: %s (cause: %s)\n",
               err_text(stats.gone_err), err_text(stats.gone_cause));
    else
        printf("server: lookups of hung-up clients ran anyway\n");
    printf("db: %d queries run, %d of them for clients already gone\n", stats.queries,
           stats.wasted);
    return stats.failed == 0 && stats.answered + stats.gone == NREQUESTS ? 0 : 1;
}
