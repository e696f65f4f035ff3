/*
 * export_chrome.c — a trace as Chrome Trace Event JSON (the format of chrome://tracing,
 * opened by Perfetto UI and speedscope too): an object with "traceEvents".
 *
 *   - one process (the traced program), one track per thread that created contexts;
 *   - each context a complete slice ("ph": "X") on its creating thread's track, from its
 *     creation to its free (or the end of the trace), named by its kind and site, with
 *     its facts in args (id, parent, kind, state by the core's verdict, site, times);
 *   - each cancellation that reached a context from its parent a flow arrow
 *     ("ph": "s" -> "f") from the parent's slice, when the cancellation started, to the
 *     child's, when it arrived, each end marked by a zero-length "cancel" slice (category
 *     "cancellation");
 *   - each finding an instant event ("ph": "i") at its first example's creation.
 *
 * Slices on one track must nest (viewers drop or misdraw slices that overlap without
 * nesting), and contexts' lifetimes need not: a context created before another may be
 * freed first. Each thread's contexts are therefore laid out greedily on lanes, each
 * lane a properly nested set: lane 0 is "thread N", the others "thread N (k)". A thread
 * that nests its contexts as calls do (the usual request/call shape) has one lane.
 *
 * Times are microseconds (the format's unit) from the trace's start, exact to the ns.
 *
 * Memory follows what is live at once, not the trace's size: the contexts come from the
 * reader's creation-order walk (ct_reader_walk), and a context's track is remembered
 * only until the walk passes its free (its children are all created before it is
 * freed: each holds a reference on it) — or to the end when it was never freed. The
 * findings are computed first, so the tracks of their examples are kept on the way.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <ctxtrace/tracer.h>

#include "export.h"
#include "json.h"

/* One lane of a thread's track: the ends of the open slices, innermost last. */
struct lane {
    int64_t *ends;
    size_t depth, cap;
    int tid;
};

struct thread_lanes {
    int64_t thread;
    struct lane *lanes;
    size_t n;
};

/* A context's free time, for forgetting its track once the walk is past it. */
struct freed_at {
    int64_t ns, id;
};

/* A binary min-heap of free times, earliest first. */
struct frees {
    struct freed_at *items;
    size_t n, cap;
};

struct chrome {
    struct json j;
    ct_reader *r;
    struct ct_meta meta;
    struct export_stacks stacks;
    struct u64map thread_of;   /* thread number + 1 -> 1 + index in threads */
    struct thread_lanes *threads;
    size_t nthreads, cap;
    struct u64map tid_of;      /* context id -> its track's tid, while it can be asked */
    struct frees forget;       /* when to drop the tid_of entries of freed contexts */
    struct ct_findings fs;
    struct u64map example_tid; /* each finding's first example -> its tid (0: not placed) */
    int next_tid;
    bool oom;
    int64_t bad_stack;         /* a stack that could not be read: the export fails */
};

static void event_head(struct chrome *c, const char *ph, const char *name, const char *cat,
                       int tid)
{
    json_object_inline(&c->j);
    json_key(&c->j, "ph");
    json_string(&c->j, ph);
    json_key(&c->j, "name");
    json_string(&c->j, name);
    if (cat != NULL) {
        json_key(&c->j, "cat");
        json_string(&c->j, cat);
    }
    json_key(&c->j, "pid");
    json_int(&c->j, c->meta.pid);
    json_key(&c->j, "tid");
    json_int(&c->j, tid);
}

static void ts(struct chrome *c, const char *key, int64_t ns)
{
    json_key(&c->j, key);
    json_fixed3(&c->j, ns - c->meta.start_ns); /* ns are thousandths of a microsecond */
}

static void thread_name(struct chrome *c, int tid, int64_t thread, size_t lane)
{
    char name[64];
    if (lane == 0)
        snprintf(name, sizeof name, "thread %lld", (long long)thread);
    else
        snprintf(name, sizeof name, "thread %lld (%zu)", (long long)thread, lane + 1);
    event_head(c, "M", "thread_name", NULL, tid);
    json_key(&c->j, "args");
    json_object_inline(&c->j);
    json_key(&c->j, "name");
    json_string(&c->j, name);
    json_end_object(&c->j);
    json_end_object(&c->j);
    /* Lanes of a thread side by side, threads in their order. */
    event_head(c, "M", "thread_sort_index", NULL, tid);
    json_key(&c->j, "args");
    json_object_inline(&c->j);
    json_key(&c->j, "sort_index");
    json_int(&c->j, thread * 1000 + (int64_t)lane);
    json_end_object(&c->j);
    json_end_object(&c->j);
}

static struct thread_lanes *thread_of(struct chrome *c, int64_t thread)
{
    uint64_t i;
    uint64_t key = (uint64_t)thread + 1; /* u64map keys are nonzero; thread 0 exists */
    if (u64map_get(&c->thread_of, key, &i))
        return &c->threads[i - 1];
    if (c->nthreads == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct thread_lanes *grown = realloc(c->threads, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        c->threads = grown;
        c->cap = cap;
    }
    if (!u64map_put(&c->thread_of, key, c->nthreads + 1))
        return NULL;
    c->threads[c->nthreads] = (struct thread_lanes){.thread = thread};
    return &c->threads[c->nthreads++];
}

static bool push(struct lane *l, int64_t end)
{
    if (l->depth == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        int64_t *grown = realloc(l->ends, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        l->ends = grown;
        l->cap = cap;
    }
    l->ends[l->depth++] = end;
    return true;
}

/* The tid of the lane [start, end] goes on, opening a lane when none takes it; -1 when
 * out of memory. Slices arrive by start time, so a lane's slices that ended by `start`
 * are closed for good. */
static int place(struct chrome *c, int64_t thread, int64_t start, int64_t end)
{
    struct thread_lanes *t = thread_of(c, thread);
    if (t == NULL)
        return -1;
    for (size_t k = 0; k < t->n; k++) {
        struct lane *l = &t->lanes[k];
        while (l->depth > 0 && l->ends[l->depth - 1] <= start)
            l->depth--;
        if (l->depth == 0 || end <= l->ends[l->depth - 1])
            return push(l, end) ? l->tid : -1;
    }
    struct lane *grown = realloc(t->lanes, (t->n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    t->lanes = grown;
    struct lane *l = &t->lanes[t->n];
    *l = (struct lane){.tid = ++c->next_tid};
    thread_name(c, l->tid, thread, t->n++);
    return push(l, end) ? l->tid : -1;
}

/* One end of a cancellation arrow: a zero-length "cancel" slice on the track, and the
 * flow event at the same time, track and category. Viewers bind a flow event to a slice
 * in one of two ways — the slice enclosing it (catapult, Perfetto) or the slice with
 * the same time, track and category (Chrome DevTools) — and the marker is both. A
 * zero-length slice nests inside whatever is open on the track at that moment. */
static void arrow_end(struct chrome *c, const char *ph, int64_t id, int tid, int64_t at)
{
    event_head(c, "X", "cancel", "cancellation", tid);
    ts(c, "ts", at);
    json_key(&c->j, "dur");
    json_int(&c->j, 0);
    json_key(&c->j, "args");
    json_object_inline(&c->j);
    json_key(&c->j, "context");
    json_int(&c->j, id);
    json_end_object(&c->j);
    json_end_object(&c->j);
    event_head(c, ph, "cancel", "cancellation", tid);
    if (strcmp(ph, "f") == 0) {
        json_key(&c->j, "bp");
        json_string(&c->j, "e");
    }
    json_key(&c->j, "id");
    json_int(&c->j, id);
    ts(c, "ts", at);
    json_end_object(&c->j);
}

/* The arrow of a cancellation that left the parent (on track `ptid`) at `began` and
 * reached context `id` (on `tid`) at `arrived`. */
static void cancel_arrow(struct chrome *c, int64_t id, int ptid, int64_t began, int tid,
                         int64_t arrived)
{
    arrow_end(c, "s", id, ptid, began);
    arrow_end(c, "f", id, tid, arrived);
}

static const char *leak_name(enum ct_leak leak)
{
    switch (leak) {
    case CT_LEAK_LOST_CANCEL:
        return "lost-cancel";
    case CT_LEAK_ORPHANED_TIMER:
        return "orphaned-timer";
    case CT_LEAK_LOST_AT_EXIT:
        return "lost-cancel at exit";
    default:
        return NULL;
    }
}

static void arg_int(struct chrome *c, const struct ct_ctx_row *row, enum ct_ctx_col col)
{
    if (!ct_ctx_has(row, col))
        return;
    json_key(&c->j, ct_ctx_cols[col].name);
    json_int(&c->j, row->v[col]);
}

static bool frees_push(struct frees *h, struct freed_at it)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 256;
        struct freed_at *grown = realloc(h->items, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        h->items = grown;
        h->cap = cap;
    }
    size_t i = h->n++;
    for (; i > 0 && it.ns < h->items[(i - 1) / 2].ns; i = (i - 1) / 2)
        h->items[i] = h->items[(i - 1) / 2];
    h->items[i] = it;
    return true;
}

static struct freed_at frees_pop(struct frees *h)
{
    assert(h->n > 0);
    struct freed_at top = h->items[0], last = h->items[--h->n];
    size_t i = 0;
    for (size_t k; (k = 2 * i + 1) < h->n; i = k) {
        if (k + 1 < h->n && h->items[k + 1].ns < h->items[k].ns)
            k++;
        if (last.ns <= h->items[k].ns)
            break;
        h->items[i] = h->items[k];
    }
    if (h->n > 0)
        h->items[i] = last;
    return top;
}

/* Remember the tid of a context placed on it, for its children's arrows (until the
 * walk passes its free) and for the finding it is the first example of. */
static bool remember(struct chrome *c, const struct ct_ctx_row *row, int tid)
{
    uint64_t had;
    if (u64map_get(&c->example_tid, (uint64_t)row->id, &had) &&
        !u64map_put(&c->example_tid, (uint64_t)row->id, (uint64_t)tid))
        return false;
    if (!u64map_put(&c->tid_of, (uint64_t)row->id, (uint64_t)tid))
        return false;
    /* Never freed: live to the end, children may come until then. */
    return !ct_ctx_has(row, CT_FREED_NS) ||
           frees_push(&c->forget, (struct freed_at){row->v[CT_FREED_NS], row->id});
}

/* Forget the contexts freed before `now`: every row still to come is created at `now`
 * or later, and a context's children are created before it is freed. */
static void forget_before(struct chrome *c, int64_t now)
{
    while (c->forget.n > 0 && c->forget.items[0].ns < now)
        u64map_del(&c->tid_of, (uint64_t)frees_pop(&c->forget).id);
}

static bool slice(void *arg, const struct ct_ctx_row *row)
{
    struct chrome *c = arg;
    int64_t start = ct_ctx_get(row, CT_CREATED_NS, c->meta.start_ns);
    int64_t end = ct_ctx_get(row, CT_FREED_NS, c->meta.end_ns);
    if (end < start)
        end = start;
    forget_before(c, ct_ctx_get(row, CT_CREATED_NS, 0));
    int64_t thread = ct_ctx_get(row, CT_CREATE_THREAD, 0);
    int tid = place(c, thread, start, end);
    if (tid < 0 || !remember(c, row, tid)) {
        c->oom = true;
        return false;
    }
    int64_t stack = ct_ctx_get(row, CT_CREATE_STACK, 0);
    const struct ct_stack *st = export_stack(&c->stacks, c->r, stack);
    if (stack != 0 && st == NULL) {
        c->bad_stack = stack; /* a slice without its site would be a quiet lie */
        return false;
    }
    const struct ct_frame *site = st != NULL && st->depth > 0 ? &st->frames[0] : NULL;
    const char *kind = ct_kind_name((int)ct_ctx_get(row, CT_KIND, -1));
    char name[256], where[512];
    snprintf(name, sizeof name, "%s (%s)", site && site->function ? site->function : "?", kind);
    struct ct_verdict v = ct_reader_verdict(c->r, row);

    event_head(c, "X", name, kind, tid);
    ts(c, "ts", start);
    json_key(&c->j, "dur");
    json_fixed3(&c->j, end - start);
    json_key(&c->j, "args");
    json_object_inline(&c->j);
    json_key(&c->j, "id");
    json_int(&c->j, row->id);
    arg_int(c, row, CT_PARENT_ID);
    json_key(&c->j, "kind");
    json_string(&c->j, kind);
    json_key(&c->j, "state");
    json_string(&c->j, ct_state_name(v.state));
    if (leak_name(v.leak) != NULL) {
        json_key(&c->j, "leak");
        json_string(&c->j, leak_name(v.leak));
    }
    if (site != NULL) {
        export_frame_text(where, sizeof where, site);
        json_key(&c->j, "site");
        json_string(&c->j, where);
    }
    arg_int(c, row, CT_CREATED_NS);
    arg_int(c, row, CT_DEADLINE_NS);
    arg_int(c, row, CT_CANCELED_NS);
    if (ct_ctx_has(row, CT_CANCEL_WHY)) {
        json_key(&c->j, "cancel_why");
        json_string(&c->j, ct_why_name((int)row->v[CT_CANCEL_WHY]));
    }
    if (row->reason != NULL) {
        json_key(&c->j, "cancel_reason");
        json_string(&c->j, row->reason);
    }
    arg_int(c, row, CT_RELEASED_NS);
    arg_int(c, row, CT_FREED_NS);
    json_end_object(&c->j);
    json_end_object(&c->j);

    /* The cancellation that came down from the parent: an arrow from the parent's slice,
     * when the cancellation started up the tree (cancel_origin_ns; not before this context
     * existed), to this one, when it arrived — its length is the propagation's. */
    uint64_t ptid;
    if (ct_ctx_get(row, CT_CANCEL_WHY, -1) == CTX_WHY_PARENT && ct_ctx_has(row, CT_CANCELED_NS) &&
        u64map_get(&c->tid_of, (uint64_t)ct_ctx_get(row, CT_PARENT_ID, 0), &ptid)) {
        int64_t arrived = row->v[CT_CANCELED_NS];
        int64_t began = ct_ctx_get(row, CT_CANCEL_ORIGIN_NS, arrived);
        began = began < start ? start : began > arrived ? arrived : began;
        cancel_arrow(c, row->id, (int)ptid, began, tid, arrived);
    }
    return true;
}

/* The findings, before the walk: their first examples' tracks are kept on the way. */
static int analyze(struct chrome *c, char *err, size_t errlen)
{
    struct ct_analysis_opts opts = ct_analysis_defaults();
    if (ct_analyze(c->r, &opts, &c->fs, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < c->fs.len; i++)
        if (c->fs.items[i].nexamples > 0 &&
            !u64map_put(&c->example_tid, (uint64_t)c->fs.items[i].examples[0], 0)) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    return 0;
}

/* Each finding: an instant event at its first example's creation, on its track. */
static void findings(struct chrome *c)
{
    for (size_t i = 0; i < c->fs.len; i++) {
        const struct ct_finding *f = &c->fs.items[i];
        char name[300], where[512];
        snprintf(name, sizeof name, "%s at %s", ct_rule_name(f->rule),
                 f->site.function ? f->site.function : "?");
        int64_t at = c->meta.end_ns;
        uint64_t tid = 0;
        struct ct_ctx_row row;
        if (f->nexamples > 0 && ct_reader_context(c->r, f->examples[0], &row) == 1) {
            at = ct_ctx_get(&row, CT_CREATED_NS, at);
            u64map_get(&c->example_tid, (uint64_t)row.id, &tid);
            ct_ctx_row_clear(&row);
        }
        event_head(c, "i", name, "finding", (int)tid);
        json_key(&c->j, "s");
        json_string(&c->j, tid != 0 ? "t" : "p"); /* on its thread, else the process */
        ts(c, "ts", at);
        json_key(&c->j, "args");
        json_object_inline(&c->j);
        json_key(&c->j, "rule");
        json_string(&c->j, ct_rule_name(f->rule));
        json_key(&c->j, "count");
        json_int(&c->j, f->count);
        export_frame_text(where, sizeof where, &f->site);
        json_key(&c->j, "site");
        json_string(&c->j, where);
        json_key(&c->j, "summary");
        json_string(&c->j, ct_rule_summary(f->rule));
        json_key(&c->j, "examples");
        json_array_inline(&c->j);
        for (int k = 0; k < f->nexamples; k++)
            json_int(&c->j, f->examples[k]);
        json_end_array(&c->j);
        json_end_object(&c->j);
        json_end_object(&c->j);
    }
}

int export_chrome(FILE *out, ct_reader *r, char *err, size_t errlen)
{
    struct chrome c = {.r = r};
    if (ct_reader_meta(r, &c.meta) != 0) {
        snprintf(err, errlen, "%s: %s", ct_reader_path(r), ct_reader_error(r));
        return -1;
    }
    if (analyze(&c, err, errlen) != 0) {
        ct_findings_free(&c.fs);
        u64map_free(&c.example_tid);
        ct_meta_free(&c.meta);
        return -1;
    }
    json_init(&c.j, out);
    json_object(&c.j);
    json_key(&c.j, "traceEvents");
    json_array(&c.j);
    event_head(&c, "M", "process_name", NULL, 0);
    json_key(&c.j, "args");
    json_object_inline(&c.j);
    json_key(&c.j, "name");
    json_string(&c.j, c.meta.program ? c.meta.program : "traced program");
    json_end_object(&c.j);
    json_end_object(&c.j);
    int rc = 0;
    if (ct_reader_walk(r, slice, &c) < 0) {
        snprintf(err, errlen, "%s: %s", ct_reader_path(r), ct_reader_error(r));
        rc = -1;
    } else if (c.oom) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else if (c.bad_stack != 0) {
        snprintf(err, errlen, "%s: cannot read stack %lld: %s", ct_reader_path(r),
                 (long long)c.bad_stack, ct_reader_error(r));
        rc = -1;
    }
    if (rc == 0)
        findings(&c);
    json_end_array(&c.j);
    json_key(&c.j, "displayTimeUnit");
    json_string(&c.j, "ns");
    json_key(&c.j, "otherData");
    json_object_inline(&c.j);
    json_key(&c.j, "generator");
    json_string(&c.j, "ctxtrace export");
    json_key(&c.j, "trace");
    json_string(&c.j, ct_reader_path(r));
    json_key(&c.j, "contexts");
    json_int(&c.j, c.meta.contexts);
    json_end_object(&c.j);
    json_end_object(&c.j);
    json_finish(&c.j);

    for (size_t i = 0; i < c.nthreads; i++) {
        for (size_t k = 0; k < c.threads[i].n; k++)
            free(c.threads[i].lanes[k].ends);
        free(c.threads[i].lanes);
    }
    free(c.threads);
    u64map_free(&c.thread_of);
    u64map_free(&c.tid_of);
    free(c.forget.items);
    u64map_free(&c.example_tid);
    ct_findings_free(&c.fs);
    export_stacks_free(&c.stacks);
    ct_meta_free(&c.meta);
    return rc;
}
