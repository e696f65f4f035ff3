/*
 * ctxtrace/core/u64map.h — an open-addressing hash map from nonzero 64-bit keys to
 * 64-bit values, for the shim's writer (context id -> batch row, instruction pointer ->
 * frame id, live context id -> model entry) and the analysis (context id -> row).
 * Linear probing, power-of-two capacity, load <= 1/2.
 */
#ifndef CT_U64MAP_H
#define CT_U64MAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct u64map {
    uint64_t *keys; /* 0 = empty */
    uint64_t *vals;
    size_t cap, len;
};

static inline size_t u64map_slot(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static inline bool u64map_get(const struct u64map *m, uint64_t k, uint64_t *v)
{
    if (m->cap == 0)
        return false;
    for (size_t i = u64map_slot(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k) {
            *v = m->vals[i];
            return true;
        }
        if (m->keys[i] == 0)
            return false;
    }
}

static inline bool u64map_grow(struct u64map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *keys = calloc(cap, sizeof *keys), *vals = malloc(cap * sizeof *vals);
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0)
            continue;
        size_t j = u64map_slot(m->keys[i], cap);
        while (keys[j] != 0)
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return true;
}

/* Insert or overwrite. False only when out of memory. k must not be 0. */
static inline bool u64map_put(struct u64map *m, uint64_t k, uint64_t v)
{
    if (2 * (m->len + 1) > m->cap && !u64map_grow(m))
        return false;
    size_t i = u64map_slot(k, m->cap);
    while (m->keys[i] != 0 && m->keys[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (m->keys[i] == 0)
        m->len++;
    m->keys[i] = k;
    m->vals[i] = v;
    return true;
}

/* Remove k if present. Backward-shift deletion: every key after the hole that may move
 * closer to its home slot does, so lookups never need tombstones. */
static inline void u64map_del(struct u64map *m, uint64_t k)
{
    if (m->cap == 0)
        return;
    size_t mask = m->cap - 1, i = u64map_slot(k, m->cap);
    while (m->keys[i] != k) {
        if (m->keys[i] == 0)
            return;
        i = (i + 1) & mask;
    }
    for (size_t j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
        size_t home = u64map_slot(m->keys[j], m->cap);
        /* The key at j stays unless the hole i lies between its home and j. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->len--;
}

static inline void u64map_clear(struct u64map *m)
{
    if (m->len > 0)
        memset(m->keys, 0, m->cap * sizeof *m->keys);
    m->len = 0;
}

static inline void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

#endif /* CT_U64MAP_H */
