/*
 * after.c — ctx_after_func / ctx_after_stop: run a function once a context is done.
 *
 * Each registration is a small record on the list of the cancellable context whose
 * state decides (the "done source"). Records are never unlinked before the context is
 * freed — that is what keeps every handle valid for the context's life, so
 * ctx_after_stop can be called any number of times. A record's fate is one atomic
 * state: PENDING, then either RUNNING (the canceller claimed it) or STOPPED (stop
 * claimed it): whoever moves it out of PENDING first decides.
 *
 * While a claimed record waits for its callback thread it holds a reference on the
 * context, so the record cannot be freed under the worker.
 */
#include <stdlib.h>

#include "internal.h"

enum { AFTER_PENDING, AFTER_RUNNING, AFTER_STOPPED };

struct ctx_after {
    struct ctx_job job; /* first: the executor hands us back by this */
    ctx_after_t *next;  /* on the context's list */
    ctx_t *src;
    void (*fn)(void *);
    void *arg;
    _Atomic int state;
};

/* Records of contexts that can never be done: nothing frees them with a context, so
 * they are kept here (their callbacks never run; stop still answers correctly). */
static ctx_after_t *_Atomic never_done;

static void after_run(struct ctx_job *job)
{
    ctx_after_t *a = (ctx_after_t *)job;
    ctx_t *src = a->src;
    a->fn(a->arg);
    ctx__ref_drop(src);
}

static void schedule(ctx_after_t *a)
{
    int expected = AFTER_PENDING;
    if (!atomic_compare_exchange_strong_explicit(&a->state, &expected, AFTER_RUNNING,
                                                 memory_order_acq_rel, memory_order_acquire))
        return; /* stopped first */
    atomic_fetch_add_explicit(&a->src->refs, 1, memory_order_relaxed);
    a->job.run = after_run;
    ctx__executor_submit(&a->job);
}

CTX_API ctx_after_t *ctx_after_func(ctx_t *c, void (*fn)(void *), void *arg)
{
    if (c == NULL || fn == NULL) {
        errno = EINVAL;
        return NULL;
    }
    ctx_after_t *a = malloc(sizeof *a);
    if (a == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    ctx_t *src = ctx_done_src(c);
    a->src = src;
    a->fn = fn;
    a->arg = arg;
    atomic_init(&a->state, AFTER_PENDING);
    if (src == NULL) {
        a->next = atomic_load_explicit(&never_done, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&never_done, &a->next, a,
                                                      memory_order_release,
                                                      memory_order_relaxed))
            ;
        return a;
    }
    uint32_t state = ctx_state_lock(src);
    a->next = CC(src)->afters;
    CC(src)->afters = a;
    bool done = ctx_state_err(state) != 0;
    ctx_state_unlock(src, state);
    if (done)
        schedule(a); /* the canceller has already walked the list */
    return a;
}

CTX_API bool ctx_after_stop(ctx_after_t *a)
{
    if (a == NULL)
        return false;
    int expected = AFTER_PENDING;
    return atomic_compare_exchange_strong_explicit(&a->state, &expected, AFTER_STOPPED,
                                                   memory_order_acq_rel,
                                                   memory_order_acquire);
}

void ctx__after_fire(ctx_after_t *list)
{
    for (ctx_after_t *a = list; a != NULL; a = a->next)
        schedule(a);
}

void ctx__after_free_all(ctx_after_t *list)
{
    while (list != NULL) {
        ctx_after_t *next = list->next;
        free(list);
        list = next;
    }
}
