/*
 * soak_prog.c — programs with known growth shapes for `ctxtrace soak`, run until
 * SIGTERM (soak stops them). One shape per argument:
 *
 *   steady-warmup  a burst of 300 long-lived contexts in the first half second (the
 *                  warm-up), then request contexts created and released: no growth
 *   pool           a fixed pool of 200 contexts with timers held for the whole run, plus
 *                  request contexts created and released: no growth
 *   sawtooth       batches of 400 contexts created over 0.5 s, then all released: no
 *                  growth
 *   step           flat, then 500 more contexts kept from 1.5 s on, then flat: no growth
 *   leak-contexts  one request context in three is unref'd uncancelled (a lost cancel)
 *                  at leak_context(): live contexts grow
 *   leak-timers    a ctx_with_timeout dropped uncancelled every few ms at leak_timer():
 *                  live contexts and armed timers grow
 *   leak-waiters   every 100 ms a thread starts, blocked in ctx_wait on a context
 *                  nobody can cancel, at stuck_wait(): waiters and threads grow
 *   leak-then-exit as leak-contexts, but exits by itself (status 0) after 2.5 s: soak
 *                  judges what it saw
 *   bounded-leak   a 50 ms ctx_with_timeout dropped uncancelled every few ms at
 *                  bounded_leak(): the timers fire, so nothing grows — but every one is
 *                  an orphaned timer, a finding that fails the soak
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ctxtrace/ctx.h>

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One request: a context for it and a child, both released. */
static void request(ctx_t *server)
{
    CTX_AUTO ctx_t *req = ctx_with_cancel(server);
    CTX_AUTO ctx_t *call = ctx_with_timeout(req, 5 * CTX_SECOND);
    (void)ctx_is_done(call);
}

static void keep(ctx_t *server, ctx_t **held, int n)
{
    for (int i = 0; i < n; i++)
        held[i] = ctx_with_timeout(server, 3600 * CTX_SECOND);
}

static __attribute__((noinline)) void leak_context(ctx_t *server)
{
    ctx_t *lost = ctx_with_cancel(server);
    ctx_unref(lost); /* the lost cancel: stays attached to server */
}

static __attribute__((noinline)) void leak_timer(ctx_t *server)
{
    ctx_t *call = ctx_with_timeout(server, 3600 * CTX_SECOND);
    ctx_unref(call); /* the orphaned timer */
}

static __attribute__((noinline)) void bounded_leak(ctx_t *server)
{
    ctx_t *call = ctx_with_timeout(server, 50 * CTX_MILLISECOND);
    ctx_unref(call); /* an orphaned timer, freed when it fires 50 ms later */
}

static __attribute__((noinline)) void stuck_wait(ctx_t *c)
{
    ctx_wait(c, -1);
}

static pthread_mutex_t stuck_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stuck_cv = PTHREAD_COND_INITIALIZER;

/* Handed a context, waits for its cancel, then blocks on a condition nobody signals. */
static void *stuck_after_cancel(void *arg)
{
    ctx_wait(arg, -1);
    pthread_mutex_lock(&stuck_mu);
    for (;;)
        pthread_cond_wait(&stuck_cv, &stuck_mu);
    return NULL;
}

static void *waiter(void *arg)
{
    ctx_t *c = arg;
    stuck_wait(c);
    return NULL;
}

int main(int argc, char **argv)
{
    static ctx_t *held[1000];
    static const char *const shapes[] = {"steady-warmup", "pool", "sawtooth", "step",
                                         "leak-contexts", "leak-timers", "leak-waiters",
                                         "leak-then-exit", "bounded-leak",
                                         "stuck-thread"};
    const char *shape = argc > 1 ? argv[1] : "";
    bool known = false;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
        known = known || strcmp(shape, shapes[i]) == 0;
    if (!known) {
        fprintf(stderr, "usage: soak_prog steady-warmup|pool|sawtooth|step|leak-contexts|"
                        "leak-timers|leak-waiters|leak-then-exit|bounded-leak|stuck-thread\n");
        return 2;
    }
    ctx_t *server = ctx_with_cancel(ctx_background());
    int64_t start = ctx_now();
    if (strcmp(shape, "steady-warmup") == 0) {
        keep(server, held, 300);
        for (;;) {
            request(server);
            nap_ms(2);
        }
    } else if (strcmp(shape, "pool") == 0) {
        keep(server, held, 200);
        for (;;) {
            request(server);
            nap_ms(2);
        }
    } else if (strcmp(shape, "sawtooth") == 0) {
        for (;;) {
            for (int i = 0; i < 400; i++) {
                held[i] = ctx_with_cancel(server);
                if (i % 8 == 0)
                    nap_ms(10);
            }
            for (int i = 0; i < 400; i++)
                ctx_release(held[i]);
        }
    } else if (strcmp(shape, "step") == 0) {
        bool stepped = false;
        for (;;) {
            if (!stepped && ctx_now() - start > 1500 * CTX_MILLISECOND) {
                keep(server, held, 500);
                stepped = true;
            }
            request(server);
            nap_ms(2);
        }
    } else if (strcmp(shape, "leak-contexts") == 0) {
        for (unsigned i = 0;; i++) {
            if (i % 3 == 0)
                leak_context(server);
            else
                request(server);
            nap_ms(2);
        }
    } else if (strcmp(shape, "leak-then-exit") == 0) {
        for (unsigned i = 0; ctx_now() - start < 2500 * CTX_MILLISECOND; i++) {
            if (i % 3 == 0)
                leak_context(server);
            nap_ms(2);
        }
        return 0; /* the lost contexts are the point; the process ends here */
    } else if (strcmp(shape, "leak-timers") == 0) {
        for (;;) {
            leak_timer(server);
            nap_ms(5);
        }
    } else if (strcmp(shape, "bounded-leak") == 0) {
        for (;;) {
            bounded_leak(server);
            nap_ms(5);
        }
    } else if (strcmp(shape, "stuck-thread") == 0) {
        /* Nothing grows; one thread missed its cancellation and never ends. */
        ctx_t *job = ctx_with_cancel(server);
        pthread_t t;
        if (pthread_create(&t, NULL, stuck_after_cancel, job) == 0)
            pthread_detach(t);
        ctx_cancel(job);
        for (;;) {
            request(server);
            nap_ms(2);
        }
    } else if (strcmp(shape, "leak-waiters") == 0) {
        ctx_t *never = ctx_without_cancel(server);
        for (;;) {
            pthread_t t;
            if (pthread_create(&t, NULL, waiter, ctx_with_cancel(never)) == 0)
                pthread_detach(t);
            nap_ms(100);
        }
    }
    return 2; /* not reached: every known shape loops until a signal */
}
