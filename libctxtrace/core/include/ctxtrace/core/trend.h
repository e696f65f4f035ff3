/*
 * ctxtrace/core/trend.h — does a sampled quantity grow? The decision of `ctxtrace soak`.
 *
 * A soak run samples live contexts, armed timers, blocked waiters, threads, fds and RSS
 * over time. A first/last comparison is fooled by warm-up, sawtooth load and one-off
 * steps; this decides with robust statistics instead (docs/soak.md states it for
 * users):
 *
 *   slope    the Theil–Sen estimate: the median of the slopes between every pair of
 *            samples (at most CT_TREND_MAX_POINTS, evenly thinned), per second. A third
 *            of the samples can be outliers without moving it.
 *   growth   slope × the judged window's length.
 *   noise    the median absolute residual around that line: a sawtooth or jitter of
 *            amplitude A has noise about A/4.
 *   q[0..3]  the medians of the window's four quarters (by time).
 *
 * The quantity grows when all of these hold:
 *   1. growth ≥ floor = max(abs, rel × max(q[0], 0), CT_TREND_NOISE_K × noise):
 *      more than a fixed amount, a fraction of where it started, and the series' own
 *      noise;
 *   2. q[1] > q[0] and q[3] > q[2]: it rises both early and late in the window. A
 *      one-off step rises in one place only, so it fails here however large it is.
 */
#ifndef CTXTRACE_CORE_TREND_H
#define CTXTRACE_CORE_TREND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    CT_TREND_MIN_POINTS = 8,    /* fewer samples cannot be judged */
    CT_TREND_MAX_POINTS = 600,  /* longer series are thinned evenly first */
};
#define CT_TREND_NOISE_K 3.0

struct ct_trend_floor {
    double abs; /* least growth over the window that counts, in the quantity's unit */
    double rel; /* least growth as a fraction of the starting level (q[0]) */
};

struct ct_trend {
    double slope;  /* per second */
    double growth; /* slope × window */
    double floor;  /* the growth it had to reach (rule 1) */
    double noise;
    double q[4];
    double first, last; /* medians of the first and last quarter, for messages */
    bool grows;
};

/* Judge n samples (ts_ns increasing, values v). Returns false when n is below
 * CT_TREND_MIN_POINTS or the timestamps span no time (nothing is judged then). */
bool ct_trend_judge(const int64_t *ts_ns, const double *v, size_t n,
                    struct ct_trend_floor floor, struct ct_trend *out);

#endif /* CTXTRACE_CORE_TREND_H */
