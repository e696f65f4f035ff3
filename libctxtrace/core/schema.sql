-- ctxtrace trace file, schema version 3.
--
-- One SQLite file per traced process, written by the LD_PRELOAD shim's writer thread in
-- batched transactions, in WAL mode: readable with the sqlite3 shell while the process
-- runs. Times are nanoseconds on CLOCK_MONOTONIC (the same clock as ctx_now()); thread
-- columns name rows of `threads`; stack columns name rows of `stacks`.
--
-- Rows are written with UPSERTs that fill only the columns an event knows, so events
-- recorded on different threads may land in any order: a column is NULL until the
-- event that sets it has been written. (That is also why contexts, threads and waits
-- declare no NOT NULL columns: a partial row must be insertable.) Once the traced
-- process has exited cleanly, meta.complete = 1.
--
-- This file is embedded into the trace core at build time and executed verbatim to
-- create a trace file. Bump `meta.schema_version` (store.h, CTXTRACE_SCHEMA_VERSION)
-- with any change a reader could notice. The contexts columns are described once more,
-- with how partial rows merge, in include/ctxtrace/core/columns.h: keep the two in step.

PRAGMA journal_mode = WAL;

-- Key/value facts about the run: schema_version, program, argv (JSON array), pid,
-- ppid, start_ns (CLOCK_MONOTONIC), start_realtime (Unix seconds, for humans),
-- end_ns, complete (0 while running or if killed, 1 after a clean exit),
-- events (events written), events_dropped (always 0 unless a memory cap forced drops;
-- see docs/trace-file.md), stack_depth (frames captured per stack), exit_reason,
-- write_error (present only when the tracer could not write the trace — a full disk —
-- and stopped recording there: the trace is then a prefix of the run, complete = 0).
-- The exit check (docs/rules.md, "The exit check"): exit_check ('done', 'off', or
-- 'abandoned: REASON' — then nothing the check would have decided is in the file),
-- exit_check_ns (when the world was stopped), exit_check_us (how long it stayed
-- stopped), exit_check_threads (threads stopped), exit_check_unstoppable (threads that
-- block the check's signal: /proc state only), exit_check_unregistered (threads the
-- shim never registered, not judged); exit_check_reach ('done', or 'unknown: REASON'
-- — then exit_reach is empty), exit_check_scan_words and exit_check_scan_objects (what
-- the reachability scan read).
-- Retention (schema version 3; docs/trace-file.md "Retention"): retention ('full' or
-- 'summary'), contexts_summarized (contexts folded into site_summary instead of a row).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value
) WITHOUT ROWID;

-- Every context the program created, one row each; the roots appear as id 1
-- (background) and id 2 (todo).
CREATE TABLE contexts (
    id                    INTEGER PRIMARY KEY, -- process-unique, never reused
    parent_id             INTEGER,             -- NULL for the roots
    kind                  TEXT,                -- background todo cancel deadline value without_cancel
    created_ns            INTEGER,
    create_thread         INTEGER,
    create_stack          INTEGER,
    requested_deadline_ns INTEGER,             -- deadline kind: what the caller asked for
    deadline_ns           INTEGER,             -- effective deadline (the earliest up the chain)
    timer_armed_ns        INTEGER,             -- its own timer was armed (NULL: no timer)
    timer_stopped_ns      INTEGER,             -- disarmed by cancellation before firing
    timer_fired_ns        INTEGER,             -- the timer fired
    canceled_ns           INTEGER,             -- became done
    cancel_why            TEXT,                -- explicit parent deadline
    cancel_err            INTEGER,             -- ctx_err(): ECANCELED or ETIMEDOUT
    cancel_cause          INTEGER,             -- ctx_cause()
    cancel_reason         TEXT,
    cancel_thread         INTEGER,
    cancel_stack          INTEGER,             -- explicit cancels only: who cancelled
    cancel_origin_ns      INTEGER,             -- when the cancellation that made it done
                                               -- started: canceled_ns for explicit and
                                               -- deadline; for parent, the origin's time
                                               -- (its creation if born under a done parent)
    released_ns           INTEGER,             -- the last owner reference was dropped
    released_live         INTEGER,             -- 1 if it was still not done then (lost cancel)
    release_thread        INTEGER,
    release_stack         INTEGER,
    freed_ns              INTEGER,             -- its memory was released
    value_lookups         INTEGER,             -- ctx_value calls made on this context
    value_depth_sum       INTEGER,             -- contexts examined by them, in all
    value_depth_max       INTEGER              -- the most examined by one lookup
);

-- Threads seen by the shim: the main thread, and every thread created with
-- pthread_create while tracing (the goroutine equivalent).
CREATE TABLE threads (
    id            INTEGER PRIMARY KEY,   -- shim-assigned, 1 = main thread
    tid           INTEGER,               -- kernel thread id
    parent_thread INTEGER,
    create_stack  INTEGER,               -- where pthread_create was called
    start_ns      INTEGER,
    exit_ns       INTEGER,               -- NULL while running (or at exit)
    summarized    INTEGER                -- summary retention (schema 3): how many of its
                                         -- ties to contexts (waits on them, contexts it
                                         -- created) were folded into site_summary; the
                                         -- exit check's leaked-thread does not judge a
                                         -- thread it cannot see whole. NULL: none
);

-- Each blocking ctx_wait, and each ctx_fd handed out (a poller).
CREATE TABLE waits (
    id          INTEGER PRIMARY KEY,
    context_id  INTEGER,
    thread      INTEGER,
    stack       INTEGER,                 -- the wait (or ctx_fd) call site
    how         TEXT,                    -- wait | fd
    blocked_ns  INTEGER,                 -- wait: started blocking; fd: handed out
    woken_ns    INTEGER,                 -- wait: returned; NULL while blocked
    result      INTEGER                  -- wait: 0 (done) or ETIMEDOUT
);

-- Interned stacks: each distinct call stack once. id is the 64-bit hash of the
-- instruction pointers, as captured on the application thread. depth counts its
-- logical frames (its rows in stack_frames).
CREATE TABLE stacks (
    id     INTEGER PRIMARY KEY,
    depth  INTEGER NOT NULL
);

-- The logical frames of each stack, innermost first (idx 0 = the capturing hook). A
-- captured instruction pointer is one physical frame; in an optimised build it
-- expands into the functions inlined there, innermost first, then the function that
-- owns the physical frame (as `addr2line -i` shows them), so a reader sees inlined
-- calls as ordinary frames and a stack's site is its innermost logical frame outside
-- the runtime and the shim.
CREATE TABLE stack_frames (
    stack_id INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    frame_id INTEGER NOT NULL,
    PRIMARY KEY (stack_id, idx)
) WITHOUT ROWID;

-- Symbolized logical frames: one per function at each distinct instruction pointer
-- (several when calls were inlined there; their ids are consecutive, innermost
-- first). `offset` is relative to the module's load address (stable across runs of a
-- PIE under ASLR); `ip` is the address in this process; both are the physical frame's,
-- shared by its logical frames. For return addresses the line is that of the call:
-- the innermost logical frame's comes from the line table, each outer one's is the
-- call site of the inlined function inside it (DW_AT_call_file/DW_AT_call_line).
-- `inlined` is 1 when the frame was inlined into the next (outer) frame of the stack,
-- so has no physical frame of its own; 0 otherwise. `tail_call` is 1 for a frame a tail
-- call removed (its function jumped to the frame inside it instead of calling it, so
-- the captured stack lacks it), put back from the DWARF call sites; its ip and line are
-- those of the jump (line NULL when the function made several tail calls and which was
-- taken is unknown); 0 otherwise.
CREATE TABLE frames (
    id        INTEGER PRIMARY KEY,
    ip        INTEGER NOT NULL,
    module    TEXT,                      -- path of the ELF object
    offset    INTEGER,
    build_id  TEXT,                      -- hex GNU build-id of the module, if any
    function  TEXT,
    file      TEXT,
    line      INTEGER,
    inlined   INTEGER NOT NULL DEFAULT 0,
    tail_call INTEGER NOT NULL DEFAULT 0
);

-- Periodic samples (every 100 ms by default, and one at exit).
CREATE TABLE samples (
    ts_ns           INTEGER PRIMARY KEY,
    live_contexts   INTEGER NOT NULL,    -- created and not yet freed (roots excluded)
    armed_timers    INTEGER NOT NULL,
    blocked_waiters INTEGER NOT NULL,
    threads         INTEGER NOT NULL,    -- running threads the shim knows of
    rss_bytes       INTEGER NOT NULL
);

-- Findings written by the analysis (ctxtrace report / the exit report). Empty until
-- an analysis runs.
CREATE TABLE findings (
    id            INTEGER PRIMARY KEY,
    rule          TEXT NOT NULL,
    count         INTEGER NOT NULL,
    site_function TEXT,
    site_file     TEXT,
    site_line     INTEGER,
    stack_id      INTEGER,
    example_ids   TEXT                   -- JSON array of context ids
);

-- Schema version 2: the exit check. One row per thread the check found (besides the
-- thread that ran it and the shim's writer) when it stopped the world at exit or at
-- the SIGINT/SIGTERM flush (docs/rules.md).
CREATE TABLE exit_threads (
    thread   INTEGER,                    -- threads.id; NULL: never registered by the shim
    tid      INTEGER NOT NULL,           -- kernel thread id
    state    TEXT NOT NULL,              -- running | blocked | stopped | exiting (/proc)
    syscall  INTEGER,                    -- system call it sleeps in; NULL in user space
    stopped  INTEGER NOT NULL,           -- 1 suspended by the check, 0 blocks its signal
    stack    INTEGER                     -- its current stack; NULL: unknown
);

-- Contexts handed to a thread when it was created (schema version 2): its
-- pthread_create argument was the context (or pointed at memory holding its address,
-- within the first 16 words). Waits, ctx_fd and derivations say what else it used.
CREATE TABLE thread_contexts (
    thread     INTEGER NOT NULL,
    context_id INTEGER NOT NULL,
    how        TEXT NOT NULL,            -- arg
    PRIMARY KEY (thread, context_id)
) WITHOUT ROWID;

-- The exit check's reachability scan (schema version 2; docs/rules.md "The exit check"):
-- one row per context live at the check that the scan judged (one created in the last
-- moments before the check may have none: unknown). A reference is a word holding the
-- context's address, found from the program's roots (module data, stacks, registers,
-- TLS, heap memory reachable from them; not the runtime's or the shim's own memory).
CREATE TABLE exit_reach (
    context_id INTEGER PRIMARY KEY,
    reach      TEXT NOT NULL             -- reachable: by a thread not blocked on it (or
                                         -- below it), or from static data;
                                         -- stuck: only by threads blocked in ctx_wait on
                                         -- it or on a context below it;
                                         -- unreachable: no reference found
);

-- Summary retention (schema version 3; ctxtrace/core/summary.h): contexts that lived and
-- ended cleanly, folded per creation stack and kind instead of a `contexts` row each. A
-- context is counted once: as a row or here. Empty in a full trace. Histograms are text,
-- "bucket:count" pairs for the non-empty buckets; bucket b holds values in [lo(b),
-- lo(b+1)) with lo(b) = b for b < 4, else (4 + b % 4) << (b / 4 - 1) (four buckets per
-- power of two).
CREATE TABLE site_summary (
    create_stack     INTEGER NOT NULL,   -- stacks.id (0: no stack captured)
    kind             TEXT NOT NULL,
    contexts         INTEGER NOT NULL,   -- folded here
    ended_explicit   INTEGER NOT NULL,   -- how they became done (cancel_why) ...
    ended_parent     INTEGER NOT NULL,
    ended_deadline   INTEGER NOT NULL,
    ended_never      INTEGER NOT NULL,   -- ... or never (values, released when done)
    life_hist        TEXT NOT NULL,      -- created_ns -> freed_ns
    life_max         INTEGER NOT NULL,
    origins          INTEGER NOT NULL,   -- cancelled explicitly or by their deadline
    fanout_sum       INTEGER NOT NULL,   -- descendants those cancellations made done
    fanout_max       INTEGER NOT NULL,
    wakeups          INTEGER NOT NULL,   -- ctx_wait calls on them woken by done
    wake_hist        TEXT NOT NULL,      -- the cancellation -> the waiter's return
    wake_max         INTEGER NOT NULL,
    value_lookups    INTEGER NOT NULL,
    value_depth_sum  INTEGER NOT NULL,
    value_depth_max  INTEGER NOT NULL,
    root_derivations INTEGER NOT NULL,   -- derived directly from background/todo
    PRIMARY KEY (create_stack, kind)
) WITHOUT ROWID;

-- Summary retention (schema version 3): the live count of each creation stack and kind
-- over time, rows and folded contexts alike — what `ctxtrace soak` judges growth by site
-- on, since a summary trace lacks the rows of contexts that ended cleanly. A row is
-- written with a sample (samples.ts_ns) whenever the stack's counts changed since its
-- previous row; between rows the count stands.
CREATE TABLE site_samples (
    ts_ns        INTEGER NOT NULL,
    create_stack INTEGER NOT NULL,       -- stacks.id (0: no stack captured)
    kind         TEXT NOT NULL,
    live         INTEGER NOT NULL,       -- created and not yet freed
    created      INTEGER NOT NULL,       -- created since the trace began
    PRIMARY KEY (create_stack, kind, ts_ns)
) WITHOUT ROWID;
