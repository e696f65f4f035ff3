/*
 * ctxtrace/core/store.h — the SQLite trace file: creating it and writing rows.
 *
 * The schema is libctxtrace/core/schema.sql (documented there and in
 * docs/trace-file.md). Writers build rows in memory and hand them over in batches,
 * inside ct_store_begin / ct_store_commit. Every row type is written with an UPSERT
 * that sets only the columns the row marks present, so rows describing one context
 * may arrive in any order and merge into one.
 *
 * Errors: functions return 0 or -1; ct_store_error() tells why.
 */
#ifndef CTXTRACE_CORE_STORE_H
#define CTXTRACE_CORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/columns.h>
#include <ctxtrace/core/summary.h>

#define CTXTRACE_SCHEMA_VERSION 3

typedef struct ct_store ct_store;

struct ct_thread_row {
    int64_t id, tid, parent_thread, create_stack, start_ns, exit_ns; /* 0: unknown */
    int64_t summarized; /* ties to contexts folded by summary retention; 0: unknown/none */
};

struct ct_wait_row {
    int64_t id, context_id, thread, stack;
    bool is_fd;
    int64_t blocked_ns;
    int64_t woken_ns; /* 0: still blocked */
    int result;
};

struct ct_frame_row {
    int64_t id, ip;
    const char *module; /* may be NULL */
    int64_t offset;
    const char *build_id, *function, *file; /* may be NULL */
    int line;           /* 0: unknown */
    bool inlined;       /* inlined into the next (outer) frame of its stacks */
    bool tail_call;     /* its function's frame was replaced by a tail call (jump) */
};

struct ct_sample_row {
    int64_t ts_ns, live_contexts, armed_timers, blocked_waiters, threads, rss_bytes;
};

/* Create a new trace file at `path` (which must not exist, or be an empty file the
 * caller claimed: ctxtrace/core/claim.h), with the schema and the
 * roots. Returns NULL and fills err on failure. */
ct_store *ct_store_create(const char *path, char *err, size_t errlen);
/* Build the secondary indexes (indexes.sql): done once, at a clean end of the trace,
 * because maintaining them per row would make every insert a random B-tree walk. A
 * trace cut short by SIGKILL has none; readers do without (reader.h). Then leave
 * WAL mode, so that a finished trace is one file without -wal/-shm beside it (unless a
 * reader holds it open at that moment: then it stays in WAL mode). */
int ct_store_finish(ct_store *s);
void ct_store_close(ct_store *s);
const char *ct_store_error(ct_store *s);

int ct_store_begin(ct_store *s);
/* Commit, or — if any statement since ct_store_begin failed, or the commit itself did
 * (a full disk) — roll back: a transaction is never committed with holes. -1 with the
 * reason in ct_store_error then. */
int ct_store_commit(ct_store *s);

int ct_store_meta_text(ct_store *s, const char *key, const char *value);
int ct_store_meta_int(ct_store *s, const char *key, int64_t value);

int ct_store_context(ct_store *s, const struct ct_ctx_row *row);
/* Summary retention (summary.h): a row written while its context was live, which then
 * ended cleanly and was folded into its site; its waits go with it. */
int ct_store_forget_context(ct_store *s, int64_t id);
int ct_store_forget_wait(ct_store *s, int64_t id);
/* A site's aggregate, replacing what the file held for (create_stack, kind). */
int ct_store_site_summary(ct_store *s, const struct ct_site_summary *sum);
/* A creation stack's live and created counts at sample time ts (site_samples). */
int ct_store_site_sample(ct_store *s, int64_t ts, int64_t create_stack, int kind, int64_t live,
                         int64_t created);
int ct_store_thread(ct_store *s, const struct ct_thread_row *row);
int ct_store_wait(ct_store *s, const struct ct_wait_row *row);
int ct_store_frame(ct_store *s, const struct ct_frame_row *row);
/* A stack and its logical frames (frame ids innermost first, inlined frames included).
 * Ignored if already stored. */
int ct_store_stack(ct_store *s, int64_t id, int depth, const int64_t *frame_ids);
int ct_store_sample(ct_store *s, const struct ct_sample_row *row);

/* The exit check (docs/rules.md): a thread as the check found it. */
enum ct_exit_state { CT_EXIT_RUNNING, CT_EXIT_BLOCKED, CT_EXIT_STOPPED, CT_EXIT_EXITING };
/* The state of a /proc/<tid>/stat state letter (R running; T, t stopped; Z, X exiting;
 * anything else blocked). */
enum ct_exit_state ct_exit_state_of(char proc_state);

struct ct_exit_thread_row {
    int64_t thread;     /* threads.id; 0: a thread the shim never registered */
    int64_t tid;
    int state;          /* enum ct_exit_state, from /proc before the world was stopped */
    int64_t syscall_nr; /* the system call it sleeps in; -1: in user space */
    bool stopped;       /* suspended by the check (false: it blocks the check's signal) */
    int64_t stack;      /* its current stack; 0: unknown */
};

int ct_store_exit_thread(ct_store *s, const struct ct_exit_thread_row *row);
/* A context handed to a thread: `how` = "arg" (its pthread_create argument was the
 * context, or pointed at memory holding its address). Duplicates are ignored. */
int ct_store_thread_context(ct_store *s, int64_t thread, int64_t context_id, const char *how);

/* The exit check's scan, per live context: 0 unreachable, 1 reachable (by someone not
 * blocked on it or below it), 2 reachable only by threads blocked on it or below it. */
struct ct_exit_reach_row {
    int64_t context_id;
    int reach;
};
int ct_store_exit_reach(ct_store *s, const struct ct_exit_reach_row *rows, size_t n);


#endif /* CTXTRACE_CORE_STORE_H */
