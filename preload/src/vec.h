/*
 * vec.h — growable arrays and byte buffers for the writer thread (batch.c, live.c,
 * server.c).
 */
#ifndef CT_VEC_H
#define CT_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* A growable array of T. */
#define VEC(T)                                                                           \
    struct {                                                                             \
        T *items;                                                                        \
        size_t len, cap;                                                                 \
    }

/* Make room for one more item; returns its index or -1 when out of memory. */
#define VEC_PUSH(v)                                                                      \
    ((v).len < (v).cap || vec_grow((void **)&(v).items, &(v).cap, sizeof *(v).items)     \
         ? (long)(v).len++                                                               \
         : -1L)

static inline bool vec_grow(void **items, size_t *cap, size_t size)
{
    size_t n = *cap ? *cap * 2 : 256;
    void *p = realloc(*items, n * size);
    if (p == NULL)
        return false;
    *items = p;
    *cap = n;
    return true;
}

/* A growable byte buffer. */
struct bytes {
    uint8_t *data;
    size_t len, cap;
};

/* Room for n more bytes at data + len (the caller then adds what it wrote to len);
 * NULL when out of memory. */
static inline uint8_t *bytes_reserve(struct bytes *b, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (p == NULL)
            return NULL;
        b->data = p;
        b->cap = cap;
    }
    return b->data + b->len;
}

#endif /* CT_VEC_H */
