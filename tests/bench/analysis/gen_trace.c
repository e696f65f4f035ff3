/*
 * gen_trace — write a complete trace file of N contexts in one tree shape, straight
 * through the trace core's writer (store.h), for the analysis benchmark (run.sh) and
 * the shape tests: the analysis must take O(n log n) or better whatever the shape.
 *
 *   gen_trace SHAPE N OUT.db        SHAPE: chain | fan | bushy
 *
 *   chain  each context derived from the previous one (a derive-in-a-loop bug): depth N
 *   fan    every context a child of one request context: width N
 *   bushy  each context a child of a random earlier one (a random recursive tree:
 *          depth ~ ln N, wide near the top)
 *
 * Contexts alternate cancel and deadline kinds, each created at one of a few stacks;
 * every 64th is released while live (a lost cancel: the analysis has findings to build),
 * the rest are cancelled, released and freed in order. The frames are this program's
 * own made-up sites: the analysis reads them like any other.
 */
#include <ctxtrace/core/store.h>
#include <ctxtrace/tracer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NSITES = 4 };

static void die(ct_store *s, const char *what)
{
    fprintf(stderr, "gen_trace: %s: %s\n", what, s ? ct_store_error(s) : "failed");
    exit(2);
}

/* Stack i (1..NSITES) has two frames: the site, then main. */
static void write_stacks(ct_store *s)
{
    static const char *const fns[NSITES] = {"handle_request", "fetch_user", "query_db",
                                            "render"};
    struct ct_frame_row main_frame = {.id = 100, .ip = 0x1000, .module = "/usr/bin/app",
                                      .offset = 0x1000, .function = "main", .file = "main.c",
                                      .line = 10};
    if (ct_store_frame(s, &main_frame) != 0)
        die(s, "frame");
    for (int i = 0; i < NSITES; i++) {
        struct ct_frame_row f = {.id = i + 1, .ip = 0x2000 + 16 * i, .module = "/usr/bin/app",
                                 .offset = 0x2000 + 16 * i, .function = fns[i],
                                 .file = "server.c", .line = 20 + i};
        int64_t frames[2] = {i + 1, 100};
        if (ct_store_frame(s, &f) != 0 || ct_store_stack(s, i + 1, 2, frames) != 0)
            die(s, "stack");
    }
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "chain") != 0 && strcmp(argv[1], "fan") != 0 &&
                      strcmp(argv[1], "bushy") != 0)) {
        fprintf(stderr, "usage: gen_trace chain|fan|bushy N OUT.db\n");
        return 2;
    }
    const char *shape = argv[1];
    long n = strtol(argv[2], NULL, 10);
    if (n < 1) {
        fprintf(stderr, "gen_trace: N must be a positive number\n");
        return 2;
    }
    char err[512];
    ct_store *s = ct_store_create(argv[3], err, sizeof err);
    if (s == NULL) {
        fprintf(stderr, "gen_trace: %s\n", err);
        return 2;
    }
    srand(42);
    const int64_t first = 3, t0 = 1000000000;
    if (ct_store_begin(s) != 0)
        die(s, "begin");
    write_stacks(s);
    ct_store_meta_int(s, "start_ns", t0);
    ct_store_meta_text(s, "program", "/usr/bin/app");
    for (long i = 0; i < n; i++) {
        int64_t id = first + i;
        int64_t parent = i == 0                        ? 1
                         : strcmp(shape, "chain") == 0 ? id - 1
                         : strcmp(shape, "fan") == 0   ? first
                                                       : first + rand() % i;
        int64_t created = t0 + 10 * i, end = t0 + 10 * n + 10 * (n - i);
        struct ct_ctx_row r = {.id = id};
        ct_ctx_set(&r, CT_PARENT_ID, parent);
        int kind = i % 2 ? CTX_KIND_DEADLINE : CTX_KIND_CANCEL;
        ct_ctx_set(&r, CT_KIND, kind);
        ct_ctx_set(&r, CT_CREATED_NS, created);
        ct_ctx_set(&r, CT_CREATE_THREAD, 1);
        ct_ctx_set(&r, CT_CREATE_STACK, 1 + i % NSITES);
        if (kind == CTX_KIND_DEADLINE) {
            ct_ctx_set(&r, CT_REQUESTED_DEADLINE_NS, created + 1000000000);
            ct_ctx_set(&r, CT_DEADLINE_NS, created + 1000000000);
            ct_ctx_set(&r, CT_TIMER_ARMED_NS, created);
            ct_ctx_set(&r, CT_TIMER_STOPPED_NS, end);
        }
        bool lost = i % 64 == 63;
        ct_ctx_set(&r, CT_RELEASED_NS, lost ? created + 5 : end + 1);
        ct_ctx_set(&r, CT_RELEASED_LIVE, lost);
        ct_ctx_set(&r, CT_RELEASE_STACK, 1 + i % NSITES);
        ct_ctx_set(&r, CT_CANCELED_NS, end);
        ct_ctx_set(&r, CT_CANCEL_WHY, CTX_WHY_EXPLICIT);
        ct_ctx_set(&r, CT_CANCEL_ORIGIN_NS, end);
        ct_ctx_set(&r, CT_FREED_NS, end + 2);
        if (ct_store_context(s, &r) != 0)
            die(s, "context");
        if (i % 100000 == 99999 && (ct_store_commit(s) != 0 || ct_store_begin(s) != 0))
            die(s, "commit");
    }
    ct_store_meta_int(s, "end_ns", t0 + 30 * n);
    ct_store_meta_int(s, "complete", 1);
    ct_store_meta_text(s, "exit_reason", "exit");
    if (ct_store_commit(s) != 0 || ct_store_finish(s) != 0)
        die(s, "finish");
    ct_store_close(s);
    return 0;
}
