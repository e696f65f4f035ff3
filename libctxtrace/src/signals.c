/*
 * signals.c — ctx_with_signals: Go's signal.NotifyContext.
 *
 * A signal handler may call only async-signal-safe functions, and no ctx_* call that
 * changes a context is one (they lock, allocate, wake): a handler calling ctx_cancel
 * deadlocks as soon as the signal lands on a thread holding that context's lock. So the
 * handler does the one thing it may — writes the signal number, one byte, into a pipe
 * (the self-pipe trick) — and a runtime thread reads the pipe and cancels every context
 * watching that signal, on an ordinary thread where every call is allowed.
 *
 * Registry (under `mu`): every watching context is on one list with the mask of its
 * signals; watchers[s] counts the contexts watching signal s. The first watcher of a
 * signal installs the handler and keeps the previous action; the last one to go puts it
 * back. A context stops watching at its last owner (ctx_unref, so ctx_release: Go's
 * stop()), not when it is cancelled: as in Go, a second SIGINT after the first cancelled
 * the context is still caught until the program releases it, and only then does the
 * default action (ending the process) come back.
 *
 * The dispatcher thread starts with the first watcher and exits when the last one goes
 * (it is woken with a 0 byte), so a program that stopped watching keeps no extra thread.
 *
 * fork(): the child inherits the handlers and the registry (its copies of the watching
 * contexts), but not the thread, and it shares the parent's pipe — a signal to one
 * process must not wake the other's dispatcher. So the child drops the inherited pipe,
 * and if it has watchers makes its own pipe and thread at once.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Signals 1.._NSIG-1 fit one 64-bit mask (bit s-1). */
_Static_assert(_NSIG - 1 <= 64, "a signal mask is one uint64_t");
enum { MAX_SIG = _NSIG - 1 };

/* CTX_KIND_CANCEL with CTX_F_EXT (112 bytes). */
struct ctx_signals {
    struct ctx_cancel cc;
    uint64_t mask;                   /* the signals watched; 0 once it stopped (or never
                                      * started) watching. Under mu. */
    struct ctx_signals *prev, *next; /* on `watching`, under mu */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct ctx_signals *watching;
static unsigned watchers[MAX_SIG + 1];
static struct sigaction previous[MAX_SIG + 1]; /* valid while watchers[s] > 0 */
static bool thread_running;
static int pipe_r = -1;
static _Atomic int pipe_w = -1; /* read by the handler, so atomic */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static inline uint64_t bit(int sig)
{
    return (uint64_t)1 << (sig - 1);
}

/* The handler: async-signal-safe (write(2) only), errno preserved for the code it
 * interrupted. A full pipe (tens of thousands of undelivered signals) drops the byte,
 * which only repeats what is already queued. */
static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write(atomic_load_explicit(&pipe_w, memory_order_relaxed), &b, 1) < 0) {
        /* nothing to do in a handler */
    }
    errno = saved;
}

/* The reason a signal cancels with: its name ("SIGTERM"), or "signal N". */
static void signal_name(int sig, char *buf, size_t len)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev != NULL)
        snprintf(buf, len, "SIG%s", abbrev);
    else
        snprintf(buf, len, "signal %d", sig);
}

/* Cancel every context watching `sig`. Cancelling runs arbitrary code (value destructors
 * of freed descendants may call back into ctx_*), so it happens outside `mu`: each batch
 * is collected under the lock with an internal reference, and cancelled after. Contexts
 * already done are skipped, so every pass makes progress. */
static void deliver(int sig)
{
    char reason[32];
    signal_name(sig, reason, sizeof reason);
    enum { BATCH = 32 };
    size_t n;
    do {
        ctx_t *batch[BATCH];
        n = 0;
        pthread_mutex_lock(&mu);
        for (struct ctx_signals *w = watching; w != NULL && n < BATCH; w = w->next) {
            ctx_t *c = &w->cc.h;
            if ((w->mask & bit(sig)) && !ctx_is_done(c)) {
                /* Safe: a watching context still has its owners' reference. */
                atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
                batch[n++] = c;
            }
        }
        pthread_mutex_unlock(&mu);
        for (size_t i = 0; i < n; i++) {
            ctx_cancel_cause(batch[i], sig, reason);
            ctx__ref_drop(batch[i]);
        }
    } while (n == BATCH);
}

static void *dispatch_main(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned char buf[64];
        ssize_t n = read(pipe_r, buf, sizeof buf);
        if (n <= 0)
            abort(); /* our own pipe, never closed while this thread runs */
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != 0)
                deliver(buf[i]);
        pthread_mutex_lock(&mu);
        if (watching == NULL) {
            thread_running = false;
            pthread_mutex_unlock(&mu);
            return NULL;
        }
        pthread_mutex_unlock(&mu);
    }
}

/* The pipe and the dispatcher thread (mu held). 0 or an errno. */
static int ensure_dispatcher_locked(void)
{
    if (pipe_r < 0) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return errno;
        /* The handler must never block: a full pipe drops the byte instead. */
        fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
        pipe_r = fds[0];
        atomic_store_explicit(&pipe_w, fds[1], memory_order_relaxed);
    }
    if (!thread_running) {
        int rc = ctx__spawn_detached(dispatch_main);
        if (rc != 0)
            return rc;
        thread_running = true;
    }
    return 0;
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&mu);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&mu);
}

static void atfork_child(void)
{
    thread_running = false;
    if (pipe_r >= 0) {
        close(pipe_r);
        close(atomic_exchange_explicit(&pipe_w, -1, memory_order_relaxed));
        pipe_r = -1;
    }
    /* The child's copies of the watching contexts must still hear their signals. */
    if (watching != NULL && ensure_dispatcher_locked() != 0)
        abort(); /* a SIGTERM that silently cancels nothing would be worse */
    pthread_mutex_unlock(&mu);
}

static void install_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* Signals a context may watch: catchable, and not the synchronous fault signals (a
 * handler that returns from SIGSEGV re-runs the faulting instruction forever). */
static bool watchable(int sig)
{
    return sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV && sig != SIGBUS &&
           sig != SIGFPE && sig != SIGILL;
}

/* Start watching (w->mask still 0). 0 or an errno; on error nothing changed. */
static int watch(struct ctx_signals *w, uint64_t mask)
{
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&mu);
    int rc = ensure_dispatcher_locked();
    if (rc == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART | SA_ONSTACK;
        for (int s = 1; s <= MAX_SIG; s++)
            if ((mask & bit(s)) && watchers[s]++ == 0)
                sigaction(s, &sa, &previous[s]); /* cannot fail: s is watchable */
        w->mask = mask;
        w->prev = NULL;
        w->next = watching;
        if (watching != NULL)
            watching->prev = w;
        watching = w;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void ctx__signals_unwatch(ctx_t *c)
{
    struct ctx_signals *w = (struct ctx_signals *)c;
    pthread_mutex_lock(&mu);
    if (w->mask != 0) {
        for (int s = 1; s <= MAX_SIG; s++)
            if ((w->mask & bit(s)) && --watchers[s] == 0)
                sigaction(s, &previous[s], NULL);
        w->mask = 0;
        if (w->prev != NULL)
            w->prev->next = w->next;
        else
            watching = w->next;
        if (w->next != NULL)
            w->next->prev = w->prev;
        if (watching == NULL && thread_running) {
            /* Wake the dispatcher so it sees there is nothing left and exits. */
            unsigned char zero = 0;
            if (write(atomic_load_explicit(&pipe_w, memory_order_relaxed), &zero, 1) < 0) {
                /* full: it is awake anyway, and will look once it has read */
            }
        }
    }
    pthread_mutex_unlock(&mu);
}

CTX_API ctx_t *ctx_with_signals(ctx_t *parent, const sigset_t *signals)
{
    uint64_t mask = 0;
    for (int s = 1; signals != NULL && s <= MAX_SIG; s++) {
        if (sigismember(signals, s) != 1)
            continue;
        if (!watchable(s)) {
            errno = EINVAL;
            return NULL;
        }
        mask |= bit(s);
    }
    if (parent == NULL || mask == 0) {
        errno = EINVAL;
        return NULL;
    }
    ctx_t *c = ctx__new_cancellable(parent, CTX_KIND_CANCEL, ctx__effective_deadline(parent),
                                    0, sizeof(struct ctx_signals));
    if (c == NULL)
        return NULL;
    struct ctx_signals *w = (struct ctx_signals *)c;
    w->mask = 0;
    w->prev = w->next = NULL;
    int rc = watch(w, mask);
    if (rc != 0) {
        ctx_release(c); /* never watched: unwatch finds mask 0 */
        errno = rc;
        return NULL;
    }
    return c;
}
