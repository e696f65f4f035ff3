/*
 * soak.h — `ctxtrace soak` (soak.c). What it reads back from the trace file to judge
 * is the trace core's (ctxtrace/core/growth.h).
 */
#ifndef CT_CLI_SOAK_H
#define CT_CLI_SOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/growth.h>

/* What soak shows while the program runs (soak_progress.c): on a terminal one line on
 * stderr rewritten in place; with verbose, one line per sample. */
struct soak_progress {
    const char *trace;     /* the trace file the shim writes */
    int64_t start;         /* the program's start (CLOCK_MONOTONIC ns) */
    int64_t last_ts;       /* the last sample shown */
    double duration;       /* --duration, seconds */
    bool verbose, tty, line_shown;
};
void soak_progress_init(struct soak_progress *p, const char *trace, int64_t start,
                        double duration, bool verbose);
/* Show the samples the shim has written since the last tick (fd samples: soak's own). */
void soak_progress_tick(struct soak_progress *p, const int64_t *fd_ts, const double *fd_v,
                        size_t nfd);
/* Erase the progress line. */
void soak_progress_end(struct soak_progress *p);

#endif /* CT_CLI_SOAK_H */
