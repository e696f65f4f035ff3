/*
 * trend.c — Theil–Sen slope, residual noise and quarter medians (see trend.h).
 */
#include <ctxtrace/core/trend.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of a[0..n) (n > 0); reorders a. */
static double median(double *a, size_t n)
{
    qsort(a, n, sizeof *a, cmp_double);
    return n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

static double median_of(const double *v, size_t from, size_t to, double *scratch)
{
    memcpy(scratch, v + from, (to - from) * sizeof *v);
    return median(scratch, to - from);
}

bool ct_trend_judge(const int64_t *ts_ns, const double *v, size_t n,
                    struct ct_trend_floor fl, struct ct_trend *out)
{
    memset(out, 0, sizeof *out);
    if (n < CT_TREND_MIN_POINTS || ts_ns[n - 1] <= ts_ns[0])
        return false;

    /* Thin evenly to at most CT_TREND_MAX_POINTS: the pairwise slopes are O(m²). */
    size_t m = n < CT_TREND_MAX_POINTS ? n : CT_TREND_MAX_POINTS;
    double *t = malloc(m * sizeof *t), *y = malloc(m * sizeof *y);
    double *pairs = malloc((m * (m - 1) / 2) * sizeof *pairs);
    double *scratch = malloc(m * sizeof *scratch);
    if (t == NULL || y == NULL || pairs == NULL || scratch == NULL) {
        free(t), free(y), free(pairs), free(scratch);
        return false;
    }
    for (size_t i = 0; i < m; i++) {
        size_t k = m == n ? i : i * (n - 1) / (m - 1);
        t[i] = (double)(ts_ns[k] - ts_ns[0]) / 1e9;
        y[i] = v[k];
    }

    size_t np = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m; j++)
            if (t[j] > t[i])
                pairs[np++] = (y[j] - y[i]) / (t[j] - t[i]);
    double window = t[m - 1];
    out->slope = np > 0 ? median(pairs, np) : 0;
    out->growth = out->slope * window;

    /* The line through the median intercept; noise is the median absolute residual. */
    for (size_t i = 0; i < m; i++)
        scratch[i] = y[i] - out->slope * t[i];
    double intercept = median(scratch, m);
    for (size_t i = 0; i < m; i++)
        pairs[i] = fabs(y[i] - (intercept + out->slope * t[i]));
    out->noise = median(pairs, m);

    /* Quarters by time, each with at least one sample (m >= 8). */
    size_t bounds[5] = {0, 0, 0, 0, m};
    for (int q = 1; q < 4; q++) {
        size_t k = bounds[q - 1] + 1;
        while (k < m && t[k] < window * q / 4)
            k++;
        bounds[q] = k < m - (size_t)(4 - q) ? k : m - (size_t)(4 - q);
    }
    for (int q = 0; q < 4; q++)
        out->q[q] = median_of(y, bounds[q], bounds[q + 1], scratch);
    out->first = out->q[0];
    out->last = out->q[3];

    out->floor = fl.abs;
    if (fl.rel * out->q[0] > out->floor)
        out->floor = fl.rel * out->q[0];
    if (CT_TREND_NOISE_K * out->noise > out->floor)
        out->floor = CT_TREND_NOISE_K * out->noise;
    out->grows = out->growth >= out->floor && out->growth > 0 && out->q[1] > out->q[0] &&
                 out->q[3] > out->q[2];

    free(t), free(y), free(pairs), free(scratch);
    return true;
}
