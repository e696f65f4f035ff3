/*
 * context.c — creating, observing and freeing contexts; the reference counts.
 *
 * Derivation allocates once, fills the header, tells the tracer, then hands the
 * cancellation wiring to cancel.c (attach) and timer.c (arm). A deadline's cause
 * (ctx_with_deadline_cause) lives here too: it is what a deadline reports when it
 * passes (ctx__deadline_passed). Observation (err, cause, is_done, deadline, value) is
 * lock-free: it reads immutable fields, or the state word with acquire ordering.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(sizeof(struct ctx) == 32, "the common header is 32 bytes");
_Static_assert(sizeof(struct ctx_cancel) <= 88, "a cancellable context must fit a 96-byte chunk");
_Static_assert(sizeof(struct ctx_valued) <= 88, "a value context must fit a 96-byte chunk");

/* The roots are static and have no refcount: every reference operation on them is a
 * no-op, recognized by a NULL parent. */
static ctx_t background_ctx = {.id = 1, .kind = CTX_KIND_BACKGROUND};
static ctx_t todo_ctx = {.id = 2, .kind = CTX_KIND_TODO};

CTX_API ctx_t *ctx_background(void)
{
    return &background_ctx;
}

CTX_API ctx_t *ctx_todo(void)
{
    return &todo_ctx;
}

static inline bool is_root(const ctx_t *c)
{
    return c->parent == NULL;
}

/* Allocate `size` bytes for a context of `kind` under `parent`, holding a ref on the
 * parent. Only the bytes the kind uses are allocated. */
static ctx_t *ctx_alloc(ctx_t *parent, enum ctx_kind kind, size_t size)
{
    if (parent == NULL) {
        errno = EINVAL;
        return NULL;
    }
    ctx_t *c = malloc(size);
    if (c == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    c->parent = parent;
    c->id = ctx__next_id();
    atomic_init(&c->owners, 1);
    atomic_init(&c->refs, 1);
    c->kind = (uint8_t)kind;
    atomic_init(&c->linked, LINK_NONE);
    atomic_init(&c->flags, 0);
    c->reason_owned = 0;
    atomic_init(&c->state, 0);
    /* The child's reference on its parent. A cancellable child whose parent is its
     * attach target takes it inside the parent's critical section instead (attach), where
     * the parent's cache line is already ours. */
    if (!is_root(parent) && !(kind >= CTX_KIND_CANCEL && ctx_done_src(parent) == parent))
        atomic_fetch_add_explicit(&parent->refs, 1, memory_order_relaxed);
    return c;
}

int64_t ctx__effective_deadline(const ctx_t *c)
{
    for (;;) {
        if (ctx_is_cancellable(c))
            return CC_const(c)->deadline;
        if (c->kind != CTX_KIND_VALUE)
            return INT64_MAX;
        c = c->parent;
    }
}

static void notify_created(ctx_t *c, ctx_t *parent, enum ctx_kind kind, int64_t requested)
{
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL, 0) && t->created) {
        int64_t d = ctx__effective_deadline(c);
        t->created(c, parent, kind, requested, d == INT64_MAX ? 0 : d);
    }
}

/* The extension's fields are read only once the caller has armed a timer or registered
 * the context, so the caller can fill them in after this returns. Inlined into the two
 * hot callers here (with_cancel, with_deadline_at: a call costs them ~15% of their
 * instructions); signals.c calls the exported copy below. */
static inline __attribute__((always_inline)) ctx_t *
new_cancellable(ctx_t *parent, enum ctx_kind kind, int64_t deadline, int64_t requested,
                size_t size)
{
    assert(size >= sizeof(struct ctx_cancel));
    ctx_t *c = ctx_alloc(parent, kind, size);
    if (c == NULL)
        return NULL;
    if (size > sizeof(struct ctx_cancel))
        ctx_flags_set(c, CTX_F_EXT);
    CC(c)->heap_idx = -1;
    CC(c)->fd = -1;
    CC(c)->cause = 0;
    CC(c)->deadline = deadline;
    CC(c)->children = NULL;
    CC(c)->prev = CC(c)->next = NULL;
    CC(c)->afters = NULL;
    notify_created(c, parent, kind, requested);
    ctx__attach(c);
    return c;
}

ctx_t *ctx__new_cancellable(ctx_t *parent, enum ctx_kind kind, int64_t deadline,
                            int64_t requested, size_t size)
{
    return new_cancellable(parent, kind, deadline, requested, size);
}

CTX_API ctx_t *ctx_with_cancel(ctx_t *parent)
{
    if (parent == NULL) {
        errno = EINVAL;
        return NULL;
    }
    return new_cancellable(parent, CTX_KIND_CANCEL, ctx__effective_deadline(parent), 0,
                           sizeof(struct ctx_cancel));
}

void ctx__deadline_passed(ctx_t *c)
{
    assert(c->kind == CTX_KIND_DEADLINE);
    int cause = CTX_DEADLINE_EXCEEDED;
    const char *reason = NULL;
    if (ctx_flags(c) & CTX_F_EXT) {
        /* Borrowed: the context owns it and frees it with itself (ctx_destroy). */
        cause = ((struct ctx_deadline_cause *)c)->cause;
        reason = ((struct ctx_deadline_cause *)c)->reason;
    }
    ctx__cancel(c, CTX_DEADLINE_EXCEEDED, cause, reason, false, CTX_WHY_DEADLINE);
}

/* with_deadline and with_deadline_cause, given the current time when the caller already
 * read it (each clock read is ~20 ns: a third of a timeout context's cost). `cause` 0
 * and `reason` NULL: plain ctx_with_deadline. Always inlined, so the plain calls, with
 * constant 0/NULL, compile to code without any of the cause handling. */
static inline __attribute__((always_inline)) ctx_t *
with_deadline_at(ctx_t *parent, int64_t deadline, int64_t now, int cause, const char *reason)
{
    if (parent == NULL) {
        errno = EINVAL;
        return NULL;
    }
    /* As in Go: a parent deadline that comes first makes ours moot — no timer, and the
     * child reports the parent's deadline (and, when it passes, the parent's cause: the
     * cause given here is never used, so it is not even copied). At equal deadlines Go
     * races the two timers; here the parent's wins, always. */
    int64_t inherited = ctx__effective_deadline(parent);
    bool own = deadline < inherited;
    bool with_cause = own && (cause != 0 || reason != NULL);
    char *copy = NULL;
    if (__builtin_expect(with_cause, 0) && reason != NULL && (copy = strdup(reason)) == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    ctx_t *c = new_cancellable(parent, CTX_KIND_DEADLINE, own ? deadline : inherited,
                               deadline,
                               with_cause ? sizeof(struct ctx_deadline_cause)
                                          : sizeof(struct ctx_cancel));
    if (c == NULL) {
        free(copy);
        return NULL;
    }
    if (__builtin_expect(with_cause, 0)) {
        ((struct ctx_deadline_cause *)c)->cause = cause != 0 ? cause : CTX_DEADLINE_EXCEEDED;
        ((struct ctx_deadline_cause *)c)->reason = copy;
    }
    if (!own)
        return c;
    if (deadline <= now) {
        ctx__deadline_passed(c);
        return c;
    }
    /* Arm under our lock so a parent cancelling us concurrently either sees the timer
     * (and stops it) or has already made us done (and we arm nothing). With nothing
     * cancellable above, no other thread can reach `c` before we return it (it is in no
     * children list): no lock, and two atomics less on a top-level timeout. */
    if (ctx_done_src(parent) == NULL) {
        ctx__timer_arm(c, true);
        return c;
    }
    uint32_t state = ctx_state_lock(c);
    if (ctx_state_err(state) == 0)
        ctx__timer_arm(c, false);
    ctx_state_unlock(c, state);
    return c;
}

/* now + timeout, saturated rather than overflowing for "practically forever". */
static int64_t deadline_after(int64_t now, int64_t timeout)
{
    return timeout > INT64_MAX - 1 - now ? INT64_MAX - 1 : now + timeout;
}

CTX_API ctx_t *ctx_with_deadline(ctx_t *parent, int64_t deadline)
{
    return with_deadline_at(parent, deadline, ctx_now(), 0, NULL);
}

CTX_API ctx_t *ctx_with_timeout(ctx_t *parent, int64_t timeout)
{
    int64_t now = ctx_now();
    return with_deadline_at(parent, deadline_after(now, timeout), now, 0, NULL);
}

CTX_API ctx_t *ctx_with_deadline_cause(ctx_t *parent, int64_t deadline, int cause,
                                       const char *reason)
{
    return with_deadline_at(parent, deadline, ctx_now(), cause, reason);
}

CTX_API ctx_t *ctx_with_timeout_cause(ctx_t *parent, int64_t timeout, int cause,
                                      const char *reason)
{
    int64_t now = ctx_now();
    return with_deadline_at(parent, deadline_after(now, timeout), now, cause, reason);
}

/* The nearest value context at or above `c`, or NULL. Walks at most what one lookup from
 * `c` walks, once per value context created. */
static ctx_t *nearest_value(ctx_t *c)
{
    while (c != NULL && c->kind != CTX_KIND_VALUE)
        c = c->parent;
    return c;
}

CTX_API ctx_t *ctx_with_value(ctx_t *parent, const void *key, void *value,
                              void (*destroy)(void *))
{
    if (parent == NULL || key == NULL) {
        errno = EINVAL;
        return NULL;
    }
    ctx_t *c = ctx_alloc(parent, CTX_KIND_VALUE, sizeof(struct ctx_valued));
    if (c == NULL)
        return NULL;
    CV(c)->done_src = ctx_done_src(parent);
    ctx_t *up = CV(c)->up = nearest_value(parent);
    CV(c)->up_key = up != NULL ? CV(up)->key : NULL;
    CV(c)->up2 = up != NULL ? CV(up)->up : NULL;
    CV(c)->key = key;
    CV(c)->value = value;
    CV(c)->destroy = destroy;
    notify_created(c, parent, CTX_KIND_VALUE, 0);
    return c;
}

CTX_API ctx_t *ctx_without_cancel(ctx_t *parent)
{
    ctx_t *c = ctx_alloc(parent, CTX_KIND_WITHOUT_CANCEL, sizeof(struct ctx));
    if (c != NULL)
        notify_created(c, parent, CTX_KIND_WITHOUT_CANCEL, 0);
    return c;
}

/* ---- observing ---------------------------------------------------------------------- */

/* ctx_is_done is an inline function of ctx.h; this declaration makes this file emit its
 * one external definition (C99 inline), the exported symbol older binaries call. It
 * reads the layout through struct ctx__done_view, which must match ours: */
_Static_assert(offsetof(struct ctx, kind) == offsetof(struct ctx__done_view, kind),
               "ctx.h's inline ctx_is_done reads kind here");
_Static_assert(offsetof(struct ctx, state) == offsetof(struct ctx__done_view, state),
               "ctx.h's inline ctx_is_done reads the state word here");
_Static_assert(offsetof(struct ctx_valued, done_src) ==
                   offsetof(struct ctx__done_view, done_src),
               "ctx.h's inline ctx_is_done reads a value context's done source here");
_Static_assert(CTX__KIND_VALUE == CTX_KIND_VALUE && CTX__KIND_CANCEL == CTX_KIND_CANCEL &&
                   CTX_KIND_DEADLINE > CTX_KIND_CANCEL,
               "ctx.h's kind numbers");
_Static_assert(CTX__STATE_ERR_MASK == STATE_ERR_MASK, "ctx.h's error mask");
extern inline bool ctx_is_done(ctx_t *c);

/* The observers below are async-signal-safe (ctx.h): loads only, no lock, no tracer
 * hook, no errno on the paths a handler may take. Keep them so. */

CTX_API int ctx_err(ctx_t *c)
{
    if (c == NULL)
        return EINVAL;
    ctx_t *src = ctx_done_src(c);
    return src == NULL ? 0
                       : ctx_state_err(atomic_load_explicit(&src->state, memory_order_acquire));
}

CTX_API int ctx_cause(ctx_t *c, const char **reason)
{
    if (c == NULL) {
        if (reason != NULL)
            *reason = NULL;
        return EINVAL;
    }
    ctx_t *src = ctx_done_src(c);
    uint32_t state = src == NULL ? 0 : atomic_load_explicit(&src->state, memory_order_acquire);
    int err = ctx_state_err(state);
    if (reason != NULL)
        *reason = err != 0 ? ctx_reason(src, state) : NULL;
    if (err == 0)
        return 0;
    return CC(src)->cause != 0 ? CC(src)->cause : err;
}

CTX_API bool ctx_deadline(ctx_t *c, int64_t *deadline)
{
    if (c == NULL)
        return false;
    int64_t d = ctx__effective_deadline(c);
    if (d == INT64_MAX)
        return false;
    if (deadline != NULL)
        *deadline = d;
    return true;
}

/* The nearest value context for `key` at or above `c` (cancellable and without_cancel
 * contexts pass lookups to their parent), or NULL; *depth: contexts examined, as the
 * tracer counts them. */
static ctx_t *value_walk_counted(ctx_t *c, const void *key, int *depth)
{
    for (; c != NULL; c = c->parent) {
        ++*depth;
        if (c->kind == CTX_KIND_VALUE && CV(c)->key == key)
            return c;
    }
    return NULL;
}

/* ctx_value with a tracer listening: out of line, so the untraced lookup saves no
 * registers. */
static __attribute__((noinline, cold)) void *
value_traced(const struct ctx_tracer *t, ctx_t *c, const void *key)
{
    int depth = 0;
    ctx_t *v = value_walk_counted(c, key, &depth);
    t->value(c, depth, v != NULL);
    return v != NULL ? CV(v)->value : NULL;
}

CTX_API void *ctx_value(ctx_t *c, const void *key)
{
    if (c == NULL) {
        errno = EINVAL;
        return NULL;
    }
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL && t->value != NULL, 0))
        return value_traced(t, c, key);
    /* Untraced: hop from value context to value context (`up`), comparing keys only.
     * Lookups are throughput-bound (independent walks overlap in the CPU), so the
     * instructions per level are what they cost. */
    if (key == NULL)
        return NULL; /* no key is NULL (and up_key is NULL where there is no up) */
    for (ctx_t *v = nearest_value(c); v != NULL; v = CV(v)->up2) {
        if (CV(v)->key == key)
            return CV(v)->value;
        if (CV(v)->up_key == key)
            return CV(CV(v)->up)->value;
    }
    return NULL;
}

/* ---- references --------------------------------------------------------------------- */

CTX_API ctx_t *ctx_ref(ctx_t *c)
{
    if (c != NULL && !is_root(c))
        atomic_fetch_add_explicit(&c->owners, 1, memory_order_relaxed);
    return c;
}

/* The last owner of `c` (cancellable, with lanes) is gone: fold the lanes' counts of its
 * children's references into refs. */
static void lanes_collapse(ctx_t *c)
{
    /* The owners' reference still holds c: no count can reach zero while the lanes'
     * counts move into refs. A child freed meanwhile finds its lane collapsed and drops
     * its reference on refs instead (ctx__ref_drop). */
    for (int l = 0; l < CTX_LANES; l++) {
        uint64_t w = atomic_exchange_explicit(&CC(c)->lanes->lane[l].refs, 1,
                                              memory_order_acq_rel);
        if (w >> 1)
            atomic_fetch_add_explicit(&c->refs, (uint32_t)(w >> 1), memory_order_relaxed);
    }
}

CTX_API void ctx_unref(ctx_t *c)
{
    if (c == NULL || is_root(c))
        return;
    /* The only owner needs no read-modify-write: nobody else can add an owner (that
     * takes an owner's reference) or drop one. The acquire pairs with the release of
     * other owners' earlier drops. */
    if (atomic_load_explicit(&c->owners, memory_order_acquire) == 1)
        atomic_store_explicit(&c->owners, 0, memory_order_relaxed);
    else if (atomic_fetch_sub_explicit(&c->owners, 1, memory_order_acq_rel) != 1)
        return;
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL, 0) && t->unowned) {
        ctx_t *src = ctx_done_src(c);
        /* Only a cancellable context can be "lost": value and without_cancel contexts
         * are reported live only if something above could still cancel them. */
        bool live = src != NULL &&
                    ctx_state_err(atomic_load_explicit(&src->state, memory_order_acquire)) == 0;
        t->unowned(c, live);
    }
    if (ctx_is_cancellable(c)) {
        /* "Releasing it restores the signals' previous handling": at the last owner,
         * like Go's stop(), whether or not the context was cancelled first. */
        if (__builtin_expect(ctx_flags(c) & CTX_F_EXT, 0) && c->kind == CTX_KIND_CANCEL)
            ctx__signals_unwatch(c);
        if (atomic_load_explicit(&c->state, memory_order_acquire) & STATE_LANES)
            lanes_collapse(c);
    }
    ctx__ref_drop(c);
}

/* ctx_release of a cancellable context that nothing but the caller's reference can
 * reach: its only owner is the caller, and refs counts the owners' reference alone, or
 * that and its armed timer's, which is stopped first. Then no other thread can touch it:
 * no parent's canceller (the list it is linked in would hold a reference), no child
 * (each holds one, directly or through a value context), no timer thread, no lanes
 * (their counts are outside refs), no signal dispatcher (which works on the owners'
 * reference: CTX_F_EXT kinds are left out); a thread that still used the caller's
 * reference now would use freed memory anyway. So it is cancelled, unowned and freed
 * with no atomic read-modify-write and no lock — the same events, in the same order,
 * as ctx_cancel + ctx_unref. False (nothing done but, perhaps, the timer stopped) when
 * it is shared. */
static bool release_alone(ctx_t *c)
{
    uint8_t flags = ctx_flags(c);
    if (!ctx_is_cancellable(c) || (flags & CTX_F_EXT) ||
        atomic_load_explicit(&c->owners, memory_order_acquire) != 1 ||
        (atomic_load_explicit(&c->state, memory_order_acquire) & STATE_LANES))
        return false;
    uint32_t refs = atomic_load_explicit(&c->refs, memory_order_acquire);
    bool stopped = false;
    if (refs == 2 && (flags & CTX_F_TIMER)) {
        /* The second reference is the heap's if the timer is still armed: stopping it
         * makes it ours. Otherwise the timer thread has it (or it is some other
         * holder's): shared. */
        if (!ctx__timer_disarm(c))
            return false;
        stopped = true;
    } else if (refs != 1) {
        return false;
    }
    ctx__cancel_alone(c, stopped);
    atomic_store_explicit(&c->owners, 0, memory_order_relaxed);
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL, 0) && t->unowned)
        t->unowned(c, false);
    atomic_store_explicit(&c->refs, 1, memory_order_relaxed); /* the heap's is ours */
    ctx__ref_drop(c);
    return true;
}

CTX_API void ctx_release(ctx_t *c)
{
    if (c == NULL || is_root(c))
        return;
    if (release_alone(c))
        return;
    ctx_cancel(c);
    ctx_unref(c);
}

CTX_API void ctx_releasep(ctx_t **c)
{
    if (c != NULL) {
        ctx_release(*c);
        *c = NULL;
    }
}

/* Release what `c` owns (the caller guarantees refs reached zero). */
static void ctx_destroy(ctx_t *c)
{
    const struct ctx_tracer *t = ctx_tracer();
    if (__builtin_expect(t != NULL, 0) && t->freed)
        t->freed(c);
    if (ctx_is_cancellable(c)) {
        uint32_t state = atomic_load_explicit(&c->state, memory_order_relaxed);
        if (CC(c)->fd >= 0)
            close(CC(c)->fd);
        if (c->reason_owned)
            free((char *)ctx_reason(c, state));
        if (state & STATE_LANES)
            free(CC(c)->lanes);
        if (__builtin_expect(ctx_flags(c) & CTX_F_EXT, 0) && c->kind == CTX_KIND_DEADLINE)
            free(((struct ctx_deadline_cause *)c)->reason);
        ctx__after_free_all(CC(c)->afters);
    } else if (c->kind == CTX_KIND_VALUE && CV(c)->destroy != NULL) {
        CV(c)->destroy(CV(c)->value);
    }
    free(c);
}

int ctx__ref_put_listed(ctx_t *c)
{
    uint32_t s = ctx_state_lock(c);
    /* Under the lock nobody else decides, and the canceller neither sets STATE_LISTGONE
     * nor frees c; refs can still grow (the list's holder may take one), never fall
     * below ours + the other. */
    uint32_t expected = 2;
    int last = -1;
    if (atomic_load_explicit(&c->refs, memory_order_acquire) == 2) {
        if (s & STATE_LISTGONE) {
            last = 1; /* ours + the dead one: ours is the last */
        } else if (atomic_load_explicit(&c->linked, memory_order_relaxed) != LINK_NONE &&
                   atomic_compare_exchange_strong_explicit(&c->refs, &expected, 1,
                                                           memory_order_acq_rel,
                                                           memory_order_relaxed)) {
            s |= STATE_ORPHAN; /* only the list holds it: its canceller frees it */
            last = 0;
        }
    }
    ctx_state_unlock(c, s);
    return last;
}

/* ctx__ref_put when refs was not 1 at first sight. */
bool ctx__ref_put_shared(ctx_t *c)
{
    uint32_t r = atomic_load_explicit(&c->refs, memory_order_acquire);
    for (;;) {
        if (r == 1)
            return true;
        /* Decided before dropping: once ours is gone, c may be freed by another. */
        if (r == 2 && ctx_is_cancellable(c) && ctx__maybe_listed(c)) {
            int last = ctx__ref_put_listed(c);
            if (last >= 0)
                return last;
            r = atomic_load_explicit(&c->refs, memory_order_acquire);
            continue;
        }
        if (atomic_compare_exchange_weak_explicit(&c->refs, &r, r - 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return false;
    }
}

void ctx__free_chain(ctx_t *c)
{
    /* Iterative: freeing a context drops its parent's reference, which may free the
     * parent, and so on up a chain of any depth. */
    for (;;) {
        ctx_t *parent = c->parent;
        int lane = (ctx_flags(c) >> CTX_F_REFLANE_SHIFT) & 7;
        ctx_destroy(c);
        c = parent;
        if (lane != 0) {
            /* Our reference on the parent was counted in one of its lanes: drop it
             * there, unless the lanes collapsed (then it moved into the parent's refs). */
            _Atomic uint64_t *w = &CC(parent)->lanes->lane[lane - 1].refs;
            uint64_t v = atomic_load_explicit(w, memory_order_relaxed);
            while (!(v & 1))
                if (atomic_compare_exchange_weak_explicit(w, &v, v - 2, memory_order_release,
                                                          memory_order_relaxed))
                    return;
        }
        if (is_root(c) || !ctx__ref_put(c))
            return;
    }
}

/* ---- tracer accessors --------------------------------------------------------------- */

CTX_API uint64_t ctx_trace_id(const ctx_t *c)
{
    return c != NULL ? c->id : 0;
}

CTX_API enum ctx_kind ctx_trace_kind(const ctx_t *c)
{
    return c != NULL ? (enum ctx_kind)c->kind : CTX_KIND_BACKGROUND;
}
