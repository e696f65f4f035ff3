/*
 * test_tracer.c — the tracer seam (ctxtrace/tracer.h): a tracer with static hooks
 * records every event; each test checks that the events it caused arrive with the
 * right ids and payloads, and the teardown checks per-context causal order (created
 * first, freed last, each at most once) over everything recorded.
 */
#include "testutil.h"

#include <ctxtrace/tracer.h>
#include <signal.h>
#include <unistd.h>

enum ev_type { EV_CREATED, EV_CANCELED, EV_TIMER, EV_UNOWNED, EV_FREED, EV_WAIT };

struct ev {
    enum ev_type type;
    uint64_t id, parent_id;
    int kind, why, err, cause, sub; /* sub: timer or wait event */
    int64_t when;                   /* requested deadline, or timer `when` */
    int64_t deadline;               /* created: the effective deadline (0 for none) */
    bool live, has_reason;
    char reason[48];
    int result;
};

enum { MAX_EVENTS = 1 << 18 };
static struct ev *events;
static size_t nevents;
static bool overflowed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void record(struct ev e)
{
    pthread_mutex_lock(&mu);
    if (nevents < MAX_EVENTS)
        events[nevents++] = e;
    else
        overflowed = true;
    pthread_mutex_unlock(&mu);
}

static void on_created(ctx_t *c, ctx_t *parent, enum ctx_kind kind,
                       int64_t requested_deadline, int64_t deadline)
{
    record((struct ev){.type = EV_CREATED, .id = ctx_trace_id(c),
                       .parent_id = parent ? ctx_trace_id(parent) : 0, .kind = (int)kind,
                       .when = requested_deadline, .deadline = deadline,
                       .sub = ctx_trace_kind(c) == kind});
}

static void on_canceled(ctx_t *c, enum ctx_cancel_why why, int err, int cause,
                        const char *reason)
{
    struct ev e = {.type = EV_CANCELED, .id = ctx_trace_id(c), .why = (int)why,
                   .err = err, .cause = cause, .has_reason = reason != NULL};
    if (reason)
        snprintf(e.reason, sizeof e.reason, "%s", reason);
    record(e);
}

static void on_timer(ctx_t *c, enum ctx_timer_event ev, int64_t when)
{
    record((struct ev){.type = EV_TIMER, .id = ctx_trace_id(c), .sub = (int)ev, .when = when});
}

static void on_unowned(ctx_t *c, bool live)
{
    record((struct ev){.type = EV_UNOWNED, .id = ctx_trace_id(c), .live = live});
}

static void on_freed(ctx_t *c)
{
    record((struct ev){.type = EV_FREED, .id = ctx_trace_id(c)});
}

static void on_wait(ctx_t *c, enum ctx_wait_event ev, int result)
{
    record((struct ev){.type = EV_WAIT, .id = ctx_trace_id(c), .sub = (int)ev,
                       .result = result});
}

static const struct ctx_tracer tracer = {
    .created = on_created,
    .canceled = on_canceled,
    .timer = on_timer,
    .unowned = on_unowned,
    .freed = on_freed,
    .wait = on_wait,
};

/* ---- reading the log ---------------------------------------------------------------- */

/* Index of the first event of `type` (and `sub`, if >= 0) for `id` at or after `from`,
 * or -1. */
static long find_ev(enum ev_type type, int sub, uint64_t id, long from)
{
    long found = -1;
    pthread_mutex_lock(&mu);
    for (size_t i = (size_t)from; i < nevents; i++)
        if (events[i].type == type && events[i].id == id &&
            (sub < 0 || events[i].sub == sub)) {
            found = (long)i;
            break;
        }
    pthread_mutex_unlock(&mu);
    return found;
}

static int count_ev(enum ev_type type, int sub, uint64_t id)
{
    int n = 0;
    for (long i = find_ev(type, sub, id, 0); i >= 0; i = find_ev(type, sub, id, i + 1))
        n++;
    return n;
}

static struct ev get_ev(long i)
{
    assert_true(i >= 0);
    pthread_mutex_lock(&mu);
    struct ev e = events[i];
    pthread_mutex_unlock(&mu);
    return e;
}

/* Poll (bounded) until such an event has arrived; returns its index. */
static long await_ev(enum ev_type type, int sub, uint64_t id)
{
    int64_t end = ctx_now() + QUIESCENT_NS;
    long i;
    while ((i = find_ev(type, sub, id, 0)) < 0 && ctx_now() < end)
        sleep_ns(100 * CTX_MICROSECOND);
    if (i < 0)
        fail_msg("event type %d/%d for context %llu never arrived", type, sub,
                 (unsigned long long)id);
    return i;
}

#define ANY (-1)

/* ---- fixture ------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    pthread_mutex_lock(&mu);
    nevents = 0;
    overflowed = false;
    pthread_mutex_unlock(&mu);
    return ctx_tracer_attach(&tracer);
}

static int cmp_by_id(const void *a, const void *b)
{
    const struct ev *x = *(struct ev *const *)a, *y = *(struct ev *const *)b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x < y ? -1 : x > y; /* stable: log order within one context */
}

/* Per context: created first and freed last, each (and canceled, unowned) at most once;
 * a timer is armed before it fires or stops, and does not both fire and stop. */
static int teardown(void **state)
{
    (void)state;
    ctx_tracer_detach();
    pthread_mutex_lock(&mu);
    size_t n = nevents;
    struct ev **idx = malloc((n + 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = &events[i];
    qsort(idx, n, sizeof *idx, cmp_by_id);
    int bad = 0;
    for (size_t s = 0; s < n;) {
        size_t e = s;
        while (e < n && idx[e]->id == idx[s]->id)
            e++;
        int created = 0, canceled = 0, unowned = 0, freed = 0, armed = 0, fired = 0,
            stopped = 0;
        for (size_t i = s; i < e; i++) {
            const struct ev *v = idx[i];
            switch (v->type) {
            case EV_CREATED:
                created++;
                if (i != s)
                    bad++, fprintf(stderr, "ctx %llu: created is not first\n",
                                   (unsigned long long)v->id);
                break;
            case EV_FREED:
                freed++;
                if (i != e - 1)
                    bad++, fprintf(stderr, "ctx %llu: freed is not last\n",
                                   (unsigned long long)v->id);
                break;
            case EV_CANCELED:
                canceled++;
                break;
            case EV_UNOWNED:
                unowned++;
                break;
            case EV_TIMER:
                if (v->sub == CTX_TIMER_ARMED)
                    armed++;
                else if (!armed && created)
                    bad++, fprintf(stderr, "ctx %llu: timer %d before armed\n",
                                   (unsigned long long)v->id, v->sub);
                fired += v->sub == CTX_TIMER_FIRED;
                stopped += v->sub == CTX_TIMER_STOPPED;
                break;
            case EV_WAIT:
                break;
            }
        }
        if (created > 1 || canceled > 1 || unowned > 1 || freed > 1 || armed > 1 ||
            fired + stopped > 1) {
            bad++;
            fprintf(stderr,
                    "ctx %llu: created %d canceled %d unowned %d freed %d armed %d "
                    "fired %d stopped %d\n",
                    (unsigned long long)idx[s]->id, created, canceled, unowned, freed,
                    armed, fired, stopped);
        }
        s = e;
    }
    bool over = overflowed;
    pthread_mutex_unlock(&mu);
    free(idx);
    if (over)
        fprintf(stderr, "event log overflowed\n");
    return bad || over ? -1 : 0;
}

/* ---- tests -------------------------------------------------------------------------- */

static int key;

/* tracer.h: attach returns EBUSY while attached, EINVAL for NULL; detach then attach. */
static void TracerAttachIsExclusive(void **state)
{
    (void)state;
    static const struct ctx_tracer other = {0};
    assert_int_equal(ctx_tracer_attach(&other), EBUSY);
    ctx_tracer_detach();
    assert_int_equal(ctx_tracer_attach(NULL), EINVAL);
    assert_int_equal(ctx_tracer_attach(&tracer), 0);
}

/* tracer.h: roots are ids 1 and 2 with their kinds; derived ids are new and distinct. */
static void TracerIdsAndKinds(void **state)
{
    (void)state;
    assert_int_equal(ctx_trace_id(ctx_background()), 1);
    assert_int_equal(ctx_trace_id(ctx_todo()), 2);
    assert_int_equal(ctx_trace_kind(ctx_background()), CTX_KIND_BACKGROUND);
    assert_int_equal(ctx_trace_kind(ctx_todo()), CTX_KIND_TODO);
    ctx_t *c = ctx_with_cancel(ctx_todo());
    ctx_t *d = ctx_with_deadline(c, ctx_now() + VERY_LONG_NS);
    ctx_t *t = ctx_with_timeout(c, VERY_LONG_NS);
    ctx_t *v = ctx_with_value(d, &key, NULL, NULL);
    ctx_t *w = ctx_without_cancel(v);
    ctx_t *all[] = {c, d, t, v, w};
    enum ctx_kind kinds[] = {CTX_KIND_CANCEL, CTX_KIND_DEADLINE, CTX_KIND_DEADLINE,
                             CTX_KIND_VALUE, CTX_KIND_WITHOUT_CANCEL};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ctx_trace_kind(all[i]), kinds[i]);
        assert_true(ctx_trace_id(all[i]) > 2);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(ctx_trace_id(all[i]), ctx_trace_id(all[j]));
    }
    for (int i = 4; i >= 0; i--)
        ctx_release(all[i]);
}

/* created: first, with parent id, kind, the requested deadline (0 unless deadline kind)
 * and the effective deadline (0 for none). */
static void TracerCreated(void **state)
{
    (void)state;
    int64_t want = ctx_now() + VERY_LONG_NS;
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_t *d = ctx_with_deadline(c, want);
    ctx_t *v = ctx_with_value(d, &key, NULL, NULL);
    ctx_t *w = ctx_without_cancel(v);
    ctx_t *k = ctx_with_cancel(v);
    ctx_t *late = ctx_with_deadline(k, want + CTX_SECOND); /* the parent's is earlier */
    struct {
        ctx_t *c, *parent;
        enum ctx_kind kind;
        int64_t requested, effective;
    } cases[] = {{c, ctx_background(), CTX_KIND_CANCEL, 0, 0},
                 {d, c, CTX_KIND_DEADLINE, want, want},
                 {v, d, CTX_KIND_VALUE, 0, want},
                 {w, v, CTX_KIND_WITHOUT_CANCEL, 0, 0},
                 {k, v, CTX_KIND_CANCEL, 0, want},
                 {late, k, CTX_KIND_DEADLINE, want + CTX_SECOND, want}};
    for (int i = 0; i < 6; i++) {
        uint64_t id = ctx_trace_id(cases[i].c);
        assert_int_equal(count_ev(EV_CREATED, ANY, id), 1);
        struct ev e = get_ev(find_ev(EV_CREATED, ANY, id, 0));
        assert_int_equal(e.parent_id, ctx_trace_id(cases[i].parent));
        assert_int_equal(e.kind, cases[i].kind);
        assert_int_equal(e.sub, 1); /* ctx_trace_kind agrees inside the hook */
        assert_int_equal(e.when, cases[i].requested);
        assert_int_equal(e.deadline, cases[i].effective);
    }
    /* created comes before the timer is armed. */
    long armed = find_ev(EV_TIMER, CTX_TIMER_ARMED, ctx_trace_id(d), 0);
    assert_true(armed > find_ev(EV_CREATED, ANY, ctx_trace_id(d), 0));
    assert_int_equal(get_ev(armed).when, want);
    ctx_release(late);
    ctx_release(k);
    ctx_release(w);
    ctx_release(v);
    ctx_release(d);
    ctx_release(c);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* tracer.h: ids are unique within the process and never reused, though memory is. */
static void TracerIdsNeverReused(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint64_t *ids = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++) {
        ctx_t *c = (i % 2) ? ctx_with_cancel(ctx_background())
                           : ctx_with_value(ctx_background(), &key, NULL, NULL);
        ids[i] = ctx_trace_id(c);
        ctx_release(c);
    }
    qsort(ids, N, sizeof *ids, cmp_u64);
    for (int i = 1; i < N; i++)
        assert_int_not_equal(ids[i], ids[i - 1]);
    assert_true(ids[0] > 2);
    free(ids);
}

/* canceled(EXPLICIT) exactly once, with err, cause and the reason; then unowned, freed. */
static void TracerCanceledExplicit(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    uint64_t id = ctx_trace_id(c);
    ctx_cancel_cause(c, EPIPE, "peer closed");
    ctx_cancel(c);
    ctx_cancel_cause(c, EIO, "again");
    assert_int_equal(count_ev(EV_CANCELED, ANY, id), 1);
    struct ev e = get_ev(find_ev(EV_CANCELED, ANY, id, 0));
    assert_int_equal(e.why, CTX_WHY_EXPLICIT);
    assert_int_equal(e.err, CTX_CANCELED);
    assert_int_equal(e.cause, EPIPE);
    assert_true(e.has_reason);
    assert_string_equal(e.reason, "peer closed");
    assert_int_equal(count_ev(EV_FREED, ANY, id), 0);
    ctx_release(c);
    long u = find_ev(EV_UNOWNED, ANY, id, 0);
    assert_true(u > find_ev(EV_CANCELED, ANY, id, 0));
    assert_false(get_ev(u).live);
    assert_true(find_ev(EV_FREED, ANY, id, 0) > u);

    /* ctx_release on a live context: canceled(EXPLICIT), then unowned(live=false). */
    c = ctx_with_cancel(ctx_background());
    id = ctx_trace_id(c);
    ctx_release(c);
    e = get_ev(find_ev(EV_CANCELED, ANY, id, 0));
    assert_int_equal(e.why, CTX_WHY_EXPLICIT);
    assert_int_equal(e.cause, CTX_CANCELED);
    assert_false(e.has_reason);
    u = find_ev(EV_UNOWNED, ANY, id, 0);
    assert_true(u > find_ev(EV_CANCELED, ANY, id, 0));
    assert_false(get_ev(u).live);
    assert_true(find_ev(EV_FREED, ANY, id, 0) > u);
}

/* canceled(PARENT) for every cancellable descendant, with the origin's err and cause;
 * also for a context born under a done parent. */
static void TracerCanceledByParent(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_cancel(p);
    ctx_t *v = ctx_with_value(p, &key, NULL, NULL);
    ctx_t *g = ctx_with_timeout(v, VERY_LONG_NS);
    ctx_cancel_cause(p, ENOSPC, "disk full");
    ctx_t *late = ctx_with_cancel(g);
    assert_int_equal(get_ev(find_ev(EV_CANCELED, ANY, ctx_trace_id(p), 0)).why,
                     CTX_WHY_EXPLICIT);
    ctx_t *kids[] = {c, g, late};
    for (int i = 0; i < 3; i++) {
        uint64_t id = ctx_trace_id(kids[i]);
        assert_int_equal(count_ev(EV_CANCELED, ANY, id), 1);
        long k = find_ev(EV_CANCELED, ANY, id, 0);
        assert_true(k > find_ev(EV_CREATED, ANY, id, 0));
        struct ev e = get_ev(k);
        assert_int_equal(e.why, CTX_WHY_PARENT);
        assert_int_equal(e.err, CTX_CANCELED);
        assert_int_equal(e.cause, ENOSPC);
        assert_string_equal(e.reason, "disk full");
    }
    /* g's timer was stopped by its parent's cancellation, and never fired. */
    assert_int_equal(count_ev(EV_TIMER, CTX_TIMER_STOPPED, ctx_trace_id(g)), 1);
    assert_int_equal(count_ev(EV_TIMER, CTX_TIMER_FIRED, ctx_trace_id(g)), 0);
    ctx_release(late);
    ctx_release(g);
    ctx_release(v);
    ctx_release(c);
    ctx_release(p);
}

/* timer ARMED(when = deadline) → FIRED(when) → canceled(DEADLINE); children PARENT. */
static void TracerTimerFires(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), 5 * CTX_MILLISECOND);
    ctx_t *k = ctx_with_cancel(c);
    uint64_t id = ctx_trace_id(c);
    int64_t d;
    assert_true(ctx_deadline(c, &d));
    assert_int_equal(ctx_wait(k, QUIESCENT_NS), 0);
    long armed = find_ev(EV_TIMER, CTX_TIMER_ARMED, id, 0);
    long fired = await_ev(EV_TIMER, CTX_TIMER_FIRED, id);
    long canceled = await_ev(EV_CANCELED, ANY, id);
    assert_true(armed >= 0);
    assert_int_equal(get_ev(armed).when, d);
    assert_int_equal(get_ev(fired).when, d);
    assert_true(armed < fired);
    assert_true(fired < canceled); /* the timer firing is what cancels it */
    struct ev e = get_ev(canceled);
    assert_int_equal(e.why, CTX_WHY_DEADLINE);
    assert_int_equal(e.err, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(e.cause, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(count_ev(EV_TIMER, CTX_TIMER_STOPPED, id), 0);
    e = get_ev(await_ev(EV_CANCELED, ANY, ctx_trace_id(k)));
    assert_int_equal(e.why, CTX_WHY_PARENT);
    assert_int_equal(e.err, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(e.cause, CTX_DEADLINE_EXCEEDED);
    ctx_release(k);
    ctx_release(c);
    assert_true(await_ev(EV_FREED, ANY, id) > canceled);
}

/* A deadline already past: canceled(DEADLINE) at birth, after created. */
static void TracerPastDeadline(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_deadline(ctx_background(), ctx_now() - CTX_SECOND);
    uint64_t id = ctx_trace_id(c);
    long k = find_ev(EV_CANCELED, ANY, id, 0);
    assert_true(k > find_ev(EV_CREATED, ANY, id, 0));
    struct ev e = get_ev(k);
    assert_int_equal(e.why, CTX_WHY_DEADLINE);
    assert_int_equal(e.err, CTX_DEADLINE_EXCEEDED);
    ctx_release(c);
}

/* Cancelling stops the timer: ARMED → STOPPED, never FIRED. */
static void TracerTimerStopped(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), VERY_LONG_NS);
    uint64_t id = ctx_trace_id(c);
    int64_t d;
    assert_true(ctx_deadline(c, &d));
    long armed = find_ev(EV_TIMER, CTX_TIMER_ARMED, id, 0);
    assert_int_equal(get_ev(armed).when, d);
    ctx_cancel(c);
    long stopped = find_ev(EV_TIMER, CTX_TIMER_STOPPED, id, 0);
    assert_true(stopped > armed);
    assert_int_equal(get_ev(find_ev(EV_CANCELED, ANY, id, 0)).why, CTX_WHY_EXPLICIT);
    ctx_release(c);
    assert_int_equal(count_ev(EV_TIMER, CTX_TIMER_FIRED, id), 0);
    assert_true(find_ev(EV_FREED, ANY, id, 0) > stopped);
}

/* ctx_with_deadline: when the parent's deadline is earlier no timer is armed. */
static void TracerNoTimerUnderEarlierDeadline(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_timeout(ctx_background(), VERY_LONG_NS);
    int64_t later = ctx_now() + 2 * VERY_LONG_NS;
    ctx_t *c = ctx_with_deadline(p, later);
    uint64_t id = ctx_trace_id(c);
    assert_int_equal(get_ev(find_ev(EV_CREATED, ANY, id, 0)).when, later);
    assert_int_equal(count_ev(EV_TIMER, CTX_TIMER_ARMED, id), 0);
    ctx_release(c);
    ctx_release(p);
}

/* unowned(live=true) for ctx_unref of a live context; unref never cancels. */
static void TracerUnownedLive(void **state)
{
    (void)state;
    /* No cancellable ancestor, no timer: freed at once, and not cancelled. */
    ctx_t *c = ctx_with_cancel(ctx_background());
    uint64_t id = ctx_trace_id(c);
    ctx_ref(c);
    ctx_unref(c);
    assert_int_equal(count_ev(EV_UNOWNED, ANY, id), 0); /* one owner left */
    ctx_unref(c);
    long u = find_ev(EV_UNOWNED, ANY, id, 0);
    assert_true(get_ev(u).live);
    assert_true(find_ev(EV_FREED, ANY, id, 0) > u);
    assert_int_equal(count_ev(EV_CANCELED, ANY, id), 0);

    /* Lost cancel: attached to a live parent, it stays until the parent is done. */
    ctx_t *p = ctx_with_cancel(ctx_background());
    c = ctx_with_cancel(p);
    id = ctx_trace_id(c);
    ctx_unref(c);
    u = find_ev(EV_UNOWNED, ANY, id, 0);
    assert_true(get_ev(u).live);
    assert_int_equal(count_ev(EV_CANCELED, ANY, id), 0);
    assert_int_equal(count_ev(EV_FREED, ANY, id), 0);
    ctx_cancel(p);
    long k = await_ev(EV_CANCELED, ANY, id);
    assert_true(k > u);
    assert_int_equal(get_ev(k).why, CTX_WHY_PARENT);
    assert_true(await_ev(EV_FREED, ANY, id) > k);
    ctx_release(p);
}

/* unowned is about owner references: a parent kept alive only by its child. */
static void TracerUnownedParentKeptByChild(void **state)
{
    (void)state;
    ctx_t *p = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_cancel(p);
    uint64_t pid = ctx_trace_id(p);
    ctx_unref(p);
    long u = find_ev(EV_UNOWNED, ANY, pid, 0);
    assert_true(u >= 0);
    assert_true(get_ev(u).live);
    assert_int_equal(count_ev(EV_FREED, ANY, pid), 0);
    ctx_release(c);
    assert_true(await_ev(EV_FREED, ANY, pid) > u);
}

/* Go's orphaned timer: dropped live, it lives until FIRED, canceled(DEADLINE), freed. */
static void TracerOrphanedTimer(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_timeout(ctx_background(), 100 * CTX_MILLISECOND);
    uint64_t id = ctx_trace_id(c);
    ctx_unref(c);
    long u = find_ev(EV_UNOWNED, ANY, id, 0);
    assert_true(u >= 0);
    assert_true(get_ev(u).live);
    long freed = await_ev(EV_FREED, ANY, id);
    long fired = find_ev(EV_TIMER, CTX_TIMER_FIRED, id, 0);
    long k = find_ev(EV_CANCELED, ANY, id, 0);
    assert_true(u < fired);
    assert_true(fired < k);
    assert_true(k < freed);
    assert_int_equal(get_ev(k).why, CTX_WHY_DEADLINE);
}

/* Value and without_cancel contexts: created with their kind, unowned, freed. */
static void TracerValueContexts(void **state)
{
    (void)state;
    ctx_t *v = ctx_with_value(ctx_background(), &key, NULL, NULL);
    ctx_t *w = ctx_without_cancel(v);
    uint64_t vid = ctx_trace_id(v), wid = ctx_trace_id(w);
    ctx_unref(v); /* w holds it */
    assert_true(find_ev(EV_UNOWNED, ANY, vid, 0) >= 0);
    assert_int_equal(count_ev(EV_FREED, ANY, vid), 0);
    ctx_release(w);
    assert_true(find_ev(EV_FREED, ANY, wid, 0) > find_ev(EV_UNOWNED, ANY, wid, 0));
    assert_true(find_ev(EV_FREED, ANY, vid, 0) >= 0);
    assert_int_equal(count_ev(EV_CANCELED, ANY, vid), 0);
    assert_int_equal(count_ev(EV_CANCELED, ANY, wid), 0);
}

struct waiter {
    ctx_t *c;
    atomic_int result;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    atomic_store(&w->result, ctx_wait(w->c, -1) + 1);
    return NULL;
}

/* wait: BLOCKED then WOKEN(ETIMEDOUT) when ctx_wait times out. */
static void TracerWaitTimeout(void **state)
{
    (void)state;
    ctx_t *c = ctx_with_cancel(ctx_background());
    uint64_t id = ctx_trace_id(c);
    assert_int_equal(ctx_wait(c, CTX_MILLISECOND), ETIMEDOUT);
    long blocked = find_ev(EV_WAIT, CTX_WAIT_BLOCKED, id, 0);
    long woken = find_ev(EV_WAIT, CTX_WAIT_WOKEN, id, 0);
    assert_true(blocked >= 0);
    assert_true(woken > blocked);
    assert_int_equal(get_ev(woken).result, ETIMEDOUT);
    ctx_release(c);
}

/* wait: BLOCKED, then canceled, then WOKEN(0) — the cancel causes the wake, so the
 * waiter's WOKEN never precedes the context's canceled event. Repeated: it is a race. */
static void TracerWaitWokenAfterCanceled(void **state)
{
    (void)state;
    enum { RUNS = 200 };
    int inverted = 0;
    for (int run = 0; run < RUNS; run++) {
        struct waiter w = {.c = ctx_with_cancel(ctx_background())};
        uint64_t id = ctx_trace_id(w.c);
        pthread_t t = spawn(wait_thread, &w);
        long blocked = await_ev(EV_WAIT, CTX_WAIT_BLOCKED, id);
        assert_int_equal(count_ev(EV_WAIT, CTX_WAIT_WOKEN, id), 0);
        ctx_cancel(w.c);
        join(t);
        assert_int_equal(atomic_load(&w.result), 1);
        long woken = find_ev(EV_WAIT, CTX_WAIT_WOKEN, id, 0);
        long canceled = find_ev(EV_CANCELED, ANY, id, 0);
        assert_true(woken > blocked);
        assert_true(canceled > blocked);
        assert_int_equal(get_ev(woken).result, 0);
        inverted += woken < canceled;
        ctx_release(w.c);
    }
    if (inverted)
        fail_msg("WOKEN(0) delivered before the context's canceled event in %d of %d runs",
                 inverted, RUNS);
}

/* The group's context is a cancellable child; a failing fn cancels it with its code. */
static int fail_fn(ctx_t *ctx, void *arg)
{
    (void)ctx;
    (void)arg;
    return EPIPE;
}

static void TracerGroup(void **state)
{
    (void)state;
    ctx_group_t *g = ctx_group_new(ctx_background());
    uint64_t id = ctx_trace_id(ctx_group_ctx(g));
    struct ev e = get_ev(find_ev(EV_CREATED, ANY, id, 0));
    assert_int_equal(e.parent_id, 1);
    assert_int_equal(e.kind, CTX_KIND_CANCEL);
    assert_int_equal(ctx_group_go(g, fail_fn, NULL), 0);
    assert_int_equal(ctx_group_wait(g), EPIPE);
    e = get_ev(find_ev(EV_CANCELED, ANY, id, 0));
    assert_int_equal(e.err, CTX_CANCELED);
    assert_int_equal(e.cause, EPIPE);
    assert_true(await_ev(EV_FREED, ANY, id) >= 0);
}

/* ctx_with_deadline_cause: created as a deadline context with the requested deadline;
 * when its own timer fires, canceled(DEADLINE) carries its cause and reason, and its
 * children inherit them (canceled(PARENT)). */
static void TracerDeadlineCause(void **state)
{
    (void)state;
    int64_t deadline = ctx_now() + 5 * CTX_MILLISECOND;
    ctx_t *c = ctx_with_deadline_cause(ctx_background(), deadline, EAGAIN, "too slow");
    ctx_t *k = ctx_with_cancel(c);
    uint64_t id = ctx_trace_id(c);
    struct ev e = get_ev(find_ev(EV_CREATED, ANY, id, 0));
    assert_int_equal(e.kind, CTX_KIND_DEADLINE);
    assert_int_equal(e.when, deadline);
    assert_int_equal(e.deadline, deadline);
    e = get_ev(await_ev(EV_CANCELED, ANY, id));
    assert_int_equal(e.why, CTX_WHY_DEADLINE);
    assert_int_equal(e.err, CTX_DEADLINE_EXCEEDED);
    assert_int_equal(e.cause, EAGAIN);
    assert_string_equal(e.reason, "too slow");
    e = get_ev(await_ev(EV_CANCELED, ANY, ctx_trace_id(k)));
    assert_int_equal(e.why, CTX_WHY_PARENT);
    assert_int_equal(e.cause, EAGAIN);
    assert_string_equal(e.reason, "too slow");
    ctx_release(k);
    ctx_release(c);
    assert_true(await_ev(EV_FREED, ANY, id) >= 0);
}

/* ctx_with_signals: created like a with_cancel child of its parent; a signal cancels it
 * (explicit, from the runtime's signal thread) with the signal's number and name, and
 * the release reports it unowned and done. */
static void TracerSignals(void **state)
{
    (void)state;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ctx_t *parent = ctx_with_cancel(ctx_background());
    ctx_t *c = ctx_with_signals(parent, &set);
    uint64_t id = ctx_trace_id(c);
    struct ev e = get_ev(find_ev(EV_CREATED, ANY, id, 0));
    assert_int_equal(e.kind, CTX_KIND_CANCEL);
    assert_int_equal(e.parent_id, ctx_trace_id(parent));
    kill(getpid(), SIGUSR1);
    e = get_ev(await_ev(EV_CANCELED, ANY, id));
    assert_int_equal(e.why, CTX_WHY_EXPLICIT);
    assert_int_equal(e.err, CTX_CANCELED);
    assert_int_equal(e.cause, SIGUSR1);
    assert_string_equal(e.reason, "SIGUSR1");
    ctx_release(c);
    e = get_ev(find_ev(EV_UNOWNED, ANY, id, 0));
    assert_false(e.live);
    assert_true(await_ev(EV_FREED, ANY, id) >= 0);
    ctx_release(parent);
}

/* tracer.h: after detach no events; contexts from before attach report later events. */
static void TracerDetachAndLateAttach(void **state)
{
    (void)state;
    ctx_tracer_detach();
    ctx_t *c = ctx_with_cancel(ctx_background());
    uint64_t id = ctx_trace_id(c);
    ctx_t *d = ctx_with_cancel(ctx_background());
    ctx_release(d);
    pthread_mutex_lock(&mu);
    size_t n = nevents;
    pthread_mutex_unlock(&mu);
    assert_int_equal(n, 0);
    assert_int_equal(ctx_tracer_attach(&tracer), 0);
    ctx_release(c);
    assert_int_equal(count_ev(EV_CREATED, ANY, id), 0);
    assert_true(find_ev(EV_CANCELED, ANY, id, 0) >= 0);
    assert_true(find_ev(EV_FREED, ANY, id, 0) > find_ev(EV_UNOWNED, ANY, id, 0));
}

int main(void)
{
    events = calloc(MAX_EVENTS, sizeof *events);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(TracerAttachIsExclusive, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerIdsAndKinds, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerCreated, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerIdsNeverReused, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerCanceledExplicit, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerCanceledByParent, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerTimerFires, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerPastDeadline, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerTimerStopped, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerNoTimerUnderEarlierDeadline, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerUnownedLive, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerUnownedParentKeptByChild, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerOrphanedTimer, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerValueContexts, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerWaitTimeout, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerWaitWokenAfterCanceled, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerGroup, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerDeadlineCause, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerSignals, setup, teardown),
        cmocka_unit_test_setup_teardown(TracerDetachAndLateAttach, setup, teardown),
    };
    int rc = cmocka_run_group_tests_name("tracer", tests, NULL, NULL);
    free(events);
    return rc;
}
