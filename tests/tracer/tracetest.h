/*
 * tracetest.h — what the tracer's integration tests share: exact assertions, running
 * programs (under `ctxtrace run` or a bare LD_PRELOAD) with timeouts, and reading
 * trace files with SQLite.
 *
 * Assertions never stop a test: each failure is printed as
 *     FAIL file:line: what: expected X, observed Y
 * and counted; tt_finish() turns the count into the exit status. Passing checks print
 * one "ok" line each, so a ctest log (`ctest -V`) shows everything that was checked.
 *
 * Trace files are opened with tt_db_open(), which adds three SQL functions that make
 * "the site" of a stack easy to query:
 *     site(stack_id)          'FILE:LINE' of the innermost frame that is not in
 *                             libctxtrace.so* nor libctxtrace_preload.so (FILE made
 *                             canonical with realpath when it exists)
 *     site_function(stack_id) that frame's function
 *     site_module(stack_id)   that frame's module (canonical path)
 */
#ifndef TRACETEST_H
#define TRACETEST_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- assertions ------------------------------------------------------------------ */

/* A query result that was SQL NULL (or no row at all). */
#define TT_NULL INT64_MIN

extern int tt_failures;

void tt_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tt_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the verdict; returns the exit status (0 when nothing failed). */
int tt_finish(const char *test);

#define TT_FAIL(...) tt_fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* cond must hold; `...` says what it is (printf). */
#define TT_CHECK(cond, ...)                                                             \
    tt_check_at((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
bool tt_check_at(bool cond, const char *file, int line, const char *expr, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));

/* Exact integer equality (TT_NULL prints as NULL). */
#define TT_EQ(expected, observed, ...)                                                  \
    tt_eq_at((int64_t)(expected), (int64_t)(observed), __FILE__, __LINE__, __VA_ARGS__)
bool tt_eq_at(int64_t expected, int64_t observed, const char *file, int line,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Exact string equality (NULL allowed on either side). */
#define TT_STREQ(expected, observed, ...)                                               \
    tt_streq_at((expected), (observed), __FILE__, __LINE__, __VA_ARGS__)
bool tt_streq_at(const char *expected, const char *observed, const char *file, int line,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* `haystack` contains `needle`. */
#define TT_CONTAINS(haystack, needle, ...)                                              \
    tt_contains_at((haystack), (needle), __FILE__, __LINE__, __VA_ARGS__)
bool tt_contains_at(const char *haystack, const char *needle, const char *file, int line,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- files and directories -------------------------------------------------------- */

/* Remove `dir` recursively (if it exists) and create it empty, with its parents. */
void tt_fresh_dir(const char *dir);
/* Whole file as a NUL-terminated string (NULL if unreadable); *len if len != NULL. */
char *tt_slurp(const char *path, size_t *len);
bool tt_exists(const char *path);
/* Names in `dir` ending in `suffix`, sorted, as one string "a b c" (malloc'd). */
char *tt_list_dir(const char *dir, const char *suffix, int *count);
/* realpath, or a copy of `path` if it does not resolve (malloc'd). */
char *tt_canonical(const char *path);
/* printf into a new string. */
char *tt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Count of non-overlapping occurrences of needle in haystack. */
int tt_count(const char *haystack, const char *needle);

/* The 1-based number of the only line of `file` containing `needle`. Zero or several
 * matching lines are a test failure (reported with every match), returning -1. */
int tt_source_line(const char *file, const char *needle);
/* "CANONICAL-FILE:LINE", the form site() returns (malloc'd); NULL if the line is not
 * found (after reporting the failure). */
char *tt_site_key(const char *file, const char *needle);

/* ---- processes --------------------------------------------------------------------- */

struct tt_cmd {
    const char *const *argv;      /* NULL-terminated; argv[0] is the path run */
    const char *const *env;       /* "NAME=value" set, "NAME" unset; NULL-terminated or NULL */
    const char *cwd;              /* the directory it runs in (tests never rely on theirs) */
    const char *out_path;         /* stdout to this file, unless out_pipe */
    const char *err_path;         /* stderr to this file (NULL: inherited) */
    bool out_pipe;                /* stdout to a pipe the test reads (tt_read_line) */
    bool one_cpu;                 /* run on one CPU only (the first one allowed) */
};

struct tt_proc {
    pid_t pid;   /* also the process group of everything it starts */
    int out_fd;  /* out_pipe: the read end */
    char buf[4096];
    size_t have;
};

/* Start `cmd` in a new process group. false (and a failure) if it could not start. */
bool tt_spawn(const struct tt_cmd *cmd, struct tt_proc *p);
/* Wait for it: the raw wait status, or -1 after `timeout_s` seconds — then the whole
 * process group is SIGKILLed and a failure recorded (a hang is a bug: deadlock). */
int tt_wait(struct tt_proc *p, double timeout_s, const char *what);
/* One line (without its newline) from the out pipe, within `timeout_s`; NULL on EOF or
 * timeout (a failure is recorded). Returned string is malloc'd. */
char *tt_read_line(struct tt_proc *p, double timeout_s, const char *what);
/* ctxtrace's mapping of a wait status: the exit code, or 128+signal. */
int tt_exit_code(int status);
/* "exit 3" / "signal 15 (Terminated)" for messages; static buffer. */
const char *tt_status_text(int status);

/* Run to completion; stdout and stderr captured into memory (and the files named in
 * cmd, which must be set). Returns the raw wait status or -1. */
struct tt_output {
    int status;
    char *out, *err;
};
int tt_run(const struct tt_cmd *cmd, double timeout_s, struct tt_output *o, const char *what);
void tt_output_free(struct tt_output *o);

/* Seconds on CLOCK_MONOTONIC. */
double tt_now(void);

/* ---- trace files --------------------------------------------------------------------- */

/* Open a trace file; read-only or read-write (read-write is what the sqlite3 shell
 * does, and recovers the WAL of a killed writer). A failure is recorded on error. */
sqlite3 *tt_db_open(const char *path, bool readonly);
void tt_db_close(sqlite3 *db);

/* The single integer / text result of a query built with sqlite3_mprintf (%Q, %q,
 * %lld...: not checked by the compiler, so mind the argument types). TT_NULL / NULL for SQL NULL or no row; a SQL error is a failure. */
int64_t tt_q_int(sqlite3 *db, const char *fmt, ...);
char *tt_q_text(sqlite3 *db, const char *fmt, ...);
/* All rows of a query, columns separated by '|', rows by '\n' (for failure messages). */
char *tt_q_rows(sqlite3 *db, int max_rows, const char *fmt, ...);

/* The query's integer result equals `expected` (the query is the message). */
#define TT_Q_EQ(db, expected, ...) tt_q_eq_at((db), (int64_t)(expected), __FILE__, __LINE__, __VA_ARGS__)
bool tt_q_eq_at(sqlite3 *db, int64_t expected, const char *file, int line, const char *fmt,
                ...);
/* The same, and on failure also print the rows of `detail` (a query) to explain. */
#define TT_Q_ZERO(db, detail, ...) tt_q_zero_at((db), (detail), __FILE__, __LINE__, __VA_ARGS__)
bool tt_q_zero_at(sqlite3 *db, const char *detail, const char *file, int line, const char *fmt,
                  ...);
#define TT_Q_TEXT(db, expected, ...) tt_q_text_at((db), (expected), __FILE__, __LINE__, __VA_ARGS__)
bool tt_q_text_at(sqlite3 *db, const char *expected, const char *file, int line,
                  const char *fmt, ...);

/* The invariants every trace file keeps, whatever the program did:
 * integrity_check ok; schema_version 3; events_dropped 0 (when `complete`); roots 1 and
 * 2; every other row has a known kind, created_ns, create_thread (a threads row),
 * create_stack (a stacks row with all its frames; an inlined frame followed by a frame of
 * its address) and a parent that is a row created no
 * later; cancellation, release, free and deadline columns consistent with the kind.
 * `complete`: the process ended cleanly (meta.complete = 1 is checked separately). */
void tt_check_invariants(sqlite3 *db, bool complete);

/* The trace file's meta must say a clean end: complete = 1, this exit_reason. */
void tt_check_complete(sqlite3 *db, const char *exit_reason);

/* Count of non-root contexts. */
int64_t tt_contexts(sqlite3 *db);

#endif /* TRACETEST_H */
