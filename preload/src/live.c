/*
 * live.c — the live model (see live.h): every live context, every site, and the wire
 * frames the clients are sent.
 *
 * Order. Each ring is in time order, but the writer drains them one after another, so
 * a context freed on one thread can be drained before its creation on another. The
 * drained events are therefore sorted by timestamp (ties keep drain order, which is each
 * thread's own order, except that a free goes after the other events of its instant)
 * before they are applied and sent. A creation is always committed to its ring before
 * the context can reach another thread, so it is never drained later than the events
 * that follow it: sorting is enough there. A free is different: the event another
 * thread recorded just before the last reference went (the owners' release, a cancel
 * from above, its timer firing) may have been committed just after the writer read that
 * thread's ring, and the free just before it read the freeing thread's — one drain
 * later than the free. It cannot be later still: it was committed before the free was,
 * so the next drain, which reads every ring again, has it. So a free drained in this
 * drain is held until the next publish, where it is sorted with what that drain brings.
 * With a client, every event after it in time order is held too (clients see events in
 * time order, and a snapshot taken between two drains plus the frames after it is the
 * live tree): only the events before the drain's first free are applied and sent now,
 * and frames from there on reach clients one drain period later. With no client there
 * are no frames to keep in order: only the frees of contexts in the model wait (a client
 * that connects then gets them first, after a snapshot that may show later events).
 * A context is thus judged, counted freed and removed with all of its facts. What is
 * held is bounded by one drain's events (and those held before whose time has not come:
 * only events drained late, which a thread in the middle of recording makes, can come
 * before them).
 *
 * Findings so far. What the rules (docs/rules.md) will conclude from the whole trace
 * is known early for single contexts: the trace core's verdict (verdict.h) on the facts
 * seen so far says lost cancel or orphaned timer, from the context's own facts alone;
 * a deadline that lost to its parent's earlier one is ineffective. Those are the
 * CONTEXT frame's flags.
 *
 * Per-site counts. Each creation stack's contexts are counted as they are created and
 * freed, and by the findings-so-far flags they get (a flag counts once set and stays
 * counted after the free; a flag the verdict withdraws is uncounted), from the start of
 * the process, whether or not a client is connected: a client that skipped events
 * (server.c resyncs a slow one) still shows exact per-site and findings counts. They go
 * out in every snapshot and, with each sample, for the sites that changed since the last
 * (SITE_COUNTS). The counting costs one map lookup per creation and per free.
 *
 * The exit check. Its events (EV_EXIT_REACH, EV_EXIT_THREAD) are drained like any
 * other and sent as EXIT_REACH / EXIT_THREAD frames, a thread named by its threads.id as
 * the trace's exit_threads row names it (the model keeps each running thread's tid for
 * that); live_exit_check then sends EXIT_CHECK, the check's status, before BYE.
 */
#include <assert.h>
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/u64map.h>
#include <ctxtrace/core/verdict.h>
#include <ctxtrace/core/wire.h>
#include <ctxtrace/tracer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "shim.h"
#include "vec.h"

/* EXIT_THREAD's state is the trace's exit_threads.state. */
_Static_assert(CT_WIRE_EXIT_RUNNING == (int)CT_EXIT_RUNNING &&
                   CT_WIRE_EXIT_BLOCKED == (int)CT_EXIT_BLOCKED &&
                   CT_WIRE_EXIT_STOPPED == (int)CT_EXIT_STOPPED &&
                   CT_WIRE_EXIT_EXITING == (int)CT_EXIT_EXITING,
               "one enumeration of exit-check thread states");

/* A drained event waiting for its place in time order. */
struct pending {
    struct ev e;        /* header only */
    uint64_t seq;       /* drain order, for ties */
    size_t reason;      /* EV_CANCEL: 1 + offset of its reason in `reasons`; 0: none */
    bool held;          /* drained before the last publish and held by it (see Order) */
};

/* A live context. */
struct entry {
    uint64_t id, parent, stack;
    int64_t created, deadline, canceled, origin, released;
    uint32_t thread;
    int32_t err;
    uint8_t kind, done, why, flags;
    int8_t released_live; /* -1: not released */
    bool ever_armed;      /* its own timer was armed at some point */
    char *reason;
};

struct site {
    uint64_t stack;
    uint32_t line;
    char *module, *function, *file;
    /* SITE_COUNTS's fields (wire.h), since the process started */
    int64_t created, freed, live, lost_cancel, orphaned_timer, ineffective_deadline;
    bool dirty; /* changed since the counts were last sent (listed in `dirty`) */
};

static struct symbolizer *sym;
static char program[4096];
/* The events drained since the last publish, after the `held` ones it held, in time
 * order (see Order). */
static VEC(struct pending) pending, merging;
static size_t held;
static struct bytes reasons, held_reasons; /* the CANCEL reasons of `pending`; spare */
static VEC(struct entry) entries;
static struct u64map entry_of;       /* context id -> index in entries */
/* sites.items[0] counts the contexts of no known stack (stack 0, no SITE frame). */
static VEC(struct site) sites;
static struct u64map site_known;     /* stack id -> index in sites */
static VEC(size_t) dirty;            /* sites whose counts changed since last sent */
static struct bytes out;             /* frames for the clients, one drain's worth */
/* With no client connected: the contexts freed in the events being published. One created
 * in those same events is never in any snapshot, so it is not entered in the model at
 * all (a busy server's every request: ~a quarter of the writer's time otherwise). Its
 * every event is among them (a free is published only once they are all drained). */
static struct u64map freed_in_drain;
/* freed_in_drain's values: what the events being published tell of a context they free. */
enum { FREED = 1, RELEASED_DEAD, PASSING /* created among them too: never entered */ };
static uint64_t seq;
/* Running threads: kernel tid -> threads.id, and back (to forget it at its exit). */
static struct u64map thread_of_tid, tid_of_thread;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Out of memory on the writer thread: the model cannot stay exact, and a wrong tree
 * is worse than none (the same choice as batch.c). */
static void no_memory(void)
{
    abort();
}

void live_model_init(struct symbolizer *s)
{
    sym = s;
    ssize_t n = readlink("/proc/self/exe", program, sizeof program - 1);
    program[n > 0 ? n : 0] = '\0';
    /* A forked child's writer starts again with the parent's sites (and counts reset). */
    if (sites.len == 0) {
        if (VEC_PUSH(sites) != 0)
            no_memory();
        memset(&sites.items[0], 0, sizeof sites.items[0]);
    }
}

static char *dup_or_null(const char *s)
{
    char *d = s != NULL ? strdup(s) : NULL;
    if (s != NULL && d == NULL)
        no_memory();
    return d;
}

static void emit(const struct ct_wire_msg *m)
{
    uint8_t *p = bytes_reserve(&out, CT_WIRE_MAX_FRAME);
    if (p == NULL)
        no_memory();
    out.len += ct_wire_encode(m, p, CT_WIRE_MAX_FRAME);
}

static void site_msg(const struct site *s, struct ct_wire_msg *m)
{
    memset(m, 0, sizeof *m);
    m->type = CT_WIRE_SITE;
    m->u.site.stack = s->stack;
    m->u.site.line = s->line;
    m->u.site.module = s->module;
    m->u.site.function = s->function;
    m->u.site.file = s->file;
}

/* A new stack: find its site (the innermost frame outside the runtime and the shim),
 * remember it, and announce it before the events that use it. */
static void add_site(const struct ev *e)
{
    uint64_t known;
    if (u64map_get(&site_known, e->id, &known))
        return;
    long i = VEC_PUSH(sites);
    if (i < 0 || !u64map_put(&site_known, e->id, (uint64_t)i))
        no_memory();
    struct site *s = &sites.items[i];
    memset(s, 0, sizeof *s);
    s->stack = e->id;
    const uint64_t *ips = (const uint64_t *)(e + 1);
    for (int64_t f = 0; f < e->a && f < 64; f++) {
        /* The innermost logical frame: one a tail call removed just inside this ip, or
         * a function inlined at it, if any (as the trace's stacks list them). Tail
         * frames are in this ip's module: own ones mean this ip is the shim's or the
         * runtime's too. */
        struct sym_frame fr[SYM_MAX_LOGICAL];
        if (f == 0 || symbolizer_describe_tail(sym, ips[f], ips[f - 1], fr) == 0)
            symbolizer_describe(sym, ips[f], fr);
        if (ct_is_own_module(fr[0].module))
            continue;
        s->module = dup_or_null(fr[0].module);
        s->function = dup_or_null(fr[0].function);
        s->file = dup_or_null(fr[0].file);
        s->line = (uint32_t)(fr[0].line > 0 ? fr[0].line : 0);
        break;
    }
    if (live_server_has_clients()) {
        struct ct_wire_msg m;
        site_msg(s, &m);
        emit(&m);
    }
}

/* The site of a creation stack: its own, or sites.items[0] (no stack, or one whose
 * EV_STACK this model never saw: a context made before a fork). */
static struct site *site_of(uint64_t stack)
{
    uint64_t i;
    return &sites.items[stack != 0 && u64map_get(&site_known, stack, &i) ? i : 0];
}

static void touch(struct site *s)
{
    if (s->dirty)
        return;
    long i = VEC_PUSH(dirty);
    if (i < 0)
        no_memory();
    dirty.items[i] = (size_t)(s - sites.items);
    s->dirty = true;
}

/* Count what changed in a context's findings-so-far flags at its site. */
static void count_flags(uint64_t stack, uint8_t before, uint8_t after)
{
    uint8_t changed = before ^ after;
    if (!(changed & (CT_WIRE_LOST_CANCEL | CT_WIRE_ORPHANED_TIMER | CT_WIRE_INEFFECTIVE_DEADLINE)))
        return;
    struct site *s = site_of(stack);
    if (changed & CT_WIRE_LOST_CANCEL)
        s->lost_cancel += (after & CT_WIRE_LOST_CANCEL) ? 1 : -1;
    if (changed & CT_WIRE_ORPHANED_TIMER)
        s->orphaned_timer += (after & CT_WIRE_ORPHANED_TIMER) ? 1 : -1;
    if (changed & CT_WIRE_INEFFECTIVE_DEADLINE)
        s->ineffective_deadline += (after & CT_WIRE_INEFFECTIVE_DEADLINE) ? 1 : -1;
    touch(s);
}

void live_collect(const struct ev *e)
{
    switch ((enum ev_type)e->type) {
    case EV_STACK:
        add_site(e);
        return;
    case EV_PAD:
    case EV_VALUE:
        return;
    default:
        break;
    }
    long i = VEC_PUSH(pending);
    if (i < 0)
        no_memory();
    struct pending *p = &pending.items[i];
    p->e = *e;
    p->seq = seq++;
    p->reason = 0;
    p->held = false;
    if (e->type == EV_CANCEL && e->size > sizeof *e) {
        const char *r = (const char *)(e + 1);
        size_t len = strlen(r) + 1;
        uint8_t *dst = bytes_reserve(&reasons, len);
        if (dst == NULL)
            no_memory();
        memcpy(dst, r, len);
        p->reason = reasons.len + 1;
        reasons.len += len;
    }
}

static int by_time(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    if (x->e.ts != y->e.ts)
        return x->e.ts < y->e.ts ? -1 : 1;
    /* At one instant a free goes last: whatever else happened to that context then, on
     * another thread, happened before it (and may have been drained after it). */
    bool xf = x->e.type == EV_FREE, yf = y->e.type == EV_FREE;
    if (xf != yf)
        return xf ? 1 : -1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct entry *find(uint64_t id)
{
    uint64_t i;
    return u64map_get(&entry_of, id, &i) ? &entries.items[i] : NULL;
}

static void remove_entry(uint64_t id)
{
    uint64_t i;
    if (!u64map_get(&entry_of, id, &i))
        return;
    struct site *s = site_of(entries.items[i].stack);
    s->freed++;
    s->live--;
    touch(s);
    free(entries.items[i].reason);
    u64map_del(&entry_of, id);
    size_t last = entries.len - 1;
    if (i != last) {
        entries.items[i] = entries.items[last];
        u64map_put(&entry_of, entries.items[i].id, i);
    }
    entries.len = last;
}

static void apply_create(const struct ev *e)
{
    long i = VEC_PUSH(entries);
    if (i < 0 || !u64map_put(&entry_of, e->id, (uint64_t)i))
        no_memory();
    struct entry *c = &entries.items[i];
    memset(c, 0, sizeof *c);
    c->id = e->id;
    c->parent = (uint64_t)e->a;
    c->kind = (uint8_t)e->b;
    c->deadline = e->d;
    c->created = e->ts;
    c->thread = e->thread;
    c->stack = e->stack;
    c->released_live = -1;
    if (e->b == CTX_KIND_DEADLINE && e->c > e->d)
        c->flags |= CT_WIRE_INEFFECTIVE_DEADLINE;
    struct site *s = site_of(c->stack);
    s->created++;
    s->live++;
    touch(s);
    count_flags(c->stack, 0, c->flags);
}

/* A context created and freed in the same drain with no client connected: counted at
 * its site, never entered in the model (live_publish). */
static void count_passing(const struct ev *e)
{
    struct site *s = site_of(e->stack);
    s->created++;
    s->freed++;
    touch(s);
    if (e->b == CTX_KIND_DEADLINE && e->c > e->d)
        count_flags(e->stack, 0, CT_WIRE_INEFFECTIVE_DEADLINE);
}

/* The verdict's flags on what the model has seen of c (trace not complete: the
 * program is running). */
static void judge(struct entry *c)
{
    struct ct_facts f = {
        .kind = c->kind,
        .why = c->done ? c->why : -1,
        .released_live = c->released_live,
        .timer_armed = c->ever_armed,
        .canceled_ns = c->canceled,
        .cancel_origin_ns = c->origin,
        .released_ns = c->released,
    };
    struct ct_verdict v = ct_judge(&f);
    uint8_t before = c->flags;
    c->flags &= (uint8_t)~(CT_WIRE_LOST_CANCEL | CT_WIRE_ORPHANED_TIMER);
    if (v.leak == CT_LEAK_ORPHANED_TIMER)
        c->flags |= CT_WIRE_ORPHANED_TIMER;
    else if (v.leak != CT_LEAK_NONE)
        c->flags |= CT_WIRE_LOST_CANCEL;
    count_flags(c->stack, before, c->flags);
}

/* Update the model with one event (in time order) and, when m is not NULL, describe it as
 * a frame (with no client to send to, describing it would be most of the cost: the
 * message is zeroed whole). */
static void apply(const struct pending *p, struct ct_wire_msg *m)
{
    const struct ev *e = &p->e;
    struct entry *c;
    uint64_t v;
    if (m != NULL)
        memset(m, 0, sizeof *m);
    switch ((enum ev_type)e->type) {
    case EV_CREATE:
        /* Passing (live_publish): its later events find no entry and change nothing. */
        if (u64map_get(&freed_in_drain, e->id, &v) && v == RELEASED_DEAD) {
            u64map_put(&freed_in_drain, e->id, PASSING); /* present: cannot fail */
            count_passing(e);
        } else {
            apply_create(e);
        }
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_CREATE,
                                  .u.create = {e->ts, e->thread, (uint8_t)e->b, e->id,
                                               (uint64_t)e->a, e->stack, e->c, e->d}};
        break;
    case EV_CANCEL: {
        const char *reason = p->reason ? (const char *)reasons.data + p->reason - 1 : NULL;
        if ((c = find(e->id)) != NULL && !c->done) {
            c->done = 1;
            c->why = (uint8_t)e->a;
            c->err = (int32_t)e->b;
            c->canceled = e->ts;
            c->origin = e->d;
            c->reason = dup_or_null(reason);
            judge(c);
        }
        if (m != NULL)
            *m = (struct ct_wire_msg){
            CT_WIRE_CANCEL, .u.cancel = {.ts = e->ts, .thread = e->thread, .why = (uint8_t)e->a,
                                         .err = (int32_t)e->b, .cause = (int32_t)e->c,
                                         .id = e->id, .stack = e->stack, .origin = e->d,
                                         .reason = reason}};
        break;
    }
    case EV_TIMER:
        if ((c = find(e->id)) != NULL) {
            if (e->a == CTX_TIMER_ARMED) {
                c->flags |= CT_WIRE_TIMER_ARMED;
                c->ever_armed = true;
            } else
                c->flags &= (uint8_t)~CT_WIRE_TIMER_ARMED;
        }
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_TIMER, .u.timer = {e->ts, (uint8_t)e->a, e->id}};
        break;
    case EV_UNOWNED:
        if ((c = find(e->id)) != NULL) {
            c->flags |= CT_WIRE_OWNERS_DROPPED;
            c->released = e->ts;
            c->released_live = e->a != 0;
            judge(c);
        }
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_RELEASE, .u.release = {e->ts, e->thread,
                                                                 (uint8_t)(e->a != 0), e->id,
                                                                 e->stack}};
        break;
    case EV_FREE:
        remove_entry(e->id);
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_FREE, .u.free = {e->ts, e->thread, e->id}};
        break;
    case EV_WAIT_BLOCKED:
    case EV_WAIT_WOKEN:
    case EV_FD: {
        uint8_t what = e->type == EV_WAIT_BLOCKED ? CT_WIRE_WAIT_BLOCKED
                       : e->type == EV_FD         ? CT_WIRE_WAIT_FD
                                                  : CT_WIRE_WAIT_WOKEN;
        int32_t result = e->type == EV_WAIT_WOKEN ? (int32_t)e->b : 0;
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_WAIT, .u.wait = {e->ts, e->thread, what, result,
                                                           e->id, (uint64_t)e->a, e->stack}};
        break;
    }
    case EV_THREAD_START:
        if (e->a > 0 && (!u64map_put(&thread_of_tid, (uint64_t)e->a, e->thread) ||
                         !u64map_put(&tid_of_thread, e->thread, (uint64_t)e->a)))
            no_memory();
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_THREAD,
                                  .u.thread = {e->ts, e->thread, (uint32_t)e->b,
                                               CT_WIRE_THREAD_START, e->a, e->stack}};
        break;
    case EV_THREAD_EXIT: {
        uint64_t tid, id;
        /* Its tid may already be a newer thread's: forget it only if it is still its. */
        if (u64map_get(&tid_of_thread, e->thread, &tid)) {
            if (u64map_get(&thread_of_tid, tid, &id) && id == e->thread)
                u64map_del(&thread_of_tid, tid);
            u64map_del(&tid_of_thread, e->thread);
        }
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_THREAD,
                                  .u.thread = {e->ts, e->thread, 0, CT_WIRE_THREAD_EXIT, 0, 0}};
        break;
    }
    case EV_EXIT_THREAD: {
        uint64_t id = 0;
        u64map_get(&thread_of_tid, (uint64_t)e->a, &id); /* 0: never registered */
        if (m != NULL)
            *m = (struct ct_wire_msg){
                CT_WIRE_EXIT_THREAD,
                .u.exit_thread = {.ts = e->ts, .thread = (uint32_t)id, .tid = e->a,
                                  .state = (uint8_t)ct_exit_state_of((char)e->b),
                                  .syscall = e->c, .stopped = e->d != 0, .stack = e->stack}};
        break;
    }
    case EV_EXIT_REACH:
        assert(e->a >= 0 && e->a < CT_WIRE_REACH_COUNT);
        if (m != NULL)
            *m = (struct ct_wire_msg){CT_WIRE_EXIT_REACH,
                                  .u.exit_reach = {e->id, (uint8_t)e->a}};
        break;
    case EV_PAD:
    case EV_STACK:
    case EV_VALUE:
        break;
    }
}

/* Drains of one busy thread's ring are in order already: the common case costs a scan. */
static bool in_time_order(size_t from)
{
    for (size_t i = from + 1; i < pending.len; i++)
        if (pending.items[i].e.ts <= pending.items[i - 1].e.ts &&
            by_time(&pending.items[i - 1], &pending.items[i]) > 0)
            return false;
    return true;
}

/* Put the pending events in time order: the new ones sorted, then merged with those held,
 * which are (a second sort of those would double the cost of a busy drain's). */
static void sort_pending(void)
{
    if (!in_time_order(held))
        qsort(pending.items + held, pending.len - held, sizeof *pending.items, by_time);
    if (held == 0 || held == pending.len ||
        by_time(&pending.items[held - 1], &pending.items[held]) <= 0)
        return;
    merging.len = 0;
    for (size_t i = 0; i < held; i++) {
        if (VEC_PUSH(merging) < 0)
            no_memory();
        merging.items[i] = pending.items[i];
    }
    /* Into the front: the next new event read is never behind the place written. */
    size_t a = 0, b = held, k = 0;
    while (a < held && b < pending.len)
        pending.items[k++] = by_time(&merging.items[a], &pending.items[b]) <= 0
                                 ? merging.items[a++]
                                 : pending.items[b++];
    while (a < held)
        pending.items[k++] = merging.items[a++];
    assert(k == b);
}

/* With no client: which contexts freed in the events being published also let go of
 * there while done — if created there too, they pass without entering the model. */
static void find_passing(void)
{
    for (size_t i = 0; i < pending.len; i++)
        if (pending.items[i].e.type == EV_FREE &&
            !u64map_put(&freed_in_drain, pending.items[i].e.id, FREED))
            no_memory();
    /* One released live may be a finding (lost cancel, orphaned timer): the model judges
     * it, counted at its site. One released done never is, whatever was drained late
     * (a cancel, its timer): released done, it can pass. */
    uint64_t v;
    for (size_t i = 0; i < pending.len && freed_in_drain.len > 0; i++) {
        const struct ev *e = &pending.items[i].e;
        if (e->type != EV_UNOWNED || !u64map_get(&freed_in_drain, e->id, &v))
            continue;
        if (e->a != 0)
            u64map_del(&freed_in_drain, e->id);
        else
            u64map_put(&freed_in_drain, e->id, RELEASED_DEAD); /* present: cannot fail */
    }
}

/* Is pending[i] held for the next publish (see Order)? `cut`: the first free drained
 * since the last publish (pending.len: none, or the last publish). */
static bool held_back(size_t i, size_t cut, bool send)
{
    const struct pending *p = &pending.items[i];
    if (send)
        return i >= cut;
    /* No frames to keep in order: only the free of a context the model holds waits. */
    uint64_t v;
    return i >= cut && p->e.type == EV_FREE && !p->held &&
           !(u64map_get(&freed_in_drain, p->e.id, &v) && v == PASSING);
}

void live_publish(bool last)
{
    sort_pending();
    bool send = live_server_has_clients();
    size_t cut = pending.len; /* the first free drained since the last publish */
    for (size_t i = 0; i < pending.len && !last; i++)
        if (pending.items[i].e.type == EV_FREE && !pending.items[i].held) {
            cut = i;
            break;
        }
    if (!send)
        find_passing();
    /* Apply the events in order, moving those held to the front (k <= i), their reasons
     * to held_reasons. */
    size_t k = 0;
    held_reasons.len = 0;
    for (size_t i = 0; i < pending.len; i++) {
        struct pending *p = &pending.items[i];
        bool hold = held_back(i, cut, send);
        /* A free is its context's last event here: done with it in freed_in_drain (one
         * by one: a clear would zero the whole table, as large as the largest drain). */
        if (p->e.type == EV_FREE && freed_in_drain.len > 0)
            u64map_del(&freed_in_drain, p->e.id);
        if (hold) {
            if (p->reason != 0) {
                const char *r = (const char *)reasons.data + p->reason - 1;
                size_t len = strlen(r) + 1;
                uint8_t *dst = bytes_reserve(&held_reasons, len);
                if (dst == NULL)
                    no_memory();
                memcpy(dst, r, len);
                p->reason = held_reasons.len + 1;
                held_reasons.len += len;
            }
            p->held = true;
            pending.items[k++] = *p;
            continue;
        }
        struct ct_wire_msg m;
        apply(p, send ? &m : NULL);
        if (send && m.type != 0)
            emit(&m);
    }
    assert(freed_in_drain.len == 0);
    pending.len = held = k;
    struct bytes spare = reasons;
    reasons = held_reasons;
    held_reasons = spare;
    if (out.len > 0)
        live_server_broadcast(out.data, out.len);
    out.len = 0;
}

static void site_counts_msg(const struct site *s, struct ct_wire_msg *m)
{
    *m = (struct ct_wire_msg){
        CT_WIRE_SITE_COUNTS,
        .u.site_counts = {s->stack, s->created, s->freed, s->live, s->lost_cancel,
                          s->orphaned_timer, s->ineffective_deadline}};
}

void live_sample(const struct ct_sample_row *row)
{
    bool send = live_server_has_clients();
    /* Without a client only forget what changed: a new one gets every site's counts
     * with its snapshot. */
    for (size_t i = 0; i < dirty.len; i++) {
        struct site *s = &sites.items[dirty.items[i]];
        s->dirty = false;
        if (send) {
            struct ct_wire_msg m;
            site_counts_msg(s, &m);
            emit(&m);
        }
    }
    dirty.len = 0;
    if (!send)
        return;
    struct ct_wire_msg m = {CT_WIRE_SAMPLE,
                            .u.sample = {row->ts_ns, row->live_contexts, row->armed_timers,
                                         row->blocked_waiters, row->threads, row->rss_bytes}};
    emit(&m);
    live_server_broadcast(out.data, out.len);
    out.len = 0;
}

size_t live_snapshot(void (*put)(void *arg, const uint8_t *frame, size_t len), void *arg,
                     bool resync)
{
    uint8_t frame[CT_WIRE_MAX_FRAME];
    size_t total = 0, n;
    struct ct_wire_msg m = {CT_WIRE_HELLO,
                            .u.hello = {CT_WIRE_MAGIC, CT_WIRE_VERSION, (uint32_t)getpid(),
                                        now_ns(), program}};
    if (!resync) {
        n = ct_wire_encode(&m, frame, sizeof frame);
        put(arg, frame, n);
        total += n;
    }
    for (size_t i = 1; i < sites.len; i++) { /* [0]: no stack, no SITE */
        site_msg(&sites.items[i], &m);
        n = ct_wire_encode(&m, frame, sizeof frame);
        put(arg, frame, n);
        total += n;
    }
    for (size_t i = 0; i < entries.len; i++) {
        const struct entry *c = &entries.items[i];
        m = (struct ct_wire_msg){
            CT_WIRE_CONTEXT,
            .u.context = {.id = c->id, .parent = c->parent, .stack = c->stack, .kind = c->kind,
                          .done = c->done, .why = c->why, .flags = c->flags,
                          .thread = c->thread, .err = c->err, .created = c->created,
                          .deadline = c->deadline, .canceled = c->canceled,
                          .origin = c->origin, .released = c->released,
                          .reason = c->reason}};
        n = ct_wire_encode(&m, frame, sizeof frame);
        put(arg, frame, n);
        total += n;
    }
    for (size_t i = 0; i < sites.len; i++) {
        if (sites.items[i].created == 0)
            continue;
        site_counts_msg(&sites.items[i], &m);
        n = ct_wire_encode(&m, frame, sizeof frame);
        put(arg, frame, n);
        total += n;
    }
    m = (struct ct_wire_msg){CT_WIRE_SNAPSHOT_END,
                             .u.snapshot_end = {(uint32_t)entries.len}};
    n = ct_wire_encode(&m, frame, sizeof frame);
    put(arg, frame, n);
    return total + n;
}

void live_exit_check(void)
{
    const char *status, *reach;
    int64_t ns;
    if (!live_server_has_clients() || !shim_exit_check_result(&status, &reach, &ns))
        return;
    struct ct_wire_msg m = {CT_WIRE_EXIT_CHECK, .u.exit_check = {ns, status, reach}};
    emit(&m);
    live_server_broadcast(out.data, out.len);
    out.len = 0;
}

void live_model_forget_in_child(void)
{
    for (size_t i = 0; i < entries.len; i++)
        free(entries.items[i].reason);
    entries.len = 0;
    u64map_clear(&entry_of);
    pending.len = held = 0; /* held events too: the parent's */
    reasons.len = 0;
    if (freed_in_drain.len > 0)
        u64map_clear(&freed_in_drain);
    /* The child's one thread is registered anew (its own EV_THREAD_START). */
    if (thread_of_tid.len > 0)
        u64map_clear(&thread_of_tid);
    if (tid_of_thread.len > 0)
        u64map_clear(&tid_of_thread);
    out.len = 0;
    /* Sites stay: the child's stacks are the parent's addresses, and its new writer
     * announces every known site in each snapshot. Their counts start again, as the
     * child's trace does. */
    for (size_t i = 0; i < sites.len; i++) {
        struct site *s = &sites.items[i];
        s->created = s->freed = s->live = 0;
        s->lost_cancel = s->orphaned_timer = s->ineffective_deadline = 0;
        s->dirty = false;
    }
    dirty.len = 0;
}
