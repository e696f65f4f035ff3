/*
 * profile.c — per-site statistics (see profile.h).
 *
 * The contexts are read once, in id order (stream.h), never all at once. Fan-out: every
 * context made done by its parent is attributed to the *origin* of its cancellation —
 * the nearest ancestor that was cancelled explicitly or by its deadline — carried down
 * from parent to child in the window (window.h; linear overall, however deep). Wake
 * latency: a woken ctx_wait on context W waited for W's nearest cancellable context; its
 * latency is woken_ns minus that context's canceled_ns (the waits are read ordered by
 * context, alongside the stream). Lifetimes, and wake latencies past 65,536 at a site:
 * per-site histograms, and the exact quantiles by narrowing (kth.h).
 */
#include <ctxtrace/core/profile.h>
#include <ctxtrace/tracer.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kth.h"
#include "trace_mem.h"
#include "window.h"

/* A site's rows' lifetimes (freed, or the trace's end, minus created): one per context,
 * too many to keep. The stream counts them in a histogram and notes the largest; a site
 * of rows only then gets its exact p50 and p99 by narrowing (kth.h) over further passes
 * over the lifetimes (exact_lifetimes); a site with summary aggregates adds the
 * histogram to theirs. */
struct lives {
    struct ct_hist h;
    long n;
    int64_t max;
    struct kth p50, p99;
};

/* A site's wake latencies (one per woken ctx_wait on its contexts). Usually few: kept,
 * and sorted for p50. Past KTH_KEEP of them (a server whose every request waits) they are
 * only counted in a histogram with the largest noted, and the exact p50 is found by
 * narrowing over further passes over the woken waits (exact_wakes). */
struct wakes {
    int64_t *kept;
    size_t nkept, capkept;
    bool spilled; /* more than KTH_KEEP: kept is given up */
    struct ct_hist h;
    long n;
    int64_t max;
    struct kth p50;
};

struct acc {
    int64_t site;
    int kind;
    int64_t stack;        /* a creation stack at the site, for its frame */
    long created, ended[4];
    struct lives life;    /* the rows' lifetimes */
    long origins, fanout_sum, fanout_max;
    struct wakes wake;    /* the rows' wake latencies */
    long lookups, depth_sum, depth_max;
    /* A summary trace's folded contexts at the site (summary.h): their lifetimes and
     * wake latencies as histograms, to which the rows' own are added. NULL: none. */
    struct ct_hist *life_h, *wake_h;
    int64_t life_max, wake_max;
    long summarized_wakes;
};

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

/* p50, p99 and max of a histogram whose largest value is `max`. */
static void hist_quantiles(const struct ct_hist *h, int64_t hmax, int64_t *p50, int64_t *p99,
                           int64_t *max)
{
    *max = hmax;
    *p50 = ct_hist_quantile(h, 50);
    *p99 = ct_hist_quantile(h, 99);
    /* A bucket's upper bound can overshoot the largest value seen. */
    if (*p50 > *max)
        *p50 = *max;
    if (*p99 > *max)
        *p99 = *max;
}

/* What a context's descendants ask of it, kept in the window (window.h) while they may
 * still come: where a cancellation that reaches them started, and what a wait on them
 * waited for. */
struct lineage {
    int64_t origin;   /* the context whose cancellation made it done (itself if it was
                       * cancelled explicitly or by deadline); 0: never done, or unknown */
    int64_t src_done; /* a wait on it waits for its nearest cancellable (or root-like)
                       * context: when that was cancelled (0: never, or unknown) */
    long fan;         /* an origin: the contexts its cancellation made done */
    uint32_t acc;     /* its site's accumulator */
};

struct profiling {
    struct trace *t;
    struct window w;
    struct acc *acc;
    size_t nacc, capacc;
    struct u64map by_site; /* site + 1 -> acc index */
    sqlite3_stmt *waits;   /* woken waits by context (merged with the stream) */
    bool waits_left;
    sqlite3_stmt *fan_of;  /* an origin's whole fan-out, counted by key */
};

static void derive_lineage(const struct crow *r, const void *parent, void *out, void *arg)
{
    (void)arg;
    const struct lineage *p = parent;
    struct lineage *e = out;
    e->origin = r->why != CTX_WHY_PARENT ? (r->why < 0 ? 0 : r->id) : p ? p->origin : 0;
    e->src_done = r->kind != CTX_KIND_VALUE ? r->canceled : p ? p->src_done : 0;
    e->fan = 0;
    e->acc = 0; /* its site's: set by profile_row for the entry it keeps */
}

/* The accumulator of a site (a new one for a site not seen yet). */
static struct acc *acc_for(struct profiling *pr, int64_t site, int kind, int64_t stack)
{
    uint64_t k;
    if (u64map_get(&pr->by_site, (uint64_t)site + 1, &k))
        return &pr->acc[k];
    if (pr->nacc == pr->capacc) {
        size_t cap = pr->capacc ? pr->capacc * 2 : 64;
        struct acc *grown = realloc(pr->acc, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        pr->acc = grown;
        pr->capacc = cap;
    }
    k = pr->nacc;
    if (!u64map_put(&pr->by_site, (uint64_t)site + 1, k))
        return NULL;
    pr->nacc++;
    pr->acc[k] = (struct acc){.site = site, .kind = kind, .stack = stack};
    return &pr->acc[k];
}

static bool push_i64(int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        int64_t *grown = realloc(*v, c * sizeof *grown);
        if (grown == NULL)
            return false;
        *v = grown;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return true;
}

/* A context made done by its parent counts in its origin's fan-out. The origin, an
 * ancestor, is normally still in the window; one that is not (a corrupt trace, or a
 * creation timestamped after its ancestor's free) has its whole fan-out counted by key,
 * which is what its site's maximum needs. */
static bool count_fan(struct profiling *pr, int64_t origin)
{
    struct lineage *o = window_get(&pr->w, origin);
    if (o != NULL) {
        struct acc *a = &pr->acc[o->acc];
        o->fan++;
        a->fanout_sum++;
        if (o->fan > a->fanout_max)
            a->fanout_max = o->fan;
        return true;
    }
    struct crow r;
    if (ctx_stream_fetch(&pr->t->stream, origin, &r) != 1)
        return false;
    struct acc *a = acc_for(pr, trace_site(pr->t, r.create_stack), r.kind, r.create_stack);
    sqlite3_reset(pr->fan_of);
    sqlite3_bind_int64(pr->fan_of, 1, origin);
    if (a == NULL || sqlite3_step(pr->fan_of) != SQLITE_ROW)
        return false;
    long fan = (long)sqlite3_column_int64(pr->fan_of, 0);
    a->fanout_sum++;
    if (fan > a->fanout_max)
        a->fanout_max = fan;
    return true;
}

static bool add_wake(struct wakes *w, int64_t v)
{
    ct_hist_add(&w->h, v);
    if (w->n++ == 0 || v > w->max)
        w->max = v;
    if (w->spilled)
        return true;
    if (w->nkept == KTH_KEEP) {
        free(w->kept);
        w->kept = NULL;
        w->nkept = w->capkept = 0;
        w->spilled = true;
        return true;
    }
    return push_i64(&w->kept, &w->nkept, &w->capkept, v);
}

/* The woken waits on context `r` (the waits come ordered by context, as the stream):
 * each waited for its nearest cancellable context; the latency is from that one's
 * cancellation to the wake-up. Waits on contexts the trace does not have are passed. */
static bool wake_latencies(struct profiling *pr, const struct crow *r, const struct lineage *e,
                           struct acc *a)
{
    while (pr->waits_left) {
        int64_t ctx = sqlite3_column_int64(pr->waits, 0);
        if (ctx > r->id)
            return true;
        if (ctx == r->id && e->src_done != 0 &&
            !add_wake(&a->wake, sqlite3_column_int64(pr->waits, 1) - e->src_done))
            return false;
        int rc = sqlite3_step(pr->waits);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return false;
        pr->waits_left = rc == SQLITE_ROW;
    }
    return true;
}

static int64_t life_of(const struct trace *t, int64_t created, int64_t freed)
{
    return (freed ? freed : t->end) - created;
}

/* The exact p50 and p99 of the lifetimes of every site of rows only: pass after pass over
 * the contexts' lifetimes (a few columns each), each narrowing every rank not yet found
 * (kth.h) — a couple of passes in practice, however many contexts. */
static bool exact_lifetimes(struct profiling *pr)
{
    struct trace *t = pr->t;
    for (size_t i = 0; i < pr->nacc; i++) {
        struct acc *a = &pr->acc[i];
        if (a->life_h != NULL || a->life.n == 0)
            continue;
        kth_start(&a->life.p50, (a->life.n - 1) * 50 / 100, &a->life.h);
        kth_start(&a->life.p99, (a->life.n - 1) * 99 / 100, &a->life.h);
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT create_stack, created_ns, freed_ns FROM contexts "
                           "WHERE id > 2 ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    bool ok = true;
    for (;;) {
        bool pending = false;
        for (size_t i = 0; i < pr->nacc && ok; i++) {
            struct kth *k[] = {&pr->acc[i].life.p50, &pr->acc[i].life.p99};
            for (int j = 0; j < 2 && ok; j++)
                if (pr->acc[i].life_h == NULL && pr->acc[i].life.n > 0 && !k[j]->done) {
                    pending = true;
                    ok = kth_begin_pass(k[j]);
                }
        }
        if (!ok || !pending)
            break;
        sqlite3_reset(st);
        int rc;
        while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            uint64_t k;
            int64_t site = trace_site(t, sqlite3_column_int64(st, 0));
            if (!u64map_get(&pr->by_site, (uint64_t)site + 1, &k))
                continue; /* every site was seen by the stream */
            struct acc *a = &pr->acc[k];
            int64_t v = life_of(t, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
            ok = kth_feed(&a->life.p50, v) && kth_feed(&a->life.p99, v);
        }
        ok = ok && rc == SQLITE_DONE;
        for (size_t i = 0; i < pr->nacc; i++) {
            struct kth *k[] = {&pr->acc[i].life.p50, &pr->acc[i].life.p99};
            for (int j = 0; j < 2 && ok; j++)
                if (pr->acc[i].life_h == NULL && pr->acc[i].life.n > 0 && !k[j]->done)
                    kth_end_pass(k[j]);
        }
        if (!ok)
            break;
    }
    sqlite3_finalize(st);
    return ok;
}

/* When the context a wait waited on — its nearest cancellable (not value) context — was
 * cancelled: 0 when never, or when the walk up leaves the trace (the stream's src_done,
 * read by key). */
static int64_t src_done_by_key(struct profiling *pr, int kind, int64_t canceled, int64_t parent)
{
    struct crow r;
    for (size_t steps = 0; kind == CTX_KIND_VALUE; steps++) {
        if (steps > pr->t->stream.n || ctx_stream_fetch(&pr->t->stream, parent, &r) != 1)
            return 0; /* a root, a context the trace does not have, or a cycle */
        kind = r.kind;
        canceled = r.canceled;
        parent = r.parent;
    }
    return canceled;
}

/* The exact wake-latency p50 of every site with more woken waits than were kept: pass
 * after pass over the woken waits, narrowing (kth.h). */
static bool exact_wakes(struct profiling *pr)
{
    bool any = false;
    for (size_t i = 0; i < pr->nacc; i++) {
        struct acc *a = &pr->acc[i];
        if (a->wake_h == NULL && a->wake.spilled) {
            kth_start(&a->wake.p50, (a->wake.n - 1) * 50 / 100, &a->wake.h);
            any = true;
        }
    }
    sqlite3_stmt *st;
    if (!any)
        return true;
    if (sqlite3_prepare_v2(pr->t->db,
                           "SELECT w.woken_ns, c.kind, c.canceled_ns, c.parent_id, "
                           "c.create_stack FROM waits w JOIN contexts c ON c.id = w.context_id "
                           "WHERE w.how = 'wait' AND w.woken_ns IS NOT NULL AND w.result = 0 "
                           "AND c.id > 2",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    bool ok = true;
    for (;;) {
        bool pending = false;
        for (size_t i = 0; i < pr->nacc && ok; i++) {
            struct acc *a = &pr->acc[i];
            if (a->wake_h == NULL && a->wake.spilled && !a->wake.p50.done) {
                pending = true;
                ok = kth_begin_pass(&a->wake.p50);
            }
        }
        if (!ok || !pending)
            break;
        sqlite3_reset(st);
        int rc;
        while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            uint64_t k;
            int64_t site = trace_site(pr->t, sqlite3_column_int64(st, 4));
            if (!u64map_get(&pr->by_site, (uint64_t)site + 1, &k))
                continue;
            struct acc *a = &pr->acc[k];
            if (a->wake_h != NULL || !a->wake.spilled || a->wake.p50.done)
                continue;
            int64_t src = src_done_by_key(
                pr, ct_kind_from_name((const char *)sqlite3_column_text(st, 1)),
                sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3));
            if (src != 0)
                ok = kth_feed(&a->wake.p50, sqlite3_column_int64(st, 0) - src);
        }
        ok = ok && rc == SQLITE_DONE;
        for (size_t i = 0; i < pr->nacc; i++) {
            struct acc *a = &pr->acc[i];
            if (ok && a->wake_h == NULL && a->wake.spilled && !a->wake.p50.done)
                kth_end_pass(&a->wake.p50);
        }
        if (!ok)
            break;
    }
    sqlite3_finalize(st);
    return ok;
}

/* One context: counted at its site, into the window for its descendants. */
static bool profile_row(struct profiling *pr, const struct crow *r)
{
    struct trace *t = pr->t;
    struct lineage scratch, own;
    bool failed = false;
    const struct lineage *parent = window_lookup(&pr->w, &t->stream, r->parent, derive_lineage,
                                                 NULL, &scratch, &failed);
    if (failed)
        return false;
    derive_lineage(r, parent, &own, NULL);
    struct acc *a = acc_for(pr, trace_site(t, r->create_stack), r->kind, r->create_stack);
    if (a == NULL)
        return false;
    own.acc = (uint32_t)(a - pr->acc);
    a->created++;
    a->ended[r->why >= 0 ? r->why : 3]++;
    a->lookups += r->value_lookups;
    a->depth_sum += r->value_depth_sum;
    if (r->value_depth_max > a->depth_max)
        a->depth_max = r->value_depth_max;
    if (r->why == CTX_WHY_EXPLICIT || r->why == CTX_WHY_DEADLINE)
        a->origins++;
    int64_t life = life_of(t, r->created, r->freed);
    ct_hist_add(&a->life.h, life);
    if (a->life.n++ == 0 || life > a->life.max)
        a->life.max = life;
    if (!wake_latencies(pr, r, &own, a))
        return false;
    struct lineage *e = window_add(&pr->w, r->id, r->freed);
    if (e == NULL)
        return false;
    *e = own;
    /* Counted after its own entry exists: no context is its own origin's descendant. */
    return r->why != CTX_WHY_PARENT || own.origin == 0 || count_fan(pr, own.origin);
}

/* Fold the summary's aggregates into the sites the rows made. */
static int add_summaries(struct profiling *pr)
{
    struct trace *t = pr->t;
    for (size_t i = 0; i < t->nsums; i++) {
        const struct ct_site_summary *m = &t->sums[i];
        struct acc *a = acc_for(pr, trace_site(t, m->create_stack), m->kind, m->create_stack);
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


int ct_profile(ct_reader *reader, struct ct_profile *out, char *err, size_t errlen)
{
    sqlite3 *db = ct_reader_db(reader);
    memset(out, 0, sizeof *out);
    struct trace t = {0};
    struct profiling pr = {.t = &t};
    window_init(&pr.w, sizeof(struct lineage));
    int rc = -1;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (trace_mem_load(&t, reader, err, errlen) != 0)
        goto done;
    if (sqlite3_prepare_v2(db,
                           "SELECT context_id, woken_ns FROM waits WHERE how = 'wait' AND "
                           "woken_ns IS NOT NULL AND result = 0 ORDER BY context_id",
                           -1, &pr.waits, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "WITH RECURSIVE d(id) AS (SELECT id FROM contexts WHERE "
                           "parent_id = ?1 AND cancel_why = 'parent' AND id > 2 UNION "
                           "SELECT c.id FROM contexts c JOIN d ON c.parent_id = d.id "
                           "WHERE c.cancel_why = 'parent' AND c.id > 2) SELECT count(*) FROM d",
                           -1, &pr.fan_of, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "reading waits: %s", sqlite3_errmsg(db));
        goto done;
    }
    int step = sqlite3_step(pr.waits);
    pr.waits_left = step == SQLITE_ROW;
    long rows = 0;
    struct crow r;
    int more = step == SQLITE_ROW || step == SQLITE_DONE ? 1 : -1;
    while (more == 1 && (more = ctx_stream_next(&t.stream, &r)) == 1) {
        rows++;
        if (!profile_row(&pr, &r))
            goto oom;
        window_evict(&pr.w, ctx_stream_horizon(&t.stream));
    }
    if (more < 0) {
        snprintf(err, errlen, "reading contexts: %s", sqlite3_errmsg(db));
        goto done;
    }
    if (add_summaries(&pr) != 0 || !exact_lifetimes(&pr) || !exact_wakes(&pr))
        goto oom;

    out->sites = calloc(pr.nacc ? pr.nacc : 1, sizeof *out->sites);
    if (out->sites == NULL)
        goto oom;
    for (size_t k = 0; k < pr.nacc; k++) {
        struct acc *a = &pr.acc[k];
        struct ct_site_profile *p = &out->sites[out->len++];
        struct ct_stack stack;
        if (ct_load_stack(db, a->stack, &stack) == 0 && stack.depth > 0) {
            p->site = stack.frames[0];
            stack.frames[0] = (struct ct_frame){0};
        }
        ct_stack_free(&stack);
        p->kind = a->kind;
        p->created = a->created;
        if (a->life_h == NULL) {
            p->life_p50 = a->life.n ? a->life.p50.value : 0;
            p->life_p99 = a->life.n ? a->life.p99.value : 0;
            p->life_max = a->life.n ? a->life.max : 0;
        } else {
            ct_hist_merge(a->life_h, &a->life.h);
            hist_quantiles(a->life_h, a->life.n && a->life.max > a->life_max ? a->life.max
                                                                              : a->life_max,
                           &p->life_p50, &p->life_p99, &p->life_max);
        }
        p->ended_explicit = a->ended[CTX_WHY_EXPLICIT];
        p->ended_parent = a->ended[CTX_WHY_PARENT];
        p->ended_deadline = a->ended[CTX_WHY_DEADLINE];
        p->ended_never = a->ended[3];
        p->fanout_origins = a->origins;
        p->fanout_mean = a->origins ? (double)a->fanout_sum / (double)a->origins : 0;
        p->fanout_max = a->fanout_max;
        p->wakeups = a->wake.n + a->summarized_wakes;
        if (a->wake_h != NULL) {
            int64_t wake_p99;
            ct_hist_merge(a->wake_h, &a->wake.h);
            hist_quantiles(a->wake_h, a->wake.n && a->wake.max > a->wake_max ? a->wake.max
                                                                              : a->wake_max,
                           &p->wake_p50, &wake_p99, &p->wake_max);
        } else if (!a->wake.spilled) {
            sort_i64(a->wake.kept, a->wake.nkept);
            p->wake_p50 = pct(a->wake.kept, a->wake.nkept, 50);
            p->wake_max = pct(a->wake.kept, a->wake.nkept, 100);
        } else {
            p->wake_p50 = a->wake.p50.value;
            p->wake_max = a->wake.max;
        }
        p->value_lookups = a->lookups;
        p->value_depth_mean = a->lookups ? (double)a->depth_sum / (double)a->lookups : 0;
        p->value_depth_max = a->depth_max;
    }
    out->contexts = rows;
    for (size_t i = 0; i < t.nsums; i++)
        out->contexts += (long)t.sums[i].contexts;
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
    ct_profile_free(out);
done:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    for (size_t k = 0; k < pr.nacc; k++) {
        kth_free(&pr.acc[k].life.p50);
        kth_free(&pr.acc[k].life.p99);
        free(pr.acc[k].wake.kept);
        kth_free(&pr.acc[k].wake.p50);
        free(pr.acc[k].life_h);
        free(pr.acc[k].wake_h);
    }
    free(pr.acc);
    u64map_free(&pr.by_site);
    sqlite3_finalize(pr.waits);
    sqlite3_finalize(pr.fan_of);
    window_free(&pr.w);
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
