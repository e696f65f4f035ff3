/*
 * heap.c — the binary min-heap of heap.h: an implicit tree in one array, the least item
 * at index 0 and every parent no greater than its children.
 */
#include "heap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static bool less(const struct heap_item *x, const struct heap_item *y)
{
    return x->ts != y->ts ? x->ts < y->ts : x->id < y->id;
}

bool heap_push(struct heap *h, struct heap_item it)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        struct heap_item *grown = realloc(h->items, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        h->items = grown;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!less(&it, &h->items[parent]))
            break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    h->items[i] = it;
    return true;
}

const struct heap_item *heap_top(const struct heap *h)
{
    assert(h->n > 0);
    return &h->items[0];
}

struct heap_item heap_pop(struct heap *h)
{
    assert(h->n > 0);
    struct heap_item top = h->items[0], last = h->items[--h->n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && less(&h->items[child + 1], &h->items[child]))
            child++;
        if (!less(&h->items[child], &last))
            break;
        h->items[i] = h->items[child];
        i = child;
    }
    if (h->n > 0)
        h->items[i] = last;
    return top;
}

void heap_free(struct heap *h)
{
    free(h->items);
    memset(h, 0, sizeof *h);
}
