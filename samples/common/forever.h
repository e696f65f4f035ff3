/*
 * forever.h — the long-running mode of the server-like samples, for `ctxtrace soak`:
 * `PROGRAM --forever` serves until SIGTERM, taken synchronously with sigtimedwait so
 * the shutdown runs on the main thread exactly as in the normal run.
 *
 * Include after defining _POSIX_C_SOURCE (or _GNU_SOURCE): signal masks are POSIX.
 */
#ifndef SAMPLES_FOREVER_H
#define SAMPLES_FOREVER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse the command line: true with `--forever`, false with no argument; anything else
 * prints the usage and exits 2. *term is set to {SIGTERM}; with --forever SIGTERM is
 * blocked in the calling thread and so in every thread it starts afterwards — call
 * this before starting any — and the program waits for it with sigtimedwait(term). */
static inline bool forever_mode(int argc, char **argv, sigset_t *term)
{
    bool forever = argc == 2 && strcmp(argv[1], "--forever") == 0;
    if (argc > 1 && !forever) {
        fprintf(stderr, "usage: %s [--forever]\n", argv[0]);
        exit(2);
    }
    sigemptyset(term);
    sigaddset(term, SIGTERM);
    if (forever)
        pthread_sigmask(SIG_BLOCK, term, NULL);
    return forever;
}

#endif /* SAMPLES_FOREVER_H */
