/* The exit check under load: hundreds of threads blocked in mixed places, some inside
 * malloc at the moment of the check, and exit() called from a thread other than main.
 *
 *   150 watchers  handed a job's context, which is cancelled; they block on a condition
 *                 variable nobody signals                        -> leaked-thread 150
 *   4 churners    handed a value context (never done); malloc/free in a loop until exit
 *                 — the check stops them wherever they are, malloc's locks included
 *                 (a few: the machine has few cores, and they never sleep)
 *   150 waiters   in ctx_wait on a live context main keeps to exit (an owner remains:
 *                 not leaked; the context, never cancelled, is a lost-cancel)
 *   1 closer      waits until everyone is in place, then calls exit(0) while main is
 *                 blocked in pthread_join
 * Built with -DFIXED the watchers' result is taken (they return and are joined).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { N = 150, CHURNERS = 4 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool taken;
static _Atomic int in_place;
static ctx_t *job, *kept;

static void *watcher(void *arg)
{
    ctx_t *ctx = arg;
    while (!ctx_is_done(ctx)) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&mu);
    atomic_fetch_add(&in_place, 1);
    while (!taken)
        pthread_cond_wait(&cv, &mu); /* the result is never taken */
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *churner(void *arg)
{
    (void)arg;
    atomic_fetch_add(&in_place, 1);
    for (unsigned i = 0;; i++) {
        void *p = malloc(16 + i % 4096);
        free(p);
    }
    return NULL;
}

static void *waiter(void *arg)
{
    atomic_fetch_add(&in_place, 1);
    ctx_wait(arg, -1);
    return NULL;
}

static void *closer(void *arg)
{
    (void)arg;
    while (atomic_load(&in_place) < 2 * N + CHURNERS) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    struct timespec ts = {0, 200 * 1000 * 1000}; /* the cancel is well in the past */
    nanosleep(&ts, NULL);
    printf("closer: %d threads in place, exiting\n", atomic_load(&in_place));
    fflush(stdout);
    exit(0);
}

int main(void)
{
    job = ctx_with_cancel(ctx_background());
    kept = ctx_with_cancel(ctx_background());
    ctx_t *values = ctx_with_value(ctx_background(), &in_place, NULL, NULL);
    static pthread_t watchers[N];
    pthread_t t;
    for (int i = 0; i < N; i++) {
        pthread_create(&watchers[i], NULL, watcher, job);
        pthread_create(&t, NULL, waiter, kept);
    }
    for (int i = 0; i < CHURNERS; i++)
        pthread_create(&t, NULL, churner, values);
    ctx_cancel(job);
#ifdef FIXED
    while (atomic_load(&in_place) < 2 * N + CHURNERS) {
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&mu);
    taken = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < N; i++)
        pthread_join(watchers[i], NULL);
#endif
    pthread_create(&t, NULL, closer, NULL);
    pthread_join(t, NULL); /* never returns: the closer exits the process */
    return 1;
}
