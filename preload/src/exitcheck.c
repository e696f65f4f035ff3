/*
 * exitcheck.c — the exit check (DESIGN.md, docs/rules.md "The exit check"): when the
 * process exits (from any thread) or is stopped by SIGINT/SIGTERM, stop every other
 * thread (stw.c), record what each one is doing — its /proc state, the system call it
 * sleeps in, its current stack — decide which live contexts a running program can still
 * reach (scan.c), and let the world run again; the rules (libctxtrace/core/rule_exit.c
 * and the verdict) judge threads and contexts from those rows.
 *
 * Order: drain the rings, so the writer's map of live contexts is current; hold the
 * writer (its map must not change, and it must not be inside malloc while the heap is
 * walked); prepare the scan (allocations, the loader's module list); stop the world;
 * scan; resume; let the writer go. Contexts created between the drain and the stop are
 * not judged (no row: unknown).
 *
 * Runs on the exiting thread before the final flush. Bounded: each phase of stopping
 * waits at most STOP_TIMEOUT_NS; a check that cannot stop the world is abandoned, and
 * meta.exit_check says why (the rules then judge nothing that needs it). The results
 * are recorded after the world is resumed, as events of the exiting thread, so nothing
 * allocates while other threads are suspended.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ctxtrace/core/store.h>

#include "scan.h"
#include "shim.h"
#include "stw.h"

/* Per phase (stopping; unwinding). Generous: on a 2-core machine with a hundred threads
 * that never sleep, each must be scheduled twice — measured up to 1.5 s in all. */
static const int64_t STOP_TIMEOUT_NS = 2000 * 1000000LL;

enum { MAX_SPANS = 1 << 16 };

static struct {
    char text[192];    /* meta.exit_check; empty: no check ran */
    char reach[192];   /* meta.exit_check_reach */
    int64_t ns, us;    /* when the world was stopped; for how long */
    int64_t total_us;  /* the whole check: drain, prepare, stop, scan, record */
    int64_t rss_kb;    /* resident memory it added (its tables and buffers) */
    int64_t cpu_us;    /* CPU time of the checking thread (the scan's own cost) */
    int64_t stopped, unstoppable;
    uint64_t words, objects;
} result;

/* The shim's memory that holds context addresses: never an object of the scan. */
static struct span spans[MAX_SPANS];

/* Resident memory (KiB), read without stdio: this may run in a signal handler. */
static int64_t rss_kb(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *p = buf;
    while (*p != ' ' && *p != '\0') /* size, then resident */
        p++;
    int64_t pages = 0;
    for (p++; *p >= '0' && *p <= '9'; p++)
        pages = pages * 10 + (*p - '0');
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CTXTRACE_EXIT_CHECK=0 turns the check off (meta.exit_check = 'off'). */
static bool enabled(void)
{
    return shim_conf->exit_check;
}

static void record(const struct stw_thread *t)
{
    uint64_t stack = 0;
    if (t->status == STW_STOPPED && t->unwound && t->depth > 0)
        stack = stackcap_emit(t->ips, t->depth);
    struct ev *e = shim_emit_begin(EV_EXIT_THREAD, 0);
    if (e == NULL)
        return;
    e->a = t->tid;
    e->b = t->state;
    e->c = t->syscall_nr;
    e->d = t->status == STW_STOPPED;
    e->stack = stack;
    shim_emit_commit(e);
}

struct verdict {
    uint64_t id;
    int reach;
};

/* The scan's verdicts, copied out while the writer is held (its map changes as soon as
 * it drains again), into memory mapped beforehand; returns how many. */
static size_t copy_verdicts(const struct u64map *addr, const struct scan *sc,
                            struct verdict *out)
{
    size_t n = 0;
    for (size_t i = 0; i < addr->cap; i++)
        if (addr->keys[i] != 0)
            out[n++] = (struct verdict){addr->vals[i], scan_result(sc, i)};
    return n;
}

/* Record them, once the writer is free to drain what this thread emits. */
static void record_verdicts(const struct verdict *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ev *e = shim_emit_begin(EV_EXIT_REACH, 0);
        if (e == NULL)
            return;
        e->id = v[i].id;
        e->a = v[i].reach;
        shim_emit_commit(e);
    }
}

void shim_exit_check(int64_t budget_ns)
{
    static _Atomic bool ran;
    if (!atomic_load(&shim_recording) || atomic_exchange(&ran, true))
        return;
    if (!enabled()) {
        snprintf(result.text, sizeof result.text, "off");
        return;
    }
    /* Where the program's frames end on this thread: everything below is the check's. */
    uintptr_t self_lo = (uintptr_t)__builtin_frame_address(0);
    char why[160];
    int64_t start = now_ns(), cpu0 = cpu_ns();
    shim_writer_flush(false, NULL, STOP_TIMEOUT_NS);
    bool held = shim_writer_lock_for(STOP_TIMEOUT_NS);
    int64_t rss0 = rss_kb(); /* after the drain: the writer's own work is not the check's */
    struct scan *sc = NULL;
    struct verdict *verdicts = NULL;
    size_t nverdicts = 0;
    const struct u64map *addr = NULL, *parent = NULL;
    if (!held) {
        snprintf(result.reach, sizeof result.reach, "unknown: the writer is busy");
    } else {
        shim_writer_live(&addr, &parent);
        size_t bytes = (addr->len + 1) * sizeof *verdicts;
        void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        verdicts = mem == MAP_FAILED ? NULL : mem;
        size_t n = ring_spans(spans, MAX_SPANS - 1);
        n += shim_writer_spans(spans + n, MAX_SPANS - 1 - n);
        if (verdicts != NULL)
            spans[n++] = (struct span){(uintptr_t)verdicts, (uintptr_t)verdicts + bytes};
        sc = scan_prepare(addr, parent, spans, n, why, sizeof why);
        if (sc == NULL || verdicts == NULL) {
            snprintf(result.reach, sizeof result.reach, "unknown: %s",
                     sc == NULL ? why : "no memory for the verdicts");
            sc = NULL;
        }
    }
    struct stw_world w;
    int64_t t0 = now_ns();
    if (stw_stop(&w, shim_writer_tid(), STOP_TIMEOUT_NS, why, sizeof why) != 0) {
        snprintf(result.text, sizeof result.text, "abandoned: %s", why);
        if (held)
            shim_writer_unlock();
        return;
    }
    result.ns = t0;
    if (sc != NULL) {
        if (scan_run(sc, &w, self_lo, start + budget_ns, why, sizeof why) == 0) {
            nverdicts = copy_verdicts(addr, sc, verdicts);
            snprintf(result.reach, sizeof result.reach, "done");
            scan_stats(sc, &result.words, &result.objects);
        } else {
            snprintf(result.reach, sizeof result.reach, "unknown: %s", why);
        }
    }
    stw_resume(&w);
    result.us = (now_ns() - t0) / 1000;
    result.rss_kb = rss_kb() - rss0;
    if (held)
        shim_writer_unlock();
    record_verdicts(verdicts, nverdicts);
    for (size_t i = 0; i < w.n; i++) {
        const struct stw_thread *t = &w.threads[i];
        if (t->status == STW_GONE)
            continue;
        result.stopped += t->status == STW_STOPPED;
        result.unstoppable += t->status == STW_UNSTOPPABLE;
        record(t);
    }
    snprintf(result.text, sizeof result.text, "done");
    result.total_us = (now_ns() - start) / 1000;
    result.cpu_us = (cpu_ns() - cpu0) / 1000;
}

bool shim_exit_check_result(const char **status, const char **reach, int64_t *ns)
{
    if (result.text[0] == '\0')
        return false;
    bool done = strcmp(result.text, "done") == 0;
    *status = result.text;
    *reach = done && result.reach[0] != '\0' ? result.reach : NULL;
    *ns = done ? result.ns : 0;
    return true;
}

void shim_exit_check_meta(ct_store *store)
{
    if (result.text[0] == '\0')
        return;
    ct_store_meta_text(store, "exit_check", result.text);
    if (strcmp(result.text, "done") != 0)
        return;
    ct_store_meta_int(store, "exit_check_ns", result.ns);
    ct_store_meta_int(store, "exit_check_us", result.us);
    ct_store_meta_int(store, "exit_check_total_us", result.total_us);
    ct_store_meta_int(store, "exit_check_rss_kb", result.rss_kb);
    ct_store_meta_int(store, "exit_check_cpu_us", result.cpu_us);
    ct_store_meta_int(store, "exit_check_threads", result.stopped);
    ct_store_meta_int(store, "exit_check_unstoppable", result.unstoppable);
    if (result.reach[0] != '\0')
        ct_store_meta_text(store, "exit_check_reach", result.reach);
    if (strcmp(result.reach, "done") == 0) {
        ct_store_meta_int(store, "exit_check_scan_words", (int64_t)result.words);
        ct_store_meta_int(store, "exit_check_scan_objects", (int64_t)result.objects);
    }
}
