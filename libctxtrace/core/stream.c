/*
 * stream.c — the context stream of stream.h: a first pass for the horizon, then one
 * sequential scan by id.
 */
#include "stream.h"

#include <assert.h>
#include <ctxtrace/core/columns.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows per block of the first pass: the horizon lags the stream by up to one block (a
 * few thousand contexts held a little longer), and a 10M-context trace needs 2,500 of
 * them (20 KB). */
enum { BLOCK = 4096 };

#define COLUMNS                                                                           \
    "id, parent_id, kind, created_ns, create_stack, requested_deadline_ns, deadline_ns, " \
    "timer_armed_ns, timer_stopped_ns, timer_fired_ns, canceled_ns, released_ns, "        \
    "released_live, release_stack, freed_ns, cancel_why, value_lookups, value_depth_sum, " \
    "value_depth_max, cancel_origin_ns"

static int64_t col64(sqlite3_stmt *st, int c)
{
    return sqlite3_column_int64(st, c); /* NULL reads as 0: "did not happen" */
}

static void read_row(sqlite3_stmt *st, struct crow *r)
{
    r->id = col64(st, 0);
    r->parent = col64(st, 1);
    r->kind = (int8_t)ct_kind_from_name((const char *)sqlite3_column_text(st, 2));
    r->created = col64(st, 3);
    r->create_stack = col64(st, 4);
    r->requested = col64(st, 5);
    r->deadline = col64(st, 6);
    r->armed = col64(st, 7);
    r->stopped = col64(st, 8);
    r->fired = col64(st, 9);
    r->canceled = col64(st, 10);
    r->released = col64(st, 11);
    r->released_live = sqlite3_column_type(st, 12) == SQLITE_NULL ? -1 : (int8_t)col64(st, 12);
    r->release_stack = col64(st, 13);
    r->freed = col64(st, 14);
    r->why = (int8_t)ct_why_from_name((const char *)sqlite3_column_text(st, 15));
    r->value_lookups = col64(st, 16);
    r->value_depth_sum = col64(st, 17);
    r->value_depth_max = col64(st, 18);
    r->origin = col64(st, 19);
}

int64_t crow_end(const struct crow *r)
{
    return r->canceled && (!r->freed || r->canceled < r->freed) ? r->canceled : r->freed;
}

/* The earliest of a row's event times (INT64_MAX: none). */
static int64_t earliest(int64_t created, int64_t canceled, int64_t freed)
{
    int64_t v[] = {created, canceled, freed}, min = INT64_MAX;
    for (size_t i = 0; i < 3; i++)
        if (v[i] != 0 && v[i] < min)
            min = v[i];
    return min;
}

/* The first pass: per-block earliest events (then made cumulative from the end), the
 * number of contexts and the latest timestamp. */
static int first_pass(struct ctx_stream *s, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT created_ns, canceled_ns, released_ns, freed_ns "
                           "FROM contexts WHERE id > 2 ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "reading contexts: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t created = col64(st, 0), canceled = col64(st, 1), released = col64(st, 2),
                freed = col64(st, 3);
        if (s->n % BLOCK == 0) {
            if (s->nblocks == cap) {
                cap = cap ? cap * 2 : 64;
                int64_t *grown = realloc(s->after, cap * sizeof *grown);
                if (grown == NULL) {
                    sqlite3_finalize(st);
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
                s->after = grown;
            }
            s->after[s->nblocks++] = INT64_MAX;
        }
        int64_t e = earliest(created, canceled, freed);
        if (e < s->after[s->nblocks - 1])
            s->after[s->nblocks - 1] = e;
        int64_t v[] = {created, canceled, released, freed};
        for (size_t k = 0; k < 4; k++)
            if (v[k] > s->last_ts)
                s->last_ts = v[k];
        s->n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading contexts: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    for (size_t b = s->nblocks; b-- > 1;)
        if (s->after[b] < s->after[b - 1])
            s->after[b - 1] = s->after[b];
    return 0;
}

int ctx_stream_open(struct ctx_stream *s, sqlite3 *db, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->db = db;
    if (first_pass(s, err, errlen) != 0)
        goto fail;
    if (sqlite3_prepare_v2(db, "SELECT " COLUMNS " FROM contexts WHERE id > 2 ORDER BY id",
                           -1, &s->scan, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT " COLUMNS " FROM contexts WHERE id = ?1 AND id > 2",
                           -1,
                           &s->by_id, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "reading contexts: %s", sqlite3_errmsg(db));
        goto fail;
    }
    return 0;
fail:
    ctx_stream_close(s);
    return -1;
}

int ctx_stream_next(struct ctx_stream *s, struct crow *out)
{
    int rc = sqlite3_step(s->scan);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return -1;
    read_row(s->scan, out);
    s->pos++;
    return 1;
}

int64_t ctx_stream_horizon(const struct ctx_stream *s)
{
    if (s->pos > s->n)
        return INT64_MIN; /* more rows than the first pass saw: promise nothing */
    if (s->pos == s->n)
        return INT64_MAX;
    /* The block holding the next row: its earliest event bounds every row from there. */
    assert(s->pos / BLOCK < s->nblocks);
    return s->after[s->pos / BLOCK];
}

int ctx_stream_fetch(struct ctx_stream *s, int64_t id, struct crow *out)
{
    sqlite3_reset(s->by_id);
    sqlite3_bind_int64(s->by_id, 1, id);
    int rc = sqlite3_step(s->by_id);
    if (rc == SQLITE_ROW) {
        read_row(s->by_id, out);
        return 1;
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

void ctx_stream_close(struct ctx_stream *s)
{
    sqlite3_finalize(s->scan);
    sqlite3_finalize(s->by_id);
    free(s->after);
    memset(s, 0, sizeof *s);
}
