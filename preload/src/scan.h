/*
 * scan.h — the exit check's conservative reachability scan (scan.c), LeakSanitizer's
 * question asked of contexts: which live contexts could a running program still cancel?
 *
 * A reference is an aligned word holding a live context's address. Roots: the writable
 * data of every loaded module except libctxtrace, the shim and the C library (whose
 * malloc free lists would make every stale pointer count); each stopped thread's
 * registers and stack (with its static TLS, at the top of the stack's mapping, or around
 * the thread pointer); the stacks of threads that could not be stopped. From the roots the
 * scan floods the heap: glibc's arenas are walked chunk by chunk (object boundaries: a
 * chunk in use), any other anonymous mapping counts as one object. Context objects are
 * never scanned (the runtime's tree links do not count), nor is the shim's own memory.
 *
 * Threads blocked in ctx_wait are flooded one by one after everyone else: a context a
 * waiter reaches counts for it only if the waiter is not blocked on that context or below
 * it (a waiter cannot cancel what it is waiting for). When in doubt, reachable: an
 * allocator the scan does not understand makes whole mappings single objects, which can
 * only find more references.
 *
 * scan_prepare runs before the world is stopped (it allocates and takes locks: the
 * loader's, for the module list); scan_run while it is stopped (no allocation, no lock,
 * memory read through process_vm_readv so an unmapped page is an error, not a crash).
 */
#ifndef CT_SCAN_H
#define CT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/u64map.h>

#include "stw.h"

enum scan_reach {
    SCAN_UNREACHABLE = 0,
    SCAN_REACHABLE = 1, /* by someone not blocked on it (or below it) */
    SCAN_STUCK = 2,     /* only by threads blocked in ctx_wait on it or below it */
};

struct span {
    uintptr_t lo, hi;
};

struct scan;

/* Prepare for live_addr (context address -> id) and live_parent (id -> parent id), the
 * writer's maps, which must not change until scan_run returns. `exclude`: memory of the
 * shim's that may hold context addresses (rings, the maps' arrays). NULL with a reason. */
struct scan *scan_prepare(const struct u64map *live_addr, const struct u64map *live_parent,
                          const struct span *exclude, size_t nexclude, char *why, size_t len);
/* With the world stopped: `self_lo` is the lowest stack address of the checking thread
 * that belongs to the program (its callers' frames); its thread pointer is read here.
 * Gives up at deadline_ns (CLOCK_MONOTONIC). Returns 0, or -1 with a reason (then nothing
 * is known). */
int scan_run(struct scan *s, const struct stw_world *w, uintptr_t self_lo, int64_t deadline_ns,
             char *why, size_t len);
/* The verdict on the context in slot i of live_addr (keys[i] != 0). */
enum scan_reach scan_result(const struct scan *s, size_t slot);
/* Words scanned, objects found (for meta). */
void scan_stats(const struct scan *s, uint64_t *words, uint64_t *objects);

#endif /* CT_SCAN_H */
