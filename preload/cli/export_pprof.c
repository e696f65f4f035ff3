/*
 * export_pprof.c — a trace as a pprof profile (profile.proto, gzipped): what
 * `go tool pprof` and the other pprof viewers read.
 *
 * Sample types (all "count"):
 *   contexts_created   contexts created at each creation stack (the default; in a
 *                      summary trace the contexts folded per site count too)
 *   live_at_end        of those, the ones not yet freed when the trace ended
 *   named_by_findings  contexts (or blocked waits) each finding counts, at its stack
 * One sample per creation stack carries the first two; one per finding the third, with
 * the finding's stack (pprof adds samples of the same stack up). Locations are the
 * stacks' frames with the runtime's and the shim's removed, innermost first: one per
 * physical frame, whose Lines are the calls inlined there then the frame itself (as
 * profile.proto has it: the last Line is the caller the others were inlined into). The
 * trace holds no addresses, so a Location is known by its Lines and has no Mapping.
 *
 * Encoding: profile.proto's field numbers (github.com/google/pprof, proto/profile.proto),
 * written with pb.c, compressed with zlib's gzip.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "export.h"
#include "pb.h"

/* profile.proto field numbers. */
enum {
    PROFILE_SAMPLE_TYPE = 1,
    PROFILE_SAMPLE = 2,
    PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5,
    PROFILE_STRING_TABLE = 6,
    PROFILE_DURATION_NANOS = 10,
    PROFILE_COMMENT = 13,
    PROFILE_DEFAULT_SAMPLE_TYPE = 14,
    VALUE_TYPE_TYPE = 1,
    VALUE_TYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1,
    SAMPLE_VALUE = 2,
    LOCATION_ID = 1,
    LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1,
    LINE_LINE = 2,
    FUNCTION_ID = 1,
    FUNCTION_NAME = 2,
    FUNCTION_SYSTEM_NAME = 3,
    FUNCTION_FILENAME = 4,
};

static const char *const sample_types[] = {"contexts_created", "live_at_end",
                                           "named_by_findings"};
enum { NVALUES = sizeof sample_types / sizeof *sample_types };

struct site {
    int64_t stack;
    int64_t v[NVALUES];
};

/* Texts interned by a hash (collisions probe on): the string table, and the locations
 * by the text of their Lines. */
struct strtab {
    char **items;
    size_t len, cap;
    struct u64map index;
};

struct pprof {
    ct_reader *r;
    struct export_stacks stacks;
    struct strtab strings;   /* the string table: index = position */
    struct strtab locs;      /* a location's Lines as text: id = position + 1 */
    /* functions by (name, file): ids from 1 */
    struct u64map function_of;
    struct pb functions, locations; /* encoded Function / Location fields, appended */
    uint64_t nfunctions;
    /* samples of the creation stacks */
    struct u64map site_of; /* stack id -> 1 + index in sites */
    struct site *sites;
    size_t nsites, sitecap;
    struct pb samples; /* encoded Sample fields, appended */
    bool oom;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h | 1; /* u64map keys are nonzero */
}

/* The position of s in t, added if new (*added tells); 0 and *oom on failure. */
static uint64_t strtab_add(struct strtab *t, const char *s, bool *added, bool *oom)
{
    uint64_t h = fnv1a(s), i;
    *added = false;
    while (u64map_get(&t->index, h, &i)) {
        if (strcmp(t->items[i], s) == 0)
            return i;
        h = (h * 0x9e3779b97f4a7c15ull) | 1; /* another text has this hash: probe on */
    }
    if (t->len == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        char **grown = realloc(t->items, cap * sizeof *grown);
        if (grown == NULL) {
            *oom = true;
            return 0;
        }
        t->items = grown;
        t->cap = cap;
    }
    char *copy = strdup(s);
    if (copy == NULL || !u64map_put(&t->index, h, t->len)) {
        free(copy);
        *oom = true;
        return 0;
    }
    t->items[t->len] = copy;
    *added = true;
    return t->len++;
}

static void strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->len; i++)
        free(t->items[i]);
    free(t->items);
    u64map_free(&t->index);
}

/* The index of s in the string table, added if new. */
static uint64_t intern(struct pprof *p, const char *s)
{
    bool added;
    return strtab_add(&p->strings, s, &added, &p->oom);
}

static uint64_t function_id(struct pprof *p, const struct ct_frame *f)
{
    char unknown[300];
    const char *name = f->function;
    if (name == NULL) {
        snprintf(unknown, sizeof unknown, "?? (%s)", f->module ? f->module : "?");
        name = unknown;
    }
    uint64_t n = intern(p, name), file = intern(p, f->file ? f->file : "");
    uint64_t key = ((n + 1) << 32) | file, id; /* + 1: never the key 0 */
    if (u64map_get(&p->function_of, key, &id))
        return id;
    id = ++p->nfunctions;
    if (!u64map_put(&p->function_of, key, id))
        p->oom = true;
    struct pb fn = {0};
    pb_uint(&fn, FUNCTION_ID, id);
    pb_uint(&fn, FUNCTION_NAME, n);
    pb_uint(&fn, FUNCTION_SYSTEM_NAME, n);
    pb_uint(&fn, FUNCTION_FILENAME, file);
    pb_message(&p->functions, PROFILE_FUNCTION, &fn);
    pb_free(&fn);
    return id;
}

/* The Location of the physical frame made of frames[0..n-1]: the calls inlined into it,
 * innermost first, then the frame itself (frames[n-1]). */
static uint64_t location_id(struct pprof *p, const struct ct_frame *frames, int n)
{
    enum { MAX_LINES = 64 };
    uint64_t fn[MAX_LINES], line[MAX_LINES];
    char key[MAX_LINES * 42] = "";
    size_t used = 0;
    assert(n >= 1 && n <= MAX_LINES);
    for (int k = 0; k < n; k++) {
        fn[k] = function_id(p, &frames[k]);
        line[k] = frames[k].line > 0 ? (uint64_t)frames[k].line : 0;
        used += (size_t)snprintf(key + used, sizeof key - used, "%llu:%llu,",
                                 (unsigned long long)fn[k], (unsigned long long)line[k]);
    }
    bool added;
    uint64_t id = strtab_add(&p->locs, key, &added, &p->oom) + 1;
    if (!added)
        return id;
    struct pb loc = {0};
    pb_uint(&loc, LOCATION_ID, id);
    for (int k = 0; k < n; k++) {
        struct pb ln = {0};
        pb_uint(&ln, LINE_FUNCTION_ID, fn[k]);
        pb_uint(&ln, LINE_LINE, line[k]);
        pb_message(&loc, LOCATION_LINE, &ln);
        pb_free(&ln);
    }
    pb_message(&p->locations, PROFILE_LOCATION, &loc);
    pb_free(&loc);
    return id;
}

static void sample(struct pprof *p, const struct ct_stack *st, const int64_t v[NVALUES])
{
    uint64_t *ids = malloc(((size_t)st->depth + 1) * sizeof *ids);
    if (ids == NULL) {
        p->oom = true;
        return;
    }
    /* A physical frame: the inlined frames before it, then it (a stack cut off inside an
     * inlined run ends with an inlined frame: it stands for itself). */
    size_t nids = 0;
    enum { MAX_RUN = 64 };
    for (int k = 0; k < st->depth;) {
        int end = k;
        while (end + 1 < st->depth && st->frames[end].inlined && end - k + 1 < MAX_RUN)
            end++;
        ids[nids++] = location_id(p, &st->frames[k], end - k + 1);
        k = end + 1;
    }
    uint64_t vals[NVALUES];
    for (int k = 0; k < NVALUES; k++)
        vals[k] = (uint64_t)v[k];
    struct pb s = {0};
    pb_packed(&s, SAMPLE_LOCATION_ID, ids, nids);
    pb_packed(&s, SAMPLE_VALUE, vals, NVALUES);
    pb_message(&p->samples, PROFILE_SAMPLE, &s);
    pb_free(&s);
    free(ids);
}

/* The sample of a creation stack (NULL and p->oom when out of memory). */
static struct site *site_for(struct pprof *p, int64_t stack)
{
    uint64_t i;
    if (!u64map_get(&p->site_of, (uint64_t)stack, &i)) {
        if (p->nsites == p->sitecap) {
            size_t cap = p->sitecap ? 2 * p->sitecap : 256;
            struct site *grown = realloc(p->sites, cap * sizeof *grown);
            if (grown == NULL) {
                p->oom = true;
                return NULL;
            }
            p->sites = grown;
            p->sitecap = cap;
        }
        p->sites[p->nsites] = (struct site){.stack = stack};
        i = ++p->nsites;
        if (!u64map_put(&p->site_of, (uint64_t)stack, i)) {
            p->oom = true;
            return NULL;
        }
    }
    return &p->sites[i - 1];
}

/* Count each context at its creation stack; false (and p->oom) when out of memory. */
static bool count(void *arg, const struct ct_ctx_row *row)
{
    struct pprof *p = arg;
    int64_t stack = ct_ctx_get(row, CT_CREATE_STACK, 0);
    if (stack == 0)
        return true; /* no stack recorded: nowhere to put it */
    struct site *s = site_for(p, stack);
    if (s == NULL)
        return false;
    s->v[0]++;
    if (!ct_ctx_has(row, CT_FREED_NS))
        s->v[1]++;
    return true;
}

/* A summary trace's folded contexts (ended cleanly: created, none live at the end) count
 * at their creation stacks too, so contexts_created is every context either way. */
static int count_summarized(struct pprof *p)
{
    struct ct_site_summary *sums;
    long n = ct_reader_site_summaries(p->r, &sums);
    if (n < 0)
        return -1;
    for (long k = 0; k < n && !p->oom; k++) {
        struct site *s = sums[k].create_stack != 0 ? site_for(p, sums[k].create_stack) : NULL;
        if (s != NULL)
            s->v[0] += sums[k].contexts;
    }
    free(sums);
    return 0;
}

static int build(struct pprof *p, struct pb *out, char *err, size_t errlen)
{
    intern(p, ""); /* string 0 is "" by the format's rule */
    /* Counts need no order: one sequential read of the two columns they use. */
    if ((ct_reader_scan(p->r, 1u << CT_CREATE_STACK | 1u << CT_FREED_NS, count, p) < 0 ||
         count_summarized(p) != 0) &&
        !p->oom) {
        snprintf(err, errlen, "%s: %s", ct_reader_path(p->r), ct_reader_error(p->r));
        return -1;
    }
    if (p->oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < p->nsites; i++) {
        const struct ct_stack *st = export_stack(&p->stacks, p->r, p->sites[i].stack);
        if (st == NULL) { /* dropping its contexts would make the totals lie */
            snprintf(err, errlen, "%s: cannot read stack %lld: %s", ct_reader_path(p->r),
                     (long long)p->sites[i].stack, ct_reader_error(p->r));
            return -1;
        }
        sample(p, st, p->sites[i].v);
    }
    struct ct_findings fs;
    struct ct_analysis_opts opts = ct_analysis_defaults();
    if (ct_analyze(p->r, &opts, &fs, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < fs.len; i++)
        sample(p, &fs.items[i].stack, (int64_t[NVALUES]){0, 0, fs.items[i].count});
    ct_findings_free(&fs);

    for (int k = 0; k < NVALUES; k++) {
        struct pb vt = {0};
        pb_uint(&vt, VALUE_TYPE_TYPE, intern(p, sample_types[k]));
        pb_uint(&vt, VALUE_TYPE_UNIT, intern(p, "count"));
        pb_message(out, PROFILE_SAMPLE_TYPE, &vt);
        pb_free(&vt);
    }
    pb_uint(out, PROFILE_DEFAULT_SAMPLE_TYPE, intern(p, sample_types[0]));
    struct ct_meta meta;
    if (ct_reader_meta(p->r, &meta) == 0) {
        char comment[4200];
        snprintf(comment, sizeof comment, "ctxtrace export of %s (%s, pid %lld)",
                 ct_reader_path(p->r), meta.program ? meta.program : "?",
                 (long long)meta.pid);
        pb_uint(out, PROFILE_COMMENT, intern(p, comment));
        pb_uint(out, PROFILE_DURATION_NANOS, (uint64_t)(meta.end_ns - meta.start_ns));
        ct_meta_free(&meta);
    }
    pb_append(out, &p->samples);
    pb_append(out, &p->locations);
    pb_append(out, &p->functions);
    for (size_t i = 0; i < p->strings.len; i++)
        pb_string(out, PROFILE_STRING_TABLE, p->strings.items[i]);
    if (p->oom || out->oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int export_pprof(int fd, ct_reader *r, char *err, size_t errlen)
{
    struct pprof p = {.r = r};
    struct pb out = {0};
    err[0] = '\0';
    int rc = build(&p, &out, err, errlen);
    if (rc == 0) {
        gzFile gz = gzdopen(fd, "wb");
        fd = -1; /* gzclose closes it */
        if (gz == NULL || gzwrite(gz, out.data, (unsigned)out.len) != (int)out.len ||
            gzclose(gz) != Z_OK) {
            snprintf(err, errlen, "writing the gzipped profile failed");
            rc = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    pb_free(&out);
    pb_free(&p.samples);
    pb_free(&p.locations);
    pb_free(&p.functions);
    strtab_free(&p.strings);
    strtab_free(&p.locs);
    free(p.sites);
    u64map_free(&p.function_of);
    u64map_free(&p.site_of);
    export_stacks_free(&p.stacks);
    return rc;
}
