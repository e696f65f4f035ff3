/*
 * ring.c — per-thread event rings and their registry (see ring.h).
 */
#include "ring.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "futex.h"
#include "scan.h"
#include "shim.h"

_Atomic uint64_t ring_stalls, ring_stall_ns, ring_stall_max_ns, ring_paces, ring_pace_ns;

/* The consumer's wake-up word: producers bump it and wake the writer sleeping on it. */
static _Atomic uint32_t poke_word;

uint32_t ring_pokes(void)
{
    return atomic_load_explicit(&poke_word, memory_order_acquire);
}

void ring_poke(void)
{
    atomic_fetch_add_explicit(&poke_word, 1, memory_order_release);
    futex_wake_all(&poke_word);
}

void ring_sleep(uint32_t seen, int64_t timeout_ns)
{
    futex_wait_ns(&poke_word, seen, timeout_ns);
}

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ring *registry;

struct ring *ring_new(uint32_t thread)
{
    struct ring *r = aligned_alloc(64, sizeof *r);
    if (r == NULL)
        return NULL;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->dead, false);
    r->thread = thread;
    pthread_mutex_lock(&registry_mu);
    r->next = registry;
    registry = r;
    pthread_mutex_unlock(&registry_mu);
    return r;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One wait of an application thread, timed: how long it was held up is the tracer's cost
 * the user feels, and the longest single wait is the figure that must stay short. */
static void count_wait(_Atomic uint64_t *count, _Atomic uint64_t *total, uint64_t waited)
{
    atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(total, waited, memory_order_relaxed);
    uint64_t max = atomic_load_explicit(&ring_stall_max_ns, memory_order_relaxed);
    while (waited > max && !atomic_compare_exchange_weak_explicit(
                               &ring_stall_max_ns, &max, waited, memory_order_relaxed,
                               memory_order_relaxed))
        ;
}

/* Pacing. The writer stops draining while SQLite works — a WAL checkpoint, the
 * symbolizer's first look at a library (50 ms here) — and a thread that filled its ring
 * then waited all that time in one piece (up to 195 ms measured). Instead, a thread whose
 * ring is over 3/4 full sleeps briefly before each event, longer the fuller the ring:
 * 20 us doubling every 1/32 of the ring, at most 1.28 ms. It keeps running, slowed to
 * what the writer absorbs, and the last quarter of the ring lasts about 0.6 s of writer
 * absence at 56-byte events before any thread waits for room in one piece. (Spinning
 * instead of sleeping for the short waits was tried: it took the core from the writer
 * and made the longest wait worse.) */
enum { PACE_FROM = RING_BYTES / 4 * 3, PACE_STEP = RING_BYTES / 32, PACE_MIN_NS = 20000,
       PACE_MAX_SHIFT = 6 };

static void pace(uint64_t used)
{
    assert(used >= PACE_FROM);
    uint64_t step = (used - PACE_FROM) / PACE_STEP;
    int64_t ns = (int64_t)PACE_MIN_NS << (step < PACE_MAX_SHIFT ? step : PACE_MAX_SHIFT);
    ring_poke();
    int64_t start = now_ns();
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
    count_wait(&ring_paces, &ring_pace_ns, (uint64_t)(now_ns() - start));
}

/* Wait until `need` bytes are free: only when pacing could not hold the thread back (the
 * writer gone longer than the ring lasts, or one event bigger than what is left). The
 * writer drains every few milliseconds; poking it makes that now. */
static void wait_for_room(struct ring *r, uint64_t head, size_t need)
{
    if (RING_BYTES - (head - atomic_load_explicit(&r->tail, memory_order_acquire)) >= need)
        return;
    int64_t start = now_ns();
    while (RING_BYTES - (head - atomic_load_explicit(&r->tail, memory_order_acquire)) < need) {
        ring_poke();
        struct timespec ts = {0, 20 * 1000};
        nanosleep(&ts, NULL);
    }
    count_wait(&ring_stalls, &ring_stall_ns, (uint64_t)(now_ns() - start));
}

struct ev *ring_reserve(struct ring *r, size_t size)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t used = head - atomic_load_explicit(&r->tail, memory_order_acquire);
    if (used >= PACE_FROM)
        pace(used);
    size_t offset = head % RING_BYTES;
    size_t to_end = RING_BYTES - offset;
    if (to_end < size) {
        /* Not enough contiguous room before the end: pad to the end and wrap. Every
         * event is at least 8 bytes and sizes are multiples of 8, so a pad header fits
         * whenever to_end >= 8; to_end is never 0 here. */
        wait_for_room(r, head, to_end + size);
        struct ev *pad = (struct ev *)(r->buf + offset);
        pad->type = EV_PAD;
        pad->size = (uint16_t)(to_end > 0xffff ? 0 : to_end); /* 0: "to the end" */
        head += to_end;
        atomic_store_explicit(&r->head, head, memory_order_release);
        offset = 0;
    } else {
        wait_for_room(r, head, size);
    }
    return (struct ev *)(r->buf + offset);
}

void ring_commit(struct ring *r, size_t size)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + size, memory_order_release);
    /* Crossing half full: wake the writer now rather than when the ring is full, so a
     * busy thread rarely has to wait for room. Once per crossing, not per event. */
    uint64_t used = head + size - atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (used >= RING_BYTES / 2 && used - size < RING_BYTES / 2)
        ring_poke();
}

static size_t drain_one(struct ring *r, void (*fn)(const struct ev *, void *), void *arg)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t n = 0;
    while (tail < head) {
        size_t offset = tail % RING_BYTES;
        const struct ev *e = (const struct ev *)(r->buf + offset);
        if (e->type == EV_PAD) {
            tail += e->size ? e->size : RING_BYTES - offset;
            continue;
        }
        fn(e, arg);
        n++;
        tail += e->size;
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
    return n;
}

size_t ring_drain_all(void (*fn)(const struct ev *e, void *arg), void *arg)
{
    size_t n = 0;
    pthread_mutex_lock(&registry_mu);
    struct ring **link = &registry;
    while (*link != NULL) {
        struct ring *r = *link;
        /* Read `dead` before draining: a ring seen dead has no more events coming, so
         * once drained it can go. */
        bool dead = atomic_load_explicit(&r->dead, memory_order_acquire);
        n += drain_one(r, fn, arg);
        if (dead) {
            *link = r->next;
            free(r);
        } else {
            link = &r->next;
        }
    }
    pthread_mutex_unlock(&registry_mu);
    return n;
}

void ring_forget_all_in_child(void)
{
    /* The registry lock was taken in the fork prepare handler (shim.c) and is released
     * here: no other thread exists in the child. The rings' memory is the parent's
     * copy of data the parent records; drop it. */
    struct ring *r = registry;
    registry = NULL;
    while (r != NULL) {
        struct ring *next = r->next;
        free(r);
        r = next;
    }
}

void ring_registry_lock(void)
{
    pthread_mutex_lock(&registry_mu);
}

void ring_registry_unlock(void)
{
    pthread_mutex_unlock(&registry_mu);
}

size_t ring_spans(struct span *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&registry_mu);
    for (struct ring *r = registry; r != NULL && n < max; r = r->next)
        out[n++] = (struct span){(uintptr_t)r, (uintptr_t)r + sizeof *r};
    pthread_mutex_unlock(&registry_mu);
    return n;
}
