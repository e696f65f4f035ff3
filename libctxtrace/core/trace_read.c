/*
 * trace_read.c — opening a trace file for reading, with a clear one-line reason for
 * everything that is not a readable trace of this schema version; and loading stacks
 * with the runtime's and the shim's own frames removed.
 */
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/store.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trace_mem.h"

sqlite3 *ct_trace_open(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return NULL;
    }
    /* SQLite would happily "open" anything and fail later; check the header first. */
    FILE *f = fopen(path, "rb");
    char header[16] = {0};
    size_t n = f ? fread(header, 1, sizeof header, f) : 0;
    if (f != NULL)
        fclose(f);
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (n < sizeof header || memcmp(header, "SQLite format 3", 16) != 0) {
        snprintf(err, errlen, "%s: not a SQLite database (so not a ctxtrace trace)", path);
        return NULL;
    }

    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000); /* the writer may be checkpointing */
    sqlite3_stmt *st_meta = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                                &st_meta, NULL);
    if (rc != SQLITE_OK) {
        const char *msg = sqlite3_errmsg(db);
        if (strstr(msg, "no such table") != NULL)
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

int64_t ct_stack_site(sqlite3 *db, int64_t id)
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
        if (ct_is_own_module((const char *)sqlite3_column_text(st, 1)))
            continue;
        site = sqlite3_column_int64(st, 0);
        break;
    }
    sqlite3_finalize(st);
    return site;
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
