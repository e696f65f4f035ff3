/*
 * reader.c — the trace reader (see reader.h): every query a tool makes of a trace file.
 *
 * Rows are read with the column list of columns.h and decoded by column type, so the
 * reader cannot disagree with the writer about a column. A context's state in a filter
 * is the verdict itself, registered as the SQL function ct_state(): a filter by state
 * selects exactly what the tree shows and what the rules count.
 *
 * Ordering: creation time, then id. A context whose creation the trace did not see (it
 * was made before the tracer attached) has no created_ns and sorts first, as time 0;
 * the secondary indexes are on that same expression (indexes.sql), so keyset paging is
 * an index range scan on a complete trace. A trace without them (cut short) is read
 * without ever writing beside it: children from a temporary table of the connection's
 * own (build_kids), flat lists and whole walks by two passes in id order (the walk).
 */
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/summary.h>
#include <ctxtrace/core/u64map.h>
#include <assert.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "rule_exit.h"
#include "trace_mem.h"

/* The sort key of a context, exactly as indexes.sql spells it. */
#define CREATED "ifnull(created_ns,0)"

struct ct_reader {
    sqlite3 *db;
    char *path;
    char err[512];
    bool complete;
    int indexed;               /* -1: not looked yet */
    char select[1024];         /* "id, <every column of ct_ctx_cols>" */
    sqlite3_stmt *by_id, *n_kids, *parent_of;
    struct u64map site_of;     /* stack -> site frame id + 1 */
    struct u64map reach;       /* the exit check's verdicts (rule_exit.c) */
    bool reach_checked;        /* the check ran: undecided contexts are reachable */
    bool end_in_flight;        /* ct_end_in_flight of the trace's meta */
    bool kids_built;           /* no indexes: temp.ct_kids made (build_kids) */
    sqlite3_stmt *kids_count, *kids_page;
    int created_indexed;       /* contexts_created exists; -1: not looked yet */
    struct walk *paged;        /* no contexts_created: the flat list being paged */
};

static void drop_paged(ct_reader *r);
static long list_walking(ct_reader *r, const struct ct_query *q, struct ct_cursor after,
                         size_t skip, struct ct_ctx_row *rows, size_t max);
static long list_sql(ct_reader *r, const struct ct_query *q, struct ct_cursor after,
                     size_t skip, struct ct_ctx_row *rows, size_t max);

static int fail(ct_reader *r, const char *what)
{
    snprintf(r->err, sizeof r->err, "%s: %s", what, sqlite3_errmsg(r->db));
    return -1;
}

const char *ct_reader_path(const ct_reader *r)
{
    return r->path;
}

const char *ct_reader_error(const ct_reader *r)
{
    return r->err;
}

sqlite3 *ct_reader_db(ct_reader *r)
{
    return r->db;
}

/* ---- rows ------------------------------------------------------------------------------ */

/* Decode a row of the columns `cols` lists (result column k + 1 is cols[k]). Integers
 * are read as integers: only names and the reason are text. */
static void decode_row(sqlite3_stmt *st, const enum ct_ctx_col *cols, int ncols,
                       struct ct_ctx_row *row)
{
    memset(row, 0, sizeof *row);
    row->id = sqlite3_column_int64(st, 0);
    for (int k = 0; k < ncols; k++) {
        enum ct_ctx_col c = cols[k];
        if (sqlite3_column_type(st, k + 1) == SQLITE_NULL)
            continue;
        switch (ct_ctx_cols[c].type) {
        case CT_COL_KIND:
            ct_ctx_set(row, c, ct_kind_from_name((const char *)sqlite3_column_text(st, k + 1)));
            break;
        case CT_COL_WHY:
            ct_ctx_set(row, c, ct_why_from_name((const char *)sqlite3_column_text(st, k + 1)));
            break;
        case CT_COL_TEXT: {
            const char *text = (const char *)sqlite3_column_text(st, k + 1);
            row->reason = text != NULL ? strdup(text) : NULL;
            row->present |= 1u << c;
            break;
        }
        case CT_COL_INT:
            ct_ctx_set(row, c, sqlite3_column_int64(st, k + 1));
            break;
        }
    }
}

static const enum ct_ctx_col every_col[CT_CTX_NCOLS] = {
    CT_PARENT_ID,        CT_KIND,           CT_CREATED_NS,      CT_CREATE_THREAD,
    CT_CREATE_STACK,     CT_REQUESTED_DEADLINE_NS, CT_DEADLINE_NS, CT_TIMER_ARMED_NS,
    CT_TIMER_STOPPED_NS, CT_TIMER_FIRED_NS, CT_CANCELED_NS,     CT_CANCEL_WHY,
    CT_CANCEL_ERR,       CT_CANCEL_CAUSE,   CT_CANCEL_REASON,   CT_CANCEL_THREAD,
    CT_CANCEL_STACK,     CT_CANCEL_ORIGIN_NS, CT_RELEASED_NS,   CT_RELEASED_LIVE,
    CT_RELEASE_THREAD,   CT_RELEASE_STACK,  CT_FREED_NS,        CT_VALUE_LOOKUPS,
    CT_VALUE_DEPTH_SUM,  CT_VALUE_DEPTH_MAX,
};

static void read_row(sqlite3_stmt *st, struct ct_ctx_row *row)
{
    decode_row(st, every_col, CT_CTX_NCOLS, row);
}

void ct_ctx_row_clear(struct ct_ctx_row *row)
{
    free(row->reason);
    memset(row, 0, sizeof *row);
}

struct ct_verdict ct_reader_verdict(ct_reader *r, const struct ct_ctx_row *row)
{
    struct ct_facts f;
    ct_facts_from_row(row, r->complete, exit_reach_lookup(&r->reach, r->reach_checked, row->id),
                      &f);
    f.end_in_flight = r->end_in_flight;
    return ct_judge(&f);
}

/* ct_state(id, kind, canceled_ns, cancel_why, cancel_origin_ns, released_ns,
 * released_live, timer_armed_ns): the verdict's state, for filters. */
static void sql_state(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    static const enum ct_ctx_col cols[] = {CT_KIND,          CT_CANCELED_NS,  CT_CANCEL_WHY,
                                           CT_CANCEL_ORIGIN_NS, CT_RELEASED_NS, CT_RELEASED_LIVE,
                                           CT_TIMER_ARMED_NS};
    ct_reader *r = sqlite3_user_data(cx);
    struct ct_ctx_row row = {.id = sqlite3_value_int64(argv[0])};
    for (int i = 1; i < argc && i - 1 < (int)(sizeof cols / sizeof *cols); i++) {
        if (sqlite3_value_type(argv[i]) == SQLITE_NULL)
            continue;
        enum ct_ctx_col c = cols[i - 1];
        const char *text = (const char *)sqlite3_value_text(argv[i]);
        int64_t v = c == CT_KIND        ? ct_kind_from_name(text)
                    : c == CT_CANCEL_WHY ? ct_why_from_name(text)
                                         : sqlite3_value_int64(argv[i]);
        ct_ctx_set(&row, c, v);
    }
    sqlite3_result_int(cx, (int)ct_reader_verdict(r, &row).state);
}
#define STATE_CALL                                                                          \
    "ct_state(id, kind, canceled_ns, cancel_why, cancel_origin_ns, released_ns, "           \
    "released_live, timer_armed_ns)"

/* ---- opening --------------------------------------------------------------------------- */

ct_reader *ct_reader_open(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = ct_trace_open(path, err, errlen);
    if (db == NULL)
        return NULL;
    ct_reader *r = calloc(1, sizeof *r);
    if (r == NULL || (r->path = strdup(path)) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(r);
        sqlite3_close(db);
        return NULL;
    }
    r->db = db;
    r->indexed = -1;
    r->created_indexed = -1;
    size_t n = (size_t)snprintf(r->select, sizeof r->select, "id");
    for (int c = 0; c < CT_CTX_NCOLS; c++)
        n += (size_t)snprintf(r->select + n, sizeof r->select - n, ", %s", ct_ctx_cols[c].name);
    char sql[1400];
    snprintf(sql, sizeof sql, "SELECT %s FROM contexts WHERE id = ?", r->select);
    if (n >= sizeof r->select ||
        sqlite3_create_function(db, "ct_state", 8, SQLITE_UTF8 | SQLITE_DETERMINISTIC, r,
                                sql_state, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &r->by_id, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT count(*) FROM contexts WHERE parent_id = ?", -1,
                           SQLITE_PREPARE_PERSISTENT, &r->n_kids, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT parent_id FROM contexts WHERE id = ?", -1,
                           SQLITE_PREPARE_PERSISTENT, &r->parent_of, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: unreadable trace: %s", path, sqlite3_errmsg(db));
        ct_reader_close(r);
        return NULL;
    }
    r->complete = ct_reader_meta_int(r, "complete", 0) == 1;
    char *exit_reason = ct_reader_meta_text(r, "exit_reason");
    r->end_in_flight =
        ct_end_in_flight(exit_reason, ct_reader_meta_int(r, "events_after_cut", 0));
    free(exit_reason);
    if (exit_reach_read(db, &r->reach, &r->reach_checked, err, errlen) != 0) {
        ct_reader_close(r);
        return NULL;
    }
    return r;
}

void ct_reader_close(ct_reader *r)
{
    if (r == NULL)
        return;
    sqlite3_finalize(r->by_id);
    sqlite3_finalize(r->n_kids);
    sqlite3_finalize(r->kids_count);
    sqlite3_finalize(r->kids_page);
    sqlite3_finalize(r->parent_of);
    sqlite3_close(r->db);
    u64map_free(&r->site_of);
    u64map_free(&r->reach);
    drop_paged(r);
    free(r->path);
    free(r);
}

/* A damaged file can still answer the analysis's queries (the damage in a table it does
 * not read, or in rows it skips) and give a wrong report: callers that judge check the
 * b-trees first (quick_check: linear in the file's size, without the index checks). */
int ct_reader_check(ct_reader *r, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "PRAGMA quick_check(4)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: unreadable trace: %s", r->path, sqlite3_errmsg(r->db));
        return -1;
    }
    int rc, result = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(st, 0);
        if (line != NULL && strncmp(line, "***", 3) == 0) /* "*** in database main ***\n" */
            line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL;
        if (line == NULL || *line == '\0' || strcmp(line, "ok") == 0)
            continue;
        int n = (int)strcspn(line, "\n"); /* one line */
        snprintf(err, errlen, "%s: corrupt trace (%.*s); `sqlite3 %s .recover` may salvage it",
                 r->path, n, line, r->path);
        result = -1;
        break;
    }
    if (result == 0 && rc != SQLITE_DONE) {
        snprintf(err, errlen, "%s: unreadable trace: %s", r->path, sqlite3_errmsg(r->db));
        result = -1;
    }
    sqlite3_finalize(st);
    return result;
}

/* ---- meta ------------------------------------------------------------------------------ */

int64_t ct_reader_meta_int(ct_reader *r, const char *key, int64_t def)
{
    return trace_meta_int(r->db, key, def);
}

char *ct_reader_meta_text(ct_reader *r, const char *key)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(r->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static int64_t query_int(ct_reader *r, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int ct_reader_meta(ct_reader *r, struct ct_meta *m)
{
    memset(m, 0, sizeof *m);
    sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL); /* one snapshot for all of it */
    m->program = ct_reader_meta_text(r, "program");
    m->argv = ct_reader_meta_text(r, "argv");
    m->exit_reason = ct_reader_meta_text(r, "exit_reason");
    m->pid = ct_reader_meta_int(r, "pid", 0);
    m->ppid = ct_reader_meta_int(r, "ppid", 0);
    m->start_ns = ct_reader_meta_int(r, "start_ns", 0);
    m->start_realtime = ct_reader_meta_int(r, "start_realtime", 0);
    m->stack_depth = ct_reader_meta_int(r, "stack_depth", 0);
    m->complete = ct_reader_meta_int(r, "complete", 0) == 1;
    m->events = ct_reader_meta_int(r, "events", 0);
    m->events_dropped = ct_reader_meta_int(r, "events_dropped", 0);
    m->contexts = query_int(r, "SELECT count(*) FROM contexts WHERE id > 2");
    char *keep = ct_reader_meta_text(r, "retention");
    m->retention = ct_keep_from_name(keep) == CT_KEEP_SUMMARY ? CT_KEEP_SUMMARY : CT_KEEP_FULL;
    free(keep);
    /* From the aggregates themselves: committed with every batch, so right for a killed
     * process's trace too (meta.contexts_summarized is written at the end only). */
    m->summarized = query_int(r, "SELECT ifnull(sum(contexts), 0) FROM site_summary");
    /* The end: a clean exit's end_ns, else the latest time the file recorded. */
    m->end_ns = ct_reader_meta_int(r, "end_ns", 0);
    if (m->end_ns == 0) {
        int64_t a = query_int(r, "SELECT max(ts_ns) FROM samples");
        int64_t b = query_int(r, "SELECT max(max(ifnull(created_ns,0)), max(ifnull(canceled_ns,0)), "
                                 "max(ifnull(released_ns,0)), max(ifnull(freed_ns,0))) FROM contexts");
        m->end_ns = a > b ? a : b;
    }
    sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    r->complete = m->complete;
    return 0;
}

void ct_meta_free(struct ct_meta *m)
{
    free(m->program);
    free(m->argv);
    free(m->exit_reason);
    memset(m, 0, sizeof *m);
}

/* ---- contexts --------------------------------------------------------------------------- */

int ct_reader_context(ct_reader *r, int64_t id, struct ct_ctx_row *row)
{
    sqlite3_reset(r->by_id);
    sqlite3_bind_int64(r->by_id, 1, id);
    int rc = sqlite3_step(r->by_id);
    if (rc == SQLITE_ROW) {
        read_row(r->by_id, row);
        return 1;
    }
    memset(row, 0, sizeof *row);
    return rc == SQLITE_DONE ? 0 : fail(r, "reading a context");
}

bool ct_reader_has_indexes(ct_reader *r)
{
    if (r->indexed < 0)
        r->indexed = query_int(r, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                  "AND name = 'contexts_parent'") > 0;
    return r->indexed == 1;
}

/* No indexes (a trace cut short): the parent -> children order the index would give,
 * made once by one scan into a temporary table of the reader's own connection — SQLite's
 * temp database, a file in the temporary directory (SQLITE_TMPDIR, TMPDIR, /var/tmp,
 * /tmp) deleted when the reader closes, never beside the trace — sorted by SQLite's
 * external sort on the way in: memory is SQLite's page cache and sorter, not 24 bytes a
 * context; the disk, ~20 bytes a context in the temporary directory. */
static int build_kids(ct_reader *r)
{
    if (r->kids_built)
        return 0;
    if (sqlite3_exec(r->db,
                     "CREATE TEMP TABLE IF NOT EXISTS ct_kids(parent INTEGER, created INTEGER, "
                     "id INTEGER, PRIMARY KEY (parent, created, id)) WITHOUT ROWID; "
                     "DELETE FROM temp.ct_kids; "
                     "INSERT INTO temp.ct_kids SELECT ifnull(parent_id, 0), " CREATED ", id "
                     "FROM main.contexts ORDER BY 1, 2, 3",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(r->db, "SELECT count(*) FROM temp.ct_kids WHERE parent = ?1", -1,
                           SQLITE_PREPARE_PERSISTENT, &r->kids_count, NULL) != SQLITE_OK ||
        /* The keyset spelled as list_sql's, for the same reason: a SEARCH. */
        sqlite3_prepare_v3(r->db,
                           "SELECT id FROM temp.ct_kids WHERE parent = ?1 AND created >= ?2 "
                           "AND (created > ?2 OR id > ?3) ORDER BY created, id "
                           "LIMIT ?4 OFFSET ?5",
                           -1, SQLITE_PREPARE_PERSISTENT, &r->kids_page, NULL) != SQLITE_OK) {
        fail(r, "reading the tree");
        sqlite3_finalize(r->kids_count);
        r->kids_count = NULL;
        return -1;
    }
    r->kids_built = true;
    return 0;
}

static bool by_kids(ct_reader *r, const struct ct_query *q)
{
    return !q->flat && !ct_reader_has_indexes(r);
}

int64_t ct_reader_n_children(ct_reader *r, int64_t id)
{
    if (!ct_reader_has_indexes(r)) {
        if (build_kids(r) != 0)
            return -1;
        sqlite3_reset(r->kids_count);
        sqlite3_bind_int64(r->kids_count, 1, id);
        if (sqlite3_step(r->kids_count) != SQLITE_ROW)
            return fail(r, "counting children");
        return sqlite3_column_int64(r->kids_count, 0);
    }
    sqlite3_reset(r->n_kids);
    sqlite3_bind_int64(r->n_kids, 1, id);
    if (sqlite3_step(r->n_kids) != SQLITE_ROW)
        return fail(r, "counting children");
    return sqlite3_column_int64(r->n_kids, 0);
}

/* The WHERE condition of q. Parameters: ?1 parent, ?2 kind name, ?3 state, ?4 id. Stack
 * and flagged id lists are written in as integers. NULL when out of memory. */
static char *condition(const struct ct_query *q)
{
    size_t cap = 256 + 24 * (q->nstacks + q->nflagged);
    char *w = malloc(cap);
    if (w == NULL)
        return NULL;
    if (!q->flat) {
        snprintf(w, cap, q->parent ? "parent_id = ?1" : "parent_id IS NULL");
        return w;
    }
    size_t n = (size_t)snprintf(w, cap, "id > 2");
    if (q->kind >= 0)
        n += (size_t)snprintf(w + n, cap - n, " AND kind = ?2");
    if (q->state >= 0)
        n += (size_t)snprintf(w + n, cap - n, " AND " STATE_CALL " = ?3");
    if (q->id != 0)
        n += (size_t)snprintf(w + n, cap - n, " AND id = ?4");
    if (q->stacks != NULL) {
        n += (size_t)snprintf(w + n, cap - n, " AND create_stack IN (");
        for (size_t i = 0; i < q->nstacks; i++)
            n += (size_t)snprintf(w + n, cap - n, "%s%lld", i ? "," : "", (long long)q->stacks[i]);
        n += (size_t)snprintf(w + n, cap - n, ")");
    }
    if (q->problems) {
        n += (size_t)snprintf(w + n, cap - n, " AND (" STATE_CALL " = %d OR id IN (",
                              CT_STATE_LEAKED);
        for (size_t i = 0; i < q->nflagged; i++)
            n += (size_t)snprintf(w + n, cap - n, "%s%lld", i ? "," : "", (long long)q->flagged[i]);
        n += (size_t)snprintf(w + n, cap - n, "))");
    }
    return w;
}

static void bind_query(sqlite3_stmt *st, const struct ct_query *q)
{
    if (!q->flat && q->parent)
        sqlite3_bind_int64(st, 1, q->parent);
    if (q->flat && q->kind >= 0)
        sqlite3_bind_text(st, 2, ct_kind_name(q->kind), -1, SQLITE_STATIC);
    if (q->flat && q->state >= 0)
        sqlite3_bind_int(st, 3, q->state);
    if (q->flat && q->id != 0)
        sqlite3_bind_int64(st, 4, q->id);
}

int64_t ct_reader_count(ct_reader *r, const struct ct_query *q)
{
    if (by_kids(r, q))
        return ct_reader_n_children(r, q->parent);
    char *cond = condition(q);
    if (cond == NULL)
        return -1;
    size_t len = strlen(cond) + 64;
    char *sql = malloc(len);
    if (sql == NULL) {
        free(cond);
        return -1;
    }
    snprintf(sql, len, "SELECT count(*) FROM contexts WHERE %s", cond);
    free(cond);
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) == SQLITE_OK) {
        bind_query(st, q);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        else
            fail(r, "counting contexts");
        sqlite3_finalize(st);
    } else {
        fail(r, "counting contexts");
    }
    free(sql);
    return n;
}

static long list_by_kids(ct_reader *r, int64_t parent, struct ct_cursor after, size_t skip,
                        struct ct_ctx_row *rows, size_t max)
{
    if (build_kids(r) != 0)
        return -1;
    sqlite3_stmt *st = r->kids_page;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, parent);
    sqlite3_bind_int64(st, 2, after.created);
    sqlite3_bind_int64(st, 3, after.id);
    sqlite3_bind_int64(st, 4, (int64_t)max);
    sqlite3_bind_int64(st, 5, (int64_t)skip);
    long got = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int found = ct_reader_context(r, sqlite3_column_int64(st, 0), &rows[got]);
        if (found < 0)
            break;
        got += found;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        while (got > 0)
            ct_ctx_row_clear(&rows[--got]);
        return rc == SQLITE_ROW ? -1 : fail(r, "listing children");
    }
    return got;
}

/* Does the file have the index on creation time (indexes.sql)? */
static bool created_indexed(ct_reader *r)
{
    if (r->created_indexed < 0)
        r->created_indexed = query_int(r, "SELECT count(*) FROM sqlite_master WHERE type = "
                                          "'index' AND name = 'contexts_created'") > 0;
    return r->created_indexed == 1;
}

long ct_reader_list(ct_reader *r, const struct ct_query *q, struct ct_cursor after,
                    size_t skip, struct ct_ctx_row *rows, size_t max)
{
    if (by_kids(r, q))
        return list_by_kids(r, q->parent, after, skip, rows, max);
    if (q->flat && !created_indexed(r))
        return list_walking(r, q, after, skip, rows, max);
    return list_sql(r, q, after, skip, rows, max);
}

/* A page by SQL: an index range scan (or, for a jump into a flat list without the
 * index on creation time, one scan and a bounded sort). */
static long list_sql(ct_reader *r, const struct ct_query *q, struct ct_cursor after,
                     size_t skip, struct ct_ctx_row *rows, size_t max)
{
    char *cond = condition(q);
    if (cond == NULL)
        return -1;
    size_t len = strlen(cond) + strlen(r->select) + 256;
    char *sql = malloc(len);
    if (sql == NULL) {
        free(cond);
        return -1;
    }
    /* The keyset as a range on the index's key and a tie-break: SQLite 3.40 seeks an
     * index with "CREATED >= ?" but only scans it for the row value (CREATED, id) > (?, ?)
     * — which made page k cost k pages (EXPLAIN QUERY PLAN: SCAN vs SEARCH). */
    snprintf(sql, len,
             "SELECT %s FROM contexts WHERE %s AND " CREATED " >= ?5 AND (" CREATED " > ?5 OR id > ?6) "
             "ORDER BY " CREATED ", id LIMIT ?7 OFFSET ?8",
             r->select, cond);
    free(cond);
    sqlite3_stmt *st;
    long got = -1;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) == SQLITE_OK) {
        bind_query(st, q);
        sqlite3_bind_int64(st, 5, after.created);
        sqlite3_bind_int64(st, 6, after.id);
        sqlite3_bind_int64(st, 7, (int64_t)max);
        sqlite3_bind_int64(st, 8, (int64_t)skip);
        int rc;
        got = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            read_row(st, &rows[got++]);
        if (rc != SQLITE_DONE) {
            while (got > 0)
                ct_ctx_row_clear(&rows[--got]);
            got = fail(r, "listing contexts");
        }
        sqlite3_finalize(st);
    } else {
        fail(r, "listing contexts");
    }
    free(sql);
    return got;
}

long ct_reader_scan(ct_reader *r, uint32_t mask,
                    bool (*fn)(void *arg, const struct ct_ctx_row *row), void *arg)
{
    enum ct_ctx_col cols[CT_CTX_NCOLS];
    int n = 0;
    char sql[1400];
    size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT id");
    for (int c = 0; c < CT_CTX_NCOLS; c++)
        if (mask == 0 || (mask >> c) & 1) {
            cols[n++] = (enum ct_ctx_col)c;
            len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s", ct_ctx_cols[c].name);
        }
    snprintf(sql + len, sizeof sql - len, " FROM contexts WHERE id > 2");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return fail(r, "reading contexts");
    long seen = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct ct_ctx_row row;
        decode_row(st, cols, n, &row);
        seen++;
        bool more = fn(arg, &row);
        free(row.reason);
        if (!more) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? seen : fail(r, "reading contexts");
}

/* ---- contexts in creation order, in one pass ------------------------------------------ */

/* Rows per block of a walk's first pass: rows are held up to a block longer than they
 * must be, and a 10M-context trace needs ~10,000 blocks (80 KB). */
enum { WALK_BLOCK = 1024 };

/* A walk over the contexts of a flat query in creation order (ct_reader_walk): what it
 * holds between its two passes and while it reorders — and, suspended between two pages
 * of ct_reader_list, where it stands. */
struct walk {
    char *cond;              /* the query's WHERE condition, with its parameters in q */
    struct ct_query q;       /* kind, state and id (lists are written into cond) */
    int64_t version;         /* PRAGMA data_version when made: the file it read */
    int64_t *after;          /* per block of rows in id order: the least creation time
                                (> 0) in it and every later block; INT64_MAX: none */
    size_t nblocks, n;       /* blocks; rows the first pass saw */
    struct ct_cursor *early; /* rows created at time <= 0 (not seen: sort first) */
    size_t nearly, capearly, next_early;
    struct ct_ctx_row *slots; /* rows read but not yet handed over */
    size_t nslots, capslots;
    size_t *spare;           /* free slots */
    size_t nspare;
    struct heap held;        /* (creation time, id, slot) of the rows in slots */
    size_t pos;              /* rows the second pass read, */
    int64_t last_id;         /* the last of them (0: none) */
    bool done;               /* the second pass reached the end */
    struct ct_cursor at;     /* the last row handed over ({0, 0}: none yet) */
};

static int cmp_cursor(const void *a, const void *b)
{
    const struct ct_cursor *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int64_t data_version(ct_reader *r)
{
    return query_int(r, "PRAGMA data_version");
}

static void walk_clear(struct walk *w)
{
    while (w->held.n > 0)
        ct_ctx_row_clear(&w->slots[heap_pop(&w->held).a]);
    heap_free(&w->held);
    free(w->slots);
    free(w->spare);
    free(w->after);
    free(w->early);
    free(w->cond);
    memset(w, 0, sizeof *w);
}

/* Make the walk of flat query q (whose condition is cond, now the walk's) and its first
 * pass: per-block least creation times (then made cumulative from the end), and the rows
 * whose creation was not seen. Inside a read transaction. 0 or -1. */
static int walk_open(ct_reader *r, struct walk *w, const struct ct_query *q, char *cond)
{
    assert(q->flat);
    memset(w, 0, sizeof *w);
    w->cond = cond;
    w->q = (struct ct_query){.flat = true, .kind = q->kind, .state = q->state, .id = q->id};
    size_t len = strlen(cond) + 128;
    char *sql = malloc(len);
    if (sql == NULL) {
        snprintf(r->err, sizeof r->err, "reading contexts: out of memory");
        return -1;
    }
    snprintf(sql, len, "SELECT id, " CREATED " FROM contexts WHERE %s ORDER BY id", cond);
    sqlite3_stmt *st;
    int prepared = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
    free(sql);
    if (prepared != SQLITE_OK)
        return fail(r, "reading contexts");
    bind_query(st, &w->q);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), created = sqlite3_column_int64(st, 1);
        if (w->n % WALK_BLOCK == 0) {
            if (w->nblocks == cap) {
                cap = cap ? 2 * cap : 64;
                int64_t *grown = realloc(w->after, cap * sizeof *grown);
                if (grown == NULL)
                    break;
                w->after = grown;
            }
            w->after[w->nblocks++] = INT64_MAX;
        }
        w->n++;
        if (created > 0) {
            if (created < w->after[w->nblocks - 1])
                w->after[w->nblocks - 1] = created;
            continue;
        }
        if (w->nearly == w->capearly) {
            size_t c = w->capearly ? 2 * w->capearly : 64;
            struct ct_cursor *grown = realloc(w->early, c * sizeof *grown);
            if (grown == NULL)
                break;
            w->early = grown;
            w->capearly = c;
        }
        w->early[w->nearly++] = (struct ct_cursor){created, id};
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) {
        snprintf(r->err, sizeof r->err, "reading contexts: out of memory");
        return -1;
    }
    if (rc != SQLITE_DONE)
        return fail(r, "reading contexts");
    for (size_t b = w->nblocks; b-- > 1;)
        if (w->after[b] < w->after[b - 1])
            w->after[b - 1] = w->after[b];
    if (w->nearly > 0) /* none: early is NULL, which qsort must not be given */
        qsort(w->early, w->nearly, sizeof *w->early, cmp_cursor);
    w->version = data_version(r);
    return 0;
}

/* No row after the first `pos` in id order was created before this time. */
static int64_t walk_horizon(const struct walk *w, size_t pos)
{
    if (pos > w->n)
        return INT64_MIN; /* more rows than the first pass saw: promise nothing */
    return pos == w->n ? INT64_MAX : w->after[pos / WALK_BLOCK];
}

/* A slot for the next row read; SIZE_MAX when out of memory. */
static size_t walk_slot(struct walk *w)
{
    if (w->nspare > 0)
        return w->spare[--w->nspare];
    if (w->nslots == w->capslots) {
        size_t cap = w->capslots ? 2 * w->capslots : 64;
        struct ct_ctx_row *grown = realloc(w->slots, cap * sizeof *grown);
        if (grown == NULL)
            return SIZE_MAX;
        w->slots = grown;
        size_t *spare = realloc(w->spare, cap * sizeof *spare); /* room for every slot */
        if (spare == NULL)
            return SIZE_MAX;
        w->spare = spare;
        w->capslots = cap;
    }
    return w->nslots++;
}

typedef bool walk_fn(void *arg, const struct ct_ctx_row *row);

/* Hand fn the held rows created at `horizon` or before, in order. Ties go by id, and
 * every row still to come has a greater one. False when fn said stop. */
static bool walk_release(struct walk *w, int64_t horizon, walk_fn *fn, void *arg)
{
    while (w->held.n > 0 && heap_top(&w->held)->ts <= horizon) {
        size_t slot = (size_t)heap_pop(&w->held).a;
        w->at = ct_cursor_of(&w->slots[slot]);
        bool more = fn(arg, &w->slots[slot]);
        ct_ctx_row_clear(&w->slots[slot]);
        w->spare[w->nspare++] = slot;
        if (!more)
            return false;
    }
    return true;
}

/* Go on with the walk until fn says stop (1) or every row was handed over (0); -1 on a
 * read error. Inside the read transaction of walk_open's. */
static int walk_run(ct_reader *r, struct walk *w, walk_fn *fn, void *arg)
{
    /* Those whose creation the trace did not see sort first, as time 0 (or less). */
    while (w->next_early < w->nearly) {
        struct ct_ctx_row row;
        int rc = ct_reader_context(r, w->early[w->next_early++].id, &row);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        w->at = ct_cursor_of(&row);
        bool more = fn(arg, &row);
        ct_ctx_row_clear(&row);
        if (!more)
            return 1;
    }
    if (!walk_release(w, walk_horizon(w, w->pos), fn, arg))
        return 1;
    if (!w->done) {
        size_t len = strlen(w->cond) + strlen(r->select) + 128;
        char *sql = malloc(len);
        if (sql == NULL) {
            snprintf(r->err, sizeof r->err, "reading contexts: out of memory");
            return -1;
        }
        /* Resumed by rowid: "id > ?9" must be the only bound on id, or SQLite 3.40 seeks
         * by the condition's own "id > 2" and filters (a scan from the start per page). */
        static const char roots[] = "id > 2";
        assert(strncmp(w->cond, roots, strlen(roots)) == 0);
        snprintf(sql, len, "SELECT %s FROM contexts WHERE id > ?9%s ORDER BY id", r->select,
                 w->cond + strlen(roots));
        sqlite3_stmt *st;
        int prepared = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
        free(sql);
        if (prepared != SQLITE_OK)
            return fail(r, "reading contexts");
        bind_query(st, &w->q);
        sqlite3_bind_int64(st, 9, w->last_id > 2 ? w->last_id : 2);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            size_t slot = walk_slot(w);
            if (slot == SIZE_MAX) {
                sqlite3_finalize(st);
                snprintf(r->err, sizeof r->err, "reading contexts: out of memory");
                return -1;
            }
            struct ct_ctx_row *row = &w->slots[slot];
            read_row(st, row);
            w->pos++;
            w->last_id = row->id;
            int64_t created = ct_ctx_get(row, CT_CREATED_NS, 0);
            if (created <= 0) { /* handed over first */
                ct_ctx_row_clear(row);
                w->spare[w->nspare++] = slot;
                continue;
            }
            if (!heap_push(&w->held, (struct heap_item){created, row->id, (int64_t)slot, 0,
                                                        false})) {
                ct_ctx_row_clear(row);
                w->spare[w->nspare++] = slot;
                sqlite3_finalize(st);
                snprintf(r->err, sizeof r->err, "reading contexts: out of memory");
                return -1;
            }
            if (!walk_release(w, walk_horizon(w, w->pos), fn, arg)) {
                sqlite3_finalize(st);
                return 1;
            }
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return fail(r, "reading contexts");
        w->done = true;
    }
    /* Held past the end only when the file grew after the first pass. */
    return walk_release(w, INT64_MAX, fn, arg) ? 0 : 1;
}

/* The caller's fn, counting the rows it was handed. */
struct walk_count {
    walk_fn *fn;
    void *arg;
    long n;
};

static bool walk_counted(void *arg, const struct ct_ctx_row *row)
{
    struct walk_count *c = arg;
    c->n++;
    return c->fn(c->arg, row);
}

long ct_reader_walk(ct_reader *r, walk_fn *fn, void *arg)
{
    const struct ct_query all = {.flat = true, .kind = -1, .state = -1};
    char *cond = condition(&all);
    if (cond == NULL) {
        snprintf(r->err, sizeof r->err, "reading contexts: out of memory");
        return -1;
    }
    /* One snapshot for both passes: the horizon holds only for the rows it was made of. */
    bool own = sqlite3_get_autocommit(r->db);
    if (own && sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        free(cond);
        return fail(r, "reading contexts");
    }
    struct walk w;
    long handed = -1;
    if (walk_open(r, &w, &all, cond) == 0) {
        struct walk_count c = {fn, arg, 0};
        if (walk_run(r, &w, walk_counted, &c) >= 0)
            handed = c.n;
    }
    walk_clear(&w);
    if (own)
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    return handed;
}

static void drop_paged(ct_reader *r)
{
    if (r->paged != NULL)
        walk_clear(r->paged);
    free(r->paged);
    r->paged = NULL;
}

/* A page being filled from a walk: `skip` rows dropped, then up to `max` copied. */
struct page {
    struct ct_ctx_row *rows;
    size_t max, skip, got;
    bool oom;
};

static bool page_take(void *arg, const struct ct_ctx_row *row)
{
    struct page *p = arg;
    if (p->skip > 0) {
        p->skip--;
        return true;
    }
    struct ct_ctx_row *out = &p->rows[p->got];
    *out = *row;
    if (row->reason != NULL && (out->reason = strdup(row->reason)) == NULL) {
        p->oom = true;
        return false;
    }
    return ++p->got < p->max;
}

/* A flat list without the index on creation time, paged from a walk that the reader
 * keeps between calls: the next page of a list (`after` the last row of the previous
 * one, same query, same file) goes on where that walk stopped, so paging through the
 * whole list costs two passes over the file, not a scan and a sort per page. The first
 * page of a list starts a walk; a jump elsewhere, or a file that changed meanwhile (a
 * running process's trace: PRAGMA data_version), is a query of its own (list_sql). */
static long list_walking(ct_reader *r, const struct ct_query *q, struct ct_cursor after,
                         size_t skip, struct ct_ctx_row *rows, size_t max)
{
    if (max == 0)
        return 0;
    char *cond = condition(q);
    if (cond == NULL) {
        snprintf(r->err, sizeof r->err, "listing contexts: out of memory");
        return -1;
    }
    bool own = sqlite3_get_autocommit(r->db);
    if (own && sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        free(cond);
        return fail(r, "listing contexts");
    }
    struct walk *w = r->paged;
    bool start = after.created == 0 && after.id == 0;
    bool resume = w != NULL && strcmp(w->cond, cond) == 0 && w->q.kind == q->kind &&
                  w->q.state == q->state && w->q.id == q->id &&
                  w->at.created == after.created && w->at.id == after.id &&
                  w->version == data_version(r);
    long got = -1;
    if (resume) {
        free(cond);
    } else {
        drop_paged(r);
        if (!start) {
            free(cond);
            if (own)
                sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
            return list_sql(r, q, after, skip, rows, max);
        }
        if ((w = malloc(sizeof *w)) == NULL) {
            free(cond);
            snprintf(r->err, sizeof r->err, "listing contexts: out of memory");
            goto out;
        }
        if (walk_open(r, w, q, cond) != 0) {
            walk_clear(w);
            free(w);
            goto out;
        }
        r->paged = w;
    }
    struct page p = {rows, max, skip, 0, false};
    int rc = walk_run(r, w, page_take, &p);
    if (rc < 0 || p.oom) {
        if (p.oom)
            snprintf(r->err, sizeof r->err, "listing contexts: out of memory");
        while (p.got > 0)
            ct_ctx_row_clear(&rows[--p.got]);
        drop_paged(r);
    } else {
        got = (long)p.got;
    }
out:
    if (own)
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    return got;
}

long ct_reader_ancestry(ct_reader *r, int64_t id, int64_t **ids)
{
    size_t n = 0, cap = 16;
    int64_t *chain = malloc(cap * sizeof *chain);
    if (chain == NULL)
        return -1;
    /* Bounded: a corrupt file (a cycle) must not loop forever. */
    for (int64_t cur = id; cur != 0 && n < 100000000;) {
        sqlite3_reset(r->parent_of);
        sqlite3_bind_int64(r->parent_of, 1, cur);
        int rc = sqlite3_step(r->parent_of);
        if (rc != SQLITE_ROW) {
            free(chain);
            *ids = NULL;
            return rc == SQLITE_DONE ? 0 : fail(r, "reading ancestors");
        }
        if (n == cap) {
            int64_t *grown = realloc(chain, 2 * cap * sizeof *grown);
            if (grown == NULL) {
                free(chain);
                return -1;
            }
            chain = grown;
            cap *= 2;
        }
        chain[n++] = cur;
        cur = sqlite3_column_int64(r->parent_of, 0);
    }
    for (size_t i = 0; i < n / 2; i++) { /* outermost first */
        int64_t t = chain[i];
        chain[i] = chain[n - 1 - i];
        chain[n - 1 - i] = t;
    }
    *ids = chain;
    return (long)n;
}

/* ---- stacks ----------------------------------------------------------------------------- */

static long collect(ct_reader *r, sqlite3_stmt *st, const char *what, size_t size,
                    void **out, void (*decode)(sqlite3_stmt *st, void *elem));

static void decode_id(sqlite3_stmt *st, void *elem)
{
    *(int64_t *)elem = sqlite3_column_int64(st, 0);
}

long ct_reader_stack_ids(ct_reader *r, int64_t **ids)
{
    *ids = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, "SELECT id FROM stacks", -1, &st, NULL) != SQLITE_OK)
        return fail(r, "reading stacks");
    return collect(r, st, "reading stacks", sizeof **ids, (void **)ids, decode_id);
}

int ct_reader_stack(ct_reader *r, int64_t id, struct ct_stack *out)
{
    return ct_load_stack(r->db, id, out) == 0 ? 0 : fail(r, "reading a stack");
}

int64_t ct_reader_stack_site(ct_reader *r, int64_t id)
{
    if (id == 0)
        return 0;
    uint64_t v;
    if (u64map_get(&r->site_of, (uint64_t)id, &v))
        return (int64_t)v - 1;
    int64_t site = ct_stack_site(r->db, id);
    u64map_put(&r->site_of, (uint64_t)id, (uint64_t)site + 1);
    return site;
}

/* ---- samples and lifetimes --------------------------------------------------------------- */

/* Step a prepared query to its end, decoding each row into a growing array of `size`
 * bytes an element (*out, malloc'd). Finalizes st. Returns the count, or -1 with the
 * reader's error saying `what` failed. */
static long collect(ct_reader *r, sqlite3_stmt *st, const char *what, size_t size,
                    void **out, void (*decode)(sqlite3_stmt *st, void *elem))
{
    *out = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            void *grown = realloc(*out, cap * size);
            if (grown == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            *out = grown;
        }
        decode(st, (char *)*out + n++ * size);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return (long)n;
    free(*out);
    *out = NULL;
    if (rc == SQLITE_NOMEM) {
        snprintf(r->err, sizeof r->err, "%s: out of memory", what);
        return -1;
    }
    return fail(r, what);
}

static void decode_sample(sqlite3_stmt *st, void *elem)
{
    *(struct ct_sample_row *)elem = (struct ct_sample_row){
        sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
        sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5)};
}

long ct_reader_samples(ct_reader *r, int64_t from_ns, int64_t to_ns, struct ct_sample_row **out)
{
    *out = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT ts_ns, live_contexts, armed_timers, blocked_waiters, "
                           "threads, rss_bytes FROM samples "
                           "WHERE ts_ns >= ?1 AND ts_ns < ?2 ORDER BY ts_ns",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(r, "reading samples");
    sqlite3_bind_int64(st, 1, from_ns);
    sqlite3_bind_int64(st, 2, to_ns);
    return collect(r, st, "reading samples", sizeof **out, (void **)out, decode_sample);
}

static void decode_life(sqlite3_stmt *st, void *elem)
{
    *(struct ct_life *)elem = (struct ct_life){
        sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
        sqlite3_column_type(st, 2) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 2)};
}

long ct_reader_lives(ct_reader *r, enum ct_life_kind kind, int64_t from_ns, int64_t to_ns,
                     struct ct_life **out)
{
    static const char *const sql[] = {
        [CT_LIFE_CONTEXT] = "SELECT create_stack, created_ns, freed_ns FROM contexts "
                            "WHERE id > 2 AND create_stack IS NOT NULL AND created_ns < ?2 "
                            "AND (freed_ns IS NULL OR freed_ns > ?1)",
        [CT_LIFE_WAIT] = "SELECT stack, blocked_ns, woken_ns FROM waits "
                         "WHERE how = 'wait' AND stack IS NOT NULL AND blocked_ns < ?2 "
                         "AND (woken_ns IS NULL OR woken_ns > ?1)",
        [CT_LIFE_THREAD] = "SELECT create_stack, start_ns, exit_ns FROM threads "
                           "WHERE create_stack IS NOT NULL AND start_ns < ?2 "
                           "AND (exit_ns IS NULL OR exit_ns > ?1)",
    };
    *out = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql[kind], -1, &st, NULL) != SQLITE_OK)
        return fail(r, "reading sites");
    sqlite3_bind_int64(st, 1, from_ns);
    sqlite3_bind_int64(st, 2, to_ns);
    return collect(r, st, "reading sites", sizeof **out, (void **)out, decode_life);
}

static void decode_site_sample(sqlite3_stmt *st, void *elem)
{
    *(struct ct_site_sample *)elem = (struct ct_site_sample){
        sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
        ct_kind_from_name((const char *)sqlite3_column_text(st, 2)), sqlite3_column_int64(st, 3),
        sqlite3_column_int64(st, 4)};
}

long ct_reader_site_samples(ct_reader *r, int64_t to_ns, struct ct_site_sample **out)
{
    *out = NULL;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT ts_ns, create_stack, kind, live, created FROM site_samples "
                           "WHERE ts_ns < ?1 ORDER BY create_stack, kind, ts_ns",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(r, "reading site samples");
    sqlite3_bind_int64(st, 1, to_ns);
    return collect(r, st, "reading site samples", sizeof **out, (void **)out,
                   decode_site_sample);
}

long ct_reader_site_summaries(ct_reader *r, struct ct_site_summary **out)
{
    *out = NULL;
    struct trace t;
    char err[256];
    /* trace_mem reads the aggregates with the rows; only they are wanted here. */
    memset(&t, 0, sizeof t);
    t.db = r->db;
    if (trace_summaries_load(&t, err, sizeof err) != 0) {
        snprintf(r->err, sizeof r->err, "%s", err);
        return -1;
    }
    *out = t.sums;
    return (long)t.nsums;
}
