/*
 * soak_progress.c — what `ctxtrace soak` shows while the program runs, so a 30 s soak is
 * not 30 s of silence: on a terminal, one line on stderr rewritten in place (elapsed,
 * live contexts, armed timers, threads); with --verbose, one line per sample instead,
 * on any stderr (a CI log).
 *
 * The numbers are the shim's own samples, read back from the trace file as it is
 * written (soak_read_samples over the samples not shown yet), so the progress shows
 * exactly the data that will be judged. Until the shim has created the trace nothing
 * is shown; a trace that cannot be read (yet) is retried at the next tick, quietly:
 * the progress is a courtesy, the judgement after the run reports real errors. The
 * cost: one open of the trace per --interval, in soak's process, not the program's.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <ctxtrace/core/reader.h>

#include "soak.h"

void soak_progress_init(struct soak_progress *p, const char *trace, int64_t start,
                        double duration, bool verbose)
{
    *p = (struct soak_progress){.trace = trace, .start = start, .duration = duration,
                                .verbose = verbose, .tty = isatty(STDERR_FILENO) == 1};
}

static void show(struct soak_progress *p, const struct soak_series *s, size_t i, bool last)
{
    double t = (double)(s->ts[i] - p->start) / 1e9;
    if (p->verbose) {
        fprintf(stderr, "soak: %6.1f s: %.0f live contexts, %.0f armed timers, %.0f blocked "
                        "waiters, %.0f threads, %.0f open fds, %.1f MiB RSS\n",
                t, s->v[SOAK_CONTEXTS][i], s->v[SOAK_TIMERS][i], s->v[SOAK_WAITERS][i],
                s->v[SOAK_THREADS][i], s->v[SOAK_FDS][i],
                s->v[SOAK_RSS][i] / (1024.0 * 1024.0));
    } else if (p->tty && last) {
        /* \r and erase-to-end-of-line: the line is rewritten, not scrolled. */
        fprintf(stderr, "\rsoak: %.1f/%.1f s: %.0f live contexts, %.0f armed timers, "
                        "%.0f threads\033[K",
                t, p->duration, s->v[SOAK_CONTEXTS][i], s->v[SOAK_TIMERS][i],
                s->v[SOAK_THREADS][i]);
        p->line_shown = true;
    }
}

void soak_progress_tick(struct soak_progress *p, const int64_t *fd_ts, const double *fd_v,
                        size_t nfd)
{
    if (!p->verbose && !p->tty)
        return;
    /* Open for each look and closed at once: the shim switches a finished trace out of
     * WAL mode (no -wal/-shm left), which needs the file to itself. */
    char err[256];
    ct_reader *db;
    if (access(p->trace, F_OK) != 0 || (db = ct_reader_open(p->trace, err, sizeof err)) == NULL)
        return;
    struct soak_series s;
    int rc = soak_read_samples(db, p->last_ts + 1, INT64_MAX, fd_ts, fd_v, nfd, &s, err,
                               sizeof err);
    ct_reader_close(db);
    if (rc != 0)
        return;
    for (size_t i = 0; i < s.n; i++)
        show(p, &s, i, i + 1 == s.n);
    if (s.n > 0)
        p->last_ts = s.ts[s.n - 1];
    fflush(stderr);
    soak_series_free(&s);
}

void soak_progress_end(struct soak_progress *p)
{
    if (p->line_shown)
        fputs("\r\033[K", stderr); /* the report follows on a clean line */
}
