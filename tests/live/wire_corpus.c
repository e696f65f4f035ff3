/*
 * wire_corpus.c — writes the fuzzer's seed corpus: real streams made by the encoder
 * (a HELLO, then frames of every type), so fuzzing starts past the HELLO check.
 *
 *   wire_corpus DIR
 */
#include <ctxtrace/core/wire.h>
#include <stdio.h>
#include <string.h>

static const struct ct_wire_msg frames[] = {
    {CT_WIRE_SITE, .u.site = {11, 42, "/usr/bin/server", "handle_request", "server.c"}},
    {CT_WIRE_CONTEXT, .u.context = {3, 1, 11, 5, 1, 2, 3, 1, 110, 5, 6, 7, 7, 0, "deadline"}},
    {CT_WIRE_SNAPSHOT_END, .u.snapshot_end = {1}},
    {CT_WIRE_CREATE, .u.create = {100, 1, 4, 9, 3, 11, 0, 0}},
    {CT_WIRE_CANCEL, .u.cancel = {101, 1, 0, 125, 499, 9, 11, 101, "client went away"}},
    {CT_WIRE_RELEASE, .u.release = {102, 1, 0, 9, 11}},
    {CT_WIRE_FREE, .u.free = {103, 1, 9}},
    {CT_WIRE_TIMER, .u.timer = {104, 0, 3}},
    {CT_WIRE_WAIT, .u.wait = {105, 2, 1, 0, 3, 1, 11}},
    {CT_WIRE_THREAD, .u.thread = {106, 2, 1, 0, 4242, 11}},
    {CT_WIRE_SAMPLE, .u.sample = {107, 10, 2, 1, 3, 1 << 20}},
    {CT_WIRE_EXIT_REACH, .u.exit_reach = {9, CT_WIRE_REACH_UNREACHABLE}},
    {CT_WIRE_EXIT_THREAD, .u.exit_thread = {108, 2, 4242, CT_WIRE_EXIT_BLOCKED, 202, 1, 11}},
    {CT_WIRE_SITE_COUNTS, .u.site_counts = {11, 1000, 990, 10, 3, 1, 2}},
    {CT_WIRE_RESYNC, .u.resync = {109, 4000, 4096, 262144, 1}},
    {CT_WIRE_SITE, .u.site = {11, 42, "/usr/bin/server", "handle_request", "server.c"}},
    {CT_WIRE_CONTEXT, .u.context = {3, 1, 11, 5, 1, 2, 3, 1, 110, 5, 6, 7, 7, 0, "deadline"}},
    {CT_WIRE_SITE_COUNTS, .u.site_counts = {11, 1001, 991, 10, 3, 1, 2}},
    {CT_WIRE_SNAPSHOT_END, .u.snapshot_end = {1}},
    {CT_WIRE_EXIT_CHECK, .u.exit_check = {108, "done", "done"}},
    {CT_WIRE_BYE, .u.bye = {CT_WIRE_BYE_EXIT, "exit"}},
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: wire_corpus DIR\n");
        return 2;
    }
    const struct ct_wire_msg hello = {
        CT_WIRE_HELLO, .u.hello = {CT_WIRE_MAGIC, CT_WIRE_VERSION, 4242, 99, "/usr/bin/server"}};
    static uint8_t buf[64 * CT_WIRE_MAX_FRAME];
    size_t nframes = sizeof frames / sizeof frames[0];
    /* seed i: the first byte chooses piece sizes (see fuzz_wire.c); HELLO; then frames
     * i.. (the last seed holds the whole stream). */
    for (size_t i = 0; i <= nframes; i++) {
        size_t n = 0;
        buf[n++] = (uint8_t)(i * 7);
        n += ct_wire_encode(&hello, buf + n, sizeof buf - n);
        for (size_t k = 0; k < nframes; k++)
            if (k == i || i == nframes)
                n += ct_wire_encode(&frames[k], buf + n, sizeof buf - n);
        char path[4096];
        snprintf(path, sizeof path, "%s/seed-%02zu", argv[1], i);
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}
