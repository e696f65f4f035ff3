/*
 * ring.h — one single-producer/single-consumer byte ring per recording thread.
 *
 * The application thread appends events without locks or system calls; the writer
 * thread drains every ring. Lossless: a producer whose ring is over 3/4 full wakes the
 * writer and sleeps briefly before each event (pacing: many short waits, never one long
 * one), and one that finds its ring full waits for room, rather than dropping anything
 * (backpressure, counted in ring_paces and ring_stalls).
 *
 * head and tail are byte counts that only grow (positions are taken modulo the size).
 * The producer publishes with a release store of head; the consumer frees space with
 * a release store of tail.
 */
#ifndef CT_RING_H
#define CT_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define RING_BYTES (256u * 1024u)

struct ring {
    _Atomic uint64_t head;   /* written by the producer */
    char pad0[56];
    _Atomic uint64_t tail;   /* written by the consumer */
    char pad1[56];
    _Atomic bool dead;       /* its thread exited: free once drained */
    struct ring *next;       /* registry (ring.c), guarded by its lock */
    uint32_t thread;
    _Alignas(64) uint8_t buf[RING_BYTES]; /* events start on cache lines more often */
};

/* A new ring for `thread`, registered for draining; NULL if out of memory. */
struct ring *ring_new(uint32_t thread);

/* Reserve `size` contiguous bytes (a multiple of 8, at most 4 KiB), waiting for room
 * if needed. Write the event there, then ring_commit. */
struct ev *ring_reserve(struct ring *r, size_t size);
void ring_commit(struct ring *r, size_t size);

/* The consumer's wake-up (the ring owns it: a producer pokes when its ring crosses half
 * full or is full; the writer sleeps between drains). Read ring_pokes() before looking
 * for work, then ring_sleep(seen, ...) returns at once if a poke came in between. */
uint32_t ring_pokes(void);
void ring_poke(void);
void ring_sleep(uint32_t seen, int64_t timeout_ns);

/* Consumer: call fn on every committed event of every ring, then free dead drained
 * rings. Returns the number of events. */
size_t ring_drain_all(void (*fn)(const struct ev *e, void *arg), void *arg);

/* fork(): the child keeps only the calling thread; forget every ring (their events
 * belong to the parent, whose writer records them). */
void ring_forget_all_in_child(void);

/* Backpressure, not loss, since start: waits of a producer whose ring was full, for how
 * long in all (meta.ring_stalls, ring_stall_ns); the short paced waits of a producer whose
 * ring was over 3/4 full (ring_paces, ring_pace_ns); and the longest single wait of
 * either kind (ring_stall_max_ns). */
extern _Atomic uint64_t ring_stalls, ring_stall_ns, ring_stall_max_ns, ring_paces,
    ring_pace_ns;

#endif /* CT_RING_H */
