/*
 * fault_prog.c — the workload the fault-injection suite (faults_test.py) traces and
 * then breaks.
 *
 *     fault_prog REPORT MODE THREADS DELAY_MS
 *
 * THREADS workers each create contexts in a loop — a cancellable context and a
 * deadline child under it, the cancellable one cancelled with cause
 * (worker+1)*1000000 + n, its sequence number n = 1, 2, ... — and after each one
 * append "w n us" to REPORT with one write(2) (us: microseconds since the program
 * started), so that what the program reported creating, and when, survives any death of
 * the process. The first line of REPORT is "pid P THREADS". After DELAY_MS, MODE decides
 * what happens:
 *
 *   run        nothing: the driver kills the program (SIGKILL, SIGTERM...) itself
 *   segv       worker 0 writes to a page it may not touch (SIGSEGV)
 *   abort      worker 0 calls abort()
 *   _exit      worker 0 calls _exit(3): no atexit, no flush
 *   exit       worker 0 calls exit(4): exit from a worker thread
 *   fork       a fork storm: the main thread forks 16 children that each create 5
 *              contexts and exit, then the program exits 0
 *   forkexec   the same, each child exec'ing this program in mode "child"
 *   child      (the exec'd image) create 5 contexts, exit 0
 *   stop       stop the workers after DELAY_MS and exit 0 (a clean run)
 */
#include <ctxtrace/ctx.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 16, STORM = 16, CHILD_CONTEXTS = 5 };

/* GCC 12's AddressSanitizer does not hold its allocator across fork(): a child forked while
 * another thread is inside the allocator inherits that lock held and hangs at its first
 * malloc (seen: the fork+exec storm hung ~2 runs in 15, the child blocked in the shim's
 * fork handler opening its trace, a size-class mutex held by a worker making contexts).
 * Any program that allocates in a child has that hazard under that runtime, so in an ASan
 * build the workers park while the main thread forks; the normal and TSan builds fork
 * with them running. */
#if defined(__SANITIZE_ADDRESS__)
static const bool park_for_fork = true;
#else
static const bool park_for_fork = false;
#endif
static atomic_bool storming;
static atomic_int parked;

static int report_fd;
static const char *mode;
static int delay_ms;
static atomic_bool stop;
static char self[4096];

static void report(const char *fmt, long a, long b, long c)
{
    char line[80];
    int n = snprintf(line, sizeof line, fmt, a, b, c);
    if (write(report_fd, line, (size_t)n) != n)
        _exit(90);
}

static void one_context(int worker, long n)
{
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *d = ctx_with_timeout(c, 10LL * 1000 * 1000 * 1000);
    if (c == NULL || d == NULL)
        _exit(91);
    ctx_cancel_cause(c, (worker + 1) * 1000000 + (int)n, NULL);
    ctx_release(d);
    ctx_release(c);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void)
{
    return now_us() / 1000;
}

static int64_t started_us;

static void fault(void)
{
    if (strcmp(mode, "segv") == 0) {
        /* A real invalid access, not a NULL store: the sanitizer builds would report
         * that as undefined behaviour and exit instead of taking the signal. */
        void *guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        *(volatile int *)guard = 1;
    }
    else if (strcmp(mode, "abort") == 0)
        abort();
    else if (strcmp(mode, "_exit") == 0)
        _exit(3);
    else if (strcmp(mode, "exit") == 0)
        exit(4);
}

static void *worker(void *arg)
{
    int w = (int)(intptr_t)arg;
    int64_t at = now_ms() + delay_ms;
    for (long n = 1; !atomic_load(&stop); n++) {
        one_context(w, n);
        report("%ld %ld %ld\n", w, n, (long)(now_us() - started_us));
        if (w == 0 && now_ms() >= at)
            fault();
        usleep(200); /* a few thousand contexts a second: traces stay small */
        if (atomic_load(&storming)) {
            atomic_fetch_add(&parked, 1);
            while (atomic_load(&storming))
                usleep(200);
            atomic_fetch_sub(&parked, 1);
        }
    }
    return NULL;
}

static void storm(bool exec, int workers)
{
    if (park_for_fork) {
        atomic_store(&storming, true);
        while (atomic_load(&parked) < workers)
            usleep(100);
    }
    pid_t kids[STORM];
    for (int i = 0; i < STORM; i++) {
        kids[i] = fork();
        if (kids[i] < 0)
            _exit(92);
        if (kids[i] == 0) {
            if (exec) {
                char *argv[] = {self, "/dev/null", "child", "0", "0", NULL};
                execv(self, argv);
                _exit(93);
            }
            for (int k = 0; k < CHILD_CONTEXTS; k++)
                ctx_release(ctx_with_cancel(ctx_background()));
            exit(0);
        }
    }
    for (int i = 0; i < STORM; i++) {
        int status;
        while (waitpid(kids[i], &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            _exit(94);
    }
    atomic_store(&storming, false);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: fault_prog REPORT MODE THREADS DELAY_MS\n");
        return 2;
    }
    started_us = now_us();
    mode = argv[2];
    int threads = atoi(argv[3]);
    delay_ms = atoi(argv[4]);
    if (strcmp(mode, "child") == 0) {
        for (int k = 0; k < CHILD_CONTEXTS; k++)
            ctx_release(ctx_with_cancel(ctx_background()));
        return 0;
    }
    if (threads < 1 || threads > MAX_THREADS ||
        readlink("/proc/self/exe", self, sizeof self - 1) <= 0)
        return 2;
    report_fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (report_fd < 0)
        return 2;
    report("pid %ld %ld\n", (long)getpid(), threads, 0L);
    /* Its start on CLOCK_MONOTONIC (the trace's clock): the report's times are relative
     * to it, and the test compares them with the trace's meta.end_ns. */
    report("start %ld %ld %ld\n", (long)started_us, 0L, 0L);
    pthread_t th[MAX_THREADS];
    for (int i = 0; i < threads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0)
            return 2;
    bool forks = strncmp(mode, "fork", 4) == 0;
    if (forks || strcmp(mode, "stop") == 0) {
        usleep((useconds_t)delay_ms * 1000);
        if (forks)
            storm(strcmp(mode, "forkexec") == 0, threads);
        atomic_store(&stop, true);
    }
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    return 0;
}
