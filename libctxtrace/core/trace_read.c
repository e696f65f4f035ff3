/*
 * trace_read.c — opening a trace file for reading — read-only, never writing a byte
 * beside it — with a clear one-line reason for everything that is not a readable
 * trace of this schema version; telling a trace from other files; and loading stacks
 * with the runtime's and the shim's own frames removed.
 */
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/claim.h>
#include <ctxtrace/core/store.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace_mem.h"

/* "file:" URI for `path` (SQLite decodes %XX; '?', '#' and '%' must not appear raw). */
static bool file_uri(const char *path, const char *query, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0' && n + 4 < len; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x21 || *p > 0x7e)
            n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
        else
            buf[n++] = (char)*p;
    }
    return (size_t)snprintf(buf + n, len - n, "?%s", query) < len - n;
}

static bool companion_exists(const char *path, const char *suffix)
{
    char side[PATH_MAX + 8];
    struct stat st;
    return (size_t)snprintf(side, sizeof side, "%s%s", path, suffix) < sizeof side &&
           lstat(side, &st) == 0;
}

/* Open without ever writing: nothing is created beside the file, and read-only
 * directories and media work.
 * - A "-wal" and its "-shm" beside it: a live writer, or one that was killed. Plain
 *   read-only shares the writer's wal-index and creates nothing, as both files exist
 *   (SQLite reads a read-only -shm on read-only media too).
 * - No "-wal": the file is closed (a finished writer checkpoints and removes its WAL;
 *   a live one always has one), so it is opened immutable: no locks, no -shm, no -wal.
 * - A "-wal" alone (copied without its -shm, or the -shm removed): nobody writes it,
 *   but SQLite could only read the WAL by creating a -shm, which reading must never
 *   do — and a read-only medium does not allow. It is opened immutable too: what the
 *   main file holds (the last checkpoint), without the WAL's later transactions. */
static sqlite3 *open_read_only(const char *path, char *err, size_t errlen)
{
    bool shared = companion_exists(path, "-wal") && companion_exists(path, "-shm");
    char uri[3 * PATH_MAX + 32];
    if (!file_uri(path, shared ? "mode=ro" : "mode=ro&immutable=1", uri, sizeof uri)) {
        snprintf(err, errlen, "%s: path too long", path);
        return NULL;
    }
    sqlite3 *db = NULL;
    /* NOMUTEX: a reader belongs to one thread at a time (reader.h), so SQLite's lock on
     * every call is pure cost — ~8% of `report` on a 10M-context trace. */
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* The file's first bytes say SQLite; 0, or -1 with the reason in err. */
static int check_header(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    /* SQLite would happily "open" anything and fail later; check the header first. */
    FILE *f = fopen(path, "rb");
    char header[16] = {0};
    size_t n = f ? fread(header, 1, sizeof header, f) : 0;
    if (f != NULL)
        fclose(f);
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (n < sizeof header || memcmp(header, "SQLite format 3", 16) != 0) {
        snprintf(err, errlen, "%s: not a SQLite database (so not a ctxtrace trace)", path);
        return -1;
    }
    return 0;
}

enum ct_file_kind ct_trace_probe(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? CT_FILE_ABSENT : CT_FILE_OTHER;
    char err[64];
    if (!S_ISREG(st.st_mode) || check_header(path, err, sizeof err) != 0)
        return CT_FILE_OTHER;
    sqlite3 *db = open_read_only(path, err, sizeof err);
    sqlite3_stmt *q = NULL;
    bool trace = db != NULL &&
                 sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key = 'schema_version'", -1,
                                    &q, NULL) == SQLITE_OK &&
                 sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return trace ? CT_FILE_TRACE : CT_FILE_OTHER;
}

sqlite3 *ct_trace_open(const char *path, char *err, size_t errlen)
{
    if (check_header(path, err, errlen) != 0)
        return NULL;
    sqlite3 *db = open_read_only(path, err, errlen);
    if (db == NULL)
        return NULL;
    sqlite3_busy_timeout(db, 2000); /* the writer may be checkpointing */
    sqlite3_stmt *st_meta = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                                &st_meta, NULL);
    if (rc != SQLITE_OK) {
        const char *msg = sqlite3_errmsg(db);
        if (strstr(msg, "no such table") != NULL && companion_exists(path, "-wal") &&
            !companion_exists(path, "-shm"))
            snprintf(err, errlen, "%s: its contents are in %s-wal, which cannot be read "
                     "without creating a %s-shm beside it, and reading never writes: copy "
                     "the -shm along with it", path, path, path);
        else if (strstr(msg, "no such table") != NULL)
            snprintf(err, errlen, "%s: a SQLite database, but not a ctxtrace trace (no meta table)",
                     path);
        else
            snprintf(err, errlen, "%s: unreadable trace: %s", path, msg);
        sqlite3_close(db);
        return NULL;
    }
    rc = sqlite3_step(st_meta);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            snprintf(err, errlen, "%s: not a ctxtrace trace (no schema_version in meta)", path);
        else
            snprintf(err, errlen, "%s: unreadable trace: %s", path, sqlite3_errmsg(db));
        sqlite3_finalize(st_meta);
        sqlite3_close(db);
        return NULL;
    }
    long long version = sqlite3_column_int64(st_meta, 0);
    sqlite3_finalize(st_meta);
    if (version != CTXTRACE_SCHEMA_VERSION) {
        snprintf(err, errlen, "%s: trace schema version %lld; this ctxtrace reads version %d "
                 "(use the ctxtrace that wrote it)", path, version, CTXTRACE_SCHEMA_VERSION);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static char *dup_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

/* The runtime's and the shim's frames are how a context was made, not where. */
bool ct_is_own_module(const char *module)
{
    if (module == NULL)
        return false;
    const char *base = strrchr(module, '/');
    base = base ? base + 1 : module;
    return strncmp(base, "libctxtrace.so", 14) == 0 ||
           strncmp(base, "libctxtrace_preload.so", 22) == 0;
}

int64_t ct_stack_site_skipping(sqlite3 *db, int64_t id, bool (*skip)(const char *module))
{
    int64_t site = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT sf.frame_id, f.module FROM stack_frames sf "
                           "JOIN frames f ON f.id = sf.frame_id WHERE sf.stack_id = ? "
                           "ORDER BY sf.idx",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (skip((const char *)sqlite3_column_text(st, 1)))
            continue;
        site = sqlite3_column_int64(st, 0);
        break;
    }
    sqlite3_finalize(st);
    return site;
}

int64_t ct_stack_site(sqlite3 *db, int64_t id)
{
    return ct_stack_site_skipping(db, id, ct_is_own_module);
}

int ct_load_stack(sqlite3 *db, int64_t id, struct ct_stack *out)
{
    memset(out, 0, sizeof *out);
    if (id == 0)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT f.function, f.file, f.line, f.module, f.inlined, f.tail_call "
                           "FROM stack_frames sf "
                           "JOIN frames f ON f.id = sf.frame_id WHERE sf.stack_id = ? "
                           "ORDER BY sf.idx",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *module = (const char *)sqlite3_column_text(st, 3);
        /* Skip the leading runtime/shim frames only: a callback from inside the runtime
         * further out (after_func) is still the application's frame. */
        if (out->depth == 0 && ct_is_own_module(module))
            continue;
        if (out->depth == cap) {
            cap = cap ? cap * 2 : 16;
            struct ct_frame *grown = realloc(out->frames, (size_t)cap * sizeof *grown);
            if (grown == NULL)
                break;
            out->frames = grown;
        }
        struct ct_frame *fr = &out->frames[out->depth++];
        fr->function = dup_text(st, 0);
        fr->file = dup_text(st, 1);
        fr->line = sqlite3_column_int(st, 2);
        fr->module = dup_text(st, 3);
        fr->inlined = sqlite3_column_int(st, 4) != 0;
        fr->tail_call = sqlite3_column_int(st, 5) != 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

void ct_stack_free(struct ct_stack *s)
{
    for (int i = 0; i < s->depth; i++) {
        free(s->frames[i].function);
        free(s->frames[i].file);
        free(s->frames[i].module);
    }
    free(s->frames);
    memset(s, 0, sizeof *s);
}
