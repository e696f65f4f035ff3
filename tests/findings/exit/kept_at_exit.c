/* Contexts still reachable at exit are not lost (LeakSanitizer's "still reachable"): one
 * kept in a global, one in a long-lived heap object a global points to, and one held by
 * the very function that calls exit() — go vet's lostcancel calls that last one fine. A
 * correct program: no finding.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctxtrace/ctx.h>
#include <stdio.h>
#include <stdlib.h>

struct service {
    ctx_t *ctx;
    const char *name;
};

static ctx_t *global_ctx;
static struct service *svc;

static __attribute__((noinline)) void serve(int argc)
{
    /* volatile: held for real (in this frame) when exit() is called, at every -O level;
     * without it the compiler drops the dead pointer before the call. */
    ctx_t *volatile request = ctx_with_timeout(ctx_background(), 60 * CTX_SECOND);
    if (argc > 0) { /* always: the request is still held when exit() is called */
        printf("serve: exiting with the request still open\n");
        fflush(stdout);
        exit(0);
    }
    ctx_release(request);
}

int main(int argc, char **argv)
{
    (void)argv;
    global_ctx = ctx_with_cancel(ctx_background());
    svc = malloc(sizeof *svc);
    svc->ctx = ctx_with_cancel(global_ctx);
    svc->name = "rates";
    serve(argc);
    return 1;
}
