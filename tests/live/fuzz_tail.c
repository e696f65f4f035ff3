/*
 * fuzz_tail.c — libFuzzer target for the client side of the live wire: what
 * `ctxtrace tail` does with whatever a server sends (fuzz_wire.c is the decoder
 * alone). The input is the byte stream a server would write; it reaches tail's own
 * loop (tail.c's follow, included here so its static functions are the ones run)
 * through a pipe, as a socket would deliver it. Beyond "no crash, no leak, no
 * undefined behaviour" (ASan+UBSan): follow must end — every stream here is finite —
 * with one of its documented statuses.
 */
#include "tail.c"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tail's complaints (the CLI's cli_error) are part of its behaviour, not the target's
 * output: formatted, so that a bad format argument is still caught, then dropped. */
void cli_error(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* The JSON lines go nowhere: the target checks behaviour, not output. */
    if (freopen("/dev/null", "w", stdout) == NULL)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int p[2];
    if (pipe(p) != 0)
        abort();
    /* The whole input fits the pipe (max_len is far below 1 MiB), so writing it all
     * before reading cannot block. */
    if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0 && size > 65536)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = write(p[1], data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    close(p[1]);
    /* Both of tail's outputs: JSON lines, and the text mode for people (odd sizes). */
    int status = follow(p[0], "fuzz", -1, (size & 1) != 0);
    close(p[0]);
    if (status != 0 && status != 1 && status != CLI_EXIT_ERROR && status != TAIL_EXIT_DROPPED)
        abort();
    return 0;
}
