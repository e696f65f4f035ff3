/*
 * threads.c — threads, the goroutine equivalent: every thread created with
 * pthread_create while recording gets an id, its creation stack and its parent
 * thread, and its start and exit are recorded.
 *
 * pthread_create is interposed; the new thread starts in a trampoline that registers
 * it with its parent, creation stack and what it was handed (emit.c keeps each thread's
 * recording state, records its start and exit, and registers the threads the shim did
 * not see being created — started before recording, or by raw clone — on their first
 * event, without a creation stack).
 *
 * What a thread was handed — its argument, and the words the argument points at — rides
 * on its start event, so the writer can tell which contexts it was given (the exit check's
 * leaked-thread rule judges a thread by the contexts it was handed or used).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                 void *);

static pthread_create_fn real_create(void)
{
    static void *_Atomic real;
    return (pthread_create_fn)shim_next("pthread_create", &real);
}

/* What a thread was handed: its pthread_create argument, and the words it points at
 * (a context passed directly, or inside a struct). The writer keeps the words that are
 * addresses of live contexts (threads.c's part of the leaked-thread rule). */
enum { ARG_WORDS = EV_HANDED_WORDS - 1 };

struct handed {
    int n;                       /* words in w: 0 (no argument), or 1 + those read */
    uint64_t w[EV_HANDED_WORDS];
};

/* Read what `arg` points at without trusting it to be a pointer: process_vm_readv on
 * ourselves fails cleanly (EFAULT) where a plain load would crash. Never past the end of
 * arg's page, so a readable argument is not refused for its neighbour. */
static void snapshot_arg(void *arg, struct handed *h)
{
    h->n = 0;
    if (arg == NULL)
        return;
    h->w[h->n++] = (uint64_t)(uintptr_t)arg;
    uintptr_t a = (uintptr_t)arg;
    if (a % sizeof(uint64_t) != 0)
        return;
    size_t to_page_end = 4096 - a % 4096, len = ARG_WORDS * sizeof(uint64_t);
    if (len > to_page_end)
        len = to_page_end;
    struct iovec local = {&h->w[1], len}, remote = {arg, len};
    ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (got > 0)
        h->n += (int)((size_t)got / sizeof(uint64_t));
}

struct start {
    void *(*fn)(void *);
    void *arg;
    uint32_t id, parent;
    uint64_t stack;
    struct handed handed;
};

static void *trampoline(void *p)
{
    struct start s = *(struct start *)p;
    /* The words it was handed may be context addresses: leave no stale copy of them in
     * freed memory, nor on this stack, for the exit check's scan to find. */
    explicit_bzero(p, sizeof s);
    free(p);
    shim_thread_started(s.id, s.parent, s.stack, s.handed.w, s.handed.n);
    explicit_bzero(&s.handed, sizeof s.handed);
    return s.fn(s.arg);
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
                   void *arg)
{
    if (!atomic_load_explicit(&shim_recording, memory_order_acquire) || shim_self.no_trace ||
        shim_self.guard > 0)
        return real_create()(thread, attr, fn, arg);
    struct start *s = malloc(sizeof *s);
    if (s == NULL)
        return real_create()(thread, attr, fn, arg);
    shim_self.guard++;
    s->fn = fn;
    s->arg = arg;
    s->parent = shim_thread_id();
    s->stack = stackcap_capture();
    snapshot_arg(arg, &s->handed);
    s->id = shim_thread_new_id();
    shim_self.guard--;
    int rc = real_create()(thread, attr, trampoline, s);
    if (rc != 0)
        free(s);
    return rc;
}

int shim_spawn_untraced(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    /* Born with every signal blocked: a signal must never run an application (or our
     * flush) handler on the shim's own thread, not even before it masks itself. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = real_create()(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}
