/*
 * export_threads.c — a trace whose id order is not its creation order, for the export
 * tests: ids come in per-thread blocks of 4096, and here 4 threads create contexts at
 * once, so every thread's block interleaves in time with the others'. Each request is a
 * parent with two children, the parent cancelled first (two arrows from a parent); the
 * threads also make children of one shared server context that main cancels at the end
 * (arrows across threads, from a slice that spans the run).
 *
 * usage: export_threads [REQUESTS_PER_THREAD]   (default 3000)
 */
#include <pthread.h>
#include <stdlib.h>

#include <ctxtrace/ctx.h>

enum { THREADS = 4 };

static ctx_t *server;
static int requests = 3000;
static ctx_t *held[THREADS][8]; /* children of server kept to the end, per thread */

static void *worker(void *arg)
{
    ctx_t **mine = held[(long)arg];
    int nheld = 0;
    for (int i = 0; i < requests; i++) {
        ctx_t *req = ctx_with_cancel(server);
        ctx_t *a = ctx_with_cancel(req);
        ctx_t *b = ctx_with_timeout(req, 5 * CTX_SECOND);
        ctx_release(req); /* cancels a and b: two arrows */
        ctx_release(a);
        ctx_release(b);
        if (i % 1000 == 0 && nheld < 8)
            mine[nheld++] = ctx_with_cancel(server); /* cancelled by main's release */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        requests = atoi(argv[1]);
    server = ctx_with_cancel(ctx_background());
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(long)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ctx_release(server); /* arrows from main's track to the workers' */
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < 8; k++)
            ctx_release(held[i][k]); /* NULL-safe */
    return 0;
}
