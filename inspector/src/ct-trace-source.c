/*
 * ct-trace-source.c — a trace file as a CtSource (see ct-trace-source.h), through the
 * trace core's reader (ctxtrace/core/reader.h): every query — children in creation
 * order, filters by kind, state (the core's one verdict), site or problem — is the
 * core's, so what a filter selects is exactly what ct_trace_model_matches accepts.
 */
#include "ct-trace-source.h"

#include "ct-format.h"

#include <ctxtrace/core/reader.h>
#include <ctxtrace/tracer.h>
#include <string.h>

struct _CtTraceSource {
    GObject parent_instance;
    char *path;
    ct_reader *reader;
    GHashTable *sites;    /* stack id -> interned site string (or NULL: none) */
    GHashTable *flagged;  /* borrowed from the model: ids named by findings */
};

static void ct_trace_source_iface_init(CtSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(CtTraceSource, ct_trace_source, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(CT_TYPE_SOURCE, ct_trace_source_iface_init))

static void ct_trace_source_finalize(GObject *object)
{
    CtTraceSource *self = CT_TRACE_SOURCE(object);
    ct_reader_close(self->reader);
    g_hash_table_unref(self->sites);
    g_clear_pointer(&self->flagged, g_hash_table_unref);
    g_free(self->path);
    G_OBJECT_CLASS(ct_trace_source_parent_class)->finalize(object);
}

static void ct_trace_source_class_init(CtTraceSourceClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = ct_trace_source_finalize;
}

static void ct_trace_source_init(CtTraceSource *self)
{
    self->sites = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
}

CtTraceSource *ct_trace_source_open(const char *path, GError **error)
{
    char err[512];
    ct_reader *reader = ct_reader_open(path, err, sizeof err);
    if (reader == NULL) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err);
        return NULL;
    }
    CtTraceSource *self = g_object_new(CT_TYPE_TRACE_SOURCE, NULL);
    self->path = g_strdup(path);
    self->reader = reader;
    return self;
}

const char *ct_trace_source_get_path(CtTraceSource *self)
{
    return self->path;
}

gboolean ct_trace_source_has_indexes(CtTraceSource *self)
{
    return ct_reader_has_indexes(self->reader);
}

/* ---- sites ------------------------------------------------------------------------- */

static const char *site_for_stack(CtSource *source, gint64 stack_id)
{
    CtTraceSource *self = CT_TRACE_SOURCE(source);
    gpointer cached;
    if (g_hash_table_lookup_extended(self->sites, &stack_id, NULL, &cached))
        return cached;
    struct ct_stack stack;
    const char *site = NULL;
    if (ct_reader_stack(self->reader, stack_id, &stack) == 0 && stack.depth > 0) {
        const struct ct_frame *f = &stack.frames[0];
        site = ct_format_site(f->function, f->file, f->line, f->module);
    }
    ct_stack_free(&stack);
    g_hash_table_insert(self->sites, g_memdup2(&stack_id, sizeof stack_id), (gpointer)site);
    return site;
}

static gboolean load_stack(CtSource *source, gint64 stack_id, struct ct_stack *out)
{
    return ct_reader_stack(CT_TRACE_SOURCE(source)->reader, stack_id, out) == 0;
}

/* ---- list queries ---------------------------------------------------------------------- */

/* The reader's query for q; stacks and flagged ids are allocated into the arrays. */
static void to_query(CtTraceSource *self, const CtQuery *q, struct ct_query *out, GArray *stacks,
                     GArray *flagged)
{
    *out = (struct ct_query){.flat = ct_query_is_filter(q), .parent = q->parent_id,
                             .kind = q->kind, .state = q->state};
    if (!out->flat)
        return;
    if (q->only_problems) {
        out->problems = TRUE;
        if (self->flagged != NULL) {
            GHashTableIter it;
            gpointer key;
            g_hash_table_iter_init(&it, self->flagged);
            while (g_hash_table_iter_next(&it, &key, NULL))
                g_array_append_val(flagged, *(gint64 *)key);
        }
        out->flagged = (const int64_t *)flagged->data;
        out->nflagged = flagged->len;
    }
    if (q->search != NULL && q->search[0] != '\0') {
        const char *s = q->search[0] == '#' ? q->search + 1 : q->search;
        char *end;
        gint64 id = g_ascii_strtoll(s, &end, 10);
        if (*s != '\0' && *end == '\0') {
            out->id = id > 0 ? id : -1; /* -1: an id no context has */
        } else {
            /* Stacks are few (each distinct one once): match their sites here. */
            g_autofree char *needle = g_utf8_casefold(q->search, -1);
            int64_t *ids = NULL;
            long n = ct_reader_stack_ids(self->reader, &ids);
            for (long i = 0; i < n; i++) {
                const char *site = site_for_stack(CT_SOURCE(self), ids[i]);
                if (site == NULL)
                    continue;
                g_autofree char *hay = g_utf8_casefold(site, -1);
                if (strstr(hay, needle) != NULL)
                    g_array_append_val(stacks, ids[i]);
            }
            free(ids);
            out->stacks = (const int64_t *)stacks->data;
            out->nstacks = stacks->len;
        }
    }
}

static guint count(CtSource *source, const CtQuery *q)
{
    CtTraceSource *self = CT_TRACE_SOURCE(source);
    g_autoptr(GArray) stacks = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(GArray) flagged = g_array_new(FALSE, FALSE, sizeof(int64_t));
    struct ct_query rq;
    to_query(self, q, &rq, stacks, flagged);
    int64_t n = ct_reader_count(self->reader, &rq);
    return n > 0 ? (guint)MIN(n, (int64_t)G_MAXUINT) : 0;
}

static guint fetch(CtSource *source, const CtQuery *q, struct ct_cursor after, guint skip,
                   guint limit, GArray *rows, GArray *n_children)
{
    CtTraceSource *self = CT_TRACE_SOURCE(source);
    g_autoptr(GArray) stacks = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(GArray) flagged = g_array_new(FALSE, FALSE, sizeof(int64_t));
    struct ct_query rq;
    to_query(self, q, &rq, stacks, flagged);
    struct ct_ctx_row *page = g_new0(struct ct_ctx_row, MAX(limit, 1));
    long got = ct_reader_list(self->reader, &rq, after, skip, page, limit);
    for (long i = 0; i < got; i++) {
        /* The array's clear func frees with g_free, which is free(). */
        g_array_append_val(rows, page[i]);
        gint64 n = ct_reader_n_children(self->reader, page[i].id);
        g_array_append_val(n_children, n);
    }
    g_free(page);
    return got > 0 ? (guint)got : 0;
}

static GArray *ancestry(CtSource *source, gint64 id)
{
    CtTraceSource *self = CT_TRACE_SOURCE(source);
    GArray *chain = g_array_new(FALSE, FALSE, sizeof(gint64));
    int64_t *ids = NULL;
    long n = ct_reader_ancestry(self->reader, id, &ids);
    if (n > 0)
        g_array_append_vals(chain, ids, (guint)n);
    free(ids);
    return chain;
}

/* The reader's: the trace's completeness and the exit check's reachability, as the
 * rules, the filters and the lifespans judge. */
static struct ct_verdict verdict(CtSource *source, const struct ct_ctx_row *row)
{
    return ct_reader_verdict(CT_TRACE_SOURCE(source)->reader, row);
}

static void ct_trace_source_iface_init(CtSourceInterface *iface)
{
    iface->count = count;
    iface->fetch = fetch;
    iface->site = site_for_stack;
    iface->load_stack = load_stack;
    iface->ancestry = ancestry;
    iface->verdict = verdict;
}

/* ---- the first screen --------------------------------------------------------------------- */

void ct_trace_source_load(CtTraceSource *self, CtTraceModel *model)
{
    g_clear_pointer(&self->flagged, g_hash_table_unref);
    self->flagged = g_hash_table_ref(ct_trace_model_get_flagged(model));

    struct ct_meta m;
    ct_reader_meta(self->reader, &m);
    CtTraceMeta meta = {
        .program = m.program,
        .pid = m.pid,
        .start_ns = m.start_ns,
        .complete = m.complete,
        .contexts = m.contexts,
        .now_ns = m.end_ns,
        .summarized = ct_reader_meta_int(self->reader, "contexts_summarized", 0),
    };
    ct_trace_model_set_meta(model, &meta);
    ct_meta_free(&m);

    /* A handful per site and kind, whatever the length of the run. */
    struct ct_site_summary *sums = NULL;
    long nsums = ct_reader_site_summaries(self->reader, &sums);
    if (nsums > 0)
        ct_trace_model_set_site_summaries(model, sums, (guint)nsums);
    free(sums);

    struct ct_sample_row *samples = NULL;
    long n = ct_reader_samples(self->reader, G_MININT64, G_MAXINT64, &samples);
    for (long i = 0; i < n; i++)
        ct_trace_model_add_sample(model, &samples[i]);
    free(samples);

    ct_trace_model_flush(model);
}

/* ---- every lifespan, off the main thread ---------------------------------------------------- */

/* The columns a span and the verdict (ct_facts_from_row) read. */
static const enum ct_ctx_col span_columns[] = {
    CT_PARENT_ID,      CT_KIND,         CT_CREATED_NS,       CT_CREATE_THREAD,
    CT_CREATE_STACK,   CT_TIMER_ARMED_NS, CT_TIMER_FIRED_NS, CT_CANCELED_NS,
    CT_CANCEL_WHY,     CT_CANCEL_ORIGIN_NS, CT_RELEASED_NS,  CT_RELEASED_LIVE,
    CT_FREED_NS,
};

typedef struct {
    char *path;
} SpansJob;

static void spans_job_free(gpointer p)
{
    SpansJob *job = p;
    g_free(job->path);
    g_free(job);
}

typedef struct {
    CtSpans *spans;
    GCancellable *cancel;
    ct_reader *reader;
    guint n;
} SpansScan;

static bool put_span(void *arg, const struct ct_ctx_row *r)
{
    SpansScan *scan = arg;
    /* A window closed mid-read: stop early, the result is dropped anyway. */
    if ((++scan->n & 0xffff) == 0 && g_cancellable_is_cancelled(scan->cancel))
        return false;
    struct ct_verdict v = ct_reader_verdict(scan->reader, r); /* with the exit check's */
    ct_spans_put(scan->spans, r, &v);
    return true;
}

/* Every context, in file order (the core reader's one sequential scan), judged by the
 * core's verdict; on a reader of the thread's own. */
static void spans_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    (void)source;
    SpansJob *job = data;
    char err[512];
    ct_reader *reader = ct_reader_open(job->path, err, sizeof err);
    if (reader == NULL) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
        return;
    }
    uint32_t mask = 0;
    for (guint i = 0; i < G_N_ELEMENTS(span_columns); i++)
        mask |= 1u << span_columns[i];
    SpansScan scan = {ct_spans_new(FALSE), cancel, reader, 0};
    long got = ct_reader_scan(reader, mask, put_span, &scan);
    g_autofree char *failed = got < 0 ? g_strdup(ct_reader_error(reader)) : NULL;
    ct_reader_close(reader);
    if (g_task_return_error_if_cancelled(task)) {
        ct_spans_unref(scan.spans);
        return;
    }
    if (failed != NULL) {
        ct_spans_unref(scan.spans);
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: reading the lifespans: %s",
                                job->path, failed);
        return;
    }
    g_task_return_pointer(task, scan.spans, (GDestroyNotify)ct_spans_unref);
}

void ct_trace_source_load_spans_async(CtTraceSource *self, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    SpansJob *job = g_new0(SpansJob, 1);
    job->path = g_strdup(self->path);
    g_task_set_task_data(task, job, spans_job_free);
    g_task_run_in_thread(task, spans_thread);
    g_object_unref(task);
}

CtSpans *ct_trace_source_load_spans_finish(CtTraceSource *self, GAsyncResult *result,
                                           GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- the analysis, off the main thread ----------------------------------------------------- */

static void free_findings(gpointer p)
{
    ct_findings_free(p);
    g_free(p);
}

static void analyze_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    (void)source;
    (void)cancel;
    char err[512];
    /* A reader belongs to one thread: the worker opens its own. */
    ct_reader *db = ct_reader_open(data, err, sizeof err);
    if (db == NULL) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
        return;
    }
    struct ct_findings *f = g_new0(struct ct_findings, 1);
    struct ct_analysis_opts opts = {0};
    if (ct_analyze(db, &opts, f, err, sizeof err) != 0) {
        g_free(f);
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
    } else {
        g_task_return_pointer(task, f, free_findings);
    }
    ct_reader_close(db);
}

void ct_trace_source_analyze_async(CtTraceSource *self, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    g_task_set_task_data(task, g_strdup(self->path), g_free);
    g_task_run_in_thread(task, analyze_thread);
    g_object_unref(task);
}

struct ct_findings *ct_trace_source_analyze_finish(CtTraceSource *self, GAsyncResult *result,
                                                   GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}
