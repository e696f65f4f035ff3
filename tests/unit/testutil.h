/*
 * testutil.h — shared helpers for libctxtrace's unit tests (cmocka).
 *
 * Tests assert behaviour, never timings. The time bounds here exist only so a broken
 * runtime makes a test fail instead of hang: QUIESCENT is Go's quiescent(t).
 * cmocka's assertions are not thread-safe, so helper threads record what they saw in
 * atomics and the test's own thread asserts on them.
 */
#ifndef CTXTRACE_TESTUTIL_H
#define CTXTRACE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ctxtrace/ctx.h>

/* Go's shortDuration / veryLongDuration / quiescent(t). */
#define SHORT_NS (CTX_MILLISECOND)
#define VERY_LONG_NS ((int64_t)1000 * 3600 * CTX_SECOND)
#define QUIESCENT_NS (5 * CTX_SECOND)

static inline void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / CTX_SECOND, .tv_nsec = ns % CTX_SECOND};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Poll until *v >= want or QUIESCENT_NS passes; returns whether it got there. */
static inline bool wait_for_count(atomic_int *v, int want)
{
    int64_t end = ctx_now() + QUIESCENT_NS;
    while (atomic_load(v) < want) {
        if (ctx_now() > end)
            return false;
        sleep_ns(100 * CTX_MICROSECOND);
    }
    return true;
}

static inline pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int rc = pthread_create(&t, NULL, fn, arg);
    assert_int_equal(rc, 0);
    return t;
}

static inline void join(pthread_t t)
{
    assert_int_equal(pthread_join(t, NULL), 0);
}

/* Not done right now (Go: `select { case <-c.Done(): t.Error(); default: }`). */
#define assert_live(c)                                                                   \
    do {                                                                                 \
        assert_false(ctx_is_done(c));                                                    \
        assert_int_equal(ctx_err(c), 0);                                                 \
    } while (0)

/* Done right now, with error `e`. */
#define assert_done(c, e)                                                                \
    do {                                                                                 \
        assert_true(ctx_is_done(c));                                                     \
        assert_int_equal(ctx_err(c), (e));                                               \
    } while (0)

/* Wait (bounded) for c to be done, then check its error: Go's testDeadline. */
#define assert_becomes_done(c, e)                                                        \
    do {                                                                                 \
        assert_int_equal(ctx_wait((c), QUIESCENT_NS), 0);                                \
        assert_done((c), (e));                                                           \
    } while (0)

/* Bytes of heap in use, from the allocator that is actually in use. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
size_t __sanitizer_get_current_allocated_bytes(void);
static inline size_t heap_in_use(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static inline size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
#endif

/* A small deterministic PRNG (xorshift64*), so failures print a reproducible seed. */
static inline uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

#endif /* CTXTRACE_TESTUTIL_H */
