/*
 * futex.h — thin wrappers over the Linux futex system call.
 *
 * The runtime blocks on futexes directly rather than on pthread mutexes and condition
 * variables because a futex word is 4 bytes: that is what lets a cancellable context
 * fit its lock and its waiter wake-up in a 96-byte allocation.
 */
#ifndef CTX_FUTEX_H
#define CTX_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *word == expected, until woken or until the absolute CLOCK_MONOTONIC
 * time `abs` (NULL: forever). Returns 0 or an errno (EAGAIN, EINTR, ETIMEDOUT). */
static inline int ctx_futex_wait(_Atomic uint32_t *word, uint32_t expected,
                                 const struct timespec *abs)
{
    long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                     expected, abs, NULL, FUTEX_BITSET_MATCH_ANY);
    return r == 0 ? 0 : errno;
}

/* Wake up to `n` threads sleeping on `word`. */
static inline void ctx_futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

#endif /* CTX_FUTEX_H */
