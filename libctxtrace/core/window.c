/*
 * window.c — the context window of window.h: an id index over slots allocated in chunks
 * (so an entry's address survives later additions: a caller may hold a parent's entry
 * while adding its child), a free list of evicted slots, and a min-heap of free times
 * saying which entry goes next.
 */
#include "window.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 4096 }; /* slots per chunk */

void window_init(struct window *w, size_t size)
{
    assert(size > 0);
    memset(w, 0, sizeof *w);
    w->size = size;
}

static void *slot_at(const struct window *w, size_t slot)
{
    assert(slot < w->nslots);
    return w->chunks[slot / CHUNK] + (slot % CHUNK) * w->size;
}

void *window_get(const struct window *w, int64_t id)
{
    uint64_t slot;
    return id > 0 && u64map_get(&w->index, (uint64_t)id, &slot) ? slot_at(w, (size_t)slot)
                                                                : NULL;
}

/* A slot for a new entry: an evicted one, or the next of the last chunk. */
static bool take_slot(struct window *w, size_t *slot)
{
    if (w->nfree > 0) {
        *slot = w->free_slots[--w->nfree];
        return true;
    }
    if (w->nslots == w->nchunks * CHUNK) {
        unsigned char **grown = realloc(w->chunks, (w->nchunks + 1) * sizeof *grown);
        if (grown == NULL)
            return false;
        w->chunks = grown;
        if ((w->chunks[w->nchunks] = malloc(CHUNK * w->size)) == NULL)
            return false;
        w->nchunks++;
    }
    *slot = w->nslots++;
    return true;
}

/* Give a slot back; the free list never needs more room than the slots there are. */
static bool give_slot(struct window *w, size_t slot)
{
    if (w->nfree == w->capfree) {
        size_t cap = w->capfree ? w->capfree * 2 : 1024;
        size_t *grown = realloc(w->free_slots, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        w->free_slots = grown;
        w->capfree = cap;
    }
    w->free_slots[w->nfree++] = slot;
    return true;
}

void *window_add(struct window *w, int64_t id, int64_t freed_ns)
{
    assert(id > 0 && window_get(w, id) == NULL);
    size_t slot;
    if (!take_slot(w, &slot))
        return NULL;
    if (!u64map_put(&w->index, (uint64_t)id, slot) ||
        (freed_ns != 0 &&
         !heap_push(&w->freed, (struct heap_item){freed_ns, id, (int64_t)slot, 0, false}))) {
        u64map_del(&w->index, (uint64_t)id);
        give_slot(w, slot);
        return NULL;
    }
    w->len++;
    void *e = slot_at(w, slot);
    memset(e, 0, w->size);
    return e;
}

void window_evict(struct window *w, int64_t horizon)
{
    while (w->freed.n > 0 && heap_top(&w->freed)->ts < horizon) {
        struct heap_item it = heap_pop(&w->freed);
        uint64_t slot = 0;
        bool found = u64map_get(&w->index, (uint64_t)it.id, &slot);
        assert(found && slot == (uint64_t)it.a); /* only eviction removes entries */
        (void)found;
        u64map_del(&w->index, (uint64_t)it.id);
        w->len--;
        /* Out of memory for the free list: the slot is not reused (the window only
         * grows), never wrong. */
        give_slot(w, (size_t)it.a);
    }
}

void window_free(struct window *w)
{
    for (size_t i = 0; i < w->nchunks; i++)
        free(w->chunks[i]);
    free(w->chunks);
    free(w->free_slots);
    u64map_free(&w->index);
    heap_free(&w->freed);
    memset(w, 0, sizeof *w);
}

const void *window_lookup(struct window *w, struct ctx_stream *s, int64_t id,
                          window_derive_fn derive, void *arg, void *scratch, bool *failed)
{
    const void *e = window_get(w, id);
    if (e != NULL || id <= 2)
        return e;
    /* Walk up by key to the nearest ancestor the window holds, a root, or a context the
     * trace does not have; more steps than contexts is a cycle (a corrupt trace): its
     * top is taken as parentless. */
    struct crow *chain = NULL;
    size_t n = 0, cap = 0;
    const void *top = NULL;
    for (int64_t at = id; at > 2 && (top = window_get(w, at)) == NULL && n <= s->n;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct crow *grown = realloc(chain, cap * sizeof *grown);
            if (grown == NULL) {
                *failed = true;
                free(chain);
                return NULL;
            }
            chain = grown;
        }
        int rc = ctx_stream_fetch(s, at, &chain[n]);
        if (rc < 0)
            *failed = true;
        if (rc <= 0)
            break;
        at = chain[n++].parent;
    }
    unsigned char *buf = n > 0 && !*failed ? malloc(2 * w->size) : NULL;
    if (buf == NULL) {
        if (n > 0 && !*failed)
            *failed = true; /* out of memory */
        free(chain);
        return NULL;
    }
    /* From the top down, each derived from the one above (two buffers in turn). */
    const void *parent = top;
    for (size_t i = n; i-- > 0;) {
        void *out = buf + (i % 2) * w->size;
        derive(&chain[i], parent, out, arg);
        parent = out;
    }
    memcpy(scratch, parent, w->size);
    free(buf);
    free(chain);
    return scratch;
}
