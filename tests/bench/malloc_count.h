/*
 * malloc_count.h — count the heap allocations made while a window is open.
 *
 * bench_ctx links malloc_count.c, which defines malloc, calloc, realloc and the aligned
 * allocators in the executable. The dynamic linker binds every call to them in the
 * process — libctxtrace.so's included — to these definitions, which forward to glibc's
 * own allocator (__libc_malloc and friends) and, while a window is open, count the calls
 * and the bytes requested. free() is not wrapped: it is glibc's, which is the allocator
 * every block came from.
 *
 * What it measures: calls into the allocator and the sizes the caller asked for (a
 * realloc counts as one call of its new size) — not the allocator's chunk overhead
 * (see mallinfo2() for that), and not memory a library maps for itself with mmap().
 *
 * Cost while no window is open: one relaxed load and a branch per allocation. Under a
 * sanitizer (which owns malloc) the wrappers are left out and the counters report
 * "unavailable".
 */
#ifndef BENCH_MALLOC_COUNT_H
#define BENCH_MALLOC_COUNT_H

#include <stdbool.h>
#include <stdint.h>

struct malloc_count {
    uint64_t calls; /* malloc + calloc + realloc + aligned allocations */
    uint64_t bytes; /* sum of the sizes requested by those calls */
};

/* True when the counting wrappers are linked in (not under a sanitizer). */
bool malloc_count_available(void);

/* Open a counting window (resets the counters). */
void malloc_count_begin(void);

/* Close the window and return what was counted since malloc_count_begin(). */
struct malloc_count malloc_count_end(void);

#endif /* BENCH_MALLOC_COUNT_H */
