/*
 * soak.h — `ctxtrace soak`: what the command (soak.c) reads back from the trace file
 * (soak_series.c) to judge.
 */
#ifndef CT_CLI_SOAK_H
#define CT_CLI_SOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/analysis.h>
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
int soak_read_samples(sqlite3 *db, int64_t from_ns, int64_t to_ns, const int64_t *fd_ts,
                      const double *fd_v, size_t nfd, struct soak_series *out, char *err,
                      size_t errlen);
void soak_series_free(struct soak_series *s);

/* For `metric` (contexts, waiters or threads): the live count per site at each sample
 * time of `s`, judged; the growing sites are appended to out. Returns 0 or -1. */
int soak_growing_sites(sqlite3 *db, const struct soak_series *s, enum soak_metric metric,
                       struct soak_sites *out, char *err, size_t errlen);
void soak_sites_free(struct soak_sites *s);

/* What soak shows while the program runs (soak_progress.c): on a terminal one line on
 * stderr rewritten in place; with verbose, one line per sample. */
struct soak_progress {
    const char *trace;     /* the trace file the shim writes */
    sqlite3 *db;           /* opened once the shim has created it */
    int64_t start;         /* the program's start (CLOCK_MONOTONIC ns) */
    int64_t last_ts;       /* the last sample shown */
    double duration;       /* --duration, seconds */
    bool verbose, tty, line_shown;
};
void soak_progress_init(struct soak_progress *p, const char *trace, int64_t start,
                        double duration, bool verbose);
/* Show the samples the shim has written since the last tick (fd samples: soak's own). */
void soak_progress_tick(struct soak_progress *p, const int64_t *fd_ts, const double *fd_v,
                        size_t nfd);
/* Erase the progress line, close the trace. */
void soak_progress_end(struct soak_progress *p);

#endif /* CT_CLI_SOAK_H */
