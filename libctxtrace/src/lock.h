/*
 * lock.h — the runtime's two small locks.
 *
 * ctx_lock_t: a 4-byte mutex on a futex word (the three-state lock of Drepper's
 * "Futexes Are Tricky"): 0 unlocked, 1 locked, 2 locked with possible sleepers. Each
 * lane of a shared parent has one. The uncontended path is one CAS to lock and one
 * exchange to unlock; contention spins briefly (critical sections here are a handful of
 * pointer writes) before sleeping in the kernel.
 *
 * The bit lock (ctx_bitlock): a lock bit inside a word the holder alone writes — each
 * cancellable context's lock, in its state word (internal.h).
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

/* A bit lock: one bit of a word that, while the bit is set, only the holder writes (so
 * every writer of the word must hold the lock). Taking it is one compare-and-swap;
 * releasing it is a plain release store of the word's new value — no atomic read-
 * modify-write, which is what makes it worth having where a word is both a lock and
 * the state it guards. The price: nobody can sleep in the kernel waiting for it (the
 * holder's plain store could not see a sleeper's mark), so a waiter spins, then yields
 * the CPU. Only for short critical sections and rare contention. */
uint32_t ctx__bitlock_slow(_Atomic uint32_t *w, uint32_t bit);

/* Take `bit` of *w; returns the word as it was (without the bit). */
static inline uint32_t ctx_bitlock(_Atomic uint32_t *w, uint32_t bit)
{
    uint32_t v = atomic_load_explicit(w, memory_order_relaxed) & ~bit;
    if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                             w, &v, v | bit, memory_order_acquire, memory_order_relaxed),
                         1))
        return v;
    return ctx__bitlock_slow(w, bit);
}

/* Release the bit lock, leaving `value` (which must not have the bit) in the word. */
static inline void ctx_bitunlock(_Atomic uint32_t *w, uint32_t value)
{
    atomic_store_explicit(w, value, memory_order_release);
}

#endif /* CTX_LOCK_H */
