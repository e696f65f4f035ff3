/*
 * ct-live-source.c — a running process's socket into a CtTraceModel (see
 * ct-live-source.h).
 *
 * The exit check. A process watched until it exits sends the check's results before its
 * BYE (docs/wire.md): each context's reachability, each thread it saw, its status. They
 * are kept here and read by this source's verdict — the core's one (ct_judge), with the
 * reachability as the rules read it from a trace (ct_reach_from_scan) — so the tree,
 * details and timeline judge a context lost at exit exactly as `ctxtrace report` does on
 * the trace. At the BYE every context still live is judged again, and the status line
 * says what the check found.
 *
 * Falling behind. A process busier than the window can read resyncs it (docs/wire.md):
 * RESYNC, then a fresh snapshot. Its CONTEXT frames merge into the items the window has
 * (a context's state may have moved on meanwhile); a context the window had as live that
 * the fresh snapshot does not list was freed while events were skipped — it is shown
 * freed at the resync (its end lies somewhere before: the stream no longer says when),
 * so the tree and the timeline match the process again. How much was skipped is on the
 * status line.
 *
 * Once behind, the window holds each context created during one read of the stream
 * (up to READ_BUDGET_US) until the read ends: one freed by then was too brief to show at
 * this pace and is only counted (the Sites view's counts are the process's anyway), so
 * a window following a flood keeps the contexts that live a while, not every request —
 * what it holds grows with those, not with the rate.
 *
 * Bounded. The window's history — freed contexts kept as items — is bounded: past
 * freed_max of them, the next resync's snapshot goes into a fresh model (samples and
 * counts carried over) that replaces the shown one ("model-replaced"); the views start
 * again from the live tree, as at a new connection.
 *
 * Counts and findings. The process counts each creation stack's contexts and findings
 * so far itself (SITE_COUNTS), exact whatever was skipped: they go to the model (the
 * Sites view shows them) and, at most once a second when they changed, become the
 * Findings view's findings — one per rule and stack, counted as the process counted
 * them (lost-cancel, orphaned-timer, ineffective-deadline: the findings the verdict can
 * make live; `ctxtrace report` on the trace judges everything).
 */
#include "ct-live-source.h"

#include "ct-format.h"

#include <ctxtrace/core/live_budget.h>
#include <ctxtrace/core/livepath.h>
#include <ctxtrace/core/verdict.h>
#include <ctxtrace/core/wire.h>
#include <ctxtrace/tracer.h>
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Longest stretch spent reading per main-loop wake-up: a quarter of a 60 Hz frame, so
 * the loop gets back to painting however fast the process produces events. */
#define READ_BUDGET_US 4000
/* Findings from the site counts: rebuilt at most this often (each rebuild re-covers the
 * contexts the findings name). */
#define FINDINGS_INTERVAL_US G_USEC_PER_SEC

typedef struct {
    char *function, *file, *module;
    int line;
    const char *text; /* interned "function file:line" */
} Site;

struct _CtLiveSource {
    GObject parent_instance;
    char *path;
    int fd;
    guint watch;
    ct_wire_decoder *decoder;
    CtTraceModel *model; /* owns this source: watched, not referenced back */
    GHashTable *sites;   /* stack id -> Site */
    struct ct_live_budget budget; /* what sites may cost us: a server is a peer */
    CtTraceMeta meta;
    gboolean ended;
    gboolean dispatching; /* inside readable_cb */
    char *state_text;
    guint64 frames;
    GHashTable *live;    /* ids of the contexts pushed and not freed (gint64 set) */
    /* The exit check, once its frames arrive: context id -> enum ct_scan_reach + 1. */
    GHashTable *reach;
    gboolean check_done, reach_checked, end_in_flight;
    char *check_status;  /* EXIT_CHECK's status ("done", "off", "abandoned: ...") */
    guint threads_seen, threads_blocked, threads_unregistered, unreachable;
    /* Resyncs (docs/wire.md): between RESYNC and SNAPSHOT_END, the ids the fresh
     * snapshot lists (gint64 set); NULL otherwise. */
    GHashTable *in_snapshot;
    gint64 resync_ts;
    guint resyncs;
    guint64 skipped_events;
    guint freed, freed_max; /* freed contexts the model keeps; the bound */
    CtTraceModel *next;   /* a replacement filled by the resync's snapshot (a ref) */
    guint replacements;
    GArray *held;         /* struct ct_ctx_row: created in this read, behind (see the top) */
    GHashTable *held_at;  /* context id -> index + 1 in held */
    guint64 transient;    /* created and freed within one read while behind: not shown */
    gboolean findings_dirty; /* site counts changed since the findings were made */
    gint64 findings_at;      /* g_get_monotonic_time() of the last */
};

static void ct_live_source_iface_init(CtSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE(CtLiveSource, ct_live_source, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(CT_TYPE_SOURCE, ct_live_source_iface_init))

enum { SIGNAL_SNAPSHOT_DONE, SIGNAL_ENDED, SIGNAL_MODEL_REPLACED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void site_free(gpointer p)
{
    Site *s = p;
    g_free(s->function);
    g_free(s->file);
    g_free(s->module);
    g_free(s);
}

/* ---- CtSource: everything arrives by push; sites from SITE frames ------------------- */

static guint count(CtSource *source, const CtQuery *q)
{
    (void)source;
    (void)q;
    return 0;
}

static guint fetch(CtSource *source, const CtQuery *q, struct ct_cursor after, guint skip, guint limit,
                   GArray *rows, GArray *n_children)
{
    (void)source, (void)q, (void)after, (void)skip, (void)limit, (void)rows, (void)n_children;
    return 0;
}

static const char *site_text(CtSource *source, gint64 stack_id)
{
    Site *s = g_hash_table_lookup(CT_LIVE_SOURCE(source)->sites, &stack_id);
    return s != NULL ? s->text : NULL;
}

static char *strdup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* The socket sends a stack's site only: a stack of that one frame (malloc'd, as
 * ct_stack_free expects). */
static gboolean load_stack(CtSource *source, gint64 stack_id, struct ct_stack *out)
{
    Site *s = g_hash_table_lookup(CT_LIVE_SOURCE(source)->sites, &stack_id);
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return FALSE;
    out->frames = calloc(1, sizeof *out->frames);
    if (out->frames == NULL)
        return FALSE;
    out->depth = 1;
    out->frames[0] = (struct ct_frame){.function = strdup_or_null(s->function),
                                       .file = strdup_or_null(s->file), .line = s->line,
                                       .module = strdup_or_null(s->module)};
    return TRUE;
}

/* The model walks its loaded items first; every pushed context is loaded. */
static GArray *ancestry(CtSource *source, gint64 id)
{
    (void)source;
    (void)id;
    return g_array_new(FALSE, FALSE, sizeof(gint64));
}

/* The core's verdict with what the stream told of the exit (docs/wire.md): before the
 * BYE nothing (the model's complete is false: the same as no verdict of a source's own). */
static struct ct_verdict verdict(CtSource *source, const struct ct_ctx_row *row)
{
    CtLiveSource *self = CT_LIVE_SOURCE(source);
    gpointer v = g_hash_table_lookup(self->reach, &row->id);
    enum ct_reach reach = ct_reach_from_scan(self->reach_checked, v != NULL,
                                             (enum ct_scan_reach)(GPOINTER_TO_INT(v) - 1));
    struct ct_facts f;
    ct_facts_from_row(row, self->meta.complete, reach, &f);
    f.end_in_flight = self->end_in_flight;
    return ct_judge(&f);
}

static void ct_live_source_iface_init(CtSourceInterface *iface)
{
    iface->verdict = verdict;
    iface->count = count;
    iface->fetch = fetch;
    iface->site = site_text;
    iface->load_stack = load_stack;
    iface->ancestry = ancestry;
}

/* ---- frames into the model -------------------------------------------------------------- */

static void remember_site(CtLiveSource *self, const struct ct_wire_msg *m)
{
    gint64 id = (gint64)m->u.site.stack;
    if (id == 0 || g_hash_table_contains(self->sites, &id))
        return;
    const char *strings[] = {m->u.site.function, m->u.site.file, m->u.site.module};
    size_t bytes = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
        bytes += strings[i] != NULL ? strlen(strings[i]) + 1 : 0;
    bool first;
    if (!ct_live_budget_take(&self->budget, 2 * bytes, &first)) { /* + the interned text */
        if (first) {
            g_free(self->state_text);
            self->state_text = g_strdup_printf(CT_LIVE_BUDGET_MESSAGE, self->path,
                                               CT_LIVE_BUDGET_ARGS);
        }
        return;
    }
    Site *s = g_new0(Site, 1);
    s->function = g_strdup(m->u.site.function);
    s->file = g_strdup(m->u.site.file);
    s->module = g_strdup(m->u.site.module);
    s->line = (int)m->u.site.line;
    s->text = ct_format_site(s->function, s->file, s->line, s->module); /* as offline */
    g_hash_table_insert(self->sites, g_memdup2(&id, sizeof id), s);
}

static void apply(CtLiveSource *self, struct ct_ctx_row *r, const char *reason)
{
    r->reason = (char *)reason; /* the model copies it */
    ct_trace_model_apply_row(self->model, r);
    if ((r->present >> CT_FREED_NS) & 1)
        self->freed += g_hash_table_remove(self->live, &r->id);
    else if (!g_hash_table_contains(self->live, &r->id))
        g_hash_table_add(self->live, g_memdup2(&r->id, sizeof r->id));
    if ((r->present >> CT_CREATED_NS) & 1 && r->id > 2)
        self->meta.contexts++;
}

/* An event's row: applied, or — behind, for a context created in this read — held until
 * the read ends, and dropped if it is freed before that. */
static void push(CtLiveSource *self, struct ct_ctx_row *r, const char *reason)
{
    if (self->resyncs == 0 || self->in_snapshot != NULL) {
        apply(self, r, reason);
        return;
    }
    guint at = GPOINTER_TO_UINT(g_hash_table_lookup(self->held_at, &r->id));
    if (at == 0 && ct_ctx_has(r, CT_CREATED_NS)) {
        g_array_append_val(self->held, *r);
        g_array_index(self->held, struct ct_ctx_row, self->held->len - 1).reason = NULL;
        g_hash_table_insert(self->held_at, g_memdup2(&r->id, sizeof r->id), GUINT_TO_POINTER(self->held->len));
        return;
    }
    if (at == 0) {
        apply(self, r, reason);
        return;
    }
    struct ct_ctx_row *h = &g_array_index(self->held, struct ct_ctx_row, at - 1);
    if (ct_ctx_has(r, CT_FREED_NS)) {
        free(h->reason);
        h->reason = NULL;
        h->present = 0; /* dropped */
        g_hash_table_remove(self->held_at, &r->id);
        self->transient++;
        if (r->id > 2)
            self->meta.contexts++;
        return;
    }
    r->reason = (char *)reason;
    ct_ctx_row_merge(h, r);
}

/* The held contexts that were not freed during the read, in creation order. */
static void set_following_text(CtLiveSource *self);

static void release_held(CtLiveSource *self)
{
    /* Some were dropped: the status line counts them (not once the stream ended: it
     * says why then). */
    if (self->held->len > g_hash_table_size(self->held_at) && !self->ended)
        set_following_text(self);
    for (guint i = 0; i < self->held->len; i++) {
        struct ct_ctx_row *h = &g_array_index(self->held, struct ct_ctx_row, i);
        if (h->present == 0)
            continue;
        char *reason = h->reason;
        if (self->model != NULL)
            apply(self, h, reason);
        free(reason);
    }
    g_array_set_size(self->held, 0);
    g_hash_table_remove_all(self->held_at);
}

static void snapshot_context(CtLiveSource *self, const struct ct_wire_context *c)
{
    struct ct_ctx_row r = {.id = (int64_t)c->id};
    ct_ctx_set(&r, CT_PARENT_ID, (int64_t)c->parent);
    ct_ctx_set(&r, CT_KIND, c->kind);
    ct_ctx_set(&r, CT_CREATED_NS, c->created);
    ct_ctx_set(&r, CT_CREATE_THREAD, c->thread);
    if (c->stack != 0)
        ct_ctx_set(&r, CT_CREATE_STACK, (int64_t)c->stack);
    if (c->deadline != 0)
        ct_ctx_set(&r, CT_DEADLINE_NS, c->deadline);
    if (c->done) {
        ct_ctx_set(&r, CT_CANCELED_NS, c->canceled);
        ct_ctx_set(&r, CT_CANCEL_WHY, c->why);
        ct_ctx_set(&r, CT_CANCEL_ERR, c->err);
        if (c->reason != NULL)
            ct_ctx_set(&r, CT_CANCEL_REASON, 0);
    }
    if (c->done && c->origin != 0)
        ct_ctx_set(&r, CT_CANCEL_ORIGIN_NS, c->origin);
    /* What the verdict (ctxtrace/core/verdict.h) reads, as the server saw it: the
     * release, and whether the context was still live then; a deadline context's timer
     * is armed as it is created. */
    if (c->released != 0) {
        ct_ctx_set(&r, CT_RELEASED_NS, c->released);
        ct_ctx_set(&r, CT_RELEASED_LIVE, !c->done || c->canceled > c->released);
    }
    if (c->flags & (CT_WIRE_TIMER_ARMED | CT_WIRE_ORPHANED_TIMER))
        ct_ctx_set(&r, CT_TIMER_ARMED_NS, c->created);
    if (c->created != 0 && c->created < self->meta.start_ns)
        self->meta.start_ns = c->created;
    apply(self, &r, c->reason);
    if (self->in_snapshot != NULL)
        g_hash_table_add(self->in_snapshot, g_memdup2(&r.id, sizeof r.id));
}

/* "following PATH", and what resyncs skipped. */
static void set_following_text(CtLiveSource *self)
{
    g_free(self->state_text);
    if (self->resyncs == 0) {
        self->state_text = g_strdup_printf("following %s", self->path);
        return;
    }
    g_autofree char *skipped = ct_format_count((gint64)self->skipped_events);
    g_autofree char *brief = ct_format_count((gint64)self->transient);
    self->state_text = g_strdup_printf("following %s — fell behind %u time%s: %s events skipped, "
                                       "resynced from fresh snapshots (counts stay exact); %s contexts "
                                       "too brief to show at this pace, counted only",
                                       self->path, self->resyncs, self->resyncs == 1 ? "" : "s", skipped, brief);
}

/* A fresh snapshot is in: what the window had as live and it does not list was freed
 * while events were skipped (at the latest at the resync). */
static void end_resync(CtLiveSource *self)
{
    g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(gint64));
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, self->live);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(self->in_snapshot, key))
            g_array_append_val(gone, *(gint64 *)key);
    for (guint i = 0; i < gone->len; i++) {
        struct ct_ctx_row r = {.id = g_array_index(gone, gint64, i)};
        ct_ctx_set(&r, CT_FREED_NS, self->resync_ts);
        apply(self, &r, NULL);
    }
    g_clear_pointer(&self->in_snapshot, g_hash_table_destroy);
    set_following_text(self);
}

static void count_site(CtLiveSource *self, const struct ct_wire_msg *m)
{
    const CtSiteCounts c = {(gint64)m->u.site_counts.stack, m->u.site_counts.created,
                            m->u.site_counts.freed, m->u.site_counts.live,
                            m->u.site_counts.lost_cancel, m->u.site_counts.orphaned_timer,
                            m->u.site_counts.ineffective_deadline};
    ct_trace_model_set_site_counts(self->model, &c);
    self->findings_dirty = TRUE;
}

/* The findings the site counts make: one per rule and stack with contexts so flagged. */
static struct ct_findings *findings_of_counts(CtLiveSource *self)
{
    guint n;
    const CtSiteCounts *counts = ct_trace_model_get_site_counts(self->model, &n);
    struct ct_findings *f = g_new0(struct ct_findings, 1);
    f->items = calloc(3 * (size_t)MAX(n, 1), sizeof *f->items);
    g_assert(f->items != NULL);
    static const enum ct_rule rules[] = {CT_RULE_ORPHANED_TIMER, CT_RULE_LOST_CANCEL,
                                         CT_RULE_INEFFECTIVE_DEADLINE}; /* most severe first */
    for (size_t r = 0; r < G_N_ELEMENTS(rules); r++) {
        for (guint k = 0; k < n; k++) {
            const CtSiteCounts *c = &counts[k];
            gint64 v = rules[r] == CT_RULE_LOST_CANCEL      ? c->lost_cancel
                       : rules[r] == CT_RULE_ORPHANED_TIMER ? c->orphaned_timer
                                                            : c->ineffective_deadline;
            if (v <= 0)
                continue;
            struct ct_finding *x = &f->items[f->len++];
            x->rule = rules[r];
            x->count = (long)v;
            Site *s = g_hash_table_lookup(self->sites, &c->stack);
            if (s != NULL)
                x->site = (struct ct_frame){.function = strdup_or_null(s->function),
                                            .file = strdup_or_null(s->file), .line = s->line,
                                            .module = strdup_or_null(s->module)};
            snprintf(x->detail, sizeof x->detail,
                     "found live: %" G_GINT64_FORMAT " of the %" G_GINT64_FORMAT
                     " contexts created here so far, as the process counted them",
                     v, c->created);
        }
    }
    for (guint k = 0; k < n; k++)
        f->contexts += (long)counts[k].created;
    return f;
}

/* The findings again when the counts changed, at most once per FINDINGS_INTERVAL_US
 * (and at the end). */
static void update_findings(CtLiveSource *self, gboolean now)
{
    gint64 t = g_get_monotonic_time();
    if (!self->findings_dirty || self->model == NULL || (!now && t - self->findings_at < FINDINGS_INTERVAL_US))
        return;
    self->findings_dirty = FALSE;
    self->findings_at = t;
    ct_trace_model_set_findings(self->model, findings_of_counts(self));
}

static void end(CtLiveSource *self, const char *text, gboolean complete);
static void model_gone(gpointer data, GObject *where_the_model_was);

/* The roots every trace has (ids 1 and 2, as in the trace file): the snapshot lists what
 * the program made under them. */
static void add_roots(CtTraceModel *model)
{
    struct ct_ctx_row bg = {.id = 1}, todo = {.id = 2};
    ct_ctx_set(&bg, CT_KIND, CTX_KIND_BACKGROUND);
    ct_ctx_set(&todo, CT_KIND, CTX_KIND_TODO);
    ct_trace_model_apply_row(model, &bg);
    ct_trace_model_apply_row(model, &todo);
}

/* The model kept too many freed contexts: push this resync's snapshot into a fresh one
 * (the samples and the counts carried over), shown once it holds the snapshot. */
static void begin_replacement(CtLiveSource *self)
{
    CtTraceModel *old = self->model, *m = ct_trace_model_new(CT_SOURCE(self));
    ct_trace_model_set_live(m, TRUE);
    guint n;
    const struct ct_sample_row *samples = ct_trace_model_get_samples(old, &n);
    for (guint i = 0; i < n; i++)
        ct_trace_model_add_sample(m, &samples[i]);
    const CtSiteCounts *counts = ct_trace_model_get_site_counts(old, &n);
    for (guint i = 0; i < n; i++)
        ct_trace_model_set_site_counts(m, &counts[i]);
    ct_trace_model_set_meta(m, &self->meta);
    add_roots(m);
    g_object_weak_unref(G_OBJECT(old), model_gone, self);
    g_object_weak_ref(G_OBJECT(m), model_gone, self);
    self->model = self->next = m;
    g_hash_table_remove_all(self->live); /* the snapshot lists the live ones */
    self->freed = 0;
}

/* The fresh model holds the snapshot: hand it over. */
static void finish_replacement(CtLiveSource *self)
{
    self->findings_dirty = TRUE;
    update_findings(self, TRUE);
    ct_trace_model_flush(self->model);
    self->replacements++;
    g_signal_emit(self, signals[SIGNAL_MODEL_REPLACED], 0);
    g_clear_object(&self->next); /* the window's now (if nobody took it: model_gone) */
}

/* "; exit check: ..." — what the check found, for the status line ("" if none ran). */
static char *exit_check_text(CtLiveSource *self)
{
    if (!self->check_done)
        return g_strdup("");
    if (g_strcmp0(self->check_status, "done") != 0)
        return g_strdup_printf("; exit check: %s", self->check_status ? self->check_status : "?");
    GString *s = g_string_new(NULL);
    g_string_printf(s, "; exit check: %u thread%s (%u blocked", self->threads_seen,
                    self->threads_seen == 1 ? "" : "s", self->threads_blocked);
    if (self->threads_unregistered > 0)
        g_string_append_printf(s, ", %u not the shim's", self->threads_unregistered);
    g_string_append(s, ")");
    if (self->reach_checked)
        g_string_append_printf(s, ", %u of %u contexts unreachable", self->unreachable,
                               g_hash_table_size(self->reach));
    else
        g_string_append(s, ", reachability not judged");
    return g_string_free(s, FALSE);
}

/* When a frame happened (0: it does not say). */
static gint64 frame_time(const struct ct_wire_msg *m)
{
    switch (m->type) {
    case CT_WIRE_CREATE: return m->u.create.ts;
    case CT_WIRE_CANCEL: return m->u.cancel.ts;
    case CT_WIRE_RELEASE: return m->u.release.ts;
    case CT_WIRE_FREE: return m->u.free.ts;
    case CT_WIRE_TIMER: return m->u.timer.ts;
    case CT_WIRE_WAIT: return m->u.wait.ts;
    case CT_WIRE_THREAD: return m->u.thread.ts;
    case CT_WIRE_SAMPLE: return m->u.sample.ts;
    case CT_WIRE_RESYNC: return m->u.resync.ts;
    default: return 0;
    }
}

static void handle(CtLiveSource *self, const struct ct_wire_msg *m)
{
    struct ct_ctx_row r = {0};
    self->frames++;
    /* What follows an event may be about the contexts held (a snapshot lists them). */
    if (m->type != CT_WIRE_CREATE && m->type != CT_WIRE_CANCEL && m->type != CT_WIRE_RELEASE &&
        m->type != CT_WIRE_FREE && m->type != CT_WIRE_TIMER && m->type != CT_WIRE_SITE)
        release_held(self);
    /* The process's clock as far as the stream told it: ages and the time span. */
    self->meta.now_ns = MAX(self->meta.now_ns, frame_time(m));
    switch (m->type) {
    case CT_WIRE_HELLO: {
        g_free(self->meta.program);
        self->meta = (CtTraceMeta){.program = g_strdup(m->u.hello.program), .pid = m->u.hello.pid,
                                   .start_ns = m->u.hello.now, .now_ns = m->u.hello.now,
                                   .contexts = 0};
        /* The roots every trace has (ids 1 and 2, as in the trace file): the snapshot
         * lists what the program made under them. */
        add_roots(self->model);
        break;
    }
    case CT_WIRE_SITE:
        remember_site(self, m);
        break;
    case CT_WIRE_CONTEXT:
        snapshot_context(self, &m->u.context);
        break;
    case CT_WIRE_SNAPSHOT_END:
        if (self->in_snapshot != NULL) { /* a resync's: the window is open already */
            end_resync(self);
            ct_trace_model_set_meta(self->model, &self->meta);
            if (self->next != NULL)
                finish_replacement(self); /* may drop the model */
            break;
        }
        ct_trace_model_set_meta(self->model, &self->meta);
        update_findings(self, TRUE);
        ct_trace_model_flush(self->model);
        g_signal_emit(self, signals[SIGNAL_SNAPSHOT_DONE], 0); /* may drop the model */
        break;
    case CT_WIRE_RESYNC:
        if (self->in_snapshot == NULL)
            self->in_snapshot = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        if (self->freed > self->freed_max && self->next == NULL)
            begin_replacement(self);
        self->resync_ts = m->u.resync.ts;
        self->resyncs = m->u.resync.resyncs;
        self->skipped_events += m->u.resync.events;
        break;
    case CT_WIRE_SITE_COUNTS:
        count_site(self, m);
        break;
    case CT_WIRE_CREATE:
        r.id = (int64_t)m->u.create.id;
        ct_ctx_set(&r, CT_PARENT_ID, (int64_t)m->u.create.parent);
        ct_ctx_set(&r, CT_KIND, m->u.create.kind);
        ct_ctx_set(&r, CT_CREATED_NS, m->u.create.ts);
        ct_ctx_set(&r, CT_CREATE_THREAD, m->u.create.thread);
        if (m->u.create.stack != 0)
            ct_ctx_set(&r, CT_CREATE_STACK, (int64_t)m->u.create.stack);
        if (m->u.create.kind == CTX_KIND_DEADLINE)
            ct_ctx_set(&r, CT_REQUESTED_DEADLINE_NS, m->u.create.requested);
        if (m->u.create.deadline != 0)
            ct_ctx_set(&r, CT_DEADLINE_NS, m->u.create.deadline);
        push(self, &r, NULL);
        break;
    case CT_WIRE_CANCEL:
        r.id = (int64_t)m->u.cancel.id;
        ct_ctx_set(&r, CT_CANCELED_NS, m->u.cancel.ts);
        ct_ctx_set(&r, CT_CANCEL_WHY, m->u.cancel.why);
        ct_ctx_set(&r, CT_CANCEL_ERR, m->u.cancel.err);
        ct_ctx_set(&r, CT_CANCEL_CAUSE, m->u.cancel.cause);
        ct_ctx_set(&r, CT_CANCEL_THREAD, m->u.cancel.thread);
        if (m->u.cancel.reason != NULL)
            ct_ctx_set(&r, CT_CANCEL_REASON, 0);
        if (m->u.cancel.stack != 0)
            ct_ctx_set(&r, CT_CANCEL_STACK, (int64_t)m->u.cancel.stack);
        if (m->u.cancel.origin != 0)
            ct_ctx_set(&r, CT_CANCEL_ORIGIN_NS, m->u.cancel.origin);
        push(self, &r, m->u.cancel.reason);
        break;
    case CT_WIRE_RELEASE:
        r.id = (int64_t)m->u.release.id;
        ct_ctx_set(&r, CT_RELEASED_NS, m->u.release.ts);
        ct_ctx_set(&r, CT_RELEASED_LIVE, m->u.release.live);
        ct_ctx_set(&r, CT_RELEASE_THREAD, m->u.release.thread);
        if (m->u.release.stack != 0)
            ct_ctx_set(&r, CT_RELEASE_STACK, (int64_t)m->u.release.stack);
        push(self, &r, NULL);
        break;
    case CT_WIRE_FREE:
        r.id = (int64_t)m->u.free.id;
        ct_ctx_set(&r, CT_FREED_NS, m->u.free.ts);
        push(self, &r, NULL);
        break;
    case CT_WIRE_TIMER: {
        static const enum ct_ctx_col cols[] = {CT_TIMER_ARMED_NS, CT_TIMER_STOPPED_NS,
                                               CT_TIMER_FIRED_NS};
        r.id = (int64_t)m->u.timer.id;
        ct_ctx_set(&r, cols[m->u.timer.event], m->u.timer.ts);
        push(self, &r, NULL);
        break;
    }
    case CT_WIRE_SAMPLE: {
        struct ct_sample_row s = {m->u.sample.ts, m->u.sample.contexts, m->u.sample.timers,
                                  m->u.sample.waiters, m->u.sample.threads, m->u.sample.rss};
        ct_trace_model_add_sample(self->model, &s);
        break;
    }
    case CT_WIRE_EXIT_REACH: {
        gint64 id = (gint64)m->u.exit_reach.id;
        g_hash_table_insert(self->reach, g_memdup2(&id, sizeof id),
                            GINT_TO_POINTER((int)m->u.exit_reach.reach + 1));
        self->unreachable += m->u.exit_reach.reach == CT_WIRE_REACH_UNREACHABLE;
        break;
    }
    case CT_WIRE_EXIT_THREAD:
        self->threads_seen++;
        self->threads_blocked += m->u.exit_thread.state == CT_WIRE_EXIT_BLOCKED;
        self->threads_unregistered += m->u.exit_thread.thread == 0;
        break;
    case CT_WIRE_EXIT_CHECK:
        self->check_done = TRUE;
        self->reach_checked = m->u.exit_check.reach != NULL;
        g_free(self->check_status);
        self->check_status = g_strdup(m->u.exit_check.status);
        break;
    case CT_WIRE_BYE: {
        gboolean exited = m->u.bye.reason == CT_WIRE_BYE_EXIT;
        const char *why = m->u.bye.text ? m->u.bye.text : ct_wire_bye_name(m->u.bye.reason);
        /* As a trace of this exit would say (meta.exit_reason; no events after the cut
         * reach a client: the stream ends here). */
        self->end_in_flight = exited && ct_end_in_flight(why, 0);
        g_autofree char *check = exit_check_text(self);
        g_autofree char *text = g_strdup_printf(
            exited ? "the process exited (%s)%s" : "the stream ended: %s%s", why, check);
        end(self, text, exited);
        break;
    }
    default:
        break; /* waits and threads: the live views do not show them */
    }
}

/* Stop reading; keep what was pushed; say why. */
static void end(CtLiveSource *self, const char *text, gboolean complete)
{
    if (self->ended)
        return;
    self->ended = TRUE;
    g_free(self->state_text);
    /* Why it ended, and — still — that sites were dropped. */
    g_autofree char *skipped = ct_format_count((gint64)self->skipped_events);
    g_autofree char *behind = self->resyncs == 0 ? g_strdup("")
                                                 : g_strdup_printf("; fell behind %u time%s: %s events skipped",
                                                                   self->resyncs, self->resyncs == 1 ? "" : "s",
                                                                   skipped);
    self->state_text = self->budget.exhausted
                           ? g_strdup_printf("%s%s; " CT_LIVE_BUDGET_MESSAGE, text, behind, self->path,
                                             CT_LIVE_BUDGET_ARGS)
                           : g_strdup_printf("%s%s", text, behind);
    self->meta.complete = complete;
    ct_trace_model_set_meta(self->model, &self->meta);
    update_findings(self, TRUE);
    /* The verdict on a context still live depends on the end (complete, the exit check):
     * judge each again (an empty row changes nothing but the item's state). */
    if (complete) {
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, self->live);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            struct ct_ctx_row r = {.id = *(gint64 *)key};
            if (ct_trace_model_lookup(self->model, r.id) != NULL) /* else a new item */
                ct_trace_model_apply_row(self->model, &r);
        }
    }
    ct_trace_model_flush(self->model);
    g_signal_emit(self, signals[SIGNAL_ENDED], 0);
    /* (A handler may have dropped the model: read_some checks.) */
}

static gboolean read_some_frames(CtLiveSource *self, int fd);

static gboolean read_some(CtLiveSource *self, int fd)
{
    gboolean more = read_some_frames(self, fd);
    release_held(self);
    return more;
}

static gboolean read_some_frames(CtLiveSource *self, int fd)
{
    gint64 until = g_get_monotonic_time() + READ_BUDGET_US;
    /* Decode everything buffered before each read and after the last: bytes left in
     * the decoder would wait for the next event to wake the loop. A signal handler may
     * drop the model (closing the window) at any frame: then stop at once. */
    for (;;) {
        struct ct_wire_msg m;
        int rc = CT_WIRE_OK; /* (set by the loop whenever it is read) */
        while (self->model != NULL && !self->ended && (rc = ct_wire_next(self->decoder, &m)) == CT_WIRE_OK)
            handle(self, &m);
        if (self->model == NULL || self->ended)
            return FALSE;
        if (rc < 0) {
            g_autofree char *text = g_strdup_printf("protocol error: %s", ct_wire_strerror(rc));
            end(self, text, FALSE);
            return FALSE;
        }
        if (g_get_monotonic_time() >= until)
            return TRUE; /* the socket stays readable: the loop calls again after painting */
        ssize_t n = ct_wire_read(self->decoder, fd);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return TRUE; /* all caught up */
        if (n <= 0) {
            /* Behind, a window may not take its last frames in the time the process
             * gives clients at its exit (docs/live.md): not necessarily a death. */
            g_autofree char *text = n == 0 ? g_strdup(self->resyncs > 0 ? "the stream ended without a BYE (the process "
                                                                          "exited or died while this window was behind)"
                                                                        : "the stream ended without a BYE (did the "
                                                                          "process die?)")
                                           : g_strdup_printf("reading the socket: %s", g_strerror(errno));
            end(self, text, FALSE);
            return FALSE;
        }
    }
}

static gboolean readable_cb(gint fd, GIOCondition cond, gpointer data)
{
    (void)cond;
    CtLiveSource *self = g_object_ref(data); /* the model, its owner, may go meanwhile */
    self->dispatching = TRUE;
    gboolean more = read_some(self, fd);
    self->dispatching = FALSE;
    if (more) {
        /* The created count and the clock, once per wake-up (the model coalesces). */
        ct_trace_model_set_meta(self->model, &self->meta);
        update_findings(self, FALSE);
    } else {
        self->watch = 0;
        close(self->fd);
        self->fd = -1;
    }
    g_object_unref(self);
    return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* ---- life cycle ---------------------------------------------------------------------- */

CtLiveSource *ct_live_source_connect(const char *target, GError **error)
{
    char path[CT_LIVE_PATH_MAX];
    if (ct_live_resolve(target, path, sizeof path) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                    "'%s' is too long for a socket path", target);
        return NULL;
    }
    int fd = ct_live_connect(path);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot connect to %s: %s%s", path,
                    g_strerror(e),
                    e == ENOENT || e == ECONNREFUSED ? " (is the process running under ctxtrace?)" : "");
        return NULL;
    }
    ct_wire_decoder *d = ct_wire_decoder_new();
    if (d == NULL || !g_unix_set_fd_nonblocking(fd, TRUE, error)) {
        if (d == NULL)
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
        ct_wire_decoder_free(d);
        close(fd);
        return NULL;
    }
    CtLiveSource *self = g_object_new(CT_TYPE_LIVE_SOURCE, NULL);
    self->path = g_strdup(path);
    self->fd = fd;
    self->decoder = d;
    set_following_text(self);
    return self;
}

/* Others may hold the source longer than the window holds the model: with the model
 * gone there is nothing to push into, so stop reading. */
static void model_gone(gpointer data, GObject *where_the_model_was)
{
    (void)where_the_model_was;
    CtLiveSource *self = data;
    self->model = NULL;
    /* From inside readable_cb (a handler of a signal it caused closed the window), the
     * callback itself stops the watch when it returns. */
    if (self->watch != 0 && !self->dispatching)
        g_source_remove(self->watch);
    if (!self->dispatching)
        self->watch = 0;
}

CtTraceModel *ct_live_source_start(CtLiveSource *self)
{
    g_return_val_if_fail(self->model == NULL, NULL);
    CtTraceModel *model = ct_trace_model_new(CT_SOURCE(self));
    self->model = model;
    g_object_weak_ref(G_OBJECT(model), model_gone, self);
    ct_trace_model_set_live(model, TRUE);
    self->meta.contexts = 0;
    ct_trace_model_set_meta(model, &self->meta);
    /* Below GTK's layout and redraw (GDK_PRIORITY_REDRAW): a socket that is always
     * readable under a flood would otherwise win every main-loop turn and no frame
     * would ever be painted. */
    self->watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT_IDLE, self->fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                     readable_cb, self, NULL);
    return model;
}

const char *ct_live_source_get_path(CtLiveSource *self)
{
    return self->path;
}

gboolean ct_live_source_has_ended(CtLiveSource *self)
{
    return self->ended;
}

const char *ct_live_source_get_state_text(CtLiveSource *self)
{
    return self->state_text;
}

guint64 ct_live_source_get_frames(CtLiveSource *self)
{
    return self->frames;
}

CtTraceModel *ct_live_source_get_model(CtLiveSource *self)
{
    return self->model;
}

void ct_live_source_set_freed_max(CtLiveSource *self, guint n)
{
    self->freed_max = n;
}

guint ct_live_source_get_replacements(CtLiveSource *self)
{
    return self->replacements;
}

static void ct_live_source_finalize(GObject *object)
{
    CtLiveSource *self = CT_LIVE_SOURCE(object);
    /* The model owns this source: when its dispose drops the last reference, this runs
     * before the model's weak references are notified — model_gone must not be called
     * on freed memory (it was: it removed the watch a second time). */
    if (self->model != NULL)
        g_object_weak_unref(G_OBJECT(self->model), model_gone, self);
    if (self->watch != 0)
        g_source_remove(self->watch);
    if (self->fd >= 0)
        close(self->fd);
    ct_wire_decoder_free(self->decoder);
    g_hash_table_destroy(self->sites);
    g_free(self->meta.program);
    g_free(self->path);
    g_free(self->state_text);
    g_hash_table_destroy(self->live);
    g_hash_table_destroy(self->reach);
    g_free(self->check_status);
    g_clear_pointer(&self->in_snapshot, g_hash_table_destroy);
    g_clear_object(&self->next);
    for (guint i = 0; i < self->held->len; i++)
        free(g_array_index(self->held, struct ct_ctx_row, i).reason);
    g_array_unref(self->held);
    g_hash_table_destroy(self->held_at);
    G_OBJECT_CLASS(ct_live_source_parent_class)->finalize(object);
}

static void ct_live_source_class_init(CtLiveSourceClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = ct_live_source_finalize;
    signals[SIGNAL_SNAPSHOT_DONE] = g_signal_new("snapshot-done", G_TYPE_FROM_CLASS(klass),
                                                 G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_MODEL_REPLACED] = g_signal_new("model-replaced", G_TYPE_FROM_CLASS(klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_ENDED] = g_signal_new("ended", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void ct_live_source_init(CtLiveSource *self)
{
    self->fd = -1;
    self->sites = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, site_free);
    self->live = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->reach = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->held = g_array_new(FALSE, FALSE, sizeof(struct ct_ctx_row));
    self->freed_max = CT_LIVE_FREED_MAX;
    self->held_at = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
}
