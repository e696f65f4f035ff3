/*
 * rule_exit.c — the rules on the exit check's facts (docs/rules.md "The exit check").
 *
 * leaked-thread: the goroutine leak. A thread the program created (through
 * pthread_create: it has a creation stack and a parent thread), suspended by the check
 * while blocked, whose every context — handed to it at creation (thread_contexts),
 * waited on or polled (waits), or derived from (the parents of contexts it created) —
 * was done well before the check: it missed its cancellation and will never finish.
 * "Well before": GRACE_NS, so a thread woken by a cancel an instant before exit, and on
 * its way out, is not called leaked. A context the trace does not know counts as not
 * done (a miss, never a false alarm).
 */
#include "rule_exit.h"

#include <ctxtrace/core/u64map.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int64_t GRACE_NS = 100 * 1000000LL;

/* Is this module the C library, the loader, the compiler runtime or a sanitizer? A
 * thread blocked in one of those is blocked where the application called it. */
static bool is_system_module(const char *module)
{
    static const char *const prefixes[] = {"libc.so",   "libc-",      "libpthread",
                                           "ld-linux",  "ld-",        "libm.so",
                                           "librt",     "libdl",      "libgcc_s",
                                           "libstdc++", "linux-vdso", "libasan",
                                           "libtsan",   "libubsan"};
    if (module == NULL)
        return false;
    const char *base = strrchr(module, '/');
    base = base ? base + 1 : module;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

int exit_app_frame(const struct ct_stack *s)
{
    for (int i = 0; i < s->depth; i++)
        if (!is_system_module(s->frames[i].module))
            return i;
    return 0;
}

static bool not_application(const char *module)
{
    return ct_is_own_module(module) || is_system_module(module);
}

/* The frame id of a stack's innermost application frame (0: none). */
static int64_t app_site(sqlite3 *db, int64_t stack)
{
    return ct_stack_site_skipping(db, stack, not_application);
}

/* A created thread found by the check, and what is known of its contexts. */
struct cand {
    int64_t thread, stack, create_stack;
    bool stopped;      /* suspended by the check */
    bool judgeable;    /* stopped while blocked, with a stack */
    long contexts;     /* seen with this many (with repeats) */
    bool all_done;     /* every one of them done GRACE_NS before the check */
    int64_t last_end;  /* when the last of them became done */
    int64_t missed;    /* the context reported: handed, else the last to end */
    int64_t missed_stack; /* its creation stack */
    bool missed_handed;
};

/* One tie of a candidate thread to a context: `known` when the trace has the context,
 * with its cancellation time and creation stack. */
static void fold(struct cand *c, int64_t ctx, bool known, int64_t canceled,
                 int64_t create_stack, bool handed, int64_t check_ns)
{
    c->contexts++;
    if (!known || canceled == 0 || canceled > check_ns - GRACE_NS) {
        c->all_done = false;
        return;
    }
    if (canceled > c->last_end)
        c->last_end = canceled;
    if (handed && !c->missed_handed) {
        c->missed = ctx;
        c->missed_stack = create_stack;
        c->missed_handed = true;
    } else if (!c->missed_handed && canceled >= c->last_end) {
        c->missed = ctx;
        c->missed_stack = create_stack;
    }
}

static bool push(struct exit_matches *m, struct exit_match x)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct exit_match *grown = realloc(m->items, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        m->items = grown;
        m->cap = cap;
    }
    m->items[m->n++] = x;
    return true;
}

int rule_leaked_thread(struct trace *t, struct exit_matches *out)
{
    int64_t check_ns = trace_meta_int(t->db, "exit_check_ns", 0);
    if (check_ns == 0)
        return 0; /* no exit check, or abandoned: nothing to judge */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT e.thread, e.stack, th.create_stack, "
                           "e.stopped = 1 AND e.state = 'blocked' AND e.stack IS NOT NULL, "
                           "e.stopped = 1, ifnull(th.summarized, 0) "
                           "FROM exit_threads e JOIN threads th ON th.id = e.thread "
                           "WHERE th.parent_thread IS NOT NULL AND th.create_stack IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    struct cand *cands = NULL;
    size_t n = 0, cap = 0;
    struct u64map index = {0}; /* thread id -> cands index */
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct cand *grown = realloc(cands, cap * sizeof *grown);
            if (grown == NULL) {
                rc = -1;
                break;
            }
            cands = grown;
        }
        cands[n] = (struct cand){.thread = sqlite3_column_int64(st, 0),
                                 .stack = sqlite3_column_int64(st, 1),
                                 .create_stack = sqlite3_column_int64(st, 2),
                                 .judgeable = sqlite3_column_int(st, 3) != 0,
                                 .stopped = sqlite3_column_int(st, 4) != 0,
                                 /* Some of its ties were folded by summary retention:
                                  * not seen whole, not judged (a miss, never a false
                                  * alarm). */
                                 .all_done = sqlite3_column_int64(st, 5) == 0};
        if (!u64map_put(&index, (uint64_t)cands[n].thread, n))
            rc = -1;
        n++;
    }
    sqlite3_finalize(st);

    /* Every context each thread was handed (1), waited on or polled, or derived from,
     * with what the trace knows of it (the contexts are never all in memory: each tie
     * looks its context up by key). Only the threads the check found can be candidates. */
    if (rc == 0 && n > 0 &&
        sqlite3_prepare_v2(
            t->db,
            "SELECT x.thread, x.context_id, 1, c.id IS NOT NULL, c.canceled_ns, c.create_stack "
            "FROM thread_contexts x LEFT JOIN contexts c ON c.id = x.context_id AND c.id > 2 "
            "WHERE x.thread IN (SELECT thread FROM exit_threads) "
            "UNION ALL SELECT x.thread, x.context_id, 0, c.id IS NOT NULL, c.canceled_ns, "
            "c.create_stack FROM waits x LEFT JOIN contexts c ON c.id = x.context_id AND c.id > 2 "
            "WHERE x.thread IS NOT NULL AND x.context_id IS NOT NULL "
            "AND x.thread IN (SELECT thread FROM exit_threads) "
            "UNION ALL SELECT x.create_thread, x.parent_id, 0, c.id IS NOT NULL, c.canceled_ns, "
            "c.create_stack FROM contexts x LEFT JOIN contexts c ON c.id = x.parent_id "
            "AND c.id > 2 WHERE x.create_thread IS NOT NULL AND x.parent_id IS NOT NULL "
            "AND x.create_thread IN (SELECT thread FROM exit_threads)",
            -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            uint64_t i;
            if (u64map_get(&index, (uint64_t)sqlite3_column_int64(st, 0), &i))
                fold(&cands[i], sqlite3_column_int64(st, 1), sqlite3_column_int(st, 3) != 0,
                     sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                     sqlite3_column_int(st, 2), check_ns);
        }
        sqlite3_finalize(st);
    } else if (rc == 0 && n > 0) {
        rc = -1;
    }

    for (size_t i = 0; i < n && rc == 0; i++) {
        struct cand *c = &cands[i];
        if (c->contexts == 0) {
            /* Never seen with a context: not judged. Counted only if the check could
             * stop it — the runtime's own threads block every signal, and are not the
             * program's. */
            out->threads_unjudged += c->stopped;
            continue;
        }
        if (!c->judgeable || !c->all_done)
            continue;
        struct exit_match x = {CT_RULE_LEAKED_THREAD, app_site(t->db, c->stack), c->missed,
                               c->stack, c->create_stack, c->missed_stack,
                               check_ns - c->last_end};
        if (!push(out, x))
            rc = -1;
    }
    free(cands);
    u64map_free(&index);
    return rc;
}

/* Stored values in t->exit_reach (0 is "absent" in a u64map). */
enum { STORED_UNREACHABLE = 1, STORED_REACHABLE, STORED_STUCK };

int exit_reach_read(sqlite3 *db, struct u64map *into, bool *checked, char *err,
                    size_t errlen)
{
    /* Did the check run (and say something about reachability)? Then a context it left
     * undecided — the scan could not finish, could not walk the heap — is reachable:
     * when in doubt, reachable (a miss, never a false alarm). */
    sqlite3_stmt *st;
    *checked = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM meta WHERE key = 'exit_check_reach'", -1, &st,
                           NULL) == SQLITE_OK) {
        *checked = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    /* A trace of schema 2 has the table; whether it has rows depends on the check. */
    if (sqlite3_prepare_v2(db, "SELECT context_id, reach FROM exit_reach", -1, &st, NULL) !=
        SQLITE_OK)
        return 0; /* a trace without the table: nothing known */
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 1);
        uint64_t v = r == NULL                         ? 0
                     : strcmp(r, "reachable") == 0   ? STORED_REACHABLE
                     : strcmp(r, "stuck") == 0       ? STORED_STUCK
                     : strcmp(r, "unreachable") == 0 ? STORED_UNREACHABLE
                                                     : 0;
        if (v != 0 && !u64map_put(into, (uint64_t)sqlite3_column_int64(st, 0), v)) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int exit_reach_load(struct trace *t, char *err, size_t errlen)
{
    return exit_reach_read(t->db, &t->exit_reach, &t->exit_checked, err, errlen);
}

enum ct_reach exit_reach_lookup(const struct u64map *m, bool checked, int64_t id)
{
    uint64_t v = 0;
    bool scanned = u64map_get(m, (uint64_t)id, &v);
    return ct_reach_from_scan(checked, scanned,
                              v == STORED_UNREACHABLE ? CT_SCAN_UNREACHABLE
                              : v == STORED_STUCK     ? CT_SCAN_STUCK
                                                      : CT_SCAN_REACHABLE);
}

enum ct_reach exit_reach_of(const struct trace *t, int64_t id)
{
    return exit_reach_lookup(&t->exit_reach, t->exit_checked, id);
}

bool exit_out_of_reach(const struct trace *t, int64_t id)
{
    uint64_t v;
    return u64map_get(&t->exit_reach, (uint64_t)id, &v) &&
           (v == STORED_UNREACHABLE || v == STORED_STUCK);
}

void exit_check_status(sqlite3 *db, char *buf, size_t len)
{
    buf[0] = '\0';
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'exit_check'", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

void exit_matches_free(struct exit_matches *m)
{
    free(m->items);
    memset(m, 0, sizeof *m);
}
