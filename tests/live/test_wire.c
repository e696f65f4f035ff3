/*
 * test_wire.c — the live wire format (libctxtrace/core/wire.c, docs/wire.md): every
 * frame type survives encode -> decode, byte by byte as well as whole, and every kind
 * of malformed input is refused with the right status, for good.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ctxtrace/core/wire.h>

static const struct ct_wire_msg hello = {
    CT_WIRE_HELLO, .u.hello = {CT_WIRE_MAGIC, CT_WIRE_VERSION, 4242, 1000, "/bin/server"}};

/* One message of every type, with every field set to something recognisable. */
static const struct ct_wire_msg every[] = {
    {CT_WIRE_HELLO, .u.hello = {CT_WIRE_MAGIC, CT_WIRE_VERSION, 4242, 1000, "/bin/server"}},
    {CT_WIRE_SITE, .u.site = {0xfeedfacecafebeefull, 42, "/bin/server", "handle", "srv.c"}},
    {CT_WIRE_CONTEXT, .u.context = {7, 3, 99, 5, 1, 2, CT_WIRE_FLAGS_ALL, 2, 110, -5, 6, 8,
                                    4, 9, "deadline"}},
    {CT_WIRE_SNAPSHOT_END, .u.snapshot_end = {123456}},
    {CT_WIRE_CREATE, .u.create = {INT64_MIN, 9, 4, UINT64_MAX, 1, 2, 3, INT64_MAX}},
    {CT_WIRE_CANCEL, .u.cancel = {5, 1, 0, 125, -1, 7, 8, 5, "client went away"}},
    {CT_WIRE_CANCEL, .u.cancel = {5, 1, 1, 125, 0, 7, 0, 3, NULL}},
    {CT_WIRE_RELEASE, .u.release = {6, 1, 1, 7, 8}},
    {CT_WIRE_FREE, .u.free = {7, 2, 7}},
    {CT_WIRE_TIMER, .u.timer = {8, 2, 7}},
    {CT_WIRE_WAIT, .u.wait = {9, 3, CT_WIRE_WAIT_WOKEN, 110, 7, 12, 13}},
    {CT_WIRE_THREAD, .u.thread = {10, 4, 1, CT_WIRE_THREAD_START, 31337, 14}},
    {CT_WIRE_SAMPLE, .u.sample = {11, 1, 2, 3, 4, 5}},
    {CT_WIRE_BYE, .u.bye = {CT_WIRE_BYE_SLOW, "too slow"}},
    {CT_WIRE_EXIT_THREAD, .u.exit_thread = {12, 5, 31338, CT_WIRE_EXIT_BLOCKED, 202, 1, 15}},
    {CT_WIRE_EXIT_THREAD, .u.exit_thread = {12, 0, 31339, CT_WIRE_EXIT_RUNNING, -1, 0, 0}},
    {CT_WIRE_EXIT_REACH, .u.exit_reach = {7, CT_WIRE_REACH_STUCK}},
    {CT_WIRE_EXIT_CHECK, .u.exit_check = {13, "done", "unknown: the writer is busy"}},
    {CT_WIRE_EXIT_CHECK, .u.exit_check = {0, "abandoned: no", NULL}},
    {CT_WIRE_RESYNC, .u.resync = {14, 123456780, 123456789, UINT64_MAX, 3}},
    {CT_WIRE_SITE_COUNTS, .u.site_counts = {99, 1000000, 999000, 1000, 17, 2, INT64_MAX}},
};
enum { NEVERY = sizeof every / sizeof every[0] };

static void streq_or_null(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

/* Field-wise equality: decoded strings live elsewhere than the originals. */
static void assert_msg_equal(const struct ct_wire_msg *a, const struct ct_wire_msg *b)
{
    assert_int_equal(a->type, b->type);
    struct ct_wire_msg x = *a, y = *b;
    const char **sx[3] = {0}, **sy[3] = {0};
    switch (a->type) {
    case CT_WIRE_HELLO: sx[0] = &x.u.hello.program; sy[0] = &y.u.hello.program; break;
    case CT_WIRE_SITE:
        sx[0] = &x.u.site.module, sy[0] = &y.u.site.module;
        sx[1] = &x.u.site.function, sy[1] = &y.u.site.function;
        sx[2] = &x.u.site.file, sy[2] = &y.u.site.file;
        break;
    case CT_WIRE_CONTEXT: sx[0] = &x.u.context.reason; sy[0] = &y.u.context.reason; break;
    case CT_WIRE_CANCEL: sx[0] = &x.u.cancel.reason; sy[0] = &y.u.cancel.reason; break;
    case CT_WIRE_BYE: sx[0] = &x.u.bye.text; sy[0] = &y.u.bye.text; break;
    case CT_WIRE_EXIT_CHECK:
        sx[0] = &x.u.exit_check.status, sy[0] = &y.u.exit_check.status;
        sx[1] = &x.u.exit_check.reach, sy[1] = &y.u.exit_check.reach;
        break;
    default: break;
    }
    for (int i = 0; i < 3 && sx[i] != NULL; i++) {
        streq_or_null(*sx[i], *sy[i]);
        *sx[i] = *sy[i] = NULL;
    }
    assert_memory_equal(&x, &y, sizeof x);
}

/* Encode every message into one stream. */
static size_t encode_all(uint8_t *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < NEVERY; i++) {
        size_t w = ct_wire_encode(&every[i], buf + n, cap - n);
        assert_true(w >= CT_WIRE_HEADER);
        n += w;
    }
    return n;
}

static void every_frame_type_round_trips(void **state)
{
    (void)state;
    static uint8_t buf[NEVERY * CT_WIRE_MAX_FRAME];
    size_t n = encode_all(buf, sizeof buf);
    ct_wire_decoder *d = ct_wire_decoder_new();
    assert_int_equal(ct_wire_feed(d, buf, n), n);
    struct ct_wire_msg m;
    for (int i = 0; i < NEVERY; i++) {
        assert_int_equal(ct_wire_next(d, &m), CT_WIRE_OK);
        assert_msg_equal(&m, &every[i]);
    }
    assert_int_equal(ct_wire_next(d, &m), CT_WIRE_MORE);
    ct_wire_decoder_free(d);
}

static void frames_split_at_every_byte_decode_the_same(void **state)
{
    (void)state;
    static uint8_t buf[NEVERY * CT_WIRE_MAX_FRAME];
    size_t n = encode_all(buf, sizeof buf);
    ct_wire_decoder *d = ct_wire_decoder_new();
    struct ct_wire_msg m;
    int got = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ct_wire_feed(d, buf + i, 1), 1);
        int rc;
        while ((rc = ct_wire_next(d, &m)) == CT_WIRE_OK)
            assert_msg_equal(&m, &every[got++]);
        assert_int_equal(rc, CT_WIRE_MORE);
    }
    assert_int_equal(got, NEVERY);
    ct_wire_decoder_free(d);
}

static void raw_gives_the_frame_bytes(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    size_t n = ct_wire_encode(&hello, buf, sizeof buf);
    ct_wire_decoder *d = ct_wire_decoder_new();
    ct_wire_feed(d, buf, n);
    struct ct_wire_msg m;
    assert_int_equal(ct_wire_next(d, &m), CT_WIRE_OK);
    size_t len;
    const uint8_t *raw = ct_wire_raw(d, &len);
    assert_int_equal(len, n);
    assert_memory_equal(raw, buf, n);
    ct_wire_decoder_free(d);
}

static void long_strings_are_truncated_not_refused(void **state)
{
    (void)state;
    char *big = malloc(3 * CT_WIRE_MAX_STRING);
    memset(big, 'x', 3 * CT_WIRE_MAX_STRING - 1);
    big[3 * CT_WIRE_MAX_STRING - 1] = '\0';
    struct ct_wire_msg site = {CT_WIRE_SITE, .u.site = {1, 2, big, big, big}};
    uint8_t buf[CT_WIRE_MAX_FRAME];
    size_t n = ct_wire_encode(&site, buf, sizeof buf);
    assert_true(n > 0 && n <= CT_WIRE_MAX_FRAME);
    ct_wire_decoder *d = ct_wire_decoder_new();
    struct ct_wire_msg m;
    uint8_t hb[CT_WIRE_MAX_FRAME];
    ct_wire_feed(d, hb, ct_wire_encode(&hello, hb, sizeof hb));
    ct_wire_feed(d, buf, n);
    assert_int_equal(ct_wire_next(d, &m), CT_WIRE_OK);
    assert_int_equal(ct_wire_next(d, &m), CT_WIRE_OK);
    assert_int_equal(strlen(m.u.site.file), CT_WIRE_MAX_STRING - 1);
    free(big);
    ct_wire_decoder_free(d);
}

static void encode_refuses_a_buffer_too_small_and_unknown_types(void **state)
{
    (void)state;
    uint8_t buf[16];
    assert_int_equal(ct_wire_encode(&hello, buf, sizeof buf), 0);
    struct ct_wire_msg bad = {.type = CT_WIRE_TYPE_COUNT};
    uint8_t big[CT_WIRE_MAX_FRAME];
    assert_int_equal(ct_wire_encode(&bad, big, sizeof big), 0);
}

/* Decode `len` bytes after a valid HELLO (unless `with_hello` is false); the status of
 * the first non-OK result, which must then stick. */
static int decode_status(const uint8_t *bytes, size_t len, bool with_hello)
{
    ct_wire_decoder *d = ct_wire_decoder_new();
    uint8_t hb[CT_WIRE_MAX_FRAME];
    if (with_hello)
        ct_wire_feed(d, hb, ct_wire_encode(&hello, hb, sizeof hb));
    ct_wire_feed(d, bytes, len);
    struct ct_wire_msg m;
    int rc;
    while ((rc = ct_wire_next(d, &m)) == CT_WIRE_OK)
        ;
    if (rc < 0) {
        assert_int_equal(ct_wire_next(d, &m), rc);
        size_t cap;
        assert_null(ct_wire_space(d, &cap));
        assert_int_equal(cap, 0);
    }
    ct_wire_decoder_free(d);
    return rc;
}

static size_t encode(const struct ct_wire_msg *m, uint8_t *buf)
{
    return ct_wire_encode(m, buf, CT_WIRE_MAX_FRAME);
}

static void garbage_is_not_a_stream(void **state)
{
    (void)state;
    const char *junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(decode_status((const uint8_t *)junk, strlen(junk), false), CT_WIRE_EMAGIC);
}

static void a_stream_must_start_with_hello(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    size_t n = encode(&every[4], buf);
    assert_int_equal(decode_status(buf, n, false), CT_WIRE_EMAGIC);
}

static void a_wrong_magic_or_version_is_refused(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg m = hello;
    m.u.hello.magic ^= 1;
    assert_int_equal(decode_status(buf, encode(&m, buf), false), CT_WIRE_EMAGIC);
    m = hello;
    m.u.hello.version = CT_WIRE_VERSION + 1;
    assert_int_equal(decode_status(buf, encode(&m, buf), false), CT_WIRE_EVERSION);
    m.u.hello.version = CT_WIRE_VERSION_MIN - 1;
    assert_int_equal(decode_status(buf, encode(&m, buf), false), CT_WIRE_EVERSION);
}

/* Versions 3 and 4 only added frame types: a version 2 server's stream is read as it
 * was, and so is a version 3 server's. */
static void the_previous_version_is_still_read(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg m = hello;
    m.u.hello.version = CT_WIRE_VERSION_MIN;
    assert_int_equal(decode_status(buf, encode(&m, buf), false), CT_WIRE_MORE);
    m.u.hello.version = 3;
    assert_int_equal(decode_status(buf, encode(&m, buf), false), CT_WIRE_MORE);
}

/* The frames version 4 added, at their sizes in docs/wire.md: RESYNC i64, three u64, u32,
 * SITE_COUNTS u64 and six i64. */
static void resync_and_site_counts_have_the_documented_layout(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg r = {CT_WIRE_RESYNC, .u.resync = {1, 2, 3, 4, 5}};
    assert_int_equal(ct_wire_encode(&r, buf, sizeof buf), CT_WIRE_HEADER + 8 + 3 * 8 + 4);
    assert_int_equal(buf[4], 17);
    assert_int_equal(buf[CT_WIRE_HEADER + 8], 2); /* events, after ts */
    assert_int_equal(buf[CT_WIRE_HEADER + 32], 5); /* resyncs, last */
    struct ct_wire_msg c = {CT_WIRE_SITE_COUNTS, .u.site_counts = {5, 6, 7, 8, 9, 10, 11}};
    assert_int_equal(ct_wire_encode(&c, buf, sizeof buf), CT_WIRE_HEADER + 8 + 6 * 8);
    assert_int_equal(buf[4], 18);
    assert_int_equal(buf[CT_WIRE_HEADER + 8 + 5 * 8], 11); /* ineffective_deadline, last */
    assert_string_equal(ct_wire_type_name(CT_WIRE_RESYNC), "resync");
    assert_string_equal(ct_wire_type_name(CT_WIRE_SITE_COUNTS), "site_counts");
}

static void an_oversize_length_is_refused_from_the_header_alone(void **state)
{
    (void)state;
    uint8_t hdr[CT_WIRE_HEADER] = {0xff, 0xff, 0xff, 0x7f, CT_WIRE_FREE, 0, 0, 0};
    assert_int_equal(decode_status(hdr, sizeof hdr, true), CT_WIRE_ELENGTH);
    uint32_t just_over = CT_WIRE_MAX_BODY + 1;
    memcpy(hdr, &just_over, 4);
    assert_int_equal(decode_status(hdr, sizeof hdr, true), CT_WIRE_ELENGTH);
}

static void a_truncated_frame_waits_for_more(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    size_t n = encode(&every[5], buf);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(decode_status(buf, cut, true), CT_WIRE_MORE);
}

static void a_body_of_the_wrong_length_is_refused(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME + 1];
    size_t n = encode(&every[8], buf); /* FREE: fixed size */
    uint32_t body = (uint32_t)(n - CT_WIRE_HEADER);
    uint32_t shorter = body - 1, longer = body + 1;
    memcpy(buf, &shorter, 4);
    assert_int_equal(decode_status(buf, n - 1, true), CT_WIRE_ELENGTH);
    memcpy(buf, &longer, 4);
    buf[n] = 0;
    assert_int_equal(decode_status(buf, n + 1, true), CT_WIRE_ELENGTH);
}

static void out_of_range_fields_are_refused(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg m = every[4]; /* CREATE: kind at body offset 12 */
    size_t n = encode(&m, buf);
    buf[CT_WIRE_HEADER + 12] = 6;
    assert_int_equal(decode_status(buf, n, true), CT_WIRE_EFIELD);
    m = every[9]; /* TIMER: event at body offset 8 */
    n = encode(&m, buf);
    buf[CT_WIRE_HEADER + 8] = 3;
    assert_int_equal(decode_status(buf, n, true), CT_WIRE_EFIELD);
    n = encode(&every[8], buf); /* reserved header bits */
    buf[6] = 1;
    assert_int_equal(decode_status(buf, n, true), CT_WIRE_EFIELD);
}

static void malformed_strings_are_refused(void **state)
{
    (void)state;
    uint8_t buf[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg m = {CT_WIRE_BYE, .u.bye = {0, "abc"}};
    size_t n = encode(&m, buf); /* body: reason, u16 4, "abc\0" */
    buf[n - 1] = 'x';           /* no terminating NUL */
    assert_int_equal(decode_status(buf, n, true), CT_WIRE_EFIELD);
    n = encode(&m, buf);
    buf[n - 3] = '\0';          /* a NUL inside */
    assert_int_equal(decode_status(buf, n, true), CT_WIRE_EFIELD);
    n = encode(&m, buf);
    buf[CT_WIRE_HEADER + 1] = 9; /* string longer than the body */
    assert_int_equal(decode_status(buf, n, true), CT_WIRE_ELENGTH);
}

static void unknown_frame_types_are_skipped(void **state)
{
    (void)state;
    uint8_t buf[2 * CT_WIRE_MAX_FRAME];
    uint8_t future[CT_WIRE_HEADER + 3] = {3, 0, 0, 0, 200, 0, 0, 0, 1, 2, 3};
    memcpy(buf, future, sizeof future);
    size_t n = sizeof future + encode(&every[8], buf + sizeof future);
    ct_wire_decoder *d = ct_wire_decoder_new();
    uint8_t hb[CT_WIRE_MAX_FRAME];
    ct_wire_feed(d, hb, ct_wire_encode(&hello, hb, sizeof hb));
    ct_wire_feed(d, buf, n);
    struct ct_wire_msg m;
    assert_int_equal(ct_wire_next(d, &m), CT_WIRE_OK);
    assert_int_equal(ct_wire_next(d, &m), CT_WIRE_OK);
    assert_msg_equal(&m, &every[8]);
    ct_wire_decoder_free(d);
}

static void names_cover_every_type_and_reason(void **state)
{
    (void)state;
    assert_string_equal(ct_wire_type_name(CT_WIRE_CONTEXT), "context");
    assert_string_equal(ct_wire_type_name(CT_WIRE_TYPE_COUNT), "unknown");
    for (int t = 1; t < CT_WIRE_TYPE_COUNT; t++)
        assert_string_not_equal(ct_wire_type_name((enum ct_wire_type)t), "unknown");
    for (int r = 0; r < CT_WIRE_BYE_COUNT; r++)
        assert_string_not_equal(ct_wire_bye_name(r), "unknown");
    assert_string_equal(ct_wire_bye_name(CT_WIRE_BYE_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_frame_type_round_trips),
        cmocka_unit_test(frames_split_at_every_byte_decode_the_same),
        cmocka_unit_test(raw_gives_the_frame_bytes),
        cmocka_unit_test(long_strings_are_truncated_not_refused),
        cmocka_unit_test(encode_refuses_a_buffer_too_small_and_unknown_types),
        cmocka_unit_test(garbage_is_not_a_stream),
        cmocka_unit_test(a_stream_must_start_with_hello),
        cmocka_unit_test(a_wrong_magic_or_version_is_refused),
        cmocka_unit_test(the_previous_version_is_still_read),
        cmocka_unit_test(resync_and_site_counts_have_the_documented_layout),
        cmocka_unit_test(an_oversize_length_is_refused_from_the_header_alone),
        cmocka_unit_test(a_truncated_frame_waits_for_more),
        cmocka_unit_test(a_body_of_the_wrong_length_is_refused),
        cmocka_unit_test(out_of_range_fields_are_refused),
        cmocka_unit_test(malformed_strings_are_refused),
        cmocka_unit_test(unknown_frame_types_are_skipped),
        cmocka_unit_test(names_cover_every_type_and_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
