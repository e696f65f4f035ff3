/*
 * test_trend.c — the soak decision (ctxtrace/core/trend.h) on synthetic series.
 *
 * Each case is a shape the Go literature's "zero goroutine growth" soak must tell
 * apart: leaks (linear, slow, noisy, stair-stepped) must grow; warm-up, a steady pool,
 * sawtooth batches, a one-off step, jitter and a draining series must not.
 * Samples are every 100 ms over 10 s unless a case says otherwise.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <ctxtrace/core/trend.h>

enum { N = 100 };
static const struct ct_trend_floor CONTEXTS = {.abs = 8, .rel = 0.1};

static int64_t ts[N];
static double v[N];

/* Deterministic jitter in [-a, a]. */
static double jitter(unsigned *seed, double a)
{
    *seed = *seed * 1103515245u + 12345u;
    return ((double)((*seed >> 8) % 2001) / 1000.0 - 1.0) * a;
}

static struct ct_trend judge(size_t n)
{
    struct ct_trend t;
    assert_true(ct_trend_judge(ts, v, n, CONTEXTS, &t));
    return t;
}

static void fill_times(void)
{
    for (int i = 0; i < N; i++)
        ts[i] = 1000000000LL + (int64_t)i * 100000000LL;
}

static void linear_leak(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        v[i] = 50 + 20.0 * i / 10; /* 20 contexts/s */
    struct ct_trend t = judge(N);
    assert_true(t.grows);
    assert_true(fabs(t.slope - 20) < 0.01);
    assert_true(fabs(t.growth - 198) < 1);
}

static void slow_leak(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        v[i] = 40 + i / 10; /* one context a second, in whole steps */
    assert_true(judge(N).grows);
}

static void noisy_leak(void **state)
{
    (void)state;
    unsigned seed = 7;
    for (int i = 0; i < N; i++) /* 30/s under a jitter of ±40 */
        v[i] = 200 + 3.0 * i + jitter(&seed, 40);
    struct ct_trend t = judge(N);
    assert_true(t.grows);
    assert_true(fabs(t.slope - 30) < 3);
}

static void leak_under_sawtooth(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) /* batches of 0..90 every second, 15 kept per second */
        v[i] = 10 + (i % 10) * 10 + 1.5 * i;
    assert_true(judge(N).grows);
}

static void steady_after_warmup(void **state)
{
    (void)state;
    unsigned seed = 3;
    for (int i = 0; i < N; i++) /* the judged window starts after the warm-up: flat */
        v[i] = 64 + jitter(&seed, 2);
    assert_false(judge(N).grows);
}

static void steady_pool(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        v[i] = 1000;
    struct ct_trend t = judge(N);
    assert_false(t.grows);
    assert_true(t.slope == 0);
}

static void sawtooth(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) /* 0..200 created, then all released, every 0.7 s */
        v[i] = (i % 7) * 200.0 / 6;
    assert_false(judge(N).grows);
}

static void sawtooth_slow_period(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) /* one batch every 3 s: the window holds 3.3 teeth */
        v[i] = (i % 30) * 10.0;
    assert_false(judge(N).grows);
}

static void one_off_step(void **state)
{
    (void)state;
    for (int q = 1; q <= 8; q++) { /* a step of 500 anywhere in the window */
        for (int i = 0; i < N; i++)
            v[i] = i < q * N / 9 ? 20 : 520;
        assert_false(judge(N).grows);
    }
}

static void draining(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        v[i] = 500 - 4.0 * i;
    assert_false(judge(N).grows);
}

static void below_floor(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) /* +5 over the window: under the absolute floor of 8 */
        v[i] = 10 + i / 20;
    struct ct_trend t = judge(N);
    assert_false(t.grows);
    assert_true(t.growth > 0);
}

static void relative_floor(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++) /* +50 over the window on a level of 10000: under 10% */
        v[i] = 10000 + i / 2;
    assert_false(judge(N).grows);
}

static void thinned(void **state)
{
    (void)state;
    enum { BIG = 5000 }; /* 5000 samples: thinned to CT_TREND_MAX_POINTS */
    int64_t *bt = malloc(BIG * sizeof *bt);
    double *bv = malloc(BIG * sizeof *bv);
    for (int i = 0; i < BIG; i++) {
        bt[i] = (int64_t)i * 10000000LL;
        bv[i] = 7.0 * i / 100; /* 7/s */
    }
    struct ct_trend t;
    assert_true(ct_trend_judge(bt, bv, BIG, CONTEXTS, &t));
    assert_true(t.grows);
    assert_true(fabs(t.slope - 7) < 0.01);
    free(bt);
    free(bv);
}

static void too_short(void **state)
{
    (void)state;
    for (int i = 0; i < N; i++)
        v[i] = i;
    struct ct_trend t;
    assert_false(ct_trend_judge(ts, v, CT_TREND_MIN_POINTS - 1, CONTEXTS, &t));
    int64_t same[CT_TREND_MIN_POINTS] = {0};
    assert_false(ct_trend_judge(same, v, CT_TREND_MIN_POINTS, CONTEXTS, &t));
    assert_true(ct_trend_judge(ts, v, CT_TREND_MIN_POINTS, CONTEXTS, &t));
}

int main(void)
{
    fill_times();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_leak),     cmocka_unit_test(slow_leak),
        cmocka_unit_test(noisy_leak),      cmocka_unit_test(leak_under_sawtooth),
        cmocka_unit_test(steady_after_warmup), cmocka_unit_test(steady_pool),
        cmocka_unit_test(sawtooth),        cmocka_unit_test(sawtooth_slow_period),
        cmocka_unit_test(one_off_step),    cmocka_unit_test(draining),
        cmocka_unit_test(below_floor),     cmocka_unit_test(relative_floor),
        cmocka_unit_test(thinned),         cmocka_unit_test(too_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
