/* leaked-waiter when the waiter holds the only reference: the normal C idiom hands a
 * worker its own reference (pthread_create(..., ctx_ref(c)); ctx_unref(c)) — then the
 * worker's reference is the only way left to cancel the context, and the worker is
 * blocked on it. Twice: the context as the thread's argument, and inside a heap struct
 * only the worker holds. With -DFIXED the creator keeps its handles and cancels them at
 * shutdown, then joins (no finding).
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include "two_waiters.h"

#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct job {
    ctx_t *ctx;
    int id;
};

static void *arg_worker(void *arg)
{
    ctx_t *ctx = arg;
    ctx_wait(ctx, -1); /* arg_worker: nobody else can cancel it */
    ctx_unref(ctx);
    return NULL;
}

static void *struct_worker(void *arg)
{
    struct job *j = arg;
    ctx_wait(j->ctx, -1); /* struct_worker: nobody else can cancel it */
    ctx_unref(j->ctx);
    free(j);
    return NULL;
}


/* Out of line, so that its frame — which held the handles — is gone when the check runs. */
static __attribute__((noinline)) void start_workers(void)
{
    ctx_t *a = ctx_with_cancel(ctx_background());
    pthread_create(&threads[0], NULL, arg_worker, ctx_ref(a));
    struct job *j = malloc(sizeof *j);
    j->ctx = ctx_with_cancel(ctx_background());
    j->id = 1;
#ifdef FIXED
    handles[0] = a;
    handles[1] = ctx_ref(j->ctx);
#endif
    pthread_create(&threads[1], NULL, struct_worker, j);
#ifndef FIXED
    ctx_unref(a); /* the creator lets go: the worker holds the only reference */
#endif
}
