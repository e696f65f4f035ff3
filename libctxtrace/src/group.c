/*
 * group.c — structured concurrency: Go's errgroup.WithContext.
 *
 * A group owns one cancellable context and the threads started with ctx_group_go.
 * The first function to return nonzero cancels the context with that code as the
 * cause, so its siblings see ctx_is_done()/ctx_wait() and stop; ctx_group_wait joins
 * every thread, so no work outlives the group.
 *
 * errgroup's SetLimit/TryGo: `active` counts the functions running (a slot is taken
 * before the thread starts and given back when fn returns); ctx_group_go sleeps on
 * `slot_cv` while `active` has reached `limit`, ctx_group_try_go answers EAGAIN.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

struct ctx_group {
    ctx_t *ctx;
    pthread_mutex_t mu;     /* guards everything below */
    pthread_cond_t slot_cv; /* a slot was given back, or the limit changed */
    pthread_t *threads;
    size_t len, cap;
    int first_err;
    int limit;              /* at most this many fns at once; < 0: no limit */
    int active;             /* fns started and not yet returned */
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
    pthread_cond_init(&g->slot_cv, NULL);
    g->limit = -1;
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
    ctx_group_t *g = task.g;
    int rc = task.fn(g->ctx, task.arg);
    pthread_mutex_lock(&g->mu);
    bool first = rc != 0 && g->first_err == 0;
    if (first)
        g->first_err = rc;
    /* The slot is free once fn has returned (errgroup's done()): a sibling blocked in
     * ctx_group_go may start while this thread still records the error. */
    assert(g->active > 0);
    g->active--;
    pthread_cond_broadcast(&g->slot_cv);
    pthread_mutex_unlock(&g->mu);
    if (first)
        ctx_cancel_cause(g->ctx, rc, NULL);
    return NULL;
}

/* Start fn on a new thread; g->mu held and a slot already counted in g->active. */
static int start_locked(ctx_group_t *g, int (*fn)(ctx_t *, void *), void *arg)
{
    struct group_task *task = malloc(sizeof *task);
    if (task == NULL)
        return ENOMEM;
    *task = (struct group_task){g, fn, arg};
    if (g->len == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        pthread_t *grown = realloc(g->threads, cap * sizeof *grown);
        if (grown == NULL) {
            free(task);
            return ENOMEM;
        }
        g->threads = grown;
        g->cap = cap;
    }
    int rc = pthread_create(&g->threads[g->len], NULL, task_main, task);
    if (rc != 0) {
        free(task);
        return rc;
    }
    g->len++;
    return 0;
}

static inline bool full(const ctx_group_t *g)
{
    return g->limit >= 0 && g->active >= g->limit;
}

/* Take a slot (waiting for one unless `try`), then start fn. */
static int go(ctx_group_t *g, int (*fn)(ctx_t *, void *), void *arg, bool try)
{
    if (g == NULL || fn == NULL)
        return EINVAL;
    pthread_mutex_lock(&g->mu);
    if (try && full(g)) {
        pthread_mutex_unlock(&g->mu);
        return EAGAIN;
    }
    while (full(g))
        pthread_cond_wait(&g->slot_cv, &g->mu);
    g->active++;
    int rc = start_locked(g, fn, arg);
    if (rc != 0) {
        g->active--;
        pthread_cond_broadcast(&g->slot_cv);
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

CTX_API int ctx_group_go(ctx_group_t *g, int (*fn)(ctx_t *, void *), void *arg)
{
    return go(g, fn, arg, false);
}

CTX_API int ctx_group_try_go(ctx_group_t *g, int (*fn)(ctx_t *, void *), void *arg)
{
    return go(g, fn, arg, true);
}

CTX_API int ctx_group_set_limit(ctx_group_t *g, int n)
{
    if (g == NULL)
        return EINVAL;
    pthread_mutex_lock(&g->mu);
    /* errgroup panics when the limit changes under running goroutines: the slots they
     * hold were counted against the old limit. Here that is an error the caller sees. */
    int rc = g->active > 0 ? EBUSY : 0;
    if (rc == 0) {
        g->limit = n < 0 ? -1 : n;
        pthread_cond_broadcast(&g->slot_cv); /* a go() waiting on a limit of 0 */
    }
    pthread_mutex_unlock(&g->mu);
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
    assert(g->active == 0);
    ctx_release(g->ctx);
    pthread_cond_destroy(&g->slot_cv);
    pthread_mutex_destroy(&g->mu);
    free(g->threads);
    free(g);
    return rc;
}
