/*
 * kth.h — the exact k-th smallest of a group of values too many to keep (a site's
 * context lifetimes in a 10M-context trace), found pass after pass over the values in
 * bounded memory.
 *
 * A first pass counts the values in a log-linear histogram (summary.h's ct_hist, which
 * the caller keeps anyway): the bucket holding rank k bounds the answer. Each further
 * pass over the same values narrows that interval: it counts the values inside it in
 * KTH_BINS equal bins and keeps the bin holding the rank — or, once the interval holds
 * few enough values (KTH_KEEP), keeps them all and picks the answer. An interval of one
 * value is the answer. Internal to libctxtrace/core (profile.c).
 */
#ifndef CT_KTH_H
#define CT_KTH_H

#include <ctxtrace/core/summary.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    KTH_BINS = 4096,    /* bins a pass splits the interval into (32 KB of counters) */
    KTH_KEEP = 1 << 16, /* values kept to pick from when no more lie in the interval */
};

struct kth {
    int64_t rank;         /* 0-based, among every value of the group */
    int64_t lo, hi;       /* the answer lies in [lo, hi] */
    int64_t below;        /* values of the group below lo */
    int64_t inside;       /* values of the group in [lo, hi] */
    bool done;
    int64_t value;        /* the answer, once done */
    /* During a pass: */
    int64_t *bins;        /* KTH_BINS counters, or NULL when keeping the values */
    int64_t *kept;
    size_t nkept, capkept;
};

/* Start on rank `rank` of a group whose every value the histogram `h` counted (rank <
 * ct_hist_count(h)). Done at once when the bucket holds one possible value. */
void kth_start(struct kth *k, int64_t rank, const struct ct_hist *h);
/* Ready for a pass over the group's values; false when out of memory. Only for a kth
 * not done. */
bool kth_begin_pass(struct kth *k);
/* One value of the group, in a pass. False when out of memory. */
bool kth_feed(struct kth *k, int64_t v);
/* The end of a pass: the interval narrowed (or the answer found). */
void kth_end_pass(struct kth *k);
void kth_free(struct kth *k);

#endif /* CT_KTH_H */
