/*
 * ctxtrace/core/columns.h — the `contexts` table's columns, described once.
 *
 * Every place that moves a context's facts — the writer's UPSERT (store.c), the reader's
 * SELECT and row decoding (reader.c), and the in-memory merge of partial rows (the
 * inspector's model, the live stream's rows) — is made from the table ct_ctx_cols, as
 * wire.c makes its encoder and decoder from one table of frames. Adding a column is one
 * line here, one in schema.sql, and one enum value.
 *
 * A context's facts arrive as partial rows: each event knows a few columns (creation,
 * cancellation, release, free...), and the rows of one context may arrive in any order.
 * They merge by a rule per column: most take the value a row knows (each event happens
 * once, so this is the one value), an absent value never erases a known one; the
 * value-lookup counters add up, the depth maximum takes the larger.
 */
#ifndef CTXTRACE_CORE_COLUMNS_H
#define CTXTRACE_CORE_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Columns of `contexts` besides id, in schema order. */
enum ct_ctx_col {
    CT_PARENT_ID,
    CT_KIND,                 /* enum ctx_kind (stored as its name) */
    CT_CREATED_NS,
    CT_CREATE_THREAD,
    CT_CREATE_STACK,
    CT_REQUESTED_DEADLINE_NS,
    CT_DEADLINE_NS,
    CT_TIMER_ARMED_NS,
    CT_TIMER_STOPPED_NS,
    CT_TIMER_FIRED_NS,
    CT_CANCELED_NS,
    CT_CANCEL_WHY,           /* enum ctx_cancel_why (stored as its name) */
    CT_CANCEL_ERR,
    CT_CANCEL_CAUSE,
    CT_CANCEL_REASON,        /* text: ct_ctx_row.reason */
    CT_CANCEL_THREAD,
    CT_CANCEL_STACK,
    CT_CANCEL_ORIGIN_NS,     /* when the cancellation that reached it started */
    CT_RELEASED_NS,
    CT_RELEASED_LIVE,
    CT_RELEASE_THREAD,
    CT_RELEASE_STACK,
    CT_FREED_NS,
    CT_VALUE_LOOKUPS,        /* summed */
    CT_VALUE_DEPTH_SUM,      /* summed */
    CT_VALUE_DEPTH_MAX,      /* maximum */
    CT_CTX_NCOLS
};

enum ct_col_type {
    CT_COL_INT,  /* an integer (times, ids, counters, flags) */
    CT_COL_KIND, /* enum ctx_kind, stored as its name */
    CT_COL_WHY,  /* enum ctx_cancel_why, stored as its name */
    CT_COL_TEXT, /* a string, in ct_ctx_row.reason */
};

enum ct_col_merge {
    CT_MERGE_LATEST, /* a known value replaces the stored one (each fact happens once) */
    CT_MERGE_SUM,   /* values add up */
    CT_MERGE_MAX,   /* the larger value stays */
};

struct ct_col {
    const char *name; /* the SQL column */
    enum ct_col_type type;
    enum ct_col_merge merge;
};

extern const struct ct_col ct_ctx_cols[CT_CTX_NCOLS];

/* A partial `contexts` row: column c is known iff (present >> c) & 1. */
struct ct_ctx_row {
    int64_t id;
    uint32_t present;
    int64_t v[CT_CTX_NCOLS];
    char *reason; /* CT_CANCEL_REASON; ownership is the holder's (see ct_ctx_row_merge) */
};

_Static_assert(CT_CTX_NCOLS <= 32, "ct_ctx_row.present has 32 bits");

static inline void ct_ctx_set(struct ct_ctx_row *r, enum ct_ctx_col c, int64_t v)
{
    r->v[c] = v;
    r->present |= 1u << c;
}

static inline bool ct_ctx_has(const struct ct_ctx_row *r, enum ct_ctx_col c)
{
    return (r->present >> c) & 1;
}

static inline int64_t ct_ctx_get(const struct ct_ctx_row *r, enum ct_ctx_col c, int64_t def)
{
    return ct_ctx_has(r, c) ? r->v[c] : def;
}

/* Merge `in` into `into` by each column's rule, as the trace file's UPSERT does. A
 * reason is copied (malloc) into `into`, which owns it: free it with free(). Returns
 * whether anything `into` shows changed. */
bool ct_ctx_row_merge(struct ct_ctx_row *into, const struct ct_ctx_row *in);

/* Names used in the file (and every output) for enum ctx_kind / enum ctx_cancel_why
 * values ("unknown" out of range), and back (-1: not a name). */
const char *ct_kind_name(int kind);
const char *ct_why_name(int why);
int ct_kind_from_name(const char *name);
int ct_why_from_name(const char *name);

#endif /* CTXTRACE_CORE_COLUMNS_H */
