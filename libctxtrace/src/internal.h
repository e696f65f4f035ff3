/*
 * internal.h — the context object and the runtime's internal seams.
 *
 * One allocation per context. Every context starts with a 32-byte common header
 * (struct ctx); cancellable contexts (cancel, deadline: struct ctx_cancel) add 56
 * bytes (88 in all, a 96-byte malloc chunk), value contexts (struct ctx_valued) 56 (88
 * in all, a 96-byte chunk), without_cancel contexts nothing. Two rarer kinds extend struct ctx_cancel
 * (CTX_F_EXT): a deadline with its own cause (104) and a signal context (112).
 *
 * References. Two counts:
 *   owners — the application's references (ctx_with_* returns one, ctx_ref adds,
 *            ctx_unref drops). Reaching zero is reported to the tracer (the
 *            lost-cancel signal) and drops the one internal reference the owners hold.
 *   refs   — internal references, each keeping the memory alive:
 *            1 for the owners collectively (while owners > 0),
 *            1 per child (the child's `parent` pointer),
 *            1 while linked in the nearest cancellable ancestor's children list,
 *            1 while a deadline timer is armed,
 *            1 per after_func callback queued to run.
 *   The memory is freed when refs reaches zero; freeing drops the parent's reference,
 *   iteratively, so a million-deep chain unwinds without recursion.
 *   One exception saves a big tree's cancel walk an atomic per leaf: the canceller may
 *   give up a taken child's list reference without decrementing refs, by setting
 *   STATE_LISTGONE under the child's lock (the reference stays counted, dead). Then the
 *   memory is freed when refs reaches 1 with STATE_LISTGONE set. A holder that would
 *   leave refs at 1 on a context that is, or was, linked decides before it drops, under
 *   the context's lock (ctx__ref_put_listed): STATE_LISTGONE set — the one left is dead,
 *   free it; still linked — the one left is the list's, so drop ours and mark
 *   STATE_ORPHAN: the canceller that would set STATE_LISTGONE finds STATE_ORPHAN
 *   instead and frees the child itself. A canceller done with a taken child it did not
 *   release that way clears `linked` under the child's lock, so that no such decision is
 *   still running when it drops the list's reference.
 *
 * Locking. A cancellable context's lock guards its children list, its after-func
 * list, its cause and reason, its fd, its state word, and the `linked` flag *of its
 * children* (a child is unlinked only by whoever holds the ancestor's lock — with
 * lanes, the lock of the lane it is linked in). Lock order: a context, then one of its
 * lanes (only when the lanes are made), then the timer heap lock; never two contexts'
 * locks at once.
 *
 * The lock is the STATE_LOCKED bit of the state word (lock.h's bit lock): taking it is
 * one compare-and-swap, and releasing it is the plain store that writes the word's new
 * value — cancelling a context (lock, publish the error, unlock) or attaching a child
 * to it costs one atomic read-modify-write. Waiting for it spins, then yields.
 *
 * The done state is the futex word `state`: the low 16 bits hold the error (0 while
 * live); STATE_WAITERS is set by threads about to sleep on the word; STATE_SUBTREE is
 * set with the error and cleared once every descendant is done too (so a second
 * canceller can wait for the first: ctx_cancel returns only when the subtree is done,
 * as in Go). The word is written only by the holder of its lock; readers need no lock.
 * Setting the error is a release store that publishes cause and reason; readers
 * acquire it.
 */
#ifndef CTX_INTERNAL_H
#define CTX_INTERNAL_H

#include <ctxtrace/ctx.h>
#include <ctxtrace/tracer.h>
#include <stdatomic.h>
#include <stddef.h>

#include "lock.h"

#define STATE_ERR_MASK 0xffffu
#define STATE_WAITERS 0x80000000u /* someone may sleep on the word */
#define STATE_SUBTREE 0x40000000u /* done, but its canceller is still on the descendants */
#define STATE_LANES 0x20000000u   /* children live in per-thread lanes (never cleared) */
#define STATE_LOCKED 0x10000000u  /* the context's lock (above) is held */
#define STATE_LISTGONE 0x08000000u /* done; its list reference is dead (see refs) */
#define STATE_ORPHAN 0x04000000u  /* linked, and the list's is its only reference left */

/* ctx.flags: the context's own bits are written while it is being created (by the
 * creating thread, before anyone else can see it); the home lane bits later, under its
 * lock, by the threads attaching children to it. So writers never overlap, and readers
 * outside the lock (ctx_unref, the timer) read the creation bits, which never change:
 * relaxed atomic loads and stores (ctx_flags / ctx_flags_set) keep that race-free at
 * the cost of plain moves. */
enum {
    CTX_F_TIMER = 1,            /* a deadline timer was armed */
    CTX_F_HOME_SHIFT = 1,       /* bits 1-3: 1 + the lane of the first thread that
                                 * attached a child here (0: none yet) */
    CTX_F_REFLANE_SHIFT = 4,    /* bits 4-6: 1 + the parent's lane that counts our
                                 * reference on the parent (0: parent->refs does) */
    CTX_F_EXT = 0x80,           /* an extended struct, by kind: ctx_deadline_cause
                                 * (deadline), ctx_signals (cancel: signals.c) */
};

/* ctx.linked: where a cancellable context is linked in its attach target. */
enum {
    LINK_NONE = 0,
    LINK_MAIN = 1,              /* the embedded children list */
    LINK_LANE0 = 2,             /* LINK_LANE0 + L: lane L's list */
};

/* Lanes. Threads deriving from one shared parent would all write the parent's cache
 * line (lock, children head, reference count) and each other's children (the sibling
 * links) on every create and release. So once a second thread attaches a child to a
 * parent, the parent's children move into per-thread lanes, each on its own cache line
 * with its own lock, list and count of the children's references on the parent: two
 * threads deriving from one parent then write disjoint lines. A thread's lane is fixed
 * (round-robin at its first attach); CTX_LANES threads share nothing, more share lanes.
 *
 * The lanes' reference counts fold back into `refs` when the last owner goes (collapse):
 * until then the owners' reference keeps the context alive, so the sum need never be
 * known; after it, every count lives in `refs` and a lane word only says "collapsed". */
enum { CTX_LANES = 7 };

struct ctx_lane {
    ctx_lock_t lock;
    ctx_t *children;             /* this lane's cancellable children */
    _Atomic uint64_t refs;       /* (children's references on the parent << 1) | collapsed */
} __attribute__((aligned(64)));

struct ctx_lanes {
    struct ctx_lane lane[CTX_LANES];
    const char *reason;          /* once done: the cancellation reason or NULL */
};

/* The header every context starts with (32 bytes). A context of each kind is a struct
 * that begins with this header and continues with its own fields (ctx_cancel,
 * ctx_valued below); only the header is allocated for roots and without_cancel. */
struct ctx {
    ctx_t *parent;               /* immutable; holds a ref; NULL only for roots */
    uint64_t id;                 /* process-unique, never reused */
    _Atomic uint32_t owners;     /* application references */
    _Atomic uint32_t refs;       /* internal references (see above) */
    uint8_t kind;                /* enum ctx_kind */
    _Atomic uint8_t linked;      /* LINK_*: where in the attach target's lists */
    _Atomic uint8_t flags;       /* CTX_F_* (see above) */
    uint8_t reason_owned;        /* reason was copied here; set by the canceller */
    _Atomic uint32_t state;      /* cancellable only: error | STATE_* bits */
};

/* CTX_KIND_CANCEL, CTX_KIND_DEADLINE (88 bytes). The fields a *parent* touches when
 * children come and go (refs and state — its lock — in the header, children here) are
 * kept within 28 bytes so they usually share one cache line: threads deriving from one
 * shared parent then move one line per critical section. */
struct ctx_cancel {
    struct ctx h;
    int32_t fd;                  /* eventfd, -1 until ctx_fd asks */
    int32_t cause;               /* valid once done */
    union {
        ctx_t *children;         /* while live: first child in the list */
        const char *reason;      /* once done: the cancellation reason or NULL */
        struct ctx_lanes *lanes; /* with STATE_LANES, whether live or done */
    };
    /* Up to here (and from the header's owners on: bytes 16-63) is what cancelling a
     * node that is a child reads and writes: in a big tree's walk each node then costs
     * one cache line, or two, not always two. */
    ctx_t *next;                 /* next sibling in the attach target's children list */
    ctx_after_t *afters;         /* every after_func record registered here */
    ctx_t *prev;                 /* previous sibling */
    int32_t heap_idx;            /* index in the timer heap, -1 if not armed */
    int64_t deadline;            /* effective deadline, INT64_MAX for none */
};

/* CTX_KIND_DEADLINE from ctx_with_deadline_cause, with its own timer and a cause or
 * reason to report when that timer fires (CTX_F_EXT; 104 bytes). Only these pay for
 * the two fields: every other cancellable context stays within its 96-byte chunk. */
struct ctx_deadline_cause {
    struct ctx_cancel cc;
    int32_t cause;               /* what ctx_cause reports when the deadline passes */
    char *reason;                /* owned, or NULL */
};

/* CTX_KIND_VALUE (88 bytes: a 96-byte malloc chunk). Untraced lookups walk value
 * contexts only, two per step: each holds its nearest value ancestor's key (up_key) and
 * that one's own `up` (up2), so the chain of dependent loads is half as long and the
 * instructions a third fewer (value_depth8: 5.9 -> 4.9 ns, docs/benchmarks.md), for 16
 * bytes more than the 80-byte chunk one hop per level needed. */
struct ctx_valued {
    struct ctx h;
    ctx_t *done_src;             /* nearest cancellable ancestor, or NULL */
    const void *key;
    void *value;
    void (*destroy)(void *);
    ctx_t *up;                   /* nearest value ancestor, or NULL: lookups hop value
                                  * contexts only (immutable; the chain of parents holds
                                  * it alive) */
    const void *up_key;          /* up's key (NULL without up) */
    ctx_t *up2;                  /* up's up */
};

/* The kind-specific view of a context (the caller knows its kind). */
static inline struct ctx_cancel *CC(ctx_t *c)
{
    return (struct ctx_cancel *)c;
}

static inline struct ctx_valued *CV(ctx_t *c)
{
    return (struct ctx_valued *)c;
}

static inline const struct ctx_cancel *CC_const(const ctx_t *c)
{
    return (const struct ctx_cancel *)c;
}

static inline bool ctx_is_cancellable(const ctx_t *c)
{
    return c->kind >= CTX_KIND_CANCEL;
}

/* The cancellable context whose state `c` shares (itself if cancellable), or NULL if
 * `c` can never be done. */
static inline ctx_t *ctx_done_src(ctx_t *c)
{
    if (c->kind >= CTX_KIND_CANCEL)
        return c;
    if (c->kind == CTX_KIND_VALUE)
        return CV(c)->done_src;
    return NULL;
}

static inline uint8_t ctx_flags(const ctx_t *c)
{
    return atomic_load_explicit(&c->flags, memory_order_relaxed);
}

/* Only one thread at a time sets bits of one context (see the CTX_F_* comment). */
static inline void ctx_flags_set(ctx_t *c, uint8_t bits)
{
    atomic_store_explicit(&c->flags, (uint8_t)(ctx_flags(c) | bits), memory_order_relaxed);
}

static inline int ctx_state_err(uint32_t state)
{
    return (int)(state & STATE_ERR_MASK);
}

/* Lock `c` (cancellable); returns its state word (without STATE_LOCKED), which only we
 * write until ctx_state_unlock. */
static inline uint32_t ctx_state_lock(ctx_t *c)
{
    return ctx_bitlock(&c->state, STATE_LOCKED);
}

/* Unlock `c`, leaving `state` (the word from ctx_state_lock, as the holder changed it;
 * without STATE_LOCKED) in the state word, with release ordering. */
static inline void ctx_state_unlock(ctx_t *c, uint32_t state)
{
    ctx_bitunlock(&c->state, state);
}

/* The reason of a done cancellable context, given a state word read with acquire. */
static inline const char *ctx_reason(ctx_t *c, uint32_t state)
{
    return state & STATE_LANES ? CC(c)->lanes->reason : CC(c)->reason;
}

/* ---- creation and references (context.c) ---- */
/* The effective deadline of `c`: the nearest cancellable context's (which stores the
 * effective value), or INT64_MAX for none above a without_cancel or a root. */
int64_t ctx__effective_deadline(const ctx_t *c);
/* A new cancellable child of `parent` (not NULL), announced to the tracer and attached:
 * sizeof(struct ctx_cancel) bytes, or an extended struct (CTX_F_EXT) whose own fields
 * the caller fills in before anything reads them. NULL with errno ENOMEM. */
ctx_t *ctx__new_cancellable(ctx_t *parent, enum ctx_kind kind, int64_t deadline,
                            int64_t requested, size_t size);
/* `c` (cancellable) holds 2 references, one the caller's: may the other be a list's,
 * live or dead? (False is final: a list's reference is taken at attach, and a canceller
 * makes it dead inside c's critical section after clearing `linked` with release, so
 * seeing `linked` cleared means seeing that section's lock or its unlock's word.) */
static inline bool ctx__maybe_listed(ctx_t *c)
{
    return atomic_load_explicit(&c->linked, memory_order_acquire) != LINK_NONE ||
           (atomic_load_explicit(&c->state, memory_order_acquire) &
            (STATE_LOCKED | STATE_LISTGONE));
}
/* The caller's drop when c's refs may be 2 with a list's reference among them, decided
 * under c's lock (see refs above): 1 — the other is dead, c is the caller's to free
 * (nothing dropped); 0 — dropped, the list's is left (STATE_ORPHAN marked); -1 — not
 * that case after all (refs moved, or c is unlinked): nothing done, drop the usual way.
 * (context.c) */
int ctx__ref_put_listed(ctx_t *c);
/* Drop one internal reference of `c` (counted in c->refs); true if it was the last (the
 * caller then frees c: ctx__free_chain), or if only a dead list reference is left (see
 * refs above). Every reference handed here is counted in refs (a lane's count comes back
 * through the collapse first), and a reference is only ever taken by a holder of one:
 * refs at 1 means ours is the last, with no read-modify-write (the usual case when the
 * last owner releases a context). The acquire pairs with the release of every earlier
 * drop. */
bool ctx__ref_put_shared(ctx_t *c);
static inline bool ctx__ref_put(ctx_t *c)
{
    return atomic_load_explicit(&c->refs, memory_order_acquire) == 1 || ctx__ref_put_shared(c);
}
/* Free `c`, whose last reference is gone, and drop its reference on its parent, which
 * may free the parent, and so on up the chain. */
void ctx__free_chain(ctx_t *c);
/* Drop one internal reference of `c` (NULL and the roots: nothing), freeing what that
 * frees. Inline: in a big tree's cancel walk it runs once per node. */
static inline void ctx__ref_drop(ctx_t *c)
{
    if (c != NULL && c->parent != NULL && ctx__ref_put(c))
        ctx__free_chain(c);
}

/* The deadline of `c` (CTX_KIND_DEADLINE, its own timer) has passed: make it done with
 * CTX_DEADLINE_EXCEEDED and the cause it was created with (context.c). */
void ctx__deadline_passed(ctx_t *c);

/* ---- signals (signals.c) ---- */
/* The last owner of `c` (a ctx_with_signals context: cancel kind, CTX_F_EXT) is gone:
 * stop watching its signals, restoring their previous handling. */
void ctx__signals_unwatch(ctx_t *c);

/* ---- cancellation (cancel.c) ---- */
/* Link a new cancellable `c` under its attach target, or, if that is already done, make
 * `c` done with the target's error and cause (CTX_WHY_PARENT). */
void ctx__attach(ctx_t *c);
/* Make `c` (cancellable) and its subtree done and detach it from its parent. `reason`
 * is borrowed unless `reason_owned` (then freed here if `c` was already done). */
void ctx__cancel(ctx_t *c, int err, int cause, const char *reason, bool reason_owned,
                 enum ctx_cancel_why why);

/* ctx_release's cancel of a cancellable context (not CTX_F_EXT, without lanes) whose
 * only reference the caller holds, so that nothing else can reach it: no lock, and the
 * timer's reference (`stopped`: the caller disarmed it) is left to the caller. */
void ctx__cancel_alone(ctx_t *c, bool stopped);

/* ---- timers (timer.c) ---- */
/* Arm `c`'s deadline timer; called with c's lock held and c live, or (`alone`) without
 * the lock while no other thread can reach c. Takes a ref. */
void ctx__timer_arm(ctx_t *c, bool alone);
/* Disarm; called with c's lock held. True if it was armed (the caller must then drop
 * the timer's ref, after unlocking). */
bool ctx__timer_disarm(ctx_t *c);
/* Make sure the timer thread runs (after fork() it must be restarted). */
void ctx__timer_ensure(void);

/* ---- after_func callbacks (after.c, executor.c) ---- */
/* Schedule every pending callback in the list (the context just became done). */
void ctx__after_fire(ctx_after_t *list);
void ctx__after_free_all(ctx_after_t *list);
/* A unit of work for the callback threads: run(job) is called once, on one of them. */
struct ctx_job {
    struct ctx_job *next;
    void (*run)(struct ctx_job *job);
};
void ctx__executor_submit(struct ctx_job *job);

/* ---- the runtime's own threads (thread.c) ---- */
/* Start fn on a detached thread with every signal blocked; 0 or pthread_create's error. */
int ctx__spawn_detached(void *(*fn)(void *));

/* ---- tracer (tracer.c) ---- */
extern const struct ctx_tracer *_Atomic ctx__tracer;
uint64_t ctx__next_id(void);

/* The tracer, or NULL: the one predictable branch at every event site. */
static inline const struct ctx_tracer *ctx_tracer(void)
{
    return atomic_load_explicit(&ctx__tracer, memory_order_acquire);
}

#endif /* CTX_INTERNAL_H */
