/*
 * exitcheck.c — the exit check (DESIGN.md, docs/rules.md "The exit check"): when the
 * process exits (from any thread) or is stopped by SIGINT/SIGTERM, stop every other
 * thread (stw.c), record what each one is doing — its /proc state, the system call it
 * sleeps in, its current stack — and let the world run again; the rules
 * (libctxtrace/core/rule_exit.c) judge the threads from those rows.
 *
 * Runs on the exiting thread before the final flush. Bounded: each phase of stopping
 * waits at most STOP_TIMEOUT_NS; a check that cannot stop the world is abandoned, and
 * meta.exit_check says why (the rules then judge nothing that needs it). The results
 * are recorded after the world is resumed, as events of the exiting thread, so nothing
 * allocates while other threads are suspended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ctxtrace/core/store.h>

#include "shim.h"
#include "stw.h"

/* Per phase (stopping; unwinding). Generous: on a 2-core machine with a hundred threads
 * that never sleep, each must be scheduled twice — measured up to 1.5 s in all. */
static const int64_t STOP_TIMEOUT_NS = 2000 * 1000000LL;

static struct {
    char text[192];    /* meta.exit_check; empty: no check ran */
    int64_t ns, us;    /* when the world was stopped; for how long */
    int64_t stopped, unstoppable;
} result;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CTXTRACE_EXIT_CHECK=0 turns the check off (meta.exit_check = 'off'). */
static bool enabled(void)
{
    const char *v = getenv("CTXTRACE_EXIT_CHECK");
    return v == NULL || strcmp(v, "0") != 0;
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

void shim_exit_check(void)
{
    static _Atomic bool ran;
    if (!atomic_load(&shim_recording) || atomic_exchange(&ran, true))
        return;
    if (!enabled()) {
        snprintf(result.text, sizeof result.text, "off");
        return;
    }
    struct stw_world w;
    char why[160];
    int64_t t0 = now_ns();
    if (stw_stop(&w, shim_writer_tid(), STOP_TIMEOUT_NS, why, sizeof why) != 0) {
        snprintf(result.text, sizeof result.text, "abandoned: %s", why);
        return;
    }
    result.ns = t0;
    stw_resume(&w);
    result.us = (now_ns() - t0) / 1000;
    for (size_t i = 0; i < w.n; i++) {
        const struct stw_thread *t = &w.threads[i];
        if (t->status == STW_GONE)
            continue;
        result.stopped += t->status == STW_STOPPED;
        result.unstoppable += t->status == STW_UNSTOPPABLE;
        record(t);
    }
    snprintf(result.text, sizeof result.text, "done");
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
    ct_store_meta_int(store, "exit_check_threads", result.stopped);
    ct_store_meta_int(store, "exit_check_unstoppable", result.unstoppable);
}
