/*
 * window.h — per-context state kept only while it can still matter.
 *
 * The analyses read a trace's contexts in id (creation) order and keep, for each, what
 * its later children will ask of it (when it was done, its value-chain depth, its
 * cancellation's origin...). A context's children are all created before it is freed
 * (each child holds a reference on its parent), so once the stream has passed a
 * context's free time (stream.h's horizon) nothing more can ask: its entry is dropped.
 * What stays is the contexts live at the stream's position plus those never freed — live
 * and leaked ones — not every context ever created. Internal to libctxtrace/core.
 */
#ifndef CT_WINDOW_H
#define CT_WINDOW_H

#include <ctxtrace/core/u64map.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"
#include "stream.h"

struct window {
    size_t size;           /* bytes of state per context */
    struct u64map index;   /* context id -> slot */
    unsigned char **chunks; /* slots in fixed chunks: an entry never moves */
    size_t nchunks, nslots;
    size_t *free_slots;    /* slots given back by eviction, for reuse */
    size_t nfree, capfree;
    struct heap freed;     /* (free time, id) of the entries that will be dropped */
    size_t len;            /* entries now */
};

/* An empty window of `size`-byte entries. */
void window_init(struct window *w, size_t size);
/* The entry of context `id`, or NULL when it is not (or no longer) in the window. */
void *window_get(const struct window *w, int64_t id);
/* A new zeroed entry for context `id` (not in the window), freed at `freed_ns` (0: never
 * freed — kept to the end). The pointer stays valid until the entry is evicted. NULL
 * when out of memory. */
void *window_add(struct window *w, int64_t id, int64_t freed_ns);
/* Drop every entry freed before `horizon`. */
void window_evict(struct window *w, int64_t horizon);
void window_free(struct window *w);

/* How an analysis derives a context's entry from its row and its parent's entry (NULL:
 * the parent is a root or not in the trace). Every entry of the window is made so. */
typedef void (*window_derive_fn)(const struct crow *r, const void *parent, void *out,
                                 void *arg);
/* The entry of context `id`: from the window, or — a lookup the window cannot answer (a
 * context whose creation was timestamped after its parent's free, a corrupt trace) —
 * derived afresh from its row and its ancestors' read by key (stream.h), into `scratch`
 * (w->size bytes; not kept). NULL when `id` is a root or not in the trace, or on a read
 * error (then *failed is set). */
const void *window_lookup(struct window *w, struct ctx_stream *s, int64_t id,
                          window_derive_fn derive, void *arg, void *scratch, bool *failed);

#endif /* CT_WINDOW_H */
