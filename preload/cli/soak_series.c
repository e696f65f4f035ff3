/*
 * soak_series.c — reading a soak run back from its trace file: the sampled quantities
 * over the judged window, and the live count per creation site at each sample time.
 *
 * Per-site counts are computed from the rows' lifetimes (created..freed for contexts,
 * blocked..woken for waits, start..exit for threads) with a sweep over the sample
 * times: O(rows log rows), so a soak of millions of contexts stays quick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "soak.h"

#define MIB (1024.0 * 1024.0)

const struct soak_metric_info soak_metrics[SOAK_NMETRICS] = {
    [SOAK_CONTEXTS] = {"live contexts", "live_contexts", {.abs = 8, .rel = 0.1}},
    [SOAK_TIMERS] = {"armed timers", "armed_timers", {.abs = 8, .rel = 0.1}},
    [SOAK_WAITERS] = {"blocked waiters", "blocked_waiters", {.abs = 2, .rel = 0.1}},
    [SOAK_THREADS] = {"threads", "threads", {.abs = 2, .rel = 0.1}},
    [SOAK_FDS] = {"open fds", "open_fds", {.abs = 4, .rel = 0.1}},
    /* RSS moves with allocator caches and sanitizer quarantines: only a large, steady
     * rise counts. */
    [SOAK_RSS] = {"RSS bytes", "rss_bytes", {.abs = 16 * MIB, .rel = 0.25}},
};

static void set_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
}

int soak_read_samples(sqlite3 *db, int64_t from_ns, int64_t to_ns, const int64_t *fd_ts,
                      const double *fd_v, size_t nfd, struct soak_series *out, char *err,
                      size_t errlen)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT ts_ns, live_contexts, armed_timers, blocked_waiters, "
                           "threads, rss_bytes FROM samples "
                           "WHERE ts_ns >= ?1 AND ts_ns < ?2 ORDER BY ts_ns",
                           -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "reading samples", db);
        return -1;
    }
    sqlite3_bind_int64(st, 1, from_ns);
    sqlite3_bind_int64(st, 2, to_ns);
    size_t cap = 0, k = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            cap = cap ? 2 * cap : 256;
            int64_t *ts = realloc(out->ts, cap * sizeof *ts);
            if (ts == NULL)
                goto oom;
            out->ts = ts;
            for (int m = 0; m < SOAK_NMETRICS; m++) {
                double *v = realloc(out->v[m], cap * sizeof *v);
                if (v == NULL)
                    goto oom;
                out->v[m] = v;
            }
        }
        size_t i = out->n++;
        out->ts[i] = sqlite3_column_int64(st, 0);
        out->v[SOAK_CONTEXTS][i] = (double)sqlite3_column_int64(st, 1);
        out->v[SOAK_TIMERS][i] = (double)sqlite3_column_int64(st, 2);
        out->v[SOAK_WAITERS][i] = (double)sqlite3_column_int64(st, 3);
        out->v[SOAK_THREADS][i] = (double)sqlite3_column_int64(st, 4);
        out->v[SOAK_RSS][i] = (double)sqlite3_column_int64(st, 5);
        /* The fd count soak saw last at or before this sample. */
        while (k + 1 < nfd && fd_ts[k + 1] <= out->ts[i])
            k++;
        out->v[SOAK_FDS][i] = nfd > 0 ? fd_v[k] : 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, "reading samples", db);
        soak_series_free(out);
        return -1;
    }
    return 0;
oom:
    sqlite3_finalize(st);
    soak_series_free(out);
    snprintf(err, errlen, "reading samples: out of memory");
    return -1;
}

void soak_series_free(struct soak_series *s)
{
    free(s->ts);
    for (int m = 0; m < SOAK_NMETRICS; m++)
        free(s->v[m]);
    memset(s, 0, sizeof *s);
}

/* ---- per-site live counts ----------------------------------------------------------- */

struct life {
    int64_t stack, start, end; /* end INT64_MAX: still alive */
    int site;
};

struct site_acc {
    int64_t site;          /* ct_stack_site: the innermost frame outside ctxtrace */
    int64_t best_stack;    /* the site's most frequent stack... */
    long best_count, total;
    struct ct_stack stack; /* ...loaded, for printing */
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_life_stack(const void *a, const void *b)
{
    return cmp_i64(&((const struct life *)a)->stack, &((const struct life *)b)->stack);
}

static int cmp_site_growth(const void *a, const void *b)
{
    const struct soak_site *x = a, *y = b;
    if (x->metric != y->metric)
        return (int)x->metric - (int)y->metric;
    return (x->trend.slope < y->trend.slope) - (x->trend.slope > y->trend.slope);
}

static const char *const site_queries[SOAK_NMETRICS] = {
    [SOAK_CONTEXTS] = "SELECT create_stack, created_ns, freed_ns FROM contexts "
                      "WHERE id > 2 AND create_stack IS NOT NULL AND created_ns < ?2 "
                      "AND (freed_ns IS NULL OR freed_ns > ?1)",
    [SOAK_WAITERS] = "SELECT stack, blocked_ns, woken_ns FROM waits "
                     "WHERE how = 'wait' AND stack IS NOT NULL AND blocked_ns < ?2 "
                     "AND (woken_ns IS NULL OR woken_ns > ?1)",
    [SOAK_THREADS] = "SELECT create_stack, start_ns, exit_ns FROM threads "
                     "WHERE create_stack IS NOT NULL AND start_ns < ?2 "
                     "AND (exit_ns IS NULL OR exit_ns > ?1)",
};

static int load_lives(sqlite3 *db, const char *sql, int64_t from, int64_t to,
                      struct life **out, size_t *n, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "reading sites", db);
        return -1;
    }
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 1024;
            struct life *l = realloc(*out, cap * sizeof *l);
            if (l == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = l;
        }
        struct life *l = &(*out)[(*n)++];
        l->stack = sqlite3_column_int64(st, 0);
        l->start = sqlite3_column_int64(st, 1);
        l->end = sqlite3_column_type(st, 2) == SQLITE_NULL ? INT64_MAX
                                                           : sqlite3_column_int64(st, 2);
        l->site = -1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading sites: %s",
                 rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db));
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Assign each life its site — the innermost frame outside ctxtrace, as the findings
 * group them — and load each site's most frequent stack; fills *sites. */
static int group_sites(sqlite3 *db, struct life *lives, size_t n, struct site_acc **sites,
                       size_t *nsites)
{
    qsort(lives, n, sizeof *lives, cmp_life_stack);
    *sites = NULL;
    *nsites = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && lives[j].stack == lives[i].stack)
            j++;
        int64_t site = ct_stack_site(db, lives[i].stack);
        size_t s = 0;
        while (s < *nsites && (*sites)[s].site != site)
            s++;
        if (s == *nsites) {
            struct site_acc *grown = realloc(*sites, (s + 1) * sizeof *grown);
            if (grown == NULL)
                return -1;
            *sites = grown;
            grown[s] = (struct site_acc){.site = site};
            (*nsites)++;
        }
        struct site_acc *a = &(*sites)[s];
        long count = (long)(j - i);
        a->total += count;
        if (count > a->best_count) {
            a->best_count = count;
            a->best_stack = lives[i].stack;
        }
        for (size_t k = i; k < j; k++)
            lives[k].site = (int)s;
        i = j;
    }
    for (size_t s = 0; s < *nsites; s++)
        if (ct_load_stack(db, (*sites)[s].best_stack, &(*sites)[s].stack) != 0)
            return -1;
    return 0;
}

/* Live count of one site at each sample time: starts <= t minus ends <= t. */
static void live_counts(const struct life *lives, size_t n, int site, const int64_t *ts,
                        size_t nts, int64_t *starts, int64_t *ends, double *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (lives[i].site == site) {
            starts[m] = lives[i].start;
            ends[m] = lives[i].end;
            m++;
        }
    qsort(starts, m, sizeof *starts, cmp_i64);
    qsort(ends, m, sizeof *ends, cmp_i64);
    size_t a = 0, b = 0;
    for (size_t k = 0; k < nts; k++) {
        while (a < m && starts[a] <= ts[k])
            a++;
        while (b < m && ends[b] <= ts[k])
            b++;
        out[k] = (double)(a - b);
    }
}

int soak_growing_sites(sqlite3 *db, const struct soak_series *s, enum soak_metric metric,
                       struct soak_sites *out, char *err, size_t errlen)
{
    if (s->n == 0)
        return 0;
    struct life *lives;
    size_t n;
    if (load_lives(db, site_queries[metric], s->ts[0], s->ts[s->n - 1] + 1, &lives, &n,
                   err, errlen) != 0)
        return -1;
    struct site_acc *sites = NULL;
    size_t nsites = 0;
    int64_t *starts = malloc((n ? n : 1) * sizeof *starts);
    int64_t *ends = malloc((n ? n : 1) * sizeof *ends);
    double *counts = malloc(s->n * sizeof *counts);
    int rc = -1;
    if (starts == NULL || ends == NULL || counts == NULL ||
        group_sites(db, lives, n, &sites, &nsites) != 0) {
        snprintf(err, errlen, "reading sites: out of memory or unreadable stacks");
        goto done;
    }
    for (size_t i = 0; i < nsites; i++) {
        live_counts(lives, n, (int)i, s->ts, s->n, starts, ends, counts);
        struct ct_trend t;
        if (!ct_trend_judge(s->ts, counts, s->n, soak_metrics[metric].floor, &t) || !t.grows)
            continue;
        struct soak_site *grown = realloc(out->items, (out->len + 1) * sizeof *grown);
        if (grown == NULL) {
            snprintf(err, errlen, "reading sites: out of memory");
            goto done;
        }
        out->items = grown;
        grown[out->len++] = (struct soak_site){
            .metric = metric, .stack = sites[i].stack, .total = sites[i].total, .trend = t};
        sites[i].stack = (struct ct_stack){0}; /* now the site's */
    }
    qsort(out->items, out->len, sizeof *out->items, cmp_site_growth);
    rc = 0;
done:
    for (size_t i = 0; i < nsites; i++)
        ct_stack_free(&sites[i].stack);
    free(sites);
    free(lives);
    free(starts);
    free(ends);
    free(counts);
    return rc;
}

void soak_sites_free(struct soak_sites *s)
{
    for (size_t i = 0; i < s->len; i++)
        ct_stack_free(&s->items[i].stack);
    free(s->items);
    memset(s, 0, sizeof *s);
}
