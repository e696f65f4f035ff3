/*
 * kth.c — the k-th smallest value by narrowing (kth.h). Interval arithmetic is done in
 * unsigned 64 bits: an interval may span the whole int64 range (the histogram's first
 * bucket holds every negative value).
 */
#include "kth.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Values in the interval, minus one: fits in 64 bits even for the whole int64 range. */
static uint64_t span(const struct kth *k)
{
    return (uint64_t)k->hi - (uint64_t)k->lo;
}

void kth_start(struct kth *k, int64_t rank, const struct ct_hist *h)
{
    memset(k, 0, sizeof *k);
    k->rank = rank;
    int64_t seen = 0;
    for (int b = 0; b < CT_HIST_BUCKETS; b++) {
        if (seen + h->n[b] > rank) {
            /* Bucket 0 also holds every negative value (ct_hist_add). */
            k->lo = b == 0 ? INT64_MIN : ct_hist_lower(b);
            k->hi = b + 1 < CT_HIST_BUCKETS ? ct_hist_lower(b + 1) - 1 : INT64_MAX;
            k->below = seen;
            k->inside = h->n[b];
            break;
        }
        seen += h->n[b];
    }
    assert(k->inside > 0); /* rank < the count */
    if (span(k) == 0) {
        k->done = true;
        k->value = k->lo;
    }
}

bool kth_begin_pass(struct kth *k)
{
    assert(!k->done && k->bins == NULL && k->kept == NULL);
    if (k->inside <= KTH_KEEP)
        return true; /* keep them: kth_feed grows k->kept */
    k->bins = calloc(KTH_BINS, sizeof *k->bins);
    return k->bins != NULL;
}

/* The bin of v (in the interval): bins of equal width, the last maybe narrower. */
static size_t bin_of(const struct kth *k, int64_t v)
{
    uint64_t width = span(k) / KTH_BINS + 1;
    return (size_t)(((uint64_t)v - (uint64_t)k->lo) / width);
}

bool kth_feed(struct kth *k, int64_t v)
{
    if (k->done || v < k->lo || v > k->hi)
        return true;
    if (k->bins != NULL) {
        k->bins[bin_of(k, v)]++;
        return true;
    }
    if (k->nkept == k->capkept) {
        size_t cap = k->capkept ? k->capkept * 2 : 1024;
        int64_t *grown = realloc(k->kept, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        k->kept = grown;
        k->capkept = cap;
    }
    k->kept[k->nkept++] = v;
    return true;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void kth_end_pass(struct kth *k)
{
    int64_t want = k->rank - k->below; /* rank within the interval */
    assert(want >= 0 && want < k->inside);
    if (k->bins == NULL) {
        /* The same values the counts saw: every value of the interval was kept. */
        assert((int64_t)k->nkept == k->inside);
        qsort(k->kept, k->nkept, sizeof *k->kept, cmp_i64);
        k->value = k->kept[want];
        k->done = true;
    } else {
        uint64_t width = span(k) / KTH_BINS + 1;
        int64_t seen = 0;
        for (size_t b = 0; b < KTH_BINS; b++) {
            if (seen + k->bins[b] > want) {
                /* Offsets from lo: the bin's last one is capped by the interval's. */
                uint64_t first = (uint64_t)b * width, last = first + (width - 1);
                if (last > span(k))
                    last = span(k);
                k->hi = (int64_t)((uint64_t)k->lo + last);
                k->lo = (int64_t)((uint64_t)k->lo + first);
                k->below += seen;
                k->inside = k->bins[b];
                break;
            }
            seen += k->bins[b];
        }
        assert(k->inside > 0);
        if (span(k) == 0) {
            k->value = k->lo;
            k->done = true;
        }
    }
    free(k->bins);
    free(k->kept);
    k->bins = NULL;
    k->kept = NULL;
    k->nkept = k->capkept = 0;
}

void kth_free(struct kth *k)
{
    free(k->bins);
    free(k->kept);
    k->bins = NULL;
    k->kept = NULL;
}
