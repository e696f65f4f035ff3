/*
 * trace_mem.h — what the trace core's analyses know of a trace before reading its
 * contexts: its end, completeness, exit check, summary aggregates and stack sites.
 * Internal to libctxtrace/core.
 */
#ifndef CT_TRACE_MEM_H
#define CT_TRACE_MEM_H

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/summary.h>
#include <ctxtrace/core/u64map.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream.h"

typedef struct sqlite3 sqlite3;
typedef struct ct_reader ct_reader;

/* Open `path` read-only as a trace file, checking that it is SQLite, that it is a
 * ctxtrace trace and that its schema version is one this build reads. Never writes:
 * works in read-only directories and on read-only media, creates no -wal or -shm, and
 * opens a closed trace (no -wal beside it: every complete one) immutable. Returns NULL with
 * a one-line reason in err. (The reader, reader.h, is the way in for every tool.) */
sqlite3 *ct_trace_open(const char *path, char *err, size_t errlen);
/* A reader's connection, for the core's own analyses. */
sqlite3 *ct_reader_db(ct_reader *r);
/* Load stack `id` with runtime/shim frames removed. */
int ct_load_stack(sqlite3 *db, int64_t id, struct ct_stack *out);
/* The frame id of its innermost frame outside libctxtrace and the shim (0: none). */
int64_t ct_stack_site(sqlite3 *db, int64_t id);
/* The same with another notion of "not the application's" frame: the first frame whose
 * module `skip` does not reject (0: none). */
int64_t ct_stack_site_skipping(sqlite3 *db, int64_t id, bool (*skip)(const char *module));

/* A trace's facts and its contexts' stream (stream.h): what every analysis starts from.
 * No whole-trace array: the contexts are met one at a time. */
struct trace {
    sqlite3 *db;
    struct ctx_stream stream; /* its contexts, in id order */
    struct u64map site_of;   /* stack id -> site frame id + 1 (0 stored as 1: none) */
    int64_t end;             /* end of the trace (ns) */
    bool complete;
    bool end_in_flight;       /* ct_end_in_flight of the meta */
    struct u64map exit_reach; /* id -> the exit check's verdict (rule_exit.c) */
    bool exit_checked;        /* the exit check ran and judged reachability */
    /* Summary retention (summary.h): the clean contexts folded per site, not in rows. */
    struct ct_site_summary *sums;
    size_t nsums;
};

/* Read a trace's facts and open its contexts' stream (call inside a read transaction). */
int trace_mem_load(struct trace *t, ct_reader *r, char *err, size_t errlen);
void trace_mem_free(struct trace *t);
/* Only the summary's aggregates, into t->sums (t->db set). */
int trace_summaries_load(struct trace *t, char *err, size_t errlen);

/* The site frame id of a stack: its innermost frame outside the runtime and the shim
 * (0: none). Cached per stack. */
int64_t trace_site(struct trace *t, int64_t stack);
int64_t trace_meta_int(sqlite3 *db, const char *key, int64_t def);

#endif /* CT_TRACE_MEM_H */
