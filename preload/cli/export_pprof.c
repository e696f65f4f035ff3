/*
 * export_pprof.c — a trace as a pprof profile (profile.proto, gzipped): what
 * `go tool pprof` and the other pprof viewers read.
 *
 * Sample types (all "count"):
 *   contexts_created   contexts created at each creation stack (the default)
 *   live_at_end        of those, the ones not yet freed when the trace ended
 *   named_by_findings  contexts (or blocked waits) each finding counts, at its stack
 * One sample per creation stack carries the first two; one per finding the third, with
 * the finding's stack (pprof adds samples of the same stack up). Locations are the
 * stacks' frames with the runtime's and the shim's removed, one Location per distinct
 * function/file/line, innermost first; the trace holds no addresses, so a Location has
 * a Line and no Mapping.
 *
 * Encoding: profile.proto's field numbers (github.com/google/pprof, proto/profile.proto),
 * written with pb.c, compressed with zlib's gzip.
 */
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

struct pprof {
    ct_reader *r;
    struct export_stacks stacks;
    /* the string table: interned by a hash of the text (collisions probe on) */
    char **strings;
    size_t nstrings, scap;
    struct u64map string_of;
    /* functions by (name, file) and locations by (function, line): ids from 1 */
    struct u64map function_of, location_of;
    struct pb functions, locations; /* encoded Function / Location fields, appended */
    uint64_t nfunctions, nlocations;
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

/* The index of s in the string table, added if new. */
static uint64_t intern(struct pprof *p, const char *s)
{
    uint64_t h = fnv1a(s), i;
    while (u64map_get(&p->string_of, h, &i)) {
        if (strcmp(p->strings[i], s) == 0)
            return i;
        h = (h * 0x9e3779b97f4a7c15ull) | 1; /* another string has this hash: probe on */
    }
    if (p->nstrings == p->scap) {
        size_t cap = p->scap ? 2 * p->scap : 256;
        char **grown = realloc(p->strings, cap * sizeof *grown);
        if (grown == NULL) {
            p->oom = true;
            return 0;
        }
        p->strings = grown;
        p->scap = cap;
    }
    char *copy = strdup(s);
    if (copy == NULL || !u64map_put(&p->string_of, h, p->nstrings)) {
        free(copy);
        p->oom = true;
        return 0;
    }
    p->strings[p->nstrings] = copy;
    return p->nstrings++;
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

static uint64_t location_id(struct pprof *p, const struct ct_frame *f)
{
    uint64_t fn = function_id(p, f), line = f->line > 0 ? (uint64_t)f->line : 0;
    uint64_t key = (fn << 32) | line, id;
    if (u64map_get(&p->location_of, key, &id))
        return id;
    id = ++p->nlocations;
    if (!u64map_put(&p->location_of, key, id))
        p->oom = true;
    struct pb ln = {0}, loc = {0};
    pb_uint(&ln, LINE_FUNCTION_ID, fn);
    pb_uint(&ln, LINE_LINE, line);
    pb_uint(&loc, LOCATION_ID, id);
    pb_message(&loc, LOCATION_LINE, &ln);
    pb_message(&p->locations, PROFILE_LOCATION, &loc);
    pb_free(&ln);
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
    for (int k = 0; k < st->depth; k++)
        ids[k] = location_id(p, &st->frames[k]);
    uint64_t vals[NVALUES];
    for (int k = 0; k < NVALUES; k++)
        vals[k] = (uint64_t)v[k];
    struct pb s = {0};
    pb_packed(&s, SAMPLE_LOCATION_ID, ids, (size_t)st->depth);
    pb_packed(&s, SAMPLE_VALUE, vals, NVALUES);
    pb_message(&p->samples, PROFILE_SAMPLE, &s);
    pb_free(&s);
    free(ids);
}

/* Count each context at its creation stack. */
static int count(void *arg, const struct ct_ctx_row *row)
{
    struct pprof *p = arg;
    int64_t stack = ct_ctx_get(row, CT_CREATE_STACK, 0);
    uint64_t i;
    if (stack == 0)
        return 0; /* no stack recorded: nowhere to put it */
    if (!u64map_get(&p->site_of, (uint64_t)stack, &i)) {
        if (p->nsites == p->sitecap) {
            size_t cap = p->sitecap ? 2 * p->sitecap : 256;
            struct site *grown = realloc(p->sites, cap * sizeof *grown);
            if (grown == NULL)
                return -1;
            p->sites = grown;
            p->sitecap = cap;
        }
        p->sites[p->nsites] = (struct site){.stack = stack};
        i = ++p->nsites;
        if (!u64map_put(&p->site_of, (uint64_t)stack, i))
            return -1;
    }
    struct site *s = &p->sites[i - 1];
    s->v[0]++;
    if (!ct_ctx_has(row, CT_FREED_NS))
        s->v[1]++;
    return 0;
}

static int build(struct pprof *p, struct pb *out, char *err, size_t errlen)
{
    intern(p, ""); /* string 0 is "" by the format's rule */
    if (export_each_context(p->r, count, p, err, errlen) != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < p->nsites; i++) {
        const struct ct_stack *st = export_stack(&p->stacks, p->r, p->sites[i].stack);
        if (st != NULL)
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
    for (size_t i = 0; i < p->nstrings; i++)
        pb_string(out, PROFILE_STRING_TABLE, p->strings[i]);
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
    for (size_t i = 0; i < p.nstrings; i++)
        free(p.strings[i]);
    free(p.strings);
    free(p.sites);
    u64map_free(&p.string_of);
    u64map_free(&p.function_of);
    u64map_free(&p.location_of);
    u64map_free(&p.site_of);
    export_stacks_free(&p.stacks);
    return rc;
}
