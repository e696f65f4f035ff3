/*
 * shim.h — the pieces of libctxtrace_preload.so and how they meet.
 *
 * Data flows one way: application threads record (hooks.c, threads.c), with stacks
 * from stackcap.c, through the emit primitive and their per-thread state (emit.c) into
 * their own ring (ring.c) — recording calls only down that chain; the writer thread
 * (writer.c) sleeps on the rings' wake-up word, drains them, turns events into rows
 * (batch.c; retain.c in summary retention), symbolizes new stacks (symbolize.c) and
 * writes the trace file through the trace core's store, and feeds the live model
 * (live.c), which the socket (server.c) serves. lifecycle.c keeps that true
 * across exit, signals, fork and exec; output.c names the file. At exit and at a
 * SIGINT/SIGTERM flush, exitcheck.c stops the other threads (stw.c), records their states
 * and stacks and scans for references to every live context (scan.c) before the final
 * flush.
 */
#ifndef CT_SHIM_H
#define CT_SHIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "event.h"
#include "ring.h"

/* Per-thread recording state. */
struct shim_thread {
    struct ring *ring;   /* created on the thread's first event */
    uint32_t id;         /* threads.id; 0 until registered */
    int guard;           /* >0 while inside the shim: no recursive recording */
    bool no_trace;       /* the writer thread itself */
};
extern _Thread_local struct shim_thread shim_self;

/* Is recording on? Off until the shim attached to a libctxtrace in this process, and
 * again after the final flush at exit. */
extern _Atomic bool shim_recording;

/* The context (trace id) this thread is blocked on in ctx_wait, 0 when not waiting: the
 * exit check's scan does not count a waiter's references to what it waits on. */
extern _Thread_local uint64_t shim_waiting_on;

/* Events that could not be recorded (no memory for a ring): reported in meta. */
extern _Atomic uint64_t shim_events_dropped;

/* (emit.c) The cut: recording stopped for good in this image — the final flush (exit, SIGINT,
 * SIGTERM) or a write error. Threads still running after it make events the trace
 * cannot hold; they are refused and counted (meta.events_after_cut, and
 * contexts_after_cut for the creations among them), never silently missing. */
extern _Atomic uint64_t shim_events_after_cut, shim_contexts_after_cut;
/* Make the cut: from now on every event is refused and counted. */
void shim_cut_recording(void);
/* A forked child starts its own trace: no cut, nothing counted. */
void shim_cut_reset_in_child(void);

/* ---- config.c: the configuration, read from the environment once ---- */
struct shim_config {
    int stack_depth;   /* CTXTRACE_STACK_DEPTH: frames captured per stack, 1..64 (32) */
    int64_t sample_ns; /* CTXTRACE_SAMPLE_MS: the sample period (100 ms) */
    int keep;          /* CTXTRACE_KEEP: enum ct_keep (full) */
    int keep_sample;   /* CTXTRACE_KEEP_SAMPLE: summary's sampling, one in N (1024; 0 none) */
    bool follow_exec;  /* CTXTRACE_FOLLOW_EXEC: trace exec'd programs (1) */
    bool exit_check;   /* CTXTRACE_EXIT_CHECK: run the exit check (1) */
};
/* Read-only after shim_config_read, which the shim's constructor calls first. */
extern const struct shim_config *const shim_conf;
void shim_config_read(void);

/* ---- next.c ---- */
/* The definition of `name` that the shim interposes on (dlsym RTLD_NEXT), looked up on
 * first use and kept in *cache (a static of the interposer). */
void *shim_next(const char *name, void *_Atomic *cache);

/* ---- emit.c: the emit primitive and each thread's recording state ---- */
/* The calling thread's id, registering it (and recording EV_THREAD_START without a
 * creation stack) if it was not created through our pthread_create. */
uint32_t shim_thread_id(void);
/* A new thread id; then, on the new thread, its registration with what threads.c knows
 * of it: its parent, creation stack and the words it was handed. */
uint32_t shim_thread_new_id(void);
void shim_thread_started(uint32_t id, uint32_t parent, uint64_t stack, const uint64_t *words,
                         int n);
void shim_threads_reset_in_child(void);
/* Every event this thread emits carries time ts until shim_emit_hold_time(0) (one
 * instant for the cancel, release and free of one ctx_release); shim_emit_now() is the
 * time an event would get now. */
void shim_emit_hold_time(int64_t ts);
int64_t shim_emit_now(void);

/* ---- threads.c ---- */
/* Start one of the shim's own threads, bypassing the pthread_create interposer. */
#include <pthread.h>
int shim_spawn_untraced(pthread_t *thread, void *(*fn)(void *), void *arg);

/* ---- emit.c ---- */
/* Reserve an event of `payload` extra bytes in the calling thread's ring (NULL if the
 * thread cannot record). Fill it, then shim_emit_commit. */
struct ev *shim_emit_begin(enum ev_type type, size_t payload);
void shim_emit_commit(struct ev *e);

/* ---- recording (hooks.c) ---- */
/* Attach the runtime's seam, found with dlsym in `where`: RTLD_DEFAULT, or the handle
 * of a library just dlopen'ed (RTLD_LOCAL libraries are invisible to RTLD_DEFAULT). */
void shim_hooks_attach(void *where);
bool shim_hooks_attached(void);

/* ---- stackcap.c ---- */
/* Capture the caller's stack, intern it; returns its hash (never 0). */
uint64_t stackcap_capture(void);
/* Intern a stack captured elsewhere (the exit check's, from a signal context): send it
 * once as EV_STACK from the calling thread; returns its hash (never 0). */
uint64_t stackcap_emit(const uint64_t *ips, int n);
void stackcap_init(void);
/* The calling thread's "already sent" cache (32 KiB of its TLS): shim memory the exit
 * check's scan skips. Async-signal-safe. */
void stackcap_tls_span(uintptr_t *lo, uintptr_t *hi);
void stackcap_reset_in_child(void);

/* ---- writer.c ---- */
int shim_writer_start(const char *path);
/* Drain every ring and commit; with `final`, also write the exit sample and meta and
 * stop recording. Waits at most `timeout_ns` (signal handlers must not hang). */
void shim_writer_flush(bool final, const char *exit_reason, int64_t timeout_ns);
void shim_writer_forget_in_child(void);
/* The writer thread's kernel tid (0 before it started): the exit check leaves it
 * running — it holds none of the application's references. */
pid_t shim_writer_tid(void);
void shim_writer_lock(void);
/* Hold the writer between batches, waiting at most timeout_ns (the exit check, which may
 * run in a signal handler, must not wait forever); false if it could not. */
bool shim_writer_lock_for(int64_t timeout_ns);
/* The writer's live contexts (address -> id, id -> parent id); read only while the
 * writer is held. Also the spans of shim memory that hold context addresses. */
struct u64map;
struct span;
void shim_writer_live(const struct u64map **addr, const struct u64map **parent);
size_t shim_writer_spans(struct span *out, size_t max);
void shim_writer_unlock(void);

/* ---- output.c ---- */
/* Choose and claim the trace file of this process (output.c's rules) into buf, holding
 * its owner lock until exit or exec; a forked child calls it again for its own file.
 * 0 or an errno value. */
int shim_output_path(char *buf, size_t len);

/* ---- exitcheck.c ---- */
/* Stop the world and record every thread's state and stack (once per process; call
 * before the final flush). The reachability scan gives up once budget_ns have passed
 * since the check began (stopping has its own bound). */
void shim_exit_check(int64_t budget_ns);
/* Its meta keys, written with the end meta. */
typedef struct ct_store ct_store;
void shim_exit_check_meta(ct_store *store);
/* The same result for the live stream's EXIT_CHECK frame: false if no check ran; else
 * *status is meta.exit_check, *reach meta.exit_check_reach (NULL when the meta has no
 * such key), *ns meta.exit_check_ns (0: none). */
bool shim_exit_check_result(const char **status, const char **reach, int64_t *ns);

/* ---- lifecycle.c ---- */
void shim_lifecycle_init(void);

/* ---- ring.c (registry lock, held across fork) ---- */
void ring_registry_lock(void);
void ring_registry_unlock(void);
/* The memory of every ring (their events hold context addresses), into out. */
size_t ring_spans(struct span *out, size_t max);

#endif /* CT_SHIM_H */
