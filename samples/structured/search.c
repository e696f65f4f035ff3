/*
 * search.c — structured concurrency with ctx_group, Go's errgroup.WithContext.
 *
 * Scenario: the errgroup example from the Go literature (golang.org/x/sync/errgroup,
 * and the "Google Search" of Go Concurrency Patterns): one request queries several
 * backends concurrently; the first backend to fail cancels the group's context, every
 * sibling notices and stops early instead of finishing work nobody will use, and
 * Wait() returns that first error.
 *
 * Here the video backend fails with ECONNREFUSED. The other backends would take
 * seconds; each watches the group context a different way — polling ctx_is_done()
 * between pages of work (web), blocking in ctx_wait() (images), poll() on ctx_fd()
 * (news) — and returns ctx_err() when it stops, as Go code returns ctx.Err().
 *
 * What to look at: main() keeps a reference to the group's context (ctx_ref) so that
 * after ctx_group_wait() it can still ask ctx_cause() why the search was cancelled: the
 * first nonzero return, recorded where the cancellation started and inherited by every
 * backend. The request id travels down as a context value (ctx_with_value/ctx_value).
 *
 * Exit status: 0 when ctx_group_wait() returned ECONNREFUSED and every sibling stopped
 * early with "context canceled" and that cause; 1 otherwise.
 */
#define _GNU_SOURCE
#include "search.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err_text.h"

/* The key of the request id value: compared by address. */
static const char request_id_key;

enum watch { POLL_IS_DONE, BLOCK_IN_WAIT, POLL_FD, FAIL };

struct backend {
    const char *name;
    enum watch watch;
    /* Outcome, written by the backend's thread before it returns. */
    int pages; /* POLL_IS_DONE: pages of work done before stopping */
    int err;   /* ctx_err() of the group context when the backend stopped */
    int cause; /* ctx_cause() of the group context when the backend stopped */
    bool stopped_early;
};

static struct backend backends[] = {
    {.name = "web", .watch = POLL_IS_DONE},
    {.name = "images", .watch = BLOCK_IN_WAIT},
    {.name = "news", .watch = POLL_FD},
    {.name = "video", .watch = FAIL},
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

/* Every backend but the failing one needs this long to answer: far longer than the
 * search lasts. */
#define SLOW_ANSWER (30 * CTX_SECOND)
#define PAGE_TIME (2 * CTX_MILLISECOND)
/* The video backend gives up after this long. */
#define VIDEO_FAILS_AFTER (20 * CTX_MILLISECOND)

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / CTX_SECOND, .tv_nsec = ns % CTX_SECOND};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A loop of small pieces of work, checking between pieces: Go's
 *     for page := range pages { if ctx.Err() != nil { return ctx.Err() }; … } */
static bool read_pages(ctx_t *ctx, struct backend *b)
{
    for (int64_t spent = 0; spent < SLOW_ANSWER; spent += PAGE_TIME) {
        if (ctx_is_done(ctx))
            return false;
        sleep_ns(PAGE_TIME);
        b->pages++;
    }
    return true;
}

/* select on ctx.Done() with a timeout, through the context's fd. */
static bool poll_done_fd(ctx_t *ctx)
{
    int fd = ctx_fd(ctx);
    if (fd < 0)
        return true; /* cannot watch: behave as if the answer came */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;
    do {
        n = poll(&p, 1, (int)(SLOW_ANSWER / CTX_MILLISECOND));
    } while (n < 0 && errno == EINTR);
    return n == 0; /* timed out: the answer came first */
}

static int search_backend(ctx_t *ctx, void *arg)
{
    struct backend *b = arg;
    const char *request = ctx_value(ctx, &request_id_key);
    bool answered = true;

    switch (b->watch) {
    case POLL_IS_DONE:
        answered = read_pages(ctx, b);
        break;
    case BLOCK_IN_WAIT:
        answered = ctx_wait(ctx, SLOW_ANSWER) == ETIMEDOUT;
        break;
    case POLL_FD:
        answered = poll_done_fd(ctx);
        break;
    case FAIL:
        if (ctx_wait(ctx, VIDEO_FAILS_AFTER) == ETIMEDOUT) {
            printf("  [%s] %s: %s\n", request ? request : "?", b->name, strerror(ECONNREFUSED));
            return ECONNREFUSED; /* the first nonzero return cancels the group */
        }
        answered = false;
        break;
    }
    if (answered)
        return 0;
    b->stopped_early = true;
    b->err = ctx_err(ctx);
    b->cause = ctx_cause(ctx, NULL);
    return b->err;
}

int progress_ticker(ctx_t *ctx, void *arg)
{
    struct ticker *t = arg;
    while (ctx_wait(ctx, TICK_INTERVAL) == ETIMEDOUT)
        atomic_fetch_add(&t->ticks, 1);
    return 0;
}

int main(void)
{
    static struct ticker ticker; /* static: in the leaky variant it outlives main() */

    ctx_t *request = ctx_with_value(ctx_background(), &request_id_key, "req-42", NULL);
    ctx_group_t *g = request ? ctx_group_new(request) : NULL;
    if (g == NULL) {
        perror("ctx_group_new");
        return 1;
    }
    /* The group owns its context and drops it in ctx_group_wait(); keep one reference
     * to read the cause afterwards. */
    ctx_t *search = ctx_ref(ctx_group_ctx(g));

    int rc = start_progress_ticker(g, &ticker);
    for (size_t i = 0; i < NBACKENDS && rc == 0; i++)
        rc = ctx_group_go(g, search_backend, &backends[i]);
    if (rc != 0) {
        fprintf(stderr, "starting the search: %s\n", strerror(rc));
        ctx_cancel(search);
    }

    int first = ctx_group_wait(g);
    const char *reason = NULL;
    int cause = ctx_cause(search, &reason);

    bool ok = first == ECONNREFUSED && cause == ECONNREFUSED && ctx_err(search) == CTX_CANCELED;
    for (size_t i = 0; i < NBACKENDS; i++) {
        const struct backend *b = &backends[i];
        if (b->watch == FAIL)
            continue;
        if (b->watch == POLL_IS_DONE)
            printf("  %s: read %d page%s, ", b->name, b->pages, b->pages == 1 ? "" : "s");
        else
            printf("  %s: ", b->name);
        if (b->stopped_early) {
            printf("stopped early: %s (cause: %s)\n", err_text(b->err), err_text(b->cause));
            ok = ok && b->err == CTX_CANCELED && b->cause == ECONNREFUSED;
        } else {
            printf("answered\n");
            ok = false;
        }
    }
    printf("  progress ticker: %d tick%s during the search\n", atomic_load(&ticker.ticks),
           atomic_load(&ticker.ticks) == 1 ? "" : "s");
    printf("search: ctx_group_wait returned %d (%s); group context: %s, cause %s%s%s\n",
           first, err_text(first), err_text(ctx_err(search)), err_text(cause),
           reason ? ", reason: " : "", reason ? reason : "");

    ctx_unref(search);  /* already cancelled by ctx_group_wait() */
    ctx_unref(request); /* a value context: nothing to cancel */
    return ok ? 0 : 1;
}
