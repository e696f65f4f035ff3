/*
 * summary.c — summary retention's pieces owned by the core (see summary.h): the keep
 * decision a row alone supports, the histograms, and folding a context into its site.
 */
#include <ctxtrace/core/summary.h>
#include <ctxtrace/core/verdict.h>
#include <ctxtrace/tracer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ct_keep_name(enum ct_keep k)
{
    return k == CT_KEEP_SUMMARY ? "summary" : "full";
}

int ct_keep_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcmp(name, "full") == 0)
        return CT_KEEP_FULL;
    if (strcmp(name, "summary") == 0)
        return CT_KEEP_SUMMARY;
    return -1;
}

enum ct_keep_reason ct_keep_at_end(const struct ct_ctx_row *row)
{
    /* The trace is not complete while it is written: a context that ended is judged on
     * what happened to it, which is final once it was freed. */
    struct ct_facts f;
    ct_facts_from_row(row, false, CT_REACH_UNKNOWN, &f);
    if (ct_judge(&f).leak != CT_LEAK_NONE)
        return CT_KEEP_LEAKED;
    int64_t requested = ct_ctx_get(row, CT_REQUESTED_DEADLINE_NS, 0),
            deadline = ct_ctx_get(row, CT_DEADLINE_NS, 0);
    if (ct_ctx_get(row, CT_KIND, -1) == CTX_KIND_DEADLINE && requested != 0 && deadline != 0 &&
        requested > deadline)
        return CT_KEEP_INEFFECTIVE;
    return CT_KEEP_NO;
}

bool ct_keep_sampled(int64_t k, int64_t sampled, int every)
{
    if (every <= 0)
        return false;
    if (sampled < CT_KEEP_SAMPLE_MAX)
        return k < CT_KEEP_SAMPLE_FIRST || k % every == 0;
    return (k & (k - 1)) == 0;
}

/* ---- histograms ----------------------------------------------------------------------- */

static int bucket_of(int64_t v)
{
    if (v < 4)
        return v < 0 ? 0 : (int)v;
    int msb = 63 - __builtin_clzll((unsigned long long)v);
    return 4 * (msb - 1) + (int)((v >> (msb - 2)) & 3);
}

int64_t ct_hist_lower(int b)
{
    if (b < 4)
        return b;
    if (b >= CT_HIST_BUCKETS)
        return INT64_MAX;
    int msb = b / 4 + 1, sub = b % 4;
    return (int64_t)((4ull + (unsigned)sub) << (msb - 2));
}

void ct_hist_add(struct ct_hist *h, int64_t v)
{
    h->n[bucket_of(v)]++;
}

void ct_hist_merge(struct ct_hist *into, const struct ct_hist *h)
{
    for (int b = 0; b < CT_HIST_BUCKETS; b++)
        into->n[b] += h->n[b];
}

int64_t ct_hist_count(const struct ct_hist *h)
{
    int64_t n = 0;
    for (int b = 0; b < CT_HIST_BUCKETS; b++)
        n += h->n[b];
    return n;
}

int64_t ct_hist_quantile(const struct ct_hist *h, int p)
{
    int64_t n = ct_hist_count(h);
    if (n == 0)
        return 0;
    /* The same rank as a sorted array's v[(n - 1) * p / 100] (profile.c's). */
    int64_t rank = (n - 1) * p / 100, seen = 0;
    for (int b = 0; b < CT_HIST_BUCKETS; b++) {
        seen += h->n[b];
        if (seen > rank)
            return b + 1 < CT_HIST_BUCKETS ? ct_hist_lower(b + 1) - 1 : INT64_MAX;
    }
    return INT64_MAX;
}

char *ct_hist_format(const struct ct_hist *h)
{
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (int b = 0; b < CT_HIST_BUCKETS; b++) {
        if (h->n[b] == 0)
            continue;
        if (cap - len < 48) {
            char *grown = realloc(s, cap *= 2);
            if (grown == NULL) {
                free(s);
                return NULL;
            }
            s = grown;
        }
        len += (size_t)snprintf(s + len, cap - len, "%s%d:%lld", len ? " " : "", b,
                                (long long)h->n[b]);
    }
    return s;
}

int ct_hist_parse(struct ct_hist *h, const char *text)
{
    memset(h, 0, sizeof *h);
    const char *p = text != NULL ? text : "";
    while (*p != '\0') {
        char *end;
        long b = strtol(p, &end, 10);
        if (end == p || *end != ':' || b < 0 || b >= CT_HIST_BUCKETS)
            return -1;
        p = end + 1;
        long long n = strtoll(p, &end, 10);
        if (end == p || n < 0)
            return -1;
        h->n[b] += n;
        p = end;
        while (*p == ' ')
            p++;
    }
    return 0;
}

/* ---- folding -------------------------------------------------------------------------- */

void ct_site_summary_add(struct ct_site_summary *s, const struct ct_ctx_row *row,
                         int64_t fanout)
{
    s->contexts++;
    if (!ct_ctx_has(row, CT_CANCELED_NS)) {
        s->ended_never++;
    } else {
        switch (ct_ctx_get(row, CT_CANCEL_WHY, -1)) {
        case CTX_WHY_EXPLICIT:
            s->ended_explicit++;
            break;
        case CTX_WHY_PARENT:
            s->ended_parent++;
            break;
        case CTX_WHY_DEADLINE:
            s->ended_deadline++;
            break;
        default:
            s->ended_never++;
            break;
        }
    }
    int64_t created = ct_ctx_get(row, CT_CREATED_NS, 0), freed = ct_ctx_get(row, CT_FREED_NS, 0);
    if (created != 0 && freed >= created) {
        ct_hist_add(&s->life, freed - created);
        if (freed - created > s->life_max)
            s->life_max = freed - created;
    }
    int why = (int)ct_ctx_get(row, CT_CANCEL_WHY, -1);
    if (ct_ctx_has(row, CT_CANCELED_NS) && (why == CTX_WHY_EXPLICIT || why == CTX_WHY_DEADLINE)) {
        s->origins++;
        s->fanout_sum += fanout;
        if (fanout > s->fanout_max)
            s->fanout_max = fanout;
    }
    s->value_lookups += ct_ctx_get(row, CT_VALUE_LOOKUPS, 0);
    s->value_depth_sum += ct_ctx_get(row, CT_VALUE_DEPTH_SUM, 0);
    if (ct_ctx_get(row, CT_VALUE_DEPTH_MAX, 0) > s->value_depth_max)
        s->value_depth_max = ct_ctx_get(row, CT_VALUE_DEPTH_MAX, 0);
    int64_t parent = ct_ctx_get(row, CT_PARENT_ID, 0);
    if (parent == 1 || parent == 2)
        s->root_derivations++;
}
