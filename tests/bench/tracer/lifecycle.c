/*
 * lifecycle.c — what one context lifecycle costs the application thread, traced or
 * not (run.sh runs it both ways; docs/tracer-benchmarks.md).
 *
 * A lifecycle is what a request handler does with a context:
 *
 *   --variant release   c = ctx_with_cancel(parent); ctx_release(c);
 *                       (Go's `ctx, cancel := WithCancel(p); defer cancel()`)
 *   --variant cancel    c = ctx_with_cancel(parent); ctx_cancel(c); ctx_release(c);
 *                       (an explicit cancel first, then the release)
 *
 * under a cancellable parent, at the bottom of a call chain --depth functions deep (so
 * the shim walks a full stack: --depth frames of ours plus main, libc's start frames
 * and the shim's own). Traced, the release variant costs two stack walks (creation;
 * release, whose cancel/unowned/free events share one) and four 64-byte ring events;
 * the cancel variant three walks.
 *
 * The point is the application thread's own cost, not the writer thread's throughput:
 * the lifecycles run in bursts (--burst, default 256: 64 KiB of events, a quarter of
 * the shim's 256 KiB per-thread ring) separated by pauses (--pause-ms, default 25) in
 * which the writer drains the ring and commits. So no burst waits for ring space
 * (run.sh checks meta.ring_stalls = 0 in the trace). The first bursts (--warmup,
 * default 2) meet the stacks for the first time and are not counted; after them a
 * longer pause (--settle-ms, default 300) lets the writer finish symbolizing those
 * stacks (libdw loads each module's debug information once: tens of milliseconds).
 * Stacks are interned per thread, so afterwards a stack costs its walk and its hash.
 *
 * Output, one "key value" per line:
 *
 *   variant release
 *   depth 16
 *   bursts 50
 *   burst 256
 *   ns_per_lifecycle_median 512.3    (median over bursts of burst time / burst)
 *   ns_per_lifecycle_min 498.0
 *
 * Usage: lifecycle [--variant release|cancel] [--depth N] [--bursts N] [--burst N]
 *                  [--pause-ms N] [--warmup N] [--settle-ms N]
 */
#include <ctxtrace/ctx.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every function of the call chain keeps its own frame (clang has no noclone). */
#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

static struct {
    bool cancel_first;
    int depth;
    int bursts;
    int burst;
    int pause_ms;
    int warmup;
    int settle_ms;
} opt = {false, 16, 50, 256, 25, 2, 300};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* One burst of lifecycles; returns its duration in ns. */
static NOINLINE int64_t burst(ctx_t *parent)
{
    int64_t t0 = now_ns();
    for (int i = 0; i < opt.burst; i++) {
        ctx_t *c = ctx_with_cancel(parent);
        if (c == NULL) {
            perror("lifecycle: ctx_with_cancel");
            exit(1);
        }
        if (opt.cancel_first)
            ctx_cancel(c);
        ctx_release(c);
    }
    return now_ns() - t0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static NOINLINE void measure(ctx_t *parent)
{
    int64_t *ns = malloc(sizeof *ns * (size_t)opt.bursts);
    if (ns == NULL) {
        perror("lifecycle");
        exit(1);
    }
    for (int i = 0; i < opt.warmup + opt.bursts; i++) {
        int64_t t = burst(parent);
        if (i >= opt.warmup)
            ns[i - opt.warmup] = t;
        pause_ms(i + 1 == opt.warmup ? opt.settle_ms : opt.pause_ms);
    }
    qsort(ns, (size_t)opt.bursts, sizeof *ns, cmp_i64);
    printf("variant %s\n", opt.cancel_first ? "cancel" : "release");
    printf("depth %d\n", opt.depth);
    printf("bursts %d\n", opt.bursts);
    printf("burst %d\n", opt.burst);
    printf("ns_per_lifecycle_median %.1f\n", (double)ns[opt.bursts / 2] / opt.burst);
    printf("ns_per_lifecycle_min %.1f\n", (double)ns[0] / opt.burst);
    free(ns);
}

/* The call chain: `level` more frames of this function, then the measurement. */
static NOINLINE int descend(ctx_t *parent, int level)
{
    if (level <= 1) {
        measure(parent);
        return 0;
    }
    int rc = descend(parent, level - 1);
    __asm__ volatile("" ::: "memory"); /* not a tail call: keep this frame */
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: lifecycle [--variant release|cancel] [--depth N] [--bursts N] "
                    "[--burst N] [--pause-ms N] [--warmup N] [--settle-ms N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        if (strcmp(a, "--variant") == 0 && strcmp(v, "release") == 0)
            opt.cancel_first = false;
        else if (strcmp(a, "--variant") == 0 && strcmp(v, "cancel") == 0)
            opt.cancel_first = true;
        else if (strcmp(a, "--depth") == 0)
            opt.depth = atoi(v);
        else if (strcmp(a, "--bursts") == 0)
            opt.bursts = atoi(v);
        else if (strcmp(a, "--burst") == 0)
            opt.burst = atoi(v);
        else if (strcmp(a, "--pause-ms") == 0)
            opt.pause_ms = atoi(v);
        else if (strcmp(a, "--warmup") == 0)
            opt.warmup = atoi(v);
        else if (strcmp(a, "--settle-ms") == 0)
            opt.settle_ms = atoi(v);
        else
            usage();
        i++;
    }
    if (opt.depth < 1 || opt.bursts < 1 || opt.burst < 1 || opt.pause_ms < 0 || opt.warmup < 0 ||
        opt.settle_ms < 0)
        usage();

    ctx_t *parent = ctx_with_cancel(ctx_background());
    if (parent == NULL) {
        perror("lifecycle: ctx_with_cancel");
        return 1;
    }
    int rc = descend(parent, opt.depth);
    ctx_release(parent);
    return rc;
}
