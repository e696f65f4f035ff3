/*
 * hooks.c — recording on application threads: the runtime's tracer seam, and the one
 * API call the seam does not report (ctx_fd, interposed).
 *
 * The shim does not link libctxtrace: a program that never loads it must run as if
 * the shim were absent. The seam is found with dlsym when the shim starts (or when the
 * program dlopens the runtime later).
 *
 * Each hook: capture a stack where the application is the actor (creation, explicit
 * cancel, release, wait), then write one fixed-size event. No locks, no system calls.
 *
 * Interposed API calls: ctx_fd (the seam does not report it) and ctx_release /
 * ctx_releasep (to record the release's events with one stack walk).
 */
#include <ctxtrace/tracer.h>
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <ctxtrace/core/summary.h>

#include "shim.h"

_Thread_local uint64_t shim_waiting_on;

static uint64_t (*trace_id)(const ctx_t *);
static _Atomic bool attached;
static _Thread_local uint64_t current_wait; /* ctx_wait does not nest on one thread */
static _Thread_local uint32_t wait_seq;

/* Inside an interposed ctx_release: the stack and time captured once at its entry,
 * for the cancel, release and free events it causes (same call site, same instant
 * within ~100 ns; the time is held by shim_emit_hold_time). Saves a stack walk and two
 * clock reads per released context. */
static _Thread_local uint64_t release_stack;
/* ... and whether we are inside one. In summary retention (CTXTRACE_KEEP=summary) the
 * stack is not captured at all: ctx_release cancels before it lets go, so what it
 * releases is never a lost cancel — no finding shows that stack, and a clean context is
 * folded without it. Its cancel and release then have no stack (the creation has). */
static _Thread_local bool in_release;

/* Where the cancellation reaching a context started (cancel_origin_ns), known without
 * walking the tree: the runtime propagates a cancellation down on the thread that
 * started it (ctx_cancel, or the timer thread for a deadline), right after reporting
 * the explicit or deadline cancel that began it. A parent-cancel right after the
 * creation of the same context on this thread is one born under a done parent. */
static _Thread_local int64_t cancel_origin;
static _Thread_local uint64_t creating_id;
static _Thread_local int64_t creating_ts;

/* The stack for an event the application caused on this thread. */
static inline uint64_t app_stack(void)
{
    return in_release ? release_stack : stackcap_capture();
}

/* Enter/leave the shim on this thread; false if we are already inside (a callback from
 * libunwind or libc while recording): then record nothing. */
static inline bool enter(void)
{
    return shim_self.guard++ == 0;
}

static inline void leave(void)
{
    shim_self.guard--;
}

static void on_created(ctx_t *c, ctx_t *parent, enum ctx_kind kind, int64_t requested,
                       int64_t deadline)
{
    if (enter()) {
        uint64_t stack = stackcap_capture();
        struct ev *e = shim_emit_begin(EV_CREATE, sizeof(uint64_t));
        if (e != NULL) {
            e->id = trace_id(c);
            /* The address lets the writer recognise this context in a thread's
             * start argument, and the exit check find references to it. */
            *(uint64_t *)(e + 1) = (uint64_t)(uintptr_t)c;
            e->a = parent != NULL ? (int64_t)trace_id(parent) : 0;
            e->b = kind;
            e->c = requested;
            e->d = deadline;
            e->stack = stack;
            creating_id = e->id;
            creating_ts = e->ts;
            shim_emit_commit(e);
        }
    }
    leave();
}

static void on_canceled(ctx_t *c, enum ctx_cancel_why why, int err, int cause,
                        const char *reason)
{
    if (enter()) {
        uint64_t stack = why == CTX_WHY_EXPLICIT ? app_stack() : 0;
        size_t len = reason != NULL ? strnlen(reason, 1023) + 1 : 0;
        struct ev *e = shim_emit_begin(EV_CANCEL, len);
        if (e != NULL) {
            e->id = trace_id(c);
            e->a = why;
            e->b = err;
            e->c = cause;
            if (why != CTX_WHY_PARENT)
                cancel_origin = e->ts;
            e->d = why != CTX_WHY_PARENT ? e->ts
                   : e->id == creating_id ? creating_ts
                                          : cancel_origin;
            creating_id = 0;
            e->stack = stack;
            if (len > 0) {
                memcpy(e + 1, reason, len - 1);
                ((char *)(e + 1))[len - 1] = '\0';
            }
            shim_emit_commit(e);
        }
    }
    leave();
}

static void on_timer(ctx_t *c, enum ctx_timer_event ev, int64_t when)
{
    (void)when;
    if (enter()) {
        struct ev *e = shim_emit_begin(EV_TIMER, 0);
        if (e != NULL) {
            e->id = trace_id(c);
            e->a = ev;
            shim_emit_commit(e);
        }
    }
    leave();
}

static void on_unowned(ctx_t *c, bool live)
{
    if (enter()) {
        uint64_t stack = app_stack();
        struct ev *e = shim_emit_begin(EV_UNOWNED, 0);
        if (e != NULL) {
            e->id = trace_id(c);
            e->a = live;
            e->stack = stack;
            shim_emit_commit(e);
        }
    }
    leave();
}

static void on_freed(ctx_t *c)
{
    if (enter()) {
        struct ev *e = shim_emit_begin(EV_FREE, 0);
        if (e != NULL) {
            e->id = trace_id(c);
            e->a = (int64_t)(uintptr_t)c;
            shim_emit_commit(e);
        }
    }
    leave();
}

static uint64_t new_wait_id(void)
{
    return ((uint64_t)shim_thread_id() << 32) | ++wait_seq;
}

static void on_wait(ctx_t *c, enum ctx_wait_event ev, int result)
{
    if (enter()) {
        uint64_t stack = ev == CTX_WAIT_BLOCKED ? stackcap_capture() : 0;
        struct ev *e = shim_emit_begin(ev == CTX_WAIT_BLOCKED ? EV_WAIT_BLOCKED : EV_WAIT_WOKEN, 0);
        if (e != NULL) {
            if (ev == CTX_WAIT_BLOCKED)
                current_wait = new_wait_id();
            e->id = trace_id(c);
            shim_waiting_on = ev == CTX_WAIT_BLOCKED ? e->id : 0;
            e->a = (int64_t)current_wait;
            e->b = result;
            e->stack = stack;
            shim_emit_commit(e);
        }
    }
    leave();
}

/* Value lookups: no stack (they are frequent); the writer sums them per context. */
static void on_value(ctx_t *c, int depth, bool found)
{
    if (enter()) {
        struct ev *e = shim_emit_begin(EV_VALUE, 0);
        if (e != NULL) {
            e->id = trace_id(c);
            e->a = depth;
            e->b = found;
            shim_emit_commit(e);
        }
    }
    leave();
}

static const struct ctx_tracer tracer = {
    .created = on_created,
    .canceled = on_canceled,
    .timer = on_timer,
    .unowned = on_unowned,
    .freed = on_freed,
    .wait = on_wait,
    .value = on_value,
};

void shim_hooks_attach(void *where)
{
    if (atomic_load(&attached))
        return;
    int (*attach)(const struct ctx_tracer *) =
        (int (*)(const struct ctx_tracer *))dlsym(where, "ctx_tracer_attach");
    uint64_t (*id)(const ctx_t *) = (uint64_t (*)(const ctx_t *))dlsym(where, "ctx_trace_id");
    if (attach == NULL || id == NULL)
        return; /* this program does not use libctxtrace (yet) */
    trace_id = id;
    if (attach(&tracer) == 0)
        atomic_store(&attached, true);
}

bool shim_hooks_attached(void)
{
    return atomic_load(&attached);
}

/* ctx_fd is how pollers wait; the seam does not see it, so it is interposed here. */
CTX_API int ctx_fd(ctx_t *c)
{
    static void *_Atomic real;
    int (*fn)(ctx_t *) = (int (*)(ctx_t *))shim_next("ctx_fd", &real);
    int fd = fn(c);
    if (fd >= 0 && c != NULL && atomic_load_explicit(&attached, memory_order_relaxed)) {
        if (enter()) {
            uint64_t stack = stackcap_capture();
            struct ev *e = shim_emit_begin(EV_FD, 0);
            if (e != NULL) {
                e->id = trace_id(c);
                e->a = (int64_t)new_wait_id();
                e->stack = stack;
                shim_emit_commit(e);
            }
        }
        leave();
    }
    return fd;
}

/* ctx_release and ctx_releasep (CTX_AUTO) are interposed so the cancel, release and
 * free they cause share one stack and one timestamp (see release_stack). The runtime
 * calls its own functions directly, so these are exactly the application's calls. */
static void traced_release(void (*real)(ctx_t *), ctx_t *c)
{
    if (c == NULL || !atomic_load_explicit(&shim_recording, memory_order_relaxed) ||
        shim_self.no_trace || in_release) {
        real(c);
        return;
    }
    if (enter()) {
        in_release = true;
        release_stack = shim_conf->keep == CT_KEEP_SUMMARY ? 0 : stackcap_capture();
        shim_emit_hold_time(shim_emit_now());
    }
    leave();
    real(c);
    in_release = false;
    release_stack = 0;
    shim_emit_hold_time(0);
}

CTX_API void ctx_release(ctx_t *c)
{
    static void *_Atomic real;
    traced_release((void (*)(ctx_t *))shim_next("ctx_release", &real), c);
}

/* ctx_releasep(&c) is ctx_release(c); c = NULL, done here so ctx_release's stack is
 * the caller's. */
CTX_API void ctx_releasep(ctx_t **c)
{
    if (c != NULL) {
        ctx_release(*c);
        *c = NULL;
    }
}
