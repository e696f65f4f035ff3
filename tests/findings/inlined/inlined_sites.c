/* Leaks made in small static functions that -O1 and -O2 inline into their callers
 * (issue 12: an optimised build reported a lost cancel made in handle_request as made
 * in worker, at handle_request's line). The findings must name the function that made
 * each call, at its line, exactly as at -O0:
 *
 *   worker -> handle_request -> call_backend, the last two inlined when optimised;
 *   every other request fails its backend call, and that path only ctx_unref's both
 *   the call's timeout context and the request context.
 */
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>

enum { REQUESTS = 6 };

static ctx_t *server;

static int call_backend(ctx_t *req, int i)
{
    ctx_t *call = ctx_with_timeout(req, 10 * CTX_SECOND);
    if (i % 2 == 0) {
        ctx_unref(call); /* the bug: the failure path drops the call live */
        return -1;
    }
    ctx_release(call);
    return 0;
}

static int handle_request(int i)
{
    ctx_t *req = ctx_with_cancel(server);
    if (call_backend(req, i) != 0) {
        ctx_unref(req); /* the bug: and the request too */
        return -1;
    }
    ctx_release(req);
    return 0;
}

static void *worker(void *arg)
{
    int *failed = arg;
    for (int i = 0; i < REQUESTS; i++)
        *failed += handle_request(i) != 0;
    return NULL;
}

int main(void)
{
    server = ctx_with_cancel(ctx_background());
    int failed = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, &failed) != 0)
        return 1;
    pthread_join(t, NULL);
    printf("inlined_sites: %d requests, %d failed\n", REQUESTS, failed);
    ctx_cancel(server);
    ctx_release(server);
    return 0;
}
