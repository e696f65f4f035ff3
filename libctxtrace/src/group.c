/*
 * group.c — structured concurrency: Go's errgroup.WithContext.
 *
 * A group owns one cancellable context and the threads started with ctx_group_go.
 * The first function to return nonzero cancels the context with that code as the
 * cause, so its siblings see ctx_is_done()/ctx_wait() and stop; ctx_group_wait joins
 * every thread, so no work outlives the group.
 */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

struct ctx_group {
    ctx_t *ctx;
    pthread_mutex_t mu; /* guards threads/len/cap and first_err */
    pthread_t *threads;
    size_t len, cap;
    int first_err;
};

struct group_task {
    ctx_group_t *g;
    int (*fn)(ctx_t *, void *);
    void *arg;
};

CTX_API ctx_group_t *ctx_group_new(ctx_t *parent)
{
    if (parent == NULL) {
        errno = EINVAL;
        return NULL;
    }
    ctx_group_t *g = calloc(1, sizeof *g);
    if (g == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    g->ctx = ctx_with_cancel(parent);
    if (g->ctx == NULL) {
        free(g);
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&g->mu, NULL);
    return g;
}

CTX_API ctx_t *ctx_group_ctx(ctx_group_t *g)
{
    return g == NULL ? NULL : g->ctx;
}

static void *task_main(void *arg)
{
    struct group_task task = *(struct group_task *)arg;
    free(arg);
    int rc = task.fn(task.g->ctx, task.arg);
    if (rc != 0) {
        pthread_mutex_lock(&task.g->mu);
        bool first = task.g->first_err == 0;
        if (first)
            task.g->first_err = rc;
        pthread_mutex_unlock(&task.g->mu);
        if (first)
            ctx_cancel_cause(task.g->ctx, rc, NULL);
    }
    return NULL;
}

CTX_API int ctx_group_go(ctx_group_t *g, int (*fn)(ctx_t *, void *), void *arg)
{
    if (g == NULL || fn == NULL)
        return EINVAL;
    struct group_task *task = malloc(sizeof *task);
    if (task == NULL)
        return ENOMEM;
    *task = (struct group_task){g, fn, arg};
    pthread_mutex_lock(&g->mu);
    if (g->len == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        pthread_t *grown = realloc(g->threads, cap * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&g->mu);
            free(task);
            return ENOMEM;
        }
        g->threads = grown;
        g->cap = cap;
    }
    int rc = pthread_create(&g->threads[g->len], NULL, task_main, task);
    if (rc == 0)
        g->len++;
    pthread_mutex_unlock(&g->mu);
    if (rc != 0)
        free(task);
    return rc;
}

CTX_API int ctx_group_wait(ctx_group_t *g)
{
    if (g == NULL)
        return EINVAL;
    /* Join without holding the lock: a running task may still call ctx_group_go. */
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&g->mu);
        if (i == g->len) {
            pthread_mutex_unlock(&g->mu);
            break;
        }
        pthread_t th = g->threads[i];
        pthread_mutex_unlock(&g->mu);
        pthread_join(th, NULL);
    }
    int rc = g->first_err;
    ctx_release(g->ctx);
    pthread_mutex_destroy(&g->mu);
    free(g->threads);
    free(g);
    return rc;
}
