/*
 * test_claim.c — whose file a trace file is (ctxtrace/core/claim.h) and whose socket a
 * socket path is (ct_live_clear_stale, ctxtrace/core/livepath.h): the rules that keep
 * the tracer from ever destroying a user's file, one behaviour per test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <ctxtrace/core/claim.h>
#include <ctxtrace/core/livepath.h>
#include <ctxtrace/core/store.h>

static char dir[64];

static const char *in_dir(const char *name)
{
    static char path[4][256];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ct_claim.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void a_name_is_claimed_once(void **state)
{
    (void)state;
    struct ct_claim a, b;
    assert_int_equal(ct_claim_new(in_dir("once.db"), false, &a), 0);
    assert_int_equal(ct_claim_new(in_dir("once.db"), true, &b), EEXIST);
    assert_int_equal(b.fd, -1);
    ct_claim_close(&a);
}

static void a_stray_wal_makes_the_name_taken(void **state)
{
    (void)state;
    write_file(in_dir("stray.db-wal"), "old wal");
    struct ct_claim c;
    assert_int_equal(ct_claim_new(in_dir("stray.db"), true, &c), EEXIST);
    assert_false(exists(in_dir("stray.db")));
}

static void a_handed_claim_is_taken_by_one_writer(void **state)
{
    (void)state;
    struct ct_claim launcher, first, second;
    char token[64];
    assert_int_equal(ct_claim_new(in_dir("handed.db"), false, &launcher), 0);
    ct_claim_token(&launcher, token, sizeof token);
    assert_false(ct_claim_in_use(in_dir("handed.db")));
    assert_int_equal(ct_claim_take(in_dir("handed.db"), token, &first), 0);
    assert_true(ct_claim_in_use(in_dir("handed.db")));
    assert_int_equal(ct_claim_take(in_dir("handed.db"), token, &second), EEXIST);
    ct_claim_close(&first);
    assert_false(ct_claim_in_use(in_dir("handed.db")));
    ct_claim_close(&launcher);
}

static void a_token_names_one_file(void **state)
{
    (void)state;
    struct ct_claim launcher, taker;
    char token[64];
    assert_int_equal(ct_claim_new(in_dir("token.db"), false, &launcher), 0);
    ct_claim_token(&launcher, token, sizeof token);
    /* The same name, another file (replaced behind the launcher's back). */
    unlink(in_dir("token.db"));
    write_file(in_dir("token.db"), "");
    assert_int_equal(ct_claim_take(in_dir("token.db"), token, &taker), EEXIST);
    assert_int_equal(ct_claim_take(in_dir("token.db"), "garbage", &taker), EINVAL);
    ct_claim_close(&launcher);
}

static void a_written_file_is_never_taken(void **state)
{
    (void)state;
    struct ct_claim launcher, taker;
    char token[64];
    assert_int_equal(ct_claim_new(in_dir("written.db"), false, &launcher), 0);
    ct_claim_token(&launcher, token, sizeof token);
    assert_true(ct_claim_unused(&launcher, in_dir("written.db")));
    FILE *f = fopen(in_dir("written.db"), "a");
    fputs("data", f);
    fclose(f);
    assert_false(ct_claim_unused(&launcher, in_dir("written.db")));
    assert_int_equal(ct_claim_take(in_dir("written.db"), token, &taker), EEXIST);
    ct_claim_close(&launcher);
}

static void only_a_trace_is_a_trace(void **state)
{
    (void)state;
    assert_int_equal(ct_trace_probe(in_dir("absent.db")), CT_FILE_ABSENT);
    write_file(in_dir("notes.txt"), "my notes\n");
    assert_int_equal(ct_trace_probe(in_dir("notes.txt")), CT_FILE_OTHER);
    write_file(in_dir("empty.db"), "");
    assert_int_equal(ct_trace_probe(in_dir("empty.db")), CT_FILE_OTHER);
    assert_int_equal(ct_trace_probe(dir), CT_FILE_OTHER);
    char err[256];
    ct_store *s = ct_store_create(in_dir("real.db"), err, sizeof err);
    assert_non_null(s);
    ct_store_close(s);
    assert_int_equal(ct_trace_probe(in_dir("real.db")), CT_FILE_TRACE);
}

static void the_store_never_writes_into_a_file_with_data(void **state)
{
    (void)state;
    char err[256];
    write_file(in_dir("user.db"), "precious");
    assert_null(ct_store_create(in_dir("user.db"), err, sizeof err));
    assert_non_null(strstr(err, "already exists"));
}

/* A socket at `path` that nobody listens on any more. */
static void stale_socket(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    close(fd);
}

static void a_file_at_a_socket_path_is_left_alone(void **state)
{
    (void)state;
    char err[256];
    write_file(in_dir("reg.sock"), "precious");
    assert_int_equal(ct_live_clear_stale(in_dir("reg.sock"), err, sizeof err), EEXIST);
    assert_true(exists(in_dir("reg.sock")));
    assert_non_null(strstr(err, "not a socket"));
}

static void a_stale_socket_goes_only_from_a_private_directory(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(chmod(dir, 0755), 0);
    stale_socket(in_dir("shared.sock"));
    assert_int_equal(ct_live_clear_stale(in_dir("shared.sock"), err, sizeof err), EEXIST);
    assert_true(exists(in_dir("shared.sock")));
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(ct_live_clear_stale(in_dir("shared.sock"), err, sizeof err), 0);
    assert_false(exists(in_dir("shared.sock")));
}

static void a_served_socket_is_in_use(void **state)
{
    (void)state;
    char err[256];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", in_dir("live.sock"));
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(ct_live_clear_stale(in_dir("live.sock"), err, sizeof err), EADDRINUSE);
    assert_true(exists(in_dir("live.sock")));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_name_is_claimed_once),
        cmocka_unit_test(a_stray_wal_makes_the_name_taken),
        cmocka_unit_test(a_handed_claim_is_taken_by_one_writer),
        cmocka_unit_test(a_token_names_one_file),
        cmocka_unit_test(a_written_file_is_never_taken),
        cmocka_unit_test(only_a_trace_is_a_trace),
        cmocka_unit_test(the_store_never_writes_into_a_file_with_data),
        cmocka_unit_test(a_file_at_a_socket_path_is_left_alone),
        cmocka_unit_test(a_stale_socket_goes_only_from_a_private_directory),
        cmocka_unit_test(a_served_socket_is_in_use),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
