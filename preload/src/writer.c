/*
 * writer.c — the shim's own thread: drains the rings, writes the trace file.
 *
 * Every few milliseconds (or when poked by a producer whose ring filled up) it drains
 * every ring into a batch and into the live model, serves the live socket's clients
 * (live.h), then commits the batch in one transaction; every sample period it also
 * writes a sample row. All heavy work — SQLite, symbolization, sockets — happens
 * here, never on application threads.
 *
 * Flushes (exit, signals, exec) are requests: the requester bumps flush_req and
 * sleeps on flush_done (a futex), which only needs atomics and system calls — safe
 * from a signal handler — and gives up after a timeout rather than hang the process.
 *
 * Early commits: a crash 20 ms in must leave those 20 ms. The symbolizer's first look at
 * a module reads its debug information — about 50 ms for libc here (measured: the first
 * batch of fault_prog took 51 ms, the next, of 8000 events, 3.8 ms) — and nothing is
 * committed meanwhile. So until SYMBOLIZE_AFTER_NS after the start (or a flush: exit, a
 * signal, exec, the exit check) each drain commits its rows alone, their stacks named by
 * id and kept pending; the first batch after that symbolizes them all, and from then on
 * every transaction holds its rows' stacks, as a SIGKILL'd trace's readers expect. A
 * process that dies young leaves every drain's rows, without their stacks. (Warming the
 * symbolizer up before the first event instead, on the writer or a thread of its own,
 * moved the exit check's conservative scan: findings.exit_waiter_only_ref failed 2 to 5
 * runs in 10; see the report to the lead.)
 *
 * The end: meta says what the trace did not see — events refused after the cut (threads
 * still running during the exit flush, or after a write error), counted until the file is
 * closed — and how application threads waited for ring space: paced and full-ring waits,
 * and the longest single one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ctxtrace/core/summary.h>
#include <ctxtrace/core/wire.h>

#include "ballast.h"
#include "batch.h"
#include "futex.h"
#include "live.h"
#include "scan.h"
#include "shim.h"
#include "symbolize.h"

enum { DRAIN_PERIOD_NS = 5 * 1000 * 1000 };
/* A quarter second: the early crashes (and short forked children) keep all their rows. */
static const int64_t SYMBOLIZE_AFTER_NS = 250 * 1000000LL;

static pthread_mutex_t writer_mu = PTHREAD_MUTEX_INITIALIZER; /* one batch at a time */
static ct_store *store;
static struct batch *batch;
static struct symbolizer *sym;
static bool running;
/* The first write that failed (a full disk, an I/O error): recording stopped there, and
 * nothing more is written, so that the trace is an honest prefix marked incomplete. */
static char write_error[256];

/* Stacks wait until then, or a flush, for the symbolizer's first look (see the top of
 * this file); after it, `symbolized`, every batch's stacks go with its rows. */
static int64_t symbolize_from;
static bool symbolized;

/* Space on the trace's file system for its last words on a full disk (ballast.h). */
static int ballast_fd = -1;

static _Atomic pid_t writer_tid;
static struct span writer_stack; /* its whole stack mapping: the exit check skips it */
static _Atomic uint32_t flush_req, flush_done;
static _Atomic bool flush_final;
static const char *_Atomic flush_reason;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static int64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static void write_sample(int64_t ts)
{
    const struct live_counts *c = batch_counts(batch);
    struct ct_sample_row row = {ts, c->contexts, c->timers, c->waiters, c->threads,
                                rss_bytes()};
    ct_store_sample(store, &row);
    batch_site_samples(batch, store, ts);
    live_sample(&row);
}

/* ring_drain_all callback: every event goes to the trace file, and to the live model
 * while there is a socket (CTXTRACE_SOCKET=off costs nothing). */
static void drain_event(const struct ev *e, void *arg)
{
    batch_apply(e, batch);
    if (*(const bool *)arg)
        live_collect(e);
}

/* What the trace did not see, as of now: written with the end meta, and once more after
 * the file is finished (the threads still running meanwhile are counted too). */
static void write_cut_counts(void)
{
    ct_store_meta_int(store, "events_after_cut", (int64_t)atomic_load(&shim_events_after_cut));
    ct_store_meta_int(store, "contexts_after_cut",
                      (int64_t)atomic_load(&shim_contexts_after_cut));
}

static void write_end_meta(const char *reason)
{
    const struct live_counts *c = batch_counts(batch);
    ct_store_meta_int(store, "end_ns", now_ns());
    /* A trace that stopped at a write error is a prefix of the run: never complete. */
    if (write_error[0] == '\0')
        ct_store_meta_int(store, "complete", 1);
    ct_store_meta_text(store, "exit_reason", reason);
    ct_store_meta_int(store, "events", (int64_t)c->events);
    ct_store_meta_int(store, "events_dropped", (int64_t)atomic_load(&shim_events_dropped));
    ct_store_meta_int(store, "ring_stalls", (int64_t)atomic_load(&ring_stalls));
    ct_store_meta_int(store, "ring_stall_ns", (int64_t)atomic_load(&ring_stall_ns));
    ct_store_meta_int(store, "ring_stall_max_ns", (int64_t)atomic_load(&ring_stall_max_ns));
    ct_store_meta_int(store, "ring_paces", (int64_t)atomic_load(&ring_paces));
    ct_store_meta_int(store, "ring_pace_ns", (int64_t)atomic_load(&ring_pace_ns));
    write_cut_counts();
    ct_store_meta_int(store, "contexts_summarized", batch_summarized(batch));
    shim_exit_check_meta(store);
    if (c->exit_unregistered > 0)
        ct_store_meta_int(store, "exit_check_unregistered", c->exit_unregistered);
}

/* A write failed: stop recording, say so once, and leave the reason in the trace (in the
 * ballast's space, given back for it: ballast.h). */
static void stop_writing(void)
{
    snprintf(write_error, sizeof write_error, "%s", ct_store_error(store));
    ballast_release(ballast_fd);
    ballast_fd = -1;
    shim_cut_recording();
    fprintf(stderr, "ctxtrace: cannot write the trace (%s): recording stopped; the trace "
            "ends here, marked incomplete\n", write_error);
    ct_store_begin(store);
    ct_store_meta_text(store, "write_error", write_error);
    ct_store_commit(store);
}

/* Drain and commit one batch; returns the number of events. `end` (not NULL) also
 * writes the closing sample and meta. */
static size_t write_batch(bool sample, const char *end, bool flushing)
{
    pthread_mutex_lock(&writer_mu);
    bool serving = live_server_serving();
    size_t n = ring_drain_all(drain_event, &serving);
    /* Clients first: they see events within one drain period, whatever SQLite costs (two
     * from a drain's first free on: live.c "Order"); at the end, all of them. */
    live_publish(end != NULL);
    live_server_poll();
    if (write_error[0] == '\0' && (n > 0 || sample || end != NULL)) {
        /* Stacks wait for the symbolizer's first look (see the top of this file); from
         * then on every transaction holds its rows' stacks. */
        bool symbolize = symbolized || flushing || end != NULL || now_ns() >= symbolize_from;
        ct_store_begin(store);
        /* The end of this image (exit, a fatal signal, exec): every context still live
         * gets its row, whatever the retention. */
        batch_write(batch, store, symbolize ? sym : NULL, end != NULL);
        if (sample || end != NULL)
            write_sample(now_ns());
        if (end != NULL)
            write_end_meta(end);
        if (ct_store_commit(store) != 0)
            stop_writing();
        else
            symbolized = symbolized || symbolize;
    } else if (write_error[0] != '\0' && end != NULL) {
        /* Recording stopped at a write error: the end and what was refused since, if
         * the disk takes this much (complete stays 0 either way). */
        if (ct_store_begin(store) == 0) {
            write_end_meta(end);
            ct_store_commit(store);
        }
    }
    /* The end of this image (exit, a fatal signal, exec): say so and leave no socket
     * behind. A failed exec leaves the process traced, but no longer served. */
    if (end != NULL && strcmp(end, "exec") != 0)
        live_exit_check();
    if (end != NULL)
        live_server_stop(strcmp(end, "exec") == 0 ? CT_WIRE_BYE_EXEC : CT_WIRE_BYE_EXIT, end);
    pthread_mutex_unlock(&writer_mu);
    return n;
}

static void *writer_main(void *arg)
{
    (void)arg;
    shim_self.no_trace = true;
    pthread_attr_t attr;
    void *stack_lo;
    size_t stack_size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &stack_lo, &stack_size) == 0)
            writer_stack = (struct span){(uintptr_t)stack_lo,
                                         (uintptr_t)stack_lo + stack_size};
        pthread_attr_destroy(&attr);
    }
    atomic_store(&writer_tid, (pid_t)syscall(SYS_gettid));
    pthread_setname_np(pthread_self(), "ctxtrace-writer"); /* for perf, top, gdb */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the application */

    int64_t next_sample = now_ns() + shim_conf->sample_ns;
    symbolize_from = now_ns() + SYMBOLIZE_AFTER_NS;
    symbolized = false;
    for (;;) {
        uint32_t seen = ring_pokes();
        uint32_t req = atomic_load_explicit(&flush_req, memory_order_acquire);
        if (req == atomic_load_explicit(&flush_done, memory_order_relaxed))
            ring_sleep(seen, DRAIN_PERIOD_NS);
        req = atomic_load_explicit(&flush_req, memory_order_acquire);
        bool flushing = req != atomic_load_explicit(&flush_done, memory_order_relaxed);

        int64_t now = now_ns();
        bool sample = now >= next_sample;
        if (sample)
            next_sample = now + shim_conf->sample_ns;
        const char *reason = flushing ? atomic_load(&flush_reason) : NULL;
        bool final = flushing && atomic_load(&flush_final);
        /* The final flush ends the trace in its second batch only: events recorded
         * before the cut may still be in the rings after the first, and a trace must
         * not say complete until they are in (a signal's flush may be cut short). */
        write_batch(sample, final ? NULL : reason, flushing);
        if (final) {
            /* Drain once more: events committed while we wrote. Recording is already
             * off, so this one is the last. */
            write_batch(false, reason, true);
            if (write_error[0] == '\0' && ct_store_finish(store) == 0 &&
                ct_store_begin(store) == 0) {
                /* Creating the indexes takes a while on a big trace, and the threads
                 * still running were refused meanwhile: the counts as the file closes. */
                write_cut_counts();
                ct_store_commit(store);
            }
            ct_store_close(store);
            store = NULL;
            ballast_release(ballast_fd);
            ballast_fd = -1;
        }
        if (flushing) {
            atomic_store_explicit(&flush_done, req, memory_order_release);
            futex_wake_all(&flush_done);
        }
        if (final)
            return NULL;
    }
}

static void write_start_meta(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    ct_store_meta_text(store, "program", buf);

    /* argv as a JSON array, from /proc/self/cmdline (NUL-separated). */
    FILE *f = fopen("/proc/self/cmdline", "r");
    char *json = malloc(65536);
    if (f != NULL && json != NULL) {
        size_t len = 0;
        json[len++] = '[';
        bool first = true, open = false;
        int c;
        while ((c = fgetc(f)) != EOF && len < 65500) {
            if (!open) {
                len += (size_t)snprintf(json + len, 65536 - len, "%s\"", first ? "" : ",");
                open = true;
                first = false;
            }
            if (c == 0) {
                json[len++] = '"';
                open = false;
            } else if (c == '"' || c == '\\') {
                json[len++] = '\\';
                json[len++] = (char)c;
            } else if ((unsigned char)c < 0x20) {
                len += (size_t)snprintf(json + len, 65536 - len, "\\u%04x", c);
            } else {
                json[len++] = (char)c;
            }
        }
        if (open)
            json[len++] = '"';
        json[len++] = ']';
        json[len] = '\0';
        ct_store_meta_text(store, "argv", json);
    }
    if (f != NULL)
        fclose(f);
    free(json);
    ct_store_meta_int(store, "pid", getpid());
    ct_store_meta_int(store, "ppid", getppid());
    ct_store_meta_int(store, "start_ns", now_ns());
    ct_store_meta_int(store, "start_realtime", (int64_t)time(NULL));
    ct_store_meta_int(store, "stack_depth", shim_conf->stack_depth);
    ct_store_meta_text(store, "retention", ct_keep_name(shim_conf->keep));
    if (shim_conf->keep == CT_KEEP_SUMMARY)
        ct_store_meta_int(store, "keep_sample", shim_conf->keep_sample);
    ct_store_meta_int(store, "events_dropped", 0);
}

int shim_writer_start(const char *path)
{
    char err[512];
    store = ct_store_create(path, err, sizeof err);
    if (store == NULL) {
        fprintf(stderr, "ctxtrace: cannot create the trace file: %s\n", err);
        return -1;
    }
    ballast_fd = ballast_make(path);
    batch = batch_new(shim_conf->keep, shim_conf->keep_sample);
    sym = symbolizer_new();
    if (batch == NULL || sym == NULL) {
        fprintf(stderr, "ctxtrace: out of memory starting the writer\n");
        return -1;
    }
    ct_store_begin(store);
    write_start_meta();
    ct_store_commit(store);
    live_model_init(sym);
    live_server_start(live_snapshot);
    pthread_t th;
    if (shim_spawn_untraced(&th, writer_main, NULL) != 0) {
        fprintf(stderr, "ctxtrace: cannot start the writer thread\n");
        return -1;
    }
    pthread_detach(th);
    running = true;
    return 0;
}

void shim_writer_flush(bool final, const char *exit_reason, int64_t timeout_ns)
{
    if (!running)
        return;
    if (final) {
        shim_cut_recording();
        running = false;
    }
    atomic_store(&flush_final, final);
    atomic_store(&flush_reason, exit_reason);
    uint32_t req = atomic_fetch_add(&flush_req, 1) + 1;
    ring_poke();
    int64_t deadline = now_ns() + timeout_ns;
    for (;;) {
        uint32_t done = atomic_load_explicit(&flush_done, memory_order_acquire);
        if ((int32_t)(done - req) >= 0)
            return;
        int64_t left = deadline - now_ns();
        if (left <= 0)
            return; /* the writer is stuck (e.g. on a lock a signalled thread holds) */
        futex_wait_ns(&flush_done, done, left < 10000000 ? left : 10000000);
    }
}

pid_t shim_writer_tid(void)
{
    return atomic_load(&writer_tid);
}

bool shim_writer_lock_for(int64_t timeout_ns)
{
    int64_t deadline = now_ns() + timeout_ns;
    while (pthread_mutex_trylock(&writer_mu) != 0) {
        if (now_ns() >= deadline)
            return false;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

void shim_writer_live(const struct u64map **addr, const struct u64map **parent)
{
    batch_live(batch, addr, parent);
}

size_t shim_writer_spans(struct span *out, size_t max)
{
    /* Its stack holds copies of the events it drained, addresses included. */
    size_t n = 0;
    if (writer_stack.hi != 0 && max > 0)
        out[n++] = writer_stack;
    return n + batch_spans(batch, out + n, max - n);
}

/* fork(): hold the writer between batches so the child inherits no half-done state. */
void shim_writer_lock(void)
{
    pthread_mutex_lock(&writer_mu);
}

void shim_writer_unlock(void)
{
    pthread_mutex_unlock(&writer_mu);
}

void shim_writer_forget_in_child(void)
{
    /* The parent's connection, batch and symbolizer belong to the parent (SQLite must
     * not be used across fork): abandon them, without closing anything the parent
     * still uses. The child starts its own writer on its own file. */
    store = NULL;
    batch = NULL;
    sym = NULL;
    running = false;
    write_error[0] = '\0'; /* the parent's file's trouble, not the child's */
    /* The parent's ballast: a copy held here would keep its space taken when the parent
     * lets it go. The child makes its own, beside its own file. */
    ballast_release(ballast_fd);
    ballast_fd = -1;
    live_server_forget_in_child();
    live_model_forget_in_child();
    atomic_store(&flush_req, 0);
    atomic_store(&flush_done, 0);
    pthread_mutex_unlock(&writer_mu);
}
