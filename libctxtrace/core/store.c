/*
 * store.c — writing the SQLite trace file (see store.h and schema.sql).
 *
 * One connection, prepared statements made once, every write inside the caller's
 * batch transaction. Durability: synchronous=NORMAL in WAL mode — a committed batch
 * survives the process being killed (SIGKILL), which is the promise; surviving power
 * loss is not.
 */
#include <assert.h>
#include <ctxtrace/core/store.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

extern const char ct_schema_sql[];  /* generated from schema.sql */
extern const char ct_indexes_sql[]; /* generated from indexes.sql */

struct ct_store {
    sqlite3 *db;
    sqlite3_stmt *ctx_upsert, *thread_upsert, *wait_upsert, *frame_insert, *stack_insert,
        *stack_frame_insert, *sample_insert, *meta_upsert, *ctx_delete, *wait_delete,
        *summary_upsert, *site_sample_insert;
    char err[256];
    bool failed; /* a statement of the open transaction failed: it must not commit */
};

const char *ct_store_error(ct_store *s)
{
    return s->err;
}

static int fail(ct_store *s, const char *what)
{
    snprintf(s->err, sizeof s->err, "%s: %s", what, sqlite3_errmsg(s->db));
    s->failed = true;
    return -1;
}

static int prepare(ct_store *s, sqlite3_stmt **st, const char *sql)
{
    return sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK
               ? 0
               : fail(s, "prepare");
}

/* INSERT ... ON CONFLICT(id) DO UPDATE SET, one assignment per column by its merge
 * rule (columns.h): a NULL (absent) value never overwrites what an earlier row wrote;
 * summed columns accumulate, maximum columns keep the larger. */
static char *upsert_sql(const char *table, const char *const *cols,
                        const enum ct_col_merge *merge, int ncols)
{
    size_t cap = 256 + (size_t)ncols * 160;
    char *sql = malloc(cap);
    if (sql == NULL)
        return NULL;
    size_t n = (size_t)snprintf(sql, cap, "INSERT INTO %s(id", table);
    for (int i = 0; i < ncols; i++)
        n += (size_t)snprintf(sql + n, cap - n, ",%s", cols[i]);
    n += (size_t)snprintf(sql + n, cap - n, ") VALUES(?");
    for (int i = 0; i < ncols; i++)
        n += (size_t)snprintf(sql + n, cap - n, ",?");
    n += (size_t)snprintf(sql + n, cap - n, ") ON CONFLICT(id) DO UPDATE SET ");
    for (int i = 0; i < ncols; i++) {
        const char *c = cols[i], *sep = i ? "," : "";
        switch (merge != NULL ? merge[i] : CT_MERGE_LATEST) {
        case CT_MERGE_LATEST:
            n += (size_t)snprintf(sql + n, cap - n, "%s%s=coalesce(excluded.%s,%s)", sep, c,
                                  c, c);
            break;
        case CT_MERGE_SUM:
            n += (size_t)snprintf(sql + n, cap - n,
                                  "%s%s=CASE WHEN excluded.%s IS NULL THEN %s "
                                  "ELSE coalesce(%s,0)+excluded.%s END",
                                  sep, c, c, c, c, c);
            break;
        case CT_MERGE_MAX:
            n += (size_t)snprintf(sql + n, cap - n,
                                  "%s%s=CASE WHEN excluded.%s IS NULL THEN %s "
                                  "ELSE max(coalesce(%s,0),excluded.%s) END",
                                  sep, c, c, c, c, c);
            break;
        }
        assert(n < cap);
    }
    return sql;
}

static int prepare_upsert(ct_store *s, sqlite3_stmt **st, const char *table,
                          const char *const *cols, const enum ct_col_merge *merge, int ncols)
{
    char *sql = upsert_sql(table, cols, merge, ncols);
    if (sql == NULL) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    int rc = prepare(s, st, sql);
    free(sql);
    return rc;
}

static int prepare_all(ct_store *s)
{
    static const char *const thread_cols[] = {"tid",      "parent_thread", "create_stack",
                                              "start_ns", "exit_ns",       "summarized"};
    static const char *const wait_cols[] = {"context_id", "thread", "stack", "how",
                                            "blocked_ns", "woken_ns", "result"};
    const char *ctx_cols[CT_CTX_NCOLS];
    enum ct_col_merge ctx_merge[CT_CTX_NCOLS];
    for (int c = 0; c < CT_CTX_NCOLS; c++) {
        ctx_cols[c] = ct_ctx_cols[c].name;
        ctx_merge[c] = ct_ctx_cols[c].merge;
    }
    if (prepare_upsert(s, &s->ctx_upsert, "contexts", ctx_cols, ctx_merge, CT_CTX_NCOLS) ||
        prepare_upsert(s, &s->thread_upsert, "threads", thread_cols, NULL, 6) ||
        prepare_upsert(s, &s->wait_upsert, "waits", wait_cols, NULL, 7))
        return -1;
    return prepare(s, &s->frame_insert,
                   "INSERT OR IGNORE INTO frames(id,ip,module,offset,build_id,function,file,"
                   "line,inlined,tail_call) VALUES(?,?,?,?,?,?,?,?,?,?)") ||
                   prepare(s, &s->stack_insert,
                           "INSERT OR IGNORE INTO stacks(id,depth) VALUES(?,?)") ||
                   prepare(s, &s->stack_frame_insert,
                           "INSERT OR IGNORE INTO stack_frames(stack_id,idx,frame_id) "
                           "VALUES(?,?,?)") ||
                   prepare(s, &s->sample_insert,
                           "INSERT OR REPLACE INTO samples(ts_ns,live_contexts,armed_timers,"
                           "blocked_waiters,threads,rss_bytes) VALUES(?,?,?,?,?,?)") ||
                   prepare(s, &s->meta_upsert,
                           "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)") ||
                   prepare(s, &s->ctx_delete, "DELETE FROM contexts WHERE id = ?") ||
                   prepare(s, &s->wait_delete, "DELETE FROM waits WHERE id = ?") ||
                   prepare(s, &s->summary_upsert,
                           "INSERT OR REPLACE INTO site_summary(create_stack,kind,contexts,"
                           "ended_explicit,ended_parent,ended_deadline,ended_never,life_hist,"
                           "life_max,origins,fanout_sum,fanout_max,wakeups,wake_hist,wake_max,"
                           "value_lookups,value_depth_sum,value_depth_max,root_derivations) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)") ||
                   prepare(s, &s->site_sample_insert,
                           "INSERT OR REPLACE INTO site_samples(ts_ns,create_stack,kind,live,"
                           "created) VALUES(?,?,?,?,?)")
               ? -1
               : 0;
}

ct_store *ct_store_create(const char *path, char *err, size_t errlen)
{
    ct_store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* Never write into an existing file: only into an empty one, a name the caller
     * claimed exclusively (ctxtrace/core/claim.h) so that two processes never share
     * one trace. */
    struct stat st;
    if (stat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_size != 0)) {
        snprintf(err, errlen, "%s: already exists", path);
        free(s);
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : "cannot open");
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    /* wal_autocheckpoint: the checkpoint runs inside the commit that crosses it, and the
     * writer drains nothing meanwhile: on the context-heavy loop here, 8192 pages took
     * 130-195 ms, 1024 pages 20-26 ms, 256 pages 7-8 ms (mostly the fsync). The rings'
     * pacing (preload/src/ring.c) absorbs a pause of that size in short waits; 256 pages
     * cost about 10% more wall time in full retention than 1024 (more, smaller
     * checkpoints), so 1024. */
    char *msg = NULL;
    if (sqlite3_exec(s->db, ct_schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db,
                     "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=1024;"
                     "INSERT INTO contexts(id,kind) VALUES(1,'background'),(2,'todo');",
                     NULL, NULL, &msg) != SQLITE_OK ||
        prepare_all(s) != 0) {
        snprintf(err, errlen, "%s: creating the schema: %s", path,
                 msg ? msg : s->err);
        sqlite3_free(msg);
        ct_store_close(s);
        return NULL;
    }
    ct_store_meta_int(s, "schema_version", CTXTRACE_SCHEMA_VERSION);
    ct_store_meta_int(s, "complete", 0);
    return s;
}

/* A finished trace is one file: out of WAL mode (which checkpoints the WAL into the
 * database), the -wal and -shm files go, and a reader opening the file later finds a
 * plain database and creates none either. WAL is only for the run, when readers
 * (sqlite3, tail's users, soak) must see the file while it is written. The switch needs
 * the file to itself: a reader still attached (an inspector, soak's progress between
 * two looks) gets a moment to let go, after which the trace stays in WAL mode — still a
 * complete, valid trace, with its companions beside it. */
static void leave_wal(ct_store *s)
{
    enum { SWITCH_WAIT_MS = 300 };
    sqlite3_busy_timeout(s->db, SWITCH_WAIT_MS);
    sqlite3_exec(s->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_busy_timeout(s->db, 0);
}

int ct_store_finish(ct_store *s)
{
    if (sqlite3_exec(s->db, ct_indexes_sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(s, "creating indexes");
    leave_wal(s);
    return 0;
}

void ct_store_close(ct_store *s)
{
    if (s == NULL)
        return;
    sqlite3_stmt *all[] = {s->ctx_upsert,         s->thread_upsert, s->wait_upsert,
                           s->frame_insert,       s->stack_insert,  s->stack_frame_insert,
                           s->sample_insert,      s->meta_upsert,   s->ctx_delete,
                           s->wait_delete,        s->summary_upsert, s->site_sample_insert};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        sqlite3_finalize(all[i]);
    sqlite3_close(s->db);
    free(s);
}

int ct_store_begin(ct_store *s)
{
    s->failed = false;
    return sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(s, "begin");
}

/* All or nothing: a transaction in which any statement failed (a full disk fails some
 * inserts and not others) is rolled back, never committed with holes in it. */
int ct_store_commit(ct_store *s)
{
    if (!s->failed && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    if (!s->failed)
        fail(s, "commit");
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

static int step(ct_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

/* Bind an integer where 0 means "unknown" (NULL). */
static void bind_known(sqlite3_stmt *st, int i, int64_t v)
{
    if (v != 0)
        sqlite3_bind_int64(st, i, v);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v != NULL)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

int ct_store_meta_text(ct_store *s, const char *key, const char *value)
{
    sqlite3_bind_text(s->meta_upsert, 1, key, -1, SQLITE_STATIC);
    bind_text(s->meta_upsert, 2, value);
    return step(s, s->meta_upsert, "meta");
}

int ct_store_meta_int(ct_store *s, const char *key, int64_t value)
{
    sqlite3_bind_text(s->meta_upsert, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->meta_upsert, 2, value);
    return step(s, s->meta_upsert, "meta");
}

static void bind_context(sqlite3_stmt *st, const struct ct_ctx_row *r)
{
    sqlite3_bind_int64(st, 1, r->id);
    for (int c = 0; c < CT_CTX_NCOLS; c++) {
        if (!((r->present >> c) & 1))
            continue;
        switch (ct_ctx_cols[c].type) {
        case CT_COL_KIND:
            sqlite3_bind_text(st, c + 2, ct_kind_name((int)r->v[c]), -1, SQLITE_STATIC);
            break;
        case CT_COL_WHY:
            sqlite3_bind_text(st, c + 2, ct_why_name((int)r->v[c]), -1, SQLITE_STATIC);
            break;
        case CT_COL_TEXT:
            bind_text(st, c + 2, r->reason);
            break;
        case CT_COL_INT:
            sqlite3_bind_int64(st, c + 2, r->v[c]);
            break;
        }
    }
}

int ct_store_context(ct_store *s, const struct ct_ctx_row *r)
{
    bind_context(s->ctx_upsert, r);
    return step(s, s->ctx_upsert, "contexts");
}

static int delete_id(ct_store *s, sqlite3_stmt *st, int64_t id, const char *what)
{
    sqlite3_bind_int64(st, 1, id);
    return step(s, st, what);
}

int ct_store_forget_context(ct_store *s, int64_t id)
{
    return delete_id(s, s->ctx_delete, id, "contexts");
}

int ct_store_forget_wait(ct_store *s, int64_t id)
{
    return delete_id(s, s->wait_delete, id, "waits");
}

int ct_store_site_summary(ct_store *s, const struct ct_site_summary *m)
{
    sqlite3_stmt *st = s->summary_upsert;
    char *life = ct_hist_format(&m->life), *wake = ct_hist_format(&m->wake);
    if (life == NULL || wake == NULL) {
        free(life);
        free(wake);
        snprintf(s->err, sizeof s->err, "out of memory");
        s->failed = true;
        return -1;
    }
    const int64_t v[] = {m->create_stack,   0,
                         m->contexts,       m->ended_explicit,
                         m->ended_parent,   m->ended_deadline,
                         m->ended_never,    0,
                         m->life_max,       m->origins,
                         m->fanout_sum,     m->fanout_max,
                         m->wakeups,        0,
                         m->wake_max,       m->value_lookups,
                         m->value_depth_sum, m->value_depth_max,
                         m->root_derivations};
    for (int i = 0; i < (int)(sizeof v / sizeof *v); i++)
        sqlite3_bind_int64(st, i + 1, v[i]);
    sqlite3_bind_text(st, 2, ct_kind_name(m->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, life, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 14, wake, -1, SQLITE_TRANSIENT);
    free(life);
    free(wake);
    return step(s, st, "site_summary");
}

int ct_store_site_sample(ct_store *s, int64_t ts, int64_t create_stack, int kind, int64_t live,
                         int64_t created)
{
    sqlite3_stmt *st = s->site_sample_insert;
    sqlite3_bind_int64(st, 1, ts);
    sqlite3_bind_int64(st, 2, create_stack);
    sqlite3_bind_text(st, 3, ct_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, live);
    sqlite3_bind_int64(st, 5, created);
    return step(s, st, "site_samples");
}

int ct_store_thread(ct_store *s, const struct ct_thread_row *r)
{
    sqlite3_stmt *st = s->thread_upsert;
    sqlite3_bind_int64(st, 1, r->id);
    bind_known(st, 2, r->tid);
    bind_known(st, 3, r->parent_thread);
    bind_known(st, 4, r->create_stack);
    bind_known(st, 5, r->start_ns);
    bind_known(st, 6, r->exit_ns);
    bind_known(st, 7, r->summarized);
    return step(s, st, "threads");
}

int ct_store_wait(ct_store *s, const struct ct_wait_row *r)
{
    sqlite3_stmt *st = s->wait_upsert;
    sqlite3_bind_int64(st, 1, r->id);
    if (r->blocked_ns != 0) {
        sqlite3_bind_int64(st, 2, r->context_id);
        bind_known(st, 3, r->thread);
        bind_known(st, 4, r->stack);
        sqlite3_bind_text(st, 5, r->is_fd ? "fd" : "wait", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, r->blocked_ns);
    }
    if (r->woken_ns != 0) {
        sqlite3_bind_int64(st, 7, r->woken_ns);
        sqlite3_bind_int(st, 8, r->result);
    }
    return step(s, st, "waits");
}

int ct_store_frame(ct_store *s, const struct ct_frame_row *r)
{
    sqlite3_stmt *st = s->frame_insert;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, r->ip);
    bind_text(st, 3, r->module);
    if (r->module != NULL)
        sqlite3_bind_int64(st, 4, r->offset);
    bind_text(st, 5, r->build_id);
    bind_text(st, 6, r->function);
    bind_text(st, 7, r->file);
    bind_known(st, 8, r->line);
    sqlite3_bind_int(st, 9, r->inlined);
    sqlite3_bind_int(st, 10, r->tail_call);
    return step(s, st, "frames");
}

int ct_store_stack(ct_store *s, int64_t id, int depth, const int64_t *frame_ids)
{
    sqlite3_bind_int64(s->stack_insert, 1, id);
    sqlite3_bind_int(s->stack_insert, 2, depth);
    if (step(s, s->stack_insert, "stacks") != 0)
        return -1;
    if (sqlite3_changes(s->db) == 0)
        return 0; /* already stored */
    for (int i = 0; i < depth; i++) {
        sqlite3_bind_int64(s->stack_frame_insert, 1, id);
        sqlite3_bind_int(s->stack_frame_insert, 2, i);
        sqlite3_bind_int64(s->stack_frame_insert, 3, frame_ids[i]);
        if (step(s, s->stack_frame_insert, "stack_frames") != 0)
            return -1;
    }
    return 0;
}

int ct_store_sample(ct_store *s, const struct ct_sample_row *r)
{
    sqlite3_stmt *st = s->sample_insert;
    sqlite3_bind_int64(st, 1, r->ts_ns);
    sqlite3_bind_int64(st, 2, r->live_contexts);
    sqlite3_bind_int64(st, 3, r->armed_timers);
    sqlite3_bind_int64(st, 4, r->blocked_waiters);
    sqlite3_bind_int64(st, 5, r->threads);
    sqlite3_bind_int64(st, 6, r->rss_bytes);
    return step(s, st, "samples");
}

/* ---- the exit check's rows (issue 11): few (one per thread), so prepared per call ---- */

static int exec_row(ct_store *s, const char *sql, const int64_t *v, const bool *known,
                    int n, const char *text, int text_at, const char *what)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(s, what);
    for (int i = 0; i < n; i++)
        if (known[i])
            sqlite3_bind_int64(st, i + 1, v[i]);
    if (text != NULL)
        sqlite3_bind_text(st, text_at, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(s, what);
}

enum ct_exit_state ct_exit_state_of(char st)
{
    return st == 'R'                ? CT_EXIT_RUNNING
           : st == 'T' || st == 't' ? CT_EXIT_STOPPED
           : st == 'Z' || st == 'X' ? CT_EXIT_EXITING
                                    : CT_EXIT_BLOCKED;
}

int ct_store_exit_thread(ct_store *s, const struct ct_exit_thread_row *r)
{
    static const char *const states[] = {"running", "blocked", "stopped", "exiting"};
    assert(r->state >= 0 && r->state < (int)(sizeof states / sizeof *states));
    int64_t v[] = {r->thread, r->tid, 0, r->syscall_nr, r->stopped, r->stack};
    bool known[] = {r->thread != 0, true, false, r->syscall_nr >= 0, true, r->stack != 0};
    return exec_row(s,
                    "INSERT INTO exit_threads(thread,tid,state,syscall,stopped,stack) "
                    "VALUES(?,?,?,?,?,?)",
                    v, known, 6, states[r->state], 3, "exit_threads");
}

int ct_store_thread_context(ct_store *s, int64_t thread, int64_t context_id, const char *how)
{
    int64_t v[] = {thread, context_id};
    bool known[] = {true, true};
    return exec_row(s,
                    "INSERT OR IGNORE INTO thread_contexts(thread,context_id,how) "
                    "VALUES(?,?,?)",
                    v, known, 2, how, 3, "thread_contexts");
}

int ct_store_exit_reach(ct_store *s, const struct ct_exit_reach_row *rows, size_t n)
{
    static const char *const names[] = {"unreachable", "reachable", "stuck"};
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO exit_reach(context_id,reach) VALUES(?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(s, "exit_reach");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        assert(rows[i].reach >= 0 && rows[i].reach < 3);
        sqlite3_bind_int64(st, 1, rows[i].context_id);
        sqlite3_bind_text(st, 2, names[rows[i].reach], -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail(s, "exit_reach");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}
