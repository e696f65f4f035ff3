/*
 * stackcap.c — capturing and interning call stacks on application threads.
 *
 * unw_backtrace with libunwind's per-thread cache walks the stack from unwind tables
 * without locks. The instruction pointers are hashed; the hash is the stack's id.
 * Each thread remembers (in a small direct-mapped cache) which hashes it already
 * sent, so a stack seen before costs one hash and one compare; a new one is sent once
 * as an EV_STACK event with its instruction pointers. The writer deduplicates across
 * threads and symbolizes off the application thread.
 */
#define UNW_LOCAL_ONLY
#include <assert.h>
#include <libunwind.h>
#include <string.h>

#include "shim.h"

enum { SEEN_SLOTS = 4096, MAX_DEPTH = 64 };

static _Thread_local uint64_t seen[SEEN_SLOTS];

void stackcap_init(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

/* 64-bit mix of the instruction pointers (a multiply-xorshift per word). */
static uint64_t hash_ips(void *const *ips, int n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)(uintptr_t)ips[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h != 0 ? h : 1;
}

static uint64_t send_stack(uint64_t h, const void *ips, int n)
{
    struct ev *e = shim_emit_begin(EV_STACK, (size_t)n * sizeof(uint64_t));
    if (e == NULL)
        return 0;
    e->id = h;
    e->a = n;
    memcpy(e + 1, ips, (size_t)n * sizeof(uint64_t));
    shim_emit_commit(e);
    return h;
}

uint64_t stackcap_emit(const uint64_t *ips, int n)
{
    assert(n > 0 && n <= MAX_DEPTH);
    void *p[MAX_DEPTH];
    for (int i = 0; i < n; i++)
        p[i] = (void *)(uintptr_t)ips[i];
    return send_stack(hash_ips(p, n), ips, n);
}

uint64_t stackcap_capture(void)
{
    void *ips[MAX_DEPTH];
    int n = unw_backtrace(ips, shim_conf->stack_depth);
    if (n <= 0)
        return 0;
    uint64_t h = hash_ips(ips, n);
    uint64_t *slot = &seen[h % SEEN_SLOTS];
    if (*slot == h)
        return h;
    if (send_stack(h, ips, n) == 0)
        return 0;
    *slot = h;
    return h;
}

void stackcap_tls_span(uintptr_t *lo, uintptr_t *hi)
{
    *lo = (uintptr_t)&seen[0];
    *hi = (uintptr_t)&seen[SEEN_SLOTS];
}

void stackcap_reset_in_child(void)
{
    /* The child's new trace file has none of the stacks this thread sent before. */
    memset(seen, 0, sizeof seen);
}
