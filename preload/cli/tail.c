/*
 * tail.c — `ctxtrace tail [--seconds S] [--format json|text] PID|SOCKET`: a running
 * traced process's live stream (docs/live.md) as JSON lines, or as lines for people.
 *
 * One line per frame, each with a "type": hello, then the snapshot ("context" lines,
 * closed by "snapshot_end"), then events ("create", "cancel", "release", "free",
 * "timer", "wait", "thread", "sample", "site_counts") and at last "bye". A client
 * too slow for the stream (tail whose output is read slowly) is resynced, not dropped:
 * a "resync" line says how many frames the process skipped for it, a fresh snapshot
 * follows ("context" and "site_counts" lines, "snapshot_end"), and events go on.
 * SITE frames are not printed:
 * their stack ids are resolved into a "site" object on the lines that refer to them.
 * What it keeps of them is bounded (ctxtrace/core/live_budget.h): a server is a peer.
 *
 * Exit status: 0 after a BYE for the process's own reasons (exit, exec) or at the end
 * of --seconds, 1 when the stream ended without a BYE (the process died), 2 on usage,
 * connection or protocol errors, 3 when the process dropped this client (BYE slow,
 * busy or protocol: what was printed is not the whole stream).
 */
#include <ctxtrace/core/live_budget.h>
#include <ctxtrace/core/livepath.h>
#include <ctxtrace/core/livesweep.h>
#include <ctxtrace/core/store.h>
#include <ctxtrace/core/u64map.h>
#include <ctxtrace/core/wire.h>
#include <ctxtrace/tracer.h>
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "opts.h"

/* The process ended the stream for this client alone (BYE slow, busy, protocol). */
enum { TAIL_EXIT_DROPPED = 3 };

struct site {
    char *function, *file;
    uint32_t line;
};

/* What a stream has told us so far. */
struct tail {
    struct json j;
    struct u64map site_of; /* stack id -> 1 + index in sites */
    struct site *sites;
    size_t nsites, cap;
    struct ct_live_budget budget; /* what sites may cost us (a peer's to fill) */
    const char *peer;
    int64_t hello_now;     /* the server's clock at HELLO: the text's time origin */
    int64_t snapshot_now;  /* ... at HELLO, then at each RESYNC: ages in the snapshot */
    bool bye;
    int bye_reason;        /* CT_WIRE_BYE_*, once bye */
    bool text;             /* --format text: lines for people, not JSON */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static size_t text_bytes(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

static void remember_site(struct tail *t, const struct ct_wire_msg *m)
{
    uint64_t known;
    if (m->u.site.stack == 0 || u64map_get(&t->site_of, m->u.site.stack, &known))
        return;
    bool first;
    if (!ct_live_budget_take(&t->budget,
                             text_bytes(m->u.site.function) + text_bytes(m->u.site.file),
                             &first)) {
        if (first)
            cli_error("tail: " CT_LIVE_BUDGET_MESSAGE, t->peer, CT_LIVE_BUDGET_ARGS);
        return;
    }
    if (t->nsites == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        struct site *grown = realloc(t->sites, cap * sizeof *grown);
        if (grown == NULL)
            return; /* the lines then show the stack id without a site */
        t->sites = grown;
        t->cap = cap;
    }
    struct site *s = &t->sites[t->nsites];
    s->function = dup_or_null(m->u.site.function);
    s->file = dup_or_null(m->u.site.file);
    s->line = m->u.site.line;
    if (u64map_put(&t->site_of, m->u.site.stack, t->nsites + 1))
        t->nsites++;
}

/* "key": {"stack": id, "function": .., "file": .., "line": ..} for a stack id. */
static void site(struct tail *t, const char *key, uint64_t stack)
{
    if (stack == 0)
        return;
    json_key(&t->j, key);
    json_object_inline(&t->j);
    json_key(&t->j, "stack");
    json_int(&t->j, (int64_t)stack);
    uint64_t i;
    if (u64map_get(&t->site_of, stack, &i)) {
        const struct site *s = &t->sites[i - 1];
        json_key(&t->j, "function");
        json_string(&t->j, s->function);
        json_key(&t->j, "file");
        json_string(&t->j, s->file);
        json_key(&t->j, "line");
        json_int(&t->j, s->line);
    }
    json_end_object(&t->j);
}

static void field(struct tail *t, const char *key, int64_t v)
{
    json_key(&t->j, key);
    json_int(&t->j, v);
}

static void text(struct tail *t, const char *key, const char *v)
{
    json_key(&t->j, key);
    json_string(&t->j, v);
}

static void print_context(struct tail *t, const struct ct_wire_msg *m)
{
    const struct ct_wire_context *c = &m->u.context;
    field(t, "id", (int64_t)c->id);
    field(t, "parent", (int64_t)c->parent);
    text(t, "kind", ct_kind_name(c->kind));
    text(t, "state", c->done ? "done" : "live");
    if (c->done) {
        text(t, "why", ct_why_name(c->why));
        field(t, "err", c->err);
        field(t, "canceled_ns", c->canceled);
        field(t, "origin_ns", c->origin);
        if (c->reason != NULL)
            text(t, "reason", c->reason);
    }
    if (c->released != 0)
        field(t, "released_ns", c->released);
    field(t, "deadline_ns", c->deadline);
    field(t, "created_ns", c->created);
    field(t, "age_ms", (t->snapshot_now - c->created) / 1000000);
    field(t, "thread", c->thread);
    json_key(&t->j, "timer_armed");
    json_bool(&t->j, (c->flags & CT_WIRE_TIMER_ARMED) != 0);
    json_key(&t->j, "owners_dropped");
    json_bool(&t->j, (c->flags & CT_WIRE_OWNERS_DROPPED) != 0);
    json_key(&t->j, "findings");
    json_array_inline(&t->j);
    static const struct { unsigned flag; const char *rule; } rules[] = {
        {CT_WIRE_LOST_CANCEL, "lost-cancel"},
        {CT_WIRE_ORPHANED_TIMER, "orphaned-timer"},
        {CT_WIRE_INEFFECTIVE_DEADLINE, "ineffective-deadline"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (c->flags & rules[i].flag)
            json_string(&t->j, rules[i].rule);
    json_end_array(&t->j);
    site(t, "site", c->stack);
}

/* The members every event about one context starts with. */
static void stamp(struct tail *t, int64_t ts, uint32_t thread, uint64_t id)
{
    field(t, "ts_ns", ts);
    field(t, "thread", thread);
    field(t, "id", (int64_t)id);
}

/* The exit check's names, as the trace's exit_threads.state and exit_reach.reach. */
static const char *const exit_states[CT_WIRE_EXIT_STATE_COUNT] = {"running", "blocked",
                                                                  "stopped", "exiting"};
static const char *const reaches[CT_WIRE_REACH_COUNT] = {"unreachable", "reachable", "stuck"};

static void print_event(struct tail *t, const struct ct_wire_msg *m)
{
    static const char *const timer_events[] = {"armed", "stopped", "fired"};
    static const char *const wait_events[] = {"blocked", "woken", "fd"};
    switch (m->type) {
    case CT_WIRE_CREATE:
        stamp(t, m->u.create.ts, m->u.create.thread, m->u.create.id);
        field(t, "parent", (int64_t)m->u.create.parent);
        text(t, "kind", ct_kind_name(m->u.create.kind));
        if (m->u.create.kind == CTX_KIND_DEADLINE)
            field(t, "requested_deadline_ns", m->u.create.requested);
        field(t, "deadline_ns", m->u.create.deadline);
        site(t, "site", m->u.create.stack);
        break;
    case CT_WIRE_CANCEL:
        stamp(t, m->u.cancel.ts, m->u.cancel.thread, m->u.cancel.id);
        text(t, "why", ct_why_name(m->u.cancel.why));
        field(t, "err", m->u.cancel.err);
        field(t, "cause", m->u.cancel.cause);
        field(t, "origin_ns", m->u.cancel.origin);
        if (m->u.cancel.reason != NULL)
            text(t, "reason", m->u.cancel.reason);
        site(t, "site", m->u.cancel.stack);
        break;
    case CT_WIRE_RELEASE:
        stamp(t, m->u.release.ts, m->u.release.thread, m->u.release.id);
        json_key(&t->j, "live");
        json_bool(&t->j, m->u.release.live);
        site(t, "site", m->u.release.stack);
        break;
    case CT_WIRE_FREE:
        stamp(t, m->u.free.ts, m->u.free.thread, m->u.free.id);
        break;
    case CT_WIRE_TIMER:
        field(t, "ts_ns", m->u.timer.ts);
        field(t, "id", (int64_t)m->u.timer.id);
        text(t, "event", timer_events[m->u.timer.event]);
        break;
    case CT_WIRE_WAIT:
        stamp(t, m->u.wait.ts, m->u.wait.thread, m->u.wait.id);
        field(t, "wait", (int64_t)m->u.wait.wait);
        text(t, "event", wait_events[m->u.wait.event]);
        if (m->u.wait.event == CT_WIRE_WAIT_WOKEN)
            field(t, "result", m->u.wait.result);
        site(t, "site", m->u.wait.stack);
        break;
    case CT_WIRE_THREAD:
        field(t, "ts_ns", m->u.thread.ts);
        field(t, "thread", m->u.thread.thread);
        text(t, "event", m->u.thread.event == CT_WIRE_THREAD_START ? "start" : "exit");
        if (m->u.thread.event == CT_WIRE_THREAD_START) {
            field(t, "tid", m->u.thread.tid);
            field(t, "parent_thread", m->u.thread.parent);
            site(t, "site", m->u.thread.stack);
        }
        break;
    case CT_WIRE_SAMPLE:
        field(t, "ts_ns", m->u.sample.ts);
        field(t, "live_contexts", m->u.sample.contexts);
        field(t, "armed_timers", m->u.sample.timers);
        field(t, "blocked_waiters", m->u.sample.waiters);
        field(t, "threads", m->u.sample.threads);
        field(t, "rss_bytes", m->u.sample.rss);
        break;
    /* The exit check: the fields of the trace's exit_threads and exit_reach rows, a
     * column that is NULL there (thread never registered, syscall in user space, stack
     * unknown) left out. */
    case CT_WIRE_EXIT_THREAD:
        field(t, "ts_ns", m->u.exit_thread.ts);
        if (m->u.exit_thread.thread != 0)
            field(t, "thread", m->u.exit_thread.thread);
        field(t, "tid", m->u.exit_thread.tid);
        text(t, "state", exit_states[m->u.exit_thread.state]);
        if (m->u.exit_thread.syscall >= 0)
            field(t, "syscall", m->u.exit_thread.syscall);
        json_key(&t->j, "stopped");
        json_bool(&t->j, m->u.exit_thread.stopped);
        site(t, "site", m->u.exit_thread.stack);
        break;
    case CT_WIRE_EXIT_REACH:
        field(t, "id", (int64_t)m->u.exit_reach.id);
        text(t, "reach", reaches[m->u.exit_reach.reach]);
        break;
    case CT_WIRE_EXIT_CHECK:
        field(t, "ts_ns", m->u.exit_check.ts);
        text(t, "status", m->u.exit_check.status);
        if (m->u.exit_check.reach != NULL)
            text(t, "reach", m->u.exit_check.reach);
        break;
    case CT_WIRE_RESYNC:
        field(t, "ts_ns", m->u.resync.ts);
        field(t, "skipped_events", (int64_t)m->u.resync.events);
        field(t, "skipped_frames", (int64_t)m->u.resync.frames);
        field(t, "skipped_bytes", (int64_t)m->u.resync.bytes);
        field(t, "resyncs", m->u.resync.resyncs);
        break;
    case CT_WIRE_SITE_COUNTS:
        site(t, "site", m->u.site_counts.stack);
        field(t, "created", m->u.site_counts.created);
        field(t, "freed", m->u.site_counts.freed);
        field(t, "live", m->u.site_counts.live);
        field(t, "lost_cancel", m->u.site_counts.lost_cancel);
        field(t, "orphaned_timer", m->u.site_counts.orphaned_timer);
        field(t, "ineffective_deadline", m->u.site_counts.ineffective_deadline);
        break;
    default:
        break;
    }
}

/* ---- --format text ------------------------------------------------------------------ */

/* A string from the process, control characters shown as '?' (a name is input, and
 * this goes to a terminal). */
static void put_clean(const char *s)
{
    for (; s != NULL && *s; s++)
        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* " at function file:line" for a stack id, when its site is known. */
static void text_site(struct tail *t, uint64_t stack)
{
    uint64_t i;
    if (stack == 0 || !u64map_get(&t->site_of, stack, &i))
        return;
    const struct site *s = &t->sites[i - 1];
    const char *slash = s->file != NULL ? strrchr(s->file, '/') : NULL;
    fputs(" at ", stdout);
    put_clean(s->function != NULL ? s->function : "?");
    if (s->file != NULL) {
        putchar(' ');
        put_clean(slash != NULL ? slash + 1 : s->file);
        printf(":%u", s->line);
    }
}

/* Seconds since the HELLO (the snapshot's "now"), the time column. */
static void text_time(struct tail *t, int64_t ts)
{
    printf("%+10.3f s  ", (double)(ts - t->hello_now) / 1e9);
}

static void text_event(struct tail *t, const struct ct_wire_msg *m)
{
    static const char *const timer_events[] = {"armed", "stopped", "fired"};
    static const char *const wait_events[] = {"blocked", "woken", "polls its fd"};
    switch (m->type) {
    case CT_WIRE_CREATE:
        text_time(t, m->u.create.ts);
        printf("create   #%llu %s (parent #%llu, thread %u)",
               (unsigned long long)m->u.create.id, ct_kind_name(m->u.create.kind),
               (unsigned long long)m->u.create.parent, m->u.create.thread);
        text_site(t, m->u.create.stack);
        break;
    case CT_WIRE_CANCEL:
        text_time(t, m->u.cancel.ts);
        printf("cancel   #%llu %s", (unsigned long long)m->u.cancel.id,
               ct_why_name(m->u.cancel.why));
        if (m->u.cancel.reason != NULL) {
            fputs(" \"", stdout);
            put_clean(m->u.cancel.reason);
            putchar('"');
        }
        text_site(t, m->u.cancel.stack);
        break;
    case CT_WIRE_RELEASE:
        text_time(t, m->u.release.ts);
        printf("release  #%llu%s", (unsigned long long)m->u.release.id,
               m->u.release.live ? " while live" : "");
        text_site(t, m->u.release.stack);
        break;
    case CT_WIRE_FREE:
        text_time(t, m->u.free.ts);
        printf("free     #%llu", (unsigned long long)m->u.free.id);
        break;
    case CT_WIRE_TIMER:
        text_time(t, m->u.timer.ts);
        printf("timer    #%llu %s", (unsigned long long)m->u.timer.id,
               timer_events[m->u.timer.event]);
        break;
    case CT_WIRE_WAIT:
        text_time(t, m->u.wait.ts);
        printf("wait     #%llu thread %u %s", (unsigned long long)m->u.wait.id,
               m->u.wait.thread, wait_events[m->u.wait.event]);
        if (m->u.wait.event == CT_WIRE_WAIT_WOKEN)
            printf(" (%d)", m->u.wait.result);
        text_site(t, m->u.wait.stack);
        break;
    case CT_WIRE_THREAD:
        text_time(t, m->u.thread.ts);
        if (m->u.thread.event == CT_WIRE_THREAD_START) {
            printf("thread   %u started (tid %d, by thread %u)", m->u.thread.thread,
                   (int)m->u.thread.tid, m->u.thread.parent);
            text_site(t, m->u.thread.stack);
        } else {
            printf("thread   %u exited", m->u.thread.thread);
        }
        break;
    case CT_WIRE_SAMPLE:
        text_time(t, m->u.sample.ts);
        printf("sample   %lld live contexts, %lld armed timers, %lld blocked waiters, "
               "%lld threads, %.1f MiB RSS",
               (long long)m->u.sample.contexts, (long long)m->u.sample.timers,
               (long long)m->u.sample.waiters, (long long)m->u.sample.threads,
               (double)m->u.sample.rss / (1024.0 * 1024.0));
        break;
    case CT_WIRE_EXIT_THREAD: {
        const char *who = m->u.exit_thread.stopped ? "" : " (it blocked the check's signal)";
        text_time(t, m->u.exit_thread.ts);
        if (m->u.exit_thread.thread != 0)
            printf("at exit  thread %u (tid %lld) %s", m->u.exit_thread.thread,
                   (long long)m->u.exit_thread.tid, exit_states[m->u.exit_thread.state]);
        else
            printf("at exit  tid %lld (not the shim's) %s", (long long)m->u.exit_thread.tid,
                   exit_states[m->u.exit_thread.state]);
        if (m->u.exit_thread.syscall >= 0)
            printf(" in syscall %lld", (long long)m->u.exit_thread.syscall);
        fputs(who, stdout);
        text_site(t, m->u.exit_thread.stack);
        break;
    }
    case CT_WIRE_EXIT_REACH:
        printf("%14s#%llu is %s at exit", "", (unsigned long long)m->u.exit_reach.id,
               reaches[m->u.exit_reach.reach]);
        break;
    case CT_WIRE_EXIT_CHECK:
        fputs("exit check: ", stdout);
        put_clean(m->u.exit_check.status);
        if (m->u.exit_check.reach != NULL) {
            fputs(", reachability: ", stdout);
            put_clean(m->u.exit_check.reach);
        }
        break;
    case CT_WIRE_RESYNC:
        text_time(t, m->u.resync.ts);
        printf("resync   fell behind: the process skipped %llu events (%llu frames, %.1f MiB) "
               "for this client; a fresh snapshot follows (resync %u)",
               (unsigned long long)m->u.resync.events, (unsigned long long)m->u.resync.frames,
               (double)m->u.resync.bytes / (1024.0 * 1024.0), m->u.resync.resyncs);
        break;
    case CT_WIRE_SITE_COUNTS:
        printf("%14scounts   %lld created, %lld freed, %lld live", "",
               (long long)m->u.site_counts.created, (long long)m->u.site_counts.freed,
               (long long)m->u.site_counts.live);
        if (m->u.site_counts.lost_cancel > 0)
            printf(", %lld lost-cancel", (long long)m->u.site_counts.lost_cancel);
        if (m->u.site_counts.orphaned_timer > 0)
            printf(", %lld orphaned-timer", (long long)m->u.site_counts.orphaned_timer);
        if (m->u.site_counts.ineffective_deadline > 0)
            printf(", %lld ineffective-deadline",
                   (long long)m->u.site_counts.ineffective_deadline);
        if (m->u.site_counts.stack == 0)
            fputs(" (no stack)", stdout);
        text_site(t, m->u.site_counts.stack);
        break;
    default:
        printf("(%s)", ct_wire_type_name(m->type));
        break;
    }
}

static void print_text(struct tail *t, const struct ct_wire_msg *m)
{
    switch (m->type) {
    case CT_WIRE_HELLO:
        printf("pid %u: ", m->u.hello.pid);
        put_clean(m->u.hello.program);
        fputs(" (snapshot of its live contexts follows)", stdout);
        break;
    case CT_WIRE_CONTEXT: {
        const struct ct_wire_context *c = &m->u.context;
        printf("  #%llu %s, %s, parent #%llu, age %.3f s", (unsigned long long)c->id,
               ct_kind_name(c->kind), c->done ? ct_why_name(c->why) : "live",
               (unsigned long long)c->parent, (double)(t->snapshot_now - c->created) / 1e9);
        if (c->flags & CT_WIRE_TIMER_ARMED)
            fputs(", timer armed", stdout);
        if (c->flags & CT_WIRE_LOST_CANCEL)
            fputs(" [lost-cancel]", stdout);
        if (c->flags & CT_WIRE_ORPHANED_TIMER)
            fputs(" [orphaned-timer]", stdout);
        if (c->flags & CT_WIRE_INEFFECTIVE_DEADLINE)
            fputs(" [ineffective-deadline]", stdout);
        text_site(t, c->stack);
        break;
    }
    case CT_WIRE_SNAPSHOT_END:
        printf("%u live contexts; events follow (times from the snapshot)",
               (unsigned)m->u.snapshot_end.contexts);
        break;
    case CT_WIRE_BYE:
        fputs("bye: ", stdout);
        fputs(ct_wire_bye_name(m->u.bye.reason), stdout);
        if (m->u.bye.text != NULL) {
            fputs(" (", stdout);
            put_clean(m->u.bye.text);
            putchar(')');
        }
        break;
    default:
        text_event(t, m);
        break;
    }
    putchar('\n');
}

static void print(struct tail *t, const struct ct_wire_msg *m)
{
    if (m->type == CT_WIRE_SITE) {
        remember_site(t, m);
        return;
    }
    if (m->type == CT_WIRE_HELLO)
        t->hello_now = t->snapshot_now = m->u.hello.now;
    if (m->type == CT_WIRE_RESYNC)
        t->snapshot_now = m->u.resync.ts;
    if (m->type == CT_WIRE_BYE) {
        t->bye = true;
        t->bye_reason = m->u.bye.reason;
    }
    if (t->text) {
        print_text(t, m);
        return;
    }
    json_init(&t->j, stdout);
    json_object_inline(&t->j);
    text(t, "type", ct_wire_type_name(m->type));
    switch (m->type) {
    case CT_WIRE_HELLO:
        field(t, "version", m->u.hello.version);
        field(t, "pid", m->u.hello.pid);
        field(t, "now_ns", m->u.hello.now);
        text(t, "program", m->u.hello.program);
        break;
    case CT_WIRE_CONTEXT:
        print_context(t, m);
        break;
    case CT_WIRE_SNAPSHOT_END:
        field(t, "contexts", m->u.snapshot_end.contexts);
        break;
    case CT_WIRE_BYE:
        text(t, "reason", ct_wire_bye_name(m->u.bye.reason));
        text(t, "text", m->u.bye.text);
        break;
    default:
        print_event(t, m);
        break;
    }
    json_end_object(&t->j);
    json_finish(&t->j);
}

/* A BYE for the process's own reasons (exit, exec) is the stream's end: 0. A BYE that
 * drops this client (too slow, too many clients, it sent data) leaves the stream
 * incomplete: TAIL_EXIT_DROPPED with the reason on stderr, so a script can tell. */
static int bye_status(const char *path, int reason)
{
    switch (reason) {
    case CT_WIRE_BYE_EXIT:
    case CT_WIRE_BYE_EXEC:
        return 0;
    case CT_WIRE_BYE_SLOW:
        cli_error("tail: %s dropped this client for reading too slowly (BYE slow): the "
                  "stream printed is incomplete", path);
        return TAIL_EXIT_DROPPED;
    case CT_WIRE_BYE_BUSY:
        cli_error("tail: %s serves too many clients already (BYE busy)", path);
        return TAIL_EXIT_DROPPED;
    default:
        cli_error("tail: %s ended the stream: %s", path, ct_wire_bye_name(reason));
        return TAIL_EXIT_DROPPED;
    }
}

/* Read and print until BYE, end of stream, an error, or the deadline (-1: none). */
static int follow(int fd, const char *path, int64_t deadline_ms, bool text_mode)
{
    ct_wire_decoder *d = ct_wire_decoder_new();
    struct tail t = {.text = text_mode, .peer = path};
    int status = 1;
    if (d == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    for (;;) {
        struct ct_wire_msg m;
        int rc;
        while ((rc = ct_wire_next(d, &m)) == CT_WIRE_OK && !t.bye)
            print(&t, &m);
        fflush(stdout);
        if (t.bye) {
            status = bye_status(path, t.bye_reason);
            break;
        }
        if (rc < 0) {
            cli_error("%s: %s", path, ct_wire_strerror(rc));
            status = CLI_EXIT_ERROR;
            break;
        }
        int wait_ms = -1;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - now_ms();
            if (left <= 0) {
                status = 0;
                break;
            }
            wait_ms = (int)left;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int p = poll(&pfd, 1, wait_ms);
        if (p < 0 && errno != EINTR) {
            cli_error("%s: %s", path, strerror(errno));
            status = CLI_EXIT_ERROR;
            break;
        }
        if (p <= 0)
            continue;
        ssize_t n = ct_wire_read(d, fd);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cli_error("%s: the stream ended without a BYE (did the process die?)", path);
            break;
        }
    }
    for (size_t i = 0; i < t.nsites; i++) {
        free(t.sites[i].function);
        free(t.sites[i].file);
    }
    free(t.sites);
    u64map_free(&t.site_of);
    ct_wire_decoder_free(d);
    return status;
}

static bool is_trace_file(const char *path)
{
    static const char magic[16] = "SQLite format 3"; /* with its NUL: 16 bytes */
    char head[16];
    FILE *f = fopen(path, "rb");
    bool trace = f != NULL && fread(head, 1, sizeof head, f) == sizeof head &&
                 memcmp(head, magic, sizeof head) == 0;
    if (f != NULL)
        fclose(f);
    return trace;
}

/* Why `arg` (resolved to `path`) cannot be followed, in the user's terms: connect's
 * "Connection refused" says nothing useful about a trace file or a finished process. */
static void connect_error(const char *arg, const char *path, int err)
{
    struct stat st;
    bool is_pid = arg[0] != '\0' && strspn(arg, "0123456789") == strlen(arg);
    if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        if (is_trace_file(path))
            cli_error("tail: %s is a trace file, not a live socket (read it with ctxtrace "
                      "report or ctxtrace-inspector)", path);
        else
            cli_error("tail: %s is not a live socket", path);
    } else if (err == ENOENT && is_pid) {
        cli_error("tail: no traced process %s serves a live socket (%s does not exist; "
                  "ctxtrace ps lists those that do)", arg, path);
    } else if (err == ECONNREFUSED) {
        cli_error("tail: nobody serves %s any more (its process has ended)", path);
    } else {
        cli_error("tail: cannot connect to %s: %s", path, strerror(err));
    }
}

enum { OPT_SECONDS = 1, OPT_FORMAT = 'f' };

static const struct cli_opt tail_options[] = {
    {OPT_SECONDS, "seconds", 0, "S", "stop after S seconds (default: until the process ends)"},
    {OPT_FORMAT, "format", 'f', "FORMAT",
     "json (default): one JSON object per line, for\nprograms; text: one line per event, "
     "for people"},
    {0},
};

static const struct cli_command tail_command = {
    .name = "tail",
    .synopsis = "[OPTIONS] PID|SOCKET",
    .summary = "follow a running traced process's live contexts and events",
    .about = "Connect to a running traced process (its PID, or its socket's path) and print\n"
             "its live stream as JSON lines, each with a \"type\": the snapshot of every live\n"
             "context, then every event (docs/live.md).",
    .opts = tail_options,
    .footer = "Exit status: 0 when the process ended the stream (exit, exec) or at the end\n"
              "of --seconds, 1 when the stream ended without a goodbye (the process died),\n"
              "2 on errors, 3 when the process dropped this client (too many clients: BYE\n"
              "busy; an older process, too slow: BYE slow) and the stream printed is\n"
              "incomplete. A client too slow for the stream is resynced: a \"resync\" line\n"
              "says how many frames it skipped, and a fresh snapshot follows.",
};

const struct cli_command *const cli_tail = &tail_command;

int cmd_tail(int argc, char **argv)
{
    double seconds = -1;
    const char *v;
    int id;
    struct cli_parser p;
    cli_parser_init(&p, &tail_command, argc, argv);
    bool text_mode = false;
    while ((id = cli_next(&p, &v)) > 0) {
        if (id == OPT_FORMAT) {
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0) {
                cli_error("tail: unknown format '%s' (json or text)", v);
                return CLI_EXIT_ERROR;
            }
            text_mode = strcmp(v, "text") == 0;
            continue;
        }
        assert(id == OPT_SECONDS);
        char *end;
        seconds = strtod(v, &end);
        if (end == v || *end != '\0' || !isfinite(seconds) || seconds <= 0 || seconds > 1e6) {
            cli_error("tail: --seconds wants a positive number of seconds, not '%s'", v);
            return CLI_EXIT_ERROR;
        }
    }
    if (id != CLI_END)
        return id == CLI_HELP ? 0 : CLI_EXIT_ERROR;
    int i = cli_optind(&p);
    if (i + 1 != argc) {
        cli_error(i >= argc ? "tail: no PID or socket given (usage: ctxtrace tail [OPTIONS] "
                              "PID|SOCKET)"
                            : "tail: one process at a time (usage: ctxtrace tail [OPTIONS] "
                              "PID|SOCKET)");
        return CLI_EXIT_ERROR;
    }
    char path[CT_LIVE_PATH_MAX];
    if (ct_live_resolve(argv[i], path, sizeof path) != 0) {
        cli_error("'%s' is too long for a socket path", argv[i]);
        return CLI_EXIT_ERROR;
    }
    ct_live_sweep(); /* a dead process's socket is then "no such process", not refused */
    int fd = ct_live_connect(path);
    if (fd < 0) {
        connect_error(argv[i], path, errno);
        return CLI_EXIT_ERROR;
    }
    int64_t deadline = seconds > 0 ? now_ms() + (int64_t)(seconds * 1000) : -1;
    int status = follow(fd, path, deadline, text_mode);
    close(fd);
    return status;
}
