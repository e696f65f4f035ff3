/*
 * stress.c — 10,000,000 contexts from two threads (tracer_lifecycle stress).
 *
 * main creates the shared parent P (cancel) and a value V under it (2 contexts); each
 * of 2 threads then creates STRESS_PER_THREAD = 4,999,999 contexts, one per turn,
 * rotating through four patterns:
 *   i % 4 == 0  ctx_with_cancel(P) + ctx_release           (child of the shared parent)
 *   i % 4 == 1  ctx_with_timeout(background, 1 h) + release (a timer armed and stopped)
 *   i % 4 == 2  ctx_with_value(V) + ctx_value + ctx_unref   (a value under P, live)
 *   i % 4 == 3  ctx_with_timeout(V, 1 h) + ctx_release      (a timeout under the value)
 * Total 2 + 2 * 4,999,999 = 10,000,000. Then V and P are released: everything is freed.
 * Prints the time the threads took.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <ctxtrace/ctx.h>

enum { STRESS_THREADS = 2, STRESS_PER_THREAD = 4999999 };
#define HOUR (3600 * CTX_SECOND)

static const char key_v, key_c;
static ctx_t *P, *V;
static pthread_barrier_t go;

static ctx_t *must(ctx_t *c)
{
    if (c == NULL) {
        perror("tracer_stress_prog: creating a context");
        exit(99);
    }
    return c;
}

static void *churn(void *arg)
{
    long bad = 0;
    (void)arg;
    pthread_barrier_wait(&go);
    for (int i = 0; i < STRESS_PER_THREAD; i++) {
        ctx_t *c;
        switch (i % 4) {
        case 0:
            c = must(ctx_with_cancel(P)); /* @site:stress-cancel */
            ctx_release(c);
            break;
        case 1:
            c = must(ctx_with_timeout(ctx_background(), HOUR)); /* @site:stress-timeout */
            ctx_release(c);
            break;
        case 2:
            c = must(ctx_with_value(V, &key_c, &bad, NULL)); /* @site:stress-value */
            bad += ctx_value(c, &key_v) != &key_v;
            ctx_unref(c);
            break;
        default:
            c = must(ctx_with_timeout(V, HOUR)); /* @site:stress-value-timeout */
            ctx_release(c);
            break;
        }
    }
    return (void *)bad;
}

int main(void)
{
    P = must(ctx_with_cancel(ctx_background())); /* @site:stress-P */
    V = must(ctx_with_value(P, &key_v, (void *)&key_v, NULL)); /* @site:stress-V */
    pthread_barrier_init(&go, NULL, STRESS_THREADS + 1);
    pthread_t threads[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++)
        if (pthread_create(&threads[i], NULL, churn, NULL) != 0)
            return 99;
    pthread_barrier_wait(&go);
    int64_t t0 = ctx_now();
    long bad = 0;
    for (int i = 0; i < STRESS_THREADS; i++) {
        void *r;
        pthread_join(threads[i], &r);
        bad += (long)r;
    }
    double s = (double)(ctx_now() - t0) / CTX_SECOND;
    long n = 2 + (long)STRESS_THREADS * STRESS_PER_THREAD;
    ctx_unref(V);
    ctx_release(P);
    printf("stress: %ld contexts; the threads took %.3f s (%.3f us per context per thread)\n",
           n, s, s * 1e6 / STRESS_PER_THREAD);
    if (bad != 0) {
        printf("stress: %ld wrong value lookups\n", bad);
        return 1;
    }
    return 0;
}
