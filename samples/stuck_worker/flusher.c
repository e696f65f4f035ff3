/*
 * flusher.c — a worker thread nobody can stop, the service around it.
 *
 * Scenario: the goroutine leak the Go literature warns about most (Dave Cheney: "Never
 * start a goroutine without knowing how it will stop"; context.WithoutCancel "returns a
 * copy of parent that is not canceled when parent is canceled"). A service starts a
 * background worker that flushes buffered metrics once the service shuts down:
 *     go func() { <-ctx.Done(); flush() }()
 * If `ctx` can never be done the worker blocks forever, and a Go program that simply
 * returns from main() never notices. Here the worker is given its context by
 * flusher_context() (worker_fixed.c / worker_leaky.c).
 *
 * main(): derives the service context `app` (ctx_with_cancel of ctx_background()) and a
 * value child `svc` naming the service, starts the flusher on flusher_context(svc),
 * buffers NREQUESTS metrics, then shuts down: ctx_cancel(app), and waits at most
 * SHUTDOWN_GRACE for the flusher to finish (a bounded join, as servers do). It prints
 * how the flusher ended and exits 0 either way: in the leaky variant main() exits while
 * the flusher is still blocked in ctx_wait() — that thread is the leak.
 *
 * Look at: line 69, the ctx_wait(ctx, -1) in flusher_main() — the wait site ctxtrace
 * reports in the leaky variant — and line 126, the pthread_create in main() (the
 * thread's creation stack). flusher_context() in worker_fixed.c / worker_leaky.c decides
 * whether that wait can ever end.
 *
 * Exit status: 0 in both variants (the leaky one reports the lost flush on stdout); 1
 * only if the service could not start.
 */
#define _GNU_SOURCE
#include "flusher.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err_text.h"

#define NREQUESTS 30

/* The key of the service-name value: compared by address. */
static const char service_key;

struct flusher {
    ctx_t *ctx; /* owned by the flusher thread once it runs */
    pthread_t thread;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    bool started;
    const char *service; /* ctx_value(ctx, &service_key), read by the flusher */
    int pending;         /* metrics buffered, not flushed yet */
    int flushed;         /* metrics flushed at shutdown */
    int why;             /* ctx_err() of the flusher's context when it woke */
};

static void *flusher_main(void *arg)
{
    struct flusher *f = arg;
    ctx_t *ctx = f->ctx;

    pthread_mutex_lock(&f->mu);
    f->started = true;
    f->service = ctx_value(ctx, &service_key);
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);

    /* Go's `<-ctx.Done()`: wait for the shutdown. On a context that can never be done
     * this never returns (the leaky variant). */
    ctx_wait(ctx, -1);

    pthread_mutex_lock(&f->mu);
    f->why = ctx_err(ctx);
    f->flushed = f->pending; /* the final flush */
    f->pending = 0;
    pthread_mutex_unlock(&f->mu);
    ctx_release(ctx);
    return NULL;
}

static void wait_until_started(struct flusher *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->started)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
}

static void record_metric(struct flusher *f)
{
    pthread_mutex_lock(&f->mu);
    f->pending++;
    pthread_mutex_unlock(&f->mu);
}

/* A bounded join: 0 when the thread finished within `grace`, else ETIMEDOUT. */
static int join_within(pthread_t thread, int64_t grace)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(grace / CTX_SECOND);
    until.tv_nsec += (long)(grace % CTX_SECOND);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(thread, NULL, &until);
}

int main(void)
{
    /* Static: in the leaky variant the flusher thread still uses it after main(). */
    static struct flusher flusher = {
        .mu = PTHREAD_MUTEX_INITIALIZER,
        .cv = PTHREAD_COND_INITIALIZER,
    };

    ctx_t *app = ctx_with_cancel(ctx_background());
    ctx_t *svc = app ? ctx_with_value(app, &service_key, "checkout", NULL) : NULL;
    if (svc == NULL) {
        perror("creating the service context");
        return 1;
    }
    /* Start the flusher on its own context; it owns that context from here on. */
    int rc = flusher_context(svc, &flusher.ctx);
    if (rc == 0)
        rc = pthread_create(&flusher.thread, NULL, flusher_main, &flusher);
    if (rc != 0) {
        fprintf(stderr, "starting the flusher: %s\n", strerror(rc));
        return 1;
    }
    wait_until_started(&flusher);
    printf("service %s: flusher started\n", flusher.service ? flusher.service : "?");

    for (int i = 0; i < NREQUESTS; i++)
        record_metric(&flusher);
    printf("service: handled %d requests, %d metrics buffered\n", NREQUESTS, NREQUESTS);

    printf("service: shutting down, cancelling the service context\n");
    ctx_cancel(app);
    rc = join_within(flusher.thread, SHUTDOWN_GRACE);

    pthread_mutex_lock(&flusher.mu);
    if (rc == 0)
        printf("flusher: stopped (%s), flushed %d metrics\n", err_text(flusher.why),
               flusher.flushed);
    else
        printf("flusher: still blocked %d ms after the shutdown; exiting without it "
               "(%d metrics never flushed)\n",
               (int)(SHUTDOWN_GRACE / CTX_MILLISECOND), flusher.pending);
    pthread_mutex_unlock(&flusher.mu);

    ctx_unref(svc);   /* a value context: nothing to cancel */
    ctx_release(app); /* already cancelled above */
    printf("service: exit\n");
    return 0;
}
