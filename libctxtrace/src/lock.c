/*
 * lock.c — the contended paths of the locks in lock.h.
 */
#include "lock.h"

#include <sched.h>

#include "futex.h"

/* Spin iterations before sleeping: long enough to ride out another thread's critical
 * section (a few dozen nanoseconds), short enough not to burn a core when the holder
 * has been preempted. */
enum { LOCK_SPINS = 100 };

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void ctx__lock_slow(ctx_lock_t *l)
{
    for (int i = 0; i < LOCK_SPINS; i++) {
        uint32_t expected = 0;
        if (atomic_load_explicit(l, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(l, &expected, 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return;
        cpu_relax();
    }
    /* Mark the lock contended (2) and sleep until the holder's unlock wakes us. Taking
     * it with 2 rather than 1 is conservative: we cannot know whether others sleep. */
    while (atomic_exchange_explicit(l, 2, memory_order_acquire) != 0)
        ctx_futex_wait(l, 2, NULL);
}

void ctx__lock_wake(ctx_lock_t *l)
{
    ctx_futex_wake(l, 1);
}

uint32_t ctx__bitlock_slow(_Atomic uint32_t *w, uint32_t bit)
{
    for (int i = 0;; i++) {
        uint32_t v = atomic_load_explicit(w, memory_order_relaxed);
        if (!(v & bit) && atomic_compare_exchange_weak_explicit(w, &v, v | bit,
                                                                memory_order_acquire,
                                                                memory_order_relaxed))
            return v;
        /* The holder may have been preempted (or wait for the timer heap's mutex):
         * after a short spin, give it the CPU rather than burn ours. */
        if (i < LOCK_SPINS)
            cpu_relax();
        else
            sched_yield();
    }
}
