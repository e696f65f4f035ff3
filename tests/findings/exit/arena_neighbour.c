/* leaked-waiter when a waiter's malloc arena has a neighbour holding a stale word: the
 * exit check's scan must treat a thread's arena heap and an anonymous mapping that ends
 * exactly where the heap begins as two objects, although the kernel shows them as one
 * line of /proc/self/maps (same permissions, adjacent). Taken as one object, the first
 * waiter's pointer into its own arena reached the neighbour's stale copy of the second
 * waiter's context, and the second leaked waiter was missed (seen ~1 in 20 runs of
 * waiter_only_ref, where the neighbour came by chance; here it is made on purpose).
 *
 * Two workers each hold the only reference to the context they wait on (as in
 * waiter_only_ref). The first allocates in its own arena and keeps the pointer; just
 * below that arena's 64 MiB-aligned start, the creator maps a page and leaves in it a
 * copy of the second worker's context address — a word nobody points at. With -DFIXED the creator keeps its handles,
 * cancels them at shutdown and joins (no finding).
 */
#define _GNU_SOURCE /* MAP_FIXED_NOREPLACE */
#include "two_waiters.h"

#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static const uintptr_t ARENA_ALIGN = (uintptr_t)64 << 20; /* glibc's HEAP_MAX_SIZE */

static uintptr_t arena; /* the first worker's arena heap, once it has allocated */
static pthread_barrier_t allocated;

static void *first_worker(void *arg)
{
    ctx_t *ctx = arg;
    /* A thread's first allocation makes its arena (a new one while arenas are fewer
     * than 8 per core); keep the pointer live on this stack while waiting. */
    char *volatile mine = malloc(64);
    arena = (uintptr_t)mine & ~(ARENA_ALIGN - 1);
    pthread_barrier_wait(&allocated);
    ctx_wait(ctx, -1); /* first_worker: nobody else can cancel it */
    free(mine);
    ctx_unref(ctx);
    return NULL;
}

static void *second_worker(void *arg)
{
    ctx_t *ctx = arg;
    ctx_wait(ctx, -1); /* second_worker: nobody else can cancel it */
    ctx_unref(ctx);
    return NULL;
}


/* Out of line, so that its frame — which held the handles — is gone when the check runs. */
static __attribute__((noinline)) void start_workers(void)
{
    ctx_t *a = ctx_with_cancel(ctx_background());
    ctx_t *b = ctx_with_cancel(ctx_background());
    pthread_barrier_init(&allocated, NULL, 2);
    pthread_create(&threads[0], NULL, first_worker, ctx_ref(a));
    pthread_barrier_wait(&allocated);
    /* The neighbour: a page ending where the arena begins (MAP_NORESERVE like glibc's
     * heaps, so the kernel merges the two), holding a copy of b that no one points at
     * (written from here, so that no worker's frame ever held b). */
    long page = sysconf(_SC_PAGESIZE);
    void *below = mmap((void *)(arena - (uintptr_t)page), (size_t)page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (below == MAP_FAILED)
        fprintf(stderr, "arena_neighbour: no page free below the arena\n");
    else
        memcpy(below, &b, sizeof b);
    pthread_create(&threads[1], NULL, second_worker, ctx_ref(b));
#ifdef FIXED
    handles[0] = a;
    handles[1] = b;
#else
    ctx_unref(a); /* the creator lets go: each worker holds the only reference */
    ctx_unref(b);
#endif
}
