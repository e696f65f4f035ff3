/*
 * request_loop.c — a small server's request loop, for measuring what tracing costs a
 * real program (run.sh runs it untraced, under `ctxtrace run`, under heaptrack and
 * under valgrind memcheck, and compares; docs/tracer-benchmarks.md).
 *
 * One process-wide server context (a ctx_with_cancel of background), then N requests
 * served one after another on the main thread. Each request goes down a call chain ten
 * functions deep, the way a handler does, and uses contexts the way Go code does:
 *
 *   serve_request     depth 1   request  = ctx_with_timeout(server, 5 s)
 *   decode_request    depth 2   reqvals  = ctx_with_value(request, request id)
 *   authenticate      depth 3   ctx_value(reqvals, user) — the auth token
 *   route             depth 4
 *   handle_profile    depth 5   subcall  = ctx_with_cancel(reqvals)  (fan-out guard)
 *   load_profile      depth 6
 *   query_backend     depth 7   backend  = ctx_with_timeout(subcall, 100 ms)
 *   backend_roundtrip depth 8   ctx_is_done(backend)
 *   encode_query      depth 9   ctx_value(backend, request id) — deep lookup
 *   hash_payload      depth 10  the real work: FNV-1a over the request body
 *
 * and every level releases what it created (ctx_release) on the way back. That is four
 * contexts per request, two of them with armed timers, two value lookups and one done
 * check. The real work parses a ~200-byte HTTP-style header and hashes a body of
 * --body bytes (default 4096): a few microseconds, so the loop resembles a server that
 * does something rather than a context micro-benchmark.
 *
 * Output, one "key value" per line (run.sh parses it):
 *
 *   requests 200000
 *   contexts_created 800001          (the server context included)
 *   loop_s 1.234                     (the request loop only, on CLOCK_MONOTONIC)
 *   ns_per_request 6170.0
 *   requests_per_s 162074
 *   app_cpu_ns_per_request 5980.2    (CPU of this thread during the loop: the request
 *                                     work plus whatever a tracer adds on this thread)
 *   others_cpu_ns_per_request 2.1    (CPU of the process's other threads meanwhile: the
 *                                     runtime's timer thread, a tracer's writer thread)
 *   checksum 0x...                   (keeps the work observable; equal in every mode)
 *
 * Usage: request_loop [--requests N] [--body BYTES]
 */
#include <ctxtrace/ctx.h>

#include <inttypes.h>
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

/* Value keys: the addresses of these objects. */
static const char request_id_key;
static const char user_key;

static struct {
    long requests;
    size_t body;
} opt = {200000, 4096};

static unsigned char *body_pool; /* opt.body + 4096 bytes of pseudo-random data */
static long contexts_created;

struct request {
    uint64_t id;
    char header[256];
    size_t header_len;
    const unsigned char *body;
};

static int64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ctx_t *checked(ctx_t *c)
{
    if (c == NULL) {
        perror("request_loop: creating a context");
        exit(1);
    }
    contexts_created++;
    return c;
}

/* ---- The call chain, outermost last ----------------------------------------------- */

/* depth 10: the real work — FNV-1a over the body, mixed with the request id. */
static NOINLINE uint64_t hash_payload(ctx_t *backend, const struct request *r)
{
    uint64_t h = 0xcbf29ce484222325ull ^ r->id;
    for (size_t i = 0; i < opt.body; i++) {
        h ^= r->body[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (uint64_t)ctx_err(backend);
}

/* depth 9: a lookup four contexts up (backend → subcall → reqvals). */
static NOINLINE uint64_t encode_query(ctx_t *backend, const struct request *r)
{
    const uint64_t *id = ctx_value(backend, &request_id_key);
    uint64_t h = hash_payload(backend, r);
    return h + (id != NULL ? *id : 0);
}

/* depth 8 */
static NOINLINE uint64_t backend_roundtrip(ctx_t *backend, const struct request *r)
{
    if (ctx_is_done(backend))
        return 0;
    uint64_t h = encode_query(backend, r);
    return h * 31 + 7;
}

/* depth 7: the backend call gets its own, shorter deadline. */
static NOINLINE uint64_t query_backend(ctx_t *subcall, const struct request *r)
{
    ctx_t *backend = checked(ctx_with_timeout(subcall, 100 * CTX_MILLISECOND));
    uint64_t h = backend_roundtrip(backend, r);
    ctx_release(backend);
    return h ^ 0x5bd1e995;
}

/* depth 6 */
static NOINLINE uint64_t load_profile(ctx_t *subcall, const struct request *r)
{
    uint64_t h = query_backend(subcall, r);
    return h + r->header_len;
}

/* depth 5: a sub-call that can be cancelled on its own (as a fan-out would be). */
static NOINLINE uint64_t handle_profile(ctx_t *reqvals, const struct request *r)
{
    ctx_t *subcall = checked(ctx_with_cancel(reqvals));
    uint64_t h = load_profile(subcall, r);
    ctx_release(subcall);
    return h ^ (h >> 17);
}

/* depth 4 */
static NOINLINE uint64_t route(ctx_t *reqvals, const struct request *r)
{
    if (r->header_len < 4 || memcmp(r->header, "GET ", 4) != 0)
        return 404;
    uint64_t h = handle_profile(reqvals, r);
    return h + 200;
}

/* depth 3: the user, found in the values (none here: the lookup walks to the root). */
static NOINLINE uint64_t authenticate(ctx_t *reqvals, const struct request *r)
{
    const char *user = ctx_value(reqvals, &user_key);
    uint64_t h = route(reqvals, r);
    return h ^ (user != NULL ? (uint64_t)(uintptr_t)user : 0x9e37);
}

/* Parse the header: count the header lines and sum the lengths of their names. */
static uint64_t parse_header(const struct request *r)
{
    uint64_t lines = 0, names = 0;
    const char *p = r->header, *end = r->header + r->header_len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            break;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL)
            names += (uint64_t)(colon - p);
        lines++;
        p = eol + 1;
    }
    return lines << 32 | names;
}

/* depth 2: parse, then carry the request id in a value context. */
static NOINLINE uint64_t decode_request(ctx_t *request, struct request *r)
{
    uint64_t parsed = parse_header(r);
    ctx_t *reqvals = checked(ctx_with_value(request, &request_id_key, &r->id, NULL));
    uint64_t h = authenticate(reqvals, r);
    ctx_release(reqvals);
    return h + parsed;
}

/* depth 1: one request, under the server's context with a 5 s budget. */
static NOINLINE uint64_t serve_request(ctx_t *server, uint64_t id)
{
    struct request r;
    r.id = id;
    int n = snprintf(r.header, sizeof r.header,
                     "GET /api/v1/users/%" PRIu64 "/profile HTTP/1.1\r\n"
                     "Host: api.example.com\r\nUser-Agent: request_loop/1\r\n"
                     "Accept: application/json\r\nX-Request-Id: %" PRIu64 "\r\n\r\n",
                     id % 100000, id);
    r.header_len = n > 0 && (size_t)n < sizeof r.header ? (size_t)n : 0;
    r.body = body_pool + (id * 64) % 4096;
    ctx_t *request = checked(ctx_with_timeout(server, 5 * CTX_SECOND));
    uint64_t h = decode_request(request, &r);
    ctx_release(request);
    return h;
}

/* ---- main --------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: request_loop [--requests N] [--body BYTES]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc)
            opt.requests = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--body") == 0 && i + 1 < argc)
            opt.body = (size_t)strtoul(argv[++i], NULL, 10);
        else
            usage();
    }
    if (opt.requests <= 0)
        usage();

    body_pool = malloc(opt.body + 4096);
    if (body_pool == NULL) {
        perror("request_loop");
        return 1;
    }
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < opt.body + 4096; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        body_pool[i] = (unsigned char)x;
    }

    ctx_t *server = checked(ctx_with_cancel(ctx_background()));
    uint64_t checksum = 0;
    int64_t t0 = clock_ns(CLOCK_MONOTONIC);
    int64_t thread0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    int64_t process0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < opt.requests; i++)
        checksum += serve_request(server, (uint64_t)i);
    int64_t elapsed = clock_ns(CLOCK_MONOTONIC) - t0;
    int64_t thread_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - thread0;
    int64_t others_cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - process0 - thread_cpu;
    ctx_release(server);
    free(body_pool);

    printf("requests %ld\n", opt.requests);
    printf("contexts_created %ld\n", contexts_created);
    printf("loop_s %.6f\n", (double)elapsed / 1e9);
    printf("ns_per_request %.1f\n", (double)elapsed / (double)opt.requests);
    printf("requests_per_s %.0f\n", (double)opt.requests * 1e9 / (double)elapsed);
    printf("app_cpu_ns_per_request %.1f\n", (double)thread_cpu / (double)opt.requests);
    printf("others_cpu_ns_per_request %.1f\n", (double)others_cpu / (double)opt.requests);
    printf("checksum 0x%016" PRIx64 "\n", checksum);
    return 0;
}
