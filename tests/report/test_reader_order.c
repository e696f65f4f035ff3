/*
 * test_reader_order.c — the reader's creation-order reading (libctxtrace/core/reader.c):
 * ct_reader_walk and ct_reader_list's flat pages, on a hand-made trace whose id order is
 * not its creation order (ids in per-thread blocks, as the runtime hands them out), with
 * contexts whose creation the trace did not see — each answer checked against the order
 * sorted here, on the trace with its indexes and on the same trace without (cut short).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/store.h>
#include <ctxtrace/tracer.h>
#include <unistd.h>

/* Three "threads" each taking blocks of BLOCK ids, creating contexts at interleaved
 * times; a few contexts (ids 3..7) with no creation time. */
enum { THREADS = 3, BLOCK = 700, PER_THREAD = 2100, UNSEEN = 5 };
enum { N = THREADS * PER_THREAD + UNSEEN };

struct ref {
    int64_t created, id;
    int kind;
};

static struct ref refs[N];

static int cmp_ref(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void put(ct_store *s, int64_t id, int64_t created, int kind, size_t *n)
{
    struct ct_ctx_row r = {.id = id};
    ct_ctx_set(&r, CT_PARENT_ID, 1);
    ct_ctx_set(&r, CT_KIND, kind);
    if (created > 0) {
        ct_ctx_set(&r, CT_CREATED_NS, created);
        ct_ctx_set(&r, CT_FREED_NS, created + 5);
    }
    ct_ctx_set(&r, CT_CREATE_THREAD, 1);
    assert_int_equal(ct_store_context(s, &r), 0);
    refs[(*n)++] = (struct ref){created, id, kind};
}

/* The trace at path, with its indexes (finished) or without (cut short). */
static void make_trace(const char *path, bool finish)
{
    char err[512];
    unlink(path);
    ct_store *s = ct_store_create(path, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(ct_store_begin(s), 0);
    ct_store_meta_int(s, "start_ns", 1);
    size_t n = 0;
    for (int64_t i = 0; i < UNSEEN; i++)
        put(s, 3 + i, 0, CTX_KIND_CANCEL, &n);
    /* Thread t's k-th context: id from its own blocks, created at 10 * (k * THREADS + t)
     * plus a jitter, so the threads' contexts interleave in time and blocks of ids
     * overlap in time by a whole block. */
    for (int t = 0; t < THREADS; t++)
        for (int64_t k = 0; k < PER_THREAD; k++) {
            int64_t block = (k / BLOCK) * THREADS + t;
            int64_t id = 3 + UNSEEN + block * BLOCK + k % BLOCK;
            int64_t created = 1000 + 10 * (k * THREADS + t) + (k * 7919) % 13;
            put(s, id, created, k % 3 == 0 ? CTX_KIND_DEADLINE : CTX_KIND_CANCEL, &n);
        }
    assert_int_equal((int)n, N);
    ct_store_meta_int(s, "end_ns", 10000000);
    ct_store_meta_int(s, "complete", finish ? 1 : 0);
    assert_int_equal(ct_store_commit(s), 0);
    if (finish)
        assert_int_equal(ct_store_finish(s), 0);
    ct_store_close(s);
    qsort(refs, N, sizeof *refs, cmp_ref);
}

struct collected {
    int64_t ids[N];
    size_t n;
    size_t stop_at; /* 0: never */
};

static bool collect(void *arg, const struct ct_ctx_row *row)
{
    struct collected *c = arg;
    assert_true(c->n < N);
    c->ids[c->n++] = row->id;
    return c->stop_at == 0 || c->n < c->stop_at;
}

/* Every context of query q, paged `page` rows at a time, into ids; returns how many. */
static size_t page_all(ct_reader *r, const struct ct_query *q, size_t page, int64_t *ids)
{
    struct ct_ctx_row *rows = calloc(page, sizeof *rows);
    assert_non_null(rows);
    struct ct_cursor after = {0, 0};
    size_t n = 0;
    for (;;) {
        long got = ct_reader_list(r, q, after, 0, rows, page);
        assert_true(got >= 0);
        for (long i = 0; i < got; i++) {
            assert_true(n < N);
            ids[n++] = rows[i].id;
        }
        if (got > 0)
            after = ct_cursor_of(&rows[got - 1]);
        for (long i = 0; i < got; i++)
            ct_ctx_row_clear(&rows[i]);
        if ((size_t)got < page)
            break;
    }
    free(rows);
    return n;
}

static void check_trace(bool finish)
{
    char path[] = "/tmp/test_reader_order.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    make_trace(path, finish);
    char err[512];
    ct_reader *r = ct_reader_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(ct_reader_has_indexes(r), finish);

    /* The walk: every context once, in creation order; the unseen ones first. */
    static struct collected c;
    memset(&c, 0, sizeof c);
    assert_int_equal(ct_reader_walk(r, collect, &c), N);
    assert_int_equal(c.n, N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(c.ids[i], refs[i].id);
    assert_int_equal(c.ids[0], 3);
    /* fn's false stops it at once. */
    memset(&c, 0, sizeof c);
    c.stop_at = 1500;
    assert_int_equal(ct_reader_walk(r, collect, &c), 1500);

    /* Flat pages, small and large: the same order. */
    static int64_t ids[N];
    const struct ct_query all = {.flat = true, .kind = -1, .state = -1};
    size_t sizes[] = {1, 7, 1000, 4096, N + 10};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        if (sizes[s] == 1 && !finish)
            continue; /* covered by 7; a row a page is slow only by its count of calls */
        assert_int_equal(page_all(r, &all, sizes[s], ids), N);
        for (size_t i = 0; i < N; i++)
            assert_int_equal(ids[i], refs[i].id);
    }
    assert_int_equal(ct_reader_count(r, &all), N);

    /* A filter: deadline contexts only. */
    const struct ct_query deadlines = {.flat = true, .kind = CTX_KIND_DEADLINE, .state = -1};
    size_t n = page_all(r, &deadlines, 333, ids), k = 0;
    for (size_t i = 0; i < N; i++)
        if (refs[i].kind == CTX_KIND_DEADLINE) {
            assert_true(k < n);
            assert_int_equal(ids[k++], refs[i].id);
        }
    assert_int_equal(k, n);

    /* A skip into the list, a jump to a cursor, the next page after the jump, and a
     * page resumed after another list was paged in between. */
    struct ct_ctx_row rows[5];
    assert_int_equal(ct_reader_list(r, &all, (struct ct_cursor){0, 0}, 10, rows, 5), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(rows[i].id, refs[10 + i].id);
        ct_ctx_row_clear(&rows[i]);
    }
    struct ct_cursor at = {refs[3000].created, refs[3000].id};
    assert_int_equal(ct_reader_list(r, &all, at, 0, rows, 5), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(rows[i].id, refs[3001 + i].id);
        ct_ctx_row_clear(&rows[i]);
    }
    at = (struct ct_cursor){refs[3005].created, refs[3005].id};
    assert_int_equal(ct_reader_list(r, &all, at, 2, rows, 5), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(rows[i].id, refs[3008 + i].id);
        ct_ctx_row_clear(&rows[i]);
    }
    assert_int_equal(ct_reader_list(r, &all, (struct ct_cursor){0, 0}, 0, rows, 5), 5);
    for (size_t i = 0; i < 5; i++)
        ct_ctx_row_clear(&rows[i]);
    assert_int_equal(ct_reader_list(r, &deadlines, (struct ct_cursor){0, 0}, 0, rows, 1), 1);
    ct_ctx_row_clear(&rows[0]);
    at = (struct ct_cursor){refs[4].created, refs[4].id};
    assert_int_equal(ct_reader_list(r, &all, at, 0, rows, 5), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(rows[i].id, refs[5 + i].id);
        ct_ctx_row_clear(&rows[i]);
    }
    /* Past the end: nothing. */
    at = (struct ct_cursor){refs[N - 1].created, refs[N - 1].id};
    assert_int_equal(ct_reader_list(r, &all, at, 0, rows, 5), 0);

    /* The children of the root, paged: the same order too. */
    const struct ct_query kids = {.parent = 1, .kind = -1, .state = -1};
    assert_int_equal(page_all(r, &kids, 500, ids), N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(ids[i], refs[i].id);
    assert_int_equal(ct_reader_n_children(r, 1), N);

    ct_reader_close(r);
    unlink(path);
    char side[sizeof path + 8];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void creation_order_with_indexes(void **state)
{
    (void)state;
    check_trace(true);
}

static void creation_order_without_indexes(void **state)
{
    (void)state;
    check_trace(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(creation_order_with_indexes),
        cmocka_unit_test(creation_order_without_indexes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
