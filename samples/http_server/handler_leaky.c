/*
 * handler_leaky.c — a request handler that forgets the request on disconnect
 * (sample_http_server_leaky).
 *
 * Scenario: Go's net/http request context (see server.c for the story and main()),
 * with the handler managing its contexts by hand and an early return on the disconnect
 * path that only drops its references.
 *
 * The leak: on a disconnect, handle_request() calls ctx_unref() on the request and the
 * backend call and returns. ctx_unref() never cancels: each of the 3 disconnected
 * requests' contexts stays attached to the server context, and the backend call under
 * it (which holds its own reference) keeps working for nobody, its 5 s timer armed,
 * until the server shuts down and its cancellation finally reaches them. The output
 * shows it — those backend calls stop with the server's reason, not the client's. The
 * program still exits 0 and frees everything. ctxtrace reports lost-cancel at the
 * ctx_with_cancel in handle_request() (this file): 3 contexts, the request contexts
 * whose last owner dropped them while live. (The backend-call contexts are not lost:
 * their backend thread still owns them until it returns after the shutdown.)
 *
 * Look at: line 31, the request's ctx_with_cancel (the site ctxtrace reports), and the
 * CLIENT_GONE branch, lines 47-52. The fix is to cancel the request on disconnect and
 * release everything (CTX_AUTO); see handler_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "handler.h"

void handle_request(ctx_t *server, int fd, struct outcome *out)
{
    ctx_t *req = ctx_with_cancel(server);
    if (req == NULL)
        return;
    if (read_request(fd, out) != 0) {
        ctx_release(req);
        return;
    }

    ctx_t *call = ctx_with_timeout(req, BACKEND_TIMEOUT);
    out->call = call ? backend_start(call, out->path) : NULL;
    if (out->call == NULL) {
        ctx_release(call);
        ctx_release(req);
        return;
    }

    if (wait_backend_or_hangup(fd, out->call) == CLIENT_GONE) {
        /* BUG, the lost cancel: "nobody to answer, just drop it". Should cancel the
         * request (ctx_cancel_cause, or ctx_release both). */
        ctx_unref(call);
        ctx_unref(req);
        out->client_gone = true;
        return;
    }
    respond(fd, out->call, out);
    ctx_release(call);
    ctx_release(req);
}
