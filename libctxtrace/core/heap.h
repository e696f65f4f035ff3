/*
 * heap.h — a binary min-heap of timed items, ordered by (ts, id): the analyses' way of
 * meeting a trace's events in time order while reading its contexts in id order (the
 * detached-root sweep, the window (window.h) dropping what can no longer matter). Internal
 * to libctxtrace/core.
 */
#ifndef CT_HEAP_H
#define CT_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One item: a time, the context it is about (the tie-break: ids are creation order) and
 * two words and a flag for the user. */
struct heap_item {
    int64_t ts, id;
    int64_t a, b;
    bool flag;
};

struct heap {
    struct heap_item *items;
    size_t n, cap;
};

/* Add an item. False only when out of memory (the heap is unchanged then). */
bool heap_push(struct heap *h, struct heap_item it);
/* The least item by (ts, id); the heap must not be empty. */
const struct heap_item *heap_top(const struct heap *h);
/* Remove and return the least item; the heap must not be empty. */
struct heap_item heap_pop(struct heap *h);
void heap_free(struct heap *h);

#endif /* CT_HEAP_H */
