/*
 * test_symbolize.c — the shim's symbolizer (preload/src/symbolize.c) on this very
 * program, built at -O2 -g: a return address inside functions inlined two deep must
 * come back as three logical frames — the innermost inlined function at the call's
 * line, each function it was inlined into at the line of that inlined call, the
 * physical function last — as `addr2line -i -f` shows them. And a function that ends
 * in a tail call (a jump at -O2) must be put back between its caller and the function
 * it jumped to. The expected lines are recorded with __LINE__ on the very lines of the
 * calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize.h"

static volatile int sink; /* work after each call, so that none is a tail call */
static int line_inner, line_middle, line_outer, line_plain, line_jump, line_before_jump;

/* The return address of its call: a real call, never inlined nor cloned. */
static __attribute__((noinline, noclone)) uint64_t return_address(void)
{
    sink++;
    return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

static inline __attribute__((always_inline)) uint64_t inner(void)
{
    uint64_t ip; line_inner = __LINE__; ip = return_address();
    sink++;
    return ip;
}

static inline __attribute__((always_inline)) uint64_t middle(void)
{
    uint64_t ip; line_middle = __LINE__; ip = inner();
    sink++;
    return ip;
}

/* The physical frame: inner and middle are inlined into it. */
static __attribute__((noinline, noclone)) uint64_t outer(void)
{
    uint64_t ip; line_outer = __LINE__; ip = middle();
    sink++;
    return ip;
}

/* No inlining: one logical frame. */
static __attribute__((noinline, noclone)) uint64_t plain(void)
{
    uint64_t ip; line_plain = __LINE__; ip = return_address();
    sink++;
    return ip;
}

/* The function jumped to: it reports an address inside itself, and its return address,
 * which is in before_jump (jumper's frame is gone). */
static __attribute__((noinline, noclone)) uint64_t jumped_to(uint64_t *inside)
{
    *inside = return_address();
    sink++;
    return (uint64_t)(uintptr_t)__builtin_return_address(0);
}

/* Ends in a tail call: at -O2, `jmp jumped_to`. */
static __attribute__((noinline, noclone)) uint64_t jumper(uint64_t *inside)
{
    sink++;
    line_jump = __LINE__; return jumped_to(inside);
}

static __attribute__((noinline, noclone)) uint64_t before_jump(uint64_t *inside)
{
    uint64_t ip; line_before_jump = __LINE__; ip = jumper(inside);
    sink++;
    return ip;
}

static const char *base(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path;
}

static void assert_frame(const struct sym_frame *f, const char *function, int line,
                         bool inlined)
{
    assert_non_null(f->function);
    assert_string_equal(f->function, function);
    assert_non_null(f->file);
    assert_string_equal(base(f->file), "test_symbolize.c");
    assert_true(f->file[0] == '/'); /* joined to the compilation directory */
    assert_int_equal(f->line, line);
    assert_int_equal(f->inlined, inlined);
}

static int setup(void **state)
{
    *state = symbolizer_new();
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    symbolizer_free(*state);
    return 0;
}

static void inlined_calls_expand_into_logical_frames_innermost_first(void **state)
{
    uint64_t ip = outer();
    struct sym_frame f[SYM_MAX_LOGICAL];
    int n = symbolizer_describe(*state, ip, f);
    assert_int_equal(n, 3);
    assert_frame(&f[0], "inner", line_inner, true);
    assert_frame(&f[1], "middle", line_middle, true);
    assert_frame(&f[2], "outer", line_outer, false);
}

static void logical_frames_share_the_physical_frame_s_module_and_offset(void **state)
{
    uint64_t ip = outer();
    struct sym_frame f[SYM_MAX_LOGICAL];
    int n = symbolizer_describe(*state, ip, f);
    assert_int_equal(n, 3);
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(len > 0);
    exe[len] = '\0';
    for (int i = 0; i < n; i++) {
        assert_non_null(f[i].module);
        assert_string_equal(f[i].module, exe);
        assert_int_equal(f[i].offset, f[0].offset);
        assert_true(f[i].offset > 0);
    }
}

static void a_call_not_inlined_is_one_frame(void **state)
{
    uint64_t ip = plain();
    struct sym_frame f[SYM_MAX_LOGICAL];
    assert_int_equal(symbolizer_describe(*state, ip, f), 1);
    assert_frame(&f[0], "plain", line_plain, false);
}

static void an_address_in_no_module_is_one_unknown_frame(void **state)
{
    struct sym_frame f[SYM_MAX_LOGICAL];
    assert_int_equal(symbolizer_describe(*state, 16, f), 1);
    assert_null(f[0].module);
    assert_null(f[0].function);
    assert_null(f[0].file);
    assert_int_equal(f[0].line, 0);
    assert_false(f[0].inlined);
}

static void a_frame_removed_by_a_tail_call_is_put_back_at_its_jump(void **state)
{
    uint64_t inside, ip = before_jump(&inside);
    struct sym_frame f[SYM_MAX_LOGICAL];
    /* What the stack shows: before_jump's call, then jumped_to. */
    assert_int_equal(symbolizer_describe(*state, ip, f), 1);
    assert_frame(&f[0], "before_jump", line_before_jump, false);
    assert_false(f[0].tail_call);
    assert_int_equal(symbolizer_describe(*state, inside, f), 1);
    assert_string_equal(f[0].function, "jumped_to");
    /* What was between them. */
    assert_int_equal(symbolizer_describe_tail(*state, ip, inside, f), 1);
    assert_frame(&f[0], "jumper", line_jump, false);
    assert_true(f[0].tail_call);
}

static void a_plain_call_has_no_tail_frames(void **state)
{
    uint64_t ip = plain(), inside_callee = (uint64_t)(uintptr_t)&return_address + 1;
    struct sym_frame f[SYM_MAX_LOGICAL];
    assert_int_equal(symbolizer_describe_tail(*state, ip, inside_callee, f), 0);
    uint64_t inside, jump_ip = before_jump(&inside);
    /* before_jump's call went to jumper; a frame of jumper itself inside it is no tail. */
    uint64_t inside_jumper = (uint64_t)(uintptr_t)&jumper + 1;
    assert_int_equal(symbolizer_describe_tail(*state, jump_ip, inside_jumper, f), 0);
}

/* symbolizer_frames stores one frames row per logical frame, with consecutive ids,
 * once: the second lookup of the ip answers the same ids without symbolizing. */
static void each_logical_frame_is_stored_once_with_its_own_id(void **state)
{
    char dir[] = "/tmp/test_symbolize.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[sizeof dir + 16];
    snprintf(path, sizeof path, "%s/t.db", dir);
    char err[256];
    ct_store *store = ct_store_create(path, err, sizeof err);
    assert_non_null(store);

    uint64_t ip = outer(), other = plain();
    int64_t ids[SYM_MAX_LOGICAL], again[SYM_MAX_LOGICAL], one[SYM_MAX_LOGICAL];
    assert_int_equal(ct_store_begin(store), 0);
    assert_int_equal(symbolizer_frames(*state, store, ip, ids), 3);
    assert_int_equal(symbolizer_frames(*state, store, other, one), 1);
    assert_int_equal(symbolizer_frames(*state, store, ip, again), 3);
    assert_int_equal(ct_store_commit(store), 0);
    ct_store_close(store);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(again[i], ids[i]);
        assert_int_equal(ids[i], ids[0] + i);
        assert_true(one[0] != ids[i]);
    }

    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, ip, function, line, inlined FROM frames "
                                        "ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    const struct {
        int64_t id;
        uint64_t ip;
        const char *function;
        int line, inlined;
    } want[] = {{ids[0], ip, "inner", line_inner, 1},
                {ids[1], ip, "middle", line_middle, 1},
                {ids[2], ip, "outer", line_outer, 0},
                {one[0], other, "plain", line_plain, 0}};
    size_t rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        assert_true(rows < sizeof want / sizeof want[0]);
        assert_int_equal(sqlite3_column_int64(st, 0), want[rows].id);
        assert_int_equal((uint64_t)sqlite3_column_int64(st, 1), want[rows].ip);
        assert_string_equal((const char *)sqlite3_column_text(st, 2), want[rows].function);
        assert_int_equal(sqlite3_column_int(st, 3), want[rows].line);
        assert_int_equal(sqlite3_column_int(st, 4), want[rows].inlined);
        rows++;
    }
    assert_int_equal(rows, sizeof want / sizeof want[0]);
    sqlite3_finalize(st);
    sqlite3_close(db);
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* symbolizer_tail_frames stores the put-back frame once per pair of ips, marked. */
static void a_tail_frame_is_stored_once_per_pair_marked(void **state)
{
    char dir[] = "/tmp/test_symbolize.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[sizeof dir + 16];
    snprintf(path, sizeof path, "%s/t.db", dir);
    char err[256];
    ct_store *store = ct_store_create(path, err, sizeof err);
    assert_non_null(store);
    uint64_t inside, ip = before_jump(&inside);
    int64_t ids[SYM_MAX_LOGICAL], again[SYM_MAX_LOGICAL];
    assert_int_equal(ct_store_begin(store), 0);
    assert_int_equal(symbolizer_tail_frames(*state, store, ip, inside, ids), 1);
    assert_int_equal(symbolizer_tail_frames(*state, store, ip, inside, again), 1);
    assert_int_equal(again[0], ids[0]);
    assert_int_equal(ct_store_commit(store), 0);
    ct_store_close(store);

    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT id, function, line, inlined, tail_call "
                                        "FROM frames",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), ids[0]);
    assert_string_equal((const char *)sqlite3_column_text(st, 1), "jumper");
    assert_int_equal(sqlite3_column_int(st, 2), line_jump);
    assert_int_equal(sqlite3_column_int(st, 3), 0);
    assert_int_equal(sqlite3_column_int(st, 4), 1);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inlined_calls_expand_into_logical_frames_innermost_first),
        cmocka_unit_test(logical_frames_share_the_physical_frame_s_module_and_offset),
        cmocka_unit_test(a_call_not_inlined_is_one_frame),
        cmocka_unit_test(an_address_in_no_module_is_one_unknown_frame),
        cmocka_unit_test(a_frame_removed_by_a_tail_call_is_put_back_at_its_jump),
        cmocka_unit_test(a_plain_call_has_no_tail_frames),
        cmocka_unit_test(each_logical_frame_is_stored_once_with_its_own_id),
        cmocka_unit_test(a_tail_frame_is_stored_once_per_pair_marked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
