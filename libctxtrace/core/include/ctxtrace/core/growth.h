/*
 * ctxtrace/core/growth.h — a soak run read back from its trace: the sampled quantities
 * over the judged window, and the live count per creation (or wait) site at each sample
 * time, judged by the trend decision (trend.h). `ctxtrace soak` prints and decides on
 * these; the inspector may show them.
 */
#ifndef CTXTRACE_CORE_GROWTH_H
#define CTXTRACE_CORE_GROWTH_H

#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/trend.h>

/* The sampled quantities, in output order. fds are sampled by soak itself from
 * /proc/PID/fd; the rest by the shim into the trace's samples table. */
enum soak_metric {
    SOAK_CONTEXTS,
    SOAK_TIMERS,
    SOAK_WAITERS,
    SOAK_THREADS,
    SOAK_FDS,
    SOAK_RSS,
    SOAK_NMETRICS
};

struct soak_metric_info {
    const char *name;      /* for people: "live contexts" */
    const char *key;       /* for JSON: "live_contexts" */
    struct ct_trend_floor floor;
};
extern const struct soak_metric_info soak_metrics[SOAK_NMETRICS];

/* The judged samples: ts[i] (CLOCK_MONOTONIC ns) and one value per metric. */
struct soak_series {
    int64_t *ts;
    double *v[SOAK_NMETRICS];
    size_t n;
};

/* A creation (or wait) site whose live count grows. */
struct soak_site {
    enum soak_metric metric;   /* SOAK_CONTEXTS, SOAK_WAITERS or SOAK_THREADS */
    struct ct_stack stack;     /* the site's most frequent stack; frames[0] is the site */
    long total;                /* rows seen at the site in the trace */
    struct ct_trend trend;
};

struct soak_sites {
    struct soak_site *items;   /* by metric, then fastest growth first */
    size_t len;
};

/* The shim's samples with from_ns <= ts < to_ns, merged with soak's own fd samples
 * (fd_ts/fd_v, nfd of them; each shim sample takes the latest fd sample at or before
 * it). Returns 0, or -1 with err filled. */
int soak_read_samples(ct_reader *r, int64_t from_ns, int64_t to_ns, const int64_t *fd_ts,
                      const double *fd_v, size_t nfd, struct soak_series *out, char *err,
                      size_t errlen);
void soak_series_free(struct soak_series *s);

/* For `metric` (contexts, waiters or threads): the live count per site at each sample
 * time of `s`, judged; the growing sites are appended to out. Returns 0 or -1. */
int soak_growing_sites(ct_reader *r, const struct soak_series *s, enum soak_metric metric,
                       struct soak_sites *out, char *err, size_t errlen);
void soak_sites_free(struct soak_sites *s);

#endif /* CTXTRACE_CORE_GROWTH_H */
