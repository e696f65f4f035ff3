/*
 * exit_cost — a program for measuring the exit check (tests/bench/exitcheck/run.sh):
 *
 *   exit_cost THREADS HEAP_MIB
 *
 * starts THREADS threads, each handed a cancellable context and blocked on a condition
 * variable, builds HEAP_MIB MiB of heap as a linked list of 1 KiB blocks (each block's
 * words point at the next block and at the contexts, so the scan has pointers to follow
 * and references to find), then exits with everything in place. Prints nothing else.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { BLOCK = 1024 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;
static void **heap_head; /* a root: the whole list is reachable */

static void *blocked(void *arg)
{
    ctx_t *ctx = arg;
    pthread_mutex_lock(&mu);
    ready++;
    pthread_cond_broadcast(&cv);
    while (!ctx_is_done(ctx))
        pthread_cond_wait(&cv, &mu); /* nobody ever signals once all are ready */
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: exit_cost THREADS HEAP_MIB\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    long mib = atol(argv[2]);
    ctx_t **ctxs = calloc((size_t)threads + 1, sizeof *ctxs);
    for (int i = 0; i < threads; i++) {
        ctxs[i] = ctx_with_cancel(ctx_background());
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        pthread_t t;
        if (pthread_create(&t, &attr, blocked, ctxs[i]) != 0) {
            fprintf(stderr, "exit_cost: pthread_create failed at thread %d\n", i);
            return 1;
        }
        pthread_attr_destroy(&attr);
    }
    long blocks = mib * 1024 * 1024 / BLOCK;
    for (long b = 0; b < blocks; b++) {
        void **blk = malloc(BLOCK);
        blk[0] = heap_head;
        for (size_t w = 1; w < BLOCK / sizeof *blk; w++)
            blk[w] = threads > 0 ? (void *)ctxs[(b + (long)w) % threads] : NULL;
        heap_head = blk;
    }
    pthread_mutex_lock(&mu);
    while (ready < threads)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return 0;
}
