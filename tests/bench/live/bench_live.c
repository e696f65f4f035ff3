/*
 * bench_live.c — the live socket's throughput and its cost to the application.
 *
 *   bench_live [--events N] [--contexts N] --shim PATH --prog PATH
 *
 * 1. Wire + socket, in isolation: one thread encodes a context lifecycle's frames
 *    (create, timer armed, cancel, release, timer stopped, free) and writes them to a
 *    Unix stream socket in 64 KiB batches, as the shim's writer does; another reads and
 *    decodes them. Prints events/s and MB/s: the ceiling of the live path itself.
 * 2. End to end: live_prog (tests/live) creates and releases N contexts as fast as it
 *    can under the shim, (a) with the socket off, (b) with the socket on and no
 *    client, (c) with one client (this program) decoding the stream. Prints the
 *    application's time per context in each case, and for (c) the events the client
 *    received and their rate. The writer thread's SQLite work bounds (c): see
 *    docs/live.md.
 */
#include <ctxtrace/core/livepath.h>
#include <ctxtrace/core/wire.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_live: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* ---- 1. wire + socket ------------------------------------------------------------------ */

struct reader_result {
    long events;
    size_t bytes;
};

/* Read and decode until end of stream; the events after the snapshot. At the end of
 * the snapshot, write "go" to go_fd (if >= 0): the program starts once we are served. */
static bool saw_bye;
static long read_stream(int fd, size_t *bytes, int64_t *first, int64_t *last, int go_fd)
{
    ct_wire_decoder *d = ct_wire_decoder_new();
    long events = 0;
    bool in_snapshot = true;
    for (;;) {
        struct ct_wire_msg m;
        int rc;
        while ((rc = ct_wire_next(d, &m)) == CT_WIRE_OK) {
            if (m.type == CT_WIRE_SNAPSHOT_END) {
                in_snapshot = false;
                if (go_fd >= 0 && write(go_fd, "go\n", 3) != 3)
                    die("go");
            }
            else if (m.type == CT_WIRE_BYE)
                saw_bye = true;
            else if (!in_snapshot && m.type >= CT_WIRE_CREATE && m.type <= CT_WIRE_THREAD) {
                if (events++ == 0 && first != NULL)
                    *first = now_ns();
                if (last != NULL)
                    *last = now_ns();
            }
        }
        if (rc < 0) {
            fprintf(stderr, "bench_live: decoding: %s\n", ct_wire_strerror(rc));
            exit(1);
        }
        ssize_t n = ct_wire_read(d, fd);
        if (n <= 0)
            break;
        *bytes += (size_t)n;
    }
    ct_wire_decoder_free(d);
    return events;
}

static void *reader_main(void *arg)
{
    int fd = *(int *)arg;
    static struct reader_result r;
    r.events = read_stream(fd, &r.bytes, NULL, NULL, -1);
    return &r;
}

static void bench_wire(long events)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair");
    pthread_t th;
    pthread_create(&th, NULL, reader_main, &sv[1]);
    static uint8_t buf[64 * 1024 + CT_WIRE_MAX_FRAME];
    size_t n = 0;
    struct ct_wire_msg hello = {CT_WIRE_HELLO, .u.hello = {CT_WIRE_MAGIC, CT_WIRE_VERSION,
                                                           1, 0, "bench"}};
    struct ct_wire_msg end = {CT_WIRE_SNAPSHOT_END, .u.snapshot_end = {0}};
    n += ct_wire_encode(&hello, buf + n, sizeof buf - n);
    n += ct_wire_encode(&end, buf + n, sizeof buf - n);
    int64_t t0 = now_ns();
    for (long i = 0; i < events; i++) {
        uint64_t id = (uint64_t)(i / 6) + 3;
        int64_t ts = t0 + i;
        struct ct_wire_msg m;
        switch (i % 6) {
        case 0: m = (struct ct_wire_msg){CT_WIRE_CREATE, .u.create = {ts, 1, 5, id, 3, 77, ts, ts}}; break;
        case 1: m = (struct ct_wire_msg){CT_WIRE_TIMER, .u.timer = {ts, 0, id}}; break;
        case 2: m = (struct ct_wire_msg){CT_WIRE_CANCEL, .u.cancel = {ts, 1, 0, 125, 125, id, 78, ts, NULL}}; break;
        case 3: m = (struct ct_wire_msg){CT_WIRE_RELEASE, .u.release = {ts, 1, 0, id, 78}}; break;
        case 4: m = (struct ct_wire_msg){CT_WIRE_TIMER, .u.timer = {ts, 1, id}}; break;
        default: m = (struct ct_wire_msg){CT_WIRE_FREE, .u.free = {ts, 1, id}}; break;
        }
        n += ct_wire_encode(&m, buf + n, sizeof buf - n);
        if (n >= 64 * 1024) {
            if (write(sv[0], buf, n) != (ssize_t)n)
                die("write");
            n = 0;
        }
    }
    if (n > 0 && write(sv[0], buf, n) != (ssize_t)n)
        die("write");
    close(sv[0]);
    struct reader_result *r;
    pthread_join(th, (void **)&r);
    double s = (double)(now_ns() - t0) / 1e9;
    close(sv[1]);
    printf("wire+socket: %ld events (%.1f bytes each) encoded, sent, decoded in %.3f s: "
           "%.2f M events/s, %.0f MB/s\n",
           r->events, (double)r->bytes / (double)r->events, s, (double)r->events / s / 1e6,
           (double)r->bytes / s / 1e6);
}

/* ---- 2. end to end ----------------------------------------------------------------------- */

struct run {
    double app_ns_per_ctx;
    long events;
    double events_per_s;
};

static struct run run_prog(const char *shim, const char *prog, long contexts,
                           const char *socket_env, bool client, const char *dir)
{
    char out[4096], sock[CT_LIVE_PATH_MAX], burst[32];
    snprintf(out, sizeof out, "%s/bench_live.%d.db", dir, (int)getpid());
    snprintf(sock, sizeof sock, "%s", socket_env);
    snprintf(burst, sizeof burst, "%ld", contexts);
    unlink(out);
    setenv("LD_PRELOAD", shim, 1);
    setenv("CTXTRACE_OUTPUT", out, 1);
    setenv("CTXTRACE_SOCKET", socket_env, 1);
    int in[2], outp[2], errp[2];
    if (pipe(in) || pipe(outp) || pipe(errp))
        die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    char *argv[] = {(char *)prog, "--wait-go", "--timing", "--burst", burst, "0", "0", NULL};
    pid_t pid;
    if ((errno = posix_spawn(&pid, prog, &fa, NULL, argv, environ)) != 0)
        die(prog);
    unsetenv("LD_PRELOAD");
    close(in[0]);
    close(outp[1]);
    close(errp[1]);
    char line[256];
    if (read(outp[0], line, 6) != 6) /* "ready\n" */
        die("waiting for ready");
    struct run r = {0};
    int fd = -1;
    if (client && (fd = ct_live_connect(sock)) < 0)
        die(sock);
    if (!client && write(in[1], "go\n", 3) != 3)
        die("go");
    if (client) {
        size_t bytes = 0;
        int64_t first = 0, last = 0;
        r.events = read_stream(fd, &bytes, &first, &last, in[1]);
        r.events_per_s = last > first ? (double)r.events / ((double)(last - first) / 1e9) : 0;
        close(fd);
    }
    int status;
    waitpid(pid, &status, 0);
    ssize_t n = read(errp[0], line, sizeof line - 1);
    line[n > 0 ? n : 0] = '\0';
    long long burst_ns = 0;
    if (sscanf(line, "burst_ns %lld", &burst_ns) != 1 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_live: live_prog failed: %s\n", line);
        exit(1);
    }
    r.app_ns_per_ctx = (double)burst_ns / (double)contexts;
    close(in[1]);
    close(outp[0]);
    close(errp[0]);
    unlink(out);
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", out);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", out);
    unlink(wal);
    return r;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { MAX_REPEAT = 15 };

int main(int argc, char **argv)
{
    long events = 20000000, contexts = 300000;
    int repeat = 5;
    const char *shim = NULL, *prog = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0)
            events = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--contexts") == 0)
            contexts = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--repeat") == 0)
            repeat = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--shim") == 0)
            shim = argv[i + 1];
        else if (strcmp(argv[i], "--prog") == 0)
            prog = argv[i + 1];
    }
    if (shim == NULL || prog == NULL || events <= 0 || contexts <= 0 || repeat < 1 ||
        repeat > MAX_REPEAT) {
        fprintf(stderr, "usage: bench_live [--events N] [--contexts N] [--repeat 1..%d] "
                        "--shim PATH --prog PATH\n", MAX_REPEAT);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    bench_wire(events);

    char dir[] = "/tmp/bench_live.XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    char sock[CT_LIVE_PATH_MAX];
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    /* Interleaved, so that a noisy neighbour on the machine hits all three alike. */
    double off[MAX_REPEAT], idle[MAX_REPEAT], one[MAX_REPEAT], rate[MAX_REPEAT];
    long received = 0;
    int byes = 0;
    for (int r = 0; r < repeat; r++) {
        off[r] = run_prog(shim, prog, contexts, "off", false, dir).app_ns_per_ctx;
        idle[r] = run_prog(shim, prog, contexts, sock, false, dir).app_ns_per_ctx;
        saw_bye = false;
        struct run c = run_prog(shim, prog, contexts, sock, true, dir);
        one[r] = c.app_ns_per_ctx;
        rate[r] = c.events_per_s;
        received = c.events;
        byes += saw_bye;
    }
    rmdir(dir);
    printf("end to end, %ld contexts created+released (4 events each) under the shim, "
           "median of %d:\n", contexts, repeat);
    printf("  socket off:            %7.0f ns per context in the application\n",
           median(off, repeat));
    printf("  socket on, no client:  %7.0f ns per context in the application\n",
           median(idle, repeat));
    printf("  socket on, one client: %7.0f ns per context in the application; the client "
           "received %ld events (BYE in %d/%d runs) at %.2f M events/s\n",
           median(one, repeat), received, byes, repeat, median(rate, repeat) / 1e6);
    return 0;
}
