/*
 * timer.c — every deadline in the process, on one thread.
 *
 * A binary min-heap of deadline contexts ordered by deadline, guarded by one lock,
 * served by one lazily started thread that sleeps until the earliest deadline. Each
 * context remembers its heap index, so cancelling removes its timer at once in
 * O(log n) — a cancelled context never lingers until its deadline.
 *
 * The lock is lock.h's futex mutex and the thread sleeps on a futex word (`wake_seq`)
 * rather than a pthread mutex and condition variable: arming and stopping a timer take
 * the lock twice per timeout context, inline, without the calls and bookkeeping of the
 * pthread mutex (which the profile of with_timeout put at a quarter of its cost).
 *
 * The thread is woken only when a new deadline is earlier than the one it is sleeping
 * towards. In the common pattern (many requests with the same timeout, each cancelled
 * well before it fires) arming and disarming never make a system call; the thread
 * wakes at most once per "earliest deadline" it had planned for.
 *
 * An armed timer holds a reference on its context: Go's `ctx, _ := WithTimeout(...)`
 * keeps the context alive until the timer fires, and so does this.
 */
#include <pthread.h>
#include <stdlib.h>

#include "futex.h"
#include "internal.h"

static ctx_lock_t heap_mu;
static ctx_t **heap;
static size_t heap_len, heap_cap;
static int64_t sleep_until = INT64_MAX; /* what the thread is waiting for */
static bool thread_running;             /* guarded by heap_mu */
/* Bumped (under heap_mu) to wake the thread; it sleeps only while the word still holds
 * what it read under heap_mu, so a wake between its unlock and its sleep is not lost. */
static _Atomic uint32_t wake_seq;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void wake_thread(void)
{
    atomic_fetch_add_explicit(&wake_seq, 1, memory_order_relaxed);
    ctx_futex_wake(&wake_seq, 1);
}

static inline int64_t deadline_of(size_t i)
{
    return CC(heap[i])->deadline;
}

static inline void heap_set(size_t i, ctx_t *c)
{
    heap[i] = c;
    CC(c)->heap_idx = (int32_t)i;
}

static void sift_up(size_t i)
{
    ctx_t *c = heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (deadline_of(parent) <= CC(c)->deadline)
            break;
        heap_set(i, heap[parent]);
        i = parent;
    }
    heap_set(i, c);
}

static void sift_down(size_t i)
{
    ctx_t *c = heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= heap_len)
            break;
        if (child + 1 < heap_len && deadline_of(child + 1) < deadline_of(child))
            child++;
        if (CC(c)->deadline <= deadline_of(child))
            break;
        heap_set(i, heap[child]);
        i = child;
    }
    heap_set(i, c);
}

/* Remove the entry at index i (heap_mu held). */
static void heap_remove_at(size_t i)
{
    ctx_t *c = heap[i];
    CC(c)->heap_idx = -1;
    ctx_t *last = heap[--heap_len];
    if (i == heap_len)
        return;
    heap_set(i, last);
    if (i > 0 && deadline_of((i - 1) / 2) > CC(last)->deadline)
        sift_up(i);
    else
        sift_down(i);
}

static void notify_timer(ctx_t *c, enum ctx_timer_event ev)
{
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL, 0) && t->timer)
        t->timer(c, ev, CC(c)->deadline);
}

static void *timer_main(void *arg)
{
    (void)arg;
    ctx_lock(&heap_mu);
    for (;;) {
        int64_t now = ctx_now();
        if (heap_len == 0 || deadline_of(0) > now) {
            int64_t until = sleep_until = heap_len == 0 ? INT64_MAX : deadline_of(0);
            uint32_t seq = atomic_load_explicit(&wake_seq, memory_order_relaxed);
            ctx_unlock(&heap_mu);
            struct timespec ts = {.tv_sec = until / CTX_SECOND, .tv_nsec = until % CTX_SECOND};
            ctx_futex_wait(&wake_seq, seq, until == INT64_MAX ? NULL : &ts);
            ctx_lock(&heap_mu);
            continue;
        }
        /* Fire the earliest. The heap's reference passes to us. */
        ctx_t *c = heap[0];
        heap_remove_at(0);
        ctx_unlock(&heap_mu);
        notify_timer(c, CTX_TIMER_FIRED);
        ctx__deadline_passed(c);
        ctx__ref_drop(c);
        ctx_lock(&heap_mu);
    }
    return NULL;
}

static void start_thread_locked(void);

/* fork(): hold the heap lock across fork so the child inherits a consistent heap; the
 * child has no timer thread, so it restarts one on next use. */
static void atfork_prepare(void)
{
    ctx_lock(&heap_mu);
}

static void atfork_parent(void)
{
    ctx_unlock(&heap_mu);
}

static void atfork_child(void)
{
    thread_running = false;
    sleep_until = INT64_MAX;
    /* Inherited deadlines keep firing in the child, whatever it does with them (even
     * just polling ctx_is_done): restart the thread now if any are armed. */
    if (heap_len > 0)
        start_thread_locked();
    ctx_unlock(&heap_mu); /* the new thread waits for it */
}

static void install_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Start the thread if it is not running (heap_mu held). */
static void start_thread_locked(void)
{
    if (thread_running)
        return;
    if (ctx__spawn_detached(timer_main) != 0)
        abort(); /* no timer thread means deadlines silently never fire: refuse */
    thread_running = true;
}

void ctx__timer_ensure(void)
{
    pthread_once(&atfork_once, install_atfork);
    ctx_lock(&heap_mu);
    if (heap_len > 0)
        start_thread_locked();
    ctx_unlock(&heap_mu);
}

void ctx__timer_arm(ctx_t *c, bool alone)
{
    pthread_once(&atfork_once, install_atfork);
    if (alone) /* nobody else can change the count yet */
        atomic_store_explicit(&c->refs, atomic_load_explicit(&c->refs, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    ctx_flags_set(c, CTX_F_TIMER);
    ctx_lock(&heap_mu);
    if (heap_len == heap_cap) {
        size_t cap = heap_cap ? heap_cap * 2 : 64;
        ctx_t **grown = realloc(heap, cap * sizeof *grown);
        if (grown == NULL)
            abort(); /* cannot keep the deadline promise */
        heap = grown;
        heap_cap = cap;
    }
    heap[heap_len] = c;
    sift_up(heap_len++);
    start_thread_locked();
    if (CC(c)->deadline < sleep_until) {
        sleep_until = CC(c)->deadline;
        wake_thread();
    }
    ctx_unlock(&heap_mu);
    notify_timer(c, CTX_TIMER_ARMED);
}

bool ctx__timer_disarm(ctx_t *c)
{
    ctx_lock(&heap_mu);
    int32_t i = CC(c)->heap_idx;
    if (i >= 0)
        heap_remove_at((size_t)i);
    ctx_unlock(&heap_mu);
    return i >= 0;
}
