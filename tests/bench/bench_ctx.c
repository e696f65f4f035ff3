/*
 * bench_ctx.c — how fast libctxtrace's basic operations are, and how much a context costs.
 *
 * The same operations, in the same order, with the same method and output format, are
 * measured for Go's context by bench_go/main.go; compare.sh runs both and prints the
 * ratios (docs/benchmarks.md). Each line of output is
 *
 *     <name> <value> <unit> <count>
 *
 * for example `with_cancel 21.37 ns/op 23400000`; lines starting with '#' are comments.
 *
 * Method (mirrors Go's testing.B, and bench_go does exactly the same):
 *   - every timed operation is a function that runs its loop n times and returns the
 *     elapsed nanoseconds; setup (parents, value chains, trees) happens outside the clock;
 *   - warm-up and calibration: n grows from 1 (x1.2 overshoot, at most x100 per step, Go's
 *     predictN) until one run lasts at least a tenth of the bench time; those runs are
 *     discarded;
 *   - n is then scaled so one run lasts the bench time (default 0.25 s), that run is
 *     repeated --count times (default 4) and the best ns/op is reported with its n.
 *
 * Memory: a context's size is opaque, so it is measured as what the heap grows by per
 * live context over 100k live contexts (glibc mallinfo2(): bytes in use, which includes
 * malloc's per-chunk header and rounding), together with the allocator calls and the
 * bytes requested (malloc_count.c, a counting interposer).
 *
 * Options: --quick (tiny fixed counts: proves every operation runs, measures nothing),
 * --benchtime=SECONDS, --count=N, --filter=SUBSTRING (run only matching operations).
 */
#include <ctxtrace/ctx.h>

#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "malloc_count.h"

/* ---- Options and output ----------------------------------------------------------- */

static struct {
    bool quick;
    double benchtime_ns;
    int count;
    const char *filter;
} opt = {false, 0.25e9, 4, NULL};

/* Iterations per run in --quick mode, and live contexts for the memory figures. */
#define QUICK_N 200
#define MEM_N 100000

/* The tree cancelled by tree_cancel_1000x100: a root, TREE_FANOUT children, each with
 * TREE_LEAVES children. */
#define TREE_FANOUT 1000
#define TREE_LEAVES 100
#define TREE_NODES (1 + TREE_FANOUT + TREE_FANOUT * TREE_LEAVES)
#define TREE_REPS 10

static volatile uint64_t sink; /* keeps results observable */

static bool selected(const char *name)
{
    return opt.filter == NULL || strstr(name, opt.filter) != NULL;
}

static void report(const char *name, double value, const char *unit, uint64_t count)
{
    if (isnan(value))
        printf("%s nan %s %" PRIu64 "\n", name, unit, count);
    else
        printf("%s %.2f %s %" PRIu64 "\n", name, value, unit, count);
    fflush(stdout);
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ctx_t *must(ctx_t *c)
{
    if (c == NULL)
        die("ctx_with_*");
    return c;
}

/* ---- The auto-scaling runner (Go's testing.B loop) ------------------------------------ */

/* Runs the operation n times; returns the elapsed ns. */
typedef int64_t (*bench_fn)(void *arg, uint64_t n);

/* Go's predictN: aim for `goal_ns`, overshoot by 20%, grow at most 100x, at least +1. */
static uint64_t predict_n(double goal_ns, uint64_t prev_n, double prev_ns)
{
    if (prev_ns <= 0)
        prev_ns = 1;
    double n = goal_ns * (double)prev_n / prev_ns;
    n += n / 5;
    if (n > 100.0 * (double)prev_n)
        n = 100.0 * (double)prev_n;
    if (n < (double)prev_n + 1)
        n = (double)prev_n + 1;
    if (n > 1e9)
        n = 1e9;
    return (uint64_t)n;
}

/* Measures fn; `ops_per_n` is how many operations one unit of n performs (2 when two
 * threads each run n). Prints `name ns/op ops`. */
static void run_bench(const char *name, bench_fn fn, void *arg, uint64_t ops_per_n)
{
    if (!selected(name))
        return;
    if (opt.quick) {
        int64_t ns = fn(arg, QUICK_N);
        report(name, (double)ns / (double)(QUICK_N * ops_per_n), "ns/op", QUICK_N * ops_per_n);
        return;
    }
    /* Warm-up and calibration: discarded. */
    double warm_goal = opt.benchtime_ns / 10;
    uint64_t n = 1;
    double ns = (double)fn(arg, n);
    while (ns < warm_goal && n < 1000000000) {
        n = predict_n(warm_goal, n, ns);
        ns = (double)fn(arg, n);
    }
    double scaled = opt.benchtime_ns * (double)n / (ns > 0 ? ns : 1);
    n = scaled < 1 ? 1 : scaled > 4e9 ? 4000000000u : (uint64_t)scaled;

    double best = INFINITY;
    for (int r = 0; r < opt.count; r++) {
        double per_op = (double)fn(arg, n) / (double)(n * ops_per_n);
        if (per_op < best)
            best = per_op;
    }
    report(name, best, "ns/op", n * ops_per_n);
}

/* ---- Operations ------------------------------------------------------------------- */

/* with_cancel: ctx_with_cancel(background) + ctx_release. */
static int64_t op_with_cancel(void *arg, uint64_t n)
{
    (void)arg;
    ctx_t *bg = ctx_background();
    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        ctx_release(must(ctx_with_cancel(bg)));
    return now_ns() - t0;
}

/* with_cancel_child: ctx_with_cancel(p) + ctx_release, p a long-lived cancellable
 * parent (the child is attached to p and detached again on release). */
static int64_t op_with_cancel_child(void *arg, uint64_t n)
{
    ctx_t *parent = arg;
    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        ctx_release(must(ctx_with_cancel(parent)));
    return now_ns() - t0;
}

/* with_timeout: ctx_with_timeout(background, 1 h) + ctx_release (arms and stops a
 * timer each time). */
static int64_t op_with_timeout(void *arg, uint64_t n)
{
    (void)arg;
    ctx_t *bg = ctx_background();
    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        ctx_release(must(ctx_with_timeout(bg, 3600 * CTX_SECOND)));
    return now_ns() - t0;
}

/* done_check: ctx_is_done on a cancelled context. */
static int64_t op_done_check(void *arg, uint64_t n)
{
    ctx_t *done = arg;
    uint64_t hits = 0;
    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        hits += ctx_is_done(done);
    int64_t ns = now_ns() - t0;
    if (hits != n)
        die("done_check: context not done");
    sink = hits;
    return ns;
}

/* value_depth8: ctx_value from the bottom of a chain of 8 value contexts, for the key
 * set at the top (every level is examined). */
struct value_chain {
    ctx_t *levels[8];
    int keys[8]; /* the keys are these objects' addresses */
};

static int64_t op_value_depth8(void *arg, uint64_t n)
{
    struct value_chain *vc = arg;
    ctx_t *bottom = vc->levels[7];
    const void *key = &vc->keys[0];
    uint64_t found = 0;
    int64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
        found += ctx_value(bottom, key) != NULL;
    int64_t ns = now_ns() - t0;
    if (found != n)
        die("value_depth8: key not found");
    sink = found;
    return ns;
}

/* two_threads_shared_parent: two threads each run n x (ctx_with_cancel(p) + release)
 * on one shared cancellable parent; the wall time covers both. */
struct two_threads {
    ctx_t *parent;
    uint64_t n;
    pthread_barrier_t start;
};

static void *two_threads_worker(void *arg)
{
    struct two_threads *tt = arg;
    ctx_t *parent = tt->parent;
    pthread_barrier_wait(&tt->start);
    for (uint64_t i = 0; i < tt->n; i++)
        ctx_release(must(ctx_with_cancel(parent)));
    return NULL;
}

static int64_t op_two_threads(void *arg, uint64_t n)
{
    struct two_threads *tt = arg;
    pthread_t th[2];
    tt->n = n;
    if (pthread_barrier_init(&tt->start, NULL, 3) != 0)
        die("pthread_barrier_init");
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, two_threads_worker, tt) != 0)
            die("pthread_create");
    int64_t t0 = now_ns();
    pthread_barrier_wait(&tt->start);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    int64_t ns = now_ns() - t0;
    pthread_barrier_destroy(&tt->start);
    return ns;
}

/* tree_cancel_1000x100: build root -> 1000 children -> 100 children each (101,001
 * cancellable contexts) outside the clock, time ctx_cancel(root) alone, release every
 * context outside the clock. Reports the best of TREE_REPS trees, per tree and per
 * node. */
static void bench_tree_cancel(void)
{
    const char *name = "tree_cancel_1000x100";
    if (!selected(name))
        return;
    ctx_t **nodes = malloc(sizeof *nodes * TREE_NODES);
    if (nodes == NULL)
        die("malloc");
    int reps = opt.quick ? 1 : TREE_REPS + 1; /* the first tree is a warm-up */
    int64_t best = INT64_MAX;
    for (int r = 0; r < reps; r++) {
        size_t k = 0;
        ctx_t *root = nodes[k++] = must(ctx_with_cancel(ctx_background()));
        for (int i = 0; i < TREE_FANOUT; i++) {
            ctx_t *mid = nodes[k++] = must(ctx_with_cancel(root));
            for (int j = 0; j < TREE_LEAVES; j++)
                nodes[k++] = must(ctx_with_cancel(mid));
        }
        int64_t t0 = now_ns();
        ctx_cancel(root);
        int64_t ns = now_ns() - t0;
        if (!ctx_is_done(nodes[TREE_NODES - 1]))
            die("tree_cancel: leaf not done");
        for (size_t i = k; i-- > 0;)
            ctx_release(nodes[i]);
        if ((opt.quick || r > 0) && ns < best)
            best = ns;
    }
    free(nodes);
    uint64_t trees = opt.quick ? 1 : TREE_REPS;
    report(name, (double)best, "ns/tree", trees);
    report("tree_cancel_1000x100_per_node", (double)best / TREE_NODES, "ns/node",
           trees * TREE_NODES);
}

/* ---- Memory ------------------------------------------------------------------------ */

enum mem_kind { MEM_CANCEL, MEM_CHILD, MEM_TIMEOUT };

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Keeps MEM_N contexts of one kind alive and reports the heap growth, allocator calls
 * and requested bytes per context. */
static void bench_memory(const char *what, enum mem_kind kind)
{
    char name[64];
    snprintf(name, sizeof name, "bytes_per_%s_ctx", what);
    if (!selected(name) && !selected("memory"))
        return;
    size_t n = opt.quick ? QUICK_N : MEM_N;
    ctx_t **live = malloc(sizeof *live * n);
    if (live == NULL)
        die("malloc");
    ctx_t *parent = kind == MEM_CHILD ? must(ctx_with_cancel(ctx_background())) : NULL;
    /* Warm the library (lazy initialisation, timer thread) before the baseline. */
    for (int i = 0; i < 64; i++)
        ctx_release(must(kind == MEM_CHILD     ? ctx_with_cancel(parent)
                         : kind == MEM_CANCEL ? ctx_with_cancel(ctx_background())
                                              : ctx_with_timeout(ctx_background(),
                                                                 3600 * CTX_SECOND)));
    size_t before = heap_in_use();
    malloc_count_begin();
    for (size_t i = 0; i < n; i++)
        live[i] = must(kind == MEM_CHILD     ? ctx_with_cancel(parent)
                       : kind == MEM_CANCEL ? ctx_with_cancel(ctx_background())
                                            : ctx_with_timeout(ctx_background(),
                                                               3600 * CTX_SECOND));
    struct malloc_count mc = malloc_count_end();
    size_t after = heap_in_use();
    for (size_t i = n; i-- > 0;)
        ctx_release(live[i]);
    ctx_release(parent);
    free(live);

    /* Without the wrappers (sanitizer builds) malloc is not glibc's: mallinfo2() does
     * not see it either. */
    bool counted = malloc_count_available();
    report(name, counted ? ((double)after - (double)before) / (double)n : NAN, "B/ctx", n);
    snprintf(name, sizeof name, "allocs_per_%s_ctx", what);
    report(name, counted ? (double)mc.calls / (double)n : NAN, "allocs/ctx", n);
    snprintf(name, sizeof name, "reqbytes_per_%s_ctx", what);
    report(name, counted ? (double)mc.bytes / (double)n : NAN, "B/ctx", n);
}

/* ---- Main ---------------------------------------------------------------------------- */

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--quick] [--benchtime=SECONDS] [--count=N] [--filter=SUBSTRING]\n",
            argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0)
            opt.quick = true;
        else if (strncmp(a, "--benchtime=", 12) == 0)
            opt.benchtime_ns = strtod(a + 12, NULL) * 1e9;
        else if (strncmp(a, "--count=", 8) == 0)
            opt.count = atoi(a + 8);
        else if (strncmp(a, "--filter=", 9) == 0)
            opt.filter = a + 9;
        else
            usage(argv[0]);
    }
    if (opt.benchtime_ns <= 0 || opt.count < 1)
        usage(argv[0]);

    printf("# bench_ctx lang=c runtime=libctxtrace quick=%d benchtime=%.3fs count=%d\n",
           opt.quick, opt.benchtime_ns / 1e9, opt.count);
    printf("# name value unit count\n");
    fflush(stdout);

    run_bench("with_cancel", op_with_cancel, NULL, 1);

    ctx_t *parent = must(ctx_with_cancel(ctx_background()));
    run_bench("with_cancel_child", op_with_cancel_child, parent, 1);

    run_bench("with_timeout", op_with_timeout, NULL, 1);

    ctx_t *done = must(ctx_with_cancel(ctx_background()));
    ctx_cancel(done);
    run_bench("done_check", op_done_check, done, 1);
    ctx_release(done);

    struct value_chain vc;
    ctx_t *up = ctx_background();
    for (int i = 0; i < 8; i++) {
        vc.keys[i] = i;
        up = vc.levels[i] = must(ctx_with_value(up, &vc.keys[i], &vc.keys[i], NULL));
    }
    run_bench("value_depth8", op_value_depth8, &vc, 1);
    for (int i = 7; i >= 0; i--)
        ctx_unref(vc.levels[i]);

    bench_tree_cancel();

    struct two_threads tt = {.parent = parent};
    run_bench("two_threads_shared_parent", op_two_threads, &tt, 2);
    ctx_release(parent);

    bench_memory("cancel", MEM_CANCEL);
    bench_memory("child", MEM_CHILD);
    bench_memory("timeout", MEM_TIMEOUT);
    return 0;
}
