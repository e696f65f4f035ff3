/*
 * test_values.c — request values: Go's TestValues, value destructors, and
 * WithoutCancel (Go 1.21).
 */
#include "testutil.h"

/* Go's k1, k2, k3: keys are compared by address only. */
static int k1, k2, k3;

static void check(ctx_t *c, const char *v1, const char *v2, const char *v3)
{
    if (v1)
        assert_string_equal(ctx_value(c, &k1), v1);
    else
        assert_null(ctx_value(c, &k1));
    if (v2)
        assert_string_equal(ctx_value(c, &k2), v2);
    else
        assert_null(ctx_value(c, &k2));
    if (v3)
        assert_string_equal(ctx_value(c, &k3), v3);
    else
        assert_null(ctx_value(c, &k3));
}

/* Go TestValues: lookups walk up the chain; the nearest value wins, NULL included. */
static void Values(void **state)
{
    (void)state;
    check(ctx_background(), NULL, NULL, NULL);
    ctx_t *c1 = ctx_with_value(ctx_background(), &k1, "c1k1", NULL);
    check(c1, "c1k1", NULL, NULL);
    ctx_t *c2 = ctx_with_value(c1, &k2, "c2k2", NULL);
    check(c2, "c1k1", "c2k2", NULL);
    ctx_t *c3 = ctx_with_value(c2, &k3, "c3k3", NULL);
    check(c3, "c1k1", "c2k2", "c3k3");
    ctx_t *c4 = ctx_with_value(c3, &k1, NULL, NULL);
    check(c4, NULL, "c2k2", "c3k3");

    /* Go's otherContext wrappers: cancel and deadline layers in between. */
    ctx_t *o1 = ctx_with_cancel(c1);
    check(o1, "c1k1", NULL, NULL);
    ctx_t *o2 = ctx_with_value(o1, &k2, "o2k2", NULL);
    check(o2, "c1k1", "o2k2", NULL);
    ctx_t *o3 = ctx_with_timeout(c4, VERY_LONG_NS);
    check(o3, NULL, "c2k2", "c3k3");
    ctx_t *o4 = ctx_with_value(o3, &k3, NULL, NULL);
    check(o4, NULL, "c2k2", NULL);
    check(c1, "c1k1", NULL, NULL); /* parents unchanged */

    ctx_t *all[] = {o4, o3, o2, o1, c4, c3, c2, c1};
    for (int i = 0; i < 8; i++)
        ctx_release(all[i]);
}

/* Values survive cancellation (Go testLayers' checkValues after cancel). */
static void ValuesSurviveCancel(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &k1, "x", NULL);
    ctx_t *c = ctx_with_cancel(v);
    ctx_cancel(p);
    assert_done(v, CTX_CANCELED);
    check(c, "x", NULL, NULL);
    ctx_release(c);
    ctx_release(v);
    ctx_release(p);
}

/* Contract: a value context's done-ness and deadline come from its parent. */
static void ValueDoneComesFromParent(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_timeout(ctx_background(), VERY_LONG_NS);
    ctx_t *v = ctx_with_value(p, &k1, NULL, NULL);
    int64_t dp, dv;
    assert_true(ctx_deadline(p, &dp));
    assert_true(ctx_deadline(v, &dv));
    assert_int_equal(dv, dp);
    assert_live(v);
    ctx_cancel_cause(p, EPIPE, "gone");
    assert_done(v, CTX_CANCELED);
    const char *reason = NULL;
    assert_int_equal(ctx_cause(v, &reason), EPIPE);
    assert_string_equal(reason, "gone");
    ctx_release(v);
    ctx_release(p);
}

struct tracked {
    atomic_int destroyed;
};

static void destroy_tracked(void *v)
{
    atomic_fetch_add(&((struct tracked *)v)->destroyed, 1);
}

/* Contract: destroy(value) runs exactly once, when the context is freed. */
static void ValueDestroyRunsOnceAtFree(void **state)
{
    (void)state;
    struct tracked t = {0};
    ctx_t *v = ctx_with_value(ctx_background(), &k1, &t, destroy_tracked);
    ctx_ref(v);
    ctx_unref(v);
    assert_int_equal(atomic_load(&t.destroyed), 0);
    ctx_release(v); /* the last reference */
    assert_int_equal(atomic_load(&t.destroyed), 1);

    /* A NULL destroy is fine. */
    ctx_release(ctx_with_value(ctx_background(), &k1, &t, NULL));
    assert_int_equal(atomic_load(&t.destroyed), 1);
}

/* Contract: a child holds its parent alive, so destroy waits for the child. */
static void ValueDestroyWaitsForChildren(void **state)
{
    (void)state;
    struct tracked t = {0}, u = {0};
    ctx_t *v = ctx_with_value(ctx_background(), &k1, &t, destroy_tracked);
    ctx_t *c = ctx_with_cancel(v);
    ctx_t *w = ctx_with_value(c, &k2, &u, destroy_tracked);
    ctx_unref(v);
    ctx_release(c); /* cancelled and unowned, but w's reference keeps it (and v) */
    assert_int_equal(atomic_load(&t.destroyed), 0);
    assert_ptr_equal(ctx_value(w, &k1), &t);
    assert_done(w, CTX_CANCELED);
    ctx_release(w);
    assert_int_equal(atomic_load(&t.destroyed), 1);
    assert_int_equal(atomic_load(&u.destroyed), 1);
}

/* Contract: a value under a cancellable parent is freed (destroyed) with its last ref,
 * and its parent's cancellation does not free it early. */
static void ValueDestroyUnderCancellableParent(void **state)
{
    (void)state;
    struct tracked t = {0};
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &k1, &t, destroy_tracked);
    ctx_release(p);
    assert_int_equal(atomic_load(&t.destroyed), 0);
    assert_ptr_equal(ctx_value(v, &k1), &t);
    assert_done(v, CTX_CANCELED);
    ctx_release(v);
    assert_int_equal(atomic_load(&t.destroyed), 1);
}

/* Go TestWithoutCancel: values kept, never done, no deadline, parent cancel not seen. */
static void WithoutCancel(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_timeout(ctx_background(), VERY_LONG_NS);
    ctx_t *v = ctx_with_value(p, &k1, "kept", NULL);
    ctx_t *w = ctx_without_cancel(v);
    ctx_t *wv = ctx_with_value(w, &k2, "below", NULL);
    ctx_t *wc = ctx_with_cancel(w);
    check(w, "kept", NULL, NULL);
    check(wv, "kept", "below", NULL);
    assert_false(ctx_deadline(w, NULL));
    assert_false(ctx_deadline(wc, NULL));
    ctx_cancel_cause(p, EPIPE, "request over");
    assert_done(v, CTX_CANCELED);
    ctx_t *list[] = {w, wv, wc};
    for (int i = 0; i < 3; i++) {
        assert_live(list[i]);
        assert_int_equal(ctx_cause(list[i], NULL), 0);
        assert_int_equal(ctx_wait(list[i], CTX_MILLISECOND), ETIMEDOUT);
    }
    check(wv, "kept", "below", NULL);
    ctx_cancel(w); /* a no-op */
    assert_live(w);
    ctx_cancel(wc); /* cancellable below it, on its own */
    assert_done(wc, CTX_CANCELED);
    assert_live(w);
    ctx_release(wc);
    ctx_release(wv);
    ctx_release(w);
    ctx_release(v);
    ctx_release(p);
}

/* WithoutCancel of a cancelled parent is live; its values outlive the parent's owner. */
static void WithoutCancelOfDoneParent(void **state)
{
    (void)state;
    struct tracked t = {0};
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *v = ctx_with_value(p, &k1, &t, destroy_tracked);
    ctx_release(p);
    ctx_t *w = ctx_without_cancel(v);
    ctx_release(v);
    assert_live(w);
    assert_ptr_equal(ctx_value(w, &k1), &t);
    assert_int_equal(atomic_load(&t.destroyed), 0);
    ctx_t *c = ctx_with_cancel(w); /* not born done */
    assert_live(c);
    ctx_release(c);
    ctx_release(w);
    assert_int_equal(atomic_load(&t.destroyed), 1);
}

/* Lookups hop from value context to value context: through cancel, deadline and
 * without_cancel layers in any order, a nearer key shadows a farther one, and a miss
 * walks to the root. */
static void ValuesThroughMixedLayers(void **state)
{
    (void)state;
    static int ka, kb, kc;
    static char a1[] = "a1", a2[] = "a2", b1[] = "b1";
    ctx_t *l0 = ctx_with_cancel(ctx_background());
    ctx_t *l1 = ctx_with_value(l0, &ka, a1, NULL);
    ctx_t *l2 = ctx_with_timeout(l1, VERY_LONG_NS);
    ctx_t *l3 = ctx_without_cancel(l2);
    ctx_t *l4 = ctx_with_value(l3, &kb, b1, NULL);
    ctx_t *l5 = ctx_with_cancel(l4);
    ctx_t *l6 = ctx_with_value(l5, &ka, a2, NULL); /* shadows a1 */
    ctx_t *l7 = ctx_with_cancel(l6);
    assert_ptr_equal(ctx_value(l7, &ka), a2);
    assert_ptr_equal(ctx_value(l5, &ka), a1);
    assert_ptr_equal(ctx_value(l7, &kb), b1);
    assert_ptr_equal(ctx_value(l3, &ka), a1);
    assert_null(ctx_value(l3, &kb));
    assert_null(ctx_value(l7, &kc));
    assert_null(ctx_value(l0, &ka));
    ctx_release(l7);
    ctx_unref(l6);
    ctx_release(l5);
    ctx_unref(l4);
    ctx_unref(l3);
    ctx_release(l2);
    ctx_unref(l1);
    ctx_release(l0);
}

/* Every lookup, from every layer of chains of every length up to 14 (value contexts
 * with three keys, some repeated, between cancel and without_cancel layers), answers
 * what a walk of the parents answers: the runtime looks two value contexts per step,
 * so odd and even depths, a key in the first or second of a pair, and shadowing within
 * a pair all have to agree. */
static void ValueLookupMatchesParentWalk(void **state)
{
    (void)state;
    enum { LEN = 14, KEYS = 3 };
    static int keys[KEYS + 1]; /* the last is never set */
    for (unsigned pattern = 0; pattern < 729; pattern++) { /* 3^6 layer patterns */
        ctx_t *layer[LEN];
        const void *key_of[LEN];  /* NULL: not a value layer */
        void *value_of[LEN];
        ctx_t *up = ctx_background();
        unsigned p = pattern;
        for (int i = 0; i < LEN; i++) {
            /* The pattern picks the first 6 layers' kinds, the rest cycle. */
            unsigned kind = i < 6 ? p % 3 : (unsigned)(i + (int)pattern) % 3;
            if (i < 6)
                p /= 3;
            key_of[i] = NULL;
            value_of[i] = NULL;
            if (kind == 0) {
                key_of[i] = &keys[(i * 7 + (int)pattern) % KEYS];
                value_of[i] = &layer[i]; /* any distinct address */
                layer[i] = ctx_with_value(up, key_of[i], value_of[i], NULL);
            } else if (kind == 1) {
                layer[i] = ctx_with_cancel(up);
            } else {
                layer[i] = ctx_without_cancel(up);
            }
            assert_non_null(layer[i]);
            up = layer[i];
        }
        for (int i = 0; i < LEN; i++)
            for (int k = 0; k <= KEYS; k++) {
                void *want = NULL;
                for (int j = i; j >= 0; j--)
                    if (key_of[j] == &keys[k]) {
                        want = value_of[j];
                        break;
                    }
                assert_ptr_equal(ctx_value(layer[i], &keys[k]), want);
            }
        for (int i = LEN - 1; i >= 0; i--)
            ctx_release(layer[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(Values),
        cmocka_unit_test(ValuesSurviveCancel),
        cmocka_unit_test(ValueDoneComesFromParent),
        cmocka_unit_test(ValueDestroyRunsOnceAtFree),
        cmocka_unit_test(ValueDestroyWaitsForChildren),
        cmocka_unit_test(ValueDestroyUnderCancellableParent),
        cmocka_unit_test(WithoutCancel),
        cmocka_unit_test(WithoutCancelOfDoneParent),
        cmocka_unit_test(ValuesThroughMixedLayers),
        cmocka_unit_test(ValueLookupMatchesParentWalk),
    };
    return cmocka_run_group_tests_name("values", tests, NULL, NULL);
}
