/* A correct program that must not draw derived-from-done: 20 requests whose clients
 * hang up before the handler derives its backend call — each request's context is
 * done when the call is derived from it (born done, the call returns at once), but
 * every such parent is derived from once: a race with a client leaving, not a stale
 * context kept and reused.
 */
#include <ctxtrace/ctx.h>
#include <stdio.h>

static int backend_call(ctx_t *request)
{
    CTX_AUTO ctx_t *call = ctx_with_timeout(request, CTX_SECOND);
    return call == NULL ? -1 : ctx_err(call);
}

int main(void)
{
    int canceled = 0;
    for (int i = 0; i < 20; i++) {
        CTX_AUTO ctx_t *request = ctx_with_cancel(ctx_background());
        if (i % 2 == 0)
            ctx_cancel(request); /* the client hung up first */
        canceled += backend_call(request) == CTX_CANCELED;
    }
    printf("%d backend calls found their request already over\n", canceled);
    return 0;
}
