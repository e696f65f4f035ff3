/*
 * profile.c — per-site statistics (see profile.h).
 *
 * Fan-out: every context made done by its parent is attributed to the *origin* of its
 * cancellation — the nearest ancestor that was cancelled explicitly or by its deadline
 * — found with a memoized walk up the parents (linear overall, however deep).
 * Wake latency: a woken ctx_wait on context W waited for W's nearest cancellable
 * context; its latency is woken_ns minus that context's canceled_ns.
 */
#include <ctxtrace/core/profile.h>
#include <ctxtrace/tracer.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_mem.h"

struct acc {
    int64_t site;
    int kind;
    int64_t stack;        /* a creation stack at the site, for its frame */
    long created, ended[4];
    int64_t *lives;
    size_t nlives;
    long origins, fanout_sum, fanout_max;
    int64_t *wakes;
    size_t nwakes, capwakes;
    long lookups, depth_sum, depth_max;
    /* A summary trace's folded contexts at the site (summary.h): their lifetimes and
     * wake latencies as histograms, to which the rows' own are added. NULL: none. */
    struct ct_hist *life_h, *wake_h;
    int64_t life_max, wake_max;
    long summarized_wakes;
};

/* The site's accumulator (a new one for a site not seen yet). */
static struct acc *acc_for(struct u64map *by_site, struct acc *acc, size_t *nacc,
                           int64_t site, int kind, int64_t stack)
{
    uint64_t k;
    if (!u64map_get(by_site, (uint64_t)site + 1, &k)) {
        k = (*nacc)++;
        acc[k].site = site;
        acc[k].kind = kind;
        acc[k].stack = stack;
        if (!u64map_put(by_site, (uint64_t)site + 1, k))
            return NULL;
    }
    return &acc[k];
}

/* Fold the summary's aggregates into the sites the rows made. */
static int add_summaries(struct trace *t, struct u64map *by_site, struct acc *acc,
                         size_t *nacc)
{
    for (size_t i = 0; i < t->nsums; i++) {
        const struct ct_site_summary *m = &t->sums[i];
        struct acc *a = acc_for(by_site, acc, nacc, trace_site(t, m->create_stack), m->kind,
                                m->create_stack);
        if (a == NULL || (a->life_h == NULL && (a->life_h = calloc(1, sizeof *a->life_h)) == NULL) ||
            (a->wake_h == NULL && (a->wake_h = calloc(1, sizeof *a->wake_h)) == NULL))
            return -1;
        a->created += m->contexts;
        a->ended[CTX_WHY_EXPLICIT] += m->ended_explicit;
        a->ended[CTX_WHY_PARENT] += m->ended_parent;
        a->ended[CTX_WHY_DEADLINE] += m->ended_deadline;
        a->ended[3] += m->ended_never;
        ct_hist_merge(a->life_h, &m->life);
        ct_hist_merge(a->wake_h, &m->wake);
        if (m->life_max > a->life_max)
            a->life_max = m->life_max;
        if (m->wake_max > a->wake_max)
            a->wake_max = m->wake_max;
        a->summarized_wakes += m->wakeups;
        a->origins += m->origins;
        a->fanout_sum += m->fanout_sum;
        if (m->fanout_max > a->fanout_max)
            a->fanout_max = m->fanout_max;
        a->lookups += m->value_lookups;
        a->depth_sum += m->value_depth_sum;
        if (m->value_depth_max > a->depth_max)
            a->depth_max = m->value_depth_max;
    }
    return 0;
}


static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* qsort must not be given NULL, even for 0 elements. */
static void sort_i64(int64_t *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_i64);
}

static int64_t pct(const int64_t *v, size_t n, int p)
{
    return n ? v[(n - 1) * (size_t)p / 100] : 0;
}

/* p50, p99 and max of the rows' values v[0..n) (sorted) together with a histogram of
 * folded ones (NULL: none): exact without one, within its bucket width with one. */
static void quantiles(const int64_t *v, size_t n, struct ct_hist *h, int64_t hmax,
                      int64_t *p50, int64_t *p99, int64_t *max)
{
    if (h == NULL) {
        *p50 = pct(v, n, 50);
        *p99 = pct(v, n, 99);
        *max = pct(v, n, 100);
        return;
    }
    for (size_t i = 0; i < n; i++)
        ct_hist_add(h, v[i]);
    *max = n && v[n - 1] > hmax ? v[n - 1] : hmax;
    *p50 = ct_hist_quantile(h, 50);
    *p99 = ct_hist_quantile(h, 99);
    /* A bucket's upper bound can overshoot the largest value seen. */
    if (*p50 > *max)
        *p50 = *max;
    if (*p99 > *max)
        *p99 = *max;
}

/* origin[i]: row index of the context where i's cancellation started (i itself if it
 * was cancelled explicitly or by deadline), or -1 (never done / unknown). */
static int64_t *origins(const struct trace *t)
{
    int64_t *origin = malloc(t->n * sizeof *origin);
    int64_t *path = malloc(t->n * sizeof *path);
    if (origin == NULL || path == NULL) {
        free(origin);
        free(path);
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++)
        origin[i] = -2; /* not computed */
    for (size_t i = 0; i < t->n; i++) {
        size_t len = 0;
        int64_t j = (int64_t)i, found = -1;
        while (j >= 0 && origin[j] == -2) {
            const struct crow *r = &t->rows[j];
            if (r->why != CTX_WHY_PARENT) {
                found = r->why < 0 ? -1 : j;
                origin[j] = found;
                break;
            }
            path[len++] = j;
            const struct crow *p = trace_row(t, r->parent);
            j = p ? (int64_t)(p - t->rows) : -1;
        }
        if (j >= 0 && origin[j] != -2)
            found = origin[j];
        while (len > 0)
            origin[path[--len]] = found;
    }
    free(path);
    return origin;
}

int ct_profile(ct_reader *reader, struct ct_profile *out, char *err, size_t errlen)
{
    sqlite3 *db = ct_reader_db(reader);
    memset(out, 0, sizeof *out);
    struct trace t;
    struct acc *acc = NULL;
    size_t nacc = 0;
    struct u64map by_site = {0}; /* site+1 -> acc index */
    int64_t *origin = NULL, *row_acc = NULL;
    int rc = -1;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (trace_mem_load(&t, reader, err, errlen) != 0)
        goto done;
    acc = calloc(t.n + t.nsums + 1, sizeof *acc); /* at most one site per row or aggregate */
    row_acc = malloc((t.n ? t.n : 1) * sizeof *row_acc);
    origin = origins(&t);
    if (acc == NULL || row_acc == NULL || origin == NULL)
        goto oom;

    for (size_t i = 0; i < t.n; i++) {
        const struct crow *r = &t.rows[i];
        struct acc *a = acc_for(&by_site, acc, &nacc, trace_site(&t, r->create_stack),
                                r->kind, r->create_stack);
        if (a == NULL)
            goto oom;
        row_acc[i] = a - acc;
        a->created++;
        a->ended[r->why >= 0 ? r->why : 3]++;
        a->lookups += r->value_lookups;
        a->depth_sum += r->value_depth_sum;
        if (r->value_depth_max > a->depth_max)
            a->depth_max = r->value_depth_max;
    }
    /* Lifetimes: one array per site, filled in a second pass (the rows' only: sized
     * before the aggregates add theirs to `created`). */
    for (size_t k = 0; k < nacc; k++)
        if ((acc[k].lives = malloc((size_t)acc[k].created * sizeof(int64_t))) == NULL)
            goto oom;
    {
        long *fan = calloc(t.n ? t.n : 1, sizeof *fan);
        if (fan == NULL)
            goto oom;
        for (size_t i = 0; i < t.n; i++) {
            const struct crow *r = &t.rows[i];
            struct acc *a = &acc[row_acc[i]];
            a->lives[a->nlives++] = (r->freed ? r->freed : t.end) - r->created;
            if (r->why == CTX_WHY_PARENT && origin[i] >= 0)
                fan[origin[i]]++;
        }
        for (size_t i = 0; i < t.n; i++) {
            const struct crow *r = &t.rows[i];
            if (r->why != CTX_WHY_EXPLICIT && r->why != CTX_WHY_DEADLINE)
                continue;
            struct acc *a = &acc[row_acc[i]];
            a->origins++;
            a->fanout_sum += fan[i];
            if (fan[i] > a->fanout_max)
                a->fanout_max = fan[i];
        }
        free(fan);
    }
    if (add_summaries(&t, &by_site, acc, &nacc) != 0)
        goto oom;
    /* Wake latencies. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT context_id, woken_ns FROM waits WHERE how = 'wait' AND "
                           "woken_ns IS NOT NULL AND result = 0",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const struct crow *w = trace_row(&t, sqlite3_column_int64(st, 0)), *src = w;
            while (src != NULL && src->kind == CTX_KIND_VALUE)
                src = trace_row(&t, src->parent);
            if (w == NULL || src == NULL || src->canceled == 0)
                continue;
            struct acc *a = &acc[row_acc[w - t.rows]];
            if (a->nwakes == a->capwakes) {
                size_t cap = a->capwakes ? a->capwakes * 2 : 8;
                int64_t *grown = realloc(a->wakes, cap * sizeof *grown);
                if (grown == NULL) {
                    sqlite3_finalize(st);
                    goto oom;
                }
                a->wakes = grown;
                a->capwakes = cap;
            }
            a->wakes[a->nwakes++] = sqlite3_column_int64(st, 1) - src->canceled;
        }
        sqlite3_finalize(st);
    }

    out->sites = calloc(nacc ? nacc : 1, sizeof *out->sites);
    if (out->sites == NULL)
        goto oom;
    for (size_t k = 0; k < nacc; k++) {
        struct acc *a = &acc[k];
        struct ct_site_profile *p = &out->sites[out->len++];
        struct ct_stack stack;
        if (ct_load_stack(db, a->stack, &stack) == 0 && stack.depth > 0) {
            p->site = stack.frames[0];
            stack.frames[0] = (struct ct_frame){0};
        }
        ct_stack_free(&stack);
        p->kind = a->kind;
        p->created = a->created;
        sort_i64(a->lives, a->nlives);
        quantiles(a->lives, a->nlives, a->life_h, a->life_max, &p->life_p50, &p->life_p99,
                  &p->life_max);
        p->ended_explicit = a->ended[CTX_WHY_EXPLICIT];
        p->ended_parent = a->ended[CTX_WHY_PARENT];
        p->ended_deadline = a->ended[CTX_WHY_DEADLINE];
        p->ended_never = a->ended[3];
        p->fanout_origins = a->origins;
        p->fanout_mean = a->origins ? (double)a->fanout_sum / (double)a->origins : 0;
        p->fanout_max = a->fanout_max;
        sort_i64(a->wakes, a->nwakes);
        p->wakeups = (long)a->nwakes + a->summarized_wakes;
        int64_t wake_p99;
        quantiles(a->wakes, a->nwakes, a->wake_h, a->wake_max, &p->wake_p50, &wake_p99,
                  &p->wake_max);
        p->value_lookups = a->lookups;
        p->value_depth_mean = a->lookups ? (double)a->depth_sum / (double)a->lookups : 0;
        p->value_depth_max = a->depth_max;
    }
    out->contexts = (long)t.n;
    for (size_t i = 0; i < t.nsums; i++)
        out->contexts += (long)t.sums[i].contexts;
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
    ct_profile_free(out);
done:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    for (size_t k = 0; acc != NULL && k < nacc; k++) {
        free(acc[k].lives);
        free(acc[k].wakes);
        free(acc[k].life_h);
        free(acc[k].wake_h);
    }
    free(acc);
    free(row_acc);
    free(origin);
    u64map_free(&by_site);
    trace_mem_free(&t);
    if (rc == 0) {
        /* Most contexts first: where the program spends its contexts. */
        for (size_t i = 1; i < out->len; i++) {
            struct ct_site_profile x = out->sites[i];
            size_t j = i;
            for (; j > 0 && out->sites[j - 1].created < x.created; j--)
                out->sites[j] = out->sites[j - 1];
            out->sites[j] = x;
        }
    }
    return rc;
}

void ct_profile_free(struct ct_profile *p)
{
    for (size_t i = 0; i < p->len; i++) {
        free(p->sites[i].site.function);
        free(p->sites[i].site.file);
        free(p->sites[i].site.module);
    }
    free(p->sites);
    memset(p, 0, sizeof *p);
}
