/*
 * stream.h — a trace's contexts read once, in id (creation) order, one at a time: the
 * way every analysis meets a full-retention trace, in memory bounded by what is live at
 * once rather than by what was ever created (docs/trace-file.md "Reading a large
 * trace").
 *
 * A first pass over the contexts notes, per block of rows, the earliest event time of
 * that block or any later one; with it the stream says, at any point, a time before
 * which no row still to come has an event (its horizon). Ids are handed out before the
 * creation is timestamped, so creation times are only nearly in id order; the horizon is
 * what makes that exact: an analysis may drop a context freed before it (no later row
 * can be its child) and may act on any event before it (no later row can come earlier).
 * Internal to libctxtrace/core.
 */
#ifndef CT_STREAM_H
#define CT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

/* One context; timestamps are 0 for "did not happen". */
struct crow {
    int64_t id, parent, created, create_stack, requested, deadline, armed, stopped, fired,
        canceled, origin, released, release_stack, freed;
    int64_t value_lookups, value_depth_sum, value_depth_max;
    int8_t kind;          /* enum ctx_kind, -1 unknown */
    int8_t why;           /* enum ctx_cancel_why, -1 if never done */
    int8_t released_live; /* -1 unknown */
};

struct ctx_stream {
    sqlite3 *db;
    sqlite3_stmt *scan;  /* every context, by id */
    sqlite3_stmt *by_id; /* one context, for a lookup outside the stream */
    int64_t *after;      /* per block: the earliest event of it and every later block */
    size_t nblocks;
    size_t n;            /* contexts in the trace (the first pass counted them) */
    size_t pos;          /* contexts read so far */
    int64_t last_ts;     /* the latest timestamp of any context (0: none) */
};

/* Make the first pass and get ready to read (call inside a read transaction: both
 * passes must see the same rows). -1 with a one-line reason in err. */
int ctx_stream_open(struct ctx_stream *s, sqlite3 *db, char *err, size_t errlen);
/* The next context: 1, or 0 at the end, or -1 on a read error. */
int ctx_stream_next(struct ctx_stream *s, struct crow *out);
/* No context still to be read has any event (creation, cancellation, free) before this
 * time. INT64_MAX once every context was read. */
int64_t ctx_stream_horizon(const struct ctx_stream *s);
/* Context `id` read by its key, out of order (a lookup the window could not answer):
 * 1 found, 0 not in the trace, -1 read error. */
int ctx_stream_fetch(struct ctx_stream *s, int64_t id, struct crow *out);
/* The time a context stops counting as live for the detached-root sweep: when it was
 * done or freed, whichever came first (0: never). */
int64_t crow_end(const struct crow *r);
void ctx_stream_close(struct ctx_stream *s);

#endif /* CT_STREAM_H */
