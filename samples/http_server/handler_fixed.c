/*
 * handler_fixed.c — a request handler that cancels on disconnect
 * (sample_http_server_fixed).
 *
 * Scenario: Go's net/http request context (see server.c for the story and main()):
 * each request gets a context from the server's, and its backend call a timeout child.
 *
 * The fix, i.e. what net/http does for a Go handler: when the client disconnects, the
 * request's context is cancelled, so everything started for the request — here the
 * backend call, waiting on ctx_fd() on its own thread — stops at once instead of
 * working on for nobody. Every context is released on every path (CTX_AUTO: Go's
 * `defer cancel()`). Under `ctxtrace run` this variant has no findings.
 *
 * Look at: the CLIENT_GONE branch of handle_request(), lines 33-38 (ctx_cancel_cause on
 * the request, then the backend call returns); compare handler_leaky.c.
 */
#include <errno.h>
#include <stddef.h>

#include "handler.h"

void handle_request(ctx_t *server, int fd, struct outcome *out)
{
    CTX_AUTO ctx_t *req = ctx_with_cancel(server);
    if (req == NULL || read_request(fd, out) != 0)
        return;

    CTX_AUTO ctx_t *call = ctx_with_timeout(req, BACKEND_TIMEOUT);
    out->call = call ? backend_start(call, out->path) : NULL;
    if (out->call == NULL)
        return;

    if (wait_backend_or_hangup(fd, out->call) == CLIENT_GONE) {
        out->client_gone = true;
        /* Nobody is waiting for the answer: stop the request's whole subtree. */
        ctx_cancel_cause(req, ECONNRESET, "client disconnected");
        backend_wait(out->call); /* returns at once: the call saw its context end */
        return;                  /* CTX_AUTO releases call and req */
    }
    respond(fd, out->call, out);
}
