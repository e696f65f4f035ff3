/*
 * growth.c — a soak run read back from its trace (see growth.h): the sampled quantities
 * over the judged window, and the live count per creation site at each sample time.
 *
 * Per-site counts are computed from the rows' lifetimes (created..freed for contexts,
 * blocked..woken for waits, start..exit for threads) with a sweep over the sample
 * times: O(rows log rows), so a soak of millions of contexts stays quick.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctxtrace/core/growth.h>
#include <ctxtrace/core/summary.h>

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

int soak_read_samples(ct_reader *r, int64_t from_ns, int64_t to_ns, const int64_t *fd_ts,
                      const double *fd_v, size_t nfd, struct soak_series *out, char *err,
                      size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct ct_sample_row *rows;
    long n = ct_reader_samples(r, from_ns, to_ns, &rows);
    if (n < 0) {
        snprintf(err, errlen, "%s", ct_reader_error(r));
        return -1;
    }
    size_t cap = n > 0 ? (size_t)n : 1;
    out->ts = malloc(cap * sizeof *out->ts);
    bool ok = out->ts != NULL;
    for (int m = 0; m < SOAK_NMETRICS; m++)
        ok = (out->v[m] = malloc(cap * sizeof *out->v[m])) != NULL && ok;
    if (!ok) {
        free(rows);
        soak_series_free(out);
        snprintf(err, errlen, "reading samples: out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < (size_t)n; i++) {
        const struct ct_sample_row *row = &rows[i];
        out->ts[i] = row->ts_ns;
        out->v[SOAK_CONTEXTS][i] = (double)row->live_contexts;
        out->v[SOAK_TIMERS][i] = (double)row->armed_timers;
        out->v[SOAK_WAITERS][i] = (double)row->blocked_waiters;
        out->v[SOAK_THREADS][i] = (double)row->threads;
        out->v[SOAK_RSS][i] = (double)row->rss_bytes;
        /* The fd count soak saw last at or before this sample. */
        while (k + 1 < nfd && fd_ts[k + 1] <= out->ts[i])
            k++;
        out->v[SOAK_FDS][i] = nfd > 0 ? fd_v[k] : 0;
    }
    out->n = (size_t)n;
    free(rows);
    return 0;
}

void soak_series_free(struct soak_series *s)
{
    free(s->ts);
    for (int m = 0; m < SOAK_NMETRICS; m++)
        free(s->v[m]);
    memset(s, 0, sizeof *s);
}

/* ---- per-site live counts ----------------------------------------------------------- */

/* A lifetime and the site it was assigned. */
struct life {
    struct ct_life l;
    int site;
};

struct site_acc {
    int64_t site;          /* the stack's site: the innermost frame outside ctxtrace */
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
    return cmp_i64(&((const struct life *)a)->l.stack, &((const struct life *)b)->l.stack);
}

static int cmp_site_growth(const void *a, const void *b)
{
    const struct soak_site *x = a, *y = b;
    if (x->metric != y->metric)
        return (int)x->metric - (int)y->metric;
    return (x->trend.slope < y->trend.slope) - (x->trend.slope > y->trend.slope);
}

static const enum ct_life_kind life_kind[SOAK_NMETRICS] = {
    [SOAK_CONTEXTS] = CT_LIFE_CONTEXT, [SOAK_WAITERS] = CT_LIFE_WAIT,
    [SOAK_THREADS] = CT_LIFE_THREAD};

static int load_lives(ct_reader *r, enum soak_metric metric, int64_t from, int64_t to,
                      struct life **out, size_t *n, char *err, size_t errlen)
{
    struct ct_life *l;
    long got = ct_reader_lives(r, life_kind[metric], from, to, &l);
    *out = NULL;
    *n = 0;
    if (got < 0) {
        snprintf(err, errlen, "%s", ct_reader_error(r));
        return -1;
    }
    *out = malloc((got ? (size_t)got : 1) * sizeof **out);
    if (*out == NULL) {
        free(l);
        snprintf(err, errlen, "reading sites: out of memory");
        return -1;
    }
    for (long i = 0; i < got; i++)
        (*out)[i] = (struct life){l[i], -1};
    *n = (size_t)got;
    free(l);
    return 0;
}

/* Assign each life its site — the innermost frame outside ctxtrace, as the findings
 * group them — and load each site's most frequent stack; fills *sites. */
static int group_sites(ct_reader *r, struct life *lives, size_t n, struct site_acc **sites,
                       size_t *nsites)
{
    qsort(lives, n, sizeof *lives, cmp_life_stack);
    *sites = NULL;
    *nsites = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && lives[j].l.stack == lives[i].l.stack)
            j++;
        int64_t site = ct_reader_stack_site(r, lives[i].l.stack);
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
            a->best_stack = lives[i].l.stack;
        }
        for (size_t k = i; k < j; k++)
            lives[k].site = (int)s;
        i = j;
    }
    for (size_t s = 0; s < *nsites; s++)
        if (ct_reader_stack(r, (*sites)[s].best_stack, &(*sites)[s].stack) != 0)
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
            starts[m] = lives[i].l.start;
            ends[m] = lives[i].l.end;
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

/* A grown site into out (its stack loaded from best_stack). */
static int push_site(ct_reader *r, struct soak_sites *out, enum soak_metric metric,
                     int64_t best_stack, long total, const struct ct_trend *t)
{
    struct soak_site *grown = realloc(out->items, (out->len + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    out->items = grown;
    struct soak_site *g = &grown[out->len];
    *g = (struct soak_site){.metric = metric, .total = total, .trend = *t};
    if (ct_reader_stack(r, best_stack, &g->stack) != 0)
        return -1;
    out->len++;
    return 0;
}

/* A summary trace (summary.h) has no rows for the contexts that ended cleanly, so the
 * live count of each site over time comes from its site_samples instead: each creation
 * stack and kind's count stands from one row to its next, and the stacks of one site add
 * up. */
static int summary_sites(ct_reader *r, const struct soak_series *s, struct soak_sites *out,
                         char *err, size_t errlen)
{
    struct ct_site_sample *ss;
    long n = ct_reader_site_samples(r, s->ts[s->n - 1] + 1, &ss);
    if (n < 0) {
        snprintf(err, errlen, "%s", ct_reader_error(r));
        return -1;
    }
    struct acc {
        int64_t site, best_stack;
        long best, total;
        double *counts;
    } *sites = NULL;
    size_t nsites = 0;
    int rc = -1;
    for (long i = 0; i < n;) {
        long j = i;
        while (j < n && ss[j].stack == ss[i].stack && ss[j].kind == ss[i].kind)
            j++;
        int64_t site = ct_reader_stack_site(r, ss[i].stack);
        size_t a = 0;
        while (a < nsites && sites[a].site != site)
            a++;
        if (a == nsites) {
            struct acc *grown = realloc(sites, (nsites + 1) * sizeof *grown);
            if (grown == NULL)
                goto oom;
            sites = grown;
            double *counts = calloc(s->n, sizeof *counts);
            if (counts == NULL)
                goto oom;
            sites[nsites++] = (struct acc){.site = site, .counts = counts};
        }
        /* Carry each row's count forward over the sample times. */
        long k = i;
        for (size_t t = 0; t < s->n; t++) {
            while (k + 1 < j && ss[k + 1].ts <= s->ts[t])
                k++;
            if (ss[k].ts <= s->ts[t])
                sites[a].counts[t] += (double)ss[k].live;
        }
        long created = (long)ss[j - 1].created;
        sites[a].total += created;
        if (created > sites[a].best) {
            sites[a].best = created;
            sites[a].best_stack = ss[i].stack;
        }
        i = j;
    }
    for (size_t a = 0; a < nsites; a++) {
        struct ct_trend t;
        if (!ct_trend_judge(s->ts, sites[a].counts, s->n, soak_metrics[SOAK_CONTEXTS].floor,
                            &t) ||
            !t.grows)
            continue;
        if (push_site(r, out, SOAK_CONTEXTS, sites[a].best_stack, sites[a].total, &t) != 0)
            goto oom;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "reading sites: out of memory or unreadable stacks");
done:
    for (size_t a = 0; a < nsites; a++)
        free(sites[a].counts);
    free(sites);
    free(ss);
    return rc;
}

int soak_growing_sites(ct_reader *r, const struct soak_series *s, enum soak_metric metric,
                       struct soak_sites *out, char *err, size_t errlen)
{
    if (s->n == 0)
        return 0;
    if (metric == SOAK_CONTEXTS) {
        char *keep = ct_reader_meta_text(r, "retention");
        bool summary = ct_keep_from_name(keep) == CT_KEEP_SUMMARY;
        free(keep);
        if (summary) {
            int rc = summary_sites(r, s, out, err, errlen);
            if (rc == 0 && out->len > 0)
                qsort(out->items, out->len, sizeof *out->items, cmp_site_growth);
            return rc;
        }
    }
    struct life *lives;
    size_t n;
    if (load_lives(r, metric, s->ts[0], s->ts[s->n - 1] + 1, &lives, &n, err, errlen) != 0)
        return -1;
    struct site_acc *sites = NULL;
    size_t nsites = 0;
    int64_t *starts = malloc((n ? n : 1) * sizeof *starts);
    int64_t *ends = malloc((n ? n : 1) * sizeof *ends);
    double *counts = malloc(s->n * sizeof *counts);
    int rc = -1;
    if (starts == NULL || ends == NULL || counts == NULL ||
        group_sites(r, lives, n, &sites, &nsites) != 0) {
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
    if (out->len > 0) /* qsort must not be given NULL, even for 0 elements */
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
