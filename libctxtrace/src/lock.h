/*
 * lock.h — a 4-byte mutex on a futex word (the three-state lock of Drepper's
 * "Futexes Are Tricky"): 0 unlocked, 1 locked, 2 locked with possible sleepers.
 *
 * Each cancellable context has one. The uncontended path is one CAS to lock and one
 * exchange to unlock; contention spins briefly (critical sections here are a handful of
 * pointer writes) before sleeping in the kernel.
 */
#ifndef CTX_LOCK_H
#define CTX_LOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint32_t ctx_lock_t;

void ctx__lock_slow(ctx_lock_t *l);
void ctx__lock_wake(ctx_lock_t *l);

static inline void ctx_lock(ctx_lock_t *l)
{
    uint32_t expected = 0;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                             l, &expected, 1, memory_order_acquire, memory_order_relaxed),
                         1))
        return;
    ctx__lock_slow(l);
}

static inline void ctx_unlock(ctx_lock_t *l)
{
    if (__builtin_expect(atomic_exchange_explicit(l, 0, memory_order_release) == 2, 0))
        ctx__lock_wake(l);
}

#endif /* CTX_LOCK_H */
