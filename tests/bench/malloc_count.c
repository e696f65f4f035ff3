/*
 * malloc_count.c — the counting allocator wrappers behind malloc_count.h.
 *
 * Defining malloc & co. in the executable interposes them for the whole process (ELF
 * symbol lookup finds the executable first). Each wrapper forwards to glibc's exported
 * __libc_* entry points, so the allocator underneath is exactly the default one; the
 * counters are touched only while a window is open, so the benchmarks' timed loops pay
 * one predictable branch per allocation.
 *
 * Built only without sanitizers: ASan/TSan interpose malloc themselves.
 */
#include "malloc_count.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#ifndef BENCH_NO_MALLOC_COUNT

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t nmemb, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static atomic_bool counting;
static atomic_uint_least64_t count_calls;
static atomic_uint_least64_t count_bytes;

static inline void note(size_t size)
{
    if (__builtin_expect(atomic_load_explicit(&counting, memory_order_relaxed), 0)) {
        atomic_fetch_add_explicit(&count_calls, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&count_bytes, size, memory_order_relaxed);
    }
}

void *malloc(size_t size)
{
    note(size);
    return __libc_malloc(size);
}

void *calloc(size_t nmemb, size_t size)
{
    note(nmemb * size);
    return __libc_calloc(nmemb, size);
}

void *realloc(void *ptr, size_t size)
{
    note(size);
    return __libc_realloc(ptr, size);
}

void *aligned_alloc(size_t alignment, size_t size)
{
    note(size);
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size)
{
    note(size);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment == 0 || alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)))
        return EINVAL;
    note(size);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

bool malloc_count_available(void)
{
    return true;
}

void malloc_count_begin(void)
{
    atomic_store(&count_calls, 0);
    atomic_store(&count_bytes, 0);
    atomic_store(&counting, true);
}

struct malloc_count malloc_count_end(void)
{
    atomic_store(&counting, false);
    return (struct malloc_count){atomic_load(&count_calls), atomic_load(&count_bytes)};
}

#else /* BENCH_NO_MALLOC_COUNT */

bool malloc_count_available(void)
{
    return false;
}

void malloc_count_begin(void)
{
}

struct malloc_count malloc_count_end(void)
{
    return (struct malloc_count){0, 0};
}

#endif
