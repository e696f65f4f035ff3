/* leaked-thread, the classic goroutine leak: a watcher handed a job (a struct holding
 * the job's context) waits for the job to be cancelled, then hands its result over
 * through a condition variable — but the reader already left: the watcher blocks
 * forever, its context long done. Built twice: the leaky variant exits with the watcher
 * blocked; with -DFIXED the reader takes the result and joins the watcher (no finding).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

struct job {
    ctx_t *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int result;
    bool ready, taken;
};

static void *watcher(void *arg)
{
    struct job *j = arg;
    ctx_wait(j->ctx, -1);
    pthread_mutex_lock(&j->mu);
    j->result = ctx_err(j->ctx);
    j->ready = true;
    pthread_cond_broadcast(&j->cv);
    while (!j->taken)
        pthread_cond_wait(&j->cv, &j->mu); /* the reader may have left */
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int main(void)
{
    static struct job j = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    j.ctx = ctx_with_cancel(ctx_background());
    pthread_t t;
    pthread_create(&t, NULL, watcher, &j);
    ctx_cancel(j.ctx);
#ifdef FIXED
    pthread_mutex_lock(&j.mu);
    while (!j.ready)
        pthread_cond_wait(&j.cv, &j.mu);
    j.taken = true;
    pthread_cond_broadcast(&j.cv);
    pthread_mutex_unlock(&j.mu);
    pthread_join(t, NULL);
    printf("watcher: result taken\n");
#else
    /* The reader gives up without taking the result. */
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("watcher: result never taken\n");
#endif
    ctx_release(j.ctx);
    return 0;
}
