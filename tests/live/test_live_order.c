/*
 * test_live_order.c — the live model (preload/src/live.c) when the writer drains a
 * context's events out of order: rings are drained one after another, so the event a
 * thread recorded just before another thread freed the context (the owners' release,
 * a cancellation from above) can reach the model a drain after the free. The model must
 * still judge that context on all of its facts — its findings-so-far flags and its site's
 * counts (SITE_COUNTS) — and clients must still see its frames in time order, the free
 * last. Events are fed to live_collect / live_publish by hand, drain by drain, in the
 * order ring_drain_all can produce; the server (server.c) is replaced by a recorder, so
 * what a client would receive is decoded and checked whole: snapshot, then events.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ctxtrace/core/wire.h>
#include <ctxtrace/tracer.h>

#include "live.h"
#include "shim.h"

/* ---- what live.c needs of the rest of the shim ---------------------------------------- */

static bool clients;            /* is a client connected (live_server_has_clients)? */
static uint8_t stream[1 << 16]; /* what the client received: snapshot, then broadcasts */
static size_t stream_len;

static void put(void *arg, const uint8_t *frame, size_t len)
{
    (void)arg;
    assert_true(stream_len + len <= sizeof stream);
    memcpy(stream + stream_len, frame, len);
    stream_len += len;
}

bool live_server_has_clients(void)
{
    return clients;
}

void live_server_broadcast(const uint8_t *frames, size_t len)
{
    assert_true(clients); /* nothing is sent to nobody */
    put(NULL, frames, len);
}

bool shim_exit_check_result(const char **status, const char **reach, int64_t *ns)
{
    (void)status, (void)reach, (void)ns;
    return false;
}

/* No EV_STACK is fed: every context is of sites.items[0] (no known stack). */
int symbolizer_describe(struct symbolizer *s, uint64_t ip, struct sym_frame out[SYM_MAX_LOGICAL])
{
    (void)s, (void)ip, (void)out;
    fail_msg("no stack is symbolized in this test");
    return 0;
}

int symbolizer_describe_tail(struct symbolizer *s, uint64_t ip, uint64_t inner_ip,
                             struct sym_frame out[SYM_MAX_LOGICAL])
{
    (void)s, (void)ip, (void)inner_ip, (void)out;
    fail_msg("no stack is symbolized in this test");
    return 0;
}

/* ---- events ---------------------------------------------------------------------------- */

enum { A = 1, B = 2, C = 3 }; /* recording threads */
enum { CTX = 10, PARENT = 9 };

static void collect(uint16_t type, uint32_t thread, int64_t ts, uint64_t id, int64_t a,
                    int64_t b, int64_t d)
{
    struct ev e = {.type = type, .size = sizeof e, .thread = thread, .ts = ts, .id = id,
                   .a = a, .b = b, .d = d};
    live_collect(&e);
}

static void create(uint32_t thread, int64_t ts, uint64_t id)
{
    collect(EV_CREATE, thread, ts, id, PARENT, CTX_KIND_CANCEL, 0);
}

static void release(uint32_t thread, int64_t ts, uint64_t id, bool live)
{
    collect(EV_UNOWNED, thread, ts, id, live, 0, 0);
}

static void cancel_from_above(uint32_t thread, int64_t ts, uint64_t id, int64_t origin)
{
    collect(EV_CANCEL, thread, ts, id, CTX_WHY_PARENT, ECANCELED, origin);
}

static void free_ctx(uint32_t thread, int64_t ts, uint64_t id)
{
    collect(EV_FREE, thread, ts, id, 0, 0, 0);
}

/* A fresh model, and a client connected to it now (or none). */
static int fresh(void **state)
{
    (void)state;
    live_model_forget_in_child();
    live_model_init(NULL);
    stream_len = 0;
    clients = false;
    return 0;
}

static void connect_client(void)
{
    clients = true;
    live_snapshot(put, NULL, false);
}

/* ---- what the client got --------------------------------------------------------------- */

struct seen {
    int creates, releases, frees, cancels;
    bool in_time_order;     /* event frames' timestamps never go back */
    bool free_last;         /* no frame about CTX after its FREE */
    bool ctx_in_tree;       /* CTX is in the client's tree at the end */
    uint8_t flags;          /* CTX's last CONTEXT flags (in a snapshot) */
    int64_t lost_cancel;    /* site 0's last SITE_COUNTS */
    int64_t created, freed, live;
};

static struct seen decode(void)
{
    struct seen s = {.in_time_order = true, .free_last = true};
    ct_wire_decoder *d = ct_wire_decoder_new();
    assert_non_null(d);
    assert_int_equal(ct_wire_feed(d, stream, stream_len), stream_len);
    struct ct_wire_msg m;
    int64_t last_ts = INT64_MIN;
    bool freed = false;
    int rc;
    while ((rc = ct_wire_next(d, &m)) == CT_WIRE_OK) {
        int64_t ts = INT64_MIN;
        uint64_t id = 0;
        switch (m.type) {
        case CT_WIRE_CONTEXT:
            if (m.u.context.id == CTX) {
                s.ctx_in_tree = true;
                s.flags = m.u.context.flags;
            }
            break;
        case CT_WIRE_SITE_COUNTS:
            if (m.u.site_counts.stack == 0) {
                s.lost_cancel = m.u.site_counts.lost_cancel;
                s.created = m.u.site_counts.created;
                s.freed = m.u.site_counts.freed;
                s.live = m.u.site_counts.live;
            }
            break;
        case CT_WIRE_CREATE:
            s.creates++;
            ts = m.u.create.ts, id = m.u.create.id;
            if (id == CTX)
                s.ctx_in_tree = true;
            break;
        case CT_WIRE_RELEASE:
            s.releases++;
            ts = m.u.release.ts, id = m.u.release.id;
            break;
        case CT_WIRE_CANCEL:
            s.cancels++;
            ts = m.u.cancel.ts, id = m.u.cancel.id;
            break;
        case CT_WIRE_FREE:
            s.frees++;
            ts = m.u.free.ts, id = m.u.free.id;
            if (id == CTX)
                s.ctx_in_tree = false;
            break;
        default:
            break;
        }
        if (ts != INT64_MIN) {
            s.in_time_order = s.in_time_order && ts >= last_ts;
            last_ts = ts;
            if (id == CTX) {
                s.free_last = s.free_last && !freed;
                freed = freed || m.type == CT_WIRE_FREE;
            }
        }
    }
    assert_int_equal(rc, CT_WIRE_MORE);
    ct_wire_decoder_free(d);
    return s;
}

/* The site's counts as a client connecting now would get them. */
static struct seen counts_now(void)
{
    size_t mark = stream_len;
    bool had = clients;
    clients = true;
    live_snapshot(put, NULL, false);
    clients = had;
    /* Decode the snapshot alone. */
    memmove(stream, stream + mark, stream_len - mark);
    stream_len -= mark;
    return decode();
}

/* ---- the tests --------------------------------------------------------------------------- */

/* Thread A lets go of a live context (a lost cancel) at 200; thread B, holding the last
 * reference, frees it at 300. The writer read A's ring just before A's release was
 * committed and B's just after the free: the free comes a drain before the release. */
static void release_drained_after_the_free_is_judged(void **state)
{
    (void)state;
    connect_client();
    create(A, 100, CTX);
    live_publish(false);
    free_ctx(B, 300, CTX);
    live_publish(false);
    release(A, 200, CTX, true);
    live_publish(false);
    live_sample(&(struct ct_sample_row){.ts_ns = 400});
    struct seen s = decode();
    assert_int_equal(s.lost_cancel, 1);
    assert_int_equal(s.creates, 1);
    assert_int_equal(s.releases, 1);
    assert_int_equal(s.frees, 1);
    assert_true(s.in_time_order);
    assert_true(s.free_last);
    assert_false(s.ctx_in_tree);
    assert_int_equal(s.created, 1);
    assert_int_equal(s.freed, 1);
    assert_int_equal(s.live, 0);
}

/* The same with no client connected, the release one drain late again: contexts created
 * and freed in one drain are counted without entering the model — but not this one,
 * whose release was not in that drain. */
static void release_drained_after_the_free_is_judged_without_clients(void **state)
{
    (void)state;
    create(A, 100, CTX);
    free_ctx(B, 300, CTX);
    live_publish(false);
    release(A, 200, CTX, true);
    live_publish(false);
    struct seen s = counts_now();
    assert_false(s.ctx_in_tree);
    assert_int_equal(s.lost_cancel, 1);
    assert_int_equal(s.created, 1);
    assert_int_equal(s.freed, 1);
    assert_int_equal(s.live, 0);
}

/* A let go of it live at 200 (lost cancel so far); C had begun cancelling its parent at
 * 150 and reached it at 250 (so the cancel was on its way: no finding, as the trace file
 * will say); B freed it at 400. C's cancel is drained after B's free: the flag set at the
 * release must be withdrawn. */
static void cancel_drained_after_the_free_withdraws_the_finding(void **state)
{
    (void)state;
    connect_client();
    create(A, 100, CTX);
    release(A, 200, CTX, true);
    live_publish(false);
    struct seen s = counts_now();
    assert_int_equal(s.lost_cancel, 1);
    assert_true(s.ctx_in_tree);
    assert_true(s.flags & CT_WIRE_LOST_CANCEL);
    stream_len = 0;
    clients = false;
    connect_client();
    free_ctx(B, 400, CTX);
    live_publish(false);
    cancel_from_above(C, 250, CTX, 150);
    live_publish(false);
    live_sample(&(struct ct_sample_row){.ts_ns = 500});
    s = decode();
    assert_int_equal(s.lost_cancel, 0);
    assert_int_equal(s.cancels, 1);
    assert_int_equal(s.frees, 1);
    assert_true(s.in_time_order);
    assert_true(s.free_last);
    assert_false(s.ctx_in_tree);
    assert_int_equal(s.freed, 1);
}

/* A client that connects while a free is held (between two drains) has the context in
 * its snapshot, then its release and its free; the last publish (the end of the process)
 * holds nothing back. With no client only the free waited: CTX + 1, created after it,
 * is in the snapshot. */
static void client_between_a_free_and_its_release_follows_the_tree(void **state)
{
    (void)state;
    create(A, 100, CTX);
    live_publish(false);
    free_ctx(B, 300, CTX);
    create(B, 310, CTX + 1);
    live_publish(false);
    connect_client();
    release(A, 200, CTX, false);
    free_ctx(B, 320, CTX + 1);
    live_publish(false);
    struct seen s = decode();
    assert_int_equal(s.releases, 1);
    assert_int_equal(s.frees, 1); /* CTX's; CTX + 1's is held */
    assert_int_equal(s.creates, 0);
    assert_true(s.in_time_order);
    assert_false(s.ctx_in_tree);
    live_publish(true);
    live_sample(&(struct ct_sample_row){.ts_ns = 400});
    s = decode();
    assert_int_equal(s.frees, 2);
    assert_true(s.in_time_order);
    assert_int_equal(s.lost_cancel, 0);
    assert_int_equal(s.created, 2);
    assert_int_equal(s.freed, 2);
    assert_int_equal(s.live, 0);
}

/* With no client, a context created, let go of while done and freed in one drain is
 * counted without entering the model: nothing drained later can make it a finding. */
static void released_done_passes_without_clients(void **state)
{
    (void)state;
    create(A, 100, CTX);
    release(A, 200, CTX, false);
    free_ctx(B, 300, CTX);
    live_publish(false);
    cancel_from_above(C, 150, CTX, 140);
    live_publish(false);
    struct seen s = counts_now();
    assert_false(s.ctx_in_tree);
    assert_int_equal(s.lost_cancel, 0);
    assert_int_equal(s.created, 1);
    assert_int_equal(s.freed, 1);
    assert_int_equal(s.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(release_drained_after_the_free_is_judged, fresh),
        cmocka_unit_test_setup(release_drained_after_the_free_is_judged_without_clients, fresh),
        cmocka_unit_test_setup(cancel_drained_after_the_free_withdraws_the_finding, fresh),
        cmocka_unit_test_setup(client_between_a_free_and_its_release_follows_the_tree, fresh),
        cmocka_unit_test_setup(released_done_passes_without_clients, fresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
