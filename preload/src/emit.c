/*
 * emit.c — the emit primitive and each thread's recording state (shim.h): the one place
 * an event is written to a ring, and where a thread becomes known to the trace.
 *
 * Everything that records (hooks.c, stackcap.c, threads.c, the exit check) calls down
 * into this file, and it calls only the ring (ring.h): the recording side of the shim is
 * a one-way chain. A thread registers on its first event — an id, its ring, its start
 * event — and arms a thread-specific-data destructor that records its exit and retires
 * its ring; threads.c adds, for threads created through pthread_create, their parent,
 * creation stack and what they were handed (shim_thread_started).
 */
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

_Thread_local struct shim_thread shim_self;
_Atomic bool shim_recording;
_Atomic uint64_t shim_events_dropped;
_Atomic uint64_t shim_events_after_cut, shim_contexts_after_cut;
static _Atomic bool cut;

static _Atomic uint32_t next_thread_id = 1; /* 1: the first thread registered (main) */
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
/* Non-zero: every event of this thread carries this time (shim_emit_hold_time). */
static _Thread_local int64_t held_ts;

static inline int64_t now_ns(void)
{
    if (held_ts != 0)
        return held_ts;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void shim_emit_hold_time(int64_t ts)
{
    held_ts = ts;
}

int64_t shim_emit_now(void)
{
    return now_ns();
}

static void on_thread_exit(void *arg)
{
    (void)arg;
    struct ev *e = shim_emit_begin(EV_THREAD_EXIT, 0);
    if (e != NULL)
        shim_emit_commit(e);
    if (shim_self.ring != NULL)
        atomic_store_explicit(&shim_self.ring->dead, true, memory_order_release);
    shim_self.ring = NULL;
}

static void make_key(void)
{
    pthread_key_create(&exit_key, on_thread_exit);
}

uint32_t shim_thread_new_id(void)
{
    return atomic_fetch_add_explicit(&next_thread_id, 1, memory_order_relaxed);
}

void shim_thread_started(uint32_t id, uint32_t parent, uint64_t stack, const uint64_t *words,
                         int n)
{
    shim_self.id = id;
    pthread_once(&key_once, make_key);
    pthread_setspecific(exit_key, &shim_self); /* any non-NULL value arms the destructor */
    struct ev *e = shim_emit_begin(EV_THREAD_START, (size_t)n * sizeof(uint64_t));
    if (e != NULL) {
        e->a = (int64_t)syscall(SYS_gettid);
        e->b = parent;
        e->c = n;
        e->stack = stack;
        if (n > 0)
            memcpy(e + 1, words, (size_t)n * sizeof(uint64_t));
        shim_emit_commit(e);
    }
}

uint32_t shim_thread_id(void)
{
    if (shim_self.id == 0)
        shim_thread_started(shim_thread_new_id(), 0, 0, NULL, 0);
    return shim_self.id;
}

void shim_threads_reset_in_child(void)
{
    /* The forking thread is the child's only thread: it registers again, as thread 1
     * of the new trace file (with its start recorded there). */
    atomic_store(&next_thread_id, 1);
    shim_self.id = 0;
    shim_self.ring = NULL;
}

void shim_cut_recording(void)
{
    /* cut before recording: a thread that sees recording off then sees the cut. */
    atomic_store(&cut, true);
    atomic_store(&shim_recording, false);
}

void shim_cut_reset_in_child(void)
{
    atomic_store(&cut, false);
    atomic_store(&shim_events_after_cut, 0);
    atomic_store(&shim_contexts_after_cut, 0);
}

struct ev *shim_emit_begin(enum ev_type type, size_t payload)
{
    if (shim_self.no_trace)
        return NULL;
    if (!atomic_load_explicit(&shim_recording, memory_order_acquire)) {
        /* Before the shim started: nothing to say. After the cut: the trace says how
         * much it did not see (a stack is part of the event that captured it). */
        if (atomic_load_explicit(&cut, memory_order_relaxed) && type != EV_STACK) {
            atomic_fetch_add_explicit(&shim_events_after_cut, 1, memory_order_relaxed);
            if (type == EV_CREATE)
                atomic_fetch_add_explicit(&shim_contexts_after_cut, 1, memory_order_relaxed);
        }
        return NULL;
    }
    if (shim_self.ring == NULL) {
        uint32_t id = shim_thread_id();
        if (id == 0 || (shim_self.ring = ring_new(id)) == NULL) {
            /* No memory for a ring: the one way an event can be lost. Counted and
             * reported (meta.events_dropped), never silent. */
            atomic_fetch_add_explicit(&shim_events_dropped, 1, memory_order_relaxed);
            return NULL;
        }
    }
    size_t size = (sizeof(struct ev) + payload + 7) & ~(size_t)7;
    struct ev *e = ring_reserve(shim_self.ring, size);
    memset(e, 0, sizeof *e);
    e->type = (uint16_t)type;
    e->size = (uint16_t)size;
    e->thread = shim_self.id;
    e->ts = now_ns();
    return e;
}

void shim_emit_commit(struct ev *e)
{
    ring_commit(shim_self.ring, e->size);
}
