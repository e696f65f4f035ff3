/*
 * trace_mem.h — the trace core's in-memory view of a trace, shared by the analyses.
 * Internal to libctxtrace/core.
 */
#ifndef CT_TRACE_MEM_H
#define CT_TRACE_MEM_H

#include <ctxtrace/core/u64map.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sqlite3 sqlite3;

/* One context; timestamps are 0 for "did not happen". */
struct crow {
    int64_t id, parent, created, create_stack, requested, deadline, armed, stopped, fired,
        canceled, released, release_stack, freed;
    int64_t value_lookups, value_depth_sum, value_depth_max;
    int8_t kind;          /* enum ctx_kind, -1 unknown */
    int8_t why;           /* enum ctx_cancel_why, -1 if never done */
    int8_t released_live; /* -1 unknown */
};

struct trace {
    sqlite3 *db;
    struct crow *rows;
    size_t n;
    struct u64map index;     /* id -> row */
    struct u64map site_of;   /* stack id -> site frame id + 1 (0 stored as 1: none) */
    int64_t end;             /* end of the trace (ns) */
    bool complete;
};

/* Read every context of an open trace (call inside a read transaction). */
int trace_mem_load(struct trace *t, sqlite3 *db, char *err, size_t errlen);
void trace_mem_free(struct trace *t);

const struct crow *trace_row(const struct trace *t, int64_t id);
/* The site frame id of a stack: its innermost frame outside the runtime and the shim
 * (0: none). Cached per stack. */
int64_t trace_site(struct trace *t, int64_t stack);
int64_t trace_meta_int(sqlite3 *db, const char *key, int64_t def);

#endif /* CT_TRACE_MEM_H */
