/*
 * test_stream.c — the pieces that let the analyses read a trace in bounded memory
 * (libctxtrace/core: heap.c, window.c, stream.c, kth.c): the min-heap's order, the
 * window's keeping and dropping of per-context state, the stream's horizon, and exact
 * ranks found by narrowing, on hand-made data and a hand-made contexts table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/profile.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/store.h>
#include <ctxtrace/tracer.h>
#include <sqlite3.h>
#include <unistd.h>

#include "heap.h"
#include "kth.h"
#include "stream.h"
#include "window.h"

/* ---- heap ----------------------------------------------------------------------------- */

static void heap_pops_in_time_then_id_order(void **state)
{
    (void)state;
    struct heap h = {0};
    /* A scrambled permutation of 1000 (ts, id) pairs with many equal times. */
    for (int64_t i = 0; i < 1000; i++) {
        int64_t k = (i * 617) % 1000;
        assert_true(heap_push(&h, (struct heap_item){k / 10, k, k * 3, 0, k % 2 == 0}));
    }
    int64_t last_ts = -1, last_id = -1;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(heap_top(&h)->ts, heap_top(&h)->id / 10);
        struct heap_item it = heap_pop(&h);
        assert_true(it.ts > last_ts || (it.ts == last_ts && it.id > last_id));
        assert_int_equal(it.a, it.id * 3); /* the user's words travel with the item */
        assert_int_equal(it.flag, it.id % 2 == 0);
        last_ts = it.ts;
        last_id = it.id;
    }
    assert_int_equal(h.n, 0);
    heap_free(&h);
}

/* ---- window --------------------------------------------------------------------------- */

struct entry {
    int64_t value;
};

static void window_keeps_until_the_horizon_passes_the_free_time(void **state)
{
    (void)state;
    struct window w;
    window_init(&w, sizeof(struct entry));
    struct entry *a = window_add(&w, 10, 500); /* freed at 500 */
    struct entry *b = window_add(&w, 11, 0);   /* never freed */
    struct entry *c = window_add(&w, 12, 300);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    a->value = 1;
    b->value = 2;
    c->value = 3;
    window_evict(&w, 300); /* strictly before: a child created at 300 may still come */
    assert_ptr_equal(window_get(&w, 12), c);
    window_evict(&w, 301);
    assert_null(window_get(&w, 12));
    assert_ptr_equal(window_get(&w, 10), a);
    assert_int_equal(((struct entry *)window_get(&w, 10))->value, 1);
    window_evict(&w, INT64_MAX);
    assert_null(window_get(&w, 10));
    assert_ptr_equal(window_get(&w, 11), b); /* never freed: kept to the end */
    assert_int_equal(b->value, 2);
    assert_int_equal(w.len, 1);
    window_free(&w);
}

static void window_entries_never_move_and_slots_are_reused(void **state)
{
    (void)state;
    struct window w;
    window_init(&w, sizeof(struct entry));
    struct entry *first = window_add(&w, 3, 0);
    first->value = 42;
    /* Many more than a chunk: the first entry stays where it was. */
    for (int64_t id = 4; id < 20000; id++) {
        struct entry *e = window_add(&w, id, id); /* freed at its own id */
        assert_non_null(e);
        assert_int_equal(e->value, 0); /* new entries are zeroed */
        e->value = id;
        window_evict(&w, id - 100); /* keeps about 100 */
        assert_true(w.len <= 102); /* 3, and the 101 not freed before the horizon */
    }
    assert_ptr_equal(window_get(&w, 3), first);
    assert_int_equal(first->value, 42);
    /* Reused slots: never more than were in use at once (one more before an eviction). */
    assert_true(w.nslots <= 103);
    for (int64_t id = 19900; id < 20000; id++)
        assert_int_equal(((struct entry *)window_get(&w, id))->value, id);
    assert_null(window_get(&w, 19000));
    window_free(&w);
}

/* ---- the stream, on a hand-made contexts table ---------------------------------------- */

static sqlite3 *make_trace(void)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE contexts (id INTEGER PRIMARY KEY, parent_id, kind, "
                     "created_ns, create_stack, requested_deadline_ns, deadline_ns, "
                     "timer_armed_ns, timer_stopped_ns, timer_fired_ns, canceled_ns, "
                     "cancel_why, cancel_origin_ns, released_ns, released_live, "
                     "release_stack, freed_ns, value_lookups, value_depth_sum, "
                     "value_depth_max);"
                     "INSERT INTO contexts (id, kind) VALUES (1, 'background'), (2, 'todo');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    return db;
}

/* A cancel context; freed 0: never freed (NULL). */
static void add_ctx(sqlite3 *db, int64_t id, int64_t parent, int64_t created, int64_t freed)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO contexts (id, parent_id, kind, created_ns, "
                                        "freed_ns) VALUES (?, ?, 'cancel', ?, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, parent);
    sqlite3_bind_int64(st, 3, created);
    if (freed != 0)
        sqlite3_bind_int64(st, 4, freed);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void stream_horizon_bounds_every_row_still_to_come(void **state)
{
    (void)state;
    sqlite3 *db = make_trace();
    /* 20000 contexts created nearly in id order: every 7th was timestamped 50 ns late
     * and every 13th 40 ns early, as threads racing between taking an id and the
     * timestamp do. */
    enum { N = 20000 };
    int64_t created[N + 3], last = 0;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (int64_t id = 3; id < N + 3; id++) {
        created[id] = 1000 + id * 10 + (id % 7 == 0 ? 50 : 0) - (id % 13 == 0 ? 40 : 0);
        int64_t freed = id % 5 == 0 ? 0 : created[id] + 5;
        add_ctx(db, id, id > 3 ? id - 1 : 1, created[id], freed);
        if (freed > last)
            last = freed;
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    struct ctx_stream s;
    char err[256];
    assert_int_equal(ctx_stream_open(&s, db, err, sizeof err), 0);
    assert_int_equal(s.n, N);
    struct crow r;
    int64_t expect = 3;
    while (ctx_stream_next(&s, &r) == 1) {
        assert_int_equal(r.id, expect++); /* id order */
        int64_t h = ctx_stream_horizon(&s);
        for (int64_t later = r.id + 1; later < N + 3 && later < r.id + 64; later++)
            assert_true(h <= created[later]);
    }
    assert_int_equal(expect, N + 3);
    assert_int_equal(ctx_stream_horizon(&s), INT64_MAX);
    assert_int_equal(s.last_ts, last);
    /* Out of order, by key; the roots are not contexts of the trace. */
    assert_int_equal(ctx_stream_fetch(&s, 100, &r), 1);
    assert_int_equal(r.parent, 99);
    assert_int_equal(r.created, created[100]);
    assert_int_equal(ctx_stream_fetch(&s, 1, &r), 0);
    assert_int_equal(ctx_stream_fetch(&s, N + 3, &r), 0);
    ctx_stream_close(&s);
    sqlite3_close(db);
}

/* A lineage for window_lookup: the depth below the root. */
static void derive_depth(const struct crow *r, const void *parent, void *out, void *arg)
{
    (void)r;
    int *calls = arg;
    (*calls)++;
    ((struct entry *)out)->value = parent ? ((const struct entry *)parent)->value + 1 : 1;
}

static void window_lookup_derives_what_the_window_no_longer_holds(void **state)
{
    (void)state;
    sqlite3 *db = make_trace();
    add_ctx(db, 3, 1, 100, 900);
    add_ctx(db, 4, 3, 110, 120); /* freed early */
    add_ctx(db, 5, 4, 115, 119);
    struct ctx_stream s;
    char err[256];
    assert_int_equal(ctx_stream_open(&s, db, err, sizeof err), 0);
    struct window w;
    window_init(&w, sizeof(struct entry));
    ((struct entry *)window_add(&w, 3, 900))->value = 1;
    struct entry scratch;
    bool failed = false;
    int calls = 0;
    /* 5 and 4 are not in the window: read by key and derived from 3's entry. */
    const struct entry *e = window_lookup(&w, &s, 5, derive_depth, &calls, &scratch, &failed);
    assert_false(failed);
    assert_ptr_equal(e, &scratch);
    assert_int_equal(e->value, 3);
    assert_int_equal(calls, 2);
    assert_null(window_get(&w, 5)); /* not kept */
    /* In the window: its own entry, nothing derived. */
    calls = 0;
    assert_ptr_equal(window_lookup(&w, &s, 3, derive_depth, &calls, &scratch, &failed),
                     window_get(&w, 3));
    assert_int_equal(calls, 0);
    /* A root, and a context the trace does not have. */
    assert_null(window_lookup(&w, &s, 1, derive_depth, &calls, &scratch, &failed));
    assert_null(window_lookup(&w, &s, 77, derive_depth, &calls, &scratch, &failed));
    assert_false(failed);
    window_free(&w);
    ctx_stream_close(&s);
    sqlite3_close(db);
}

static int cmp_i64(const void *a, const void *b);

/* ---- the analyses when the window misses ----------------------------------------------- */

/* A context row for ct_store: a cancel context, cancelled (why) at `canceled`, released
 * and freed at `freed`. */
static void put_ctx(ct_store *s, int64_t id, int64_t parent, int64_t stack, int64_t created,
                    int64_t canceled, int why, int64_t freed)
{
    struct ct_ctx_row r = {.id = id};
    ct_ctx_set(&r, CT_PARENT_ID, parent);
    ct_ctx_set(&r, CT_KIND, CTX_KIND_CANCEL);
    ct_ctx_set(&r, CT_CREATED_NS, created);
    ct_ctx_set(&r, CT_CREATE_THREAD, 1);
    ct_ctx_set(&r, CT_CREATE_STACK, stack);
    ct_ctx_set(&r, CT_CANCELED_NS, canceled);
    ct_ctx_set(&r, CT_CANCEL_WHY, why);
    ct_ctx_set(&r, CT_CANCEL_ORIGIN_NS, canceled);
    ct_ctx_set(&r, CT_RELEASED_NS, freed);
    ct_ctx_set(&r, CT_RELEASED_LIVE, 0);
    ct_ctx_set(&r, CT_FREED_NS, freed);
    assert_int_equal(ct_store_context(s, &r), 0);
}

/* A trace whose timestamps contradict its parent links: context 5005, a child of 3, is
 * timestamped after 3 was freed, and thousands of rows later — by then the window has
 * dropped 3 (the horizon passed its free time a block of rows before), so every fact of
 * it is read by key. The answers are those of the trace read whole. */
static void analyses_read_a_dropped_ancestor_by_key(void **state)
{
    (void)state;
    char path[] = "/tmp/test_stream.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    char err[512];
    ct_store *s = ct_store_create(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(ct_store_begin(s), 0);
    static const char *const fns[] = {"request", "handler", "filler"};
    for (int i = 0; i < 3; i++) {
        struct ct_frame_row f = {.id = i + 1, .ip = 0x2000 + 16 * i, .module = "/usr/bin/app",
                                 .offset = 0x2000 + 16 * i, .function = fns[i],
                                 .file = "server.c", .line = 20 + i};
        int64_t frame = i + 1;
        assert_int_equal(ct_store_frame(s, &f), 0);
        assert_int_equal(ct_store_stack(s, i + 1, 1, &frame), 0);
    }
    ct_store_meta_int(s, "start_ns", 1);
    ct_store_meta_text(s, "program", "/usr/bin/app");
    put_ctx(s, 3, 1, 1, 100, 200, CTX_WHY_EXPLICIT, 300);
    put_ctx(s, 4, 3, 2, 150, 200, CTX_WHY_PARENT, 250);
    for (int64_t i = 0; i < 5000; i++)
        put_ctx(s, 5 + i, 1, 3, 400 + 10 * i, 401 + 10 * i, CTX_WHY_EXPLICIT, 402 + 10 * i);
    /* Born done under 3, long after 3 was freed: an impossible trace, read right. */
    put_ctx(s, 5005, 3, 2, 350, 350, CTX_WHY_PARENT, 360);
    ct_store_meta_int(s, "end_ns", 100000);
    ct_store_meta_int(s, "complete", 1);
    ct_store_meta_text(s, "exit_reason", "exit");
    assert_int_equal(ct_store_commit(s), 0);
    assert_int_equal(ct_store_finish(s), 0);
    ct_store_close(s);

    ct_reader *r = ct_reader_open(path, err, sizeof err);
    assert_non_null(r);
    /* derived-from-done: 5005 was derived from 3, done since 200. */
    struct ct_analysis_opts o = {.derived_from_done_threshold = 1};
    struct ct_findings f;
    assert_int_equal(ct_analyze(r, &o, &f, err, sizeof err), 0);
    assert_int_equal(f.contexts, 5003);
    int found = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (f.items[i].rule != CT_RULE_DERIVED_FROM_DONE)
            continue;
        found++;
        assert_int_equal(f.items[i].count, 1);
        assert_int_equal(f.items[i].examples[0], 5005);
        assert_string_equal(f.items[i].site.function, "handler");
        assert_int_equal(f.items[i].dur_max, 150); /* 350 - 200 */
    }
    assert_int_equal(found, 1);
    ct_findings_free(&f);
    /* Fan-out: 3's cancellation made 4 and 5005 done. */
    struct ct_profile p;
    assert_int_equal(ct_profile(r, &p, err, sizeof err), 0);
    found = 0;
    for (size_t i = 0; i < p.len; i++) {
        const struct ct_site_profile *x = &p.sites[i];
        if (x->site.function != NULL && strcmp(x->site.function, "request") == 0) {
            found++;
            assert_int_equal(x->fanout_origins, 1);
            assert_int_equal(x->fanout_max, 2);
            assert_true(x->fanout_mean == 2.0);
            assert_int_equal(x->life_p50, 200);
        } else if (x->site.function != NULL && strcmp(x->site.function, "filler") == 0) {
            found++;
            assert_int_equal(x->created, 5000);
            assert_int_equal(x->life_p50, 2);
            assert_int_equal(x->fanout_max, 0);
        }
    }
    assert_int_equal(found, 2);
    ct_profile_free(&p);
    ct_reader_close(r);
    unlink(path);
}

/* The profile's wake latencies past KTH_KEEP at one site: only counted while the stream
 * passes, then found exactly by narrowing over the woken waits — through value contexts
 * too (a wait on a value context waited for its cancellable parent). */
static void profile_wake_p50_is_exact_past_the_kept_ones(void **state)
{
    (void)state;
    char path[] = "/tmp/test_stream.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    char err[512];
    ct_store *s = ct_store_create(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(ct_store_begin(s), 0);
    static const char *const fns[] = {"waited", "valued"};
    for (int i = 0; i < 2; i++) {
        struct ct_frame_row f = {.id = i + 1, .ip = 0x2000 + 16 * i, .module = "/usr/bin/app",
                                 .offset = 0x2000 + 16 * i, .function = fns[i],
                                 .file = "server.c", .line = 20 + i};
        int64_t frame = i + 1;
        assert_int_equal(ct_store_frame(s, &f), 0);
        assert_int_equal(ct_store_stack(s, i + 1, 1, &frame), 0);
    }
    ct_store_meta_int(s, "start_ns", 1);
    ct_store_meta_text(s, "program", "/usr/bin/app");
    /* 7000 cancel contexts (site "waited"), each with a value child (site "valued"); ten
     * woken waits on each: more than KTH_KEEP at both sites. */
    enum { N = 7000, PER = 10 };
    int64_t *waited = malloc(N * PER * sizeof *waited), *valued = malloc(N * PER * sizeof *valued);
    assert_non_null(waited);
    assert_non_null(valued);
    int64_t wid = 1;
    for (int64_t i = 0; i < N; i++) {
        int64_t id = 3 + 2 * i, t = 1000 + 100 * i;
        put_ctx(s, id, 1, 1, t, t + 50, CTX_WHY_EXPLICIT, t + 90);
        struct ct_ctx_row v = {.id = id + 1};
        ct_ctx_set(&v, CT_PARENT_ID, id);
        ct_ctx_set(&v, CT_KIND, CTX_KIND_VALUE);
        ct_ctx_set(&v, CT_CREATED_NS, t + 1);
        ct_ctx_set(&v, CT_CREATE_STACK, 2);
        ct_ctx_set(&v, CT_FREED_NS, t + 80);
        assert_int_equal(ct_store_context(s, &v), 0);
        for (int64_t j = 0; j < 2 * PER; j++) {
            int64_t lat = (i * 7919 + j * 104729) % 100000;
            struct ct_wait_row w = {.id = wid++, .context_id = j < PER ? id : id + 1,
                                    .thread = 1, .blocked_ns = t + 2, .woken_ns = t + 50 + lat};
            assert_int_equal(ct_store_wait(s, &w), 0);
            if (j < PER)
                waited[i * PER + j] = lat;
            else
                valued[i * PER + j - PER] = lat;
        }
    }
    ct_store_meta_int(s, "end_ns", 10000000000);
    ct_store_meta_int(s, "complete", 1);
    ct_store_meta_text(s, "exit_reason", "exit");
    assert_int_equal(ct_store_commit(s), 0);
    assert_int_equal(ct_store_finish(s), 0);
    ct_store_close(s);
    qsort(waited, N * PER, sizeof *waited, cmp_i64);
    qsort(valued, N * PER, sizeof *valued, cmp_i64);

    ct_reader *r = ct_reader_open(path, err, sizeof err);
    assert_non_null(r);
    struct ct_profile p;
    assert_int_equal(ct_profile(r, &p, err, sizeof err), 0);
    int found = 0;
    for (size_t i = 0; i < p.len; i++) {
        const struct ct_site_profile *x = &p.sites[i];
        if (strcmp(x->site.function, "waited") == 0) {
            found++;
            assert_int_equal(x->wakeups, N * PER); /* more than KTH_KEEP */
            assert_int_equal(x->wake_p50, waited[(N * PER - 1) / 2]);
            assert_int_equal(x->wake_max, waited[N * PER - 1]);
        } else if (strcmp(x->site.function, "valued") == 0) {
            found++;
            assert_int_equal(x->wakeups, N * PER);
            assert_int_equal(x->wake_p50, valued[(N * PER - 1) / 2]);
            assert_int_equal(x->wake_max, valued[N * PER - 1]);
        }
    }
    assert_int_equal(found, 2);
    ct_profile_free(&p);
    ct_reader_close(r);
    free(waited);
    free(valued);
    unlink(path);
}

/* ---- kth ------------------------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The rank-th of v[0..n) by kth, feeding the values pass after pass as profile.c does;
 * the number of passes after the histogram's in *passes. */
static int64_t kth_of(const int64_t *v, size_t n, int64_t rank, int *passes)
{
    struct ct_hist h = {0};
    for (size_t i = 0; i < n; i++)
        ct_hist_add(&h, v[i]);
    struct kth k;
    kth_start(&k, rank, &h);
    *passes = 0;
    while (!k.done) {
        assert_true(kth_begin_pass(&k));
        for (size_t i = 0; i < n; i++)
            assert_true(kth_feed(&k, v[i]));
        kth_end_pass(&k);
        (*passes)++;
        assert_true(*passes < 8);
    }
    kth_free(&k);
    return k.value;
}

static void kth_finds_the_exact_rank_of_many_values(void **state)
{
    (void)state;
    /* More values than KTH_KEEP, crowded into few histogram buckets (lifetimes of one
     * site: a microsecond give or take), some negative, some huge, many repeated. */
    enum { N = 300000 };
    int64_t *v = malloc(N * sizeof *v), *sorted = malloc(N * sizeof *sorted);
    assert_non_null(v);
    assert_non_null(sorted);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[i] = i % 1000 == 0   ? -(int64_t)(x % 5000)
               : i % 997 == 0  ? (int64_t)(x >> 2)
               : i % 3 == 0    ? 1200
                               : 1000 + (int64_t)(x % 600);
        sorted[i] = v[i];
    }
    qsort(sorted, N, sizeof *sorted, cmp_i64);
    int64_t ranks[] = {0, 1, (N - 1) * 50 / 100, (N - 1) * 99 / 100, N - 2, N - 1};
    for (size_t r = 0; r < sizeof ranks / sizeof *ranks; r++) {
        int passes;
        assert_int_equal(kth_of(v, N, ranks[r], &passes), sorted[ranks[r]]);
        assert_true(passes <= 4);
    }
    /* All equal: the narrowing ends on a one-value interval. */
    for (size_t i = 0; i < N; i++)
        v[i] = 123456789;
    int passes;
    assert_int_equal(kth_of(v, N, N / 2, &passes), 123456789);
    free(v);
    free(sorted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(heap_pops_in_time_then_id_order),
        cmocka_unit_test(window_keeps_until_the_horizon_passes_the_free_time),
        cmocka_unit_test(window_entries_never_move_and_slots_are_reused),
        cmocka_unit_test(stream_horizon_bounds_every_row_still_to_come),
        cmocka_unit_test(window_lookup_derives_what_the_window_no_longer_holds),
        cmocka_unit_test(kth_finds_the_exact_rank_of_many_values),
        cmocka_unit_test(analyses_read_a_dropped_ancestor_by_key),
        cmocka_unit_test(profile_wake_p50_is_exact_past_the_kept_ones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
