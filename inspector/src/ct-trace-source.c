/*
 * ct-trace-source.c — a trace file as a CtSource (see ct-trace-source.h).
 *
 * Every list query is "the contexts matching a condition, in id order, after an id":
 * the children of one context use the contexts_parent index, so a page of a million
 * children costs a B-tree descent, not a scan; filters (kind, state, site, problems)
 * scan, which is what a filter over the whole trace costs anyway. The condition
 * built here must select exactly what ct_trace_model_matches accepts.
 */
#include "ct-trace-source.h"

#include <ctxtrace/tracer.h>
#include <sqlite3.h>
#include <string.h>

/* The columns of `contexts` after id, in enum ct_ctx_col order. */
#define CONTEXT_COLUMNS                                                                       \
    "id, parent_id, kind, created_ns, create_thread, create_stack, requested_deadline_ns, "  \
    "deadline_ns, timer_armed_ns, timer_stopped_ns, timer_fired_ns, canceled_ns, cancel_why, " \
    "cancel_err, cancel_cause, cancel_reason, cancel_thread, cancel_stack, released_ns, "    \
    "released_live, release_thread, release_stack, freed_ns, value_lookups, "                \
    "value_depth_sum, value_depth_max"

struct _CtTraceSource {
    GObject parent_instance;
    char *path;
    sqlite3 *db;
    gboolean indexed;     /* contexts_parent exists */
    gboolean complete;    /* meta.complete */
    GHashTable *children; /* no index: parent id -> GArray of child ids (ascending) */
    GHashTable *sites;    /* stack id -> interned site string (or NULL: none) */
    sqlite3_stmt *by_id;  /* one row by id */
    sqlite3_stmt *n_kids; /* children count by parent (indexed files) */
    GHashTable *flagged;  /* borrowed from the model: ids named by findings */
};

static void ct_trace_source_iface_init(CtSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(CtTraceSource, ct_trace_source, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(CT_TYPE_SOURCE, ct_trace_source_iface_init))

static int kind_from_name(const char *s)
{
    for (int k = CTX_KIND_BACKGROUND; k <= CTX_KIND_DEADLINE; k++)
        if (g_strcmp0(s, ct_kind_name(k)) == 0)
            return k;
    return -1;
}

static int why_from_name(const char *s)
{
    for (int w = CTX_WHY_EXPLICIT; w <= CTX_WHY_DEADLINE; w++)
        if (g_strcmp0(s, ct_why_name(w)) == 0)
            return w;
    return -1;
}

/* A row of CONTEXT_COLUMNS into r (NULL columns absent). */
static void read_row(sqlite3_stmt *st, struct ct_ctx_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    for (int c = 0; c < CT_CTX_NCOLS; c++) {
        int col = c + 1;
        if (sqlite3_column_type(st, col) == SQLITE_NULL)
            continue;
        const char *text = (const char *)sqlite3_column_text(st, col);
        if (c == CT_KIND)
            ct_ctx_set(r, CT_KIND, kind_from_name(text));
        else if (c == CT_CANCEL_WHY)
            ct_ctx_set(r, CT_CANCEL_WHY, why_from_name(text));
        else if (c == CT_CANCEL_REASON) {
            r->reason = g_strdup(text);
            r->present |= 1u << CT_CANCEL_REASON;
        } else
            ct_ctx_set(r, (enum ct_ctx_col)c, sqlite3_column_int64(st, col));
    }
}

static void ct_trace_source_finalize(GObject *object)
{
    CtTraceSource *self = CT_TRACE_SOURCE(object);
    sqlite3_finalize(self->by_id);
    sqlite3_finalize(self->n_kids);
    sqlite3_close(self->db);
    g_clear_pointer(&self->children, g_hash_table_unref);
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

static gint64 query_int(sqlite3 *db, const char *sql, gint64 def)
{
    sqlite3_stmt *st;
    gint64 v = def;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return def;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* No contexts_parent index (a killed process): one scan makes the parent -> children
 * map the paged queries would otherwise get from the index. */
static void build_children_map(CtTraceSource *self)
{
    self->children = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                           (GDestroyNotify)g_array_unref);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "SELECT id, coalesce(parent_id, 0) FROM contexts ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        gint64 id = sqlite3_column_int64(st, 0), parent = sqlite3_column_int64(st, 1);
        GArray *kids = g_hash_table_lookup(self->children, &parent);
        if (kids == NULL) {
            kids = g_array_new(FALSE, FALSE, sizeof(gint64));
            g_hash_table_insert(self->children, g_memdup2(&parent, sizeof parent), kids);
        }
        g_array_append_val(kids, id);
    }
    sqlite3_finalize(st);
}

CtTraceSource *ct_trace_source_open(const char *path, GError **error)
{
    char err[512];
    sqlite3 *db = ct_trace_open(path, err, sizeof err);
    if (db == NULL) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, err);
        return NULL;
    }
    CtTraceSource *self = g_object_new(CT_TYPE_TRACE_SOURCE, NULL);
    self->path = g_strdup(path);
    self->db = db;
    self->complete = query_int(db, "SELECT value FROM meta WHERE key = 'complete'", 0) == 1;
    self->indexed = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                  "AND name = 'contexts_parent'", 0) == 1;
    if (sqlite3_prepare_v2(db, "SELECT " CONTEXT_COLUMNS " FROM contexts WHERE id = ?", -1,
                           &self->by_id, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM contexts WHERE parent_id = ?", -1,
                           &self->n_kids, NULL) != SQLITE_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: unreadable trace: %s", path,
                    sqlite3_errmsg(db));
        g_object_unref(self);
        return NULL;
    }
    if (!self->indexed)
        build_children_map(self);
    return self;
}

const char *ct_trace_source_get_path(CtTraceSource *self)
{
    return self->path;
}

gboolean ct_trace_source_has_indexes(CtTraceSource *self)
{
    return self->indexed;
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
    if (ct_load_stack(self->db, stack_id, &stack) == 0 && stack.depth > 0) {
        const struct ct_frame *f = &stack.frames[0];
        g_autofree char *text = NULL;
        /* The file's base name: the column is narrow, the details show the path. */
        if (f->file != NULL)
            text = g_strdup_printf("%s %s:%d", f->function ? f->function : "??",
                                   strrchr(f->file, '/') ? strrchr(f->file, '/') + 1 : f->file,
                                   f->line);
        else
            text = g_strdup_printf("%s (%s)", f->function ? f->function : "??",
                                   f->module ? f->module : "?");
        site = g_intern_string(text);
    }
    ct_stack_free(&stack);
    g_hash_table_insert(self->sites, g_memdup2(&stack_id, sizeof stack_id), (gpointer)site);
    return site;
}

static gboolean load_stack(CtSource *source, gint64 stack_id, struct ct_stack *out)
{
    return ct_load_stack(CT_TRACE_SOURCE(source)->db, stack_id, out) == 0;
}

/* ---- list queries ---------------------------------------------------------------------- */

/* The SQL condition selecting q (parameter ?1: the parent id, when listing children). */
static char *condition(CtTraceSource *self, const CtQuery *q)
{
    if (!ct_query_is_filter(q))
        return g_strdup(q->parent_id != 0 ? "parent_id = ?1" : "parent_id IS NULL");

    /* Mirrors ct_context_item_get_state. */
    g_autofree char *leaked = g_strdup_printf(
        "(kind IN ('cancel', 'deadline') AND (released_live = 1 OR (%d AND canceled_ns IS NULL)))",
        self->complete);
    GString *w = g_string_new("1");
    if (q->kind >= 0)
        g_string_append_printf(w, " AND kind = '%s'", ct_kind_name(q->kind));
    switch (q->state) {
    case CT_STATE_LIVE:
        g_string_append_printf(w, " AND NOT %s AND canceled_ns IS NULL", leaked);
        break;
    case CT_STATE_CANCELLED:
        g_string_append_printf(w, " AND NOT %s AND canceled_ns IS NOT NULL AND "
                                  "cancel_why IS NOT 'deadline'", leaked);
        break;
    case CT_STATE_DEADLINE:
        g_string_append_printf(w, " AND NOT %s AND canceled_ns IS NOT NULL AND "
                                  "cancel_why = 'deadline'", leaked);
        break;
    case CT_STATE_LEAKED:
        g_string_append_printf(w, " AND %s", leaked);
        break;
    default:
        break;
    }
    if (q->only_problems) {
        g_string_append_printf(w, " AND (%s OR id IN (", leaked);
        const char *sep = "";
        if (self->flagged != NULL) {
            GHashTableIter it;
            gpointer key;
            g_hash_table_iter_init(&it, self->flagged);
            while (g_hash_table_iter_next(&it, &key, NULL)) {
                g_string_append_printf(w, "%s%" G_GINT64_FORMAT, sep, *(gint64 *)key);
                sep = ",";
            }
        }
        g_string_append(w, "))");
    }
    if (q->search != NULL && q->search[0] != '\0') {
        const char *s = q->search[0] == '#' ? q->search + 1 : q->search;
        char *end;
        gint64 id = g_ascii_strtoll(s, &end, 10);
        if (*s != '\0' && *end == '\0') {
            g_string_append_printf(w, " AND id = %" G_GINT64_FORMAT, id);
        } else {
            /* Stacks are few (each distinct one once): match their sites here and
             * select by create_stack. */
            g_autofree char *needle = g_utf8_casefold(q->search, -1);
            g_string_append(w, " AND create_stack IN (");
            sqlite3_stmt *st;
            const char *sep = "";
            if (sqlite3_prepare_v2(self->db, "SELECT id FROM stacks", -1, &st, NULL) == SQLITE_OK) {
                while (sqlite3_step(st) == SQLITE_ROW) {
                    gint64 stack = sqlite3_column_int64(st, 0);
                    const char *site = site_for_stack(CT_SOURCE(self), stack);
                    if (site == NULL)
                        continue;
                    g_autofree char *hay = g_utf8_casefold(site, -1);
                    if (strstr(hay, needle) != NULL) {
                        g_string_append_printf(w, "%s%" G_GINT64_FORMAT, sep, stack);
                        sep = ",";
                    }
                }
                sqlite3_finalize(st);
            }
            g_string_append(w, ")");
        }
    }
    return g_string_free(w, FALSE);
}

static GArray *kids_of(CtTraceSource *self, gint64 parent)
{
    return g_hash_table_lookup(self->children, &parent);
}

static guint count(CtSource *source, const CtQuery *q)
{
    CtTraceSource *self = CT_TRACE_SOURCE(source);
    if (!ct_query_is_filter(q) && !self->indexed) {
        GArray *kids = kids_of(self, q->parent_id);
        return kids ? kids->len : 0;
    }
    g_autofree char *cond = condition(self, q);
    g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM contexts WHERE %s", cond);
    sqlite3_stmt *st;
    guint n = 0;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (!ct_query_is_filter(q) && q->parent_id != 0)
        sqlite3_bind_int64(st, 1, q->parent_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (guint)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static gint64 n_children_of(CtTraceSource *self, gint64 id)
{
    if (!self->indexed) {
        GArray *kids = kids_of(self, id);
        return kids ? kids->len : 0;
    }
    sqlite3_reset(self->n_kids);
    sqlite3_bind_int64(self->n_kids, 1, id);
    return sqlite3_step(self->n_kids) == SQLITE_ROW ? sqlite3_column_int64(self->n_kids, 0) : 0;
}

static void append_row(CtTraceSource *self, sqlite3_stmt *st, GArray *rows, GArray *n_children)
{
    struct ct_ctx_row r;
    read_row(st, &r);
    g_array_append_val(rows, r);
    gint64 n = n_children_of(self, r.id);
    g_array_append_val(n_children, n);
}

/* Children of a parent from the in-memory map (unindexed files). */
static guint fetch_mapped(CtTraceSource *self, gint64 parent, gint64 after_id, guint offset,
                          guint limit, GArray *rows, GArray *n_children)
{
    GArray *kids = kids_of(self, parent);
    if (kids == NULL)
        return 0;
    guint lo = 0, hi = kids->len; /* first index with id > after_id */
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(kids, gint64, mid) <= after_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    guint got = 0;
    for (guint i = lo + offset; i < kids->len && got < limit; i++) {
        sqlite3_reset(self->by_id);
        sqlite3_bind_int64(self->by_id, 1, g_array_index(kids, gint64, i));
        if (sqlite3_step(self->by_id) != SQLITE_ROW)
            continue;
        append_row(self, self->by_id, rows, n_children);
        got++;
    }
    return got;
}

static guint fetch(CtSource *source, const CtQuery *q, gint64 after_id, guint offset, guint limit,
                   GArray *rows, GArray *n_children)
{
    CtTraceSource *self = CT_TRACE_SOURCE(source);
    if (!ct_query_is_filter(q) && !self->indexed)
        return fetch_mapped(self, q->parent_id, after_id, offset, limit, rows, n_children);
    g_autofree char *cond = condition(self, q);
    g_autofree char *sql = g_strdup_printf("SELECT " CONTEXT_COLUMNS " FROM contexts WHERE %s "
                                           "AND id > ?2 ORDER BY id LIMIT ?3 OFFSET ?4", cond);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (!ct_query_is_filter(q) && q->parent_id != 0)
        sqlite3_bind_int64(st, 1, q->parent_id);
    sqlite3_bind_int64(st, 2, after_id);
    sqlite3_bind_int64(st, 3, limit);
    sqlite3_bind_int64(st, 4, offset);
    guint got = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        append_row(self, st, rows, n_children);
        got++;
    }
    sqlite3_finalize(st);
    return got;
}

static GArray *ancestry(CtSource *source, gint64 id)
{
    CtTraceSource *self = CT_TRACE_SOURCE(source);
    GArray *chain = g_array_new(FALSE, FALSE, sizeof(gint64));
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "SELECT parent_id FROM contexts WHERE id = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return chain;
    /* Bounded: a corrupt file must not loop us forever. */
    for (gint64 cur = id; cur != 0 && chain->len < 100000;) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, cur);
        if (sqlite3_step(st) != SQLITE_ROW) {
            g_array_set_size(chain, 0);
            break;
        }
        g_array_prepend_val(chain, cur);
        cur = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return chain;
}

static void ct_trace_source_iface_init(CtSourceInterface *iface)
{
    iface->count = count;
    iface->fetch = fetch;
    iface->site = site_for_stack;
    iface->load_stack = load_stack;
    iface->ancestry = ancestry;
}

/* ---- the first screen --------------------------------------------------------------------- */

static char *meta_text(sqlite3 *db, const char *key)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = g_strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

void ct_trace_source_load(CtTraceSource *self, CtTraceModel *model)
{
    g_clear_pointer(&self->flagged, g_hash_table_unref);
    self->flagged = g_hash_table_ref(ct_trace_model_get_flagged(model));

    g_autofree char *program = meta_text(self->db, "program");
    CtTraceMeta meta = {
        .program = program,
        .pid = query_int(self->db, "SELECT value FROM meta WHERE key = 'pid'", 0),
        .start_ns = query_int(self->db, "SELECT value FROM meta WHERE key = 'start_ns'", 0),
        .complete = self->complete,
        .contexts = query_int(self->db, "SELECT count(*) FROM contexts WHERE id > 2", 0),
    };
    /* The end: a clean exit's end_ns, else the latest time the file recorded. */
    meta.now_ns = query_int(self->db, "SELECT value FROM meta WHERE key = 'end_ns'", 0);
    if (meta.now_ns == 0)
        meta.now_ns = MAX(query_int(self->db, "SELECT max(ts_ns) FROM samples", 0),
                          query_int(self->db, "SELECT max(max(coalesce(created_ns, 0)), "
                                              "max(coalesce(freed_ns, 0))) FROM contexts", 0));
    ct_trace_model_set_meta(model, &meta);

    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db, "SELECT ts_ns, live_contexts, armed_timers, blocked_waiters, "
                                     "threads, rss_bytes FROM samples ORDER BY ts_ns",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct ct_sample_row s = {
                .ts_ns = sqlite3_column_int64(st, 0), .live_contexts = sqlite3_column_int64(st, 1),
                .armed_timers = sqlite3_column_int64(st, 2),
                .blocked_waiters = sqlite3_column_int64(st, 3),
                .threads = sqlite3_column_int64(st, 4), .rss_bytes = sqlite3_column_int64(st, 5)};
            ct_trace_model_add_sample(model, &s);
        }
        sqlite3_finalize(st);
    }

    ct_trace_model_flush(model);
}

/* ---- every lifespan, off the main thread ---------------------------------------------------- */

/* What a span needs, read by name into a partial row (ct_spans_put takes rows). */
static const struct {
    const char *name;
    enum ct_ctx_col col;
} span_columns[] = {
    {"parent_id", CT_PARENT_ID},     {"kind", CT_KIND},
    {"created_ns", CT_CREATED_NS},   {"create_thread", CT_CREATE_THREAD},
    {"create_stack", CT_CREATE_STACK}, {"timer_fired_ns", CT_TIMER_FIRED_NS},
    {"canceled_ns", CT_CANCELED_NS}, {"cancel_why", CT_CANCEL_WHY},
    {"released_live", CT_RELEASED_LIVE}, {"freed_ns", CT_FREED_NS},
};

typedef struct {
    char *path;
    gboolean complete;
} SpansJob;

static void spans_job_free(gpointer p)
{
    SpansJob *job = p;
    g_free(job->path);
    g_free(job);
}

static void spans_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    (void)source;
    SpansJob *job = data;
    char err[512];
    sqlite3 *db = ct_trace_open(job->path, err, sizeof err);
    if (db == NULL) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err);
        return;
    }
    GString *sql = g_string_new("SELECT id");
    for (guint i = 0; i < G_N_ELEMENTS(span_columns); i++)
        g_string_append_printf(sql, ", %s", span_columns[i].name);
    g_string_append(sql, " FROM contexts WHERE parent_id IS NOT NULL");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql->str, -1, &st, NULL) != SQLITE_OK) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: unreadable trace: %s",
                                job->path, sqlite3_errmsg(db));
        g_string_free(sql, TRUE);
        sqlite3_close(db);
        return;
    }
    g_string_free(sql, TRUE);
    CtSpans *spans = ct_spans_new(FALSE);
    guint n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        /* A window closed mid-read: stop early, the result is dropped anyway. */
        if ((++n & 0xffff) == 0 && g_cancellable_is_cancelled(cancel))
            break;
        struct ct_ctx_row r = {.id = sqlite3_column_int64(st, 0)};
        for (guint i = 0; i < G_N_ELEMENTS(span_columns); i++) {
            /* One sqlite3_column_* call per column: each takes the connection's mutex
             * (a fifth of the scan's time when called twice); the value calls do not. */
            sqlite3_value *val = sqlite3_column_value(st, (int)i + 1);
            int type = sqlite3_value_type(val);
            if (type == SQLITE_NULL)
                continue;
            gint64 v;
            if (span_columns[i].col == CT_KIND)
                v = kind_from_name((const char *)sqlite3_value_text(val));
            else if (span_columns[i].col == CT_CANCEL_WHY)
                v = why_from_name((const char *)sqlite3_value_text(val));
            else
                v = sqlite3_value_int64(val);
            ct_ctx_set(&r, span_columns[i].col, v);
        }
        ct_spans_put(spans, &r, job->complete);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (g_task_return_error_if_cancelled(task)) {
        ct_spans_unref(spans);
        return;
    }
    ct_spans_sort(spans);
    g_task_return_pointer(task, spans, (GDestroyNotify)ct_spans_unref);
}

void ct_trace_source_load_spans_async(CtTraceSource *self, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    SpansJob *job = g_new0(SpansJob, 1);
    job->path = g_strdup(self->path);
    job->complete = self->complete;
    g_task_set_task_data(task, job, spans_job_free);
    g_task_set_return_on_cancel(task, FALSE);
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
    /* SQLite connections are not shared across threads here: the worker opens its own. */
    sqlite3 *db = ct_trace_open(data, err, sizeof err);
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
    sqlite3_close(db);
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
