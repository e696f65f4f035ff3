/*
 * clock.c — the one clock: CLOCK_MONOTONIC in nanoseconds. Deadlines, the timer heap
 * and ctx_wait all measure on it, so a wall-clock jump never fires or delays a timer.
 */
#include <time.h>

#include "internal.h"

CTX_API int64_t ctx_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CTX_SECOND + ts.tv_nsec;
}
