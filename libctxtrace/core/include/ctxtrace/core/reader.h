/*
 * ctxtrace/core/reader.h — reading a trace file: the one way every tool (the CLI's
 * report, run, soak and export, the inspector) gets at a trace. No SQL outside the
 * trace core: the file's layout is schema.sql's and columns.h's business, and a
 * context's state is verdict.h's.
 *
 * A reader is one read-only connection (ct_trace_open: clear one-line errors for
 * anything that is not a readable trace of this schema version). It works on the file
 * of a process still running (WAL: each call reads a consistent snapshot). One reader
 * belongs to one thread at a time.
 *
 * Contexts are listed in creation order (created_ns, then id): ids are handed out in
 * per-thread blocks, so id order is not time order in a multi-threaded trace. Lists
 * page with a keyset cursor (the last row of the previous page), so page k costs an
 * index descent, not k pages. A trace cut short (no secondary indexes) is paged without
 * them, and readers never write to a trace: its children from a temporary table the
 * reader's connection builds once (SQLite's temp database: a file in the temporary
 * directory, ~20 bytes a context, deleted on close; memory stays SQLite's cache), its
 * flat lists from a creation-order walk (ct_reader_walk) that the next page resumes.
 */
#ifndef CTXTRACE_CORE_READER_H
#define CTXTRACE_CORE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/columns.h>
#include <ctxtrace/core/store.h>
#include <ctxtrace/core/summary.h>
#include <ctxtrace/core/verdict.h>

typedef struct ct_reader ct_reader;

/* Open `path`. NULL with a one-line reason in err. */
ct_reader *ct_reader_open(const char *path, char *err, size_t errlen);
void ct_reader_close(ct_reader *r);
const char *ct_reader_path(const ct_reader *r);
/* Why the last call that failed failed. */
const char *ct_reader_error(const ct_reader *r);

/* A full integrity check (SQLite's quick_check): 0, or -1 with a one-line reason that
 * says how to salvage the file. */
int ct_reader_check(ct_reader *r, char *err, size_t errlen);

/* ---- meta ---------------------------------------------------------------------------- */

struct ct_meta {
    char *program, *argv, *exit_reason; /* NULL when absent */
    int64_t pid, ppid, start_ns, start_realtime, stack_depth;
    int64_t end_ns;          /* the recorded end, else the latest time the file holds */
    bool complete;           /* the program exited and the trace was finished */
    int64_t events, events_dropped;
    int64_t contexts;        /* rows in contexts, the two roots excluded */
    int retention;           /* enum ct_keep (summary.h) */
    int64_t summarized;      /* contexts folded into site_summary (summary retention):
                                the contexts created are contexts + summarized */
};

int ct_reader_meta(ct_reader *r, struct ct_meta *out);
void ct_meta_free(struct ct_meta *m);
/* One meta value (def / NULL when absent); the text is malloc'd. */
int64_t ct_reader_meta_int(ct_reader *r, const char *key, int64_t def);
char *ct_reader_meta_text(ct_reader *r, const char *key);

/* ---- contexts ---------------------------------------------------------------------- */

/* Context `id`: 1 found (row filled; row->reason malloc'd, free with ct_ctx_row_clear),
 * 0 not in the trace, -1 error. */
int ct_reader_context(ct_reader *r, int64_t id, struct ct_ctx_row *row);
void ct_ctx_row_clear(struct ct_ctx_row *row);

/* Its state by the one verdict, with what the trace knows of the exit. */
struct ct_verdict ct_reader_verdict(ct_reader *r, const struct ct_ctx_row *row);

/* Which contexts a list holds: the children of one context (parent 0: those with no
 * parent, i.e. the roots), or — when `flat` — every context (roots excluded) passing
 * the filters. */
struct ct_query {
    bool flat;
    int64_t parent;
    int kind;                /* enum ctx_kind, or -1: any */
    int state;               /* enum ct_state, or -1: any */
    const int64_t *stacks;   /* created at one of these stacks only (NULL: any) */
    size_t nstacks;
    int64_t id;              /* only this context (0: any) */
    bool problems;           /* leaked by the verdict, or listed in `flagged` */
    const int64_t *flagged;
    size_t nflagged;
};

/* Keyset position: after the row with this creation time and id. {0, 0}: the start. */
struct ct_cursor {
    int64_t created, id;
};

/* How many contexts q holds; -1 on error. */
int64_t ct_reader_count(ct_reader *r, const struct ct_query *q);
/* Up to `max` rows of q after `after` — skipping the first `skip` of those (to jump
 * into a list whose previous row is not known; keyset paging passes 0) — in creation
 * order, into rows (reasons malloc'd: ct_ctx_row_clear each). Returns how many, or -1
 * on error. */
long ct_reader_list(ct_reader *r, const struct ct_query *q, struct ct_cursor after,
                    size_t skip, struct ct_ctx_row *rows, size_t max);
static inline struct ct_cursor ct_cursor_of(const struct ct_ctx_row *row)
{
    return (struct ct_cursor){ct_ctx_get(row, CT_CREATED_NS, 0), row->id};
}
/* Every context (the roots excluded) once, in the file's order — one sequential read,
 * the cheapest way through a whole trace — with the columns of `mask` (bit 1u << c for
 * column c; 0: all), each handed to fn (its reason valid during the call only); fn
 * returns false to stop. Returns the rows handed over, or -1 on error. */
long ct_reader_scan(ct_reader *r, uint32_t mask,
                    bool (*fn)(void *arg, const struct ct_ctx_row *row), void *arg);
/* Every context (the roots excluded) once, in creation order — ct_reader_list's flat
 * order, (created, id) — with every column, each handed to fn (its reason valid during
 * the call only); fn returns false to stop. Returns the rows handed over, or -1 on
 * error. The way through a whole trace in creation order, indexes or not: two
 * sequential reads in one snapshot (paging ct_reader_list costs an index walk and a
 * lookup a row, or a scan a page without the index). The first read notes, per block of
 * 1024 rows in id order, the least creation time from there on; the second hands a row
 * over once no row still to come can precede it. Memory: the rows read but not yet
 * handed over — ids come in per-thread blocks of 4096, so about that many for each
 * thread creating contexts at the same time, not the trace's size — plus 8 bytes per
 * 1024 contexts and 16 per context whose creation the trace did not see. */
long ct_reader_walk(ct_reader *r, bool (*fn)(void *arg, const struct ct_ctx_row *row),
                    void *arg);
/* Children of `id` in the trace; -1 on error. */
int64_t ct_reader_n_children(ct_reader *r, int64_t id);
/* The chain from a root down to `id` (outermost first, `id` last) into *ids (malloc'd);
 * returns its length, 0 if `id` is unknown, -1 on error. */
long ct_reader_ancestry(ct_reader *r, int64_t id, int64_t **ids);
/* Does the file have its secondary indexes (a clean end)? Paging works either way. */
bool ct_reader_has_indexes(ct_reader *r);

/* ---- stacks ------------------------------------------------------------------------ */

/* Every stack id in the trace (malloc'd array); returns the count or -1. */
long ct_reader_stack_ids(ct_reader *r, int64_t **ids);
/* Stack `id` with runtime/shim frames removed (see ct_load_stack). 0 or -1. */
int ct_reader_stack(ct_reader *r, int64_t id, struct ct_stack *out);
/* The site of stack `id`: the frame id of its innermost frame outside libctxtrace and
 * the shim (0: none); cached. */
int64_t ct_reader_stack_site(ct_reader *r, int64_t id);

/* ---- samples ----------------------------------------------------------------------- */

/* The samples with from_ns <= ts < to_ns in time order (malloc'd); count or -1. */
long ct_reader_samples(ct_reader *r, int64_t from_ns, int64_t to_ns,
                       struct ct_sample_row **out);

/* ---- lifetimes, for growth over time (soak) ----------------------------------------- */

enum ct_life_kind {
    CT_LIFE_CONTEXT, /* created .. freed, by creation stack */
    CT_LIFE_WAIT,    /* blocked in ctx_wait .. woken, by wait stack */
    CT_LIFE_THREAD,  /* started .. exited, by creation stack */
};

struct ct_life {
    int64_t stack, start, end; /* end INT64_MAX: still alive at the end of the trace */
};

/* Every life of `kind` overlapping [from_ns, to_ns) with a known stack (malloc'd);
 * count or -1. */
long ct_reader_lives(ct_reader *r, enum ct_life_kind kind, int64_t from_ns, int64_t to_ns,
                     struct ct_life **out);

/* ---- summary retention (summary.h) ------------------------------------------------- */

/* A creation stack and kind's counts at a sample time (site_samples): they stand until
 * its next row. */
struct ct_site_sample {
    int64_t ts, stack;
    int kind;
    int64_t live, created;
};

/* Every site_samples row with ts < to_ns (empty for a full trace), by stack, kind, then
 * time (malloc'd); count or -1. */
long ct_reader_site_samples(ct_reader *r, int64_t to_ns, struct ct_site_sample **out);

/* The per-site aggregates of the contexts folded (empty for a full trace), malloc'd;
 * count or -1. */
long ct_reader_site_summaries(ct_reader *r, struct ct_site_summary **out);

#endif /* CTXTRACE_CORE_READER_H */
