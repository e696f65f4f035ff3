/*
 * soak_consumer.c — a request loop outside the ctxtrace tree, for the installed
 * ctxtrace_add_soak_test(): runs until stopped. With argument "leaky" every request's
 * timeout context is dropped uncancelled (Go's `ctx, _ := context.WithTimeout(...)`),
 * so live contexts and timers grow at handle(); without it each is released, and SIGTERM
 * ends the loop cleanly.
 */
#include <signal.h>
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

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    int leaky = argc > 1 && strcmp(argv[1], "leaky") == 0;
    /* A well-behaved server: SIGTERM (soak's stop) ends the loop and the server context
     * is released, so the fixed variant leaves no finding for the soak to fail on. */
    signal(SIGTERM, on_term);
    ctx_t *server = ctx_with_cancel(ctx_background());
    while (!stopping) {
        handle(server, leaky);
        struct timespec nap = {0, 2000000};
        nanosleep(&nap, NULL);
    }
    ctx_release(server);
    return 0;
}
