/*
 * soak_consumer.c — a request loop outside the ctxtrace tree, for the installed
 * ctxtrace_add_soak_test(): runs until stopped. With argument "leaky" every request's
 * timeout context is dropped uncancelled (Go's `ctx, _ := context.WithTimeout(...)`),
 * so live contexts and timers grow at handle(); without it each is released.
 */
#include <string.h>
#include <time.h>

#include <ctxtrace/ctx.h>

/* Not inlined: the soak test expects handle() named as the growing site. */
__attribute__((noinline)) static void handle(ctx_t *server, int leaky)
{
    ctx_t *req = ctx_with_timeout(server, 60 * CTX_SECOND);
    if (leaky)
        ctx_unref(req);
    else
        ctx_release(req);
}

int main(int argc, char **argv)
{
    int leaky = argc > 1 && strcmp(argv[1], "leaky") == 0;
    ctx_t *server = ctx_with_cancel(ctx_background());
    for (;;) {
        handle(server, leaky);
        struct timespec nap = {0, 2000000};
        nanosleep(&nap, NULL);
    }
}
