/* leaked-thread after a timeout: a fetcher is handed its context directly (the
 * pthread_create argument) and polls it with ctx_is_done — no wait the tracer sees —
 * then, once its deadline passed, blocks reading a reply from a pipe that nobody will
 * ever write to. Built twice: the leaky variant exits with the fetcher blocked in read();
 * with -DFIXED the fetcher returns when its context is done (no finding).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int reply[2];

static void *fetcher(void *arg)
{
    ctx_t *ctx = arg;
    while (!ctx_is_done(ctx)) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
#ifndef FIXED
    char byte;
    if (read(reply[0], &byte, 1) != 1) /* waits for a reply that never comes */
        return NULL;
#endif
    return NULL;
}

int main(void)
{
    if (pipe(reply) != 0)
        return 1;
    ctx_t *ctx = ctx_with_timeout(ctx_background(), 50 * CTX_MILLISECOND);
    pthread_t t;
    pthread_create(&t, NULL, fetcher, ctx);
#ifdef FIXED
    pthread_join(t, NULL);
    printf("fetcher: stopped at its deadline\n");
#else
    pthread_detach(t);
    struct timespec ts = {0, 400 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("fetcher: still blocked after its deadline\n");
#endif
    ctx_release(ctx);
    return 0;
}
