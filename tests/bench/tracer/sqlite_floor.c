/*
 * sqlite_floor.c — the floor under the tracer's writer in full retention: what SQLite
 * itself costs per context row on this machine, printed beside the writer's cost by
 * run.sh (docs/tracer-benchmarks.md).
 *
 *   sqlite_floor [ROWS]
 *
 * Writes ROWS (default 200000) rows for contexts that lived a whole clean life (created,
 * cancelled, released, freed: the columns a request's context has), in transactions of
 * 1000 rows (a writer pass at that rate), into a fresh file in $TMPDIR, three ways:
 *
 *   bare_insert_ns   a plain INSERT of those 14 columns into a table with an integer
 *                    primary key, prepared once, WAL, synchronous=NORMAL — the least a
 *                    row per context can cost;
 *   store_row_ns     the same rows through the trace core's store (ct_store_context:
 *                    the trace's UPSERT, every column, its schema) — what the writer
 *                    pays per row;
 *   summary_ns       the same contexts folded into their site (ct_site_summary_add), the
 *                    aggregate written once per transaction — what summary retention
 *                    pays per clean context.
 *
 * Output: one "key value" per line.
 */
#include <ctxtrace/core/store.h>
#include <ctxtrace/core/summary.h>
#include <ctxtrace/tracer.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BATCH = 1000 };

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "sqlite_floor: %s: %s\n", what, why);
    exit(2);
}

/* A clean context's row: created, its deadline timer armed and stopped, cancelled
 * explicitly, released, freed. */
static void clean_row(struct ct_ctx_row *r, int64_t id)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    int64_t t = 1000000 + id * 1000;
    ct_ctx_set(r, CT_PARENT_ID, 3);
    ct_ctx_set(r, CT_KIND, CTX_KIND_DEADLINE);
    ct_ctx_set(r, CT_CREATED_NS, t);
    ct_ctx_set(r, CT_CREATE_THREAD, 1);
    ct_ctx_set(r, CT_CREATE_STACK, 0x1234567);
    ct_ctx_set(r, CT_REQUESTED_DEADLINE_NS, t + 5000000000);
    ct_ctx_set(r, CT_DEADLINE_NS, t + 5000000000);
    ct_ctx_set(r, CT_TIMER_ARMED_NS, t + 10);
    ct_ctx_set(r, CT_TIMER_STOPPED_NS, t + 600);
    ct_ctx_set(r, CT_CANCELED_NS, t + 590);
    ct_ctx_set(r, CT_CANCEL_WHY, CTX_WHY_EXPLICIT);
    ct_ctx_set(r, CT_CANCEL_ERR, 125);
    ct_ctx_set(r, CT_CANCEL_THREAD, 1);
    ct_ctx_set(r, CT_CANCEL_ORIGIN_NS, t + 590);
    ct_ctx_set(r, CT_RELEASED_NS, t + 600);
    ct_ctx_set(r, CT_RELEASED_LIVE, 0);
    ct_ctx_set(r, CT_RELEASE_THREAD, 1);
    ct_ctx_set(r, CT_FREED_NS, t + 610);
}

static double bare(const char *path, long rows)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(path, sqlite3_errmsg(db));
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE c(id INTEGER PRIMARY KEY, parent_id, kind, created_ns,"
                 "create_thread, create_stack, deadline_ns, timer_armed_ns, timer_stopped_ns,"
                 "canceled_ns, cancel_why, released_ns, released_live, freed_ns)",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO c VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1, &st,
                           NULL) != SQLITE_OK)
        die("prepare", sqlite3_errmsg(db));
    int64_t t0 = now_ns();
    for (long i = 0; i < rows; i++) {
        if (i % BATCH == 0)
            sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        int64_t t = 1000000 + i * 1000;
        sqlite3_bind_int64(st, 1, i + 3);
        sqlite3_bind_int64(st, 2, 3);
        sqlite3_bind_text(st, 3, "deadline", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, t);
        sqlite3_bind_int64(st, 5, 1);
        sqlite3_bind_int64(st, 6, 0x1234567);
        sqlite3_bind_int64(st, 7, t + 5000000000);
        sqlite3_bind_int64(st, 8, t + 10);
        sqlite3_bind_int64(st, 9, t + 600);
        sqlite3_bind_int64(st, 10, t + 590);
        sqlite3_bind_text(st, 11, "explicit", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 12, t + 600);
        sqlite3_bind_int64(st, 13, 0);
        sqlite3_bind_int64(st, 14, t + 610);
        if (sqlite3_step(st) != SQLITE_DONE)
            die("insert", sqlite3_errmsg(db));
        sqlite3_reset(st);
        if (i % BATCH == BATCH - 1 || i == rows - 1)
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double ns = (double)(now_ns() - t0) / (double)rows;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ns;
}

static ct_store *store_at(const char *path)
{
    char err[512];
    ct_store *s = ct_store_create(path, err, sizeof err);
    if (s == NULL)
        die(path, err);
    return s;
}

static double store_rows(const char *path, long rows)
{
    ct_store *s = store_at(path);
    struct ct_ctx_row r;
    int64_t t0 = now_ns();
    for (long i = 0; i < rows; i++) {
        if (i % BATCH == 0)
            ct_store_begin(s);
        clean_row(&r, i + 3);
        if (ct_store_context(s, &r) != 0)
            die("ct_store_context", ct_store_error(s));
        if ((i % BATCH == BATCH - 1 || i == rows - 1) && ct_store_commit(s) != 0)
            die("commit", ct_store_error(s));
    }
    double ns = (double)(now_ns() - t0) / (double)rows;
    ct_store_close(s);
    return ns;
}

static double summary(const char *path, long rows)
{
    ct_store *s = store_at(path);
    struct ct_site_summary *sum = calloc(1, sizeof *sum);
    if (sum == NULL)
        die("summary", "out of memory");
    sum->create_stack = 0x1234567;
    sum->kind = CTX_KIND_DEADLINE;
    struct ct_ctx_row r;
    int64_t t0 = now_ns();
    for (long i = 0; i < rows; i++) {
        if (i % BATCH == 0)
            ct_store_begin(s);
        clean_row(&r, i + 3);
        ct_site_summary_add(sum, &r, 0);
        if (i % BATCH == BATCH - 1 || i == rows - 1) {
            if (ct_store_site_summary(s, sum) != 0 || ct_store_commit(s) != 0)
                die("site_summary", ct_store_error(s));
        }
    }
    double ns = (double)(now_ns() - t0) / (double)rows;
    free(sum);
    ct_store_close(s);
    return ns;
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? atol(argv[1]) : 200000;
    if (rows <= 0)
        die("ROWS", "must be a positive number");
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sqlite_floor.XXXXXX", tmp);
    if (mkdtemp(dir) == NULL)
        die(dir, "cannot create");
    char a[4200], b[4200], c[4200];
    snprintf(a, sizeof a, "%s/bare.db", dir);
    snprintf(b, sizeof b, "%s/store.db", dir);
    snprintf(c, sizeof c, "%s/summary.db", dir);
    printf("rows %ld\n", rows);
    printf("bare_insert_ns %.0f\n", bare(a, rows));
    printf("store_row_ns %.0f\n", store_rows(b, rows));
    printf("summary_ns %.0f\n", summary(c, rows));
    const char *files[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        char x[4300];
        unlink(files[i]);
        snprintf(x, sizeof x, "%s-wal", files[i]);
        unlink(x);
        snprintf(x, sizeof x, "%s-shm", files[i]);
        unlink(x);
    }
    rmdir(dir);
    return 0;
}
