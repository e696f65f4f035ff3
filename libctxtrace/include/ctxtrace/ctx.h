/*
 * ctxtrace/ctx.h — Go's context, in C.
 *
 * A context carries a cancellation signal, an optional deadline and request-scoped
 * values down a tree of calls and threads. Contexts form a tree: every derived context
 * has a parent, and cancelling a context cancels all of its descendants.
 *
 * This header is the whole public contract of libctxtrace.so. The library depends on
 * libc and pthreads only; every function is thread-safe.
 *
 * Time is int64_t nanoseconds on CLOCK_MONOTONIC. Errors are errno values.
 *
 * Ownership, as in Go
 * -------------------
 * Every ctx_with_* call returns a context the caller owns one reference to. The owner
 * of a cancellable context (ctx_with_cancel / _deadline / _timeout) must cancel it when
 * the work it covers ends — ctx_release() does cancel + unref, and CTX_AUTO does that at
 * scope exit: the C spelling of Go's `defer cancel()`.
 *
 * ctx_unref() NEVER cancels. A cancellable context stays attached to its nearest
 * cancellable ancestor (which keeps it, and its memory, alive) until it is cancelled or
 * that ancestor is done. Dropping the last reference without cancelling is therefore
 * exactly Go's "lost cancel" leak; ctxtrace's tools exist to find it. A context with
 * no cancellable ancestor (derived from ctx_background()) is freed when its last
 * reference goes — unless it has an armed deadline timer, which keeps it alive until the
 * timer fires (Go's orphaned timer).
 *
 * Misuse that the library does not (cannot cheaply) detect: dropping more references
 * than you own (for example calling ctx_release() twice on one reference) is a
 * use-after-free; build with -fsanitize=address to catch it.
 *
 * NULL contexts
 * -------------
 * No function crashes on a NULL context; each answers as its comment says:
 *   - derivation (ctx_with_*, ctx_group_new), ctx_after_func: NULL with errno EINVAL;
 *   - ctx_err, ctx_cause, ctx_wait: EINVAL (ctx_err and ctx_wait never return it for a
 *     real context);
 *   - ctx_fd: -1 with errno EINVAL; ctx_value: NULL with errno EINVAL;
 *   - ctx_is_done: false; ctx_deadline: false (no errno: both are signal-safe, below);
 *   - no-ops: ctx_cancel, ctx_cancel_cause, ctx_ref (returns NULL), ctx_unref,
 *     ctx_release, ctx_releasep (also for a NULL pointer), ctx_after_stop (false);
 *   - a NULL group: ctx_group_ctx gives NULL, every other ctx_group_* call EINVAL.
 *
 * Signals
 * -------
 * Async-signal-safe, so callable from a signal handler: ctx_now, ctx_background,
 * ctx_todo, ctx_is_done, ctx_err, ctx_cause, ctx_deadline — they only load, never lock,
 * allocate or call a tracer. (The context must stay alive meanwhile: use one that the
 * program releases only after its handler can no longer run.) No other function is:
 * they take locks, allocate and wake threads, and calling one from a handler can
 * deadlock — for example ctx_cancel when the signal lands on a thread that holds that
 * context's lock. To cancel on a signal, use ctx_with_signals, which does the cancelling
 * on a library thread.
 *
 * fork()
 * ------
 * After fork() the child may create, wait on and time out contexts: the library's timer
 * and callback threads are restarted in the child on first use. Contexts inherited from
 * the parent are independent copies: cancelling one in either process affects only that
 * process, and their deadlines keep firing in the child. Two caveats, as with any
 * pthread-based library: a context another thread was in the middle of operating on at
 * fork time may be left locked in the child (use contexts the forking thread owns, or
 * new ones), and an fd from ctx_fd() obtained before fork is shared by both processes,
 * so in the child call ctx_fd() only on contexts created after the fork.
 */
#ifndef CTXTRACE_CTX_H
#define CTXTRACE_CTX_H

#include <errno.h>
#include <signal.h>
/* sigset_t (ctx_with_signals) is POSIX, not ISO C: a program built with a strict
 * -std=c11 and no feature macro gets it from glibc's own header. */
#if defined(__has_include)
#if __has_include(<bits/types/sigset_t.h>)
#include <bits/types/sigset_t.h>
#endif
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CTX_VERSION_MAJOR, CTX_VERSION_MINOR, CTX_VERSION_PATCH, CTX_VERSION_STRING, and
 * CTX_VERSION / CTX_VERSION_AT(major, minor, patch) to compare (generated). */
#include <ctxtrace/ctx_version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define CTX_API __attribute__((visibility("default")))
#else
#define CTX_API
#endif

/* Durations in nanoseconds. */
#define CTX_NANOSECOND ((int64_t)1)
#define CTX_MICROSECOND ((int64_t)1000)
#define CTX_MILLISECOND ((int64_t)1000000)
#define CTX_SECOND ((int64_t)1000000000)

/* Why a context is done: ctx_err() returns one of these (0 while live). */
#define CTX_CANCELED ECANCELED
#define CTX_DEADLINE_EXCEEDED ETIMEDOUT

typedef struct ctx ctx_t;
typedef struct ctx_after ctx_after_t;
typedef struct ctx_group ctx_group_t;

/* Not part of the API: the few bytes of a context that the inline ctx_is_done reads.
 * Their offsets are part of the library's ABI (context.c asserts them against the real
 * layout), so they never move within a major version. */
struct ctx__done_view {
    unsigned char ctx__private0[24];
    uint8_t kind;                 /* CTX__KIND_VALUE, >= CTX__KIND_CANCEL: cancellable */
    unsigned char ctx__private1[3];
    uint32_t state;               /* cancellable: the error in the low 16 bits, 0 live */
    ctx_t *done_src;              /* value contexts: the cancellable ancestor, or NULL */
};
#define CTX__KIND_VALUE 3
#define CTX__KIND_CANCEL 4
#define CTX__STATE_ERR_MASK 0xffffu

/* Now, in nanoseconds on CLOCK_MONOTONIC: the clock every deadline is measured on. */
CTX_API int64_t ctx_now(void);

/* ---- Roots -------------------------------------------------------------------------- */

/* Two distinct static roots. Never done, no deadline, no values. ctx_ref, ctx_unref,
 * ctx_cancel and ctx_release on them are no-ops. Background is the root of real work;
 * TODO marks a place where the right context is not yet plumbed through. */
CTX_API ctx_t *ctx_background(void);
CTX_API ctx_t *ctx_todo(void);

/* ---- Derivation ---------------------------------------------------------------------
 * Each returns a new context owned by the caller (one reference), or NULL with errno:
 * EINVAL for a NULL parent (or NULL key), ENOMEM when memory runs out.
 * The child holds its own reference to the parent: the caller may drop the parent's
 * reference at any time after deriving. */

/* A cancellable child. Done when ctx_cancel() is called on it or when its parent is
 * done, whichever happens first. If the parent is already done the child is born done,
 * with the parent's error and cause. The caller must cancel it (ctx_release). */
CTX_API ctx_t *ctx_with_cancel(ctx_t *parent);

/* As ctx_with_cancel, and also done with CTX_DEADLINE_EXCEEDED at `deadline` (ns on
 * CLOCK_MONOTONIC). If the parent's deadline is earlier it wins: no timer is armed and
 * the child reports the parent's deadline. A deadline already past gives a context that
 * is done at once. Cancelling the context stops its timer immediately. */
CTX_API ctx_t *ctx_with_deadline(ctx_t *parent, int64_t deadline);

/* ctx_with_deadline(parent, ctx_now() + timeout). */
CTX_API ctx_t *ctx_with_timeout(ctx_t *parent, int64_t timeout);

/* Go's WithDeadlineCause: as ctx_with_deadline, and when *this context's own* deadline
 * passes, ctx_cause() reports `cause` (0: CTX_DEADLINE_EXCEEDED) and `reason` (copied;
 * may be NULL); ctx_err() is still CTX_DEADLINE_EXCEEDED. Any other ending reports its
 * own cause: ctx_cancel/ctx_release give CTX_CANCELED (as Go's CancelFunc, which does
 * not set the cause), ctx_cancel_cause its cause, a parent that ends first the parent's.
 * A parent deadline earlier than (or equal to) `deadline` wins as in ctx_with_deadline,
 * so `cause` is then never reported. A deadline already past: done at once, with `cause`.
 * ENOMEM also when the reason cannot be copied. */
CTX_API ctx_t *ctx_with_deadline_cause(ctx_t *parent, int64_t deadline, int cause,
                                       const char *reason);

/* ctx_with_deadline_cause(parent, ctx_now() + timeout, cause, reason). */
CTX_API ctx_t *ctx_with_timeout_cause(ctx_t *parent, int64_t timeout, int cause,
                                      const char *reason);

/* A child carrying one key/value pair. Keys are compared by pointer (use the address of
 * a static object of your own). destroy(value), if not NULL, runs exactly once when the
 * context is freed. Done, deadline and other values come from the parent. */
CTX_API ctx_t *ctx_with_value(ctx_t *parent, const void *key, void *value,
                              void (*destroy)(void *));

/* A child that keeps the parent's values but is never done and has no deadline: for
 * work that must outlive the request that started it. */
CTX_API ctx_t *ctx_without_cancel(ctx_t *parent);

/* Go's signal.NotifyContext: a cancellable child of `parent` that is also cancelled when
 * one of `signals` arrives, with ctx_cause() = the signal number and the reason its name
 * ("SIGTERM"). The safe way to stop a C server on SIGTERM: no ctx_* call may be made from
 * a signal handler (see "Signals" below), and none is — the library's handler only writes
 * the signal number to a pipe, and a library thread cancels the contexts.
 *   - The first context watching a signal installs the library's handler; the previous
 *     action is kept and restored when the last context watching that signal loses its
 *     last owner (ctx_release/ctx_unref: Go's stop()). Until then the signal stays
 *     caught, even after it cancelled the context: a second SIGINT does not kill the
 *     process before the program has released the context. A handler the program
 *     installs meanwhile for the same signal is overwritten by that restore, as in Go.
 *   - Several contexts may watch one signal: each arrival cancels all of them.
 *   - After fork() the child's copies still watch their signals (the child gets its own
 *     pipe and thread), and the child may create new ones.
 *   - A signal blocked in every thread is never delivered, so never cancels anything.
 * NULL with errno EINVAL for a NULL parent or set, an empty set, or a set holding a
 * signal that cannot or must not be caught this way (SIGKILL, SIGSTOP, and the fault
 * signals SIGSEGV, SIGBUS, SIGFPE, SIGILL); ENOMEM, or the error of pipe2() or
 * pthread_create() for the library's thread. */
CTX_API ctx_t *ctx_with_signals(ctx_t *parent, const sigset_t *signals);

/* ---- Cancellation ------------------------------------------------------------------- */

/* Done with CTX_CANCELED: all descendants become done, the context's timer is stopped
 * and it is detached from its parent. Idempotent. A no-op on contexts that are not
 * cancellable (roots, value and without_cancel contexts). Does not drop a reference. */
CTX_API void ctx_cancel(ctx_t *c);

/* As ctx_cancel, recording why: `cause` (an errno-style code; 0 means CTX_CANCELED) and
 * an optional human-readable `reason` (copied). The first cancellation wins: a context
 * already done keeps its original cause. Descendants inherit the cause. */
CTX_API void ctx_cancel_cause(ctx_t *c, int cause, const char *reason);

/* ---- Observing ---------------------------------------------------------------------- */

/* 0 while live; CTX_CANCELED or CTX_DEADLINE_EXCEEDED once done. NULL: EINVAL.
 * Async-signal-safe. */
CTX_API int ctx_err(ctx_t *c);

/* 0 while live; otherwise the cause recorded where the cancellation started (inherited
 * by descendants), falling back to ctx_err(). When `reason` is not NULL it receives the
 * reason text (valid while `c` lives) or NULL. NULL context: EINVAL (and *reason NULL).
 * Async-signal-safe. */
CTX_API int ctx_cause(ctx_t *c, const char **reason);

/* Non-blocking, lock-free: has the context been cancelled or reached its deadline?
 * NULL: false. Async-signal-safe. An inline function (two or three loads, no call): the done check sits in
 * every loop that honours cancellation. The exported symbol of the same name stays, for
 * binaries built before it was inline and for callers that take its address. */
#if defined(__GNUC_GNU_INLINE__) && !defined(__cplusplus)
/* -fgnu89-inline: there a plain `inline` would define the symbol in every file. */
#define CTX__INLINE extern inline __attribute__((gnu_inline))
#else
#define CTX__INLINE inline
#endif
CTX_API CTX__INLINE bool ctx_is_done(ctx_t *c)
{
    const struct ctx__done_view *v = (const struct ctx__done_view *)c;
    if (v == NULL)
        return false;
    if (v->kind == CTX__KIND_VALUE) {
        v = (const struct ctx__done_view *)v->done_src;
        if (v == NULL)
            return false;
    } else if (v->kind < CTX__KIND_CANCEL) {
        return false;
    }
    return (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) & CTX__STATE_ERR_MASK) != 0;
}

/* Block until the context is done (returns 0) or `timeout` ns have passed (returns
 * ETIMEDOUT). A negative timeout waits forever. Returns 0 at once if already done.
 * NULL: EINVAL. */
CTX_API int ctx_wait(ctx_t *c, int64_t timeout);

/* A file descriptor that becomes readable (level-triggered) once the context is done,
 * for poll/epoll/select. Created on first use and owned by the context: do not read,
 * write or close it. Derived value contexts share their cancellable ancestor's fd.
 * Returns -1 with errno EINVAL for a context that can never be done (a root, or below a
 * ctx_without_cancel with no cancellable context since), or the eventfd() errno. */
CTX_API int ctx_fd(ctx_t *c);

/* The effective deadline: the earliest one up the chain. Returns false (and leaves
 * *deadline alone) when there is none, or for a NULL context. `deadline` may be NULL.
 * Async-signal-safe. */
CTX_API bool ctx_deadline(ctx_t *c, int64_t *deadline);

/* The value for `key` from the nearest ctx_with_value up the chain, or NULL. A NULL
 * context: NULL with errno EINVAL. */
CTX_API void *ctx_value(ctx_t *c, const void *key);

/* ---- References --------------------------------------------------------------------- */

/* Take another owner reference; returns c. NULL (or a root): a no-op. */
CTX_API ctx_t *ctx_ref(ctx_t *c);

/* Drop an owner reference. NULL is a no-op. Never cancels (see "Ownership" above). */
CTX_API void ctx_unref(ctx_t *c);

/* ctx_cancel(c) then ctx_unref(c): the C spelling of `defer cancel()`. NULL is a no-op. */
CTX_API void ctx_release(ctx_t *c);

/* ctx_release(*c) and set *c to NULL; the cleanup function behind CTX_AUTO. */
CTX_API void ctx_releasep(ctx_t **c);

/* `CTX_AUTO ctx_t *c = ctx_with_timeout(parent, CTX_SECOND);` releases c at scope exit. */
#define CTX_AUTO __attribute__((cleanup(ctx_releasep)))

/* ---- Callbacks ---------------------------------------------------------------------- */

/* Run fn(arg) once, on a library thread, after `c` is done (promptly if it already is).
 * Callbacks never block each other. Returns NULL with errno on bad input or ENOMEM.
 * For a context that can never be done, fn never runs. The handle stays valid while its
 * context lives (its memory is reclaimed with the context). */
CTX_API ctx_after_t *ctx_after_func(ctx_t *c, void (*fn)(void *), void *arg);

/* Prevent a registered callback from running. Returns true if this call prevented it,
 * false if it already started (or finished) or was already stopped, and for NULL. */
CTX_API bool ctx_after_stop(ctx_after_t *a);

/* ---- Structured concurrency (Go's errgroup) ----------------------------------------- */

/* A group of threads sharing one cancellable context derived from `parent`. NULL with
 * errno on failure. */
CTX_API ctx_group_t *ctx_group_new(ctx_t *parent);

/* The group's context (owned by the group; valid until ctx_group_wait returns). Pass it
 * to the work; ctx_ref() it if it must outlive the group. NULL for a NULL group. */
CTX_API ctx_t *ctx_group_ctx(ctx_group_t *g);

/* Run fn(group context, arg) on a new thread, first waiting for a free slot if the group
 * has a limit (ctx_group_set_limit). The first nonzero return cancels the group's
 * context, with that code as the cause. Returns 0, or an errno (EINVAL, ENOMEM, or
 * pthread_create's error) if the thread could not be started. */
CTX_API int ctx_group_go(ctx_group_t *g, int (*fn)(ctx_t *, void *), void *arg);

/* errgroup's SetLimit: at most `n` functions of the group run at once (n < 0: no limit,
 * the default; 0: none may start). ctx_group_go then blocks until a slot is free; a fn
 * frees its slot when it returns. Returns 0, EINVAL for a NULL group, or EBUSY while any
 * function of the group is running (errgroup panics there: the running ones were
 * counted against the old limit). */
CTX_API int ctx_group_set_limit(ctx_group_t *g, int n);

/* errgroup's TryGo: as ctx_group_go, but only if a slot is free right now. Returns 0 (fn
 * started), EAGAIN (the group is at its limit: fn not started), or ctx_group_go's
 * errors. */
CTX_API int ctx_group_try_go(ctx_group_t *g, int (*fn)(ctx_t *, void *), void *arg);

/* Join every thread, cancel the group's context, free the group, and return the first
 * nonzero code any fn returned (0 if all returned 0). NULL: EINVAL. */
CTX_API int ctx_group_wait(ctx_group_t *g);

#ifdef __cplusplus
}
#endif

#endif /* CTXTRACE_CTX_H */
