/*
 * futex.h — sleeping on a 32-bit word and waking its sleepers: only atomics and system
 * calls, so safe from a signal handler (the flushes, the exit check's stop) and free of
 * any lock an interrupted thread might hold.
 */
#ifndef CT_FUTEX_H
#define CT_FUTEX_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *word == expected, at most ns (< 0: without a bound); may return early. */
static inline void futex_wait_ns(_Atomic uint32_t *word, uint32_t expected, int64_t ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, ns >= 0 ? &ts : NULL,
            NULL, 0);
}

static inline void futex_wake_all(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

#endif /* CT_FUTEX_H */
