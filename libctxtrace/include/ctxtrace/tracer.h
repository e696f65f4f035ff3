/*
 * ctxtrace/tracer.h — the seam through which a tracer observes the runtime.
 *
 * This is an internal interface between libctxtrace.so and ctxtrace's own tooling (the
 * LD_PRELOAD shim). Applications never need it. It reports what happens *inside* the
 * library — cancellation propagating from a parent, timers, frees, waiters — which a
 * shim that only intercepts the public API could not see.
 *
 * Cost when no tracer is attached: one relaxed load of a global pointer and one
 * predictable branch per event site.
 *
 * Rules for the tracer:
 *  - Hooks run synchronously on the thread where the event happens, sometimes with a
 *    library lock held (noted per hook). They must be fast, must not block, and must
 *    not call back into ctx_* functions (except ctx_trace_id / ctx_trace_kind, which are
 *    always safe).
 *  - The `struct ctx_tracer` passed to ctx_tracer_attach must stay valid for the life of
 *    the process (make it static): hooks already in flight on other threads may still
 *    read it after ctx_tracer_detach returns.
 *  - Every context carries an id unique within the process and never reused (roots are
 *    1 and 2); events name contexts by pointer, and the tracer reads the id with
 *    ctx_trace_id(). A pointer is valid only until its `freed` event has returned.
 *  - Events of one context are delivered in causal order: created before anything else,
 *    freed last.
 */
#ifndef CTXTRACE_TRACER_H
#define CTXTRACE_TRACER_H

#include <ctxtrace/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a context is. The names match the `kind` column of the trace file. */
enum ctx_kind {
    CTX_KIND_BACKGROUND = 0,
    CTX_KIND_TODO = 1,
    CTX_KIND_WITHOUT_CANCEL = 2,
    CTX_KIND_VALUE = 3,
    CTX_KIND_CANCEL = 4,
    CTX_KIND_DEADLINE = 5,
};

/* Why a context became done. */
enum ctx_cancel_why {
    CTX_WHY_EXPLICIT = 0, /* ctx_cancel / ctx_cancel_cause / ctx_release on it */
    CTX_WHY_PARENT = 1,   /* an ancestor was cancelled, or it was born under a done one */
    CTX_WHY_DEADLINE = 2, /* its own timer fired, or its deadline had already passed */
};

enum ctx_timer_event {
    CTX_TIMER_ARMED = 0,   /* `when` = the deadline */
    CTX_TIMER_STOPPED = 1, /* disarmed by cancellation before firing */
    CTX_TIMER_FIRED = 2,   /* `when` = the deadline it fired for */
};

enum ctx_wait_event {
    CTX_WAIT_BLOCKED = 0, /* a thread starts blocking in ctx_wait */
    CTX_WAIT_WOKEN = 1,   /* it returns: result 0 (done) or ETIMEDOUT */
};

struct ctx_tracer {
    /* A context was created. `requested_deadline` is what the caller asked for
     * (deadline kind only, else 0); `deadline` the effective one (the earliest up the
     * chain; 0 for none). Called before the context is attached to its parent or armed,
     * so before any other thread can see it. */
    void (*created)(ctx_t *c, ctx_t *parent, enum ctx_kind kind,
                    int64_t requested_deadline, int64_t deadline);
    /* A cancellable context became done (exactly once per context). `err` is its
     * ctx_err, `cause`/`reason` what ctx_cause reports (a deadline's cause from
     * ctx_with_deadline_cause; a signal's number and name from ctx_with_signals, reported
     * as CTX_WHY_EXPLICIT from the runtime's signal thread, the one that cancels). Reported with the context's
     * lock held, just before the done state is published: before any waiter wakes,
     * any poller sees the fd, any callback runs. */
    void (*canceled)(ctx_t *c, enum ctx_cancel_why why, int err, int cause,
                     const char *reason);
    /* Its deadline timer was armed, stopped or fired. ARMED is reported with the
     * context's lock held. */
    void (*timer)(ctx_t *c, enum ctx_timer_event ev, int64_t when);
    /* The last owner reference was dropped (ctx_unref/ctx_release). `live` tells
     * whether the context was still not done at that moment — the lost-cancel signal. */
    void (*unowned)(ctx_t *c, bool live);
    /* The memory of the context is about to be released. */
    void (*freed)(ctx_t *c);
    /* A thread blocked in / returned from ctx_wait on `c`. */
    void (*wait)(ctx_t *c, enum ctx_wait_event ev, int result);
    /* ctx_value(c, key) examined `depth` contexts (1: c itself) and found the key or
     * not. Lookups are frequent: keep this cheap. */
    void (*value)(ctx_t *c, int depth, bool found);
};

/* Attach `t`. Returns 0, EINVAL for NULL, or EBUSY if a tracer is already attached.
 * A tracer is a process-wide singleton: hooks get no context pointer of their own.
 * Contexts created before attaching are reported only from their next event on. */
CTX_API int ctx_tracer_attach(const struct ctx_tracer *t);

/* Stop delivering events. Hooks already running may still complete. */
CTX_API void ctx_tracer_detach(void);

/* The context's process-unique id (never reused). Roots: background 1, todo 2.
 * NULL: 0, which no context has. */
CTX_API uint64_t ctx_trace_id(const ctx_t *c);

/* The context's kind. NULL: CTX_KIND_BACKGROUND (callers check ids first). */
CTX_API enum ctx_kind ctx_trace_kind(const ctx_t *c);

#ifdef __cplusplus
}
#endif

#endif /* CTXTRACE_TRACER_H */
