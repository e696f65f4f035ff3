/*
 * trace_mem.c — a trace's facts for the analyses (rules.c, profile.c, reachable.c): its
 * meta, summary aggregates and the site of each stack; its contexts come from the
 * stream (stream.c), never all at once.
 */
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/columns.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/verdict.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_mem.h"

static int64_t col64(sqlite3_stmt *st, int c)
{
    return sqlite3_column_int64(st, c); /* NULL reads as 0: "did not happen" */
}

/* The aggregates of a summary trace (few: one per creation stack and kind). */
int trace_summaries_load(struct trace *t, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT create_stack, kind, contexts, ended_explicit, ended_parent, "
                           "ended_deadline, ended_never, life_hist, life_max, origins, "
                           "fanout_sum, fanout_max, wakeups, wake_hist, wake_max, "
                           "value_lookups, value_depth_sum, value_depth_max, root_derivations "
                           "FROM site_summary",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "reading site_summary: %s", sqlite3_errmsg(t->db));
        return -1;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->nsums == cap) {
            cap = cap ? cap * 2 : 16;
            struct ct_site_summary *grown = realloc(t->sums, cap * sizeof *grown);
            if (grown == NULL) {
                sqlite3_finalize(st);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            t->sums = grown;
        }
        struct ct_site_summary *m = &t->sums[t->nsums];
        *m = (struct ct_site_summary){
            .create_stack = col64(st, 0),
            .kind = ct_kind_from_name((const char *)sqlite3_column_text(st, 1)),
            .contexts = col64(st, 2),
            .ended_explicit = col64(st, 3),
            .ended_parent = col64(st, 4),
            .ended_deadline = col64(st, 5),
            .ended_never = col64(st, 6),
            .life_max = col64(st, 8),
            .origins = col64(st, 9),
            .fanout_sum = col64(st, 10),
            .fanout_max = col64(st, 11),
            .wakeups = col64(st, 12),
            .wake_max = col64(st, 14),
            .value_lookups = col64(st, 15),
            .value_depth_sum = col64(st, 16),
            .value_depth_max = col64(st, 17),
            .root_derivations = col64(st, 18),
        };
        if (ct_hist_parse(&m->life, (const char *)sqlite3_column_text(st, 7)) != 0 ||
            ct_hist_parse(&m->wake, (const char *)sqlite3_column_text(st, 13)) != 0) {
            sqlite3_finalize(st);
            snprintf(err, errlen, "site_summary: a malformed histogram");
            return -1;
        }
        t->nsums++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "reading site_summary: %s", sqlite3_errmsg(t->db));
        return -1;
    }
    return 0;
}

int64_t trace_meta_int(sqlite3 *db, const char *key, int64_t def)
{
    sqlite3_stmt *st;
    int64_t v = def;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* The site frame id of a stack (0: no frame outside the runtime and the shim). */
int64_t trace_site(struct trace *t, int64_t stack)
{
    if (stack == 0)
        return 0;
    uint64_t v;
    if (u64map_get(&t->site_of, (uint64_t)stack, &v))
        return (int64_t)v - 1;
    int64_t site = ct_stack_site(t->db, stack);
    u64map_put(&t->site_of, (uint64_t)stack, (uint64_t)site + 1);
    return site;
}

int trace_mem_load(struct trace *t, ct_reader *reader, char *err, size_t errlen)
{
    sqlite3 *db = ct_reader_db(reader);
    memset(t, 0, sizeof *t);
    t->db = db;
    if (trace_summaries_load(t, err, errlen) != 0 ||
        ctx_stream_open(&t->stream, db, err, errlen) != 0) {
        trace_mem_free(t);
        return -1;
    }
    t->complete = trace_meta_int(db, "complete", 0) == 1;
    char *exit_reason = ct_reader_meta_text(reader, "exit_reason");
    t->end_in_flight =
        ct_end_in_flight(exit_reason, trace_meta_int(db, "events_after_cut", 0));
    free(exit_reason);
    /* The end of the trace: its recorded end, or (cut short) the last thing it saw. */
    t->end = trace_meta_int(db, "end_ns", 0);
    if (t->end == 0)
        t->end = t->stream.last_ts;
    return 0;
}

void trace_mem_free(struct trace *t)
{
    ctx_stream_close(&t->stream);
    free(t->sums);
    u64map_free(&t->site_of);
    memset(t, 0, sizeof *t);
}
