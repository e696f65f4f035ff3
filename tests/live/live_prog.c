/*
 * live_prog.c — a traced program that runs long enough to be tailed, for the live
 * socket's tests and benchmark. Its output depends only on its arguments, so a run
 * disturbed by hostile clients can be compared with an undisturbed one.
 *
 *   live_prog [--wait-go] [--burst N] [--leak-every K] [--handed N] [--timing] [--exec]
 *             ITERATIONS INTERVAL_US
 *
 * Before starting it builds a small tree that stays live to the end and carries one
 * candidate of each early finding (lost-cancel, orphaned-timer, ineffective-deadline),
 * prints "ready", and with --wait-go waits for a line on stdin. Then: a burst of N
 * create+release pairs as fast as it can (--timing prints how long it took on stderr),
 * with --leak-every K every K-th of them a lost cancel instead (made at
 * make_burst_lost_cancel, freed with the server context at the end); with --handed N,
 * N more lost cancels (make_handed_lost_cancel) whose last reference is a value child's,
 * dropped on another thread while this one lets go of them: about half of them are freed
 * on that thread just after their release here (the writer can drain the two out of
 * order: live.c "Order");
 * and ITERATIONS requests, one every INTERVAL_US, each a timeout context with a value
 * child, every tenth one cancelled with a reason, while a worker thread waits on a job
 * context the main thread cancels at the end. With --exec it finally replaces itself
 * with "live_prog --wait-go 0 0" (same process, a new image). With --leak-at-exit it
 * leaves the exit check something to find (tests/findings/exit's shapes, in a program
 * that waits to be tailed): a watcher blocked on a condition variable after its context
 * was cancelled (leaked-thread), and two contexts whose handle was overwritten
 * (lost-cancel at exit: unreachable); the last one stays in a global (reachable).
 */
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const int key = 1;

static ctx_t *make_lost_cancel(ctx_t *parent)
{
    ctx_t *c = ctx_with_cancel(parent);
    ctx_unref(c); /* never cancelled: attached to parent until it ends */
    return c;
}

static void make_burst_lost_cancel(ctx_t *parent)
{
    ctx_unref(ctx_with_cancel(parent)); /* never cancelled */
}

/* Under the background context, which holds no reference to it (the server context
 * would, until it ends): its last reference is its child's. */
static ctx_t *make_handed_lost_cancel(void)
{
    return ctx_with_cancel(ctx_background()); /* never cancelled */
}

enum { HANDED_BATCH = 1000 };

static void *drop_all(void *kids)
{
    for (int n = 0; n < HANDED_BATCH; n++)
        ctx_unref(((ctx_t **)kids)[n]); /* NULL past the batch's end: nothing */
    return NULL;
}

/* Lost cancels let go of here while another thread drops their children. */
static void handed_lost_cancels(long count)
{
    static ctx_t *lost[HANDED_BATCH], *kids[HANDED_BATCH];
    for (long done = 0; done < count; done += HANDED_BATCH) {
        int n = count - done < HANDED_BATCH ? (int)(count - done) : HANDED_BATCH;
        for (int k = 0; k < HANDED_BATCH; k++) {
            lost[k] = k < n ? make_handed_lost_cancel() : NULL;
            kids[k] = k < n ? ctx_with_value(lost[k], &key, NULL, NULL) : NULL;
        }
        pthread_t th;
        pthread_create(&th, NULL, drop_all, kids);
        for (int k = 0; k < n; k++)
            ctx_unref(lost[k]);
        pthread_join(th, NULL);
    }
}

static void make_orphaned_timer(ctx_t *parent)
{
    ctx_unref(ctx_with_timeout(parent, 3600 * CTX_SECOND));
}

static ctx_t *make_ineffective_deadline(ctx_t *session)
{
    return ctx_with_timeout(session, 3600 * CTX_SECOND); /* session ends sooner */
}

static void handle_request(ctx_t *server, int i)
{
    ctx_t *req = ctx_with_timeout(server, CTX_SECOND);
    ctx_t *val = ctx_with_value(req, &key, NULL, NULL);
    if (ctx_value(val, &key) == NULL && i % 10 == 0)
        ctx_cancel_cause(req, 499, "client went away");
    ctx_unref(val);
    ctx_release(req);
}

static void *worker(void *job)
{
    ctx_wait(job, -1);
    ctx_unref(job);
    return NULL;
}

/* External, so the compiler keeps every store. */
ctx_t *poll_parent, *round_ctx;

struct watch {
    ctx_t *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};
static struct watch watch = {NULL, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void *watcher(void *arg)
{
    struct watch *w = arg;
    ctx_wait(w->ctx, -1);
    pthread_mutex_lock(&w->mu);
    for (;;)
        pthread_cond_wait(&w->cv, &w->mu); /* the result's reader left: never signalled */
    return NULL;
}

static void leak_at_exit(void)
{
    poll_parent = ctx_with_cancel(ctx_background());
    for (volatile int i = 0; i < 3; i++)
        round_ctx = ctx_with_cancel(poll_parent); /* the previous handle is lost */
    watch.ctx = ctx_with_cancel(ctx_background());
    pthread_t th;
    pthread_create(&th, NULL, watcher, &watch);
    ctx_cancel(watch.ctx);
    ctx_cancel(poll_parent); /* shutdown */
    struct timespec ts = {0, 100 * 1000000}; /* the watcher reaches its wait */
    nanosleep(&ts, NULL);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    bool wait_go = false, timing = false, exec_self = false, leak = false;
    long burst = 0, leak_every = 0, handed = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--wait-go") == 0)
            wait_go = true;
        else if (strcmp(argv[i], "--timing") == 0)
            timing = true;
        else if (strcmp(argv[i], "--exec") == 0)
            exec_self = true;
        else if (strcmp(argv[i], "--leak-at-exit") == 0)
            leak = true;
        else if (strcmp(argv[i], "--burst") == 0 && i + 1 < argc)
            burst = atol(argv[++i]);
        else if (strcmp(argv[i], "--leak-every") == 0 && i + 1 < argc)
            leak_every = atol(argv[++i]);
        else if (strcmp(argv[i], "--handed") == 0 && i + 1 < argc)
            handed = atol(argv[++i]);
        else
            break;
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: live_prog [--wait-go] [--burst N] [--leak-every K] [--handed N] [--timing] [--exec] "
                        "[--leak-at-exit] "
                        "ITERATIONS INTERVAL_US\n");
        return 2;
    }
    long iterations = atol(argv[i]), interval_us = atol(argv[i + 1]);

    ctx_t *server = ctx_with_cancel(ctx_background());
    ctx_t *session = ctx_with_timeout(server, 1800 * CTX_SECOND);
    make_lost_cancel(server);
    make_orphaned_timer(server);
    ctx_t *ineffective = make_ineffective_deadline(session);
    printf("ready\n");
    fflush(stdout);
    if (wait_go) {
        char line[64];
        if (fgets(line, sizeof line, stdin) == NULL)
            return 3;
    }

    int64_t t0 = now_ns();
    for (long n = 0; n < burst; n++) {
        if (leak_every > 0 && n % leak_every == leak_every - 1)
            make_burst_lost_cancel(server);
        else
            ctx_release(ctx_with_cancel(server));
    }
    handed_lost_cancels(handed);
    if (timing)
        fprintf(stderr, "burst_ns %lld\n", (long long)(now_ns() - t0));

    ctx_t *job = ctx_with_cancel(server);
    pthread_t th;
    pthread_create(&th, NULL, worker, ctx_ref(job)); /* the worker's own reference */
    for (long n = 0; n < iterations; n++) {
        handle_request(server, (int)n);
        if (interval_us > 0)
            usleep((useconds_t)interval_us);
    }
    ctx_release(job);
    pthread_join(th, NULL);
    ctx_release(ineffective);
    ctx_release(session);
    ctx_release(server);
    if (leak)
        leak_at_exit();
    printf("done iterations=%ld burst=%ld\n", iterations, burst);
    if (exec_self) {
        fflush(stdout);
        execl("/proc/self/exe", argv[0], "--wait-go", "0", "0", (char *)NULL);
        perror("exec");
        return 1;
    }
    return 0;
}
